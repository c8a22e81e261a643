"""Reading raw exports: files, sheets, header rows, merged headers, table kinds.

``read_period(raw_root, period)`` is what the cleaning stage calls. It lists the period folders
``<= period`` (newest first), reads their files, classifies each sheet by its header
(:mod:`analysis.kinds`) and, for each kind, keeps the sheets of the latest folder that has that
kind (carry-forward, data contract section 1).

Files: :func:`scan_folder` lists a period folder and its sub-folders (``source_file`` keeps the
sub-path) and is the one listing used for reading, prefetching and every cache key over raw
files. Lock files (``~$``), hidden files and folders and system files are ignored; a file whose
extension is not a candidate (:data:`EXTENSIONS`) is an :class:`UnreadFile` with its reason, as
is a ``.txt`` that holds no table (it may be a note). The reader of a candidate is picked from
its bytes (:func:`sniff`), not its extension: workbooks (``.xlsx``/``.xlsm``/``.xls``/``.ods``,
python-calamine), HTML tables (web exports saved as ``.xls``; lxml), text (``.csv``, Excel's
"Unicode Text" ``.txt``: encoding, line ends, delimiter). A file read as another type than its
extension says carries a ``read_note`` (a warning in the quality report). A file that cannot be
read stops the run with one Vietnamese message (:class:`IngestError`, with a ``code``); the
library's own text goes to the log.

Per sheet:

1. cells are read as they come (calamine: str/float/int/bool/date/datetime; CSV: all text, so
   codes keep their leading zeros);
2. the legacy encoding (TCVN3/VNI) of the sheet is decided on its text cells
   (``legacy.detect_legacy_frame`` on the first :data:`LEGACY_SAMPLE_ROWS` rows, header
   included) and the header window is repaired *before* classifying;
3. the header is the row (or 2-3 rows of a merged header) among the first
   :data:`HEADER_SEARCH_ROWS` rows that classifies best; merged group cells are spread over
   their range (xlsx merge ranges, then a forward fill of the upper rows) and joined with the
   sub-header ("Chữ ký số" over "Trạng thái" -> ("Chữ ký số", "Trạng thái"));
4. personal columns (names, birth dates, CCCD, phone, e-mail) are dropped right after header
   mapping: they never reach a returned DataFrame (the cleaner needs ``staff_id`` for the
   keyed hash, which is kept);
5. every row gets one class: ``title`` (above the header), ``header`` (the header rows, a row of
   column numbers "(1) (2) (3)" right under it, and repeated header rows), ``blank``, ``total``
   ("Tổng cộng", "Tổng", "Cộng" as school name or first text cell), ``footer`` (signature
   block, date line, notes after the data) or ``data``;
6. the kept text cells are repaired (legacy), NFC-normalised and white-space cleaned, counted
   in ``RawTable.repairs`` (cells of ``data`` and ``totals``), per unique value.

Row numbers are 1-based source rows as Excel (or a text editor, for CSV) shows them. CSV line
ends (CRLF, LF, CR alone, mixed) are made LF before any parsing, so each counts as one line. A
CSV field holding a line break shifts the numbers of the lines below it (rare in exports): rows
are numbered by records, as Excel does. A header below the first :data:`HEADER_SEARCH_ROWS`
rows is not read but named, with its row, in the message.

Speed: a sheet's cells are factorised once (``_Cells``) and every fact used to classify rows
(blank, total label, repeated header) or to repair text is computed per distinct value, never
per row. Small files (up to :data:`CACHE_FILE_BYTES`) are kept per process, keyed by path and
content (``clear_cache`` forgets them): carry-forward, the history and several periods in one
run read each file once. Every caller still gets its own copy of a table.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import logging
import os
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import paths
from analysis.core import cache, legacy, parse, text
from analysis.ingest import contract as K
from analysis.ingest import xlsx_scan

log = logging.getLogger(__name__)

#: The header is looked for in the first rows of a sheet.
HEADER_SEARCH_ROWS = 20
#: A header may be merged over this many rows.
MAX_HEADER_ROWS = 3
#: Rows of a sheet sampled to decide its legacy encoding.
LEGACY_SAMPLE_ROWS = 2000
#: An unrecognised sheet's rows looked at for a header below the first HEADER_SEARCH_ROWS, to
#: say where it is (about 0.15 ms a row with text; only sheets that match no kind pay it).
DEEP_HEADER_ROWS = 200
#: File extensions that are candidates for reading; the reader is picked from the bytes
#: (:func:`sniff`). Any other file of a period folder is listed as not read (:class:`UnreadFile`).
EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt")
#: System files (lower case) ignored without a word, like lock files (``~$``) and dot files.
SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
#: Folders ignored without a word (besides hidden ones): macOS archive metadata.
SYSTEM_FOLDERS = frozenset({"__MACOSX"})
#: The suite's own files that may sit at the top of a period folder (the report's settings,
#: ``analysis.report.SETTINGS_FILE``): not data, not listed.
PROJECT_FILES = frozenset({"bao_cao.toml"})
ROW_CLASSES = ("data", "title", "header", "blank", "footer", "total")
REPAIR_KINDS = ("tcvn3", "vni", "nfd", "whitespace")
#: Why a hidden sheet of a workbook is listed and not read.
HIDDEN_SHEET_REASON = (
    "Trang tính bị ẩn: không đọc (có thể là số liệu cũ hoặc mẫu). Nếu đây là số liệu cần dùng, "
    "hãy hiện trang (Unhide) trong Excel rồi chạy lại."
)
#: Footers (signature block, date line, notes) are looked for in the last rows after the data.
FOOTER_SCAN_ROWS = 60

# --------------------------------------------------------------------------------------------
# Output types (a contract: clean.py codes against them)
# --------------------------------------------------------------------------------------------


@dataclass
class RawTable:
    """One recognised sheet (or CSV file) of one kind.

    Attributes:
        file: path relative to the raw root, POSIX (``"2024-04-19/ds_cbgvnv.xlsx"``).
        sheet: sheet name, ``""`` for a CSV file.
        kind: one of :data:`analysis.kinds.KINDS`.
        folder: the period folder the file sits in (``"2024-04-19"``).
        data: the data rows; columns: the mapped *non-personal* canonical columns of ``kind``
            in canonical order (a subset of ``kinds.kept_columns(kind)``); values as read
            (object dtype for Excel: str/float/int/bool/date/datetime, ``""`` for an empty
            cell; ``str`` for CSV), text cells repaired/NFC/space-cleaned; index: the 1-based
            source row number (named ``"source_row"``).
        totals: the total rows ("Tổng cộng"...), same columns and index, for cross-checks.
        row_classes: rows per class (``data``, ``title``, ``header``, ``blank``, ``footer``,
            ``total``), summing to ``rows_read``; ``row_classes["data"] == len(data)``.
        rows_read: rows of the sheet (up to its last non-empty row).
        repairs: cells changed in ``data`` + ``totals`` per repair (``tcvn3``, ``vni``,
            ``nfd``, ``whitespace``); a cell may count under a legacy kind and a later step.
        unmapped_columns: headers (flattened text) of non-blank columns that map to nothing
            (``STT``/``Ghi chú`` are not listed).
        personal_columns_dropped: headers of the personal columns dropped at read time.
        encoding: the CSV (or HTML) encoding found (``"utf-8"``, ``"utf-8-sig"``,
            ``"utf-16"``, ``"cp1258"``); ``None`` for a workbook.
        header_rows: the 1-based source rows of the header (merged headers span 2-3 rows).
        columns: canonical column -> the source column (flattened header text, for messages).
        legacy_encoding: ``"tcvn3"``/``"vni"`` when the sheet was typed in a legacy encoding.
        read_note: a Vietnamese warning when the file was read by its content rather than its
            extension (a CSV named ``.xlsx``...), ``None`` otherwise.
        unread_cells: source row -> (reason, canonical column, message) of the data rows
            holding, in a column read, a formula saved without a value (``formula_no_value``)
            or an error value (``formula_error``), both read as blank by calamine; the message
            names the first such cell of the row (``"ô F12: ..."``). The cleaning stage
            refuses these rows. Excel only (:mod:`analysis.xlsx_scan`).
        sheet_warnings: quality warnings of the sheet's XML (``far_cells``: values far off the
            table, not read; ``formula_no_value``/``formula_error``: such cells outside the
            data rows or the columns read), as ``quality.json["warnings"]`` records.
        title_texts: the non-empty text cells of the rows above the header, repaired (a
            per-school export names its school there, a provider's list its provider).
        id_numbers: for the kinds of :data:`analysis.kinds.ID_JOIN_KINDS` with a CCCD column,
            that column's values as read, aligned with ``data`` (same index); ``None``
            otherwise. Personal: the cleaning stage turns it into a join key and drops it
            (:mod:`analysis.certificates`). Never kept by the read cache: a table that holds
            it is read again by each caller (:func:`_finished`, :func:`prefetch`).
    """

    file: str
    sheet: str
    kind: str
    folder: str
    data: pd.DataFrame
    totals: pd.DataFrame
    row_classes: dict[str, int]
    rows_read: int
    repairs: dict[str, int]
    unmapped_columns: list[str]
    personal_columns_dropped: list[str]
    encoding: str | None = None
    header_rows: list[int] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    legacy_encoding: str | None = None
    read_note: str | None = None
    unread_cells: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    sheet_warnings: list[dict] = field(default_factory=list)
    title_texts: list[str] = field(default_factory=list)
    id_numbers: pd.Series | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """``"file, trang “sheet”"`` for messages."""
        return _where(self.file, self.sheet)


@dataclass
class SkippedSheet:
    """A sheet whose header matches no kind (a lookup sheet, notes...), listed in the quality
    report. ``reason`` is Vietnamese; ``headers_seen`` the header-like cells found."""

    file: str
    sheet: str
    reason: str
    headers_seen: list[str]


@dataclass
class PeriodInput:
    """What ``read_period`` found for one period.

    ``tables``: the recognised sheets used for the period (for each kind those of
    ``served[kind]``), sorted by (kind order, file, sheet); ``skipped``: unrecognised sheets of
    the files read; ``served``: kind -> the folder that served it (``None``: no data <= period),
    for every kind of :data:`analysis.kinds.KINDS`; ``unread``: the files not read, sorted by
    file: of other types, in the period's own folder and in the folders that served a kind;
    ``.txt`` files holding no table, in the period's own folder (as for skipped sheets, a file
    of an earlier folder that serves nothing is not listed: whether it is looked at depends on
    the kinds cache, and the listing must not).
    """

    period: str
    raw_root: Path
    tables: list[RawTable]
    skipped: list[SkippedSheet]
    served: dict[str, str | None]
    unread: list[UnreadFile] = field(default_factory=list)

    def tables_of(self, kind: str) -> list[RawTable]:
        """The tables of one kind, in file/sheet order."""
        if kind not in K.KINDS:
            raise KeyError(kind)
        return [t for t in self.tables if t.kind == kind]


@dataclass(frozen=True)
class UnreadFile:
    """A file of a period folder that is not read (a PDF, a Word document, an archive, a text
    file that holds no table...), listed in the quality report with ``reason`` (Vietnamese).
    ``file`` is relative to the raw root."""

    file: str
    reason: str


class IngestError(Exception):
    """A file or period that cannot be read. ``message`` is Vietnamese and says what to do;
    ``file`` is relative to the raw root (or the period folder for a period-level error) and
    ``sheet`` is the sheet name (``""`` for a CSV or a whole file, ``None`` for a period).
    ``code`` names the case for callers and tests: ``empty``, ``encoding``, ``corrupt``,
    ``password``, ``wrong_type``, ``no_kind``, ``missing_column``, ``deep_header``, ``""``."""

    def __init__(self, file: str | None, sheet: str | None, message: str, code: str = ""):
        super().__init__(message)
        self.file = file
        self.sheet = sheet
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _where(file: str, sheet: str | None) -> str:
    return f"tệp “{file}”, trang “{sheet}”" if sheet else f"tệp “{file}”"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _rel(path: Path, raw_root: Path | None) -> str:
    path = Path(path)
    if raw_root is not None:
        try:
            return path.resolve().relative_to(Path(raw_root).resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def _cell_text(v: object) -> str:
    """A cell as text for header work (1.0 -> "1")."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        if v.is_integer():
            return str(int(v))
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return str(v)


