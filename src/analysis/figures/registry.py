"""The figures by name: which function draws each, from which tables, with which options;
``render`` builds one, ``publish`` saves it (PNG + SVG) for a notebook cell, ``make_all`` saves
every figure whose tables are present."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from analysis.figures import style
from analysis.figures.coverage import (
    coverage_by_commune,
    coverage_by_district,
    coverage_by_level,
    coverage_by_role,
    coverage_by_school,
)
from analysis.figures.frame import NoData, is_no_data
from analysis.figures.heatmap import coverage_heatmap
from analysis.figures.history import coverage_history
from analysis.figures.infrastructure import infrastructure_by_school
from analysis.figures.providers import coverage_by_provider, coverage_signature_type
from analysis.figures.records import records_progress
from analysis.figures.scale import scale_by_level

#: figure name -> (function, tables it needs, option names it takes)
FIGURES: dict[str, tuple] = {
    "coverage_by_school": (
        coverage_by_school,
        ("coverage_by_school",),
        ("target", "level", "max_bars"),
    ),
    "coverage_by_level": (coverage_by_level, ("coverage_by_level",), ("target",)),
    "coverage_history": (coverage_history, ("coverage_history", "projection"), ("target",)),
    "coverage_heatmap": (coverage_heatmap, ("coverage_school_history",), ("max_bars",)),
    "coverage_by_role": (coverage_by_role, ("coverage_by_role",), ()),
    "coverage_by_provider": (coverage_by_provider, ("coverage_by_provider",), ()),
    "scale_by_level": (scale_by_level, ("scale_by_level",), ()),
    "infrastructure_by_school": (
        infrastructure_by_school,
        ("infrastructure_by_school",),
        ("min_speed",),
    ),
    "records_progress": (records_progress, ("records_by_school",), ("max_bars",)),
}
#: Figures made only when the data holds more than one district (their tables exist only
#: then, see ``metrics.DISTRICT_TABLES``); otherwise not drawn and a stale copy removed.
DISTRICT_FIGURES: dict[str, tuple] = {
    "coverage_by_district": (
        coverage_by_district,
        ("coverage_by_district",),
        ("target", "max_bars"),
    ),
    # a province's report (its table exists only then, ``metrics.compute_coverage``)
    "coverage_by_commune": (
        coverage_by_commune,
        ("coverage_by_commune",),
        ("target", "max_bars"),
    ),
}
#: Figures made only when the period has the data of their tables (the providers' lists,
#: ``metrics.OPTIONAL_TABLES``); otherwise not drawn and a stale copy removed, as above.
CERTIFICATE_FIGURES: dict[str, tuple] = {
    "coverage_signature_type": (coverage_signature_type, ("signature_type_by_provider",), ()),
}
#: Every figure drawn only when its tables exist.
OPTIONAL_FIGURES: dict[str, tuple] = DISTRICT_FIGURES | CERTIFICATE_FIGURES
_REGISTRY: dict[str, tuple] = FIGURES | OPTIONAL_FIGURES
COVERAGE_FIGURES = tuple(n for n in _REGISTRY if n.startswith("coverage"))
SCALE_FIGURES = tuple(n for n in _REGISTRY if not n.startswith("coverage"))


def _remove_stale(name: str, out_dir: Path | str) -> None:
    for suffix in (".png", ".svg"):
        (Path(out_dir) / f"{name}{suffix}").unlink(missing_ok=True)


def render(
    name: str,
    tables: Mapping[str, pd.DataFrame],
    period: str | None = None,
    sample: bool = False,
    **options,
) -> Figure:
    """Build the figure ``name`` from the metric tables (options it doesn't take are ignored)."""
    func, needs, takes = _REGISTRY[name]
    args = [tables[n] for n in needs]
    kwargs = {k: v for k, v in options.items() if k in takes and v not in (None, "")}
    fig = func(*args, period=period, **kwargs)
    return style.mark_sample(fig, sample)


def publish(
    name: str,
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path | str,
    period: str | None = None,
    sample: bool = False,
    **options,
) -> style.SavedFigure | None:
    """Render, save ``<out_dir>/<name>.png/.svg`` and return a ``style.SavedFigure``: a
    notebook cell ending with it shows the saved PNG; ``.figure`` is the (closed) figure.

    A district or certificate figure (``OPTIONAL_FIGURES``) whose tables are absent is not
    drawn: its old files are removed and None is returned (a notebook cell then shows
    nothing). A figure whose tables hold no data is not saved either (old files removed): a
    ``NoData`` sentence is returned instead.
    """
    if name in OPTIONAL_FIGURES and not all(n in tables for n in OPTIONAL_FIGURES[name][1]):
        _remove_stale(name, out_dir)
        return None
    fig = render(name, tables, period, sample, **options)
    if is_no_data(fig):  # no picture of nothing: old files removed, a sentence instead
        _remove_stale(name, out_dir)
        message = fig.no_data_message
        plt.close(fig)
        return NoData(name, message)
    return style.save(fig, Path(out_dir) / name)


def make_all(
    tables: Mapping[str, pd.DataFrame],
    period: str | None,
    out_dir: Path | str,
    sample: bool,
    names=None,
    **options,
) -> dict[str, Path]:
    """Save every figure whose tables are present and hold data (or the given ``names``) into
    ``out_dir`` (the run's ``figures/`` folder). Returns name -> PNG path."""
    out = {}
    for name in names or _REGISTRY:
        if all(n in tables for n in _REGISTRY[name][1]):
            if isinstance(publish(name, tables, out_dir, period, sample, **options), NoData):
                continue
            out[name] = Path(out_dir) / f"{name}.png"
        elif name in OPTIONAL_FIGURES:
            _remove_stale(name, out_dir)
    return out
