"""CSV files meant to be opened by people: no data text becomes a formula.

A spreadsheet program opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some programs, a tab or a carriage return before one) as a formula: a school, ward or
provider name typed as ``=HYPERLINK(...)`` or ``@SUM(...)`` would run on the reader's machine.
Every CSV the suite writes (``quarantine.csv``, the metric tables under
``outputs/<period>/tables/``) is made by :func:`csv_bytes`, which neutralises such text the
OWASP way: a leading ``'`` (:func:`neutralise`).

- Only *text* cells are touched: numbers (a negative count, a share) stay numbers, and text
  that is a plain number (``-3``, ``+84``, ``-1,5%``) is left alone, since no spreadsheet reads
  it as a formula.
- A cell whose first non-space character is one of ``= + - @`` (or that starts with a tab, a
  carriage return or a line feed) gets the ``'``.
- The Parquet tables keep the true value; only the CSV copy carries the ``'``.

The Office files are protected where they are written (``report_xlsx``: text is written as
text, never as a formula or a hyperlink; the Word report's text goes through docxtpl with
autoescape, which cannot make a field).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)*\s*%?")


def needs_neutralising(value) -> bool:
    """True for text a spreadsheet would read as a formula (see the module's doc)."""
    if not isinstance(value, str) or not value:
        return False
    if value[0] in FORMULA_STARTS:
        return not _PLAIN_NUMBER_RE.fullmatch(value)
    head = value.lstrip(" ")
    return bool(head) and head[0] in "=+-@" and not _PLAIN_NUMBER_RE.fullmatch(head)


def neutralise(value):
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula; any other
    value (numbers, missing values, safe text) as it is."""
    return "'" + value if needs_neutralising(value) else value


def _text_column(s: pd.Series) -> bool:
    return (
        s.dtype == object
        or isinstance(s.dtype, pd.StringDtype)
        or (
            isinstance(s.dtype, pd.CategoricalDtype)
            and not pd.api.types.is_numeric_dtype(s.cat.categories)
        )
    )


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells are neutralised (per distinct value); ``df`` itself
    when there is nothing to change."""
    out = None
    for col in df.columns:
        s = df[col]
        if not _text_column(s):
            continue
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        flags = [needs_neutralising(v) for v in uniques]
        if not any(flags):
            continue
        fixed = np.array(
            [*("'" + v if f else v for v, f in zip(uniques, flags, strict=True)), None],
            dtype=object,
        )
        values = fixed[codes]
        if out is None:
            out = df.copy()
        if isinstance(s.dtype, pd.StringDtype):
            out[col] = pd.Series(pd.array(values, dtype=s.dtype), index=s.index)
        elif isinstance(s.dtype, pd.CategoricalDtype):  # the CSV copy: plain text
            out[col] = pd.Series(values, index=s.index, dtype=object)
        else:
            out[col] = pd.Series(values, index=s.index, dtype=object).where(s.notna(), s)
    return df if out is None else out


def csv_bytes(df: pd.DataFrame, *, bom: bool = False) -> bytes:
    """``df`` as UTF-8 CSV bytes (``\\n`` line ends, no index), text cells neutralised;
    ``bom=True`` starts with a byte-order mark (Excel then reads the file as UTF-8)."""
    text = neutralise_frame(df).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig" if bom else "utf-8")
