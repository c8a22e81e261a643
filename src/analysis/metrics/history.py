"""Coverage across periods: the change since the previous period, the history per level and per
school, and the school year a period belongs to (the trend is a school year's)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.core import vocab
from analysis.metrics.columns import TABLE_COLUMNS, check_table, finish_table
from analysis.metrics.coverage import _coverage_rows
from analysis.metrics.frames import _int, _ratio, _sort, school_name_of


def _periods(history: pd.DataFrame) -> list[str]:
    return sorted(history["period"].astype("str").unique().tolist())


def _history_per_school(history: pd.DataFrame, schools: pd.DataFrame | None) -> pd.DataFrame:
    """``history`` with one row per period and school: a multi-level school's rows by level of
    its staff (``clean.history_rows``) summed, under the school's level."""
    multi = (history["level"] == vocab.MULTI_LEVEL).fillna(False)
    if schools is not None and len(schools):
        codes = schools.loc[(schools["level"] == vocab.MULTI_LEVEL).fillna(False), "school_code"]
        multi = multi | history["school_code"].isin(set(codes.tolist()))
    if not multi.any():
        return history
    part = history[multi.to_numpy(dtype=bool)]
    joint = (
        part.groupby(["period", "school_code"], sort=False)
        .agg(n_staff=("n_staff", "sum"), n_signed=("n_signed", "sum"), basis=("basis", "first"))
        .reset_index()
        .assign(level=vocab.MULTI_LEVEL)
    )
    out = pd.concat([history[~multi.to_numpy(dtype=bool)], joint], ignore_index=True)
    return out.sort_values(["period", "school_code"], kind="stable").reset_index(drop=True)


def coverage_change(
    history: pd.DataFrame, period: str, schools: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per school of ``period`` vs the latest earlier period present in ``history``.

    ``prev_period`` is that earlier period (NA if there is none); the ``*_prev`` values and the
    deltas are NA for a school that had no data then.
    """
    prev, merged = _with_previous(_history_per_school(history, schools), str(period))
    out = pd.DataFrame(
        {
            "school_code": merged["school_code"].astype("str"),
            "school_name": school_name_of(merged["school_code"], schools),
            "level": merged["level"].astype("str"),
            "prev_period": pd.Series(prev, index=merged.index, dtype="str"),
            "n_staff_prev": _int(merged["n_staff_prev"]),
            "n_signed_prev": _int(merged["n_signed_prev"]),
            "coverage_prev": _ratio(merged["n_signed_prev"], merged["n_staff_prev"]),
            "n_staff": _int(merged["n_staff"]),
            "n_signed": _int(merged["n_signed"]),
            "coverage": _ratio(merged["n_signed"], merged["n_staff"]),
        }
    )
    out["delta_signed"] = out["n_signed"] - out["n_signed_prev"]
    out["delta_coverage"] = out["coverage"] - out["coverage_prev"]
    pairs = (("n_signed", "n_staff"), ("n_signed_prev", "n_staff_prev"))
    return finish_table("coverage_change", out, ["level", "school_code"], ["school_code"], pairs)


def _with_previous(history: pd.DataFrame, period: str) -> tuple[str | None, pd.DataFrame]:
    """The latest period of ``history`` before ``period`` (None: there is none) and the rows of
    ``period`` with that period's counts of the same school (``*_prev``, NA: no data then)."""
    history = history.assign(period=history["period"].astype("str"))
    earlier = [p for p in _periods(history) if p < period]
    prev = earlier[-1] if earlier else None
    cur = history[history["period"] == period]
    if prev is None:
        old = pd.DataFrame(columns=["school_code", "n_staff", "n_signed"])
    else:
        old = history.loc[history["period"] == prev, ["school_code", "n_staff", "n_signed"]]
    cols = ["school_code", "level", "n_staff", "n_signed"]
    return prev, cur[cols].merge(old, on="school_code", how="left", suffixes=("", "_prev"))


#: A school year starts on 1 August (classes start early in September, the signing window of the
#: records ends on 30 June).
SCHOOL_YEAR_START_MONTH = 8


def school_year_start(period: str) -> date:
    """1 August of the school year that ``period`` belongs to."""
    day = date.fromisoformat(str(period))
    year = day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1
    return date(year, SCHOOL_YEAR_START_MONTH, 1)


def this_school_year(history: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of ``history`` of the school year of ``period``: the trend, the projection and
    the heatmap are a school year's (staff lists are renewed over the summer, and a line drawn
    across two years says nothing about this year's pace)."""
    start = school_year_start(period).isoformat()
    periods = history["period"].astype("str")
    return history[(periods >= start) & (periods <= str(period))]


def coverage_history(history: pd.DataFrame) -> pd.DataFrame:
    """Per period and level (levels with data in that period) plus "Tổng cộng" per period."""
    history = history.assign(period=history["period"].astype("str"))
    per_level = _coverage_rows(history, ["period", "level"])
    total = _coverage_rows(history.assign(level=vocab.TOTAL), ["period", "level"])
    out = pd.concat([per_level, total], ignore_index=True)
    return finish_table("coverage_history", out, ["period", "level"], ["period", "level"])


def coverage_school_history(history: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Per school and period (``history``): staff, signed, coverage; for the heatmap of
    coverage by school and period, where a stalled school is a row that does not change."""
    history = _history_per_school(history, schools)
    out = history.assign(
        period=history["period"].astype("str"),
        school_name=school_name_of(history["school_code"], schools),
        coverage=_ratio(history["n_signed"], history["n_staff"]),
    )
    out = out[TABLE_COLUMNS["coverage_school_history"]].copy()
    for col in ("period", "school_code", "school_name", "level"):
        out[col] = out[col].astype("str")
    for col in ("n_staff", "n_signed"):
        out[col] = _int(out[col])
    out = _sort(out, ["level", "school_code", "period"])
    return check_table("coverage_school_history", out, ["school_code", "period"])
