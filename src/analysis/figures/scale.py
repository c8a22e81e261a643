"""The scale of the schools: schools, classes and pupils per level (``scale_by_level``)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from analysis.core import vocab
from analysis.core.fmt import fmt_int
from analysis.figures import style
from analysis.figures.frame import no_data, title
from analysis.figures.style import nfc

PANELS = (("n_schools", "Số trường"), ("n_classes", "Số lớp"), ("n_pupils", "Số học sinh"))


def level_ticks(ax, levels: list[str]) -> None:
    """The level names under the bars; more than three levels: short names, slanted."""
    if len(levels) > 3:  # THPT, GDTX, multi-level: short labels, slanted
        names = [nfc(vocab.SHORT.get(lv, lv)) for lv in levels]
        ax.set_xticks(range(len(levels)), labels=names, fontsize=7, rotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    else:
        ax.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels], fontsize=7.5)


def _scale_panel(ax, values: list[int], levels: list[str], label: str) -> None:
    """One bar per level, values labelled; a city or the country: the axis in millions."""
    bars = ax.bar(
        range(len(levels)),
        values,
        color=[style.level_color(lv) for lv in levels],
        width=0.7,
    )
    millions = max(values) >= 1_000_000  # a city or the country: ticks in millions
    ax.bar_label(
        bars,
        labels=[fmt_int(v) for v in values],
        fontsize=6.5 if millions else 7.5,
        padding=1,
    )
    level_ticks(ax, levels)
    ax.set_title(nfc(label + (" (triệu)" if millions else "")))
    ax.set_ylim(0, max(values) * 1.15 or 1)
    formatter = style.millions_formatter() if millions else style.int_formatter()
    ax.yaxis.set_major_formatter(formatter)
    ax.grid(axis="y")


def _total_note(t: pd.DataFrame) -> str:
    if vocab.TOTAL not in t.index:
        return ""
    tot = t.loc[vocab.TOTAL]
    return (
        f"Tổng cộng {fmt_int(tot['n_schools'])} trường, {fmt_int(tot['n_classes'])} lớp, "
        f"{fmt_int(tot['n_pupils'])} học sinh"
    )


def scale_by_level(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Three panels (schools, classes, pupils), one bar per level, values labelled."""
    text = "Quy mô trường, lớp, học sinh theo cấp học"
    t = table.set_index("level")
    levels = [lv for lv in vocab.SCHOOL_LEVELS if lv in t.index]
    if not levels or t.loc[levels, "n_schools"].sum() == 0:
        return no_data(text, period)
    with style.use_style():
        fig = style.new_figure(8)
        axes = fig.subplots(1, 3)
        for ax, (col, label) in zip(axes, PANELS, strict=True):
            _scale_panel(ax, [int(t.loc[lv, col]) for lv in levels], levels, label)
        title(fig, text, period, _total_note(t))
    return fig
