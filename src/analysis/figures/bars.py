"""The shared bar drawing: which rows a long list shows (the bottom and top halves), the bar
positions with a gap row between them, the names on the axis, the rate axis (0-100%), the
average and target lines, and a figure of panels stacked by level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.fmt import fmt_int
from analysis.figures import style
from analysis.figures.style import nfc

MAX_BARS = 40
ROW_CM = 0.32  # height of one bar row (33 + 27 schools fit an A4 page at the text width)
#: Bar-end labels ("signed/staff") and school names, in points, as printed at 16 cm.
LABEL_PT = 7
LIGHT_RULE = "#BBBBBB"


def pick_rows(df: pd.DataFrame, max_bars: int) -> tuple[pd.DataFrame, str]:
    """Bottom and top ``max_bars // 2`` rows (df sorted ascending) when there are too many."""
    if len(df) <= max_bars:
        return df, ""
    half = max(max_bars // 2, 1)
    note = (
        f"hiển thị {half} trường thấp nhất và {half} trường cao nhất trên {fmt_int(len(df))} trường"
    )
    return pd.concat([df.head(half), df.tail(half)]), note


def bar_positions(n_shown: int, n_total: int) -> tuple[np.ndarray, int | None]:
    """y positions of ``n_shown`` bars; when rows were left out (bottom/top selection) one
    empty row separates the bottom half from the top half. Returns (positions, gap row)."""
    if n_shown >= n_total or n_shown < 2:
        return np.arange(n_shown, dtype=float), None
    half = n_shown // 2
    y = np.arange(n_shown, dtype=float)
    y[half:] += 1
    return y, half


def gap_label(n_left_out: int, unit: str = "trường") -> str:
    return nfc(f"… {fmt_int(n_left_out)} {unit} khác …")


def name_rows(ax, ticks, names, gap, n_left_out: int, unit: str = "trường", **tick_kw) -> None:
    """The names on the y axis; at the gap row (if any) a light rule and "… N <unit> khác …"."""
    ticks, names = list(ticks), list(names)
    if gap is not None:
        ticks.append(float(gap))
        names.append(gap_label(n_left_out, unit))
        ax.axhline(gap, color=LIGHT_RULE, linewidth=0.6, gid="gap")
    ax.set_yticks(ticks, labels=names, **tick_kw)


def pct_ticks(top: float = 1.0) -> list[float]:
    """0%, 20%, ... up to 100% (or the target above it): no tick past what a rate can be."""
    return [x / 10 for x in range(0, int(round(top * 10)) + 1, 2)]


def rate_axis(ax, right: float, ticks: list[float] | None = None) -> None:
    """The x axis of rates: 0 to ``right``, the given ticks, Vietnamese percentages, a grid."""
    ax.set_xlim(0, right)
    if ticks is not None:
        ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(style.pct_formatter())
    ax.grid(axis="x")


def average_line(ax, value: float, gid: str | None = "average") -> None:
    ax.axvline(value, color=style.AVERAGE_COLOR, linestyle="--", linewidth=1, gid=gid)


def target_line(ax, target: float, gid: str | None = "target") -> None:
    ax.axvline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid=gid)


def stacked_panels(heights: list[float], scale: float = 1.0, extra_cm: float = 2.5):
    """A figure of one panel per level, one above the other, as tall as their rows: returns
    (figure, axes). Call inside ``style.use_style()``."""
    fig = style.new_figure(sum(heights) * ROW_CM * scale + extra_cm)
    axes = fig.subplots(len(heights), 1, height_ratios=heights, squeeze=False)[:, 0]
    return fig, axes
