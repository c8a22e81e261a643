"""Metric tables on hand-made processed tables (tests/processed_fixtures.py), answers by hand."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest

from analysis import metrics, paths
from analysis.core import text
from analysis.core.fmt import fmt_int, fmt_pct
from analysis.metrics import frames, store
from tests.processed_fixtures import (
    PERIOD,
    PREVIOUS,
    make_multi_district,
    make_processed,
    metric_tables,
    write_processed,
)


@pytest.fixture(scope="module")
def proc() -> metrics.Processed:
    return make_processed()


def _row(df: pd.DataFrame, **keys) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for col, value in keys.items():
        mask &= df[col] == value
    assert mask.sum() == 1, keys
    return df[mask].iloc[0]


def test_load_processed_absent_kind_is_empty_frame(tmp_path):
    write_processed(tmp_path, skip=("records", "infrastructure"))
    p = metrics.load_processed(tmp_path)
    assert p.records.empty and "n_signed_teacher" in p.records.columns
    assert len(p.schools) == 7 and p.sample is True
    assert metrics.records_by_level(p.records).empty


def test_load_processed_missing_folder_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m analysis clean --period 2024-01-01"):
        metrics.load_processed(tmp_path / "2024-01-01")


def test_scale_by_level_with_total_and_empty_level(proc):
    t = metrics.scale_by_level(proc.schools)
    assert t["level"].tolist() == ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"]
    assert t["n_schools"].tolist() == [1, 4, 2, 7]
    assert t["n_classes"].tolist() == [10, 57, 34, 101]
    assert t["n_pupils"].tolist() == [300, 1900, 1250, 3450]
    # Mầm non reported no pupil-ID counts: NA, not 0.
    assert pd.isna(t.loc[0, "n_pupils_with_id"])
    empty = metrics.scale_by_level(proc.schools[proc.schools["level"] != "THCS"])
    assert _row(empty, level="THCS")[["n_schools", "n_classes", "n_pupils"]].tolist() == [0, 0, 0]


def test_coverage_by_school_edge_cases(proc):
    t = metrics.coverage_by_school(proc.schools, proc.signature_by_school)
    # Mầm non has no signature data at all: not listed; every TH and THCS school is.
    assert sorted(t["school_code"]) == ["CS01", "CS02", "TH01", "TH02", "TH03", "TH04"]
    assert _row(t, school_code="TH01")["coverage"] == pytest.approx(0.8)
    no_data = _row(t, school_code="TH03")
    assert pd.isna(no_data["n_staff"]) and math.isnan(no_data["coverage"])
    zero = _row(t, school_code="TH04")
    assert zero["n_staff"] == 0 and math.isnan(zero["coverage"])
    assert pd.isna(zero["rank_in_level"])
    # Rank 1 = furthest behind in its level.
    assert _row(t, school_code="TH02")["rank_in_level"] == 1
    assert _row(t, school_code="TH01")["rank_in_level"] == 2
    assert _row(t, school_code="CS01")["rank_in_level"] == 1
    assert list(t.columns) == metrics.TABLE_COLUMNS["coverage_by_school"]


def test_coverage_by_level_explicit_rows(proc):
    t = metrics.coverage_by_level(proc.schools, proc.signature_by_school)
    assert t["level"].tolist() == ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"]
    mn = _row(t, level="Mầm non")
    assert (mn["n_schools"], mn["n_schools_reporting"], mn["n_staff"]) == (1, 0, 0)
    assert math.isnan(mn["coverage"])
    th = _row(t, level="Tiểu học")
    assert (th["n_schools"], th["n_schools_reporting"], th["n_staff"], th["n_signed"]) == (
        4,
        3,
        50,
        28,
    )
    assert th["coverage"] == pytest.approx(28 / 50)
    total = _row(t, level="Tổng cộng")
    assert (total["n_staff"], total["n_signed"]) == (85, 60)


def test_coverage_by_ward_and_role_and_provider(proc):
    ward = metrics.coverage_by_ward(proc.schools, proc.signature_by_school)
    assert ward["ward"].tolist()[-1] == "Tổng cộng"
    # Vietnamese order: Đức Giang sorts as "duc", between Bồ Đề and Gia Thụy.
    assert ward["ward"].tolist()[:3] == ["Bồ Đề", "Đức Giang", "Gia Thụy"]
    assert math.isnan(_row(ward, ward="Thạch Bàn")["coverage"])  # only a 0-staff school

    role = metrics.coverage_by_role(proc.staff)
    gv = _row(role, level="Tiểu học", role="GV")
    assert (gv["n_staff"], gv["n_signed"]) == (6, 5)  # the GV who left is not counted
    assert _row(role, level="Tổng cộng", role="NV")["n_staff"] == 3

    prov = metrics.coverage_by_provider(proc.staff)
    th = prov[prov["level"] == "Tiểu học"]
    assert th["provider"].tolist() == ["Viettel", "VNPT", metrics.NO_PROVIDER]
    assert th["n_signed"].tolist() == [6, 1, 1]
    assert th["share"].sum() == pytest.approx(1.0)
    assert _row(prov, level="Tổng cộng", provider="VNPT")["n_signed"] == 3


def test_coverage_change_missing_school_is_na(proc):
    t = metrics.coverage_change(proc.history, PERIOD, proc.schools)
    assert set(t["prev_period"]) == {PREVIOUS}
    th01 = _row(t, school_code="TH01")
    assert (th01["n_signed_prev"], th01["n_signed"], th01["delta_signed"]) == (6, 8, 2)
    assert th01["delta_coverage"] == pytest.approx(0.2)
    cs02 = _row(t, school_code="CS02")  # absent in the previous period
    assert pd.isna(cs02["n_signed_prev"]) and pd.isna(cs02["delta_signed"])
    assert math.isnan(cs02["delta_coverage"])
    first = metrics.coverage_change(proc.history, "2024-02-23", proc.schools)
    assert first["prev_period"].isna().all() and first["delta_signed"].isna().all()


def test_coverage_history(proc):
    t = metrics.coverage_history(proc.history)
    th = t[t["level"] == "Tiểu học"]
    assert th["coverage"].round(4).tolist() == [0.28, 0.42, 0.56]
    assert _row(t, period=PERIOD, level="Tổng cộng")["n_signed"] == 60


def _history(points: list[tuple[str, float]], level: str = "Tiểu học") -> pd.DataFrame:
    rows = [(p, level, 1000, round(c * 1000), c) for p, c in points]
    return pd.DataFrame(rows, columns=metrics.TABLE_COLUMNS["coverage_history"])


def test_projection_perfect_line_date_by_hand():
    # +0.5 point a day from 40% on 1/3/2024: 100% after 120 days = 29/6/2024.
    hist = _history([("2024-03-01", 0.40), ("2024-03-21", 0.50), ("2024-04-10", 0.60)])
    row = metrics.projection(hist, "Tiểu học").iloc[0]
    assert row["n_points"] == 3
    assert row["date_100"] == "2024-06-29"
    assert row["date_100_low"] == row["date_100_high"] == "2024-06-29"  # SE 0
    assert "29/6/2024" in row["note"]


def test_projection_not_enough_points_and_done_and_flat():
    two = metrics.projection(_history([("2024-03-01", 0.4), ("2024-04-01", 0.5)]), "Tiểu học")
    assert pd.isna(two.loc[0, "date_100"])
    assert two.loc[0, "note"] == "Chưa đủ số liệu để dự báo (cần ít nhất 3 kỳ)."
    done = _history([("2024-03-01", 0.9), ("2024-04-01", 0.95), ("2024-05-01", 1.0)])
    assert "Đã đạt 100%" in metrics.projection(done, "Tiểu học").loc[0, "note"]
    flat = _history([("2024-03-01", 0.6), ("2024-04-01", 0.5), ("2024-05-01", 0.55)])
    out = metrics.projection(flat, "Tiểu học")
    assert pd.isna(out.loc[0, "date_100"]) and "không tăng" in out.loc[0, "note"]


def test_projection_band_brackets_the_date(proc):
    t = metrics.projection(metrics.coverage_history(proc.history))
    assert t["level"].tolist() == ["Tiểu học", "THCS", "Tổng cộng"]
    total = _row(t, level="Tổng cộng")
    assert total["date_100_low"] <= total["date_100"] <= total["date_100_high"]
    assert total["date_100_low"] > PERIOD  # never before a period still under 100%


def test_expiring_window_and_days(proc):
    assert metrics.signing_window_end("2024-04-19") == date(2024, 6, 30)
    assert metrics.signing_window_end("2024-07-01") == date(2025, 6, 30)
    t = metrics.expiring(proc.staff, proc.schools, PERIOD, days=90)
    th01 = _row(t, school_code="TH01")
    assert (th01["n_signed"], th01["n_expiring_window"], th01["n_expiring_days"]) == (8, 3, 4)
    cs01 = _row(t, school_code="CS01")
    assert (cs01["n_expiring_window"], cs01["n_expiring_days"]) == (1, 1)
    short = metrics.expiring(proc.staff, proc.schools, PERIOD, window_end="2024-05-01", days=10)
    assert _row(short, school_code="TH01")["n_expiring_window"] == 1  # only the expired one


def test_infrastructure_and_records(proc):
    infra = metrics.infrastructure_by_school(proc.schools, proc.infrastructure, min_speed=70)
    assert infra.set_index("school_code")["below_threshold"].to_dict() == {
        "CS01": True,  # no fibre
        "TH01": False,
        "TH02": True,  # 50 Mbps
    }
    assert _row(infra, school_code="TH01")["computers_per_100_pupils"] == pytest.approx(10 / 7)
    s = metrics.infrastructure_summary(infra).iloc[0]
    assert (s["n_schools_reporting"], s["n_fibre"], s["n_computers"], s["n_schools_below"]) == (
        3,
        3,
        15,
        2,
    )
    assert (s["speed_min"], s["speed_median"]) == (50.0, 75.0)

    by_school = metrics.records_by_school(proc.schools, proc.records)
    th01 = _row(by_school, school_code="TH01")
    assert (th01["n_records"], th01["n_signed_teacher"], th01["n_signed_principal"]) == (
        100,
        75,
        50,
    )
    grade = metrics.records_by_grade(proc.records)
    assert grade["grade"].tolist() == [1, 2]
    assert _row(grade, grade=2)["rate_principal"] == 0
    level = metrics.records_by_level(proc.records)
    assert level["level"].tolist() == ["Tiểu học", "Tổng cộng"]
    assert _row(level, level="Tổng cộng")["rate_teacher"] == pytest.approx(115 / 140)


def test_invariants_fail_with_a_message(proc):
    bad = proc.signature_by_school.copy()
    bad.loc[bad["school_code"] == "TH01", "n_signed"] = 12
    with pytest.raises(metrics.MetricError, match="TH01"):
        metrics.coverage_by_school(proc.schools, bad)
    dup = pd.concat([proc.signature_by_school, proc.signature_by_school.head(1)])
    with pytest.raises(metrics.MetricError, match="trùng"):
        metrics.coverage_by_school(proc.schools, dup)


def test_write_tables_roundtrip_deterministic_and_headline(proc, tmp_path):
    cov = metrics.compute_coverage(proc, PERIOD)
    scale = metrics.compute_scale(proc)
    out = tmp_path / "tables"
    metrics.write_tables(cov, out, "coverage", PERIOD, True)
    first = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    metrics.write_tables(scale, out, "scale", PERIOD, True)
    metrics.write_tables(cov, out, "coverage", PERIOD, True)
    for name, data in first.items():
        if name != "headline.json":
            assert (out / name).read_bytes() == data, name
    back = metrics.read_table(out, "coverage_by_school")
    pd.testing.assert_frame_equal(back, cov["coverage_by_school"])
    csv = pd.read_csv(out / "coverage_by_level.csv", encoding="utf-8")
    assert csv["level"].tolist() == ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"]
    head = json.loads((out / "headline.json").read_text("utf-8"))
    assert head == metrics.read_headline(out)
    assert head["signed_th"] == 28 and head["staff_th"] == 50
    assert head["pupils_total"] == 3450 and head["infra_n_fibre"] == 3
    assert isinstance(head["infra_n_computers"], int)
    assert head["coverage_mn"] is None and list(head) == sorted(head)
    with pytest.raises(FileNotFoundError, match="30_scale_infrastructure"):
        metrics.read_table(tmp_path, "scale_by_level")


def test_vn_columns(proc):
    t = metrics.vn_columns(metrics.coverage_by_level(proc.schools, proc.signature_by_school))
    assert "Tỷ lệ có chữ ký số (%)" in t.columns and "Cấp học" in t.columns
    assert t["Tỷ lệ có chữ ký số (%)"].tolist()[1] == 56.0


@pytest.fixture(scope="module")
def processed_sample(tmp_path_factory):
    """The committed sample's 2024-04-19, cleaned into a temporary folder by this test."""
    from analysis.clean import clean_period

    out = tmp_path_factory.mktemp("processed")
    clean_period("2024-04-19", paths.RAW_DIR, out, key=b"backtest-key" * 3)
    return out / "2024-04-19"


