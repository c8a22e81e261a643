"""clean.clean_period on a small hand-made raw folder (real xlsx/csv files), and on the sample.

The small district: 8 schools; two periods (2024-01-10: school list + a staff CSV;
2024-02-20: a staff workbook with every planted defect, counts, infrastructure, records).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from analysis import clean, paths
from analysis.clean import stage
from analysis.core import privacy, schemas

KEY = b"test-key-for-the-small-district"
P1, P2 = "2024-01-10", "2024-02-20"

# ------------------------------------------------------------------------------------------
# the small raw folder

SCHOOL_HEADER = [
    "STT",
    "Mã trường",
    "Tên trường",
    "Cấp học",
    "Loại hình",
    "Phường",
    "Số lớp",
    "Số học sinh",
    "Số HS có mã định danh",
    "Số HS đã xác thực",
]
SCHOOLS = [
    # code (as written), name, level, classes, pupils, with_id, verified
    ("01020301", "Trường Tiểu học Thạch Bàn A", "TH", 20, 700, 700, 690),
    (1020302, "Trường Tiểu học Thạch Bàn B", "Tiểu học", 15, 500, 500, 500),  # zero lost
    ("01020303", "Trường Tiểu học Ái Mộ A", "Tiểu học", 12, 400, 400, 380),
    ("01020305", "Trường Tiểu học Ngọc Lâm", "Tiểu học", 10, 300, 300, 300),
    ("01020307", "Trường Tiểu học Thượng Thanh", "Tiểu học", 11, 350, 350, 350),
    ("01030305", "Trường THCS Ngọc Lâm", "THCS", 16, 600, 600, 600),
    ("01030306", "Trường THCS Gia Thụy", "Trung học cơ sở", 18, "1.144", 1144, 1100),
    ("01010101", "Trường Mầm non Hoa Sữa", "MN", 10, 300, None, None),
]
N_CLASSES = 20 + 15 + 12 + 10 + 11 + 16 + 18 + 10
N_PUPILS = 700 + 500 + 400 + 300 + 350 + 600 + 1144 + 300

STAFF_HEADER = [
    "STT",
    "Mã định danh",
    "Họ và tên",
    "Ngày sinh",
    "Số CCCD",
    "Số điện thoại",
    "Email",
    "Chức vụ",
    "Tên trường",
    "Trạng thái CB",
    "Chữ ký số",
    "Nhà cung cấp",
    "Ngày cấp",
    "Ngày hết hạn",
]
TA, AM, NL_TH, GT = (
    "Trường Tiểu học Thạch Bàn A",
    "TH Ái Mộ A",
    "Tiểu học Ngọc Lâm",
    "THCS Gia Thụy",
)
# Personal values that must never leave the cleaning stage.
NAMES = [f"Nguyễn Văn Bí Mật {i}" for i in range(30)]
CCCD = [f"0010{i:08d}" for i in range(30)]
PHONES = [f"09{i:08d}" for i in range(30)]
EMAILS = [f"bimat{i}@example.vn" for i in range(30)]
STAFF_IDS = [f"79{i:08d}" for i in range(30)]
WORKING = "Đang làm việc"
# staff_id index (None = missing), position, school, employment status, status, provider,
# issued, expires; the comment says what the row is for.
STAFF_ROWS = [
    (0, "Hiệu trưởng", TA, WORKING, "Đã cấp", "Viettel", "01/09/2023", "31/08/2025"),  # 3
    (1, "Giáo viên", TA, WORKING, "Chưa cấp", None, None, None),  # 4
    (2, "Giáo viên", TA, WORKING, "Đang chờ", None, None, None),  # 5 pending
    (3, "Giáo viên", TA, "Nghỉ hưu", "Đã cấp", "VNPT", "2023-05-01", "2025-05-01"),  # 6 left
    (1, "Giáo viên", TA, WORKING, "Chưa cấp", None, None, None),  # 7 identical dup of 4
    (4, "Kế toán", AM, WORKING, "x", "viettel-ca", 45200, 45930),  # 8 (serial dates)
    (4, "Kế toán", NL_TH, "Chuyển đi", "x", "VNPT", 45100, 45800),  # 9 same person, left
    (5, "Giáo viên", AM, WORKING, "Có", "VNPT", "01/01/2023", "01/01/2025"),  # 10
    (5, "Giáo viên", GT, WORKING, "Có", "VNPT", "01/06/2023", "01/06/2025"),  # 11 newer
    (None, "Giáo viên", AM, WORKING, "Có", "VNPT", "01/01/2023", "01/01/2025"),  # 12 no id
    (6, "Giáo viên", AM, WORKING, "Kiểm tra lại", None, None, None),  # 13 bad status
    (7, "Giáo viên", AM, WORKING, "Có", "FPT", "31/02/2024", "01/01/2026"),  # 14 bad date
    (8, "Giáo viên", AM, WORKING, "Có", "FPT", "01/02/2024", "01/01/2024"),  # 15 expiry<issue
    (9, "Giáo viên", "Trường Tiểu học Ái Mộ", WORKING, "Có", None, None, None),  # 16 fuzzy
    (10, "Giáo viên", "Thạch Bàn", WORKING, "Có", None, None, None),  # 17 fuzzy (twin base)
    (11, "Giáo viên", "Trường THCS Khương Đình", WORKING, "Có", None, None, None),  # 18
    (12, "Giáo viên", "Trường Tiểu học Gia Quất", None, "Đã có", "BKAV", None, None),  # 19 alias
    (13, "Nhân viên", "THCS Ngọc Lâm", WORKING, "Chưa có", None, None, None),  # 20
    (14, "Phó hiệu trưởng", "THCS Ngọc Lâm", WORKING, "1", "VNPT", None, None),  # 21
]
FIRST_STAFF_ROW = 3  # title row 1, header row 2


def _write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    wb.close()


def build_raw(root: Path) -> Path:
    """Write the small district's raw folder; returns the raw root."""
    raw = root / "raw"
    (raw / P1).mkdir(parents=True)
    (raw / P2).mkdir(parents=True)
    (raw / "school_aliases.csv").write_text(
        "alias,school_code,note\nTrường Tiểu học Gia Quất,01020307,tên cũ\n", encoding="utf-8"
    )
    # -- school list: 2 title rows, blank, header (row 4), 8 schools + 2 bad rows, total, footer
    rows: list[list] = [["UBND QUẬN LONG BIÊN"], ["DANH SÁCH TRƯỜNG"], [], SCHOOL_HEADER]
    for i, (code, name, level, cls, pup, wid, ver) in enumerate(SCHOOLS, 1):
        rows.append([i, code, name, level, "Công lập", "Bồ Đề", cls, pup, wid, ver])
    rows.append([9, None, "Trường Tiểu học Không Mã", "TH", "Công lập", "Bồ Đề", 5, 100])  # 13
    rows.append([10, "01020399", "Trường Tiểu học Sai Số", "TH", "Công lập", "Bồ Đề", 5, "abc"])
    rows.append([None, None, "Tổng cộng", None, None, None, N_CLASSES, N_PUPILS])  # 15
    rows.append([])
    rows.append([None, None, "Người lập biểu"])  # 17
    _write_xlsx(raw / P1 / "DanhSachTruong.xlsx", {"Danh sách trường": rows})
    # -- an earlier staff list (CSV, ';', UTF-8 BOM) for the history
    lines = ["Mã CB;Họ tên;Chức vụ;Mã trường;Chữ ký số;Trạng thái CB"]
    lines += [
        f"{STAFF_IDS[0]};{NAMES[0]};Hiệu trưởng;01020301;Chưa cấp;{WORKING}",
        f"{STAFF_IDS[1]};{NAMES[1]};Giáo viên;1020301;Đã cấp;{WORKING}",
        f"{STAFF_IDS[13]};{NAMES[13]};Nhân viên;01030305;Chưa cấp;{WORKING}",
    ]
    (raw / P1 / "cbgvnv_thang1.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    # -- this period's staff workbook (+ a lookup sheet)
    rows = [["DANH SÁCH CBGVNV"], STAFF_HEADER]
    for n, (i, pos, school, emp, st, prov, iss, exp) in enumerate(STAFF_ROWS, 1):
        pid = STAFF_IDS[i] if i is not None else None
        j = i if i is not None else 29
        rows.append(
            [n, pid, NAMES[j], "01/01/1980", CCCD[j], PHONES[j], EMAILS[j], pos, school, emp, st,
             prov, iss, exp]
        )  # fmt: skip
    rows.append([])
    rows.append([None, "Người lập biểu", None, None, None, None, None, "Hiệu trưởng"])
    lookup = [["Chức vụ"], ["Hiệu trưởng"], ["Giáo viên"]]
    _write_xlsx(raw / P2 / "CBGVNV_thang2.xlsx", {"DanhSach": rows, "DanhMuc": lookup})
    # -- counts
    rows = [
        ["TỔNG HỢP CHỮ KÝ SỐ"],
        ["Tên trường", "Tổng số CBGVNV", "Số đã có chữ ký số", "Tỷ lệ (%)"],
        ["Trường Tiểu học Thạch Bàn A", 10, 5, "50%"],  # 3 superseded by the list
        ["Trường THCS Ngọc Lâm", 30, 20, "66,7%"],  # 4 counts (but a list exists too)
        ["Trường Mầm non Hoa Sữa", 20, 10, "60%"],  # 5 rate mismatch
        ["Trường Tiểu học Thạch Bàn B", 10, 12, "120%"],  # 6 signed > total
        ["Trường Tiểu học Ngọc Lâm", -1, 0, None],  # 7 negative
        ["Tổng cộng", 71, 47, None],  # 8 total (of all rows)
    ]
    _write_xlsx(raw / P2 / "TongHop.xlsx", {"Sheet1": rows})
    # -- infrastructure
    rows = [
        ["Mã trường", "Tên trường", "Số đường truyền cáp quang", "Tốc độ đường truyền (Mbps)",
         "Số máy tính phục vụ quản lý"],
        ["01020301", "TH Thạch Bàn A", 2, "100 Mbps", 10],
        [1020302, "TH Thạch Bàn B", 1, 70, "5"],
        ["01030306", "THCS Gia Thụy", 2, 0, 8],  # speed 0: refused
        [None, "Tổng cộng", 5, None, 23],
    ]  # fmt: skip
    _write_xlsx(raw / P2 / "HaTang.xlsx", {"Hạ tầng": rows})
    # -- records
    rows = [
        ["Tên trường", "Khối", "Lớp", "Số học sinh", "Số học bạ GVCN đã ký",
         "Số học bạ Hiệu trưởng đã ký"],
        ["TH Thạch Bàn A", 1, "1A", 35, 35, 30],
        ["TH Thạch Bàn A", 1, "1B", 35, 30, 31],  # principal > teacher
        ["TH Ái Mộ A", 2, "2A", 30, 31, 0],  # teacher > pupils
        ["TH Ái Mộ A", 2, "2B", 30, 20, 10],
    ]  # fmt: skip
    _write_xlsx(raw / P2 / "HocBa.xlsx", {"TienDo": rows})
    return raw


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    raw = build_raw(root)
    result = clean.clean_period(P2, raw, root / "processed", key=KEY)
    return raw, root / "processed", result


def q_at(result, file, row):
    q = result.quarantine
    hit = q[(q["source_file"] == f"{P2}/{file}") & (q["source_row"] == row)]
    assert len(hit) == 1, (file, row, q[["source_file", "source_row", "reason"]])
    return hit.iloc[0]


# ------------------------------------------------------------------------------------------
# the small district


def test_schools_parsed_padded_and_bad_rows_quarantined(small):
    _, _, r = small
    s = r.tables["schools"].set_index("school_code")
    assert len(s) == 8
    assert "01020302" in s.index  # leading zero restored
    assert s.loc["01030306", "n_pupils"] == 1144
    assert s.loc["01030306", "level"] == "THCS"
    assert s.loc["01020301", "level"] == "Tiểu học"
    assert s["n_classes"].sum() == N_CLASSES and s["n_pupils"].sum() == N_PUPILS
    assert pd.isna(s.loc["01010101", "n_pupils_with_id"])
    q = r.quarantine.set_index("source_row")
    truong = q[q["kind"] == "truong"]
    assert truong.loc[13, "reason"] == "missing_code"
    assert truong.loc[14, "reason"] == "bad_number" and truong.loc[14, "value"] == "abc"
    # The total row is cross-checked (2 refused rows are not in the total: it balances).
    checks = [c for c in r.quality["total_checks"] if c["kind"] == "truong"]
    assert {c["column"]: c["ok"] for c in checks} == {"n_classes": True, "n_pupils": True}


def test_every_staff_defect_quarantined_with_reason_at_its_row(small):
    _, _, r = small
    f = "CBGVNV_thang2.xlsx"
    expected = {
        12: "missing_id",
        13: "bad_status",
        14: "bad_date",
        15: "expiry_before_issue",
        16: "fuzzy_school",
        17: "fuzzy_school",
        18: "unmatched_school",
    }
    for row, reason in expected.items():
        assert q_at(r, f, row)["reason"] == reason, row
    staff_q = r.quarantine[r.quarantine["kind"] == "cbgvnv"]
    assert sorted(staff_q["source_row"]) == sorted(expected)
    assert q_at(r, f, 12)["value"] == ""
    assert q_at(r, f, 14)["value"] == "31/02/2024"
    msg = q_at(r, f, 17)["message"]
    assert "Thạch Bàn A" in msg and "Thạch Bàn B" in msg and "school_aliases.csv" in msg
    assert f"{P2}/{f}" in msg and "dòng 17" in msg


def test_other_kinds_quarantine(small):
    _, _, r = small
    assert q_at(r, "TongHop.xlsx", 6)["reason"] == "signed_gt_total"
    assert q_at(r, "TongHop.xlsx", 7)["reason"] == "negative_count"
    assert q_at(r, "HaTang.xlsx", 4)["reason"] == "bad_speed"
    assert q_at(r, "HocBa.xlsx", 3)["reason"] == "principal_gt_teacher"
    assert q_at(r, "HocBa.xlsx", 4)["reason"] == "signed_gt_pupils"
    infra = r.tables["infrastructure"].set_index("school_code")
    assert infra.loc["01020301", "speed_mbps"] == 100.0
    assert infra.loc["01020302", "n_computers"] == 5
    rec = r.tables["records"]
    assert rec["class_name"].tolist() == ["1A", "2B"]


def test_dedup_rule_and_left_staff(small):
    _, _, r = small
    staff = r.tables["staff"]
    keys = privacy.person_key(pd.Series(STAFF_IDS), KEY)
    by_key = staff.set_index("person_key")
    assert staff["person_key"].is_unique
    # identical duplicate rows -> one (the first row, 4)
    assert by_key.loc[keys[1], "source_row"] == 4
    # active beats left: row 8 (Ái Mộ A, active) kept over row 9 (Ngọc Lâm, left)
    assert by_key.loc[keys[4], "school_code"] == "01020303"
    assert bool(by_key.loc[keys[4], "active"])
    # most recent issued_on: row 11 (Gia Thụy, THCS) kept over row 10
    assert by_key.loc[keys[5], "school_code"] == "01030306"
    assert by_key.loc[keys[5], "level"] == "THCS"
    dups = r.quality["duplicates"]
    assert dups["by_rule"] == {"active": 1, "identical": 1, "issued_on": 1}
    assert dups["rows_before"] == dups["persons_after"] + dups["rows_removed"]
    dropped_rows = sorted(c["dropped_row"] for c in dups["cases"])
    assert dropped_rows == [7, 9, 10]
    # left staff kept, flagged, counted; never in a denominator
    assert r.quality["left_staff"] == {"total": 1, "by_status": {"Nghỉ hưu": 1}}
    assert not bool(by_key.loc[keys[3], "active"])
    # blank employment status = active; alias applied; provider canonical; serial dates read
    assert by_key.loc[keys[12], "school_code"] == "01020307" and by_key.loc[keys[12], "active"]
    assert by_key.loc[keys[4], "provider"] == "Viettel"
    assert by_key.loc[keys[4], "issued_on"] == pd.Timestamp("2023-10-01")
    assert by_key.loc[keys[2], "pending"] and not by_key.loc[keys[2], "signed"]


def test_signature_by_school_list_wins_over_counts(small):
    _, _, r = small
    sbs = r.tables["signature_by_school"].set_index("school_code")
    # Thạch Bàn A list: active rows 3, 4, 5 (6 left, 7 duplicate): 3 staff, 1 signed, 1 pending
    assert sbs.loc["01020301", ["n_staff", "n_signed", "n_pending"]].tolist() == [3, 1, 1]
    assert sbs.loc["01020301", "basis"] == "list"
    # Hoa Sữa only counts
    assert sbs.loc["01010101", ["n_staff", "n_signed", "n_pending"]].tolist() == [20, 10, 0]
    assert sbs.loc["01010101", "basis"] == "counts"
    # THCS Ngọc Lâm: both; the list (2 people, 1 signed) wins
    assert sbs.loc["01030305", ["n_staff", "n_signed"]].tolist() == [2, 1]
    counts = r.tables["signature_counts"].set_index("school_code")
    assert counts.loc["01030305", "superseded"] and counts.loc["01020301", "superseded"]
    assert not counts.loc["01010101", "superseded"]
    codes = {w["code"] for w in r.quality["warnings"]}
    assert {"list_and_counts", "rate_mismatch", "total_mismatch"} <= codes
    # Ngọc Lâm TH: only the left person (row 9, a duplicate dropped) -> no list row at all
    assert "01020305" not in sbs.index


def test_history_has_both_periods_with_this_school_list(small):
    _, _, r = small
    h = r.tables["history"]
    assert sorted(h["period"].unique()) == [P1, P2]
    jan = h[h["period"] == P1].set_index("school_code")
    # the CSV code 1020301 was padded and matched; 2 people there, 1 signed
    assert jan.loc["01020301", ["n_staff", "n_signed"]].tolist() == [2, 1]
    assert jan.loc["01030305", ["n_staff", "n_signed"]].tolist() == [1, 0]


def test_accounting_balances_per_sheet(small):
    _, _, r = small
    acc = r.accounting()
    assert (acc["Cân đối"] == "✓").all()
    for i in r.quality["inputs"]:
        assert i["rows_read"] == i["kept"] + i["quarantined"] + sum(i["non_data"].values())
    staff_in = next(i for i in r.quality["inputs"] if i["file"].endswith("CBGVNV_thang2.xlsx"))
    assert staff_in["quarantined"] == 7 and staff_in["kept"] == len(STAFF_ROWS) - 7
    assert r.quality["served"] == {
        "truong": P1,
        "cbgvnv": P2,
        "tonghop_cks": P2,
        "ha_tang": P2,
        "hoc_ba": P2,
        "ca_thue_bao": None,
        "chu_ky_so_to_chuc": None,
    }
    assert [s["sheet"] for s in r.quality["skipped_sheets"]] == ["DanhMuc"]
    assert r.quality["sample"] is False


def test_written_files_read_back_and_match_schemas(small):
    _, processed, r = small
    out = processed / P2
    for name in schemas.COLUMNS:
        df = pd.read_parquet(out / f"{name}.parquet")
        assert list(df.columns) == list(schemas.COLUMNS[name])
        assert len(df) == len(r.tables[name])
        schemas.validate(name, df)
    q = pd.read_csv(out / "quarantine.csv", encoding="utf-8-sig", dtype={"source_sheet": "str"})
    assert (out / "quarantine.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(q.columns) == list(clean.QUARANTINE_COLUMNS)
    assert len(q) == len(r.quarantine)
    order = q[["source_file", "source_sheet", "source_row"]].fillna("")
    assert order.equals(order.sort_values(list(order.columns)).reset_index(drop=True))
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    assert quality["period"] == P2 and quality["quarantine"]["total"] == len(q)
    assert not list(processed.glob(".tmp-*")) and not list(processed.glob(".old-*"))


def _all_output_text(folder: Path) -> str:
    parts = []
    for p in sorted(folder.rglob("*")):
        if p.suffix == ".parquet":
            parts.append(pd.read_parquet(p).astype(str).to_csv())
        elif p.suffix in {".csv", ".json"}:
            parts.append(p.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


def test_no_personal_value_nor_key_in_outputs(small):
    _, processed, r = small
    blob = _all_output_text(processed / P2)
    for value in [*NAMES, *CCCD, *PHONES, *EMAILS, *STAFF_IDS, "01/01/1980"]:
        assert value not in blob, value
    assert KEY.hex() not in blob and KEY.decode() not in blob
    privacy.assert_no_personal(r.tables["staff"])


def test_views_for_the_notebook(small):
    _, _, r = small
    assert set(r.quarantine_summary()["Lý do"]) >= {"missing_id", "fuzzy_school"}
    assert len(r.quarantine_examples(1)) == r.quarantine["reason"].nunique()
    u = r.unmatched()
    assert "Trường THCS Khương Đình" in set(u["Tên trường"])
    assert len(r.duplicates()) == 3
    assert r.left_staff().to_dict("records") == [{"Trạng thái CB": "Nghỉ hưu", "Số người": 1}]
    assert len(r.inputs()) == len(r.quality["inputs"]) + 1
    assert r.repairs().set_index("Loại sửa").loc["school_alias", "Số ô / dòng"] == 1


def test_rerun_gives_same_bytes(small, tmp_path):
    raw, processed, _ = small
    clean.clean_period(P2, raw, tmp_path, key=KEY)
    for p in sorted((processed / P2).iterdir()):
        assert p.read_bytes() == (tmp_path / P2 / p.name).read_bytes(), p.name


def test_atomic_write_keeps_previous_output_on_failure(small, tmp_path, monkeypatch):
    raw, processed, _ = small
    clean.clean_period(P2, raw, tmp_path, key=KEY)
    before = {p.name: p.read_bytes() for p in (tmp_path / P2).iterdir()}
    calls = {"n": 0}
    real = stage._write_parquet

    def failing(df, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        real(df, path)

    monkeypatch.setattr(stage, "_write_parquet", failing)
    with pytest.raises(OSError, match="simulated"):
        clean.clean_period(P2, raw, tmp_path, key=KEY)
    after = {p.name: p.read_bytes() for p in (tmp_path / P2).iterdir()}
    assert after == before
    # no temporary folder left; _cache holds only what earlier runs computed (analysis.core.cache)
    assert sorted(p.name for p in tmp_path.iterdir()) == [P2, "_cache"]


def test_period_without_school_list_is_a_clean_error(tmp_path):
    raw = build_raw(tmp_path)
    (raw / P1 / "DanhSachTruong.xlsx").unlink()
    with pytest.raises(clean.CleanError, match="danh sách trường"):
        clean.clean_period(P2, raw, tmp_path / "out", key=KEY)
    assert not (tmp_path / "out" / P2).exists()


def test_empty_kinds_written_empty_with_columns(tmp_path):
    raw = build_raw(tmp_path)
    for name in ("HaTang.xlsx", "HocBa.xlsx"):
        (raw / P2 / name).unlink()
    r = clean.clean_period(P2, raw, tmp_path / "out", key=KEY)
    assert r.quality["served"]["ha_tang"] is None and r.quality["served"]["hoc_ba"] is None
    df = pd.read_parquet(tmp_path / "out" / P2 / "records.parquet")
    assert df.empty and list(df.columns) == list(schemas.COLUMNS["records"])
    assert str(df["grade"].dtype) == "Int64"


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, privacy.KEY_ENV: KEY.hex(), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "analysis", "clean", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=paths.ROOT,
        timeout=300,
    )


def test_cli_ok_corrupt_file_and_no_data(tmp_path):
    raw = build_raw(tmp_path)
    ok = _cli("--period", P2, "--raw-dir", str(raw), "--processed-dir", str(tmp_path / "o"))
    assert ok.returncode == 0, ok.stderr
    assert "8 trường" in ok.stdout
    (raw / P2 / "hong.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    bad = _cli("--period", P2, "--raw-dir", str(raw), "--processed-dir", str(tmp_path / "o2"))
    assert bad.returncode == 1
    assert "hong.xlsx" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "o2" / P2).exists()
    empty = tmp_path / "empty"
    (empty / "2024-05-01").mkdir(parents=True)
    none = _cli("--period", "2024-05-01", "--raw-dir", str(empty), "--processed-dir", str(tmp_path))
    assert none.returncode == 1
    assert "2024-05-01" in none.stderr and "Traceback" not in none.stderr


# ------------------------------------------------------------------------------------------
# the sample data set (skipped when it has not been generated)


def _sample_dirs() -> tuple[Path, Path] | None:
    raw = Path(os.environ.get("HOCBASO_SAMPLE_RAW", paths.RAW_DIR))
    planted = raw.parent / "sample_planted.json"
    if paths.is_sample(raw) and planted.is_file():
        return raw, planted
    return None


needs_sample = pytest.mark.skipif(
    _sample_dirs() is None, reason="sample data not generated (python -m analysis sample)"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    raw, planted_path = _sample_dirs()
    planted = json.loads(planted_path.read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("sample_processed")
    results = {p: clean.clean_period(p, raw, out, key=KEY) for p in planted["periods"]}
    return raw, out, planted, results


@needs_sample
@pytest.mark.slow
def test_sample_reference_period_figures(sample):
    _, _, planted, results = sample
    r = results["2024-04-19"]
    sbs = r.tables["signature_by_school"]
    th = sbs[sbs["level"] == "Tiểu học"]
    assert (int(th["n_signed"].sum()), int(th["n_staff"].sum())) == (1248, 1787)
    s = r.tables["schools"]
    assert len(s) == 142
    by = s.groupby("level")[["n_classes", "n_pupils"]].sum()
    assert by.loc["Mầm non"].tolist() == [1127, 25915]
    assert by.loc["Tiểu học"].tolist() == [926, 34911]
    assert by.loc["THCS"].tolist() == [661, 26271]
    assert (int(s["n_classes"].sum()), int(s["n_pupils"].sum())) == (2714, 87097)
    infra = r.tables["infrastructure"]
    assert (int(infra["n_fibre"].sum()), int(infra["n_computers"].sum())) == (246, 866)


@needs_sample
@pytest.mark.slow
def test_sample_every_period_matches_planted_expected(sample):
    _, _, planted, results = sample
    for period, r in results.items():
        exp = planted["expected"][period]
        sbs = r.tables["signature_by_school"]
        schools = r.tables["schools"]
        for level in ("Mầm non", "Tiểu học", "THCS"):
            e = exp[level]
            sch = schools[schools["level"] == level]
            assert len(sch) == e["n_schools"], (period, level)
            assert int(sch["n_pupils"].sum()) == e["n_pupils"], (period, level)
            lv = sbs[sbs["level"] == level]
            if e.get("n_staff") is not None:
                got = [int(lv[c].sum()) for c in ("n_staff", "n_signed", "n_pending")]
                assert got == [e["n_staff"], e["n_signed"], e["n_pending"]], (period, level)
            if e.get("n_fibre") is not None:
                inf = r.tables["infrastructure"]
                inf = inf[inf["level"] == level]
                assert int(inf["n_fibre"].sum()) == e["n_fibre"], (period, level)
                assert int(inf["n_computers"].sum()) == e["n_computers"], (period, level)
            if e.get("n_records") is not None:
                rec = r.tables["records"]
                rec = rec[rec["level"] == level]
                assert len(rec) == e["n_records"]
                assert int(rec["n_signed_teacher"].sum()) == e["n_signed_teacher"]
                assert int(rec["n_signed_principal"].sum()) == e["n_signed_principal"]
        for i in r.quality["inputs"]:
            assert i["balanced"], i
        h = r.tables["history"]
        assert h["period"].max() == period


@needs_sample
@pytest.mark.slow
def test_sample_planted_defects_found(sample):
    _, _, planted, results = sample
    quarantine = pd.concat([r.quarantine for r in results.values()]).drop_duplicates()
    qkey = quarantine.set_index(["source_file", "source_sheet", "source_row"])["reason"]
    dup_rows = set()
    warn_rows = set()
    for r in results.values():
        for c in r.quality["duplicates"]["cases"]:
            for side in ("kept", "dropped"):
                dup_rows.add((c[f"{side}_file"], c[f"{side}_sheet"], c[f"{side}_row"]))
        for w in r.quality["warnings"]:
            warn_rows.add((w["code"], w["file"], w["sheet"], w["row"]))
    served_files = {i["file"] for r in results.values() for i in r.quality["inputs"]}
    for d in planted["defects"]:
        rows = d.get("rows", [d["row"]])
        where = (d["file"], d["sheet"])
        if d["expected"] == "quarantined":
            for row in rows:
                assert qkey.get((*where, row)) == d["reason"], (d, qkey.get((*where, row)))
        elif d["expected"] == "counted_once":
            assert (*where, d["row"]) in dup_rows, d
        elif d["expected"] == "warning":
            code = "rate_mismatch" if d["defect"] == "rate_mismatch" else "list_and_counts"
            assert (code, *where, d["row"]) in warn_rows, d
        elif d["expected"] == "repaired" and d["file"] in served_files:
            for row in rows:
                assert (*where, row) not in qkey.index, d


@needs_sample
@pytest.mark.slow
def test_sample_no_personal_value_in_any_output(sample):
    raw, out, planted, _ = sample
    blob = _all_output_text(out)
    pv = planted["personal_values"]
    for field in ("full_name", "id_number", "phone", "email"):
        for value in pv[field]:
            assert value not in blob, (field, value)
    from analysis.ingest import read_folder

    ids = pd.concat(
        [t.data["staff_id"] for t in read_folder(raw / "2024-04-19", raw) if t.kind == "cbgvnv"]
    )
    ids = privacy.normalise_staff_id(ids).dropna().unique()
    assert len(ids) > 1000
    for value in ids:
        assert value not in blob


# ------------------------------------------------------------------------------------------
# schemas


def test_schemas_empty_conform_validate():
    for name in schemas.COLUMNS:
        schemas.validate(name, schemas.empty(name))
    sbs = schemas.conform(
        "signature_by_school",
        pd.DataFrame(
            {
                "school_code": ["A", "B"],
                "level": ["Tiểu học", "Cấp 4"],
                "n_staff": [10, 5],
                "n_signed": [11, 5],
                "n_pending": [0, 0],
                "basis": ["list", "counts"],
            }
        ),
    )
    with pytest.raises(schemas.SchemaBugError, match="signature_by_school"):
        schemas.validate("signature_by_school", sbs)
    wrong_dtype = sbs.assign(school_code=sbs["school_code"].astype(object))
    with pytest.raises(schemas.SchemaBugError, match="school_code"):
        schemas.validate("signature_by_school", wrong_dtype)