def _is_ignored(name: str) -> bool:
    """Lock files (``~$``), hidden (dot) files and system files: never data, never listed."""
    return name.startswith(("~$", ".")) or name.lower() in SYSTEM_FILES


#: Why a file of another type is not read (by extension; the default names the types read).
_UNREAD_REASONS = {
    ".pdf": "tệp PDF, không đọc được số liệu từ PDF: nếu đây là số liệu cần dùng, hãy lấy tệp "
    "Excel hoặc CSV gốc chép vào thư mục",
    ".doc": "tệp Word, không phải bảng tính: nếu trong đó có bảng số liệu cần dùng, hãy chép "
    "bảng sang Excel và lưu dạng .xlsx",
    ".xlsb": "sổ làm việc nhị phân (.xlsb): hãy mở bằng Excel và lưu lại dạng .xlsx",
    ".numbers": "tệp Numbers: hãy xuất ra dạng Excel (.xlsx)",
    ".zip": "tệp nén: hãy giải nén vào thư mục kỳ báo cáo (tệp trong thư mục con cũng được đọc)",
}
_UNREAD_REASONS[".docx"] = _UNREAD_REASONS[".doc"]
for _ext in (".rar", ".7z", ".gz", ".tar"):
    _UNREAD_REASONS[_ext] = _UNREAD_REASONS[".zip"]


def _unread_reason(name: str) -> str:
    suffix = Path(name).suffix.lower()
    found = _UNREAD_REASONS.get(suffix)
    if found is not None:
        return _cap(found) + "."
    return (
        f"Loại tệp {suffix or '(không có đuôi)'} không phải bảng tính: chỉ đọc .xlsx, .xlsm, "
        ".xls, .ods, .csv, .txt."
    )


def scan_folder(
    folder: Path | str, raw_root: Path | str | None = None
) -> tuple[list[Path], list[UnreadFile]]:
    """The files of a period folder and its sub-folders: (the files to read, the files not
    read with their reason). Sorted by path inside the folder; lock files, hidden files and
    folders, system files and the suite's own files are left out of both."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], []
    root = Path(raw_root) if raw_root is not None else folder.parent
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SYSTEM_FOLDERS]
        here = Path(dirpath)
        for name in filenames:
            path = here / name
            if _is_ignored(name) or not path.is_file():
                continue
            if here == folder and name.lower() in PROJECT_FILES:
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    found.sort(key=lambda item: item[0])
    files = [p for _, p in found if p.suffix.lower() in EXTENSIONS]
    unread = [
        UnreadFile(_rel(p, root), _unread_reason(p.name))
        for _, p in found
        if p.suffix.lower() not in EXTENSIONS
    ]
    return files, unread


def list_files(folder: Path | str) -> list[Path]:
    """The files to read of a period folder, sub-folders included (see :func:`scan_folder`):
    the one listing used for reading, prefetching and every cache key over raw files."""
    return scan_folder(folder)[0]


# --------------------------------------------------------------------------------------------
# Text repair, per unique value
# --------------------------------------------------------------------------------------------

# A space at either end, a double space, or control white space (literal characters and \\Z
# only, so that pandas hands the pattern to pyarrow's RE2: no Python loop).
_WS_ODD = "^ | \\Z|  |[\t\r\n\x0b\x0c]"


def _factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values as an object array); code -1 for a missing cell."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)


def _str_flags(uniques: np.ndarray) -> np.ndarray:
    """True for the values that are ``str`` (exactly: as ``map(type).eq(str)``)."""
    return np.fromiter((type(v) is str for v in uniques), dtype=bool, count=len(uniques))


def _texts(uniques: np.ndarray, is_str: np.ndarray) -> pd.Series:
    """The text values among ``uniques`` as a ``str`` Series ("" for the others), so that the
    string predicates run with the same engine (pyarrow) as on a whole column."""
    return pd.Series(np.where(is_str, uniques, ""), dtype="str")


def _todo_fact(is_str: np.ndarray, texts: pd.Series) -> np.ndarray:
    """Per distinct value (+ a last slot for a missing cell): text that legacy repair, NFC or
    white-space cleaning may change (not ASCII, or ASCII with odd white space)."""
    ascii_mask = texts.str.isascii().fillna(False).to_numpy(dtype=bool)
    odd_ws = texts.str.contains(_WS_ODD, regex=True).fillna(False).to_numpy(dtype=bool)
    return np.append(is_str & (~ascii_mask | (odd_ws & ascii_mask)), False)


def _clean_values(s: pd.Series, enc: str | None) -> tuple[pd.Series, dict[str, int]]:
    """Repair (legacy ``enc``), NFC-normalise and clean the text cells of one column.

    Works per unique value; ASCII cells only get the white-space check (vectorised). Returns
    the new series and the cells changed per repair kind.
    """
    if s.empty:
        return s, dict.fromkeys(REPAIR_KINDS, 0)
    codes, uniques = _factorize(s)
    is_str = _str_flags(uniques)
    if not is_str.any():
        return s, dict.fromkeys(REPAIR_KINDS, 0)
    todo = _todo_fact(is_str, _texts(uniques, is_str))
    codes = np.where(codes >= 0, codes, len(uniques))
    cleaned, counts = _clean_coded(s, codes, lambda idx: uniques[idx].tolist(), todo, enc, {})
    return (s if cleaned is None else cleaned), counts


def _clean_coded(
    s: pd.Series,
    codes: np.ndarray,
    values_of,
    todo: np.ndarray,
    enc: str | None,
    memo: dict[tuple[str | None, str], tuple[str, tuple[bool, bool, bool, str | None] | None]],
) -> tuple[pd.Series | None, dict[str, int]]:
    """The work of :func:`_clean_values` on a column already factorised: ``codes`` index a
    table of distinct values whose last slot is a missing cell, ``todo`` (one flag per slot) as
    from :func:`_todo_fact`, ``values_of(positions)`` gives the values at those slots.
    Returns ``(None, counts)`` when nothing changes. ``memo`` keeps repairs across columns."""
    counts = dict.fromkeys(REPAIR_KINDS, 0)
    rows_todo = todo[codes]
    if not rows_todo.any():
        return None, counts
    # Counted over the column's own span of slots (``base`` on), not the sheet's whole table
    # of distinct values, which has one slot per row for columns read in place.
    used = codes[rows_todo]
    base = int(used.min())
    freq = np.bincount(used - base)  # freq[k]: rows of slot base + k
    changed = np.zeros(len(todo), dtype=bool)
    new_values = np.empty(len(freq), dtype=object)
    local = np.flatnonzero(freq)
    values = list(values_of(local + base))
    # The sheet's legacy decision holds for this column unless it reads as Unicode.
    enc = legacy.column_kind(values, enc)
    for k, value in zip(local.tolist(), values, strict=True):
        i = base + k
        hit = memo.get((enc, value))
        if hit is None:
            v = value
            found = None
            if enc is not None:
                v, found = legacy.repair_legacy(v, enc)
            v_nfc = unicodedata.normalize("NFC", v)
            v_clean = text.clean_text(v_nfc)
            if v_clean is None:
                v_clean = ""
            step = None
            if v_clean != value:
                step = (found is not None, v_nfc != v, v_clean != v_nfc, found)
            memo[(enc, value)] = hit = (v_clean, step)
        v_clean, step = hit
        if step is None:
            continue
        changed[i] = True
        new_values[k] = v_clean
        is_legacy, is_nfd, is_ws, found = step
        n = int(freq[k])
        if is_legacy and found:
            counts[found] += n
        if is_nfd:
            counts["nfd"] += n
        if is_ws:
            counts["whitespace"] += n
    if not changed.any():
        return None, counts
    rows = np.flatnonzero(changed[codes])
    out = s.copy()
    out.loc[s.index[rows]] = new_values[codes[rows] - base]
    return out, counts


def _repair_cells(values: list[str], enc: str | None) -> list[str]:
    """Repair a few header/label cells (legacy, NFC, spaces); a row that reads as Unicode
    keeps its text (``legacy.column_kind``)."""
    enc = legacy.column_kind(values, enc)
    out = []
    for v in values:
        if v is None:
            out.append("")
            continue
        v = str(v)
        if enc is not None:
            v, _ = legacy.repair_legacy(v, enc)
        out.append(text.clean_text(unicodedata.normalize("NFC", v)) or "")
    return out


# --------------------------------------------------------------------------------------------
# Header detection
# --------------------------------------------------------------------------------------------


@dataclass
class HeaderInfo:
    """The header found in a sheet's first rows (0-based positions)."""

    start: int
    n_rows: int
    cells: list[tuple[str, ...]]  # per column: parts (group..., sub)
    kind: str | None
    mapping: dict[int, str]
    score: int

    @property
    def end(self) -> int:
        return self.start + self.n_rows

    @property
    def texts(self) -> list[str]:
        return [K.header_text(c) for c in self.cells]


def _fill_merges(
    window: list[list[str]], merges: list[tuple[tuple[int, int], tuple[int, int]]] | None
) -> list[list[str]]:
    """Spread each merged range's top-left text over the range (inside the window)."""
    if not merges:
        return window
    out = [list(r) for r in window]
    n_rows = len(out)
    for (r0, c0), (r1, c1) in merges:
        if r0 >= n_rows:
            continue
        width = len(out[r0])
        if c0 >= width:
            continue
        value = out[r0][c0]
        if value == "":
            continue
        for r in range(r0, min(r1, n_rows - 1) + 1):
            for c in range(c0, min(c1, len(out[r]) - 1) + 1):
                if out[r][c] == "":
                    out[r][c] = value
    return out


def _ffill(row: list[str]) -> list[str]:
    out, last = [], ""
    for v in row:
        if v != "":
            last = v
        out.append(last if v == "" else v)
    return out


def _header_cells(window: list[list[str]], start: int, n: int) -> list[tuple[str, ...]]:
    rows = window[start : start + n]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    filled = [_ffill(r) for r in rows[:-1]] + [rows[-1]]
    return [tuple(r[j] for r in filled) for j in range(width)]


def find_header(
    window: list[list[str]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]] | None = None,
) -> HeaderInfo | None:
    """The best header among the first rows of a sheet (cells as repaired text).

    Candidates are 1..3 consecutive rows starting on a non-blank row of the window. A candidate
    whose kind is recognised beats one that isn't; then more matched columns, fewer rows, an
    earlier start. Returns ``None`` for a window with no non-blank row.
    """
    window = window[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]
    filled = _fill_merges(window, merges)
    n_rows = len(filled)
    best: tuple | None = None
    best_info: HeaderInfo | None = None
    for start in range(min(HEADER_SEARCH_ROWS, n_rows)):
        if not any(v != "" for v in filled[start]):
            continue
        for n in range(1, MAX_HEADER_ROWS + 1):
            if start + n > n_rows:
                break
            if n > 1 and not any(v != "" for v in filled[start + n - 1]):
                break
            cells = _header_cells(filled, start, n)
            m = K.best_match(cells)
            # Ties: better-quality matches (a title row above lowers them), then the header
            # that ends first (a data or column-number row below adds nothing), then the one
            # that starts first (the upper rows of a merged header).
            rank = (m.complete, m.score, m.quality, -(start + n), -start)
            if best is None or rank > best:
                best = rank
                best_info = HeaderInfo(
                    start, n, cells, m.kind if m.complete else None, m.mapping, m.score
                )
    return best_info


_NUMBERING = re.compile(r"^\(?\s*(\d{1,3}|[A-Za-z])\s*\)?\*?$")


def _is_numbering_row(values: list[str]) -> bool:
    """A row of column numbers under the header: "(1) (2) (3)", "1 2 3 4", "A B C"."""
    cells = [v.strip() for v in values if v.strip() != ""]
    if len(cells) < 2 or not all(_NUMBERING.match(c) for c in cells):
        return False
    if any("(" in c for c in cells):
        return True
    keys = [c.strip("()* ") for c in cells]
    if all(k.isdigit() for k in keys):
        nums = [int(k) for k in keys]
        return nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)
    if all(k.isalpha() for k in keys):
        return [k.upper() for k in keys] == [chr(ord("A") + i) for i in range(len(keys))]
    return False


# --------------------------------------------------------------------------------------------
# Row classes
# --------------------------------------------------------------------------------------------