def test_backtest_sample_2024_04_19(processed_sample):
    p = metrics.load_processed(processed_sample)
    scale = metrics.scale_by_level(p.schools).set_index("level")
    expected = {
        "Mầm non": (82, 1127, 25915),
        "Tiểu học": (33, 926, 34911),
        "THCS": (27, 661, 26271),
        "Tổng cộng": (142, 2714, 87097),
    }
    for level, values in expected.items():
        assert tuple(scale.loc[level, ["n_schools", "n_classes", "n_pupils"]]) == values
    assert fmt_int(scale.loc["Tổng cộng", "n_pupils"]) == "87.097"
    cov = metrics.coverage_by_level(p.schools, p.signature_by_school).set_index("level")
    th = cov.loc["Tiểu học"]
    assert (th["n_signed"], th["n_staff"]) == (1248, 1787)
    assert fmt_pct(th["coverage"]) == "69,8%"


# --------------------------------------------------------------------------- many districts


@pytest.fixture(scope="module")
def multi() -> metrics.Processed:
    return make_multi_district()


def test_coverage_by_district_by_hand(multi):
    t = metrics.coverage_by_district(multi.schools, multi.signature_by_school)
    assert list(t.columns) == metrics.TABLE_COLUMNS["coverage_by_district"]
    # Vietnamese order (folded: "huyen gia lam" < "quan hoan kiem" < "quan long bien"), total last
    assert t["district"].tolist() == [
        "Huyện Gia Lâm",
        "Quận Hoàn Kiếm",
        "Quận Long Biên",
        "Tổng cộng",
    ]
    assert t["n_schools"].tolist() == [3, 2, 2, 7]
    assert t["n_schools_reporting"].tolist() == [2, 2, 1, 5]
    assert t["n_staff"].tolist() == [70, 5, 10, 85]
    assert t["n_signed"].tolist() == [50, 2, 8, 60]
    assert t["coverage"].tolist() == pytest.approx([5 / 7, 0.4, 0.8, 12 / 17])
    assert str(t["n_staff"].dtype) == "Int64" and t["coverage"].dtype == "float64"
    # the total agrees with coverage_by_level's
    level = metrics.coverage_by_level(multi.schools, multi.signature_by_school)
    assert _row(level, level="Tổng cộng")["n_signed"] == _row(t, district="Tổng cộng")["n_signed"]


