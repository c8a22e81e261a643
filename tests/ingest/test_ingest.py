"""Reading raw exports: real messy files written with xlsxwriter/openpyxl/csv and read back."""

from __future__ import annotations

import csv
import io
import os
import time
import unicodedata
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from analysis import ingest, paths
from analysis.core.legacy import encode_tcvn3, encode_vni
from analysis.ingest import IngestError, PeriodInput, RawTable, SkippedSheet
from analysis.ingest import contract as kinds

PERSONAL = {"full_name", "birth_date", "id_number", "phone", "email"}

STAFF = [
    # staff_id, name, birth, cccd, position, school_code, school_name, sig, provider, issued,
    # expires, status
    (
        "CB0001",
        "Nguyễn Văn An",
        "01/02/1980",
        "001080000001",
        "Hiệu trưởng",
        "01234",
        "Trường Tiểu học Ái Mộ A",
        "Đã cấp",
        "Viettel",
        "05/04/2024",
        "05/04/2027",
        "Đang làm việc",
    ),
    (
        "CB0002",
        "Trần Thị Bình",
        "03/04/1985",
        "001185000002",
        "Giáo viên",
        "01234",
        "Trường Tiểu học Ái Mộ A",
        "Chưa cấp",
        "",
        "",
        "",
        "Đang làm việc",
    ),
    (
        "CB0003",
        "Lê Hoàng Cường",
        "05/06/1990",
        "001090000003",
        "Nhân viên",
        1234,
        "Trường Tiểu học Ái Mộ A",
        "Đã có",
        "VNPT",
        "10/01/2024",
        "10/01/2026",
        "Nghỉ hưu",
    ),
    (
        "CB0004",
        "Phạm Thu Dung",
        "07/08/1992",
        "001192000004",
        "Giáo viên",
        "00567",
        "Trường Mầm non Hoa Sữa",
        "x",
        "FPT",
        "",
        "",
        "",
    ),
    (
        "CB0005",
        "Đỗ Minh Đức",
        "09/10/1979",
        "001079000005",
        "Phó hiệu trưởng",
        "00567",
        "Trường Mầm non Hoa Sữa",
        "Đang chờ",
        "",
        "",
        "",
        "Đang làm việc",
    ),
]