_FOOTER_RE = re.compile(
    r"\bnguoi lap( bieu| bang)?\b|\bthu truong\b|\bky ten\b|\bghi ro ho ten\b|\bky va ghi ro\b"
    r"|\bngay\b.*\bthang\b.*\bnam\b|\bxac nhan\b|^ghi chu\b|\bnguoi tong hop\b"
    r"|\bkiem tra\b.*\bky\b|^noi nhan\b"
)
_SIGNATORY_RE = re.compile(
    r"^(kt |tm |q |p |pho )?(hieu truong|pho hieu truong|truong phong|pho truong phong|"
    r"ke toan|ke toan truong|giam doc|chu tich|nguoi lap|lanh dao don vi|thu truong)$"
)
# Literal characters (not \\u escapes) so that pandas hands the pattern to pyarrow.
_LETTER_RE = "[A-Za-z\u00c0-\u1ef9]"
# A group heading inside the data: "I", "II." (with "MẦM NON" beside it), "III. GIÁO VIÊN",
# "A) Nhân viên": a Roman numeral alone, or a numeral or capital letter with "." / ")" before
# its text.
_SECTION_RE = r"^(?:[IVX]{1,5}[.)]?|(?:[IVX]{1,5}|[A-Z])[.)]\s.*)$"
_SECTION_TEXT_RE = r"^[IVX]{1,5}[.)]\s.*$"


# Row classes as small integers (the positions in ROW_CLASSES).
_DATA, _TITLE, _HEADER, _BLANK, _FOOTER, _TOTAL = range(len(ROW_CLASSES))

# A total label ("Tổng cộng", "Cộng:"...) folds to words of a small vocabulary, the first one
# "tong" or "cong" (``parse.is_total_label``). Two cheap tests on the raw text that every
# such label passes, so that the per-value check only sees the few values that might be one:
# - the first character that is an ASCII letter/digit or not ASCII is T/t/C/c or not ASCII
#   (legacy repair, NFC and white-space cleaning never turn ASCII punctuation into a letter,
#   nor one ASCII letter into another);
# - no ASCII digit and none of the letters d f j l v w z, nor đ/Đ (they survive repair and
#   folding, and no word of the vocabulary has them).
# Excel's escaped line breaks (``_x000D_``) become spaces first, as ``text.clean_text`` does.
_EXCEL_ESCAPE = "_x000[dDaA9]_"
_TOTAL_START = r"^[^0-9A-Za-z]*(?:[TtCc]|[^\x00-\x7f])"
_NOT_IN_TOTAL = "[0-9dDfFjJlLvVwWzZđĐ]"


def _holds_ng(texts: pd.Series) -> np.ndarray:
    """``texts.str.contains("ng", case=False, regex=False)`` (NA -> False), faster: no other
    character than N and G has n or g as its lower case, upper case or case folding, so the
    test is exact on the ASCII-lowered bytes, a plain substring search (no regex engine)."""
    arr = pa.array(texts.array, type=pa.large_string())
    found = pc.match_substring(pc.ascii_lower(arr), "ng")
    return np.asarray(pc.fill_null(found, False), dtype=bool)


def _may_be_total(texts: pd.Series) -> np.ndarray:
    """False for values that cannot be a total label (see above); True otherwise."""

    def facts(t: pd.Series) -> np.ndarray:
        start = t.str.contains(_TOTAL_START, regex=True).fillna(False)
        other = t.str.contains(_NOT_IN_TOTAL, regex=True).fillna(True)
        return np.array(start & ~other, dtype=bool)  # a writable copy

    out = facts(texts)
    # The escape replacement only changes values holding "_x000": done on those alone.
    escaped = texts.str.contains("_x000", regex=False).fillna(False).to_numpy(dtype=bool)
    if escaped.any():
        out[escaped] = facts(texts[escaped].str.replace(_EXCEL_ESCAPE, " ", regex=True))
    return out