def test_coverage_by_district_without_data_and_blank_district(multi):
    schools = multi.schools.copy()
    schools.loc[schools["school_code"] == "MN01", "district"] = "Huyện Sóc Sơn"  # no signatures
    schools.loc[schools["school_code"] == "CS02", "district"] = None
    t = metrics.coverage_by_district(schools, multi.signature_by_school)
    assert t["district"].tolist()[-2:] == [metrics.NO_DISTRICT, "Tổng cộng"]
    soc_son = _row(t, district="Huyện Sóc Sơn")
    assert (soc_son["n_schools"], soc_son["n_schools_reporting"], soc_son["n_staff"]) == (1, 0, 0)
    assert math.isnan(soc_son["coverage"])
    unknown = _row(t, district=metrics.NO_DISTRICT)
    assert (unknown["n_staff"], unknown["n_signed"]) == (30, 30)
    assert _row(t, district="Huyện Gia Lâm")["n_staff"] == 40


def test_scale_by_district_by_hand(multi):
    t = metrics.scale_by_district(multi.schools)
    assert list(t.columns) == metrics.TABLE_COLUMNS["scale_by_district"]
    assert len(t) == 4 * 4  # three districts + total, each with three levels + total
    gia_lam = t[t["district"] == "Huyện Gia Lâm"]
    assert gia_lam["level"].tolist() == ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"]
    assert gia_lam["n_schools"].tolist() == [0, 2, 1, 3]
    assert gia_lam["n_classes"].tolist() == [0, 27, 16, 43]
    assert gia_lam["n_pupils"].tolist() == [0, 900, 600, 1500]
    long_bien = t[t["district"] == "Quận Long Biên"]
    assert long_bien["n_pupils"].tolist() == [300, 700, 0, 1000]
    total = t[t["district"] == "Tổng cộng"]
    # the same numbers as scale_by_level (the published district table)
    by_level = metrics.scale_by_level(multi.schools)
    assert total["n_pupils"].tolist() == by_level["n_pupils"].tolist() == [300, 1900, 1250, 3450]
    assert total["n_schools"].tolist() == [1, 4, 2, 7]


