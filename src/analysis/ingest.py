"""Reading raw exports: files, sheets, header rows, merged headers, table kinds.

``read_period(raw_root, period)`` is what the cleaning stage calls. It lists the period folders
``<= period`` (newest first), reads their ``.xlsx``/``.xls`` (python-calamine) and ``.csv`` files,
classifies each sheet by its header (:mod:`analysis.kinds`) and, for each kind, keeps the sheets
of the latest folder that has that kind (carry-forward, data contract section 1).

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

Row numbers are 1-based source rows as Excel (or a text editor, for CSV) shows them. A CSV
field holding a line break shifts the numbers of the lines below it (rare in exports).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import kinds as K
from analysis import legacy, parse, paths, text

#: The header is looked for in the first rows of a sheet.
HEADER_SEARCH_ROWS = 20
#: A header may be merged over this many rows.
MAX_HEADER_ROWS = 3
#: Rows of a sheet sampled to decide its legacy encoding.
LEGACY_SAMPLE_ROWS = 2000
#: File extensions that are read; everything else in a period folder is ignored.
EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")
ROW_CLASSES = ("data", "title", "header", "blank", "footer", "total")
REPAIR_KINDS = ("tcvn3", "vni", "nfd", "whitespace")
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
        encoding: the CSV encoding found (``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``,
            ``"cp1258"``); ``None`` for Excel.
        header_rows: the 1-based source rows of the header (merged headers span 2-3 rows).
        columns: canonical column -> the source column (flattened header text, for messages).
        legacy_encoding: ``"tcvn3"``/``"vni"`` when the sheet was typed in a legacy encoding.
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
    for every kind of :data:`analysis.kinds.KINDS`.
    """

    period: str
    raw_root: Path
    tables: list[RawTable]
    skipped: list[SkippedSheet]
    served: dict[str, str | None]

    def tables_of(self, kind: str) -> list[RawTable]:
        """The tables of one kind, in file/sheet order."""
        if kind not in K.KINDS:
            raise KeyError(kind)
        return [t for t in self.tables if t.kind == kind]


class IngestError(Exception):
    """A file or period that cannot be read. ``message`` is Vietnamese and says what to do;
    ``file`` is relative to the raw root (or the period folder for a period-level error) and
    ``sheet`` is the sheet name (``""`` for a CSV or a whole file, ``None`` for a period)."""

    def __init__(self, file: str | None, sheet: str | None, message: str):
        super().__init__(message)
        self.file = file
        self.sheet = sheet
        self.message = message

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


def _is_listed(name: str) -> bool:
    return (
        not name.startswith("~$") and not name.startswith(".") and name.lower().endswith(EXTENSIONS)
    )


