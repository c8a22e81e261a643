"""The figures: each function takes metric tables and returns a matplotlib Figure.

Bars are drawn with plain matplotlib at numeric positions (no seaborn hue, see seaborn#3893),
so the order on the page is the order computed here; seaborn draws the heatmap of coverage by
school and period (``coverage_heatmap``) from a matrix built and ordered here. All labels are
Vietnamese (NFC), numbers formatted by ``analysis.core.fmt``. ``render`` builds a figure by
name from a dict of tables, ``publish`` also saves it (PNG + SVG) and returns it for inline
display, ``make_all`` saves every figure whose tables are present.

Scale (a city, or the ministry's 54.000 schools): no figure draws one artist per school when
there are thousands. Per-school and per-district bars show the bottom and top ``max_bars // 2``
with a gap row saying how many are left out (the district figure adds a histogram of every
district); infrastructure is drawn as bars of schools per line-speed tier and computers per
100 pupils per level (never a marker per school); lists of schools without data are counted,
not drawn, above ``MAX_MISSING``. The district figure (``DISTRICT_FIGURES``) exists only for
runs with more than one district.

Modules:

- ``style``: the house style (fonts, sizes, colours, axis formats), ``save`` (PNG + SVG).
- ``frame``: titles, panel titles, the no-data figure, short school names, levels present.
- ``bars``: the shared bar drawing (bottom/top rows, gap row, rate axis, average/target lines,
  panels stacked by level).
- ``coverage``: signature coverage per school, level, role, district/commune.
- ``history``: coverage over the periods and its projection; ``heatmap``: per school and period.
- ``providers``: providers per level, signature types per provider.
- ``scale``: schools, classes, pupils; ``infrastructure``: line speeds and computers;
  ``records``: signing of the pupils' records.
- ``registry``: the figures by name, ``render``, ``publish``, ``make_all``.
"""

from __future__ import annotations

from analysis.figures.coverage import (
    coverage_by_area,
    coverage_by_commune,
    coverage_by_district,
    coverage_by_level,
    coverage_by_role,
    coverage_by_school,
)
from analysis.figures.frame import NoData
from analysis.figures.heatmap import coverage_heatmap, stalled_schools
from analysis.figures.history import coverage_history
from analysis.figures.infrastructure import infrastructure_by_school
from analysis.figures.providers import coverage_by_provider, coverage_signature_type
from analysis.figures.records import records_progress
from analysis.figures.registry import (
    CERTIFICATE_FIGURES,
    COVERAGE_FIGURES,
    DISTRICT_FIGURES,
    FIGURES,
    OPTIONAL_FIGURES,
    SCALE_FIGURES,
    make_all,
    publish,
    render,
)
from analysis.figures.scale import scale_by_level

__all__ = [
    "CERTIFICATE_FIGURES",
    "COVERAGE_FIGURES",
    "DISTRICT_FIGURES",
    "FIGURES",
    "OPTIONAL_FIGURES",
    "SCALE_FIGURES",
    "NoData",
    "coverage_by_area",
    "coverage_by_commune",
    "coverage_by_district",
    "coverage_by_level",
    "coverage_by_provider",
    "coverage_by_role",
    "coverage_by_school",
    "coverage_heatmap",
    "coverage_history",
    "coverage_signature_type",
    "infrastructure_by_school",
    "make_all",
    "publish",
    "records_progress",
    "render",
    "scale_by_level",
    "stalled_schools",
]