def _write_staff_workbook(path: Path) -> dict:
    """A report-style staff list: title rows, a 2-row merged header, a row of column numbers,
    a hidden column, a blank row inside the data, a total row, a footer, and a lookup sheet.

    Returns the Excel row numbers of what was written."""
    wb = xlsxwriter.Workbook(path)
    bold = wb.add_format({"bold": True})
    text_fmt = wb.add_format({"num_format": "@"})
    ws = wb.add_worksheet("DS CBGVNV")
    ws.write("A1", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO QUẬN LONG BIÊN", bold)
    ws.merge_range("A2:N2", "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN VÀ CHỮ KÝ SỐ", bold)
    ws.write("A3", "Số liệu tính đến ngày 19/04/2024")
    # row 4 blank; header rows 5-6 (0-based 4-5)
    singles = [
        "STT",
        "Mã định danh",
        "Họ và tên",
        "Ngày sinh",
        "Số CCCD",
        "Chức vụ",
        "Mã trường",
        "Tên trường",
    ]
    for j, h in enumerate(singles):
        ws.merge_range(4, j, 5, j, h, bold)
    ws.merge_range(4, 8, 4, 11, "Chữ ký số", bold)
    for j, h in enumerate(["Trạng thái", "Nhà cung cấp", "Ngày cấp", "Ngày hết hạn"], start=8):
        ws.write(5, j, h, bold)
    ws.merge_range(4, 12, 5, 12, "Trạng thái", bold)
    ws.merge_range(4, 13, 5, 13, "Ghi chú nội bộ", bold)
    ws.set_column(13, 13, None, None, {"hidden": True})
    # row 7: column numbers
    for j in range(14):
        ws.write(6, j, f"({j + 1})")
    data_rows = []
    r = 7  # 0-based -> Excel row 8
    for i, row in enumerate(STAFF):
        if i == 3:
            r += 1  # a blank row inside the data (Excel row 11)
        ws.write_number(r, 0, i + 1)
        for j, v in enumerate(row):
            col = j + 1
            if isinstance(v, int):
                ws.write_number(r, col, v)
            else:
                ws.write_string(r, col, v, text_fmt)
        ws.write_string(r, 13, "ghi chú ẩn")
        data_rows.append(r + 1)
        r += 1
    total_row = r + 1
    ws.write(r, 1, "Tổng cộng")
    ws.write_number(r, 8, 3)
    r += 2  # blank row before the footer
    footer_rows = []
    ws.write(r, 9, "Long Biên, ngày 19 tháng 4 năm 2024")
    footer_rows.append(r + 1)
    r += 1
    ws.write(r, 2, "Người lập biểu")
    ws.write(r, 9, "Thủ trưởng đơn vị")
    footer_rows.append(r + 1)
    r += 1
    ws.write(r, 2, "(Ký, ghi rõ họ tên)")
    footer_rows.append(r + 1)
    r += 3
    ws.write(r, 2, "Nguyễn Thị Lập")
    ws.write(r, 9, "Nguyễn Văn An")
    footer_rows.append(r + 1)
    last_row = r + 1
    lookup = wb.add_worksheet("DanhMuc")
    lookup.write_row(0, 0, ["Giá trị", "Ý nghĩa"])
    lookup.write_row(1, 0, ["Đã cấp", "Đã có chữ ký số"])
    lookup.write_row(2, 0, ["Chưa cấp", "Chưa có chữ ký số"])
    wb.close()
    return {
        "data_rows": data_rows,
        "total_row": total_row,
        "footer_rows": footer_rows,
        "rows_read": last_row,
        "blank_rows": [4, 11, total_row + 1, footer_rows[-1] - 2, footer_rows[-1] - 1],
    }


@pytest.fixture()
def staff_xlsx(tmp_path: Path) -> tuple[Path, Path, dict]:
    root = tmp_path / "raw"
    folder = root / "2024-04-19"
    folder.mkdir(parents=True)
    path = folder / "ds_cbgvnv.xlsx"
    layout = _write_staff_workbook(path)
    return root, path, layout


def test_staff_workbook_kind_mapping_and_personal_columns(staff_xlsx):
    root, path, layout = staff_xlsx
    items = ingest.read_file(path, root)
    assert [type(i).__name__ for i in items] == ["RawTable", "SkippedSheet"]
    table, skipped = items
    assert table.kind == "cbgvnv"
    assert table.file == "2024-04-19/ds_cbgvnv.xlsx"
    assert table.sheet == "DS CBGVNV"
    assert table.folder == "2024-04-19"
    assert table.encoding is None
    assert table.header_rows == [5, 6]
    assert list(table.data.columns) == [
        "staff_id",
        "position",
        "school_code",
        "school_name",
        "signature_status",
        "provider",
        "issued_on",
        "expires_on",
        "employment_status",
    ]
    assert not PERSONAL & set(table.data.columns)
    assert not PERSONAL & set(table.totals.columns)
    assert table.personal_columns_dropped == ["Họ và tên", "Ngày sinh", "Số CCCD"]
    assert table.unmapped_columns == ["Ghi chú nội bộ"]
    # "Trạng thái" under "Chữ ký số" is the signature status, the plain one the staff status.
    assert table.columns["signature_status"] == "Chữ ký số Trạng thái"
    assert table.columns["employment_status"] == "Trạng thái"
    assert table.data["signature_status"].tolist() == [r[7] for r in STAFF]
    assert table.data["employment_status"].tolist() == [r[11] for r in STAFF]
    assert skipped.sheet == "DanhMuc" and "không khớp" in skipped.reason
    assert skipped.headers_seen == ["Giá trị", "Ý nghĩa"]
    # No personal value anywhere in what ingest returns.
    dump = table.data.to_csv() + table.totals.to_csv()
    for row in STAFF:
        assert row[1] not in dump and row[2] not in dump and row[3] not in dump


def test_staff_workbook_rows_classes_and_source_rows(staff_xlsx):
    root, path, layout = staff_xlsx
    table = ingest.read_file(path, root)[0]
    assert table.rows_read == layout["rows_read"]
    assert sum(table.row_classes.values()) == table.rows_read
    assert table.row_classes == {
        "data": 5,
        "title": 3,
        "header": 3,  # two header rows + the row of column numbers
        "blank": len(layout["blank_rows"]),
        "footer": len(layout["footer_rows"]),
        "total": 1,
    }
    assert table.data.index.tolist() == layout["data_rows"]
    assert table.data.index.name == "source_row"
    assert table.totals.index.tolist() == [layout["total_row"]]
    # Source rows are the rows Excel shows: read the same cells back with openpyxl.
    ws = openpyxl.load_workbook(path)["DS CBGVNV"]
    for source_row, staff_id in table.data["staff_id"].items():
        assert ws.cell(row=source_row, column=2).value == staff_id
    assert ws.cell(row=layout["total_row"], column=2).value == "Tổng cộng"


def test_codes_keep_leading_zeros_as_text_and_numbers_as_read(staff_xlsx):
    root, path, _ = staff_xlsx
    data = ingest.read_file(path, root)[0].data
    codes = data["school_code"].tolist()
    assert codes[0] == "01234" and codes[3] == "00567"
    assert codes[2] == 1234 and isinstance(codes[2], float)  # a number cell, padded later
    assert data["provider"].tolist()[1] == ""  # empty cell stays an empty string


def _cp1258(value: str) -> bytes:
    """Encode Vietnamese as Windows-1258 does: precomposed where the code page has the letter,
    else the base letter (with its shape mark) + a combining tone mark."""
    out = []
    for ch in unicodedata.normalize("NFC", value):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize(
                "NFC", "".join(c for c in decomposed if c not in "\u0300\u0301\u0303\u0309\u0323")
            )
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


TONGHOP_ROWS = [
    ("001", "Trường Mầm non Hoa Sữa", "45", "30", "66,7"),
    ("002", "Trường Tiểu học Ái Mộ A", "60", "60", "100"),
    ("013", "Trường THCS Thượng Thanh", "1.127", "786", "69,8%"),
]


def _tonghop_lines() -> list[list[str]]:
    return [
        ["TỔNG HỢP CHỮ KÝ SỐ CBGVNV"],
        [],
        ["STT", "Mã trường", "Tên trường", "Tổng số CBGVNV", "Số đã có chữ ký số", "Tỷ lệ (%)"],
        *[[str(i + 1), *r] for i, r in enumerate(TONGHOP_ROWS)],
        ["", "", "Tổng cộng", "1.232", "876", ""],
    ]


def _write_csv(path: Path, encoding: str, delim: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\r\n").writerows(_tonghop_lines())
    content = buf.getvalue()
    if encoding == "cp1258":
        path.write_bytes(b"\r\n".join(_cp1258(line) for line in content.split("\r\n")))
    elif encoding == "utf-16":
        path.write_bytes(content.encode("utf-16"))  # BOM + little endian, like Excel
    else:
        path.write_bytes(content.encode(encoding))


@pytest.mark.parametrize(
    ("encoding", "delim", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ";", "utf-8-sig"),
        ("utf-16", "\t", "utf-16"),
        ("cp1258", ";", "cp1258"),
    ],
)
def test_csv_encodings_and_delimiters(tmp_path, encoding, delim, expected):
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    path = folder / "tonghop.csv"
    _write_csv(path, encoding, delim)
    if encoding == "cp1258":  # the file really is not UTF-8
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    (table,) = ingest.read_file(path, tmp_path)
    assert table.kind == "tonghop_cks"
    assert table.sheet == ""
    assert table.encoding == expected
    assert list(table.data.columns) == [
        "school_code",
        "school_name",
        "n_staff",
        "n_signed",
        "rate_reported",
    ]
    assert table.data["school_code"].tolist() == ["001", "002", "013"]
    assert table.data["school_name"].tolist() == [r[1] for r in TONGHOP_ROWS]
    assert all(unicodedata.is_normalized("NFC", v) for v in table.data["school_name"])
    assert table.data["n_staff"].tolist() == ["45", "60", "1.127"]
    assert table.data["rate_reported"].tolist() == ["66,7", "100", "69,8%"]
    assert table.data.index.tolist() == [4, 5, 6]  # line numbers as a text editor shows
    assert table.totals.index.tolist() == [7]
    assert table.totals["n_staff"].tolist() == ["1.232"]
    assert table.row_classes == {
        "data": 3,
        "title": 1,
        "header": 1,
        "blank": 1,
        "footer": 0,
        "total": 1,
    }
    assert table.rows_read == 7
    # cp1258 decoding gives combining tone marks: ingest normalises to NFC, not counted as a
    # cell repair (the file's encoding, not the cell, was decomposed)
    assert table.repairs["tcvn3"] == table.repairs["vni"] == 0


def _write_plain_xlsx(path: Path, sheets: dict[str, list[list[object]]], hidden=()) -> None:
    wb = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, v)
        for j in hidden:
            ws.set_column(j, j, None, None, {"hidden": True})
    wb.close()


