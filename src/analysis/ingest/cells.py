"""Text repair of cell values, per distinct value: legacy encodings (TCVN3/VNI), NFC and white
space, counted per repair kind (:func:`_clean_values`, :func:`_clean_coded`,
:func:`_repair_cells`)."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from analysis.core import legacy, text
from analysis.ingest.model import REPAIR_KINDS

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
            memo[(enc, value)] = hit = _repair_value(value, enc)
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


def _repair_value(
    value: str, enc: str | None
) -> tuple[str, tuple[bool, bool, bool, str | None] | None]:
    """(the repaired text, ``None`` when it is the text itself, else which steps changed it:
    (legacy, NFC, white space, the legacy encoding found))."""
    v = value
    found = None
    if enc is not None:
        v, found = legacy.repair_legacy(v, enc)
    v_nfc = unicodedata.normalize("NFC", v)
    v_clean = text.clean_text(v_nfc)
    if v_clean is None:
        v_clean = ""
    if v_clean == value:
        return v_clean, None
    return v_clean, (found is not None, v_nfc != v, v_clean != v_nfc, found)


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
