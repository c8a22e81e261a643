"""Metric tables: pure functions of the processed tables (``data/processed/<period>/``).

Every metric function takes frames and returns a tidy table whose columns are exactly those of
the "Metric tables" section of ``docs/ARCHITECTURE.md``; files are read only in ``load`` and
written only in ``store``. Every rate comes with its counts; rates are ratios in [0, 1]
(``coverage``, ``share``, ``rate_*``), ``NaN`` where the denominator is 0 or unknown. Counts
are nullable ``Int64`` (``<NA>`` = no data, which is not the same as 0). Levels are ordered
Mầm non, Tiểu học, THCS, ..., then "Tổng cộng"; text in Vietnamese dictionary order
(``core.text.vn_sort_key``). Every table is built with groupby/merge and vectorised sorting,
no Python loop per school or per person (1,66 million staff in ~2 s).

Modules: ``load`` (the processed tables), ``unit`` (the report's district or commune),
``scale``, ``coverage``, ``history`` (across periods), ``projection`` (100% date, signing pace),
``certificates`` (expiring, the school's own certificate, the providers' lists),
``infrastructure``, ``records``, ``compute`` (each notebook's tables), ``headline``, ``store``
(every file written or read, the headline merge), ``view`` (for a notebook's eyes),
``columns`` (the tables' columns and invariants), ``frames`` (row order, ratios, counts).
"""

from analysis.metrics.certificates import (
    ALL,
    NO_SCHOOL,
    UNKNOWN_CERT_TYPE,
    certificate_tables,
    certificates_by_provider,
    expiring,
    has_providers_lists,
    institution_readiness,
    schools_without_seal,
    signature_type_by_provider,
    unmatched_certificates,
)
from analysis.metrics.columns import (
    BASIS_VN,
    COVERAGE_TABLES,
    DISTRICT_TABLES,
    OPTIONAL_TABLES,
    RATE_COLUMNS,
    SCALE_TABLES,
    TABLE_COLUMNS,
    VN_COLUMNS,
    MetricError,
    check_table,
)
from analysis.metrics.compute import compute_coverage, compute_scale
from analysis.metrics.coverage import (
    NO_PROVIDER,
    NO_WARD,
    coverage_by_commune,
    coverage_by_district,
    coverage_by_level,
    coverage_by_provider,
    coverage_by_role,
    coverage_by_school,
    coverage_by_ward,
)
from analysis.metrics.headline import LEVEL_SLUGS, headline
from analysis.metrics.history import (
    coverage_change,
    coverage_history,
    coverage_school_history,
    school_year_start,
    this_school_year,
)
from analysis.metrics.infrastructure import (
    infrastructure_by_school,
    infrastructure_summary,
    speed_tier_edges,
    speed_tiers,
)
from analysis.metrics.load import Processed, load_processed
from analysis.metrics.projection import (
    MIN_POINTS,
    WINDOW_END,
    LineFit,
    fit_line,
    projection,
    signing_pace,
    signing_window_end,
)
from analysis.metrics.records import records_by_grade, records_by_level, records_by_school
from analysis.metrics.scale import scale_by_district, scale_by_level, school_levels, taught_levels
from analysis.metrics.store import (
    read_headline,
    read_table,
    read_tables,
    write_headline,
    write_tables,
)
from analysis.metrics.unit import (
    NO_COMMUNE,
    NO_DISTRICT,
    SHOWN_DISTRICTS,
    Note,
    UnitError,
    districts,
    has_many_districts,
    match_district,
    select_commune,
    select_unit,
    unit_text,
)
from analysis.metrics.view import furthest_behind, select_level, vn_columns, vn_table

__all__ = [
    "ALL", "BASIS_VN", "COVERAGE_TABLES", "DISTRICT_TABLES", "LEVEL_SLUGS", "MIN_POINTS",
    "NO_COMMUNE", "NO_DISTRICT", "NO_PROVIDER", "NO_SCHOOL", "NO_WARD", "OPTIONAL_TABLES",
    "RATE_COLUMNS", "SCALE_TABLES", "SHOWN_DISTRICTS", "TABLE_COLUMNS", "UNKNOWN_CERT_TYPE",
    "VN_COLUMNS", "WINDOW_END", "LineFit", "MetricError", "Note", "Processed", "UnitError",
    "certificate_tables", "certificates_by_provider", "check_table", "compute_coverage",
    "compute_scale", "coverage_by_commune", "coverage_by_district", "coverage_by_level",
    "coverage_by_provider", "coverage_by_role", "coverage_by_school", "coverage_by_ward",
    "coverage_change", "coverage_history", "coverage_school_history", "districts", "expiring",
    "fit_line", "furthest_behind", "has_many_districts", "has_providers_lists", "headline",
    "infrastructure_by_school", "infrastructure_summary", "institution_readiness",
    "load_processed", "match_district", "projection", "read_headline", "read_table",
    "read_tables", "records_by_grade", "records_by_level", "records_by_school", "scale_by_district",
    "scale_by_level", "school_levels", "school_year_start", "schools_without_seal",
    "select_commune", "select_level", "select_unit", "signature_type_by_provider",
    "signing_pace", "signing_window_end", "speed_tier_edges", "speed_tiers", "taught_levels",
    "this_school_year", "unit_text", "unmatched_certificates", "vn_columns", "vn_table",
    "write_headline", "write_tables",
]  # fmt: skip
