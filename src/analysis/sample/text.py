"""Cell values as the raw exports write them: dates as Python dates or text in the forms
found in the field, NFD text, Vietnamese thousands and rates, list cells with None for missing."""

from __future__ import annotations

import unicodedata
from datetime import date

import numpy as np
import pandas as pd


def epoch_days(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


def from_epoch_days(x: int) -> date:
    """The date ``x`` days after 1970-01-01."""
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(x))


def ymd(period: str) -> str:
    return period.replace("-", "")


def dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def py_dates(values) -> pd.Series:
    """datetime64 values -> Python ``date`` objects (None where missing), as an object Series."""
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = s.dt.date.astype(object)
    return out.where(s.notna(), None)


def text_dates(values, fmt: str) -> pd.Series:
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = s.dt.strftime(fmt).astype(object)
    return out.where(s.notna(), None)


def dmy_nozero(values) -> pd.Series:
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = (
        s.dt.day.astype("Int64").astype(str)
        + "/"
        + s.dt.month.astype("Int64").astype(str)
        + "/"
        + s.dt.year.astype("Int64").astype(str)
    ).astype(object)
    return out.where(s.notna(), None)


def nfd(value):
    return unicodedata.normalize("NFD", value) if isinstance(value, str) else value


def map_unique(series: pd.Series, func) -> pd.Series:
    """Apply ``func`` once per unique value (NaN/None kept)."""
    uniq = pd.unique(series.dropna())
    table = {u: func(u) for u in uniq}
    return series.map(table).astype(object).where(series.notna(), None)


def listify(s: pd.Series) -> list:
    return s.astype(object).where(s.notna(), None).tolist()


def vn_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def rate_text(signed: int, total: int) -> str:
    return f"{100 * signed / total:.1f}".replace(".", ",") + "%" if total else ""


def mixed_dates(values, p_text: float, rng, plain=None) -> tuple[list, np.ndarray]:
    """Date cells, with some rows as 'dd/mm/yyyy' text; returns values and the text mask.
    Rows where ``plain`` is False stay date cells."""
    d = py_dates(values)
    t = text_dates(values, "%d/%m/%Y")
    text = (rng.random(len(d)) < p_text) & d.notna().to_numpy()
    if plain is not None:
        text &= plain
    return d.where(~text, t).tolist(), text
