"""Property-based fuzz of the readers (issue 12): random grids written as real files.

A staff list (``cbgvnv``) whose header sits at a random row within the first 20 (random title
rows above it), whose cells are random (Vietnamese text, numbers, blanks, formula-like text,
phone numbers, e-mails), written as CSV (random encoding: utf-8, utf-8-sig, utf-16, cp1258;
random line endings: CRLF, LF, CR, mixed; random delimiter) or as xlsx (openpyxl or
xlsxwriter, formula-like text stored as text), cleaned by ``analysis.clean.clean_period`` with
a small school list beside it.

Properties:
1. nothing but the suite's own errors (``IngestError``/``CleanError``), and those name the file
   in Vietnamese with no library text and are not an internal accounting failure;
2. the accounting balances for every input (rows read = kept + quarantined + non-data);
3. no generated personal value (names, phones, e-mails placed in personal or free-text columns)
   appears in any file written under the processed folder; in ``quarantine.csv`` /
   ``quality.json`` free text may be shown, but only masked (no phone's 6+ digit run, no
   e-mail), and a personal column's value never.

Every file lives in a temporary folder removed after each example; the example database is off
(it would keep generated values on disk).
"""

from __future__ import annotations

import codecs
import json
import re
import tempfile
import unicodedata
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from analysis import clean
from analysis.ingest import IngestError

PERIOD = "2025-03-14"
KEY = b"reader-fuzz-key"
SETTINGS = dict(
    max_examples=20,
    deadline=None,
    database=None,  # never keep generated values on disk
    phases=[Phase.explicit, Phase.generate],  # bounded: no shrinking on a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCHOOLS_CSV = (
    "Mã trường,Tên trường,Cấp học,Số lớp,Số học sinh\r\n"
    "01020001,Trường Tiểu học Hoa Sen,Tiểu học,20,700\r\n"
    "01020002,Trường Tiểu học Sao Mai,Tiểu học,15,520\r\n"
    "01030001,Trường THCS Sao Mai,THCS,18,690\r\n"
)

# -- cells -------------------------------------------------------------------------------------

VN_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
ALPHABET = VN_LETTERS + VN_LETTERS.upper() + " 0123456789.,;:/()-'\"\t"
SYLLABLES = ["Mẫu", "Thử", "Quỳnh", "Hạnh", "Đức", "Phượng", "Nguyễn", "Trần", "Lê", "Ánh", "Tuệ"]

vn_text = st.text(alphabet=ALPHABET, min_size=1, max_size=24)
formula_like = st.builds(
    lambda c, t: c + t,
    st.sampled_from(["=", "+", "-", "@", "\t", "\r"]),
    st.text(alphabet="ABC123()+*/=,\"'|! ", max_size=16),
)
numbers = st.one_of(
    st.integers(min_value=-10, max_value=10**9),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
blank = st.sampled_from([None, "", " ", "\u00a0"])

# Personal values: distinctive markers so that a hit in an output is never a coincidence.
#  - personal-column names start with "Riêngtư", free-text names with "Canary";
#  - phones are 09 + 8 digits, e-mails end with ".canary@example.invalid".
private_names = st.builds(
    lambda a, b: f"Riêngtư {a} {b}", st.sampled_from(SYLLABLES), st.sampled_from(SYLLABLES)
)
free_names = st.builds(
    lambda a, b: f"Canary {a} {b}", st.sampled_from(SYLLABLES), st.sampled_from(SYLLABLES)
)
# 09 + 8 digits, at least 4 distinct (no "0900000000" that a boundary number could contain)
phones = (
    st.integers(min_value=10**7, max_value=10**8 - 1)
    .map(lambda n: f"09{n}")
    .filter(lambda p: len(set(p[2:])) >= 4)
)
emails = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).map(
    lambda s: f"{s}.canary@example.invalid"
)


@st.composite
def free_text(draw):
    """Free text typed beside the data: a word, a name, a phone, an e-mail, in some order."""
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["Giáo viên", "Nghỉ phép", "liên hệ", "ĐT", "VNPT", "Ghi chú"]),
                free_names,
                phones,
                emails,
            ),
            min_size=1,
            max_size=4,
        )
    )
    return " ".join(parts)


def any_cell():
    """A cell of a free-text or status column: anything, personal values included."""
    return st.one_of(vn_text, numbers, blank, formula_like, phones, emails)


def other_cell():
    """A cell of a code, school or date column (no personal value: those columns are not
    free text, and their raw values may be shown in the quarantine as they are)."""
    return st.one_of(vn_text, numbers, blank, formula_like)


