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


#: The per-level headline numbers: table -> (key prefix, column); the key is
#: ``<prefix>_<level slug>`` for each row of the table.
_PER_LEVEL: dict[str, tuple[tuple[str, str], ...]] = {
    "scale_by_level": (("schools", "n_schools"), ("classes", "n_classes"), ("pupils", "n_pupils")),
    "coverage_by_level": (
        ("schools_reporting", "n_schools_reporting"),
        ("staff", "n_staff"),
        ("signed", "n_signed"),
        ("coverage", "coverage"),
    ),
    "projection": (("date_100", "date_100"),),
    "records_by_level": (
        ("records", "n_records"),
        ("records_signed_teacher", "n_signed_teacher"),
        ("records_signed_principal", "n_signed_principal"),
    ),
}


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
    for name, keys in _PER_LEVEL.items():
        if name in tables:
            out |= {
                f"{prefix}_{LEVEL_SLUGS[row.level]}": getattr(row, col)
                for row in tables[name].itertuples(index=False)
                for prefix, col in keys
            }
    summary = tables.get("infrastructure_summary")
    if summary is not None and len(summary):
        out |= {f"infra_{c}": summary[c].iloc[0] for c in TABLE_COLUMNS["infrastructure_summary"]}
    return {key: _plain(out[key]) for key in sorted(out)}
