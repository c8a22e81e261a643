"""Scale tables: schools, classes and pupils per level (``scale_by_level``) and per district and
level (``scale_by_district``); a multi-level school's share under each level it teaches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.metrics.columns import TABLE_COLUMNS, check_table
from analysis.metrics.frames import _int, _sum
from analysis.metrics.unit import _district_series, districts

_COUNTS = ("n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified")


def taught_levels(schools: pd.DataFrame) -> pd.Series:
    """The levels each school teaches, joined by ``"; "`` (its ``level`` when the table has no
    ``levels`` column, as tables cleaned before multi-level schools)."""
    if "levels" in schools.columns:
        return schools["levels"].astype("str").fillna(schools["level"].astype("str"))
    return schools["level"].astype("str")


def school_levels(schools: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per school and level it teaches: ``table`` (``school_levels.parquet``) when it
    has rows, else made from ``schools``: a single-level school's counts under its level, a
    multi-level school's levels with counts unknown (not split)."""
    if table is not None and len(table):
        return table
    multi = is_multi(schools)
    out = schools[["school_code", *_COUNTS]].copy()
    for col in _COUNTS:
        out[col] = _int(out[col])
        out.loc[multi, col] = pd.NA
    out["level"] = taught_levels(schools).str.split(vocab.LEVELS_SEP, regex=False).to_numpy()
    return out.explode("level")[["school_code", "level", *_COUNTS]].reset_index(drop=True)


def is_multi(df: pd.DataFrame) -> np.ndarray:
    """The rows of multi-level schools (level "Trường nhiều cấp học"), as a bool mask."""
    return (df["level"] == vocab.MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)


def level_table(present: Iterable[str], row: Callable[[str], dict]) -> pd.DataFrame:
    """A per-level table: ``row(level)`` for each level shown (``vocab.shown_levels`` of the
    levels ``present``), then Tổng cộng; ``level`` as text, the other columns as counts."""
    out = pd.DataFrame([row(level) for level in (*vocab.shown_levels(present), vocab.TOTAL)])
    out["level"] = out["level"].astype("str")
    for col in out.columns[1:]:
        out[col] = _int(out[col])
    return out


def _unsplit(multi: pd.DataFrame, sl: pd.DataFrame) -> pd.DataFrame:
    """What each multi-level school did not split by level: its total less its known shares."""
    known = sl[sl["school_code"].isin(multi["school_code"])]
    return pd.DataFrame(
        {
            col: _int(multi[col]).reset_index(drop=True)
            - _int(known.groupby("school_code")[col].sum())
            .reindex(multi["school_code"].to_numpy())
            .fillna(0)
            .reset_index(drop=True)
            for col in _COUNTS
        }
    )