COLUMNS = {
    # header: strategy for its cells
    "Mã định danh": st.one_of(
        st.integers(min_value=1, max_value=40).map(lambda i: f"88001005{i:02d}"),
        other_cell(),
    ),
    "Họ và tên": private_names,
    "Số điện thoại": phones,
    "Email": emails,
    "Chức vụ": st.one_of(
        st.sampled_from(["Giáo viên", "Hiệu trưởng", "Nhân viên", "Kế toán", "GV"]),
        free_text(),
        any_cell(),
    ),
    "Mã trường": st.one_of(
        st.sampled_from(["01020001", "01020002", "1030001", 1020002, "99999999"]), other_cell()
    ),
    "Tên trường": st.one_of(
        st.sampled_from(["Trường Tiểu học Hoa Sen", "TH Sao Mai", "THCS Sao Mai", "Tổng cộng"]),
        other_cell(),
    ),
    "Trạng thái CB": st.one_of(
        st.sampled_from(["Đang làm việc", "Nghỉ hưu", "Chuyển đi", None]), free_text()
    ),
    "Chữ ký số": st.one_of(
        st.sampled_from(["Đã cấp", "Chưa cấp", "x", "1", "Đang chờ", None]), any_cell()
    ),
    "Nhà cung cấp": st.one_of(
        st.sampled_from(["Viettel", "VNPT", "FPT", "BKAV", None]), free_text(), formula_like
    ),
    "Ngày cấp": st.one_of(
        st.sampled_from(["01/10/2024", "2024-10-01", "31/02/2024", 45500, None]), other_cell()
    ),
    "Ghi chú": st.one_of(free_text(), any_cell()),
}
REQUIRED = ["Mã định danh", "Chức vụ", "Chữ ký số"]
OPTIONAL = [c for c in COLUMNS if c not in REQUIRED and c not in ("Mã trường", "Tên trường")]
PERSONAL_COLUMNS = {"Họ và tên", "Số điện thoại", "Email"}
FREE_COLUMNS = {"Chức vụ", "Trạng thái CB", "Chữ ký số", "Nhà cung cấp", "Ghi chú"}
TITLES = ["UBND PHƯỜNG ĐÔNG HOÀ", "DANH SÁCH CBGVNV", "Số liệu tính đến 14/03/2025", "", None]


@st.composite
def grids(draw):
    """(rows, personal values placed) of a staff sheet with the header on row 1..20."""
    school_cols = draw(
        st.sampled_from([["Mã trường"], ["Tên trường"], ["Mã trường", "Tên trường"]])
    )
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=len(OPTIONAL)))
    header = draw(st.permutations([*REQUIRED, *school_cols, *optional]))
    n_title = draw(st.integers(min_value=0, max_value=19))
    rows: list[list] = [[draw(st.sampled_from(TITLES))] for _ in range(n_title)]
    rows.append(list(header))
    n_rows = draw(st.integers(min_value=0, max_value=12))
    for _ in range(n_rows):
        rows.append([draw(COLUMNS[h]) for h in header])
    return rows, header


def placed_values(rows: list[list], header: list[str]) -> tuple[set[str], set[str], set[str]]:
    """(private names, free-text names, phones and e-mails) present in the data rows."""
    private, free, contact = set(), set(), set()
    start = next(i for i, r in enumerate(rows) if list(r) == list(header)) + 1
    for row in rows[start:]:
        for h, v in zip(header, row, strict=True):
            if not isinstance(v, str) or h not in PERSONAL_COLUMNS | FREE_COLUMNS:
                continue
            for m in re.findall(r"Riêngtư \w+ \w+", v):
                private.add(m)
            for m in re.findall(r"Canary \w+ \w+", v):
                free.add(m)
            for m in re.findall(r"09\d{8}", v):
                contact.add(m)
            for m in re.findall(r"[a-z]+\.canary@example\.invalid", v):
                contact.add(m)
            if h in PERSONAL_COLUMNS and v.strip():
                private.add(v) if h == "Họ và tên" else contact.add(v)
    return private, free, contact


# -- writing files -------------------------------------------------------------------------------


def cp1258_bytes(text_: str) -> bytes:
    """Windows-1258 as Windows writes it (base letter + combining tone mark when needed)."""
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
        out += base.encode("cp1258", errors="replace") + tone.encode("cp1258")
    return bytes(out)


def csv_bytes(rows: list[list], delim: str, ending: str, encoding: str) -> bytes:
    ends = {"crlf": ["\r\n"], "lf": ["\n"], "cr": ["\r"], "mixed": ["\r\n", "\n", "\r"]}[ending]
    lines = []
    for i, row in enumerate(rows):
        cells = []
        for v in row:
            s = "" if v is None else str(v)
            if any(ch in s for ch in (delim, '"', "\n", "\r")):
                s = '"' + s.replace('"', '""') + '"'
            cells.append(s)
        lines.append(delim.join(cells) + ends[i % len(ends)])
    text_ = "".join(lines)
    if encoding == "cp1258":
        return cp1258_bytes(text_)
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text_.encode("utf-16-le")
    return text_.encode(encoding)


