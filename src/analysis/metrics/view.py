"""Metric tables for a notebook's eyes: Vietnamese headers, a note for a table the run lacks, the
schools furthest behind, one level's rows."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.core import vocab
from analysis.metrics.columns import BASIS_VN, DISTRICT_TABLES, RATE_COLUMNS, VN_COLUMNS
from analysis.metrics.frames import _sort


def vn_columns(df: pd.DataFrame, percent: bool = True) -> pd.DataFrame:
    """A copy for display: Vietnamese headers; with ``percent`` rates become percentages
    (0-100, one decimal, header suffixed "(%)") so the table still sorts by number."""
    out = df.copy()
    if "basis" in out.columns:
        out["basis"] = out["basis"].map(BASIS_VN).fillna(out["basis"])
    names = {}
    for col in out.columns:
        label = VN_COLUMNS.get(col, col)
        if percent and col in RATE_COLUMNS:
            out[col] = (pd.to_numeric(out[col]) * 100).round(1)
            label += " (%)"
        names[col] = label
    return out.rename(columns=names)


def vn_table(tables: Mapping[str, pd.DataFrame], name: str, percent: bool = True) -> pd.DataFrame:
    """``vn_columns`` of ``tables[name]``, or a one-cell note when the run has no such table
    (a one-district run has no district tables), so a notebook cell never needs an ``if``."""
    if name in tables:
        return vn_columns(tables[name], percent)
    if name in {n for names in DISTRICT_TABLES.values() for n in names}:
        note = "Dữ liệu chỉ có một quận/huyện: không lập bảng theo quận/huyện."
    else:
        note = "Không có bảng này trong kỳ báo cáo."
    return pd.DataFrame({"Ghi chú": [note]})


def furthest_behind(coverage_by_school: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` schools with the lowest coverage in each level (rank order)."""
    t = coverage_by_school[coverage_by_school["rank_in_level"].notna()]
    t = t[t["rank_in_level"] <= n]
    return _sort(t, ["level", "rank_in_level", "school_code"])


def select_level(df: pd.DataFrame, level: str | None) -> pd.DataFrame:
    """Rows of one level ("" or None = every level), for the notebooks' ``level`` parameter."""
    if not level:
        return df
    if level not in vocab.SCHOOL_LEVELS:
        raise ValueError(
            f"Cấp học '{level}' không hợp lệ: dùng \"\", {', '.join(vocab.SCHOOL_LEVELS)}."
        )
    return df[df["level"] == level].reset_index(drop=True)
