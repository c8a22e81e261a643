"""Files nobody on the team made, as a new user would bring them (review of issue 12).

Each test writes a small raw period of an invented district (Xã Đồi Thông) into ``tmp_path``
and cleans it with ``clean.clean_period``; the expected figures are counted by hand in the
comments. Every name and phone number is invented.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd

from analysis import clean

KEY = b"test-key-review-hostile"
PERIOD = "2025-05-09"

SCHOOL_HEADER = ["STT", "Mã trường", "Tên trường", "Cấp học", "Loại hình", "Số lớp", "Số học sinh"]
SCHOOLS = [
    [1, "01020101", "Trường Tiểu học Phù Sa", "Tiểu học", "Công lập", 20, 700],
    [2, "01020102", "Trường Tiểu học Ngọc Trai", "Tiểu học", "Công lập", 15, 540],
    [3, "01030101", "Trường THCS Phù Sa", "THCS", "Công lập", 18, 690],
]


def _period(tmp_path: Path) -> Path:
    folder = tmp_path / "raw" / PERIOD
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(SCHOOL_HEADER)
    for row in SCHOOLS:
        ws.append(row)
    wb.save(folder / "DanhSachTruong.xlsx")
    return folder


def _clean(tmp_path: Path):
    result = clean.clean_period(PERIOD, tmp_path / "raw", tmp_path / "processed", key=KEY, jobs=1)
    out = tmp_path / "processed" / PERIOD
    staff = pd.read_parquet(out / "staff.parquet")
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    with open(out / "quarantine.csv", encoding="utf-8-sig", newline="") as fh:
        quarantine = list(csv.DictReader(fh))
    return result, staff, quality, quarantine


# The school name pasted from an old TCVN3 (ABC) file, shown as mojibake: "Trường Tiểu học Ngọc
# Trai" typed in TCVN3 and read as Windows-1252 (hand-typed bytes, not the suite's encoder).
TCVN3_NGOC_TRAI = "Tr\xadêng Ti\xd3u h\xe4c Ng\xe4c Trai"


def test_a_tcvn3_column_in_a_unicode_sheet_leaves_the_unicode_columns_alone(tmp_path):
    """Only the school-name column of this UTF-8 CSV was typed in TCVN3; the statuses ``Có`` /
    ``Không``, the position ``Giáo viên`` and the header ``Ghi chú`` are ordinary Unicode (the
    status column also holds ``Đã cấp``, which no legacy text can hold). Before the fix the
    sheet-level TCVN3 decision re-decoded them (``Có`` -> ``Cú``, ``Không`` -> ``Khụng``): two
    people refused as ``bad_status`` and the school's figures wrong without an error."""
    folder = _period(tmp_path)
    lines = [
        "STT;Mã định danh;Chức vụ;Tên trường;Chữ ký số;Ghi chú",
        f"1;0200000001;Giáo viên;{TCVN3_NGOC_TRAI};Đã cấp;",
        f"2;0200000002;Giáo viên;{TCVN3_NGOC_TRAI};Không;",
        f"3;0200000003;Phó hiệu trưởng;{TCVN3_NGOC_TRAI};Có;",
        f"4;0200000004;Giáo viên;{TCVN3_NGOC_TRAI};Có;",
    ]
    raw = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    (folder / "TH_NgocTrai.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    _, staff, quality, quarantine = _clean(tmp_path)
    assert quarantine == []
    ours = staff[staff["source_file"].str.endswith("TH_NgocTrai.csv")]
    # 4 people of TH Ngọc Trai, 3 signed (rows 2, 4, 5), roles GV, GV, CBQL, GV.
    assert len(ours) == 4
    assert set(ours["school_code"]) == {"01020102"}
    assert int(ours["signed"].sum()) == 3
    assert sorted(ours["role"]) == ["CBQL", "GV", "GV", "GV"]
    (entry,) = [i for i in quality["inputs"] if i["file"].endswith("TH_NgocTrai.csv")]
    assert entry["legacy_encoding"] == "tcvn3"
    # "Ghi chú" is a known notes column (before the fix it read "Ghi chỳ", unknown).
    assert entry["unmapped_columns"] == []
    assert quality["repairs"]["tcvn3"] == 4  # the 4 school-name cells, nothing else


def test_a_numbering_row_below_a_header_merged_over_three_rows(tmp_path):
    """A header merged over rows 1-3 (``Chữ ký số`` over its sub-columns, the others merged
    down), row 3 wholly covered by the merges, and the usual ``(1) (2) ...`` row of column
    numbers on row 4. Before the fix only a numbering row directly under the header was
    recognised, so row 4 was refused as a person (``unmatched_school`` '(4)')."""
    folder = _period(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CBGVNV"
    ws.append(["STT", "Mã định danh", "Chức vụ", "Tên trường", "Chữ ký số", None])
    ws.append([None, None, None, None, "Trạng thái chữ ký số", "Nhà cung cấp"])
    ws.append([None] * 6)
    ws.append(["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"])
    ws.append([1, "0100000001", "Giáo viên", "Trường Tiểu học Phù Sa", "Đã cấp", "Viettel"])
    ws.append([2, "0100000002", "Giáo viên", "Trường Tiểu học Phù Sa", "Chưa cấp", None])
    ws.append([3, "0100000003", "Hiệu trưởng", "Trường Tiểu học Phù Sa", "Có", "VNPT"])
    for col in "ABCD":
        ws.merge_cells(f"{col}1:{col}3")
    ws.merge_cells("E1:F1")
    ws.merge_cells("E2:E3")
    ws.merge_cells("F2:F3")
    wb.save(folder / "TH_PhuSa.xlsx")
    _, staff, quality, quarantine = _clean(tmp_path)
    assert quarantine == []
    ours = staff[staff["source_file"].str.endswith("TH_PhuSa.xlsx")]
    assert len(ours) == 3 and int(ours["signed"].sum()) == 2
    assert sorted(ours["provider"].dropna()) == ["VNPT", "Viettel"]
    (entry,) = [i for i in quality["inputs"] if i["file"].endswith("TH_PhuSa.xlsx")]
    # 7 rows read: 3 kept, 4 non-data (the merged header, blank row 3, the numbering row 4).
    assert entry["rows_read"] == 7 and entry["kept"] == 3 and entry["quarantined"] == 0
    assert sum(entry["non_data"].values()) == 4 and entry["non_data"]["blank"] == 1


def test_the_same_person_with_excels_text_prefix_or_full_width_digits_is_counted_once(tmp_path):
    """One teacher of TH Phù Sa sent in three files: ``0800000001`` as typed, ``'0800000001``
    (Excel's text prefix, as web tools export it; school codes already drop it) and in full-width
    digits (an input method's). Before the fix these were three people: the school's list
    counted 3 staff / 3 signed instead of 1 / 1, without a word."""
    folder = _period(tmp_path)
    header = "Mã định danh,Chức vụ,Tên trường,Chữ ký số\r\n"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "0800000001")  # "０８０…"
    ids = {"a.csv": "0800000001", "b.csv": "'0800000001", "c.csv": full_width}
    for name, sid in ids.items():
        row = f"{sid},Giáo viên,Trường Tiểu học Phù Sa,Có\r\n"
        (folder / name).write_bytes((header + row).encode("utf-8"))
    _, staff, quality, quarantine = _clean(tmp_path)
    assert quarantine == []
    assert len(staff) == 1 and staff["source_file"].tolist() == [f"{PERIOD}/a.csv"]
    dups = quality["duplicates"]
    assert dups["persons_with_duplicates"] == 1 and dups["rows_removed"] == 2
    assert dups["by_rule"] == {"identical": 2}


def test_the_icelandic_eth_typed_for_d_with_stroke_is_read_as_d_with_stroke(tmp_path):
    """``Ð``/``ð`` (U+00D0/U+00F0, Latin eth) look exactly like ``Đ``/``đ`` (U+0110/U+0111)
    and come from text that went through Windows-1252 (a Windows-1258 ``Đ`` is byte 0xD0) or
    from some keyboards. Vietnamese has no eth. Before the fix the header ``Mã ðịnh danh`` was
    not recognised (the sheet stopped the run), ``Trường Tiểu học Ðoàn Kết`` matched no school
    and ``Ðã cấp`` was refused as ``bad_status``."""
    folder = _period(tmp_path)
    wb = openpyxl.load_workbook(folder / "DanhSachTruong.xlsx")
    wb.active.append([4, "01020103", "Trường Tiểu học Đoàn Kết", "Tiểu học", "Công lập", 9, 300])
    wb.save(folder / "DanhSachTruong.xlsx")
    lines = [
        "Mã ðịnh danh,Chức vụ,Tên trường,Chữ ký số",
        "0300000001,Giáo viên,Trường Tiểu học Ðoàn Kết,Ðã cấp",
        "0300000002,Giáo viên,TH ÐOÀN KẾT,Chưa cấp",
        "0300000003,Hiệu trưởng,Trường Tiểu học Đoàn Kết,Ðã có",
    ]
    (folder / "DoanKet.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    _, staff, quality, quarantine = _clean(tmp_path)
    assert quarantine == []
    ours = staff[staff["source_file"].str.endswith("DoanKet.csv")]
    assert len(ours) == 3 and set(ours["school_code"]) == {"01020103"}
    assert int(ours["signed"].sum()) == 2


def test_group_headings_inside_the_data_are_not_rows(tmp_path):
    """School lists and staff lists grouped by level or role: ``I`` / ``MẦM NON``, ``II.`` /
    ``TIỂU HỌC``, ``III. TRUNG HỌC CƠ SỞ`` over the whole row, with ``Cộng ...`` subtotals and a
    ``Tổng cộng``; a staff list ``I. CÁN BỘ QUẢN LÝ`` / ``II. GIÁO VIÊN``. Before the fix each
    heading was refused as a school without a code (``missing_code``) or a person without an id
    (``missing_id``): 5 rows in quarantine.csv that nobody can correct."""
    folder = tmp_path / "raw" / PERIOD
    folder.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(SCHOOL_HEADER)
    ws.append(["I", None, "MẦM NON", None, None, None, None])
    ws.append([1, "01010101", "Trường Mầm non Cúc Vàng", "MN", "Tư thục", 6, 180])
    ws.append([None, None, "Cộng Mầm non", None, None, 6, 180])
    ws.append(["II.", None, "TIỂU HỌC", None, None, None, None])
    ws.append([2, "01020101", "Trường Tiểu học Phù Sa", "TH", "Công lập", 20, 700])
    ws.append([3, "01020102", "Trường Tiểu học Ngọc Trai", "TH", "Công lập", 15, 540])
    ws.append([None, None, "Cộng Tiểu học", None, None, 35, 1240])
    ws.append(["III. TRUNG HỌC CƠ SỞ"])
    ws.merge_cells("A10:G10")
    ws.append([4, "01030101", "Trường THCS Phù Sa", "THCS", "Công lập", 18, 690])
    ws.append([None, None, "Tổng cộng", None, None, 59, 2110])
    wb.save(folder / "DanhSachTruong.xlsx")
    lines = [
        "STT,Mã định danh,Chức vụ,Tên trường,Chữ ký số",
        "I. CÁN BỘ QUẢN LÝ,,,,",
        "1,0100000001,Hiệu trưởng,Trường Tiểu học Phù Sa,Có",
        "II. GIÁO VIÊN,,,,",
        "2,0100000002,Giáo viên,Trường Tiểu học Phù Sa,Chưa cấp",
        "3,0100000003,Giáo viên,Trường Tiểu học Phù Sa,Có",
    ]
    (folder / "TH_PhuSa.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    _, staff, quality, quarantine = _clean(tmp_path)
    assert quarantine == []
    schools = pd.read_parquet(tmp_path / "processed" / PERIOD / "schools.parquet")
    assert sorted(schools["school_code"]) == ["01010101", "01020101", "01020102", "01030101"]
    assert int(schools["n_pupils"].sum()) == 2110
    assert len(staff) == 3 and int(staff["signed"].sum()) == 2
    by_file = {i["file"].rsplit("/", 1)[-1]: i for i in quality["inputs"]}
    # 12 rows: header, 3 headings (title), 4 schools, 3 totals.
    school_list = by_file["DanhSachTruong.xlsx"]
    assert (school_list["rows_read"], school_list["kept"]) == (12, 4)
    assert school_list["non_data"]["title"] == 3 and school_list["non_data"]["total"] == 3
    staff_list = by_file["TH_PhuSa.csv"]
    assert (staff_list["rows_read"], staff_list["kept"], staff_list["non_data"]["title"]) == (
        6,
        3,
        2,
    )
    assert all(c["ok"] for c in quality["total_checks"])


def test_a_short_row_with_a_status_x_is_still_a_row(tmp_path):
    """The heading rule must not swallow a broken person row: ``X`` (signed) beside a position
    (no id, no school) or an id beside ``X`` stay data rows and are refused with a reason."""
    folder = _period(tmp_path)
    lines = [
        "STT,Chữ ký số,Chức vụ,Mã định danh,Tên trường",
        "1,Có,Giáo viên,0100000001,Trường Tiểu học Phù Sa",
        ",X,Giáo viên,,",
        ",X,,0100000009,",
    ]
    (folder / "TH_PhuSa.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    _, staff, quality, quarantine = _clean(tmp_path)
    assert len(staff) == 1
    assert sorted(int(r["source_row"]) for r in quarantine) == [3, 4]


REVIEW_FIXTURES = Path(__file__).resolve().parents[1] / "hostile" / "review"


def test_libreoffice_xls_with_merged_header_hidden_column_and_catalogue_sheet(tmp_path):
    """BIFF8 files LibreOffice made (committed; see tests/hostile/review/README.md)."""
    import shutil

    folder = tmp_path / "raw" / PERIOD
    folder.mkdir(parents=True)
    for name in ("DanhSachTruong_gop_o_an_cot.xls", "HaTang_tu_html.xls"):
        shutil.copy(REVIEW_FIXTURES / name, folder / name)
    clean.clean_period(PERIOD, tmp_path / "raw", tmp_path / "processed", key=KEY, jobs=1)
    out = tmp_path / "processed" / PERIOD
    schools = pd.read_parquet(out / "schools.parquet").set_index("school_code")
    assert sorted(schools.index) == ["01010101", "01020101", "01020102", "01030101", "01030102"]
    assert int(schools["n_classes"].sum()) == 71 and int(schools["n_pupils"].sum()) == 2987
    assert int(schools.loc["01020101", "n_pupils"]) == 1127
    infra = pd.read_parquet(out / "infrastructure.parquet")
    assert len(infra) == 3 and int(infra["n_fibre"].sum()) == 4
    quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    assert all(c["ok"] for c in quality["total_checks"]) and len(quality["total_checks"]) == 4
    skipped = {(s["file"].rsplit("/", 1)[-1], s["sheet"]) for s in quality["skipped_sheets"]}
    assert skipped == {
        ("DanhSachTruong_gop_o_an_cot.xls", "DanhMuc"),
        ("DanhSachTruong_gop_o_an_cot.xls", "Sheet3"),
    }
    for f in out.iterdir():
        if f.suffix == ".parquet":
            assert "0977000" not in pd.read_parquet(f).astype(str).to_csv(), f.name
        elif f.is_file():
            assert b"0977000" not in f.read_bytes(), f.name


def test_a_hidden_sheet_is_listed_not_counted(tmp_path):
    """A hidden sheet (last year's rows kept by the sender) is never counted without a word:
    it is listed in quality.json as skipped, with what to do; the visible sheet is read."""
    import openpyxl as _openpyxl

    from analysis import clean as _clean
    from analysis import ingest as _ingest

    raw = tmp_path / "raw" / "2025-03-14"
    raw.mkdir(parents=True)
    schools = _openpyxl.Workbook()
    ws = schools.active
    ws.append(["Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh"])
    ws.append(["01010001", "Trường Tiểu học Phù Sa", "Tiểu học", 10, 300])
    schools.save(raw / "DanhSachTruong.xlsx")
    wb = _openpyxl.Workbook()
    header = ["Mã định danh", "Chức vụ", "Mã trường", "Chữ ký số"]
    visible = wb.active
    visible.title = "DS"
    visible.append(header)
    visible.append(["0900000001", "Giáo viên", "01010001", "Đã cấp"])
    visible.append(["0900000002", "Giáo viên", "01010001", "Chưa cấp"])
    hidden = wb.create_sheet("Mau_nam_truoc")
    hidden.append(header)
    hidden.append(["0900000299", "Giáo viên", "01010001", "Đã cấp"])
    hidden.sheet_state = "hidden"
    wb.save(raw / "CBGVNV.xlsx")
    r = _clean.clean_period(
        "2025-03-14", tmp_path / "raw", tmp_path / "proc", key=b"k" * 16, jobs=1
    )
    assert len(r.tables["staff"]) == 2
    (skipped,) = [s for s in r.quality["skipped_sheets"] if s["sheet"] == "Mau_nam_truoc"]
    assert skipped["reason"] == _ingest.HIDDEN_SHEET_REASON
    assert [i["sheet"] for i in r.quality["inputs"] if i["kind"] == "cbgvnv"] == ["DS"]


def test_two_columns_with_one_header_are_said(tmp_path):
    """Two "Chữ ký số" columns (a hidden old one beside the new one): one is read, and a
    warning names both columns, never silent."""
    from analysis import clean as _clean

    raw = tmp_path / "raw" / "2025-03-14"
    raw.mkdir(parents=True)
    (raw / "truong.csv").write_bytes(
        "Mã trường,Tên trường,Cấp học,Số lớp,Số học sinh\n"
        "01010001,Trường Tiểu học Phù Sa,Tiểu học,10,300\n".encode()
    )
    (raw / "cbgvnv.csv").write_bytes(
        "Mã định danh,Chức vụ,Mã trường,Chữ ký số,Ghi chú,Chữ ký số\n"
        "0900000001,Giáo viên,01010001,Chưa cấp,,Đã cấp\n".encode()
    )
    r = _clean.clean_period(
        "2025-03-14", tmp_path / "raw", tmp_path / "proc", key=b"k" * 16, jobs=1
    )
    (w,) = [w for w in r.quality["warnings"] if w["code"] == "duplicate_column"]
    assert "cột D" in w["message"] and "cột F" in w["message"] and w["row"] == 1
    assert w["file"] == "2025-03-14/cbgvnv.csv"