def _one_chunk(texts: pd.Series) -> pd.Series:
    """``texts`` (``str``) as one contiguous pyarrow array: picking scattered values out of
    hundreds of chunks (one per column and CSV block) costs more than this one copy."""
    arr = pa.array(texts.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pd.Series(pd.array(arr, dtype="str"), index=texts.index)


#: Rows looked at to guess whether a column's values are nearly all distinct.
DISTINCT_SAMPLE_ROWS = 2048


def _nearly_distinct(col: pd.Series) -> bool:
    """A guess from the first rows: at least 90 % of them distinct (and enough of them)."""
    head = col.iloc[:DISTINCT_SAMPLE_ROWS]
    return len(head) >= 256 and head.nunique() >= 0.9 * len(head)


class _Cells:
    """The cells of a sheet, factorised column by column.

    ``codes[j]`` indexes one table of distinct values (the columns' own distinct values, one
    after the other) and ``NA`` (= the table's length) marks a missing cell. Facts about the
    values (blank, total label...) are computed once per distinct value and spread back with
    ``fact[codes[j]]``: no Python work per row, and few pandas calls on a small sheet.

    A text column whose first rows are nearly all distinct (ids, phone numbers, e-mails) has
    one slot per row instead of one per distinct value: finding its distinct values would cost
    more than it saves. Both give the same facts, being facts about a value; the guess only
    decides the speed.
    """

    def __init__(self, grid: pd.DataFrame):
        self.grid = grid
        n, width = grid.shape
        if width and all(dtype == np.dtype(object) for dtype in grid.dtypes):
            # Excel: every cell in one pass (values, not columns, carry the facts).
            c, self.uniques = _factorize(pd.Series(grid.to_numpy(dtype=object).ravel("F")))
            self.NA = len(self.uniques)
            c = np.where(c >= 0, c, self.NA)
            self.codes = [c[j * n : (j + 1) * n] for j in range(width)]
            self.bounds = [(0, self.NA)] * width
        else:
            # Column by column; text columns (CSV) keep their distinct values as pyarrow
            # strings (no round trip through Python objects).
            parts: list[pd.Series] = []
            flags: list[np.ndarray] = []
            codes: list[np.ndarray] = []
            self.bounds = []
            offset = 0
            for j in range(width):
                col = grid.iloc[:, j]
                if col.dtype == object:
                    c, u = _factorize(col)
                    is_str = _str_flags(u)
                    parts.append(_texts(u, is_str))
                elif isinstance(col.dtype, pd.StringDtype) and _nearly_distinct(col):
                    missing = col.isna().to_numpy(dtype=bool)
                    c = np.where(missing, -1, np.arange(n, dtype=np.intp))
                    u = col.array
                    is_str = ~missing
                    parts.append(pd.Series(u, dtype="str"))
                else:
                    c, u = pd.factorize(col, use_na_sentinel=True)
                    c = np.asarray(c, dtype=np.intp)
                    is_str = np.ones(len(u), dtype=bool)
                    parts.append(pd.Series(u, dtype="str"))
                flags.append(is_str)
                codes.append(np.where(c >= 0, c + offset, -1))
                self.bounds.append((offset, offset + len(u)))
                offset += len(u)
            self.NA = offset
            self.codes = [np.where(c >= 0, c, offset) for c in codes]
            self.uniques = None
            self.texts = (
                _one_chunk(pd.concat(parts, ignore_index=True))
                if parts
                else pd.Series([], dtype="str")
            )
            self.is_str = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
        if self.uniques is not None:
            self.is_str = _str_flags(self.uniques)
            self.texts = _texts(self.uniques, self.is_str)
        empty = self.texts.eq("") | self.texts.str.isspace()
        # A missing cell is blank; a non-text cell (number, date, bool) never is.
        self.blank_fact = np.append(self.is_str & empty.fillna(True).to_numpy(dtype=bool), True)
        self._total: np.ndarray | None = None
        self._total_done: np.ndarray | None = None

    def values_of(self, idx: np.ndarray) -> list:
        """The distinct values at positions ``idx``."""
        if self.uniques is not None:
            return self.uniques[idx].tolist()
        # Through numpy: a list of a pyarrow-backed Series builds one scalar per element.
        return self.texts.iloc[idx].to_numpy(dtype=object).tolist()

    def todo(self, columns: list[int] | None = None) -> np.ndarray:
        """:func:`_todo_fact` of the sheet's distinct values; with ``columns``, only of those
        columns' values (the other slots are False: the caller never looks them up)."""
        if columns is None or self.uniques is not None:
            return _todo_fact(self.is_str, self.texts)
        fact = np.zeros(self.NA + 1, dtype=bool)
        for j in sorted(set(columns)):
            lo, hi = self.bounds[j]
            fact[lo:hi] = _todo_fact(self.is_str[lo:hi], self.texts.iloc[lo:hi])[:-1]
        return fact

    def blank(self) -> np.ndarray:
        """Rows x columns: True where a cell is empty or white space only."""
        n = len(self.grid)
        if not self.codes:
            return np.zeros((n, 0), dtype=bool)
        return np.column_stack([self.blank_fact[c] for c in self.codes])

    def equals(self, j: int, value: str) -> np.ndarray:
        """Rows whose cell in column ``j`` is the text ``value``."""
        lo, hi = self.bounds[j]
        fact = np.zeros(self.NA + 1, dtype=bool)
        same = self.texts.iloc[lo:hi].eq(value).fillna(False).to_numpy(dtype=bool)
        fact[lo:hi] = self.is_str[lo:hi] & same
        return fact[self.codes[j]]

    def total_fact(self, columns: list[int], enc: str | None) -> np.ndarray:
        """Per distinct value (+ NA): a total label ("Tổng cộng", "Cộng"...), for the values
        of ``columns`` (others: False). Text only, at most 60 characters, holding "ng"."""
        if self._total is None:
            self._total = np.zeros(self.NA + 1, dtype=bool)
            self._total_done = np.zeros(self.NA + 1, dtype=bool)
            self._total_done[self.NA] = True
        wanted = np.zeros(self.NA + 1, dtype=bool)
        for j in columns:
            wanted[self.codes[j]] = True
        todo = np.flatnonzero(wanted & ~self._total_done)
        self._total_done[todo] = True
        todo = todo[self.is_str[todo]]
        if len(todo):
            # The cheap test over the columns' whole ranges of slots (zero-copy slices; a
            # superset of ``todo``), rather than gathering the ``todo`` slots first.
            cand = np.zeros(self.NA + 1, dtype=bool)
            for lo, hi in sorted({self.bounds[j] for j in columns}):
                t = self.texts.iloc[lo:hi]
                cand[lo:hi] = _holds_ng(t) & t.str.len().le(60).fillna(False).to_numpy(bool)
            todo = todo[cand[todo]]
        if len(todo):
            todo = todo[_may_be_total(self.texts.iloc[todo])]
        if len(todo):
            # A text may fill several slots (a column read in place has one per row): each
            # distinct text is repaired and read once.
            values = self.values_of(todo)
            label: dict[str, bool] = {}
            for v in values:
                if v not in label:
                    label[v] = parse.is_total_label(_repair_cells([v], enc)[0])
            hit = np.fromiter((label[v] for v in values), bool, len(values))
            self._total[todo[hit]] = True
        return self._total

    def letter_fact(self, idx: np.ndarray) -> np.ndarray:
        """Per distinct value (+ NA): text holding a letter, for the values ``idx``."""
        fact = np.zeros(self.NA + 1, dtype=bool)
        idx = np.unique(idx)
        idx = idx[idx < self.NA]
        idx = idx[self.is_str[idx]]
        if len(idx):
            has = self.texts.iloc[idx].str.contains(_LETTER_RE, regex=True)
            fact[idx] = has.fillna(False).to_numpy(dtype=bool)
        return fact


def _classify_rows(
    cells: _Cells,
    blank: np.ndarray,
    start: int,
    mapping: dict[int, str],
    header_last: list[str],
    enc: str | None,
) -> np.ndarray:
    """Class of each body row (rows ``start:`` of the sheet, under the header): data, blank,
    header, total, footer (as ``_DATA``... codes)."""
    body_blank = blank[start:]
    n_body = len(body_blank)
    codes = [c[start:] for c in cells.codes]
    n_nonblank = (~body_blank).sum(axis=1)
    cls = np.full(n_body, _DATA, dtype=np.int8)
    is_blank = n_nonblank == 0

    # Repeated header rows (page headers of long exports): exact copies of the header cells.
    repeated = np.zeros(n_body, dtype=bool)
    keyed = [
        (j, header_last[j]) for j in sorted(mapping) if j < len(header_last) and header_last[j]
    ]
    if len(keyed) >= 2:
        hits = np.zeros(n_body, dtype=np.int64)
        for j, k in keyed:
            hits += cells.equals(j, k)[start:]
        repeated = hits >= max(2, (len(keyed) + 1) // 2)

    # Totals: school name, or the first text cell among the first columns.
    name_cols = [j for j, c in mapping.items() if c == "school_name"]
    first_cols = list(range(min(5, len(codes))))
    total_fact = cells.total_fact(sorted(set(name_cols) | set(first_cols)), enc)
    total = np.zeros(n_body, dtype=bool)
    for j in name_cols:
        total |= total_fact[codes[j]]
    # "First text cell": only rows where one of the first columns holds a total label.
    any_label = np.zeros(n_body, dtype=bool)
    for j in first_cols:
        any_label |= total_fact[codes[j]]
    if any_label.any():
        rows = np.flatnonzero(any_label)
        sub = [codes[j][rows] for j in first_cols]
        letter = cells.letter_fact(np.concatenate(sub))
        first_text = np.full(len(rows), cells.NA)  # no text with a letter: ""
        for c in reversed(sub):
            first_text = np.where(letter[c], c, first_text)
        total[rows] |= total_fact[first_text]

    # Group headings (one or two cells, no digit, a Roman numeral in the first columns: in an
    # unmapped column such as STT, or before a text): non-data.
    section = np.zeros(n_body, dtype=bool)
    few = np.flatnonzero((n_nonblank >= 1) & (n_nonblank <= 2) & ~total)

    def matches(j: int, pattern: str) -> np.ndarray:
        """Rows ``few``: the cell of column ``j`` is a text matching ``pattern``."""
        sub = codes[j][few]
        fact = np.zeros(cells.NA + 1, dtype=bool)
        idx = np.unique(sub)
        idx = idx[idx < cells.NA]
        idx = idx[cells.is_str[idx]]
        if len(idx):
            hit = cells.texts.iloc[idx].str.strip().str.contains(pattern, regex=True)
            fact[idx] = hit.fillna(False).to_numpy(dtype=bool)
        return fact[sub]

    if len(few):
        heading = np.zeros(len(few), dtype=bool)
        for j in first_cols:
            heading |= matches(j, _SECTION_TEXT_RE if j in mapping else _SECTION_RE)
        if heading.any():
            text_or_missing = np.append(cells.is_str, True)  # a number or date cell: data
            for j in range(len(codes)):
                heading &= ~matches(j, r"\d") & text_or_missing[codes[j][few]]
            section[few[heading]] = True

    # Footer: after the last "dense" row, from the first footer-looking row on.
    n_mapped = max(1, len(mapping))
    dense = (n_nonblank >= max(3, -(-6 * n_mapped // 10))) & ~total & ~repeated
    dense_pos = np.flatnonzero(dense)
    tail_from = int(dense_pos[-1]) + 1 if len(dense_pos) else 0
    footer = np.zeros(n_body, dtype=bool)
    if tail_from < n_body:
        tail_blank = body_blank[tail_from:].all(axis=1)
        tail_total = total[tail_from:]
        # Footers are short: look at the last rows only (bounded work on any sheet).
        positions = np.flatnonzero(~tail_blank & ~tail_total)[-FOOTER_SCAN_ROWS:].tolist()
        first_marker = None
        for pos in positions:
            row = cells.grid.iloc[start + tail_from + pos].tolist()
            texts = [c for c in (_cell_text(v).strip() for v in row) if c]
            key = K.header_key(" ".join(_repair_cells(texts, enc)))
            if _FOOTER_RE.search(key) or (len(texts) <= 2 and _SIGNATORY_RE.match(key)):
                first_marker = pos
                break
        if first_marker is not None:
            footer[tail_from + first_marker :] = True

    cls[total] = _TOTAL
    cls[section & ~total] = _TITLE
    cls[footer & ~total] = _FOOTER
    cls[repeated] = _HEADER
    cls[is_blank] = _BLANK
    return cls


# --------------------------------------------------------------------------------------------
# Sheets (internal representation, shared by Excel and CSV)
# --------------------------------------------------------------------------------------------


@dataclass
class _Probe:
    """A sheet whose header has been looked at; the body is read on demand."""

    file: str
    sheet: str
    folder: str
    encoding: str | None
    legacy: str | None
    header: HeaderInfo | None
    head_rows: list[list[str]]  # repaired text of the first rows
    load: object  # callable (n_top_rows) -> pd.DataFrame of every row (raw values)
    n_rows_hint: int | None = None
    #: the finished table, kept when the probe sits in the file cache (see ``_finished``)
    table: RawTable | None = None
    cached: bool = False
    #: an unrecognised sheet's header of a known kind further down (``_deep_header``)
    deep_header: HeaderInfo | None = None
    #: see ``RawTable.read_note``
    read_note: str | None = None
    #: what the sheet XML holds beside calamine's cells (``xlsx_scan.SheetScan``; Excel only)
    xlsx: xlsx_scan.SheetScan | None = None

    @property
    def kind(self) -> str | None:
        return self.header.kind if self.header else None


def _headers_seen(probe: _Probe) -> list[str]:
    """The header-like cells of an unrecognised sheet: the best partial header when it matched
    two columns or more, else the first row with two non-blank cells (else the first row)."""
    if probe.header is not None and probe.header.score >= 2:
        return [t for t in probe.header.texts if t][:40]
    rows = [r for r in probe.head_rows[:HEADER_SEARCH_ROWS] if any(v for v in r)]
    if not rows:
        return []
    wide = [r for r in rows if sum(1 for v in r if v) >= 2]
    return [v for v in (wide or rows)[0] if v][:40]


def _check_probe(probe: _Probe) -> SkippedSheet | None:
    """None when the sheet is recognised; a SkippedSheet when it is not; raises IngestError
    when it looks like a kind but lacks a required column."""
    if probe.kind is not None:
        return None
    deep = probe.deep_header
    if deep is not None:
        assert deep.kind is not None
        raise IngestError(
            probe.file,
            probe.sheet,
            f"{_cap(_where(probe.file, probe.sheet))}: dòng tiêu đề của bảng "
            f"“{K.KIND_TITLES[deep.kind]}” ở dòng {deep.start + 1}, ngoài {HEADER_SEARCH_ROWS} "
            f"dòng đầu (dòng tiêu đề chỉ được tìm trong {HEADER_SEARCH_ROWS} dòng đầu của mỗi "
            "trang). Hãy xoá bớt các dòng phía trên dòng tiêu đề rồi chạy lại.",
            code="deep_header",
        )
    seen = _headers_seen(probe)
    if not probe.head_rows or not any(any(v for v in r) for r in probe.head_rows):
        return SkippedSheet(probe.file, probe.sheet, "Trang tính trống.", [])
    candidates: list[tuple[int, list[object]]] = []
    if probe.header is not None:
        candidates.append((probe.header.start, list(probe.header.cells)))
    for start in range(min(HEADER_SEARCH_ROWS, len(probe.head_rows))):
        row = probe.head_rows[start]
        if any(row):
            candidates.append((start, [(v,) for v in row]))
    best_near = None
    for start, cells in candidates:
        near = K.near_kind(cells)
        if near is not None and (best_near is None or near.score > best_near[0].score):
            best_near = (near, start, cells)
    if best_near is not None:
        near, start, cells = best_near
        spec = K.KIND_SPECS[near.kind]
        missing = ", ".join(f"“{h}”" for h in spec.missing_headers(near.mapping.values()))
        found = ", ".join(f"“{t}”" for t in (K.header_text(c) for c in cells) if t)
        raise IngestError(
            probe.file,
            probe.sheet,
            f"{_cap(_where(probe.file, probe.sheet))}: bảng có dạng “{spec.title}” "
            f"(dòng tiêu đề ở dòng {start + 1}) nhưng thiếu cột bắt buộc {missing}. "
            f"Các cột tìm thấy: {found}. Hãy thêm cột này hoặc sửa tên cột cho đúng mẫu "
            "rồi chạy lại.",
            code="missing_column",
        )
    shown = ", ".join(f"“{v}”" for v in seen[:12]) or "(không có)"
    return SkippedSheet(
        probe.file,
        probe.sheet,
        "Dòng tiêu đề không khớp loại bảng nào "
        f"({', '.join(K.KIND_TITLES[k] for k in K.KINDS)}); tiêu đề thấy được: {shown}.",
        seen,
    )


def _duplicate_columns(probe: _Probe, header: HeaderInfo, kind: str) -> list[dict]:
    """Warnings for columns that name a column already read (a hidden old "Chữ ký số" beside
    the new one): only one is read, which is said, never silent."""
    used = {name: j for j, name in header.mapping.items()}
    out = []
    for j, cell in enumerate(header.cells):
        name = None if j in header.mapping else K.canonical_of(cell, kind)
        if name is None or name not in used or name in K.PERSONAL_COLUMNS:
            continue
        kept, extra = xlsx_scan.col_letters(used[name]), xlsx_scan.col_letters(j)
        out.append(
            {
                "code": "duplicate_column",
                "kind": kind,
                "file": probe.file,
                "sheet": probe.sheet,
                "row": header.start + 1,
                "message": (
                    f"Hai cột cùng là “{K.header_text(header.cells[used[name]])}” (cột {kept} và "
                    f"cột {extra}): chỉ đọc cột {kept}, cột {extra} bị bỏ qua. Hãy xoá hoặc "
                    "đổi tên cột thừa rồi chạy lại."
                ),
            }
        )
    return out


def _take_rows(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``frame[mask]``; a slice when the rows form one run (the usual body of a sheet under
    its header), so that no column is copied."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0] : rows[-1] + 1]
    return frame[mask]


def _finish(probe: _Probe) -> RawTable:
    """Read the body of a recognised sheet and build its RawTable."""
    header = probe.header
    assert header is not None and header.kind is not None
    kind = header.kind
    spec = K.KIND_SPECS[kind]
    grid: pd.DataFrame = probe.load(header.start)
    n = len(grid)
    if grid.shape[1] < len(header.cells):
        for j in range(grid.shape[1], len(header.cells)):
            grid[j] = ""
    grid.index = pd.RangeIndex(1, n + 1, name="source_row")
    # Column mapping: keep non-personal canonical columns, in canonical order.
    by_name: dict[str, int] = {}
    personal: list[str] = []
    for j, name in sorted(header.mapping.items()):
        if name in K.PERSONAL_COLUMNS:
            personal.append(K.header_text(header.cells[j]))
        else:
            by_name.setdefault(name, j)
    keep = [name for name in spec.kept_columns if name in by_name]
    keep_cols = [by_name[name] for name in keep]
    cells = _Cells(grid)
    blank = cells.blank()
    row_blank = blank.all(axis=1)
    cls = np.full(n, _DATA, dtype=np.int8)
    h0, h1 = header.start, header.end
    cls[:h0] = _TITLE
    cls[h0:h1] = _HEADER
    body_from = h1
    # The row of column numbers may sit below a header row wholly covered by merges (blank).
    first_row = h1
    while first_row < min(n, h1 + MAX_HEADER_ROWS) and row_blank[first_row]:
        first_row += 1
    if first_row < n:
        first = [_cell_text(v) for v in grid.iloc[first_row].tolist()]
        if _is_numbering_row(first):
            cls[first_row] = _HEADER
            body_from = first_row + 1
    header_last = [c[-1] if c else "" for c in header.cells]
    if body_from < n:
        cls[body_from:] = _classify_rows(
            cells, blank, body_from, header.mapping, header_last, probe.legacy
        )
    cls[row_blank & (cls != _HEADER)] = _BLANK
    unread_cells, sheet_warnings = _place_xlsx(probe, cls, body_from, keep_cols, keep, kind)
    sel = (cls == _DATA) | (cls == _TOTAL)
    del blank

    unmapped = [
        K.header_text(c)
        for j, c in enumerate(header.cells)
        if j not in header.mapping and not K.is_ignored_header(c)
    ]
    sheet_warnings += _duplicate_columns(probe, header, kind)
    kept = _take_rows(grid, sel)[keep_cols]
    kept.columns = keep
    id_numbers = None
    if kind in K.ID_JOIN_KINDS:
        j_id = _id_number_column(header)
        if j_id is not None:
            id_numbers = _take_rows(grid, cls == _DATA)[j_id].rename("id_number")
    todo = cells.todo(keep_cols) if keep else None
    kept_codes = [cells.codes[by_name[name]][sel] for name in keep]
    values_of = cells.values_of
    del grid
    repairs = dict.fromkeys(REPAIR_KINDS, 0)
    memo: dict = {}
    for name, codes in zip(keep, kept_codes, strict=True):
        cleaned, counts = _clean_coded(kept[name], codes, values_of, todo, probe.legacy, memo)
        if cleaned is not None:
            kept[name] = cleaned
        for r, v in counts.items():
            repairs[r] += v
    row_cls = cls[sel]
    data = _take_rows(kept, row_cls == _DATA)
    totals = _take_rows(kept, row_cls == _TOTAL)
    counts = np.bincount(cls, minlength=len(ROW_CLASSES))
    row_classes = {c: int(counts[i]) for i, c in enumerate(ROW_CLASSES)}
    return RawTable(
        file=probe.file,
        sheet=probe.sheet,
        kind=kind,
        folder=probe.folder,
        data=data,
        totals=totals,
        row_classes=row_classes,
        rows_read=n,
        repairs=repairs,
        unmapped_columns=unmapped,
        personal_columns_dropped=personal,
        encoding=probe.encoding,
        header_rows=list(range(header.start + 1, header.end + 1)),
        columns={name: K.header_text(header.cells[by_name[name]]) for name in keep},
        legacy_encoding=probe.legacy,
        read_note=probe.read_note,
        unread_cells=unread_cells,
        sheet_warnings=sheet_warnings,
        title_texts=[v for r in probe.head_rows[: header.start] for v in r if v and v.strip()],
        id_numbers=id_numbers,
    )


def _id_number_column(header: HeaderInfo) -> int | None:
    """The column holding the CCCD number itself among the columns mapped to ``id_number``
    (which also takes "Ngày cấp CCCD", "Nơi cấp CCCD": dropped, never read)."""
    for j, name in sorted(header.mapping.items()):
        if name != "id_number":
            continue
        parts = K._as_parts(header.cells[j])
        last = K.header_key(parts[-1]) if parts else ""
        if not last.startswith(("ngay", "noi")):
            return j
    return None


def _place_xlsx(
    probe: _Probe, cls: np.ndarray, body_from: int, keep_cols: list[int], keep: list[str], kind: str
) -> tuple[dict[int, tuple[str, str, str]], list[dict]]:
    """The formula cells saved without a value, the error values and the far cells of an
    Excel sheet, tied to its rows (``xlsx_scan.place_formulas``); a body row read as blank
    that holds such a cell in a column read becomes a data row (refused later, never a blank
    row)."""
    if probe.xlsx is None:
        return {}, []
    where = {"kind": kind, "file": probe.file, "sheet": probe.sheet}
    refuse, warnings, to_data = xlsx_scan.place_formulas(
        probe.xlsx,
        [ROW_CLASSES[c] for c in cls.tolist()] if probe.xlsx.formulas or probe.xlsx.errors else [],
        body_from,
        dict(zip(keep_cols, keep, strict=True)),
        where,
    )
    if to_data:
        cls[to_data] = _DATA
    return refuse, warnings


def _detect_legacy_head(head: list[list[object]]) -> str | None:
    """``legacy.detect_legacy_frame`` of the first rows as text (``_cell_text`` of each cell,
    short rows padded with ``""``), column by column, without building a frame: a column is
    reduced to its distinct cells first and only those are turned into text."""
    if not head:
        return None

    def columns():
        for col in itertools.zip_longest(*head, fillvalue=""):
            texts = {v for v in col if type(v) is str}
            try:
                # (type, value): 1, 1.0 and True compare equal but read differently.
                others = {(type(v), v) for v in col if type(v) is not str}
                texts.update(_cell_text(v) for _, v in others)
            except TypeError:  # an unhashable cell (never from calamine or csv)
                texts.update(_cell_text(v) for v in col if type(v) is not str)
            yield texts

    return legacy.detect_legacy_columns(columns())


def _probe_grid(
    rel: str,
    sheet: str,
    folder: str,
    encoding: str | None,
    head: list[list[object]],
    merges,
    load,
) -> _Probe:
    """Decide legacy encoding and header from the first rows of a sheet."""
    enc = _detect_legacy_head(head)
    window = head[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]
    window_text = [_repair_cells([_cell_text(v) for v in r], enc) for r in window]
    info = find_header(window_text, merges)
    probe = _Probe(rel, sheet, folder, encoding, enc, info, window_text, load)
    if info is None or info.kind is None:
        probe.deep_header = _deep_header(head, enc)
    return probe


def _deep_header(head: list[list[object]], enc: str | None) -> HeaderInfo | None:
    """A header of a known kind below the first :data:`HEADER_SEARCH_ROWS` rows (down to row
    :data:`DEEP_HEADER_ROWS`), for the message that says where it is: rows with two text cells
    matching columns of a kind are tried as a header (with the rows around them, for a merged
    header). Only unrecognised sheets are looked at; positions are the sheet's."""
    memo: dict[int, list[str]] = {}

    def text_of(i: int) -> list[str]:
        if i not in memo:
            memo[i] = _repair_cells([_cell_text(v) for v in head[i]], enc)
        return memo[i]

    for start in range(HEADER_SEARCH_ROWS, min(len(head), DEEP_HEADER_ROWS)):
        if sum(1 for v in head[start] if type(v) is str and v.strip()) < 2:
            continue
        if K.best_match([(t,) for t in text_of(start) if t]).score < 2:
            continue
        lo = max(HEADER_SEARCH_ROWS, start - MAX_HEADER_ROWS + 1)
        hi = min(len(head), start + MAX_HEADER_ROWS)
        info = find_header([text_of(i) for i in range(lo, hi)])
        if info is not None and info.kind is not None:
            return replace(info, start=info.start + lo)
    return None


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
#: Bytes looked at to tell a file's real type (:func:`sniff`).
SNIFF_BYTES = 1 << 16
#: What a file named with an extension is expected to hold (:func:`sniff` types).
_EXPECTED = {
    ".xlsx": ("xlsx",),
    ".xlsm": ("xlsx",),
    ".xls": ("ole", "html"),  # BIFF, or an HTML table: what web exports produce
    ".ods": ("ods",),
    ".csv": ("text",),
    ".txt": ("text",),
}
#: How a type is named in messages, and the extension it should have.
_TYPE_NAMES = {
    "xlsx": ("tệp Excel (.xlsx)", ".xlsx"),
    "xlsb": ("sổ làm việc nhị phân Excel (.xlsb)", ".xlsb"),
    "ods": ("bảng tính OpenDocument (.ods)", ".ods"),
    "ole": ("tệp Excel 97-2003 (.xls)", ".xls"),
    "html": ("bảng HTML (trang web)", ".xls"),
    "text": ("văn bản CSV", ".csv"),
    "docx": ("tệp Word (.docx)", ".docx"),
    "zip": ("tệp nén (.zip)", ".zip"),
    "pdf": ("tệp PDF", ".pdf"),
    "xml": ("tệp XML (có thể là “Bảng tính XML 2003” của Excel)", ".xml"),
}
_MARKUP_START = ("<!doctype html", "<html", "<table", "<meta", "<head", "<body", "<style", "<title")
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f]")


def _head_text(head: bytes) -> str:
    """The first bytes of a file as text, enough to look for markup and control characters:
    UTF-8 and UTF-16 (BOM, or NUL-rich) decoded, anything else byte for byte (latin-1)."""
    if head.startswith(codecs.BOM_UTF8):
        return head[3:].decode("utf-8", errors="ignore")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    if head.count(b"\x00") > len(head) // 4:
        le = head[1::2].count(b"\x00") >= head[0::2].count(b"\x00")
        return head.decode("utf-16-le" if le else "utf-16-be", errors="ignore")
    return head.decode("latin-1")


def _sniff_bytes(head: bytes) -> str:
    """:func:`sniff` on the first bytes only (a zip is ``"zip"``, not refined)."""
    if not _NOT_BLANK_BYTE.search(head):
        return "empty"
    if head.startswith((_ZIP_MAGIC, b"PK\x05\x06")):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    txt = _head_text(head)
    start = txt.lstrip("\ufeff \t\r\n\x00").lower()[:4096]
    if start.startswith("<?xml"):
        return "html" if ("<html" in start or "<table" in start) else "xml"
    if start.startswith(_MARKUP_START) or (start.startswith("<!--") and "<table" in txt.lower()):
        return "html"
    if len(_CONTROL_RE.findall(txt)) > len(txt) // 100:
        return "binary"
    return "text"


def sniff(path: Path | str) -> str:
    """The real type of a file, from its bytes (the extension only decides what is a
    candidate for reading, :data:`EXTENSIONS`): ``"empty"`` (no byte but white space),
    ``"xlsx"``, ``"xlsb"``, ``"ods"``, ``"docx"``, ``"zip"`` (another archive),
    ``"broken_zip"``, ``"ole"`` (a compound file: ``.xls``, or an encrypted ``.xlsx``),
    ``"pdf"``, ``"html"``, ``"xml"``, ``"binary"`` (no text) or ``"text"`` (CSV-like)."""
    import zipfile

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    found = _sniff_bytes(head)
    if found != "zip":
        return found
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError):
        return "broken_zip"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if any(n.startswith("word/") for n in names):
        return "docx"
    return "zip"


def _folder_of(rel: str) -> str:
    folder = Path(rel).parent.as_posix()
    return f"thư mục “{folder}”" if folder not in ("", ".") else "thư mục dữ liệu"


def _is_encrypted_ooxml(path: Path) -> bool:
    """A compound file holding an "EncryptionInfo" stream: a password-protected .xlsx (under
    any name)."""
    try:
        with open(path, "rb") as fh:
            return "EncryptionInfo".encode("utf-16-le") in fh.read(1 << 20)
    except OSError:
        return False


def _excel_error(
    rel: str, path: Path, exc: Exception | None, real: str | None = None
) -> IngestError:
    """The message for an Excel-named file that cannot be read (``real``: its :func:`sniff`
    type when known). Vietnamese only: the library's own text stays in the chained
    exception (the log), not in the message."""
    import python_calamine as pc

    if real is None:
        try:
            real = sniff(path)
        except OSError:
            real = "binary"
    where = _folder_of(rel)
    suffix = path.suffix.lower() or "(không có)"
    code = "corrupt"
    if real == "empty":
        code = "empty"
        msg = (
            f"Tệp “{rel}” rỗng, không có dữ liệu. Hãy xuất lại tệp từ phần mềm "
            f"hoặc xoá tệp khỏi {where} rồi chạy lại."
        )
    elif isinstance(exc, pc.PasswordError) or (
        real == "ole" and (path.suffix.lower() in (".xlsx", ".xlsm") or _is_encrypted_ooxml(path))
    ):
        code = "password"
        msg = (
            f"Tệp “{rel}” được đặt mật khẩu (mã hoá) nên không đọc được. Hãy mở tệp bằng "
            "Excel, gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hoá bằng mật khẩu: "
            "để trống), lưu lại rồi chạy lại."
        )
    elif real in ("docx", "zip", "pdf", "xml"):
        code = "wrong_type"
        msg = (
            f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {_TYPE_NAMES[real][0]}, không "
            "phải bảng tính đọc được. Hãy mở bằng phần mềm tạo ra nó và lưu (hoặc xuất) lại "
            f"dạng .xlsx, hoặc xoá tệp khỏi {where}, rồi chạy lại."
        )
    else:
        msg = (
            f"Không đọc được tệp “{rel}”: tệp bị hỏng hoặc không phải tệp Excel. "
            "Hãy mở tệp bằng Excel và lưu lại dạng .xlsx (hoặc xuất lại từ phần mềm), "
            f"hoặc xoá tệp khỏi {where}, rồi chạy lại."
        )
    if exc is not None:
        log.info("%s: %s: %s", rel, type(exc).__name__, exc)
    return IngestError(rel, "", msg, code=code)


def _probe_excel(
    path: Path, rel: str, folder: str, by_content: bool = False
) -> list[_Probe | SkippedSheet]:
    """The sheets of a workbook (xlsx, xls, ods: python-calamine). ``by_content``: the
    extension does not say the file's type, which calamine then finds from the bytes."""
    import python_calamine as pc

    scan = None
    try:
        if path.stat().st_size == 0:
            raise _excel_error(rel, path, None)
        scan = _scan_xlsx(path, rel)
        if scan is not None and scan.data is not None:  # far cells taken out
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(scan.data))
        elif by_content:
            with open(path, "rb") as fh:
                wb = pc.CalamineWorkbook.from_filelike(fh)
        else:
            wb = pc.CalamineWorkbook.from_path(str(path))
        metas = wb.sheets_metadata
    except IngestError:
        raise
    except Exception as exc:  # calamine raises several error types
        raise _excel_error(rel, path, exc) from exc
    out: list[_Probe | SkippedSheet] = []
    for meta in metas:
        name = meta.name
        if str(meta.typ) != str(pc.SheetTypeEnum.WorkSheet):
            out.append(SkippedSheet(rel, name, "Không phải trang dữ liệu (biểu đồ/macro).", []))
            continue
        if str(meta.visible) != str(pc.SheetVisibleEnum.Visible):
            # A hidden sheet is what the sender chose not to show (last year's rows, a template):
            # never counted without a word; listed, and read once the user unhides it.
            out.append(SkippedSheet(rel, name, HIDDEN_SHEET_REASON, []))
            continue
        try:
            sheet = wb.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            try:
                merges = sheet.merged_cell_ranges
            except Exception:  # not available for every format
                merges = None
        except Exception as exc:
            log.info("%s [%s]: %s: %s", rel, name, type(exc).__name__, exc)
            raise IngestError(
                rel,
                name,
                f"Không đọc được {_where(rel, name)}: trang tính bị hỏng. Hãy mở tệp "
                "bằng Excel, lưu lại dạng .xlsx rồi chạy lại.",
                code="corrupt",
            ) from exc
        # Trim trailing all-empty rows (calamine stops at the used range; be safe), then
        # reach the formulas saved without a value (calamine stops at the last value).
        while rows and all(v == "" or v is None for v in rows[-1]):
            rows.pop()
        sheet_scan = scan.sheets.get(name) if scan is not None else None
        rows = xlsx_scan.pad_rows(rows, sheet_scan)

        def load(_n_top: int, rows=rows):
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame(rows, columns=range(width), dtype=object)

        head = rows[: max(LEGACY_SAMPLE_ROWS, HEADER_SEARCH_ROWS + MAX_HEADER_ROWS)]
        probe = _probe_grid(rel, name, folder, None, head, list(merges or []), load)
        probe.xlsx = sheet_scan
        out.append(probe)
    return out


def _scan_xlsx(path: Path, rel: str) -> xlsx_scan.WorkbookScan | None:
    """``xlsx_scan.scan_workbook`` of an .xlsx/.xlsm file before calamine opens it (``None``
    for another format, or a package the scan does not understand: calamine decides)."""
    with open(path, "rb") as fh:  # by the bytes: an .xlsx renamed .xls is scanned too
        if fh.read(4) != b"PK\x03\x04":
            return None
    try:
        return xlsx_scan.scan_workbook(path)
    except xlsx_scan.FarCellsError as exc:
        where = _cap(_where(rel, exc.sheet))
        raise IngestError(rel, exc.sheet, f"{where}: {exc.message}") from None


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


class UnknownEncoding(ValueError):
    """Bytes that are not text in an encoding the suite reads (UTF-8, UTF-16, Windows-1258).
    ``detail`` says what was seen (Vietnamese, for the message)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _line_of(raw: bytes, pos: int) -> int:
    """The 1-based line of byte ``pos`` (CR, LF or CRLF end a line)."""
    before = raw[:pos]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


def _decode_strict(raw: bytes, codec: str, what: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnknownEncoding(
            f"tệp được đánh dấu là {what} nhưng có byte sai ở dòng {_line_of(raw, exc.start)}"
        ) from exc


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a CSV file: UTF-8 with BOM, UTF-16 (BOM, or NUL-rich without), UTF-8, else
    Windows-1258 (then NFC: cp1258 yields combining tone marks). Returns (text, encoding).

    Raises :class:`UnknownEncoding` for bytes that are none of these: a BOM whose encoding
    does not decode, UTF-8 with damaged or foreign bytes among many well-formed sequences
    (read as Windows-1258 it would be silent mojibake), bytes that Windows-1258 leaves
    undefined, or control characters (not text)."""
    if raw.startswith(codecs.BOM_UTF8):
        text_data, encoding = _decode_strict(raw[3:], "utf-8", "UTF-8"), "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text_data, encoding = _decode_strict(raw, "utf-16", "UTF-16"), "utf-16"
    elif raw[:4000] and raw[:4000].count(b"\x00") > len(raw[:4000]) // 4:
        head = raw[:4000]
        le = head[1::2].count(b"\x00") >= head[0::2].count(b"\x00")
        encoding = "utf-16-le" if le else "utf-16-be"
        text_data = _decode_strict(raw, encoding, "UTF-16")
    else:
        try:
            text_data, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            valid = sum(len(m) for m in _UTF8_SEQ.findall(raw))
            high = len(raw.translate(None, bytes(range(128))))  # bytes >= 0x80
            if valid >= 10 and valid >= 3 * (high - valid):
                raise UnknownEncoding(
                    "tệp gần như là UTF-8 nhưng có byte sai hoặc lẫn bảng mã khác ở dòng "
                    f"{_line_of(raw, exc.start)}"
                ) from exc
            try:
                text_data = raw.decode("cp1258")
            except UnicodeDecodeError as exc2:
                raise UnknownEncoding(
                    "tệp không phải UTF-8, UTF-16 hay Windows-1258: có byte không thuộc các bảng "
                    f"mã này ở dòng {_line_of(raw, exc2.start)}"
                ) from exc2
            text_data, encoding = unicodedata.normalize("NFC", text_data), "cp1258"
    controls = _CONTROL_RE.findall(text_data[:SNIFF_BYTES])
    if len(controls) > len(text_data[:SNIFF_BYTES]) // 100:
        raise UnknownEncoding("tệp có nhiều ký tự điều khiển, không phải văn bản")
    return text_data, encoding


def _normalise_newlines(data: bytes) -> bytes:
    """CR alone (Excel for Mac "CSV (Macintosh)") and CRLF as LF, so that every reader (the
    csv module, pandas, pyarrow) sees the same lines: one line end is one line, whatever its
    kind, mixed or not. A line break inside a quoted field stays one (as LF)."""
    if b"\r" not in data:
        return data
    data = data.replace(b"\r\n", b"\n")  # Windows: the usual case, one pass
    return data.replace(b"\r", b"\n") if b"\r" in data else data


def _split_lines(sample: str, delim: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delim)
    rows = []
    for i, row in enumerate(reader):
        if i >= limit:
            break
        rows.append(row)
    return rows


def _pick_delimiter(sample: str) -> tuple[str, list[list[str]], HeaderInfo | None]:
    """The delimiter among ``,`` ``;`` tab whose split gives the best header (then the most
    consistent field count)."""
    best = None
    for delim in (",", ";", "\t"):
        # The choice looks at the first 60 lines only; the winner's lines are split in full
        # below (the legacy sample).
        rows = _split_lines(sample, delim, 60)
        window = [[c for c in r] for r in rows[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]]
        info = find_header([_repair_cells(r, None) for r in window])
        widths = [len(r) for r in rows[:60] if len(r) > 1]
        mode = max(set(widths), key=lambda w: (widths.count(w), w)) if widths else 1
        consistency = widths.count(mode) if widths else 0
        rank = (
            info is not None and info.kind is not None,
            info.score if info else 0,
            consistency,
            mode,
        )
        if best is None or rank > best[0]:
            best = (rank, delim, info)
    assert best is not None
    rank, delim, info = best
    return delim, _split_lines(sample, delim, max(LEGACY_SAMPLE_ROWS, 60)), info


def _read_csv_c(data: bytes, delim: str, width: int) -> pd.DataFrame:
    """Every line of a (UTF-8) CSV as text, ragged lines padded with ``""`` (pandas C engine)."""
    kw = dict(
        sep=delim,
        header=None,
        index_col=False,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
        encoding="utf-8",
        encoding_errors="replace",
    )
    try:
        return pd.read_csv(io.BytesIO(data), names=range(max(width, 1)), **kw)
    except pd.errors.ParserError:
        text_data = data.decode("utf-8", errors="replace")
        width = max(
            (len(r) for r in csv.reader(io.StringIO(text_data), delimiter=delim)), default=1
        )
        return pd.read_csv(io.BytesIO(data), names=range(max(width, 1)), **kw)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _read_csv_arrow(data: bytes, delim: str, skip: int, width: int) -> pd.DataFrame | None:
    """Fast path (pyarrow, multi-threaded) for a rectangular CSV: every line below the first
    ``skip`` ones has the same number of fields, no blank line, no line break inside a field.
    Returns ``None`` when that does not hold (or the bytes are not UTF-8): use the C engine."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(skip_rows=skip, autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, invalid_row_handler=on_invalid, ignore_empty_lines=True
            ),
            convert_options=pacsv.ConvertOptions(
                # every column as text ("001" keeps its zeros); names f0, f1... are pyarrow's
                column_types={f"f{i}": pa.string() for i in range(width + 64)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    if invalid:
        return None
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != n_lines - skip:
        return None  # blank lines or line breaks inside fields: positions would shift
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return None  # more columns than announced: let the C engine read it
    frame = table.to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=float("nan"))}.get
    )
    frame.columns = range(frame.shape[1])
    return frame


_HEAD_BYTES = 1 << 20
# A byte other than white space, NUL or a BOM byte: a file without one holds no data.
_NOT_BLANK_BYTE = re.compile(b"[^ \t\r\n\x00\xef\xbb\xbf\xff\xfe]")


def _probe_csv(
    path: Path, rel: str, folder: str, raw: bytes | None = None
) -> list[_Probe | SkippedSheet]:
    """The one sheet (named ``""``) of a CSV-like text file (``.csv``, Excel's "Unicode Text"
    ``.txt``, or text under another name): encoding, line ends, delimiter, header."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(rel, "", f"Không mở được tệp “{rel}”.", code="corrupt") from exc
    if not _NOT_BLANK_BYTE.search(raw):  # as ``not raw.strip(...)``, without a copy
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” rỗng, không có dữ liệu. Hãy xuất lại tệp từ phần mềm hoặc xoá tệp "
            f"khỏi {_folder_of(rel)} rồi chạy lại.",
            code="empty",
        )
    try:
        data, encoding = _to_utf8(raw)
    except UnknownEncoding as exc:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}”: không nhận ra bảng mã ký tự ({exc.detail}). Hãy mở tệp bằng Excel "
            "hoặc Notepad và lưu lại dạng “CSV UTF-8” (Lưu thành > CSV UTF-8 (phân cách bằng "
            "dấu phẩy)) rồi chạy lại.",
            code="encoding",
        ) from exc
    del raw
    data = _normalise_newlines(data)
    head_text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(
        data[:_HEAD_BYTES], final=len(data) <= _HEAD_BYTES
    )
    head_text = head_text[: _nth_line_end(head_text, max(LEGACY_SAMPLE_ROWS, 60))]
    delim, head_rows, _ = _pick_delimiter(head_text)
    width = max((len(r) for r in head_rows), default=1)

    def load(n_top: int, data=data, delim=delim, width=width, head_rows=head_rows):
        fast = _read_csv_arrow(data, delim, n_top, width)
        if fast is not None and all(len(r) <= fast.shape[1] for r in head_rows[:n_top]):
            if n_top == 0:
                return fast
            w = fast.shape[1]
            top = pd.DataFrame(
                [list(r) + [""] * (w - len(r)) for r in head_rows[:n_top]],
                columns=range(w),
                dtype="str",
            )
            return pd.concat([top, fast], ignore_index=True)
        return _read_csv_c(data, delim, width)

    probe = _probe_grid(rel, "", folder, encoding, head_rows, None, load)
    return [probe]


