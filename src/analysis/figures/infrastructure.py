"""The schools' IT (``infrastructure_by_school``): schools per line-speed tier, stacked by
level, and management computers per 100 pupils per level. Bars, never a marker per school."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import metrics
from analysis.core.fmt import fmt_int, fmt_num
from analysis.figures import style
from analysis.figures.frame import no_data, present_levels, ratio, title
from analysis.figures.style import nfc


def shown_tiers(tiers: pd.DataFrame) -> pd.DataFrame:
    """One row per tier that has schools (``metrics.speed_tiers``), in the tiers' order."""
    order = tiers.drop_duplicates("tier").sort_values("tier_order")
    return order[order["tier"].isin(tiers.loc[tiers["n_schools"] > 0, "tier"])]


def _tier_panel(ax, tiers: pd.DataFrame, order: pd.DataFrame, levels: list[str]) -> None:
    """Schools per tier, stacked by level, the first tier on top, those under the threshold
    in red."""
    y = np.arange(len(order))[::-1]  # the first tier on top
    start = np.zeros(len(order))
    for lv in levels:
        n = (
            tiers[tiers["level"] == lv]
            .set_index("tier")
            .reindex(order["tier"])["n_schools"]
            .fillna(0)
            .to_numpy(dtype=float)
        )
        ax.barh(
            y, n, left=start, color=style.level_color(lv), label=nfc(lv), height=0.7,
            gid=f"tiers:{lv}",
        )  # fmt: skip
        start += n
    for yi, total in zip(y, start, strict=True):
        ax.text(total, yi, f" {fmt_int(int(total))}", va="center", fontsize=7.5)
    ax.set_yticks(y, labels=[nfc(t if t[0].isalpha() else f"{t} Mbps") for t in order["tier"]])
    for tick, below in zip(ax.get_yticklabels(), order["below"], strict=True):
        if below:
            tick.set_color(style.TARGET_COLOR)
    ax.set_xlim(0, max(float(start.max()), 1) * 1.18)
    ax.xaxis.set_major_formatter(style.int_formatter())
    ax.set_xlabel(nfc("Số trường"))
    ax.set_title(nfc("Trường theo tốc độ đường truyền"))
    ax.grid(axis="x")
    ax.legend(loc="lower right", fontsize=7)


def _computers_panel(ax, table: pd.DataFrame, levels: list[str]) -> None:
    """Computers per 100 pupils of the schools that reported computers (a level none of
    whose schools did: "–")."""
    known = table[table["n_computers"].notna()]
    rate = [
        ratio(
            known.loc[known["level"] == lv, "n_computers"],
            known.loc[known["level"] == lv, "n_pupils"],
        )
        * 100
        for lv in levels
    ]
    bars = ax.bar(
        range(len(levels)),
        np.nan_to_num(rate),
        color=[style.level_color(lv) for lv in levels],
        width=0.6,
        gid="computers_per_100",
    )
    ax.bar_label(
        bars, labels=[fmt_num(r, 1) if r == r else "–" for r in rate], fontsize=7.5, padding=1
    )
    ax.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels], fontsize=7.5)
    ax.set_ylim(0, max(max(np.nan_to_num(rate)), 0.1) * 1.2)
    ax.set_title(nfc("Máy tính quản lý\ntrên 100 học sinh"))
    ax.yaxis.set_major_formatter(style.num_formatter(1))
    ax.grid(axis="y")


def _note(table: pd.DataFrame, min_speed: float) -> str:
    n_below = int(table["below_threshold"].sum())
    return (
        f"{fmt_int(len(table))} trường báo số liệu; ngưỡng {fmt_num(min_speed, 0)} Mbps: "
        f"{fmt_int(n_below)} trường dưới ngưỡng hoặc không có cáp quang"
        + (" (mức tô đỏ)" if n_below else "")
        + "; danh sách theo trường trong bảng hạ tầng"
    )


def infrastructure_by_school(
    table: pd.DataFrame, min_speed: float = 70, period: str | None = None
) -> Figure:
    """Two panels of bars (line speeds come in a few tiers: a scatter piles schools on the same
    points). Left: schools per line-speed tier (``metrics.speed_tiers``), stacked by level,
    the tiers under the threshold marked. Right: management computers per 100 pupils, per
    level, with the counts it comes from. Readable at any number of schools."""
    text = "Hạ tầng CNTT: tốc độ đường truyền và máy tính"
    if table.empty:
        return no_data(text, period, "Chưa có số liệu hạ tầng CNTT trong kỳ này")
    tiers = metrics.speed_tiers(table, min_speed)
    order = shown_tiers(tiers)
    levels = present_levels(table)
    with style.use_style():
        fig = style.new_figure(9)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        _tier_panel(left, tiers, order, levels)
        _computers_panel(right, table, levels)
        title(fig, text, period, _note(table, min_speed))
    return fig