TRUONG_HEADER = [
    "STT",
    "Mã trường",
    "Tên trường",
    "Cấp học",
    "Loại hình",
    "Phường",
    "Số lớp",
    "Số HS",
]
TRUONG_ROWS = [
    [1, "001", "Trường Mầm non Hoa Sữa", "Mầm non", "Công lập", "Bồ Đề", "12", "350"],
    [2, "002", "Trường Tiểu học Ái Mộ A", "Tiểu học", "Công lập", "Bồ Đề", 30, 1127],
    [3, "013", "Trường THCS Thượng Thanh", "THCS", "Công lập", "Thượng Thanh", "24", "1.002"],
]


def test_tcvn3_sheet_is_detected_and_repaired_before_classifying(tmp_path):
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    path = folder / "truong_abc.xlsx"
    enc = [[encode_tcvn3(v) if isinstance(v, str) else v for v in r] for r in TRUONG_ROWS]
    header = [encode_tcvn3(h) for h in TRUONG_HEADER]
    assert header[2] != "Tên trường"  # the header itself is mojibake
    _write_plain_xlsx(path, {"Truong": [[encode_tcvn3("DANH SÁCH TRƯỜNG")], header, *enc]})
    (table,) = ingest.read_file(path, tmp_path)
    assert table.kind == "truong"
    assert table.legacy_encoding == "tcvn3"
    assert table.data["school_name"].tolist() == [r[2] for r in TRUONG_ROWS]
    assert table.data["ward"].tolist() == ["Bồ Đề", "Bồ Đề", "Thượng Thanh"]
    # every non-ASCII text cell of the kept columns was repaired
    n_legacy_cells = sum(
        1 for r in TRUONG_ROWS for j in (2, 3, 4, 5) if isinstance(r[j], str) and not r[j].isascii()
    )
    assert table.repairs["tcvn3"] == n_legacy_cells
    assert table.data["n_classes"].tolist() == ["12", 30, "24"]  # numbers stored as text stay