def _nth_line_end(text_data: str, n: int) -> int:
    cut = 0
    for _ in range(n):
        nxt = text_data.find("\n", cut)
        if nxt < 0:
            return len(text_data)
        cut = nxt + 1
    return cut


def _is_utf8(raw: bytes) -> bool:
    """Whether ``raw.decode("utf-8")`` would succeed, checked by pyarrow's UTF-8 validation
    (well-formed UTF-8 as the Unicode standard defines it, like Python's strict decoder:
    tested to agree on every sequence of up to 3 bytes and on mixed text) without building
    a str of the whole file."""
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    one = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        one.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _to_utf8(raw: bytes) -> tuple[bytes, str]:
    """The CSV bytes as UTF-8 (no BOM) and the encoding found (see :func:`decode_bytes`).

    Valid UTF-8 input is passed through as it is (validated, not decoded)."""
    if raw.startswith(codecs.BOM_UTF8) and _is_utf8(raw[len(codecs.BOM_UTF8) :]):
        return raw[len(codecs.BOM_UTF8) :], "utf-8-sig"
    head = raw[:_HEAD_BYTES]
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        head and head.count(b"\x00") > len(head) // 4
    )
    if not utf16 and _is_utf8(raw):
        return raw, "utf-8"
    text_data, encoding = decode_bytes(raw)
    return text_data.encode("utf-8"), encoding