def write_xlsx(path: Path, rows: list[list], writer: str) -> None:
    if writer == "xlsxwriter":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
        ws = wb.add_worksheet("DanhSach")
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write_number(r, c, v)
        wb.close()
        return
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DanhSach"
    for r, row in enumerate(rows, 1):
        for c, v in enumerate(row, 1):
            if v is None:
                continue
            cell = ws.cell(r, c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # text, even when it starts with "="
    wb.save(path)


# -- running and checking -------------------------------------------------------------------------

_VIETNAMESE = re.compile(
    r"[ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]"
)
_LIBRARY = re.compile(r"Traceback|\b\w+(Error|Exception)\b|\bline \d+\b|codec")


def run(root: Path, name: str, data: bytes | None, rows=None, writer=None):
    """Write the school list and the staff file, clean; returns (result or None, processed)."""
    raw = root / "raw" / PERIOD
    raw.mkdir(parents=True)
    (raw / "truong.csv").write_bytes(SCHOOLS_CSV.encode("utf-8"))
    if data is not None:
        (raw / name).write_bytes(data)
    else:
        write_xlsx(raw / name, rows, writer)
    processed = root / "processed"
    try:
        result = clean.clean_period(PERIOD, root / "raw", processed, key=KEY, jobs=1)
    except (IngestError, clean.CleanError) as exc:
        msg = str(exc)
        assert name in msg, msg
        assert _VIETNAMESE.search(msg), msg
        assert not _LIBRARY.search(msg), msg
        assert "báo cho người phát triển" not in msg, msg  # an internal failure, not bad input
        event("refused with a message")
        return None, processed
    event("cleaned")
    return result, processed


def check_balanced(processed: Path) -> None:
    q = json.loads((processed / PERIOD / "quality.json").read_text(encoding="utf-8"))
    assert q["inputs"], q
    for i in q["inputs"]:
        assert i["rows_read"] == i["kept"] + i["quarantined"] + sum(i["non_data"].values()), i


def output_texts(processed: Path) -> dict[str, str]:
    out = {}
    for p in sorted(processed.rglob("*")):
        if p.is_file():
            t = p.read_bytes().decode("utf-8", "replace")
            if p.suffix == ".parquet":
                t += "\n" + pd.read_parquet(p).astype(str).to_csv()
            out[p.relative_to(processed).as_posix()] = t
    return out


def check_no_leak(processed: Path, private: set[str], free: set[str], contact: set[str]) -> None:
    for rel, t in output_texts(processed).items():
        shown_masked = rel in (f"{PERIOD}/quarantine.csv", f"{PERIOD}/quality.json")
        assert "Riêngtư" not in t, rel  # a personal column's value: never, anywhere
        for v in private:
            assert v not in t, (rel, v)
        for v in contact:  # phones, e-mails: never, not even a 6-digit run of a phone
            assert v not in t, (rel, v)
            if v.startswith("09"):
                for i in range(len(v) - 5):
                    assert v[i : i + 6] not in t, (rel, v, v[i : i + 6])
        if not shown_masked:  # free text: only in quarantine.csv / quality.json
            for v in free:
                assert v not in t, (rel, v)
            assert "Canary" not in t, rel


# -- the properties --------------------------------------------------------------------------------


@settings(**SETTINGS)
@given(
    grid=grids(),
    delim=st.sampled_from([",", ";", "\t"]),
    ending=st.sampled_from(["crlf", "lf", "cr", "mixed"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]),
)
def test_csv_reader_never_crashes_and_balances(grid, delim, ending, encoding):
    rows, _ = grid
    with tempfile.TemporaryDirectory() as tmp:
        result, processed = run(Path(tmp), "cbgvnv.csv", csv_bytes(rows, delim, ending, encoding))
        if result is not None:
            check_balanced(processed)


@settings(**SETTINGS)
@given(grid=grids(), writer=st.sampled_from(["openpyxl", "xlsxwriter"]))
def test_xlsx_reader_never_crashes_and_balances(grid, writer):
    rows, _ = grid
    with tempfile.TemporaryDirectory() as tmp:
        result, processed = run(Path(tmp), "cbgvnv.xlsx", None, rows, writer)
        if result is not None:
            check_balanced(processed)


@settings(**SETTINGS)
@given(grid=grids(), fmt=st.sampled_from(["csv", "xlsx"]))
def test_no_personal_value_in_processed_outputs(grid, fmt):
    """Plain formats only (UTF-8 CSV with CRLF, xlsxwriter, no carriage return inside a
    cell), so that a reader defect does not hide this property."""
    rows, header = grid
    rows = [[v.replace("\r", "") if isinstance(v, str) else v for v in row] for row in rows]
    private, free, contact = placed_values(rows, header)
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "csv":
            result, processed = run(Path(tmp), "cbgvnv.csv", csv_bytes(rows, ",", "crlf", "utf-8"))
        else:
            result, processed = run(Path(tmp), "cbgvnv.xlsx", None, rows, "xlsxwriter")
        if processed.exists():
            check_no_leak(processed, private, free, contact)