def test_vni_csv_is_repaired(tmp_path):
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    lines = [[encode_vni(c) for c in r] for r in _tonghop_lines()]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    (folder / "vni.csv").write_text(buf.getvalue(), encoding="utf-8")
    (table,) = ingest.read_file(folder / "vni.csv", tmp_path)
    assert table.kind == "tonghop_cks"
    assert table.legacy_encoding == "vni"
    assert table.data["school_name"].tolist() == [r[1] for r in TONGHOP_ROWS]
    assert table.repairs["vni"] == 4  # 3 school names + "Tổng cộng" of the total row


def test_nfd_and_whitespace_cells_are_normalised_and_counted(tmp_path):
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    rows = [list(r) for r in TRUONG_ROWS]
    rows[0][2] = unicodedata.normalize("NFD", rows[0][2])
    rows[1][5] = unicodedata.normalize("NFD", "Bồ Đề")
    rows[2][2] = "  Trường THCS\u00a0Thượng   Thanh "
    header = [unicodedata.normalize("NFD", h) for h in TRUONG_HEADER]
    header[6] = "Số\nlớp"
    _write_plain_xlsx(folder / "nfd.xlsx", {"Sheet1": [header, *rows]})
    (table,) = ingest.read_file(folder / "nfd.xlsx", tmp_path)
    assert table.kind == "truong"
    assert table.data["school_name"].tolist() == [r[2] for r in TRUONG_ROWS]
    assert table.data["ward"].tolist()[1] == "Bồ Đề"
    assert table.repairs["nfd"] == 2
    assert table.repairs["whitespace"] == 1
    assert table.columns["n_classes"] == "Số lớp"