# --------------------------------------------------------------------------------------------
# HTML tables saved as .xls (web exports)
# --------------------------------------------------------------------------------------------

_CHARSET_RE = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _decode_html(raw: bytes) -> tuple[str, str]:
    """An HTML file as text: a BOM, else the ``<meta charset>`` it declares, else as a CSV
    (:func:`decode_bytes`). Returns (text, encoding)."""
    if not raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found = _CHARSET_RE.search(raw[:SNIFF_BYTES])
        if found is not None:
            try:
                name = codecs.lookup(found.group(1).decode("ascii")).name
                text_data = raw.decode(name)
            except (LookupError, UnicodeDecodeError):
                pass
            else:
                return unicodedata.normalize("NFC", text_data), name
    return decode_bytes(raw)


def _span(cell, name: str) -> int:
    """A cell's ``colspan``/``rowspan`` (1 when missing or unreadable; at most 1000)."""
    try:
        return max(1, min(int(cell.get(name, "1")), 1000))
    except ValueError:
        return 1


def _html_grids(
    text_data: str,
) -> list[tuple[list[list[str]], list[tuple[tuple[int, int], tuple[int, int]]]]]:
    """The tables of an HTML document (those holding no other table: a page's layout table
    around the data is left), each as rows of cell texts and merged ranges (``colspan``/
    ``rowspan``: the text in the top-left cell, ``""`` in the others, as Excel reads them)."""
    import lxml.html

    doc = lxml.html.document_fromstring(_XML_DECL_RE.sub("", text_data, count=1))
    out = []
    for table in doc.iter("table"):
        if next(table.iterdescendants("table"), None) is not None:
            continue
        rows: list[list[str]] = []
        merges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        carry: dict[int, set[int]] = {}  # row -> columns covered by a rowspan from above
        for r, tr in enumerate(table.iter("tr")):
            covered = carry.pop(r, set())
            values: dict[int, str] = {}
            c = 0
            for cell in tr:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                while c in covered:
                    c += 1
                for br in cell.iter("br"):
                    br.tail = "\n" + (br.tail or "")
                cs, rs = _span(cell, "colspan"), _span(cell, "rowspan")
                if cs > 1 or rs > 1:
                    merges.append(((r, c), (r + rs - 1, c + cs - 1)))
                values[c] = cell.text_content()
                for dr in range(1, rs):
                    carry.setdefault(r + dr, set()).update(range(c, c + cs))
                c += cs
            width = max(c, max(covered, default=-1) + 1)
            rows.append([values.get(j, "") for j in range(width)])
        while rows and all(v.strip() == "" for v in rows[-1]):
            rows.pop()
        if rows:
            out.append((rows, merges))
    return out