def test_wards_of_the_same_name_in_two_districts_stay_apart(multi, proc):
    t = metrics.coverage_by_ward(multi.schools, multi.signature_by_school)
    assert _row(t, ward="Đức Giang (Huyện Gia Lâm)")[["n_staff", "n_signed"]].tolist() == [40, 20]
    assert _row(t, ward="Đức Giang (Quận Hoàn Kiếm)")[["n_staff", "n_signed"]].tolist() == [5, 2]
    # one district: ward names as they are (the sample's behaviour)
    single = metrics.coverage_by_ward(proc.schools, proc.signature_by_school)
    assert "Đức Giang" in single["ward"].tolist()


def test_district_tables_only_with_more_than_one_district(multi, proc, tmp_path):
    many = metric_tables(multi)
    assert {"coverage_by_district", "scale_by_district"} <= set(many)
    one = metric_tables(proc)
    assert not {"coverage_by_district", "scale_by_district"} & set(one)
    # a one-district run into the folder of a many-district run removes the stale tables
    out = tmp_path / "tables"
    metrics.write_tables(metrics.compute_coverage(multi, PERIOD), out, "coverage", PERIOD, True)
    metrics.write_tables(metrics.compute_scale(multi), out, "scale", PERIOD, True)
    assert (out / "coverage_by_district.csv").is_file()
    back = pd.read_csv(out / "coverage_by_district.csv", encoding="utf-8")
    assert back["district"].tolist()[0] == "Huyện Gia Lâm" and back["n_staff"].tolist()[-1] == 85
    metrics.write_tables(metrics.compute_coverage(proc, PERIOD), out, "coverage", PERIOD, True)
    assert not (out / "coverage_by_district.parquet").exists()
    assert not (out / "coverage_by_district.csv").exists()
    assert (out / "scale_by_district.parquet").is_file()  # the other part's table is left alone
    assert "Ghi chú" in metrics.vn_table(one, "coverage_by_district").columns
    shown = metrics.vn_table(many, "coverage_by_district")
    assert "Quận/Huyện" in shown.columns and "Tỷ lệ có chữ ký số (%)" in shown.columns