def scale_by_level(schools: pd.DataFrame, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Schools, classes, pupils per level, then "Trường nhiều cấp học", then Tổng cộng.

    Rows: Mầm non, Tiểu học, THCS always (zeros kept), THPT and GDTX when the data has them,
    "Trường nhiều cấp học" when it has a multi-level school (data contract §8). A level's
    ``n_schools`` counts its single-level schools; a multi-level school counts once, on the
    "Trường nhiều cấp học" row. A level's classes and pupils are those of every school teaching
    it (``school_levels``: a multi-level school's share under each level); the "Trường nhiều
    cấp học" row holds the counts a multi-level school did not split by level (one row naming
    several levels). Tổng cộng counts each school once; the rows above add up to it."""
    sl = school_levels(schools, levels)
    multi = schools[is_multi(schools)]

    def row(level: str) -> dict:
        if level == vocab.TOTAL:
            part, counts = schools, schools
        elif level == vocab.MULTI_LEVEL:
            part, counts = multi, _unsplit(multi, sl)
        else:
            part, counts = schools[schools["level"] == level], sl[sl["level"] == level]
        return {
            "level": level,
            "n_schools": len(part),
            "n_classes": int(_int(counts["n_classes"]).sum()),
            "n_pupils": int(_int(counts["n_pupils"]).sum()),
            "n_pupils_with_id": _sum(counts["n_pupils_with_id"]),
            "n_pupils_verified": _sum(counts["n_pupils_verified"]),
        }

    out = level_table([*schools["level"].tolist(), *sl["level"].tolist()], row)
    return check_table("scale_by_level", out, ["level"], pairs=())


def _school_rows(schools: pd.DataFrame, district: pd.Series) -> pd.DataFrame:
    """One row per school: its district and level, ``n`` = 1, its classes and pupils."""
    return pd.DataFrame(
        {
            "district": district,
            "level": schools["level"].astype("str"),
            "n": 1,
            "n_classes": pd.to_numeric(schools["n_classes"]).astype("int64"),
            "n_pupils": pd.to_numeric(schools["n_pupils"]).astype("int64"),
        }
    )


def _split_multi(rows: pd.DataFrame, schools: pd.DataFrame, levels) -> pd.DataFrame:
    """``rows`` (``_school_rows``) with each multi-level school's classes and pupils under the
    levels it teaches (``school_levels``, ``n`` = 0) and what it did not split on its own row."""
    multi = is_multi(schools)
    if not multi.any():
        return rows
    codes = schools["school_code"][multi]
    sl = school_levels(schools, levels)
    sl = sl[sl["school_code"].isin(codes)]
    of = pd.Series(rows["district"][multi].to_numpy(), index=codes.to_numpy())
    share = pd.DataFrame(
        {
            "district": sl["school_code"].map(of).to_numpy(),
            "level": sl["level"].astype("str").to_numpy(),
            "n": 0,
            "n_classes": _int(sl["n_classes"]).fillna(0).to_numpy(dtype="int64"),
            "n_pupils": _int(sl["n_pupils"]).fillna(0).to_numpy(dtype="int64"),
        }
    )
    known = share.assign(code=sl["school_code"].to_numpy()).groupby("code")
    rest = rows[multi].copy()
    for col in ("n_classes", "n_pupils"):
        got = known[col].sum().reindex(codes.to_numpy()).fillna(0).to_numpy(dtype="int64")
        rest[col] = rest[col].to_numpy() - got
    return pd.concat([rows[~multi], rest, share], ignore_index=True)


def scale_by_district(schools: pd.DataFrame, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Schools, classes, pupils per district and level: the levels as ``scale_by_level`` shows
    them (zeros kept; a multi-level school once on the "Trường nhiều cấp học" row, its classes
    and pupils under each level it teaches, ``school_levels``) and the district's total (level
    Tổng cộng) per district, then the same for all districts (district Tổng cộng)."""
    rows = _school_rows(schools, _district_series(schools))
    t = pd.concat(
        [_split_multi(rows, schools, levels), rows.assign(level=vocab.TOTAL)], ignore_index=True
    )
    t = pd.concat([t, t.assign(district=vocab.TOTAL)], ignore_index=True)
    agg = t.groupby(["district", "level"], sort=False).agg(
        n_schools=("n", "sum"), n_classes=("n_classes", "sum"), n_pupils=("n_pupils", "sum")
    )
    names = [*districts(schools), vocab.TOTAL] if len(schools) else [vocab.TOTAL]
    shown = [*vocab.shown_levels(t["level"].tolist()), vocab.TOTAL]
    grid = pd.MultiIndex.from_product([names, shown], names=["district", "level"])
    out = agg.reindex(grid, fill_value=0).reset_index()
    for col in ("district", "level"):
        out[col] = out[col].astype("str")
    for col in ("n_schools", "n_classes", "n_pupils"):
        out[col] = _int(out[col])
    out = out[TABLE_COLUMNS["scale_by_district"]]  # already in order: districts, then levels
    return check_table("scale_by_district", out, ["district", "level"], pairs=())