def _probe_html(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    """The tables of an HTML file (an ``.xls`` web export): one sheet per table, named ``""``
    when there is one, ``"Bảng 1"``, ``"Bảng 2"``... otherwise. Cells are text (as in a CSV:
    codes keep their leading zeros)."""
    try:
        raw = path.read_bytes()
        text_data, encoding = _decode_html(raw)
        grids = _html_grids(text_data)
    except UnknownEncoding as exc:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” (trang web HTML): không nhận ra bảng mã ký tự ({exc.detail}). Hãy mở "
            "tệp bằng Excel và lưu lại dạng .xlsx rồi chạy lại.",
            code="encoding",
        ) from exc
    except Exception as exc:  # lxml's parser errors, OSError
        log.info("%s: %s: %s", rel, type(exc).__name__, exc)
        raise IngestError(
            rel,
            "",
            f"Không đọc được tệp “{rel}”: trang web (HTML) bị hỏng. Hãy mở tệp bằng Excel và "
            f"lưu lại dạng .xlsx, hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="corrupt",
        ) from exc
    if not grids:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” là trang web (HTML) nhưng không có bảng nào. Hãy xuất lại dữ liệu "
            f"dạng Excel (.xlsx), hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="wrong_type",
        )
    out: list[_Probe | SkippedSheet] = []
    for i, (rows, merges) in enumerate(grids):
        sheet = "" if len(grids) == 1 else f"Bảng {i + 1}"

        def load(_n_top: int, rows=rows):
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame(
                [r + [""] * (width - len(r)) for r in rows], columns=range(width), dtype=object
            )

        head = rows[: max(LEGACY_SAMPLE_ROWS, HEADER_SEARCH_ROWS + MAX_HEADER_ROWS)]
        out.append(_probe_grid(rel, sheet, folder, encoding, head, merges, load))
    return out


# --------------------------------------------------------------------------------------------
# Files, folders, periods
# --------------------------------------------------------------------------------------------

#: The readers, by the :func:`sniff` type of a file.
_WORKBOOK_TYPES = ("xlsx", "xlsb", "ods", "ole")
_TEXT_SUFFIXES = (".csv", ".txt")


def _read_note(rel: str, suffix: str, real: str) -> str:
    name, ext = _TYPE_NAMES[real]
    return (
        f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {name}: đã đọc theo nội dung của "
        f"tệp. Nên lưu lại tệp với đúng đuôi ({ext}) cho khỏi nhầm."
    )


def _probe_by_content(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    """Pick the reader from the file's bytes (:func:`sniff`), not its extension; a file read
    as another type than its extension says carries a ``read_note``."""
    suffix = path.suffix.lower()
    try:
        real = sniff(path)
    except OSError as exc:
        raise IngestError(rel, "", f"Không mở được tệp “{rel}”.", code="corrupt") from exc
    textual = suffix in _TEXT_SUFFIXES
    if real in _WORKBOOK_TYPES:
        items = _probe_excel(path, rel, folder, by_content=real not in _EXPECTED[suffix])
    elif real == "broken_zip" and suffix in (".xlsx", ".xlsm", ".ods"):
        # A zip Python's zipfile cannot list: calamine has the last word (and its failure,
        # the "corrupt" message).
        items = _probe_excel(path, rel, folder)
        real = _EXPECTED[suffix][0]
    elif real == "html":
        items = _probe_html(path, rel, folder)
    elif real == "text" or (textual and real in ("empty", "binary")):
        if real == "binary":
            raise IngestError(
                rel,
                "",
                f"Tệp “{rel}”: không nhận ra bảng mã ký tự (tệp có nhiều ký tự điều khiển, "
                "không phải văn bản). Hãy mở tệp bằng Excel và lưu lại dạng “CSV UTF-8” hoặc "
                f".xlsx, hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
                code="encoding",
            )
        try:
            items = _probe_csv(path, rel, folder)
        except IngestError as exc:
            if textual:
                raise
            raise IngestError(
                rel,
                exc.sheet,
                f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là văn bản (CSV), không phải "
                f"tệp Excel. {exc.message}",
                code=exc.code,
            ) from exc
    elif real == "empty":
        raise _excel_error(rel, path, None, real)
    elif real in ("docx", "zip", "pdf", "xml"):
        if textual:
            raise IngestError(
                rel,
                "",
                f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {_TYPE_NAMES[real][0]}, "
                "không phải bảng tính đọc được. Hãy lưu (hoặc xuất) lại dạng .xlsx hoặc CSV, "
                f"hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
                code="wrong_type",
            )
        raise _excel_error(rel, path, None, real)
    else:  # broken zip, binary under an Excel name
        raise _excel_error(rel, path, None, real)
    if real not in _EXPECTED[suffix]:
        note = _read_note(rel, suffix, real)
        for item in items:
            if isinstance(item, _Probe):
                item.read_note = note
    return items


#: A ``.txt`` file that fails to read for one of these reasons is listed as not read (it may
#: be a note, not a table); any other failure stops the run as for a ``.csv``.
_TXT_UNREAD = {
    "empty": "Tệp văn bản rỗng: không đọc.",
    "encoding": "Tệp văn bản có bảng mã ký tự không nhận ra (không phải UTF-8, UTF-16 hay "
    "Windows-1258): không đọc.",
    "no_kind": "Tệp văn bản không có dòng tiêu đề của một loại bảng đã biết (không phải bảng "
    "“Unicode Text” xuất từ Excel): không đọc.",
    "wrong_type": "Tệp văn bản không phải bảng tính: không đọc.",
}


def _probe_file(path: Path, raw_root: Path | None) -> list[_Probe | SkippedSheet | UnreadFile]:
    path = Path(path)
    rel = _rel(path, raw_root)
    if path.suffix.lower() not in EXTENSIONS:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” không đọc được: {_unread_reason(path.name)} Hãy lưu lại tệp dạng "
            ".xlsx hoặc .csv.",
            code="wrong_type",
        )
    try:
        return _probe_checked(path, rel)
    except IngestError as exc:
        if path.suffix.lower() == ".txt" and exc.code in _TXT_UNREAD:
            return [UnreadFile(rel, _TXT_UNREAD[exc.code])]
        raise


def _probe_checked(path: Path, rel: str) -> list[_Probe | SkippedSheet]:
    # The period folder: the first part of the path under the raw root (a file may sit in a
    # sub-folder of it).
    folder = rel.split("/", 1)[0] if "/" in rel else path.parent.name
    items = _probe_by_content(path, rel, folder)
    # Refuse look-alike sheets missing a required column; collect the skipped ones.
    out: list[_Probe | SkippedSheet] = []
    for item in items:
        if isinstance(item, _Probe):
            skipped = _check_probe(item)
            out.append(item if skipped is None else skipped)
        else:
            out.append(item)
    if not any(isinstance(i, _Probe) for i in out):
        note = next((i.read_note for i in items if isinstance(i, _Probe) and i.read_note), "")
        parts = []
        for s in out:
            assert isinstance(s, SkippedSheet)
            shown = ", ".join(f"“{h}”" for h in s.headers_seen[:10]) or "(trống)"
            parts.append(f"trang “{s.sheet}”: {shown}" if s.sheet else shown)
        kinds_txt = "; ".join(
            f"{K.KIND_TITLES[k]} (cần {', '.join(K.KIND_SPECS[k].missing_headers([]))})"
            for k in K.KINDS
        )
        raise IngestError(
            rel,
            "",
            f"{note + ' ' if note else ''}"
            f"Tệp “{rel}”: không có trang nào có dòng tiêu đề của một loại bảng đã biết. "
            f"Tiêu đề thấy được: {' | '.join(parts) or '(không có)'}. Các loại bảng nhận được: "
            f"{kinds_txt}. Hãy sửa dòng tiêu đề theo mẫu hoặc chuyển tệp này ra khỏi thư mục "
            "dữ liệu rồi chạy lại.",
            code="no_kind",
        )
    return out


# --------------------------------------------------------------------------------------------
# File cache: cleaning a period reads the folders <= period (carry-forward) and the history
# reads the earlier folders again; several periods in one process read the same files over
# and over. Small files are kept, probed and finished, keyed by their content.
# --------------------------------------------------------------------------------------------

#: Files up to this size are kept in memory once read (per process).
CACHE_FILE_BYTES = 1 << 20
#: The cache holds files of at most this many bytes in all (least recently used go first).
CACHE_TOTAL_BYTES = 48 << 20

_FILE_CACHE: OrderedDict[
    tuple[str, str, str], tuple[int, list[_Probe | SkippedSheet | UnreadFile]]
] = OrderedDict()


def clear_cache() -> None:
    """Forget every file kept by the read cache."""
    _FILE_CACHE.clear()


def _cache_key(path: Path, raw_root: Path | None) -> tuple[tuple[str, str, str], int] | None:
    """(key, size) of a file the read cache keeps, ``None`` for one it does not (empty, too
    large or unreadable)."""
    try:
        size = path.stat().st_size
        if not 0 < size <= CACHE_FILE_BYTES:
            return None
        digest = hashlib.blake2b(path.read_bytes(), digest_size=20).hexdigest()
    except OSError:
        return None
    return (str(path.resolve()), _rel(path, raw_root), digest), size