def list_files(folder: Path) -> list[Path]:
    """The readable files of a folder (sorted names; no ``~$`` lock files, dot files or other
    extensions)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and _is_listed(p.name)), key=lambda p: p.name
    )


# --------------------------------------------------------------------------------------------
# Text repair, per unique value
# --------------------------------------------------------------------------------------------

# A space at either end, a double space, or control white space (literal characters and \\Z
# only, so that pandas hands the pattern to pyarrow's RE2: no Python loop).
_WS_ODD = "^ | \\Z|  |[\t\r\n\x0b\x0c]"


def _clean_values(s: pd.Series, enc: str | None) -> tuple[pd.Series, dict[str, int]]:
    """Repair (legacy ``enc``), NFC-normalise and clean the text cells of one column.

    Works per unique value; ASCII cells only get the white-space check (vectorised). Returns
    the new series and the cells changed per repair kind.
    """
    counts = dict.fromkeys(REPAIR_KINDS, 0)
    if s.empty:
        return s, counts
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == "str":
        str_vals = s
        is_str = s.notna()
    else:
        is_str = s.map(type).eq(str)
        str_vals = s.where(is_str).astype("str")
    ascii_mask = str_vals.str.isascii().fillna(False).astype(bool)
    odd_ws = str_vals.str.contains(_WS_ODD, regex=True).fillna(False).astype(bool) & ascii_mask
    todo = is_str & (~ascii_mask | odd_ws)
    if not bool(todo.any()):
        return s, counts
    uniques = sorted(pd.unique(str_vals[todo]))
    mapping: dict[str, str] = {}
    step: dict[str, tuple[bool, bool, bool, str | None]] = {}
    for value in uniques:
        v = value
        found = None
        if enc is not None:
            v, found = legacy.repair_legacy(v, enc)
        v_nfc = unicodedata.normalize("NFC", v)
        v_clean = text.clean_text(v_nfc)
        if v_clean is None:
            v_clean = ""
        if v_clean != value:
            mapping[value] = v_clean
            step[value] = (found is not None, v_nfc != v, v_clean != v_nfc, found)
    if not mapping:
        return s, counts
    hits = str_vals[todo]
    hits = hits[hits.isin(list(mapping))]
    freq = hits.value_counts()
    for value, n in freq.items():
        is_legacy, is_nfd, is_ws, found = step[value]
        if is_legacy and found:
            counts[found] += int(n)
        if is_nfd:
            counts["nfd"] += int(n)
        if is_ws:
            counts["whitespace"] += int(n)
    out = s.copy()
    idx = hits.index
    out.loc[idx] = hits.map(mapping).to_numpy()
    return out, counts


def _repair_cells(values: list[str], enc: str | None) -> list[str]:
    """Repair a few header/label cells (legacy, NFC, spaces)."""
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


def _blank_frame(body: pd.DataFrame) -> pd.DataFrame:
    """True where a cell is empty or white space only."""
    out = {}
    for c in body.columns:
        s = body[c]
        if not (isinstance(s.dtype, pd.StringDtype) or s.dtype == "str"):
            s = s.astype("str")
        out[c] = (s.isna() | s.eq("") | s.str.isspace()).fillna(True).astype(bool)
    return pd.DataFrame(out, index=body.index)


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == "str":
        return s.fillna("")
    is_str = s.map(type).eq(str)
    return s.where(is_str, "").astype("str")


def _total_mask(values: pd.Series, enc: str | None) -> pd.Series:
    """Rows whose value is a total label (per unique value, prefiltered)."""
    v = _as_text(values)
    cand = v.str.contains("ng", case=False, regex=False) & v.str.len().le(60)
    if not bool(cand.any()):
        return pd.Series(False, index=values.index)
    uniques = sorted(pd.unique(v[cand]))
    fixed = _repair_cells(uniques, enc)
    totals = [u for u, f in zip(uniques, fixed, strict=True) if parse.is_total_label(f)]
    return v.isin(totals) & cand


def _classify_rows(
    body: pd.DataFrame,
    blank: pd.DataFrame,
    mapping: dict[int, str],
    header_last: list[str],
    enc: str | None,
) -> pd.Series:
    """Class of each body row (rows under the header): data, blank, header, total, footer."""
    n_nonblank = (~blank).sum(axis=1)
    cls = pd.Series("data", index=body.index, dtype="str")
    is_blank = n_nonblank.eq(0)

    # Repeated header rows (page headers of long exports): exact copies of the header cells.
    repeated = pd.Series(False, index=body.index)
    keyed = [
        (j, header_last[j]) for j in sorted(mapping) if j < len(header_last) and header_last[j]
    ]
    if len(keyed) >= 2:
        hits = pd.Series(0, index=body.index)
        for j, k in keyed:
            hits = hits + _as_text(body.iloc[:, j]).eq(k).astype(int)
        repeated = hits.ge(max(2, (len(keyed) + 1) // 2))

    # Totals: school name, or the first text cell among the first columns.
    total = pd.Series(False, index=body.index)
    name_cols = [j for j, c in mapping.items() if c == "school_name"]
    for j in name_cols:
        total |= _total_mask(body.iloc[:, j], enc)
    # "First text cell": only rows where one of the first columns holds a total label.
    first_cols = list(range(min(5, body.shape[1])))
    any_label = pd.Series(False, index=body.index)
    for j in first_cols:
        any_label |= _total_mask(body.iloc[:, j], enc)
    if bool(any_label.any()):
        sub = body.loc[any_label, first_cols]
        first_text = pd.Series("", index=sub.index, dtype="str")
        for j in reversed(range(len(first_cols))):
            col = _as_text(sub.iloc[:, j])
            first_text = col.where(col.str.contains(_LETTER_RE, regex=True), first_text)
        total.loc[sub.index] |= _total_mask(first_text, enc)

    # Footer: after the last "dense" row, from the first footer-looking row on.
    n_mapped = max(1, len(mapping))
    dense = n_nonblank.ge(max(3, -(-6 * n_mapped // 10))) & ~total & ~repeated
    dense_pos = dense.to_numpy().nonzero()[0]
    tail_from = int(dense_pos[-1]) + 1 if len(dense_pos) else 0
    footer = pd.Series(False, index=body.index)
    tail = body.iloc[tail_from:]
    if len(tail):
        tail_blank = blank.iloc[tail_from:].all(axis=1).to_numpy()
        tail_total = total.iloc[tail_from:].to_numpy()
        # Footers are short: look at the last rows only (bounded work on any sheet).
        positions = (~tail_blank & ~tail_total).nonzero()[0][-FOOTER_SCAN_ROWS:].tolist()
        first_marker = None
        for pos in positions:
            row = tail.iloc[pos].tolist()
            cells = [c for c in (_cell_text(v).strip() for v in row) if c]
            key = K.header_key(" ".join(_repair_cells(cells, enc)))
            if _FOOTER_RE.search(key) or (len(cells) <= 2 and _SIGNATORY_RE.match(key)):
                first_marker = pos
                break
        if first_marker is not None:
            footer.loc[tail.index[first_marker:]] = True

    cls[total] = "total"
    cls[footer & ~total] = "footer"
    cls[repeated] = "header"
    cls[is_blank] = "blank"
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
        )
    shown = ", ".join(f"“{v}”" for v in seen[:12]) or "(không có)"
    return SkippedSheet(
        probe.file,
        probe.sheet,
        "Dòng tiêu đề không khớp loại bảng nào "
        f"({', '.join(K.KIND_TITLES[k] for k in K.KINDS)}); tiêu đề thấy được: {shown}.",
        seen,
    )


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
    blank = _blank_frame(grid)
    row_blank = blank.all(axis=1)
    cls = pd.Series("data", index=grid.index, dtype="str")
    h0, h1 = header.start, header.end
    cls.iloc[:h0] = "title"
    cls.iloc[h0:h1] = "header"
    body_from = h1
    if h1 < n:
        first = [_cell_text(v) for v in grid.iloc[h1].tolist()]
        if _is_numbering_row(first):
            cls.iloc[h1] = "header"
            body_from = h1 + 1
    header_last = [c[-1] if c else "" for c in header.cells]
    if body_from < n:
        body_cls = _classify_rows(
            grid.iloc[body_from:],
            blank.iloc[body_from:],
            header.mapping,
            header_last,
            probe.legacy,
        )
        cls.iloc[body_from:] = body_cls.to_numpy()
    cls[row_blank & cls.ne("header")] = "blank"

    # Column mapping: keep non-personal canonical columns, in canonical order.
    by_name: dict[str, int] = {}
    personal: list[str] = []
    for j, name in sorted(header.mapping.items()):
        if name in K.PERSONAL_COLUMNS:
            personal.append(K.header_text(header.cells[j]))
        else:
            by_name.setdefault(name, j)
    unmapped = [
        K.header_text(c)
        for j, c in enumerate(header.cells)
        if j not in header.mapping and not K.is_ignored_header(c)
    ]
    keep = [name for name in spec.kept_columns if name in by_name]
    sel = cls.isin(["data", "total"])
    kept = grid.loc[sel, [by_name[name] for name in keep]]
    kept.columns = keep
    del grid, blank
    repairs = dict.fromkeys(REPAIR_KINDS, 0)
    for name in keep:
        cleaned, counts = _clean_values(kept[name], probe.legacy)
        kept[name] = cleaned
        for r, v in counts.items():
            repairs[r] += v
    row_cls = cls[sel]
    data = kept[row_cls.eq("data").to_numpy()]
    totals = kept[row_cls.eq("total").to_numpy()]
    counts = cls.value_counts()
    row_classes = {c: int(counts.get(c, 0)) for c in ROW_CLASSES}
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
    )


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
    width = max((len(r) for r in head), default=0)
    sample = pd.DataFrame(
        [[_cell_text(v) for v in r] + [""] * (width - len(r)) for r in head], dtype="str"
    )
    enc = legacy.detect_legacy_frame(sample) if len(sample) else None
    window = head[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]
    window_text = [_repair_cells([_cell_text(v) for v in r], enc) for r in window]
    info = find_header(window_text, merges)
    return _Probe(rel, sheet, folder, encoding, enc, info, window_text, load)


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def _excel_error(rel: str, path: Path, exc: Exception | None) -> IngestError:
    head = b""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        pass
    folder = Path(rel).parent.as_posix()
    where = f"thư mục “{folder}”" if folder not in ("", ".") else "thư mục dữ liệu"
    if not head:
        msg = (
            f"Tệp “{rel}” rỗng (0 byte), không có dữ liệu. Hãy xuất lại tệp từ phần mềm "
            f"hoặc xoá tệp khỏi {where} rồi chạy lại."
        )
    elif path.suffix.lower() in (".xlsx", ".xlsm") and head.startswith(_OLE_MAGIC):
        msg = (
            f"Tệp “{rel}” được đặt mật khẩu (mã hoá) nên không đọc được. Hãy mở tệp bằng "
            "Excel, gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hoá bằng mật khẩu: "
            "để trống), lưu lại rồi chạy lại."
        )
    elif head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        msg = (
            f"Tệp “{rel}” thực chất là trang web (HTML/XML) được đặt đuôi "
            f"{path.suffix}, không phải tệp Excel. Hãy mở bằng Excel và lưu lại dạng "
            "“Excel Workbook (.xlsx)” rồi chạy lại."
        )
    else:
        detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        msg = (
            f"Không đọc được tệp “{rel}”: tệp bị hỏng hoặc không phải tệp Excel{detail}. "
            "Hãy mở tệp bằng Excel và lưu lại dạng .xlsx (hoặc xuất lại từ phần mềm), "
            f"hoặc xoá tệp khỏi {where}, rồi chạy lại."
        )
    return IngestError(rel, "", msg)


def _probe_excel(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    import python_calamine as pc

    try:
        if path.stat().st_size == 0:
            raise _excel_error(rel, path, None)
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
        try:
            sheet = wb.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            try:
                merges = sheet.merged_cell_ranges
            except Exception:  # not available for every format
                merges = None
        except Exception as exc:
            raise IngestError(
                rel,
                name,
                f"Không đọc được {_where(rel, name)} ({type(exc).__name__}: {exc}). Hãy mở tệp "
                "bằng Excel, lưu lại dạng .xlsx rồi chạy lại.",
            ) from exc
        # Trim trailing all-empty rows (calamine stops at the used range; be safe).
        while rows and all(v == "" or v is None for v in rows[-1]):
            rows.pop()

        def load(_n_top: int, rows=rows):
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame(rows, columns=range(width), dtype=object)

        head = rows[: max(LEGACY_SAMPLE_ROWS, HEADER_SEARCH_ROWS + MAX_HEADER_ROWS)]
        out.append(_probe_grid(rel, name, folder, None, head, list(merges or []), load))
    return out


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a CSV file: UTF-8 with BOM, UTF-16 (BOM, or NUL-rich without), UTF-8, else
    Windows-1258 (then NFC: cp1258 yields combining tone marks). Returns (text, encoding)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    head = raw[:4000]
    if head and head.count(b"\x00") > len(head) // 4:
        le = head[1::2].count(b"\x00") >= head[0::2].count(b"\x00")
        codec = "utf-16-le" if le else "utf-16-be"
        return raw.decode(codec, errors="replace"), codec
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace")), "cp1258"


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
        rows = _split_lines(sample, delim, max(LEGACY_SAMPLE_ROWS, 60))
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
            best = (rank, delim, rows, info)
    assert best is not None
    return best[1], best[2], best[3]


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

    if b"\r" in data[:65536] and b"\n" not in data[:65536]:
        return None  # old Mac line ends
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


def _probe_csv(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(rel, "", f"Không mở được tệp “{rel}” ({exc}).") from exc
    folder_txt = Path(rel).parent.as_posix()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” rỗng, không có dữ liệu. Hãy xuất lại tệp từ phần mềm hoặc xoá tệp "
            f"khỏi thư mục “{folder_txt}” rồi chạy lại.",
        )
    if raw.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” có đuôi .csv nhưng thực chất là tệp Excel. Hãy đổi đuôi thành .xlsx "
            "(hoặc .xls) hoặc lưu lại dạng CSV rồi chạy lại.",
        )
    data, encoding = _to_utf8(raw)
    del raw
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


def _to_utf8(raw: bytes) -> tuple[bytes, str]:
    """The CSV bytes as UTF-8 (no BOM) and the encoding found (see :func:`decode_bytes`).

    Valid UTF-8 input is passed through as it is (one validating decode, no copy kept)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :], "utf-8-sig"
    head = raw[:_HEAD_BYTES]
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        head and head.count(b"\x00") > len(head) // 4
    )
    if not utf16:
        try:
            raw.decode("utf-8")
            return raw, "utf-8"
        except UnicodeDecodeError:
            pass
    text_data, encoding = decode_bytes(raw)
    return text_data.encode("utf-8"), encoding


# --------------------------------------------------------------------------------------------
# Files, folders, periods
# --------------------------------------------------------------------------------------------


def _probe_file(path: Path, raw_root: Path | None) -> list[_Probe | SkippedSheet]:
    path = Path(path)
    rel = _rel(path, raw_root)
    folder = path.parent.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        items = _probe_csv(path, rel, folder)
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        items = _probe_excel(path, rel, folder)
    else:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” có đuôi {suffix or '(không có)'} không đọc được: chỉ nhận .xlsx, "
            ".xls, .csv. Hãy lưu lại tệp dạng .xlsx hoặc .csv.",
        )
    # Refuse look-alike sheets missing a required column; collect the skipped ones.
    out: list[_Probe | SkippedSheet] = []
    for item in items:
        if isinstance(item, _Probe):
            skipped = _check_probe(item)
            out.append(item if skipped is None else skipped)
        else:
            out.append(item)
    if not any(isinstance(i, _Probe) for i in out):
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
            f"Tệp “{rel}”: không có trang nào có dòng tiêu đề của một loại bảng đã biết. "
            f"Tiêu đề thấy được: {' | '.join(parts) or '(không có)'}. Các loại bảng nhận được: "
            f"{kinds_txt}. Hãy sửa dòng tiêu đề theo mẫu hoặc chuyển tệp này ra khỏi thư mục "
            "dữ liệu rồi chạy lại.",
        )
    return out


def read_file(
    path: Path | str, raw_root: Path | str | None = None
) -> list[RawTable | SkippedSheet]:
    """Read every sheet of one file (a CSV file is one sheet named ``""``).

    Returns a RawTable per recognised sheet and a SkippedSheet per other sheet, in sheet order.
    Raises :class:`IngestError` for an unreadable file, a file with no recognised sheet, or a
    sheet that looks like a kind but lacks a required column.
    """
    raw_root = Path(raw_root) if raw_root is not None else Path(path).parent.parent
    out: list[RawTable | SkippedSheet] = []
    for item in _probe_file(Path(path), raw_root):
        out.append(_finish(item) if isinstance(item, _Probe) else item)
    return out


def read_folder(
    folder: Path | str,
    raw_root: Path | str | None = None,
    skipped: list[SkippedSheet] | None = None,
) -> list[RawTable]:
    """Read every file of one folder (sorted names). Skipped sheets are appended to
    ``skipped`` when a list is given."""
    folder = Path(folder)
    raw_root = Path(raw_root) if raw_root is not None else folder.parent
    tables: list[RawTable] = []
    for path in list_files(folder):
        for item in read_file(path, raw_root):
            if isinstance(item, RawTable):
                tables.append(item)
            elif skipped is not None:
                skipped.append(item)
    return tables


def read_period(raw_root: Path | str, period: str) -> PeriodInput:
    """Read what period ``period`` needs: for each kind, the sheets of the latest folder
    ``<= period`` that has that kind.

    Folders are probed newest first (headers only: a CSV body or an Excel sheet's rows are
    turned into a table only when its kind is still unserved), and the walk stops once every
    kind is served. An older folder is only looked at while some kind has not been found,
    so a district whose school list sits in the first folder probes every folder's headers:
    cheap for CSV (the first rows), a full sheet load for Excel (calamine reads whole sheets).

    Raises :class:`IngestError` when no folder ``<= period`` holds a readable file, or none of
    them holds a sheet of any kind, or for a bad file met on the way.
    """
    raw_root = Path(raw_root)
    paths.parse_period(period)
    folders = [p for p in paths.list_periods(raw_root) if p <= period]
    served: dict[str, str | None] = dict.fromkeys(K.KINDS, None)
    tables: list[RawTable] = []
    skipped: list[SkippedSheet] = []
    n_files = 0
    for folder in reversed(folders):
        if all(served[k] is not None for k in K.KINDS):
            break
        files = list_files(raw_root / folder)
        n_files += len(files)
        found_here: set[str] = set()
        pending: list[_Probe] = []
        newest = folder == folders[-1]
        for path in files:
            items = _probe_file(path, raw_root)
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
            tables.append(_finish(probe))
        for kind in sorted(found_here):
            served[kind] = folder
    if n_files == 0:
        raise IngestError(
            period,
            None,
            f"Không có dữ liệu cho kỳ {period}: không tìm thấy tệp .xlsx, .xls hay .csv nào "
            f"trong các thư mục kỳ báo cáo ≤ {period} dưới {raw_root}. Hãy chép các tệp xuất "
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
    return PeriodInput(period, raw_root, tables, skipped, served)


__all__ = [
    "HeaderInfo",
    "IngestError",
    "PeriodInput",
    "RawTable",
    "SkippedSheet",
    "decode_bytes",
    "find_header",
    "list_files",
    "read_file",
    "read_folder",
    "read_period",
]