def test_three_row_header_and_hidden_column(tmp_path):
    folder = tmp_path / "2024-06-24"
    folder.mkdir()
    path = folder / "hoc_ba.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Tiến độ")
    ws.write("A1", "TIẾN ĐỘ KÝ HỌC BẠ SỐ")
    for j, h in enumerate(["STT", "Tên trường", "Khối", "Lớp", "Số học sinh"]):
        ws.merge_range(1, j, 3, j, h)
    ws.merge_range(1, 5, 1, 7, "Tiến độ ký")
    ws.merge_range(2, 5, 2, 6, "Số học bạ đã ký")
    ws.write(3, 5, "GVCN")
    ws.write(3, 6, "Hiệu trưởng")
    ws.merge_range(2, 7, 3, 7, "Ghi chú")
    ws.merge_range(1, 8, 3, 8, "Cột kỹ thuật")
    ws.set_column(8, 8, None, None, {"hidden": True})
    ws.write_row(4, 0, [1, "Trường Tiểu học Ái Mộ A", 1, "1A1", 35, 35, 30, "", "x"])
    ws.write_row(5, 0, [2, "Trường Tiểu học Ái Mộ A", 1, "1A2", 36, 20, 0, "", "y"])
    ws.write_row(6, 0, ["", "Cộng", "", "", 71, 55, 30, "", ""])
    wb.close()
    (table,) = ingest.read_file(path, tmp_path)
    assert table.kind == "hoc_ba"
    assert table.header_rows == [2, 3, 4]
    assert table.columns["n_signed_teacher"] == "Tiến độ ký Số học bạ đã ký GVCN"
    assert table.data["n_signed_principal"].tolist() == [30, 0]
    assert table.data.index.tolist() == [5, 6]
    assert table.totals.index.tolist() == [7]
    assert table.unmapped_columns == ["Cột kỹ thuật"]
    assert table.row_classes == {
        "data": 2,
        "title": 1,
        "header": 3,
        "blank": 0,
        "footer": 0,
        "total": 1,
    }


# ------------------------------------------------------------------------------------------
# Bad files


def _folder(tmp_path: Path, name: str = "2024-04-19") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_random_bytes_xlsx_is_an_error_naming_the_file(tmp_path):
    path = _folder(tmp_path) / "hong.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert err.value.file == "2024-04-19/hong.xlsx"
    assert "“2024-04-19/hong.xlsx”" in err.value.message
    assert "bị hỏng" in err.value.message and "lưu lại" in err.value.message