def _cache_put(
    key: tuple[str, str, str], size: int, items: list[_Probe | SkippedSheet | UnreadFile]
) -> None:
    for item in items:
        if isinstance(item, _Probe):
            item.cached = True
    _FILE_CACHE[key] = (size, items)
    _FILE_CACHE.move_to_end(key)
    total = sum(n for n, _ in _FILE_CACHE.values())
    while total > CACHE_TOTAL_BYTES and len(_FILE_CACHE) > 1:
        _, (n, _) = _FILE_CACHE.popitem(last=False)
        total -= n


def _probe_file_cached(
    path: Path, raw_root: Path | None
) -> list[_Probe | SkippedSheet | UnreadFile]:
    """``_probe_file``, kept per process for small files, keyed by path and content."""
    found = _cache_key(path, raw_root)
    if found is None:
        return _probe_file(path, raw_root)
    key, size = found
    hit = _FILE_CACHE.get(key)
    if hit is None:
        _cache_put(key, size, _probe_file(path, raw_root))  # a bad file raises: nothing kept
        hit = _FILE_CACHE[key]
    else:
        _FILE_CACHE.move_to_end(key)
    return [
        replace(item, headers_seen=list(item.headers_seen))
        if isinstance(item, SkippedSheet)
        else item
        for item in hit[1]
    ]


def _read_whole(
    item: tuple[Path, tuple[str, str, str], int], raw_root: Path | None
) -> tuple[tuple, int, list]:
    """In a worker of ``prefetch``: the cache entry of one file (its key and size as the
    caller found them) with every table finished (the rows, which cannot be pickled,
    dropped)."""
    path, key, size = item
    items = _probe_file(path, raw_root)
    for probe in items:
        if isinstance(probe, _Probe):
            table = _finish(probe)
            if table.id_numbers is not None:
                # CCCD numbers are never kept nor sent back: the readers read this file.
                return key, size, None
            probe.table = table
            probe.load = None
    return key, size, items


def prefetch(files: list[Path], raw_root: Path | str | None, jobs: int) -> int:
    """Read ``files`` into this process's read cache with ``jobs`` processes (this one and
    forked workers, :mod:`analysis.parallel`), every sheet finished; the readers that follow
    (``read_period``, ``read_folder``) then find them read. Files already kept, and files the
    cache does not keep, are left to those readers; so is a file that fails to read, which
    they then read (and report) as usual. Returns how many files the workers read."""
    from analysis.core import parallel

    raw_root = Path(raw_root) if raw_root is not None else None
    todo: list[tuple[Path, tuple[str, str, str], int]] = []
    for path in files:
        found = _cache_key(Path(path), raw_root)
        if found is not None and found[0] not in _FILE_CACHE:
            todo.append((Path(path), *found))
    if jobs < 2 or len(todo) < 2:
        return 0
    # A small export costs about the same to read whatever its size (50-60 ms: opening,
    # header search, row classes); rows add to it.
    groups = parallel.split([1.0 + size / 100_000 for _, _, size in todo], min(jobs, len(todo)))
    pending = parallel.start(_read_whole, [[todo[i] for i in g] for g in groups[1:]], (raw_root,))
    try:
        for i in groups[0]:
            path = todo[i][0]
            try:
                for item in _probe_file_cached(path, raw_root):
                    if isinstance(item, _Probe):
                        _finished(item)
            except Exception:  # left to the readers that follow, which report it
                continue
    finally:
        results = pending.results()
    n = 0
    for result in itertools.chain.from_iterable(results):
        if isinstance(result, parallel.Failed):
            continue
        key, size, items = result
        if items is not None and key not in _FILE_CACHE:
            _cache_put(key, size, items)
            n += 1
    return n


def _copy_table(t: RawTable) -> RawTable:
    """A RawTable that shares no mutable container with ``t`` (frames are copy-on-write)."""
    return replace(
        t,
        data=t.data.copy(deep=False),
        totals=t.totals.copy(deep=False),
        row_classes=dict(t.row_classes),
        repairs=dict(t.repairs),
        unmapped_columns=list(t.unmapped_columns),
        personal_columns_dropped=list(t.personal_columns_dropped),
        header_rows=list(t.header_rows),
        columns=dict(t.columns),
        unread_cells=dict(t.unread_cells),
        sheet_warnings=[dict(w) for w in t.sheet_warnings],
        title_texts=list(t.title_texts),
        id_numbers=None,  # personal: never in a copy (the read cache keeps copies)
    )


def _finished(probe: _Probe) -> RawTable:
    """``_finish(probe)``; a cached probe keeps its table (and drops its rows) for next time.
    Every caller gets its own copy."""
    if probe.table is not None:
        return _copy_table(probe.table)
    table = _finish(probe)
    if probe.cached and table.id_numbers is None:
        # A table holding CCCD numbers is never kept: each caller reads it again.
        probe.table = _copy_table(table)
        probe.load = None  # the rows are no longer needed
    return table


def read_file(
    path: Path | str, raw_root: Path | str | None = None
) -> list[RawTable | SkippedSheet | UnreadFile]:
    """Read every sheet of one file (a CSV file is one sheet named ``""``).

    Returns a RawTable per recognised sheet and a SkippedSheet per other sheet, in sheet order;
    for a ``.txt`` file that holds no table, one :class:`UnreadFile`.
    Raises :class:`IngestError` for an unreadable file, a file with no recognised sheet, or a
    sheet that looks like a kind but lacks a required column.
    """
    raw_root = Path(raw_root) if raw_root is not None else Path(path).parent.parent
    out: list[RawTable | SkippedSheet] = []
    for item in _probe_file_cached(Path(path), raw_root):
        out.append(_finished(item) if isinstance(item, _Probe) else item)
    return out


def read_folder(
    folder: Path | str,
    raw_root: Path | str | None = None,
    skipped: list[SkippedSheet] | None = None,
    kinds: tuple[str, ...] | None = None,
    unread: list[UnreadFile] | None = None,
) -> list[RawTable]:
    """Read every file of one folder and its sub-folders (:func:`list_files` order). Skipped
    sheets are appended to ``skipped``, and the files not read to ``unread``, when lists are
    given. With ``kinds``, only the sheets of those kinds are turned into tables (the others
    are classified from their header rows and left)."""
    folder = Path(folder)
    raw_root = Path(raw_root) if raw_root is not None else folder.parent
    files, not_read = scan_folder(folder, raw_root)
    if unread is not None:
        unread.extend(not_read)
    tables: list[RawTable] = []
    for path in files:
        for item in _probe_file_cached(path, raw_root):
            if isinstance(item, _Probe):
                if kinds is None or item.kind in kinds:
                    tables.append(_finished(item))
            elif isinstance(item, SkippedSheet):
                if skipped is not None:
                    skipped.append(item)
            elif unread is not None:
                unread.append(item)
    if unread is not None:
        unread.sort(key=lambda u: u.file)
    return tables


def _kinds_index(path: Path) -> str:
    return f"kinds/{cache.file_digest(path).hex()}"


def files_to_read(raw_root: Path | str, period: str, cache_root: Path | str | None) -> list[Path]:
    """The files a first reading of ``period`` and of the history of its earlier folders will
    read, for ``prefetch``: every file of the newest folder ``<= period``, and the files of the
    earlier folders whose kinds ``cache_root`` does not hold yet (a file whose kinds are known
    was read by an earlier run, whose history entries spare reading it again)."""
    raw_root = Path(raw_root)
    folders = [p for p in paths.list_periods(raw_root) if p <= period]
    out: list[Path] = []
    for n, folder in enumerate(reversed(folders)):
        for path in list_files(raw_root / folder):
            known = (
                cache.load_json(cache_root, _kinds_index(path), cache.code_fingerprint())
                if n and cache_root is not None
                else None
            )
            if known is None:
                out.append(path)
    return out


def read_period(
    raw_root: Path | str, period: str, cache_root: Path | str | None = None
) -> PeriodInput:
    """Read what period ``period`` needs: for each kind, the sheets of the latest folder
    ``<= period`` that has that kind.

    Folders are probed newest first (headers only: a CSV body or an Excel sheet's rows are
    turned into a table only when its kind is still unserved), and the walk stops once every
    kind is served. An older folder is only looked at while some kind has not been found,
    so a district whose school list sits in the first folder probes every folder's headers:
    cheap for CSV (the first rows), a full sheet load for Excel (calamine reads whole sheets).

    With ``cache_root`` (the processed folder), the kinds of each probed file's sheets are kept
    in ``<cache_root>/_cache/kinds/`` (``analysis.cache``, keyed by the file's bytes and the
    code), and a file of an earlier folder whose kinds a newer folder already serves is not
    probed again: it would be left anyway (no table, and its skipped sheets are not listed).

    Raises :class:`IngestError` when no folder ``<= period`` holds a readable file, or none of
    them holds a sheet of any kind, or for a bad file met on the way.
    """
    raw_root = Path(raw_root)
    paths.parse_period(period)
    folders = [p for p in paths.list_periods(raw_root) if p <= period]
    served: dict[str, str | None] = dict.fromkeys(K.KINDS, None)
    tables: list[RawTable] = []
    skipped: list[SkippedSheet] = []
    unread: list[UnreadFile] = []
    n_files = 0
    for folder in reversed(folders):
        if all(served[k] is not None for k in K.KINDS):
            break
        files, not_read = scan_folder(raw_root / folder, raw_root)
        n_files += len(files)
        found_here: set[str] = set()
        pending: list[_Probe] = []
        newest = folder == folders[-1]
        unread_here = list(not_read)
        for path in files:
            index = None
            if cache_root is not None:
                index = _kinds_index(path)
                known = cache.load_json(cache_root, index, cache.code_fingerprint())
                if not newest and known is not None and all(served[k] for k in known):
                    continue
                index = None if known is not None else index
            items = _probe_file_cached(path, raw_root)
            if index is not None:
                found = sorted({i.kind for i in items if isinstance(i, _Probe)})
                cache.store_json(cache_root, index, cache.code_fingerprint(), found)
            if newest:  # like the skipped sheets of a file that serves nothing
                unread_here += [i for i in items if isinstance(i, UnreadFile)]
            used = [i for i in items if isinstance(i, _Probe) and served[i.kind] is None]
            for item in items:
                if isinstance(item, SkippedSheet):
                    # Listed for the period's own folder, or when the file serves a kind.
                    if newest or used:
                        skipped.append(item)
            for item in used:
                pending.append(item)
                found_here.add(item.kind)
        for probe in pending:
            tables.append(_finished(probe))
        for kind in sorted(found_here):
            served[kind] = folder
        if newest or found_here:  # as for skipped sheets: the folders this period uses
            unread += unread_here
    if n_files == 0:
        shown = "; ".join(f"“{u.file}”: {u.reason}" for u in unread[:5])
        raise IngestError(
            period,
            None,
            f"Không có dữ liệu cho kỳ {period}: không tìm thấy tệp .xlsx, .xls, .ods hay .csv "
            f"nào trong các thư mục kỳ báo cáo ≤ {period} dưới {raw_root}"
            f"{f' (tệp không đọc: {shown})' if shown else ''}. Hãy chép các tệp xuất "
            f"dữ liệu vào {raw_root / period} rồi chạy lại.",
        )
    if not tables:
        raise IngestError(
            period,
            None,
            f"Không có dữ liệu dùng được cho kỳ {period}: các tệp trong các thư mục ≤ {period} "
            "không có trang nào nhận ra được loại bảng. Hãy kiểm tra dòng tiêu đề của các tệp "
            "(xem danh sách trang bị bỏ qua) rồi chạy lại.",
        )
    order = {k: i for i, k in enumerate(K.KINDS)}
    tables.sort(key=lambda t: (order[t.kind], t.file, t.sheet))
    unread.sort(key=lambda u: u.file)
    return PeriodInput(period, raw_root, tables, skipped, served, unread)


__all__ = [
    "HeaderInfo",
    "IngestError",
    "PeriodInput",
    "RawTable",
    "SkippedSheet",
    "UnknownEncoding",
    "UnreadFile",
    "clear_cache",
    "decode_bytes",
    "files_to_read",
    "find_header",
    "list_files",
    "prefetch",
    "read_file",
    "read_folder",
    "read_period",
    "scan_folder",
    "sniff",
]
