"""Table-building helpers shared by the metric modules: the one row order (levels, roles, Vietnamese
text by ``core.text.vn_sort_key``, numbers with missing values last), ratios and counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.core.text import vn_rank


def _level_rank(series: pd.Series) -> pd.Series:
    order = {name: i for i, name in enumerate((*vocab.SCHOOL_LEVELS, vocab.TOTAL))}
    return series.map(order).fillna(len(order)).astype("int64")


def _sort_key(col: pd.Series) -> list[np.ndarray]:
    """Arrays that order ``col`` (most significant first): the fixed order of levels and
    roles, Vietnamese dictionary order of text, numbers with missing values last."""
    if col.name == "level":
        return [_level_rank(col).to_numpy()]
    if col.name == "role":
        order = {name: i for i, name in enumerate((*vocab.ROLES, vocab.TOTAL))}
        return [col.map(order).fillna(len(order)).astype("int64").to_numpy()]
    if col.dtype == "str" or col.dtype == object:
        return [vn_rank(col)]
    values = pd.to_numeric(col).to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    return [missing.astype(np.int8), np.where(missing, 0.0, values)]


def _sort(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sort by keys; ``level`` in the fixed level order, text Vietnamese-aware, missing values
    last, stable (ties keep their order). Vectorised: text is keyed once per distinct value
    and the rows are ordered by ``numpy.lexsort`` on integer/float keys."""
    if df.empty:
        return df.reset_index(drop=True)
    arrays = [a for k in keys for a in _sort_key(df[k])]
    order = np.lexsort(arrays[::-1])  # lexsort: last array is the primary key; stable
    return df.take(order).reset_index(drop=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as float64, NaN where den is 0 or missing (never a division error)."""
    num = pd.to_numeric(num).astype("Float64")
    den = pd.to_numeric(den).astype("Float64")
    out = (num / den.where(den > 0)).astype("float64")
    return out


def _int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series).astype("Int64")


def _sum(series: pd.Series):
    """Sum of a count column; NA when every value is missing."""
    return series.sum(min_count=1) if len(series) else 0


def school_name_of(codes: pd.Series, schools: pd.DataFrame | None) -> pd.Series:
    """The school list's name of each school code, as text; the code when the list has none."""
    if schools is None or not len(schools):
        return codes.astype("str")
    names = schools.set_index("school_code")["school_name"]
    return codes.map(names).fillna(codes).astype("str")