def test_select_unit_filters_every_table(multi):
    assert metrics.select_unit(multi, "") is multi
    unit = metrics.select_unit(multi, "gia lâm")  # no prefix, lower case: still one match
    assert unit.unit == "Huyện Gia Lâm"
    assert sorted(unit.schools["school_code"]) == ["CS02", "TH02", "TH03"]
    assert sorted(unit.signature_by_school["school_code"]) == ["CS02", "TH02"]
    assert sorted(unit.signature_counts["school_code"]) == ["CS02", "TH02"]
    assert unit.staff.empty and list(unit.staff.columns) == list(multi.staff.columns)
    assert unit.history["school_code"].tolist().count("TH02") == 3 and len(unit.history) == 4
    assert unit.infrastructure["school_code"].tolist() == ["TH02"]
    assert unit.records["school_code"].tolist() == ["TH02"]
    assert unit.quality == multi.quality
    tables = metric_tables(unit)
    assert "coverage_by_district" not in tables  # one district now
    th = _row(tables["coverage_by_level"], level="Tiểu học")
    assert (th["n_schools"], th["n_staff"], th["n_signed"]) == (2, 40, 20)
    assert _row(tables["scale_by_level"], level="Tổng cộng")["n_pupils"] == 1500
    assert metrics.unit_text(unit) == "Đơn vị báo cáo: Huyện Gia Lâm (3 trường)"
    assert metrics.unit_text(multi) == "Đơn vị báo cáo: toàn bộ dữ liệu, 3 quận/huyện (7 trường)"
    long_bien = metrics.select_unit(multi, "QUẬN  LONG BIEN")
    assert long_bien.unit == "Quận Long Biên" and len(long_bien.staff) == 11


