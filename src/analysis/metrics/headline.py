"""The headline numbers: plain JSON-ready values taken from the metric tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.metrics.columns import TABLE_COLUMNS

LEVEL_SLUGS = {
    vocab.MN: "mn",
    vocab.TH: "th",
    vocab.THCS: "thcs",
    vocab.THPT: "thpt",
    vocab.GDTX: "gdtx",
    vocab.MULTI_LEVEL: "nhieu_cap",
    vocab.TOTAL: "total",
}


def _plain(value):
    """A JSON-ready plain number: NA/NaN -> None, numpy scalars -> int/float."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


def headline(
    tables: Mapping[str, pd.DataFrame], period: str | None = None, sample: bool | None = None
) -> dict:
    """Plain headline numbers from whichever metric tables are given (flat, sorted keys).

    Keys: ``schools_<lv>``, ``classes_<lv>``, ``pupils_<lv>`` (scale); ``staff_<lv>``,
    ``signed_<lv>``, ``coverage_<lv>``, ``schools_reporting_<lv>`` (coverage); ``date_100_<lv>``
    (projection); ``infra_*``; ``records_*``; with ``<lv>`` in mn, th, thcs, total.
    """
    out: dict = {}
    if period is not None:
        out["period"] = str(period)
    if sample is not None:
        out["sample"] = bool(sample)
    if "scale_by_level" in tables:
        for row in tables["scale_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"schools_{slug}": row.n_schools,
                f"classes_{slug}": row.n_classes,
                f"pupils_{slug}": row.n_pupils,
            }
    if "coverage_by_level" in tables:
        for row in tables["coverage_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"schools_reporting_{slug}": row.n_schools_reporting,
                f"staff_{slug}": row.n_staff,
                f"signed_{slug}": row.n_signed,
                f"coverage_{slug}": row.coverage,
            }
    if "projection" in tables:
        for row in tables["projection"].itertuples(index=False):
            out[f"date_100_{LEVEL_SLUGS[row.level]}"] = row.date_100
    if "infrastructure_summary" in tables and len(tables["infrastructure_summary"]):
        summary = tables["infrastructure_summary"]
        for col in TABLE_COLUMNS["infrastructure_summary"]:
            out[f"infra_{col}"] = summary[col].iloc[0]
    if "records_by_level" in tables:
        for row in tables["records_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"records_{slug}": row.n_records,
                f"records_signed_teacher_{slug}": row.n_signed_teacher,
                f"records_signed_principal_{slug}": row.n_signed_principal,
            }
    return {key: _plain(out[key]) for key in sorted(out)}
