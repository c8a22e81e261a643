"""The tables each notebook writes: ``compute_coverage`` (notebook 20), ``compute_scale``
(notebook 30); pure functions of the processed tables."""

from __future__ import annotations

import pandas as pd

from analysis.core import units
from analysis.metrics.certificates import certificate_tables, expiring
from analysis.metrics.coverage import (
    coverage_by_commune,
    coverage_by_district,
    coverage_by_level,
    coverage_by_provider,
    coverage_by_role,
    coverage_by_school,
    coverage_by_ward,
)
from analysis.metrics.history import (
    coverage_change,
    coverage_history,
    coverage_school_history,
    this_school_year,
)
from analysis.metrics.infrastructure import infrastructure_by_school, infrastructure_summary
from analysis.metrics.load import Processed
from analysis.metrics.projection import projection, signing_pace
from analysis.metrics.records import records_by_grade, records_by_level, records_by_school
from analysis.metrics.scale import scale_by_district, scale_by_level
from analysis.metrics.unit import has_many_districts


def compute_coverage(
    processed: Processed,
    period: str,
    *,
    expiring_days: int = 90,
    last_k: int | None = None,
    unit: str = "",
) -> dict[str, pd.DataFrame]:
    """The tables notebook 20 writes (coverage_*, projection, expiring). ``coverage_by_commune``
    is made for a province's report (``unit``, or inferred: ``units.infer_unit``)."""
    p = processed
    year = this_school_year(p.history, period)
    history = coverage_history(year)
    per_school = coverage_by_school(p.schools, p.signature_by_school)
    tables = {
        "coverage_by_school": per_school,
        "coverage_by_level": coverage_by_level(p.schools, p.signature_by_school, p.staff),
        "coverage_by_ward": coverage_by_ward(p.schools, p.signature_by_school, per_school),
        "coverage_by_role": coverage_by_role(p.staff),
        "coverage_by_provider": coverage_by_provider(p.staff),
        "coverage_change": coverage_change(p.history, period, p.schools),
        "coverage_history": history,
        "coverage_school_history": coverage_school_history(year, p.schools),
        "projection": projection(history, last_k=last_k),
        "expiring": expiring(p.staff, p.schools, period, days=expiring_days),
    }
    tables["signing_pace"] = signing_pace(tables["coverage_change"], period)
    if has_many_districts(p.schools):
        tables["coverage_by_district"] = coverage_by_district(p.schools, p.signature_by_school)
    if units.infer_unit(p.schools, period, unit).kind == "province":
        tables["coverage_by_commune"] = coverage_by_commune(p.schools, p.signature_by_school)
    tables.update(certificate_tables(p))
    return tables


def compute_scale(
    processed: Processed, *, min_speed: float = 70, min_computers_per_100: float | None = None
) -> dict[str, pd.DataFrame]:
    """The tables notebook 30 writes (scale_by_level, infrastructure_*, records_*)."""
    p = processed
    infra = infrastructure_by_school(p.schools, p.infrastructure, min_speed, min_computers_per_100)
    tables = {
        "scale_by_level": scale_by_level(p.schools, p.school_levels),
        "infrastructure_by_school": infra,
        "infrastructure_summary": infrastructure_summary(infra),
        "records_by_school": records_by_school(p.schools, p.records),
        "records_by_grade": records_by_grade(p.records),
        "records_by_level": records_by_level(p.records),
    }
    if has_many_districts(p.schools):
        tables["scale_by_district"] = scale_by_district(p.schools, p.school_levels)
    return tables