def test_encrypted_xlsx_is_reported_as_password_protected(tmp_path):
    path = _folder(tmp_path) / "mat_khau.xlsx"
    # An encrypted .xlsx is an OLE compound file, not a zip.
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert "mật khẩu" in err.value.message and "mat_khau.xlsx" in err.value.message


def test_empty_csv_is_an_error(tmp_path):
    path = _folder(tmp_path) / "rong.csv"
    path.write_bytes(b"")
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert err.value.file == "2024-04-19/rong.csv"
    assert "rỗng" in err.value.message


def test_html_saved_as_xls_is_read_as_a_table(tmp_path):
    # Read as the HTML table it is (tests/ingest/test_readers_hostile.py reads whole ones): this one
    # has no known header, and the message lists what its table holds.
    path = _folder(tmp_path) / "xuat_web.xls"
    path.write_text("<html><body><table><tr><td>Mã trường</td></tr></table></body></html>")
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert err.value.code == "no_kind" and "xuat_web.xls" in err.value.message
    assert "“Mã trường”" in err.value.message


def test_file_of_unknown_kind_lists_the_headers_seen(tmp_path):
    path = _folder(tmp_path) / "la.xlsx"
    _write_plain_xlsx(
        path,
        {
            "Sheet1": [["Họ tên phụ huynh", "Số điện thoại", "Địa chỉ"], ["A", "0912", "X"]],
            "Sheet2": [["Mục", "Nội dung"]],
        },
    )
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    msg = err.value.message
    assert err.value.file == "2024-04-19/la.xlsx"
    assert "trang “Sheet1”" in msg and "“Họ tên phụ huynh”" in msg and "trang “Sheet2”" in msg


def test_sheet_missing_a_required_column_is_an_error_naming_file_sheet_and_column(tmp_path):
    path = _folder(tmp_path) / "thieu_cot.xlsx"
    header = [
        "STT",
        "Mã định danh",
        "Họ và tên",
        "Ngày sinh",
        "Mã trường",
        "Chữ ký số",
        "Nhà cung cấp",
        "Ngày cấp",
        "Ngày hết hạn",
        "Trạng thái CB",
    ]
    _write_plain_xlsx(
        path,
        {
            "Tổng hợp": [["Mã trường", "Tổng số CBGVNV", "Số đã có chữ ký số"], ["001", 3, 1]],
            "DS": [["DANH SÁCH"], header, [1, "CB1", "A", "", "001", "Có", "", "", "", ""]],
        },
    )
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    msg = err.value.message
    assert err.value.file == "2024-04-19/thieu_cot.xlsx" and err.value.sheet == "DS"
    # Chữ ký số is optional since issue 15 (the CSDL export); Chức vụ is not.
    assert "trang “DS”" in msg and "“Chức vụ”" in msg and "dòng 2" in msg
    assert "“Mã định danh”" in msg  # the headers found are listed


# ------------------------------------------------------------------------------------------
# Folders and periods (carry-forward)


def _tonghop_csv(path: Path) -> None:
    _write_csv(path, "utf-8", ",")


