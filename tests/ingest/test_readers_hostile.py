"""The file readers on exports nobody here wrote (issue 12): line endings, files in
sub-folders, .ods, Excel "Unicode Text", HTML saved as .xls, files that are not read, headers
too low, files whose extension lies, unknown encodings.

Every file is written here, byte by byte (or by a hand-built zip), not by the sample generator.
"""

from __future__ import annotations

import codecs
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from analysis import clean, ingest, report
from analysis.clean import history
from analysis.ingest import IngestError, RawTable
from analysis.ingest import csv as ingest_csv
from analysis.ingest import files as ingest_files
from analysis.ingest import reader as ingest_reader
from tests.clean.test_clean import KEY, P1, P2, build_raw
from tests.ingest.test_ingest import _cp1258

PERIOD = "2024-04-19"
HEADER = ["STT", "Mã trường", "Tên trường", "Tổng số CBGVNV", "Số đã có chữ ký số"]
ROWS = [
    ["1", "001", "Trường Mầm non Hoa Sữa", "45", "30"],
    ["2", "002", "Trường Tiểu học Ái Mộ A", "60", "60"],
    ["3", "013", "Trường THCS Thượng Thanh", "1.127", "786"],
]
CODES = ["001", "002", "013"]
NAMES = [r[2] for r in ROWS]


@pytest.fixture(autouse=True)
def _fresh_cache():
    ingest.clear_cache()
    yield
    ingest.clear_cache()


def _folder(root: Path, name: str = PERIOD) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _only_table(path: Path, root: Path) -> RawTable:
    items = ingest.read_file(path, root)
    tables = [i for i in items if isinstance(i, RawTable)]
    assert len(tables) == 1, items
    return tables[0]


def _csv_lines(rows: list[list[str]]) -> list[bytes]:
    def field(v: str) -> str:
        return f'"{v}"' if ("," in v or "\n" in v or "\r" in v or '"' in v) else v

    return [",".join(field(v) for v in r).encode("utf-8") for r in rows]


