"""Signing of the pupils' records (``records_progress``): per school, the share signed by the
homeroom teacher and approved by the principal, a panel per level."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from analysis.core.fmt import fmt_pct
from analysis.figures import bars, style
from analysis.figures.frame import no_data, panel_title, present_levels, ratio, short_name, title
from analysis.figures.style import nfc


def _records_panel(ax, lv: str, sub: pd.DataFrame, shown: pd.DataFrame, note: str) -> None:
    """Two bars per school (GVCN light, principal full colour), the level's principal rate."""
    y, gap = bars.bar_positions(len(shown), len(sub))
    color = style.level_color(lv)
    ax.barh(
        y - 0.2,
        shown["rate_teacher"].to_numpy(dtype=float),
        height=0.4,
        color=color,
        alpha=0.45,
        label=nfc("GVCN đã ký"),
    )
    ax.barh(
        y + 0.2,
        shown["rate_principal"].to_numpy(dtype=float),
        height=0.4,
        color=color,
        label=nfc("Hiệu trưởng đã ký"),
    )
    names = [short_name(v) for v in shown["school_name"]]
    bars.name_rows(ax, y, names, gap, len(sub) - len(shown))
    ax.set_ylim(len(shown) + (gap is not None) - 0.5, -0.5)
    bars.rate_axis(ax, 1.05, bars.pct_ticks())
    rate = ratio(sub["n_signed_principal"], sub["n_records"])
    panel_title(ax, f"{lv}: Hiệu trưởng đã ký {fmt_pct(rate)} số học bạ", note)


def records_progress(
    table: pd.DataFrame, period: str | None = None, max_bars: int = bars.MAX_BARS
) -> Figure:
    """Per school (records_by_school): share of records signed by the homeroom teacher (GVCN)
    and approved by the principal, one panel per level, lowest principal rate on top."""
    text = "Tiến độ ký số học bạ theo trường"
    levels = present_levels(table)
    if not levels:
        return no_data(text, period, "Chưa có số liệu ký số học bạ trong kỳ này")
    panels = []
    for lv in levels:
        sub = table[table["level"] == lv].sort_values(
            ["rate_principal", "rate_teacher", "school_code"], kind="mergesort"
        )
        panels.append((lv, sub, *bars.pick_rows(sub, max_bars)))
    heights = [len(p[2]) + 2.5 + (len(p[2]) < len(p[1])) for p in panels]
    with style.use_style():
        fig, axes = bars.stacked_panels(heights, scale=1.2)
        for ax, panel in zip(axes, panels, strict=True):
            _records_panel(ax, *panel)
        title(fig, text, period)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig
