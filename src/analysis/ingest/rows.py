"""Row classes of a sheet's body: :class:`_Cells` factorises the cells once, :func:`_classify_rows`
tells data, total, section heading, repeated header, footer and blank rows apart, per distinct
value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.core import parse, text
from analysis.ingest import contract as K
from analysis.ingest.cells import _factorize, _repair_cells, _str_flags, _texts, _todo_fact
from analysis.ingest.model import FOOTER_SCAN_ROWS, ROW_CLASSES

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


def _column_codes(col: pd.Series) -> tuple[np.ndarray, object, np.ndarray, pd.Series]:
    """One column factorised: (codes, -1 for a missing cell; its distinct values; which are
    text; those values as a ``str`` Series). A text column nearly all distinct keeps one slot
    per row (finding its distinct values would cost more than it saves)."""
    if col.dtype == object:
        c, u = _factorize(col)
        is_str = _str_flags(u)
        return c, u, is_str, _texts(u, is_str)
    if isinstance(col.dtype, pd.StringDtype) and _nearly_distinct(col):
        missing = col.isna().to_numpy(dtype=bool)
        c = np.where(missing, -1, np.arange(len(col), dtype=np.intp))
        u = col.array
        return c, u, ~missing, pd.Series(u, dtype="str")
    c, u = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(c, dtype=np.intp), u, np.ones(len(u), dtype=bool), pd.Series(u, dtype="str")


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
            self.is_str = _str_flags(self.uniques)
            self.texts = _texts(self.uniques, self.is_str)
        else:
            self._factorize_columns(grid)
        empty = self.texts.eq("") | self.texts.str.isspace()
        # A missing cell is blank; a non-text cell (number, date, bool) never is.
        self.blank_fact = np.append(self.is_str & empty.fillna(True).to_numpy(dtype=bool), True)
        self._total: np.ndarray | None = None
        self._total_done: np.ndarray | None = None

    def _factorize_columns(self, grid: pd.DataFrame) -> None:
        """Column by column; text columns (CSV) keep their distinct values as pyarrow
        strings (no round trip through Python objects)."""
        parts: list[pd.Series] = []
        flags: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        self.bounds = []
        offset = 0
        for j in range(grid.shape[1]):
            c, u, is_str, part = _column_codes(grid.iloc[:, j])
            parts.append(part)
            flags.append(is_str)
            codes.append(np.where(c >= 0, c + offset, -1))
            self.bounds.append((offset, offset + len(u)))
            offset += len(u)
        self.NA = offset
        self.codes = [np.where(c >= 0, c, offset) for c in codes]
        self.uniques = None
        self.texts = (
            _one_chunk(pd.concat(parts, ignore_index=True)) if parts else pd.Series([], dtype="str")
        )
        self.is_str = np.concatenate(flags) if flags else np.zeros(0, dtype=bool)

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
    codes = [c[start:] for c in cells.codes]
    n_nonblank = (~body_blank).sum(axis=1)
    first_cols = list(range(min(5, len(codes))))
    repeated = _repeated_header_rows(cells, start, len(body_blank), mapping, header_last)
    total = _total_rows(cells, codes, len(body_blank), mapping, first_cols, enc)
    section = _section_rows(cells, codes, n_nonblank, total, mapping, first_cols)
    footer = _footer_rows(cells, start, body_blank, n_nonblank, total, repeated, mapping, enc)
    cls = np.full(len(body_blank), _DATA, dtype=np.int8)
    cls[total] = _TOTAL
    cls[section & ~total] = _TITLE
    cls[footer & ~total] = _FOOTER
    cls[repeated] = _HEADER
    cls[n_nonblank == 0] = _BLANK
    return cls


def _repeated_header_rows(
    cells: _Cells, start: int, n_body: int, mapping: dict[int, str], header_last: list[str]
) -> np.ndarray:
    """Repeated header rows (page headers of long exports): exact copies of the header cells
    in at least half (and two) of the mapped columns."""
    keyed = [
        (j, header_last[j]) for j in sorted(mapping) if j < len(header_last) and header_last[j]
    ]
    if len(keyed) < 2:
        return np.zeros(n_body, dtype=bool)
    hits = np.zeros(n_body, dtype=np.int64)
    for j, k in keyed:
        hits += cells.equals(j, k)[start:]
    return hits >= max(2, (len(keyed) + 1) // 2)


def _total_rows(
    cells: _Cells,
    codes: list[np.ndarray],
    n_body: int,
    mapping: dict[int, str],
    first_cols: list[int],
    enc: str | None,
) -> np.ndarray:
    """Total rows: a total label as school name, or as the first text cell among the first
    columns."""
    name_cols = [j for j, c in mapping.items() if c == "school_name"]
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
    return total


def _text_matches(cells: _Cells, sub: np.ndarray, pattern: str) -> np.ndarray:
    """Per code of ``sub``: the cell is a text matching ``pattern`` (stripped)."""
    fact = np.zeros(cells.NA + 1, dtype=bool)
    idx = np.unique(sub)
    idx = idx[idx < cells.NA]
    idx = idx[cells.is_str[idx]]
    if len(idx):
        hit = cells.texts.iloc[idx].str.strip().str.contains(pattern, regex=True)
        fact[idx] = hit.fillna(False).to_numpy(dtype=bool)
    return fact[sub]


def _section_rows(
    cells: _Cells,
    codes: list[np.ndarray],
    n_nonblank: np.ndarray,
    total: np.ndarray,
    mapping: dict[int, str],
    first_cols: list[int],
) -> np.ndarray:
    """Group headings (one or two cells, no digit, a Roman numeral in the first columns: in an
    unmapped column such as STT, or before a text): non-data."""
    section = np.zeros(len(n_nonblank), dtype=bool)
    few = np.flatnonzero((n_nonblank >= 1) & (n_nonblank <= 2) & ~total)
    if not len(few):
        return section
    heading = np.zeros(len(few), dtype=bool)
    for j in first_cols:
        pattern = _SECTION_TEXT_RE if j in mapping else _SECTION_RE
        heading |= _text_matches(cells, codes[j][few], pattern)
    if heading.any():
        text_or_missing = np.append(cells.is_str, True)  # a number or date cell: data
        for j in range(len(codes)):
            sub = codes[j][few]
            heading &= ~_text_matches(cells, sub, r"\d") & text_or_missing[sub]
        section[few[heading]] = True
    return section


def _footer_rows(
    cells: _Cells,
    start: int,
    body_blank: np.ndarray,
    n_nonblank: np.ndarray,
    total: np.ndarray,
    repeated: np.ndarray,
    mapping: dict[int, str],
    enc: str | None,
) -> np.ndarray:
    """Footer: after the last "dense" row, from the first footer-looking row on (signature
    block, date line, notes)."""
    n_body = len(body_blank)
    n_mapped = max(1, len(mapping))
    dense = (n_nonblank >= max(3, -(-6 * n_mapped // 10))) & ~total & ~repeated
    dense_pos = np.flatnonzero(dense)
    tail_from = int(dense_pos[-1]) + 1 if len(dense_pos) else 0
    footer = np.zeros(n_body, dtype=bool)
    if tail_from >= n_body:
        return footer
    tail_blank = body_blank[tail_from:].all(axis=1)
    # Footers are short: look at the last rows only (bounded work on any sheet).
    positions = np.flatnonzero(~tail_blank & ~total[tail_from:])[-FOOTER_SCAN_ROWS:].tolist()
    for pos in positions:
        if _is_footer_row(cells.grid.iloc[start + tail_from + pos].tolist(), enc):
            footer[tail_from + pos :] = True
            break
    return footer


def _is_footer_row(row: list, enc: str | None) -> bool:
    """A signature block, date line or note row ("Người lập biểu", "Ngày ... tháng ... năm")."""
    texts = [c for c in (text.cell_text(v).strip() for v in row) if c]
    key = K.header_key(" ".join(_repair_cells(texts, enc)))
    return bool(_FOOTER_RE.search(key) or (len(texts) <= 2 and _SIGNATORY_RE.match(key)))
