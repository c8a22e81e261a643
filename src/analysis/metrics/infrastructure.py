"""IT infrastructure per school (fibre, line speed, computers), its district summary and the
line-speed tiers of the figure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.core.fmt import fmt_num
from analysis.metrics.columns import _frame, check_table
from analysis.metrics.frames import _int, _ratio, _sort, _sum


def infrastructure_by_school(
    schools: pd.DataFrame,
    infrastructure: pd.DataFrame,
    min_speed: float = 70,
    min_computers_per_100: float | None = None,
) -> pd.DataFrame:
    """Per reporting school; ``below_threshold``: no fibre, a known speed under ``min_speed``, or
    (when given) fewer than ``min_computers_per_100`` computers per 100 pupils. An unknown speed
    alone does not flag a school."""
    merged = infrastructure.merge(
        schools[["school_code", "school_name", "n_pupils"]], on="school_code", how="left"
    )
    out = pd.DataFrame(
        {
            "school_code": merged["school_code"].astype("str"),
            "school_name": merged["school_name"].fillna(merged["school_code"]).astype("str"),
            "level": merged["level"].astype("str"),
            "n_fibre": _int(merged["n_fibre"]),
            "speed_mbps": pd.to_numeric(merged["speed_mbps"]).astype("float64"),
            "n_computers": _int(merged["n_computers"]),
            "n_pupils": _int(merged["n_pupils"]),
        }
    )
    out["computers_per_100_pupils"] = _ratio(out["n_computers"], out["n_pupils"]) * 100
    below = (out["n_fibre"] == 0).fillna(False) | (out["speed_mbps"] < min_speed)
    if min_computers_per_100 is not None:
        below |= out["computers_per_100_pupils"] < min_computers_per_100
    out["below_threshold"] = below.astype(bool)
    out = _sort(out, ["level", "school_code"])
    return check_table("infrastructure_by_school", out, ["school_code"], pairs=())


def infrastructure_summary(infrastructure_by_school: pd.DataFrame) -> pd.DataFrame:
    """One row of district totals of the reporting schools."""
    t = infrastructure_by_school
    speed = t["speed_mbps"].dropna()
    out = _frame(
        "infrastructure_summary",
        [
            {
                "n_schools_reporting": len(t),
                "n_fibre": _sum(t["n_fibre"]),
                "speed_min": float(speed.min()) if len(speed) else math.nan,
                "speed_median": float(speed.median()) if len(speed) else math.nan,
                "n_computers": _sum(t["n_computers"]),
                "n_schools_below": int(t["below_threshold"].sum()),
            }
        ],
    )
    for col in ("n_schools_reporting", "n_fibre", "n_computers", "n_schools_below"):
        out[col] = _int(out[col])
    for col in ("speed_min", "speed_median"):
        out[col] = out[col].astype("float64")
    return check_table("infrastructure_summary", out, pairs=())


def speed_tier_edges(min_speed: float = 70) -> list[float]:
    """Lower edges of the line-speed tiers (Mbps): 30 and the threshold, then 100 and 200."""
    return sorted({0.0, 30.0, float(min_speed), 100.0, 200.0})


def speed_tiers(infrastructure_by_school: pd.DataFrame, min_speed: float = 70) -> pd.DataFrame:
    """Schools per level and line-speed tier (``tier`` labels in order, ``below``: the tier is
    under the threshold): ``Không có cáp quang`` for a school without fibre, ``Chưa báo tốc độ``
    for an unknown speed, else the tier of ``speed_tier_edges``. Every reporting school is in
    exactly one tier."""
    t = infrastructure_by_school
    edges = speed_tier_edges(min_speed)
    labels = [
        f"{fmt_num(lo, 0)}–<{fmt_num(hi, 0)}" if lo else f"< {fmt_num(hi, 0)}"
        for lo, hi in zip(edges, edges[1:], strict=False)
    ] + [f"≥ {fmt_num(edges[-1], 0)}"]
    no_fibre, unknown = "Không có cáp quang", "Chưa báo tốc độ"
    speed = t["speed_mbps"].to_numpy(dtype=float)
    idx = np.searchsorted(np.asarray(edges), np.nan_to_num(speed, nan=0.0), side="right") - 1
    tier = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    tier = np.where(np.isnan(speed), unknown, tier)
    tier = np.where((t["n_fibre"] == 0).fillna(False).to_numpy(), no_fibre, tier)
    order = [no_fibre, *labels, unknown]
    below = {no_fibre, *(lab for lab, lo in zip(labels, edges, strict=True) if lo < min_speed)}
    counts = (
        pd.DataFrame({"level": t["level"].astype("str").to_numpy(), "tier": tier})
        .groupby(["level", "tier"], sort=False)
        .size()
    )
    rows = [
        {
            "level": lv,
            "tier": tr,
            "tier_order": i,
            "below": tr in below,
            "n_schools": int(counts.get((lv, tr), 0)),
        }
        for lv in [lv for lv in vocab.SCHOOL_LEVELS if lv in set(t["level"])]
        for i, tr in enumerate(order)
    ]
    out = pd.DataFrame(rows, columns=["level", "tier", "tier_order", "below", "n_schools"])
    assert int(out["n_schools"].sum()) == len(t), "một trường phải thuộc đúng một mức tốc độ"
    return out