def _staff_csv(path: Path, n: int, start: int = 0) -> None:
    lines = [["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Chữ ký số"]]
    lines += [[f"CB{start + i:05d}", f"Người {i}", "Giáo viên", "001", "Có"] for i in range(n)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    path.write_text(buf.getvalue(), encoding="utf-8")


@pytest.fixture()
def three_periods(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    a = _folder(root, "2024-01-10")
    _write_plain_xlsx(a / "truong.xlsx", {"DS trường": [TRUONG_HEADER, *TRUONG_ROWS]})
    _staff_csv(a / "cbgvnv.csv", 4)
    _tonghop_csv(a / "tonghop.csv")
    b = _folder(root, "2024-02-10")
    _staff_csv(b / "cbgvnv_1.csv", 5)
    _staff_csv(b / "cbgvnv_2.csv", 2, start=100)
    _tonghop_csv(b / "tonghop.csv")
    (b / "~$cbgvnv.xlsx").write_bytes(b"lock file, not a workbook")
    (b / ".an.csv").write_bytes(b"\x00garbage")
    (b / "ghi_chu.txt").write_text("không phải dữ liệu", encoding="utf-8")
    (b / "bao_cao.toml").write_text('title = "x"\n', encoding="utf-8")
    c = _folder(root, "2024-03-10")
    _staff_csv(c / "cbgvnv.csv", 6)
    _write_plain_xlsx(
        c / "ha_tang.xlsx",
        {
            "HT": [
                ["Mã trường", "Số đường truyền cáp quang", "Tốc độ đường truyền (Mbps)"],
                ["001", 1, 100],
            ],
            "Ghi chú": [["Nội dung"], ["Số liệu do trường tự báo cáo"]],
        },
    )
    (root / "school_aliases.csv").write_text("alias,school_code,note\n", encoding="utf-8")
    return root


def test_read_period_carry_forward_across_three_folders(three_periods):
    got = ingest.read_period(three_periods, "2024-03-10")
    assert isinstance(got, PeriodInput)
    assert got.served == {
        "truong": "2024-01-10",
        "cbgvnv": "2024-03-10",
        "tonghop_cks": "2024-02-10",
        "ha_tang": "2024-03-10",
        "hoc_ba": None,
        "ca_thue_bao": None,
        "chu_ky_so_to_chuc": None,
    }
    assert [t.file for t in got.tables_of("cbgvnv")] == ["2024-03-10/cbgvnv.csv"]
    assert len(got.tables_of("cbgvnv")[0].data) == 6
    assert [t.file for t in got.tables_of("tonghop_cks")] == ["2024-02-10/tonghop.csv"]
    assert [t.file for t in got.tables_of("truong")] == ["2024-01-10/truong.xlsx"]
    assert got.tables_of("hoc_ba") == []
    assert [(s.file, s.sheet) for s in got.skipped] == [("2024-03-10/ha_tang.xlsx", "Ghi chú")]
    assert all(t.folder == t.file.split("/")[0] for t in got.tables)


def test_read_period_between_folders_and_several_files_of_one_kind(three_periods):
    got = ingest.read_period(three_periods, "2024-02-29")
    assert got.served["cbgvnv"] == "2024-02-10"
    assert got.served["ha_tang"] is None and got.served["truong"] == "2024-01-10"
    files = [t.file for t in got.tables_of("cbgvnv")]
    assert files == ["2024-02-10/cbgvnv_1.csv", "2024-02-10/cbgvnv_2.csv"]
    assert sum(len(t.data) for t in got.tables_of("cbgvnv")) == 7


def test_read_folder_ignores_lock_dot_and_other_files(three_periods):
    skipped: list[SkippedSheet] = []
    tables = ingest.read_folder(three_periods / "2024-02-10", three_periods, skipped)
    assert sorted(t.file for t in tables) == [
        "2024-02-10/cbgvnv_1.csv",
        "2024-02-10/cbgvnv_2.csv",
        "2024-02-10/tonghop.csv",
    ]
    assert skipped == []
    assert all(isinstance(t, RawTable) for t in tables)


def test_period_without_any_file_is_an_error(three_periods, tmp_path):
    with pytest.raises(IngestError) as err:
        ingest.read_period(three_periods, "2023-12-31")
    assert "2023-12-31" in err.value.message and err.value.sheet is None
    empty = tmp_path / "empty_raw"
    _folder(empty, "2024-01-01")
    with pytest.raises(IngestError):
        ingest.read_period(empty, "2024-01-01")


def test_a_bad_file_in_the_period_stops_the_run(three_periods):
    (three_periods / "2024-03-10" / "zz_hong.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(IngestError) as err:
        ingest.read_period(three_periods, "2024-03-10")
    assert err.value.file == "2024-03-10/zz_hong.xlsx"


def test_reading_is_deterministic(three_periods):
    a = ingest.read_period(three_periods, "2024-03-10")
    b = ingest.read_period(three_periods, "2024-03-10")
    assert [t.file for t in a.tables] == [t.file for t in b.tables]
    for ta, tb in zip(a.tables, b.tables, strict=True):
        pd.testing.assert_frame_equal(ta.data, tb.data)
        assert ta.row_classes == tb.row_classes and ta.repairs == tb.repairs


# ------------------------------------------------------------------------------------------
# Size


def test_large_csv_is_read_quickly_and_vectorised(tmp_path):
    n = 200_000
    folder = _folder(tmp_path)
    ids = pd.Series([f"CB{i:07d}" for i in range(n)])
    frame = pd.DataFrame(
        {
            "STT": pd.RangeIndex(1, n + 1).astype(str),
            "Mã định danh": ids,
            "Họ và tên": "Nguyễn Văn " + ids.str[-3:],
            "Chức vụ": ["Giáo viên", "Nhân viên", "Hiệu trưởng", "Giáo viên"] * (n // 4),
            "Mã trường": ["001", "002", "013", "014"] * (n // 4),
            "Tên trường": ["Trường Tiểu học Ái Mộ A", "Trường THCS Thượng Thanh"] * (n // 2),
            "Chữ ký số": ["Đã cấp", "Chưa cấp"] * (n // 2),
            "Nhà cung cấp": ["Viettel", ""] * (n // 2),
        }
    )
    path = folder / "lon.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    t0 = time.perf_counter()
    (table,) = ingest.read_file(path, tmp_path)
    elapsed = time.perf_counter() - t0
    assert table.kind == "cbgvnv"
    assert len(table.data) == n and table.row_classes["header"] == 1
    assert table.data.index[0] == 2 and table.data.index[-1] == n + 1
    assert table.data["staff_id"].iloc[-1] == f"CB{n - 1:07d}"
    assert elapsed < 15, f"{n} rows took {elapsed:.1f} s"


# ------------------------------------------------------------------------------------------
# The sample data set


def _sample_periods() -> list[str]:
    return paths.list_periods(paths.RAW_DIR)


@pytest.mark.skipif(
    not any(ingest.list_files(paths.RAW_DIR / p) for p in _sample_periods()),
    reason="data/raw has no period folder with data files yet (run `python -m analysis sample`)",
)
def test_sample_data_set_every_file_is_classified():
    raw = paths.RAW_DIR
    for period in _sample_periods():
        if not ingest.list_files(raw / period):
            continue
        skipped: list[SkippedSheet] = []
        tables = ingest.read_folder(raw / period, raw, skipped)
        files = {p.relative_to(raw).as_posix() for p in ingest.list_files(raw / period)}
        assert files == {t.file for t in tables} | {s.file for s in skipped}
        assert {t.file for t in tables} == files, f"{period}: skipped {skipped}"
        for t in tables:
            assert sum(t.row_classes.values()) == t.rows_read
            assert t.row_classes["data"] == len(t.data) > 0
            assert not PERSONAL & set(t.data.columns)
    latest = ingest.read_period(raw, _sample_periods()[-1])
    assert all(latest.served[k] is not None for k in ("truong", "cbgvnv", "tonghop_cks"))


def test_output_types_are_documented_dataclasses():
    fields = RawTable.__dataclass_fields__
    for name in (
        "file",
        "sheet",
        "kind",
        "folder",
        "data",
        "totals",
        "row_classes",
        "rows_read",
        "repairs",
        "unmapped_columns",
        "personal_columns_dropped",
        "encoding",
    ):
        assert name in fields
    assert set(SkippedSheet.__dataclass_fields__) == {"file", "sheet", "reason", "headers_seen"}
    assert set(kinds.KINDS) == {
        "truong",
        "cbgvnv",
        "tonghop_cks",
        "ha_tang",
        "hoc_ba",
        "ca_thue_bao",
        "chu_ky_so_to_chuc",
    }


_unused = (datetime, os)
