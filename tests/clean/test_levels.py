"""Levels (data contract §8): THPT and GDTX schools, multi-level schools counted once as
"Trường nhiều cấp học", their classes and pupils under each level, their staff by their row.

Raw files are written here (an openpyxl workbook, CSV bytes); every expected count is worked
out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis import clean, metrics
from analysis.core import parse, vocab

KEY = b"test-key-for-the-levels"
P = "2024-10-15"
MN, TH, THCS, THPT, GDTX = vocab.LEVELS
MULTI = vocab.MULTI_LEVEL

# -- district A: an xlsx school list, one row per school and level for Đoàn Kết -------------
SCHOOLS_A = [
    ["Mã trường", "Tên trường", "Cấp học", "Loại hình", "Phường", "Số lớp", "Số học sinh"],
    ["01010101", "Trường Mầm non Hoa Sen", "MN", "Công lập", "Ngọc Thụy", 10, 300],
    ["01020301", "Trường Tiểu học Sao Mai", "Tiểu học", "Công lập", "Ngọc Thụy", 20, 700],
    ["01030301", "Trường THCS Ngọc Thụy", "THCS", "Công lập", "Ngọc Thụy", 16, 600],
    ["01040401", "Trường THPT Nguyễn Gia Thiều", "THPT", "Công lập", "Ngọc Lâm", 40, 1800],
    ["01040402", "Trường THPT Lý Thường Kiệt", "Trung học phổ thông", "Công lập", "Thạch Bàn",
     35, 1500],
    ["01050501", "Trung tâm GDNN-GDTX quận Long Biên", "Trung tâm GDNN-GDTX", "Công lập",
     "Gia Thụy", 12, 400],
    # one school, one row per level (same code and name)
    ["01060601", "Trường TH&THCS Đoàn Kết", "Tiểu học", "Tư thục", "Ngọc Lâm", 10, 350],
    ["01060601", "Trường TH&THCS Đoàn Kết", "THCS", "Tư thục", "Ngọc Lâm", 8, 300],
    # "Liên cấp": the levels come from the name; counts not split
    ["01060602", "Trường TH, THCS và THPT Hồng Hà", "Liên cấp", "Tư thục", "Bồ Đề", 30, 1000],
]  # fmt: skip

# Staff of district A (a Cấp học column for the multi-level school's rows).
STAFF_A = [
    # id, position, school code, Cấp học, signature
    ("7900000001", "Giáo viên", "01060601", "Tiểu học", "Đã cấp"),
    ("7900000002", "Giáo viên", "01060601", "TH", "Đã cấp"),
    ("7900000003", "Giáo viên", "01060601", "Tiểu học", "Đã cấp"),
    ("7900000004", "Giáo viên", "01060601", "Tiểu học", "Chưa cấp"),
    ("7900000005", "Giáo viên", "01060601", "THCS", "Đã cấp"),
    ("7900000006", "Giáo viên", "01060601", "Trung học cơ sở", "Chưa cấp"),
    ("7900000007", "Hiệu trưởng", "01060601", "", "Đã cấp"),  # no level: the school's jointly
    ("7900000008", "Giáo viên", "01020301", "", "Đã cấp"),
    ("7900000009", "Giáo viên", "01020301", "THCS", "Chưa cấp"),  # single-level school: TH
    ("7900000010", "Giáo viên", "01040401", "", "Đã cấp"),
    ("7900000011", "Giáo viên", "01040401", "", "Đã cấp"),
    ("7900000012", "Nhân viên", "01040401", "", "Chưa cấp"),
]


def _write_a(raw: Path) -> None:
    folder = raw / P
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DanhSach"
    ws.append(["DANH SÁCH TRƯỜNG NĂM HỌC 2024-2025"])
    for row in SCHOOLS_A:
        ws.append(row)
    wb.save(folder / "DanhSachTruong.xlsx")
    lines = ["Mã định danh,Họ và tên,Chức vụ,Mã trường,Cấp học,Chữ ký số"]
    for i, (sid, pos, code, level, st) in enumerate(STAFF_A):
        lines.append(f"{sid},Nguyễn Văn Giả {i},{pos},{code},{level},{st}")
    (folder / "CBGVNV.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    (folder / "HocBa.csv").write_bytes(RECORDS_A.encode("utf-8"))


# Records: a multi-level school's class takes the level of its Khối.
RECORDS_A = (
    "Mã trường;Khối;Lớp;Số học sinh;Số học bạ GVCN đã ký;Số học bạ Hiệu trưởng đã ký\n"
    "01060601;1;1A;30;20;10\n"  # Tiểu học
    "01060601;6;6A;35;35;35\n"  # THCS
    "01060601;;CLB;10;5;5\n"  # no Khối: the school's levels jointly
    "01020301;2;2A;30;10;0\n"
)


# -- district B: a CSV school list, one unsplit TH&THCS row ---------------------------------
SCHOOLS_B = (
    "Mã trường,Tên trường,Cấp học,Số lớp,Số học sinh\r\n"
    "01060603,Trường TH&THCS Ngọc Lâm,TH&THCS,14,500\r\n"
    "01040403,Trường THPT Thạch Bàn,PTTH,30,1200\r\n"
    "01050502,Trung tâm GDTX Gia Lâm,Giáo dục thường xuyên,6,150\r\n"
    "01020302,Trường Tiểu học Ái Mộ,TH,12,420\r\n"
    "01060603,Trường TH&THCS Ngọc Lâm,Tiểu học,8,300\r\n"  # row 6: TH again -> duplicate
    "01070701,Trường Liên cấp Olympia,Liên cấp,20,600\r\n"  # row 7: levels nowhere -> refused
    "01080801,Trường Tiểu học Bình Minh,TH,5,100\r\n"  # rows 8-9: one code, two levels, two
    "01080801,Trường THCS Ánh Sao,THCS,4,90\r\n"  # names: one school, and a warning
)
COUNTS_B = (
    "Tên trường,Tổng số CBGVNV,Số đã có chữ ký số\r\n"
    "TH&THCS Ngọc Lâm,10,7\r\n"  # the name states TH&THCS: the multi-level school
    "THPT Thạch Bàn,20,5\r\n"
)


def _write_b(raw: Path) -> None:
    folder = raw / P
    folder.mkdir(parents=True)
    (folder / "danh_sach_truong.csv").write_bytes(SCHOOLS_B.encode("utf-8"))
    (folder / "tong_hop_cks.csv").write_bytes(COUNTS_B.encode("utf-8"))


@pytest.fixture(scope="module")
def district_a(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels_a")
    _write_a(root / "raw")
    result = clean.clean_period(P, root / "raw", root / "processed", key=KEY)
    return result, metrics.load_processed(root / "processed" / P)


@pytest.fixture(scope="module")
def district_b(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels_b")
    _write_b(root / "raw")
    result = clean.clean_period(P, root / "raw", root / "processed", key=KEY)
    return result, metrics.load_processed(root / "processed" / P)


def _rows(table: pd.DataFrame, cols: list[str]) -> dict:
    return {r["level"]: tuple(int(r[c]) for c in cols) for r in table.to_dict("records")}


# ------------------------------------------------------------------------------------------


def test_parse_levels_words_and_multi_level_text():
    values = ["TH&THCS", "Tiểu học, THCS", "THCS&THPT", "TH&THCS&THPT", "Trung tâm GDNN-GDTX",
              "PTTH", "Cấp 3", "Liên cấp", "Trường nhiều cấp học", "Mầm non", "Đại học",
              None]  # fmt: skip
    levels, bad = parse.parse_levels(values)
    assert levels.tolist()[:10] == [
        "Tiểu học; THCS", "Tiểu học; THCS", "THCS; THPT", "Tiểu học; THCS; THPT", GDTX,
        THPT, THPT, MULTI, MULTI, MN,
    ]  # fmt: skip
    assert bad.tolist() == [False] * 10 + [True, False]
    one, _ = parse.parse_level(values[:6])
    assert one.tolist() == [MULTI, MULTI, MULTI, MULTI, GDTX, THPT]


def test_schools_one_row_per_school_multi_level_once(district_a):
    result, p = district_a
    assert result.quarantine.empty, result.quarantine[["source_row", "reason", "message"]]
    s = p.schools.set_index("school_code")
    assert len(s) == 8  # 9 data rows, Đoàn Kết's two rows are one school
    assert s.loc["01060601", "level"] == MULTI
    assert s.loc["01060601", "levels"] == "Tiểu học; THCS"
    assert (s.loc["01060601", "n_classes"], s.loc["01060601", "n_pupils"]) == (18, 650)
    assert s.loc["01060602", "levels"] == "Tiểu học; THCS; THPT"  # from the name
    assert s.loc["01040402", "level"] == THPT and s.loc["01050501", "level"] == GDTX
    sl = p.school_levels
    dk = sl[sl["school_code"] == "01060601"]
    assert dk["level"].tolist() == [TH, THCS]
    assert dk["n_classes"].tolist() == [10, 8] and dk["n_pupils"].tolist() == [350, 300]
    hh = sl[sl["school_code"] == "01060602"]
    assert hh["level"].tolist() == [TH, THCS, THPT] and hh["n_classes"].isna().all()
    assert len(sl) == 6 + 2 + 3
    assert result.quality["repairs"]["multi_level_rows"] == 1
    assert result.quality["repairs"]["multi_level_from_name"] == 1
    warn = [w for w in result.quality["warnings"] if w["code"] == "multi_level_unsplit"]
    assert [w["row"] for w in warn] == [11] and "01060602" in warn[0]["message"]


def test_scale_by_level_counts_by_hand(district_a):
    _, p = district_a
    t = metrics.scale_by_level(p.schools, p.school_levels)
    assert t["level"].tolist() == [MN, TH, THCS, THPT, GDTX, MULTI, vocab.TOTAL]
    got = _rows(t, ["n_schools", "n_classes", "n_pupils"])
    assert got == {
        MN: (1, 10, 300),
        TH: (1, 20 + 10, 700 + 350),  # Sao Mai + Đoàn Kết's primary share
        THCS: (1, 16 + 8, 600 + 300),
        THPT: (2, 40 + 35, 1800 + 1500),
        GDTX: (1, 12, 400),
        MULTI: (2, 30, 1000),  # Đoàn Kết + Hồng Hà; Hồng Hà's counts are not split
        vocab.TOTAL: (8, 181, 6950),  # each school once
    }
    assert sum(v[1] for k, v in got.items() if k != vocab.TOTAL) == 181


def test_staff_level_and_coverage_by_level_by_hand(district_a):
    result, p = district_a
    st = p.staff
    dk = st[st["school_code"] == "01060601"]["level"].value_counts().to_dict()
    assert dk == {TH: 4, THCS: 2, MULTI: 1}
    assert set(st[st["school_code"] == "01020301"]["level"]) == {TH}
    assert result.quality["repairs"]["staff_level_own"] == 6
    assert result.quality["repairs"]["staff_level_joint"] == 1
    sbs = p.signature_by_school.set_index("school_code")
    assert sbs.loc["01060601", "level"] == MULTI and sbs.loc["01060601", "n_staff"] == 7
    t = metrics.coverage_by_level(p.schools, p.signature_by_school, p.staff)
    got = _rows(t, ["n_schools", "n_schools_reporting", "n_staff", "n_signed"])
    assert got == {
        MN: (1, 0, 0, 0),
        TH: (3, 2, 2 + 4, 1 + 3),  # Sao Mai, Đoàn Kết, Hồng Hà teach it
        THCS: (3, 1, 2, 1),  # Ngọc Thụy, Đoàn Kết, Hồng Hà
        THPT: (3, 1, 3, 2),  # two THPT schools + Hồng Hà
        GDTX: (1, 0, 0, 0),
        MULTI: (2, 1, 1, 1),  # Đoàn Kết's principal (no level)
        vocab.TOTAL: (8, 3, 12, 8),
    }
    by_school = metrics.coverage_by_school(p.schools, p.signature_by_school)
    # The schools of the levels with data (Tiểu học, THPT, multi-level), each once.
    assert by_school["school_code"].tolist() == [
        "01020301", "01040401", "01040402", "01060601", "01060602"
    ]  # fmt: skip
    assert by_school.set_index("school_code").loc["01060601", "n_staff"] == 7


def test_unsplit_row_duplicate_level_and_levels_nowhere(district_b):
    result, p = district_b
    q = result.quarantine.set_index("source_row")["reason"].to_dict()
    assert q == {6: "duplicate_school", 7: "bad_level"}
    s = p.schools.set_index("school_code")
    assert len(s) == 5
    assert (s.loc["01060603", "level"], s.loc["01060603", "levels"]) == (MULTI, "Tiểu học; THCS")
    assert s.loc["01080801", "school_name"] == "Trường Tiểu học Bình Minh"  # the first row's
    assert result.quality["repairs"]["multi_level_unsplit"] == 1
    names = [w for w in result.quality["warnings"] if w["code"] == "multi_level_name_differs"]
    assert [w["row"] for w in names] == [9] and "Ánh Sao" in names[0]["message"]
    warn = [w for w in result.quality["warnings"] if w["code"] == "multi_level_unsplit"]
    assert len(warn) == 1 and "không tách theo cấp" in warn[0]["message"]
    t = metrics.scale_by_level(p.schools, p.school_levels)
    assert _rows(t, ["n_schools", "n_classes", "n_pupils"]) == {
        MN: (0, 0, 0),
        TH: (1, 12 + 5, 420 + 100),  # Ái Mộ + Bình Minh's primary row
        THCS: (0, 4, 90),
        THPT: (1, 30, 1200),
        GDTX: (1, 6, 150),
        MULTI: (2, 14, 500),  # Ngọc Lâm (not split) + Bình Minh (split)
        vocab.TOTAL: (5, 71, 2460),
    }
    # "TH&THCS Ngọc Lâm" in the counts matched the multi-level school.
    sbs = p.signature_by_school.set_index("school_code")
    assert sbs.loc["01060603", "n_staff"] == 10 and sbs.loc["01060603", "level"] == MULTI
    cov = metrics.coverage_by_level(p.schools, p.signature_by_school, p.staff)
    assert _rows(cov, ["n_schools", "n_schools_reporting", "n_staff", "n_signed"]) == {
        MN: (0, 0, 0, 0),
        TH: (3, 0, 0, 0),
        THCS: (2, 0, 0, 0),
        THPT: (1, 1, 20, 5),
        GDTX: (1, 0, 0, 0),
        MULTI: (2, 1, 10, 7),  # counts only: the school's levels jointly
        vocab.TOTAL: (5, 2, 30, 12),
    }


def test_levels_absent_from_the_data_not_shown():
    schools = pd.DataFrame(
        {
            "school_code": ["1", "2"],
            "school_name": ["Trường TH A", "Trường THCS B"],
            "level": [TH, THCS],
            "n_classes": [3, 4],
            "n_pupils": [90, 120],
            "n_pupils_with_id": pd.array([None, None], dtype="Int64"),
            "n_pupils_verified": pd.array([None, None], dtype="Int64"),
        }
    )
    t = metrics.scale_by_level(schools)
    assert t["level"].tolist() == [MN, TH, THCS, vocab.TOTAL]  # no THPT, GDTX, multi rows


def test_report_workbook_figure_and_headline_follow_the_levels(district_a, tmp_path):
    from datetime import date

    import openpyxl as opx

    from analysis import figures, report
    from analysis.report import xlsx as report_xlsx

    _, p = district_a
    scale = metrics.scale_by_level(p.schools, p.school_levels)
    cov = metrics.coverage_by_level(p.schools, p.signature_by_school, p.staff)
    tables = {"scale_by_level": scale, "coverage_by_level": cov}
    rows, total = report.context._scale(tables, [])
    assert [r["level"] for r in rows] == [MN, TH, THCS, THPT, GDTX, MULTI]
    assert (rows[-1]["n_schools"], total["n_schools"]) == ("2", "8")
    path = report_xlsx.write_xlsx(tables, {}, None, tmp_path / "b.xlsx", date(2024, 10, 15), False)
    ws = opx.load_workbook(path)["Quy mô"]
    col_a = [c.value for c in ws["A"]]
    start = col_a.index(MN)
    assert col_a[start : start + 7] == [MN, TH, THCS, THPT, GDTX, MULTI, vocab.TOTAL]
    fig = figures.scale_by_level(scale)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [MN, TH, THCS, THPT, GDTX, "Nhiều cấp"]
    head = metrics.headline(tables)
    assert (head["schools_thpt"], head["schools_nhieu_cap"], head["staff_th"]) == (2, 2, 6)


def test_scale_by_district_multi_level_once_shares_under_levels(district_a):
    _, p = district_a
    lb = {"01060601", "01060602", "01020301"}  # Đoàn Kết, Hồng Hà, Sao Mai
    schools = p.schools.assign(
        district=["Long Biên" if c in lb else "Gia Lâm" for c in p.schools["school_code"]]
    )
    t = metrics.scale_by_district(schools, p.school_levels)
    got = {
        (r["district"], r["level"]): (int(r["n_schools"]), int(r["n_classes"]), int(r["n_pupils"]))
        for r in t.to_dict("records")
    }
    assert got[("Long Biên", TH)] == (1, 20 + 10, 700 + 350)
    assert got[("Long Biên", THCS)] == (0, 8, 300)
    assert got[("Long Biên", THPT)] == (0, 0, 0)  # Hồng Hà did not split its counts
    assert got[("Long Biên", MULTI)] == (2, 30, 1000)
    assert got[("Long Biên", vocab.TOTAL)] == (3, 20 + 18 + 30, 700 + 650 + 1000)
    assert got[("Gia Lâm", MULTI)] == (0, 0, 0)
    assert got[(vocab.TOTAL, vocab.TOTAL)] == (8, 181, 6950)
    assert got[(vocab.TOTAL, TH)] == (1, 30, 1050)


def test_records_of_a_multi_level_school_by_grade(district_a):
    _, p = district_a
    rec = p.records[p.records["school_code"] == "01060601"].sort_values("class_name")
    assert dict(zip(rec["class_name"], rec["level"], strict=True)) == {
        "1A": TH, "6A": THCS, "CLB": MULTI
    }  # fmt: skip
    t = metrics.records_by_level(p.records)
    got = _rows(t, ["n_records", "n_signed_teacher"])
    assert got[TH] == (30 + 30, 20 + 10) and got[THCS] == (35, 35) and got[MULTI] == (10, 5)
    assert got[vocab.TOTAL] == (105, 70)
    # per school: the multi-level school's classes on one row, under its own level
    per_school = metrics.records_by_school(p.schools, p.records)
    row = per_school[per_school["school_code"] == "01060601"]
    assert len(row) == 1 and row["level"].iat[0] == MULTI
    assert (
        (int(row["n_records"].iat[0]), int(row["n_signed_teacher"].iat[0]))
        == (int(rec["n_pupils"].sum()), int(rec["n_signed_teacher"].sum()))
        == (30 + 35 + 10, 60)
    )


def test_history_by_staff_level_and_change_per_school(tmp_path):
    raw = tmp_path / "raw"
    _write_a(raw)
    p0 = "2024-09-15"
    (raw / p0).mkdir()
    lines = ["Mã định danh,Họ và tên,Chức vụ,Mã trường,Cấp học,Chữ ký số"]
    for sid, code, level, st in [
        ("7900000001", "01060601", "Tiểu học", "Đã cấp"),
        ("7900000002", "01060601", "Tiểu học", "Đã cấp"),
        ("7900000003", "01060601", "Tiểu học", "Chưa cấp"),
        ("7900000005", "01060601", "THCS", "Chưa cấp"),
        ("7900000008", "01020301", "", "Chưa cấp"),
    ]:
        lines.append(f"{sid},Người Giả,Giáo viên,{code},{level},{st}")
    (raw / p0 / "CBGVNV.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    clean.clean_period(P, raw, tmp_path / "processed", key=KEY)
    p = metrics.load_processed(tmp_path / "processed" / P)
    hist = metrics.coverage_history(p.history)
    got = {(r["period"], r["level"]): (int(r["n_staff"]), int(r["n_signed"])) for r in
           hist.to_dict("records")}  # fmt: skip
    assert got[(p0, TH)] == (3 + 1, 2) and got[(p0, THCS)] == (1, 0)
    assert (p0, MULTI) not in got and got[(p0, vocab.TOTAL)] == (5, 2)
    # This period: the same rule as coverage_by_level.
    assert got[(P, TH)] == (6, 4) and got[(P, THCS)] == (2, 1) and got[(P, MULTI)] == (1, 1)
    assert got[(P, vocab.TOTAL)] == (12, 8)
    change = metrics.coverage_change(p.history, P, p.schools).set_index("school_code")
    assert change.index.is_unique
    dk = change.loc["01060601"]
    assert dk["level"] == MULTI
    assert (dk["n_staff_prev"], dk["n_signed_prev"], dk["n_staff"], dk["n_signed"]) == (4, 2, 7, 5)
    per_school = metrics.coverage_school_history(p.history, p.schools)
    assert len(per_school[per_school["school_code"] == "01060601"]) == 2  # one row a period