def test_select_unit_unknown_district_message(multi):
    with pytest.raises(metrics.UnitError) as err:
        metrics.select_unit(multi, "Ba Đình")
    text = str(err.value)
    assert "Không tìm thấy quận/huyện “Ba Đình”" in text
    assert "2024-04-19/truong.xlsx" in text  # the file to look at
    assert "Huyện Gia Lâm, Quận Hoàn Kiếm, Quận Long Biên" in text  # what exists
    assert "để trống" in text
    with pytest.raises(metrics.UnitError, match="Tên gần giống: Quận Hoàn Kiếm"):
        metrics.select_unit(multi, "Hoàn Kiến")


def test_match_district_ambiguous_and_absent_column():
    schools = pd.DataFrame(
        {
            "school_code": ["A", "B", "C"],
            "district": ["Quận Tân Bình", "Huyện Tân Bình", "Quận 1"],
            "source_file": "x/truong.csv",
        }
    )
    assert metrics.match_district(schools, "huyen tan binh") == "Huyện Tân Bình"
    with pytest.raises(metrics.UnitError, match="khớp với 2 quận/huyện"):
        metrics.match_district(schools, "Tân Bình")
    blank = schools.assign(district=None)
    with pytest.raises(metrics.UnitError, match="không có cột Quận/Huyện"):
        metrics.match_district(blank, "Quận 1")
    assert metrics.districts(blank) == [metrics.NO_DISTRICT]
    assert not metrics.has_many_districts(blank)


def test_sort_is_vietnamese_stable_and_missing_last():
    """The vectorised sort orders text as sorted() by ``text.vn_sort_key`` would (đ after d,
    tones second), keeps ties in order."""
    words = ["Đông Anh", "dong anh", "Ba Vì", None, "Ứng Hòa", "Ba Đình", "ba vi", "Gia Lâm"]
    df = pd.DataFrame({"name": pd.array(words, dtype="str"), "n": range(len(words))})
    out = frames._sort(df, ["name"])
    present = [(text.vn_sort_key(w), i) for i, w in enumerate(words) if w is not None]
    expected = [i for _, i in sorted(present)] + [words.index(None)]
    assert out["n"].tolist() == expected
    # by hand: đ after d, ư after u, foreign letters (f, w) in their Latin places
    names = ["Wintca", "Đông Anh", "FPT", "Dương Xá", "Viettel", "Ưng", "Uông", "BKAV"]
    got = frames._sort(pd.DataFrame({"name": names}), ["name"])["name"].tolist()
    assert got == ["BKAV", "Dương Xá", "Đông Anh", "FPT", "Uông", "Ưng", "Viettel", "Wintca"]
    nums = pd.DataFrame({"x": pd.array([3, None, 1, 3], dtype="Int64"), "i": [0, 1, 2, 3]})
    assert frames._sort(nums, ["x"])["i"].tolist() == [2, 0, 3, 1]


def test_headline_merge_waits_for_the_other_notebooks_merge(tmp_path):
    """The batch runs notebooks 20 and 30 together; their merges of headline.json must not
    interleave (a merge that read the parts before the other part was written, and wrote
    last, would drop that part). While one merge holds the lock, the other waits."""
    import multiprocessing
    import time

    metrics.write_headline("coverage", {"signed_th": 1}, tmp_path)
    # spawn, not fork: a forked child would share the parent's locked descriptor
    context = multiprocessing.get_context("spawn")
    with store._locked(tmp_path):
        other = context.Process(
            target=metrics.write_headline, args=("scale", {"schools_th": 2}, tmp_path)
        )
        other.start()
        deadline = time.monotonic() + 60
        while not (tmp_path / "headline_scale.json").exists():  # its part is written first
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)  # ample time to merge, were it not waiting
        assert other.is_alive()
        assert json.loads((tmp_path / "headline.json").read_text("utf-8")) == {"signed_th": 1}
    other.join(30)
    assert other.exitcode == 0
    head = json.loads((tmp_path / "headline.json").read_text("utf-8"))
    assert head == {"schools_th": 2, "signed_th": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "headline.json",
        "headline_coverage.json",
        "headline_scale.json",
    ]