def _join(lines: list[bytes], ends: str) -> bytes:
    """Lines joined by CRLF, LF, CR alone, or a mix of the three."""
    if ends == "mixed":
        seps = [b"\r\n", b"\n", b"\r"]
        out = b""
        for i, line in enumerate(lines):
            out += line + seps[i % 3]
        return out
    sep = {"crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}[ends]
    return sep.join(lines) + sep


# ------------------------------------------------------------------------------------------
# 1. Line endings


def _rect_table() -> list[list[str]]:
    # Title, blank, header, data: the body under the header is rectangular (pyarrow path).
    return [["TỔNG HỢP CHỮ KÝ SỐ"], [], HEADER, *ROWS]


def _ragged_table() -> list[list[str]]:
    # A blank line inside the data and a short footer line: the pandas C engine path.
    return [["TỔNG HỢP CHỮ KÝ SỐ"], HEADER, ROWS[0], [], ROWS[1], ROWS[2], ["Người lập biểu"]]


@pytest.mark.parametrize("shape", ["rect", "ragged"])
@pytest.mark.parametrize("ends", ["crlf", "cr", "mixed"])
def test_line_endings_give_the_same_rows_and_row_numbers(tmp_path, shape, ends, monkeypatch):
    rows = _rect_table() if shape == "rect" else _ragged_table()
    lines = _csv_lines(rows)
    ref_path = _folder(tmp_path / "lf") / "tonghop.csv"
    ref_path.write_bytes(_join(lines, "lf"))
    path = _folder(tmp_path / ends) / "tonghop.csv"
    path.write_bytes(_join(lines, ends))
    fast_used = []
    real = ingest_csv._read_csv_arrow

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        fast_used.append(out is not None)
        return out

    monkeypatch.setattr(ingest_csv, "_read_csv_arrow", spy)
    ref = _only_table(ref_path, tmp_path / "lf")
    got = _only_table(path, tmp_path / ends)
    assert fast_used == ([True, True] if shape == "rect" else [False, False])
    pd.testing.assert_frame_equal(got.data, ref.data)
    assert got.data["school_code"].tolist() == CODES
    assert got.data["school_name"].tolist() == NAMES
    expected_rows = [4, 5, 6] if shape == "rect" else [3, 5, 6]
    assert got.data.index.tolist() == expected_rows
    assert got.row_classes == ref.row_classes
    assert got.header_rows == ref.header_rows


@pytest.mark.parametrize("ends", ["crlf", "lf", "cr", "mixed"])
def test_a_quoted_field_with_a_line_break_stays_one_field(tmp_path, ends):
    rows = [HEADER, ROWS[0], ["2", "002", "Trường Tiểu học\nÁi Mộ A", "60", "60"], ROWS[2]]
    lines = _csv_lines(rows)
    if ends == "crlf":  # the break inside the field as Excel writes it
        lines[2] = lines[2].replace(b"\n", b"\r\n")
    elif ends == "cr":
        lines[2] = lines[2].replace(b"\n", b"\r")
    path = _folder(tmp_path) / "tonghop.csv"
    path.write_bytes(_join(lines, ends))
    t = _only_table(path, tmp_path)
    assert t.data["school_code"].tolist() == CODES
    # The line break inside the name is cleaned to a space (text.clean_text), not a new row.
    assert t.data["school_name"].tolist() == NAMES
    assert t.data.index.tolist() == [2, 3, 4]  # records, as Excel numbers them
    assert t.data["n_staff"].tolist() == ["45", "60", "1.127"]


# ------------------------------------------------------------------------------------------
# 2. Files that must be read, and files that are not (with a word)


def _csv_bytes(rows=None, ends: str = "crlf") -> bytes:
    return _join(_csv_lines(rows or [HEADER, *ROWS]), ends)


def test_a_file_in_a_sub_folder_is_read_and_keeps_its_sub_path(tmp_path):
    folder = _folder(tmp_path)
    sub = folder / "Gửi bổ sung"
    sub.mkdir()
    (sub / "truong_x.csv").write_bytes(_csv_bytes())
    files = ingest.list_files(folder)
    assert [p.relative_to(folder).as_posix() for p in files] == ["Gửi bổ sung/truong_x.csv"]
    pin = ingest.read_period(tmp_path, PERIOD)
    (t,) = pin.tables
    assert t.file == f"{PERIOD}/Gửi bổ sung/truong_x.csv"
    assert t.folder == PERIOD and pin.served["tonghop_cks"] == PERIOD
    # The prefetch listing and the history's cache keys see it too.
    assert ingest.files_to_read(tmp_path, PERIOD, None) == files


def test_ignored_files_are_silent_and_every_other_file_is_listed(tmp_path):
    folder = _folder(tmp_path)
    (folder / "tonghop.csv").write_bytes(_csv_bytes())
    for name in ("~$tonghop.xlsx", ".DS_Store", "Thumbs.db", "desktop.ini", ".an.csv"):
        (folder / name).write_bytes(b"\x00\x01 not data")
    (folder / ".git").mkdir()
    (folder / ".git" / "x.csv").write_bytes(b"garbage")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "y.xlsx").write_bytes(b"garbage")
    (folder / "bao_cao.toml").write_text('title = "x"\n', encoding="utf-8")  # the report's
    (folder / "cong_van.pdf").write_bytes(b"%PDF-1.4\n")
    (folder / "huong_dan.docx").write_bytes(b"PK\x03\x04")
    sub = folder / "nén"
    sub.mkdir()
    (sub / "tat_ca.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "ghi_chu.txt").write_text("Nhớ gửi lại trước thứ sáu.\n", encoding="utf-8")
    files, unread = ingest.scan_folder(folder, tmp_path)
    assert [p.name for p in files] == ["ghi_chu.txt", "tonghop.csv"]
    assert [u.file for u in unread] == [
        f"{PERIOD}/cong_van.pdf",
        f"{PERIOD}/huong_dan.docx",
        f"{PERIOD}/nén/tat_ca.zip",
    ]
    assert "PDF" in unread[0].reason and "Word" in unread[1].reason
    assert "giải nén" in unread[2].reason
    assert {report.SETTINGS_FILE} == ingest.PROJECT_FILES  # the one file of ours in a folder
    pin = ingest.read_period(tmp_path, PERIOD)
    assert [t.file for t in pin.tables] == [f"{PERIOD}/tonghop.csv"]
    # The note (a .txt holding no table) is not read either, and says so.
    assert [u.file for u in pin.unread] == [
        f"{PERIOD}/cong_van.pdf",
        f"{PERIOD}/ghi_chu.txt",
        f"{PERIOD}/huong_dan.docx",
        f"{PERIOD}/nén/tat_ca.zip",
    ]
    assert "không có dòng tiêu đề" in pin.unread[1].reason


def test_only_unread_files_is_a_period_error_naming_them(tmp_path):
    (_folder(tmp_path) / "bang.pdf").write_bytes(b"%PDF-1.4\n")
    with pytest.raises(IngestError) as err:
        ingest.read_period(tmp_path, PERIOD)
    assert "bang.pdf" in err.value.message and "PDF" in err.value.message


def test_unicode_text_txt_utf16_tab_separated_is_read(tmp_path):
    content = "\r\n".join("\t".join(r) for r in [["TỔNG HỢP"], HEADER, *ROWS]) + "\r\n"
    path = _folder(tmp_path) / "tonghop.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + content.encode("utf-16-le"))  # as Excel saves it
    t = _only_table(path, tmp_path)
    assert t.kind == "tonghop_cks" and t.encoding == "utf-16"
    assert t.data["school_code"].tolist() == CODES
    assert t.data["school_name"].tolist() == NAMES
    assert t.data.index.tolist() == [3, 4, 5]
    assert t.read_note is None


def _ods_bytes(rows: list[list[object]]) -> bytes:
    """A minimal OpenDocument spreadsheet, built by hand."""

    def cell(v: object) -> str:
        if isinstance(v, int | float):
            return (
                f'<table:table-cell office:value-type="float" office:value="{v}">'
                f"<text:p>{v}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        )

    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Tổng hợp">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def test_ods_is_read(tmp_path):
    rows = [["TỔNG HỢP CHỮ KÝ SỐ"], HEADER, *[[1, r[1], r[2], 45, 30] for r in ROWS]]
    path = _folder(tmp_path) / "tonghop.ods"
    path.write_bytes(_ods_bytes(rows))
    assert ingest.sniff(path) == "ods"
    t = _only_table(path, tmp_path)
    assert t.kind == "tonghop_cks" and t.sheet == "Tổng hợp"
    assert t.data["school_code"].tolist() == CODES
    assert t.data["school_name"].tolist() == NAMES
    assert t.data.index.tolist() == [3, 4, 5]


def _html_table(rows: list[list[str]], merged_title: bool = True) -> str:
    width = max(len(r) for r in rows)
    out = ["<table border=1>"]
    if merged_title:
        out.append(f'<tr><td colspan="{width}">DANH SÁCH TỔNG HỢP</td></tr>')
    for i, r in enumerate(rows):
        tag = "th" if i == 0 else "td"
        out.append("<tr>" + "".join(f"<{tag}>{v}</{tag}>" for v in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def test_html_saved_as_xls_with_bom_and_meta_is_read(tmp_path):
    html = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n' + _html_table(
        [HEADER, *ROWS]
    )
    path = _folder(tmp_path) / "xuat_web.xls"
    path.write_bytes(codecs.BOM_UTF8 + html.encode("utf-8"))
    assert ingest.sniff(path) == "html"
    t = _only_table(path, tmp_path)
    assert t.kind == "tonghop_cks" and t.sheet == ""
    assert t.data["school_code"].tolist() == CODES  # text: the zeros stay
    assert t.data["school_name"].tolist() == NAMES
    assert t.data["n_staff"].tolist() == ["45", "60", "1.127"]
    assert t.data.index.tolist() == [3, 4, 5]  # the merged title row is row 1
    assert t.read_note is None  # an HTML table is what web exports name .xls


def test_html_in_windows_1258_with_a_merged_header_is_read(tmp_path):
    html = (
        "<html><head><meta charset=windows-1258></head><body>"
        "<table><tr><td rowspan=2>Mã trường</td><td rowspan=2>Tên trường</td>"
        "<td colspan=2>Chữ ký số</td></tr>"
        "<tr><td>Tổng số CBGVNV</td><td>Số đã có chữ ký số</td></tr>"
        + "".join(f"<tr><td>{r[1]}</td><td>{r[2]}</td><td>45</td><td>30</td></tr>" for r in ROWS)
        + "</table></body></html>"
    )
    path = _folder(tmp_path) / "web.xls"
    path.write_bytes(_cp1258(html))
    t = _only_table(path, tmp_path)
    assert t.kind == "tonghop_cks" and t.encoding == "cp1258"
    # The codes and names sit under cells merged over both header rows (rowspan).
    assert t.columns["school_code"] == "Mã trường" and t.header_rows[-1] == 2
    assert t.data["school_code"].tolist() == CODES
    assert t.data["school_name"].tolist() == NAMES
    assert t.data.index.tolist() == [3, 4, 5]


def test_html_with_several_tables_reads_each_as_a_sheet(tmp_path):
    html = (
        "<html><body><table><tr><td>Phòng GD&amp;ĐT</td><td>Ngày 19/04/2024</td></tr></table>"
        "<table><tr><td><table><tr><td>lồng nhau</td></tr></table></td></tr></table>"
        + _html_table([HEADER, *ROWS], merged_title=False)
        + "</body></html>"
    )
    path = _folder(tmp_path) / "web.xls"
    path.write_text(html, encoding="utf-8")
    items = ingest.read_file(path, tmp_path)
    assert [(type(i).__name__, i.sheet) for i in items] == [
        ("SkippedSheet", "Bảng 1"),
        ("SkippedSheet", "Bảng 2"),  # the inner table; its layout table is left
        ("RawTable", "Bảng 3"),
    ]
    assert items[2].data["school_code"].tolist() == CODES
    assert items[2].data.index.tolist() == [2, 3, 4]


# ------------------------------------------------------------------------------------------
# 3. Messages


def _write_xlsx(path: Path, rows: list[list[object]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("DS")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    wb.close()


def _no_library_text(msg: str) -> None:
    for word in ("Error", "error", "Traceback", "Cfb", "OLE", "codec", "utf-8'", "byte 0x"):
        assert word not in msg, msg


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_header_below_row_20_is_named_with_its_row(tmp_path, fmt):
    rows = [[f"Ghi chú {i}"] for i in range(24)] + [HEADER, *ROWS]  # header on row 25
    path = _folder(tmp_path) / f"tonghop.{fmt}"
    if fmt == "xlsx":
        _write_xlsx(path, rows)
    else:
        path.write_bytes(_csv_bytes(rows))
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    msg = err.value.message
    assert err.value.code == "deep_header"
    assert f"tonghop.{fmt}" in msg and "dòng 25" in msg and "20 dòng đầu" in msg
    assert "xoá" in msg
    if fmt == "xlsx":
        assert err.value.sheet == "DS" and "trang “DS”" in msg
    _no_library_text(msg)


def test_a_header_within_20_rows_is_still_read(tmp_path):
    rows = [[f"Ghi chú {i}"] for i in range(19)] + [HEADER, *ROWS]  # header on row 20
    path = _folder(tmp_path) / "tonghop.csv"
    path.write_bytes(_csv_bytes(rows))
    assert _only_table(path, tmp_path).header_rows == [20]


def test_csv_named_xlsx_is_read_by_its_content_with_a_warning(tmp_path):
    path = _folder(tmp_path) / "tonghop.xlsx"
    path.write_bytes(_csv_bytes())
    assert ingest.sniff(path) == "text"
    t = _only_table(path, tmp_path)
    assert t.data["school_code"].tolist() == CODES
    assert "có đuôi .xlsx nhưng thực chất là văn bản CSV" in t.read_note


def test_xlsx_named_xls_or_csv_is_read_by_its_content(tmp_path):
    folder = _folder(tmp_path)
    _write_xlsx(folder / "a.xlsx", [HEADER, *ROWS])
    data = (folder / "a.xlsx").read_bytes()
    (folder / "a.xlsx").unlink()
    for name in ("web.xls", "web.csv"):
        (folder / name).write_bytes(data)
        t = _only_table(folder / name, tmp_path)
        assert t.data["school_code"].tolist() == CODES
        assert "thực chất là tệp Excel (.xlsx)" in t.read_note


def test_csv_named_xlsx_without_a_header_says_what_it_is(tmp_path):
    path = _folder(tmp_path) / "la.xlsx"
    path.write_bytes(b"a,b,c\r\n1,2,3\r\n")
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert "có đuôi .xlsx nhưng thực chất là văn bản CSV" in err.value.message
    _no_library_text(err.value.message)


@pytest.mark.parametrize(
    ("name", "raw", "said"),
    [
        # UTF-8 with a stray byte among many good ones (read as cp1258: silent mojibake)
        ("hong.csv", _csv_bytes().replace(b"Hoa S", b"Hoa \xff S"), "dòng 2"),
        # bytes that Windows-1258 leaves undefined
        ("la.csv", b"M\x81 tr\x8dng,T\x90n\r\n001,A\r\n", "dòng 1"),
        # a BOM whose encoding does not decode
        ("bom.csv", codecs.BOM_UTF8 + b"Ma,Ten\r\n\xc3(,x\r\n", "dòng 2"),
        # control characters: not text
        ("nhi_phan.csv", bytes(range(1, 32)) * 40, "ký tự điều khiển"),
    ],
)
def test_a_csv_with_an_unknown_encoding_gets_its_own_message(tmp_path, name, raw, said):
    path = _folder(tmp_path) / name
    path.write_bytes(raw)
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    msg = err.value.message
    assert err.value.code == "encoding", msg
    assert name in msg and "bảng mã" in msg and said in msg and "CSV UTF-8" in msg
    _no_library_text(msg)


def test_a_real_cp1258_csv_is_still_read(tmp_path):
    path = _folder(tmp_path) / "tonghop.csv"
    path.write_bytes(_cp1258(_csv_bytes().decode("utf-8")))
    t = _only_table(path, tmp_path)
    assert t.encoding == "cp1258" and t.data["school_name"].tolist() == NAMES


@pytest.mark.parametrize(
    ("name", "raw", "code", "said"),
    [
        ("hong.xls", bytes(range(256)) * 8, "corrupt", "bị hỏng"),
        ("zip.xlsx", b"PK\x03\x04 not really a zip", "corrupt", "bị hỏng"),
        ("van_ban.xlsx", b"PK\x05\x06" + bytes(18), "wrong_type", "tệp nén"),
        ("pdf.xls", b"%PDF-1.4\n1 0 obj\n", "wrong_type", "tệp PDF"),
        ("rong.xlsx", b"", "empty", "rỗng"),
        ("mat_khau.xlsx", ingest_files._OLE_MAGIC + bytes(4088), "password", "mật khẩu"),
        # an encrypted .xlsx under the .xls name: its "EncryptionInfo" stream gives it away
        (
            "mat_khau.xls",
            ingest_files._OLE_MAGIC
            + bytes(1016)
            + "EncryptionInfo".encode("utf-16-le")
            + bytes(3044),
            "password",
            "mật khẩu",
        ),
    ],
)
def test_bad_workbooks_get_vietnamese_messages_without_library_text(
    tmp_path, name, raw, code, said
):
    path = _folder(tmp_path) / name
    path.write_bytes(raw)
    with pytest.raises(IngestError) as err:
        ingest.read_file(path, tmp_path)
    assert err.value.code == code and said in err.value.message and name in err.value.message
    _no_library_text(err.value.message)


# ------------------------------------------------------------------------------------------
# The cleaning stage: not-read files and read-by-content warnings reach quality.json


def test_clean_lists_unread_files_reads_sub_folders_and_warns_on_read_by_content(tmp_path):
    raw = build_raw(tmp_path)
    sub = raw / P2 / "Gửi bổ sung"
    sub.mkdir()
    (raw / P2 / "HocBa.xlsx").rename(sub / "HocBa.xlsx")
    (raw / P2 / "HaTang.xlsx").rename(raw / P2 / "HaTang.xls")  # a zip named .xls
    (raw / P2 / "cong_van.pdf").write_bytes(b"%PDF-1.4\n")
    (raw / P2 / "~$TongHop.xlsx").write_bytes(b"lock")
    (raw / P2 / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (raw / P2 / "ghi_chu.txt").write_text("Nhớ gửi lại.\n", encoding="utf-8")
    r = clean.clean_period(P2, raw, tmp_path / "out", key=KEY, jobs=1)
    q = r.quality
    # Read by forked workers (prefetch): the same result, byte for byte.
    ingest.clear_cache()
    clean.clean_period(P2, raw, tmp_path / "out2", key=KEY, jobs=2)
    assert (tmp_path / "out2" / P2 / "quality.json").read_bytes() == (
        tmp_path / "out" / P2 / "quality.json"
    ).read_bytes()
    assert q["unread_files"] == [
        {"file": f"{P2}/cong_van.pdf", "reason": ingest_files._unread_reason("cong_van.pdf")},
        {"file": f"{P2}/ghi_chu.txt", "reason": ingest_reader._TXT_UNREAD["no_kind"]},
    ]
    files = {i["file"] for i in q["inputs"]}
    assert f"{P2}/Gửi bổ sung/HocBa.xlsx" in files and f"{P2}/HaTang.xls" in files
    assert len(r.tables["records"]) > 0 and len(r.tables["infrastructure"]) > 0
    quarantined = r.quarantine[r.quarantine["kind"] == "hoc_ba"]
    assert set(quarantined["source_file"]) == {f"{P2}/Gửi bổ sung/HocBa.xlsx"}
    (w,) = [w for w in q["warnings"] if w["code"] == "read_by_content"]
    assert w["file"] == f"{P2}/HaTang.xls" and "thực chất là tệp Excel (.xlsx)" in w["message"]
    view = r.unread_files()
    assert view["Tệp"].tolist() == [f"{P2}/cong_van.pdf", f"{P2}/ghi_chu.txt"]
    assert any(v.startswith("(không đọc) ") for v in r.inputs()["Loại bảng"])
    assert '"unread_files"' in (tmp_path / "out" / P2 / "quality.json").read_text("utf-8")


def test_history_cache_keys_cover_files_in_sub_folders(tmp_path):
    raw = build_raw(tmp_path)
    sub = raw / P1 / "Gửi bổ sung"
    sub.mkdir()
    extra = sub / "them.csv"
    extra.write_bytes(b"a,b\r\n")
    schools = pd.DataFrame({"school_code": ["1"]})
    before = history._history_keys(raw, [P1, P2], schools)
    extra.write_bytes(b"a,b,c\r\n")
    after = history._history_keys(raw, [P1, P2], schools)
    assert before[P1] != after[P1] and before[P2] != after[P2]
    assert extra in ingest.files_to_read(raw, P2, None)


# ------------------------------------------------------------------------------------------
# Files written by LibreOffice (a real ODS, a real HTML export, a real UTF-16 "Unicode Text")


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice chưa cài")
def test_files_written_by_libreoffice_are_read(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write_xlsx(src / "tonghop.xlsx", [["TỔNG HỢP CHỮ KÝ SỐ"], HEADER, *ROWS])
    folder = _folder(tmp_path / "raw")
    profile = (tmp_path / "lo_profile").as_uri()
    for target, name in (
        ("ods", "tonghop.ods"),
        ("html:HTML (StarCalc)", "tonghop.html"),
        ("txt:Text - txt - csv (StarCalc):9,34,65535", "tonghop.txt"),
    ):
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
             target, "--outdir", str(src), str(src / "tonghop.xlsx")],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        out = name if not name.endswith(".html") else "tonghop_web.xls"  # as web exports
        shutil.copy(src / name, folder / out)
    assert (folder / "tonghop.txt").read_bytes().startswith(codecs.BOM_UTF16_LE)
    for name in ("tonghop.ods", "tonghop_web.xls", "tonghop.txt"):
        t = _only_table(folder / name, tmp_path / "raw")
        assert t.kind == "tonghop_cks", name
        assert t.data["school_code"].tolist() == CODES, name
        assert t.data["school_name"].tolist() == NAMES, name
        assert t.data.index.tolist() == [3, 4, 5], name
        assert t.read_note is None, name


def test_unread_files_do_not_depend_on_the_kinds_cache(tmp_path):
    raw = tmp_path / "raw"
    old = _folder(raw, "2024-03-01")
    (old / "tonghop.csv").write_bytes(_csv_bytes())
    (old / "ghi_chu.txt").write_text("ghi chú\n", encoding="utf-8")
    (old / "cong_van.pdf").write_bytes(b"%PDF-1.4\n")
    new = _folder(raw, PERIOD)
    staff = [["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Chữ ký số"]]
    staff += [[f"CB{i}", f"Người {i}", "Giáo viên", "001", "Có"] for i in range(3)]
    (new / "cbgvnv.csv").write_bytes(_csv_bytes(staff))
    (new / "ghi_chu.txt").write_text("ghi chú\n", encoding="utf-8")
    runs = []
    for _ in range(2):  # the second run finds the kinds of every file in the cache
        ingest.clear_cache()
        pin = ingest.read_period(raw, PERIOD, cache_root=tmp_path / "processed")
        runs.append([(u.file, u.reason) for u in pin.unread])
    assert runs[0] == runs[1]
    assert [f for f, _ in runs[0]] == ["2024-03-01/cong_van.pdf", f"{PERIOD}/ghi_chu.txt"]