def test_signing_pace_saturates_and_names_what_each_school_needs():
    """Pace since the previous period per week; what is left on 30/6 never below 0 nor above
    the staff left now; a school that does not move finishes never."""
    change = pd.DataFrame(
        {
            "school_code": ["A", "B", "C", "D"],
            "school_name": ["Trường A", "Trường B", "Trường C", "Trường D"],
            "level": ["Tiểu học"] * 4,
            "prev_period": ["2024-03-22", "2024-03-22", "2024-03-22", None],
            "n_staff_prev": [50, 50, 50, pd.NA],
            "n_signed_prev": [10, 40, 30, pd.NA],
            "coverage_prev": [0.2, 0.8, 0.6, float("nan")],
            "n_staff": [50, 50, 50, 40],
            "n_signed": [14, 48, 30, 40],
            "coverage": [0.28, 0.96, 0.6, 1.0],
            "delta_signed": [4, 8, 0, pd.NA],
            "delta_coverage": [0.08, 0.16, 0.0, float("nan")],
        }
    )
    pace = metrics.signing_pace(change, "2024-04-19").set_index("school_code")
    # 4 weeks since 22/3; 72 days = 10,29 weeks to 30/6/2024
    assert pace.loc["A", "signed_per_week"] == 1.0
    assert pace.loc["A", "left_at_window_end"] == 36 - 10  # 36 left, 10,29 signed at 1/week
    assert round(pace.loc["A", "needed_per_week"], 2) == 3.5
    assert pace.loc["A", "date_done"] == "2024-12-27" and not pace.loc["A", "on_track"]
    assert pace.loc["B", "left_at_window_end"] == 0 and pace.loc["B", "on_track"]  # saturates
    assert pace.loc["B", "date_done"] == "2024-04-26"  # 2 left at 2 a week: one week
    assert pace.loc["C", "left_at_window_end"] == 20 and pd.isna(pace.loc["C", "date_done"])
    assert pace.loc["D", "on_track"] and pace.loc["D", "n_unsigned"] == 0
    assert pd.isna(pace.loc["D", "signed_per_week"])
    assert list(pace.reset_index().columns) == metrics.TABLE_COLUMNS["signing_pace"]


def test_trend_and_projection_are_the_school_years():
    """A line across two school years (staff renewed over the summer) says nothing about this
    year's pace: the history, the projection and the heatmap keep the period's school year
    (from 1 August), so the first periods of a year say there is not enough data yet."""
    rows = []
    for period, signed in (("2023-12-15", 10), ("2024-04-19", 50), ("2024-06-24", 90),
                           ("2025-10-17", 60), ("2025-12-12", 70)):  # fmt: skip
        rows.append(
            {
                "period": period,
                "school_code": "TH01",
                "level": "Tiểu học",
                "n_staff": 100,
                "n_signed": signed,
                "n_pending": 0,
                "basis": "list",
            }  # fmt: skip
        )
    history = pd.DataFrame(rows)
    assert metrics.school_year_start("2025-07-31").isoformat() == "2024-08-01"
    assert metrics.school_year_start("2025-08-01").isoformat() == "2025-08-01"
    year = metrics.this_school_year(history, "2025-12-12")
    assert year["period"].tolist() == ["2025-10-17", "2025-12-12"]
    proj = metrics.projection(metrics.coverage_history(year))
    assert proj["n_points"].tolist() == [2, 2] and proj["date_100"].isna().all()
    assert "Chưa đủ số liệu" in proj["note"].iat[0]
    # the 2023-2024 year alone (the published report) keeps its three periods
    assert len(metrics.this_school_year(history, "2024-06-24")) == 3
