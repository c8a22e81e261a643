"""Coverage of the staff's personal digital signatures on one period: per school (a panel per
level), per level, per area (district or commune, with a histogram when the areas are many)."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from analysis.core import vocab
from analysis.core.fmt import fmt_int, fmt_pct
from analysis.figures import style
from analysis.figures.bars import (
    LABEL_PT,
    MAX_BARS,
    ROW_CM,
    average_line,
    bar_positions,
    name_rows,
    pct_ticks,
    pick_rows,
    rate_axis,
    stacked_panels,
    target_line,
)
from analysis.figures.frame import (
    no_data,
    panel_title,
    present_levels,
    ratio,
    short_name,
    title,
)
from analysis.figures.style import nfc

#: Schools without data listed one by one under the bars of a level, at most (else counted).
MAX_MISSING = 10
#: The axis's right end past max(100%, target): room for the column of "signed/staff" labels.
LABEL_COLUMN = 0.2
RATE_LABEL = "Tỷ lệ CBGVNV (đang làm việc) đã có chữ ký số"
#: The areas compared (column of the table -> its noun in the titles).
AREA_NOUNS = {"district": "quận/huyện", "commune": "xã/phường"}


class SchoolPanel(NamedTuple):
    """The rows of one level's panel: all its schools, those with a rate (sorted), the bars
    shown, the schools without a rate listed under them, the panel title's note."""

    level: str
    schools: pd.DataFrame
    known: pd.DataFrame
    shown: pd.DataFrame
    missing: pd.DataFrame
    note: str

    def height(self) -> float:
        return len(self.shown) + len(self.missing) + 2.5 + (len(self.shown) < len(self.known))


def school_panel(table: pd.DataFrame, level: str, max_bars: int) -> SchoolPanel:
    """The schools of ``level``: the lowest rate first; above ``MAX_MISSING`` schools without
    a rate are counted in the note instead of listed."""
    sub = table[table["level"] == level]
    known = sub[sub["coverage"].notna()].sort_values(["coverage", "school_code"], kind="mergesort")
    shown, note = pick_rows(known, max_bars)
    missing = sub[sub["coverage"].isna()].sort_values("school_code", kind="mergesort")
    if len(missing) > MAX_MISSING:  # counted in the panel title, not listed
        n_no_data = int(missing["n_staff"].isna().sum())
        zero = len(missing) - n_no_data
        parts = [f"{fmt_int(n_no_data)} trường chưa có số liệu"] if n_no_data else []
        parts += [f"{fmt_int(zero)} trường 0 CBGVNV"] if zero else []
        note = "; ".join([note, *parts] if note else parts)
        missing = missing.iloc[:0]
    return SchoolPanel(level, sub, known, shown, missing, note)


def _count_column(ax, y_bars, shown: pd.DataFrame) -> None:
    """The "signed/staff" labels, in a column right of 100% and of the target, so that
    neither the average nor the target line ever crosses a label."""
    column = blended_transform_factory(ax.transAxes, ax.transData)
    x_label = 0.99  # axes fraction: the right end of the label column
    for yi, s, n in zip(y_bars, shown["n_signed"], shown["n_staff"], strict=True):
        ax.text(
            x_label, yi, f"{fmt_int(s)}/{fmt_int(n)}", va="center", ha="right",
            fontsize=LABEL_PT, transform=column, gid="count",
        )  # fmt: skip


def _missing_rows(ax, y_missing, missing: pd.DataFrame) -> None:
    """The schools without a rate, under the bars: "0 CBGVNV" or "chưa có số liệu"."""
    for yi, n in zip(y_missing, missing["n_staff"], strict=True):
        text = "0 CBGVNV" if not pd.isna(n) else "chưa có số liệu"
        ax.text(0.01, yi, nfc(text), va="center", fontsize=LABEL_PT, style="italic")


def draw_school_panel(ax, panel: SchoolPanel, target: float) -> None:
    """One level's bars, count column, schools without data, average and target lines."""
    shown, known, missing = panel.shown, panel.known, panel.missing
    y_bars, gap = bar_positions(len(shown), len(known))
    start = (y_bars[-1] + 1) if len(shown) else 0.0
    y_missing = start + np.arange(len(missing), dtype=float)
    n_rows = int(start) + len(missing)
    cov = shown["coverage"].to_numpy(dtype=float)
    ax.barh(y_bars, cov, height=0.7, color=style.level_color(panel.level))
    right = max(1.0, target)
    _count_column(ax, y_bars, shown)
    _missing_rows(ax, y_missing, missing)
    names = [short_name(v) for v in pd.concat([shown, missing])["school_name"]]
    name_rows(ax, [*y_bars, *y_missing], names, gap, len(known) - len(shown), fontsize=LABEL_PT)
    ax.set_ylim(max(n_rows, 1) - 0.5, -0.5)  # lowest coverage on top
    rate_axis(ax, right + LABEL_COLUMN, pct_ticks(right))
    avg = ratio(panel.schools["n_signed"], panel.schools["n_staff"])
    average_line(ax, avg)
    target_line(ax, target)
    head = f"{panel.level}: {fmt_int(len(panel.schools))} trường, trung bình {fmt_pct(avg)}"
    panel_title(ax, head, panel.note)


def coverage_by_school(
    table: pd.DataFrame,
    target: float = 1.0,
    level: str | None = None,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per school, lowest on top, one panel per level with data; the level's
    average and the target as vertical lines; "signed/staff" on each bar."""
    text = "Tỷ lệ CBGVNV có chữ ký số cá nhân theo trường"
    t = table if not level else table[table["level"] == level]
    levels = present_levels(t)
    if not levels:
        return no_data(text, period)
    panels = [school_panel(t, lv, max_bars) for lv in levels]
    with style.use_style():
        fig, axes = stacked_panels([p.height() for p in panels])
        for ax, panel in zip(axes, panels, strict=True):
            draw_school_panel(ax, panel, target)
        note = f"nét đứt đen: trung bình cấp học; chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}"
        title(fig, text, period, note)
        axes[-1].set_xlabel(nfc(RATE_LABEL))
    return fig


def coverage_by_level(
    table: pd.DataFrame, target: float = 1.0, period: str | None = None
) -> Figure:
    """One bar per level (and the district), "signed/staff (rate)" at the end of each bar."""
    text = "Tỷ lệ CBGVNV có chữ ký số cá nhân theo cấp học"
    t = table.set_index("level")
    rows = [lv for lv in (*vocab.SCHOOL_LEVELS, vocab.TOTAL) if lv in t.index]
    if not rows or t["n_staff"].fillna(0).sum() == 0:
        return no_data(text, period)
    with style.use_style():
        fig = style.new_figure(2.2 + 1.1 * len(rows))
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        for yi, lv in enumerate(rows):
            cov = t.loc[lv, "coverage"]
            if pd.isna(cov):
                ax.text(0.01, yi, nfc("chưa có số liệu"), va="center", style="italic")
                continue
            ax.barh(yi, cov, height=0.6, color=style.level_color(lv))
            label = (
                f"{fmt_int(t.loc[lv, 'n_signed'])}/{fmt_int(t.loc[lv, 'n_staff'])} ({fmt_pct(cov)})"
            )
            ax.text(cov + 0.01, yi, label, va="center", fontsize=7.5)
        ax.set_yticks(y, labels=[nfc(lv) for lv in rows])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, max(1.0, target) + 0.3)
        ax.set_xticks(pct_ticks(max(1.0, target)))
        target_line(ax, target)
        ax.xaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="x")
        title(fig, text, period, f"đường chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}")
    return fig


def _overall_rate(table: pd.DataFrame, areas: pd.DataFrame, key: str) -> float:
    """The table's Tổng cộng row's rate, else the ratio of the areas' sums."""
    total = table[table[key] == vocab.TOTAL]
    if len(total) and not pd.isna(total["coverage"].iloc[0]):
        return float(total["coverage"].iloc[0])
    return ratio(areas["n_signed"], areas["n_staff"])


def _area_bars(ax, key: str, shown, known, target: float) -> None:
    """The bars of the shown areas, "signed/staff" (", còn N" for communes) at their ends."""
    noun = AREA_NOUNS[key]
    y, gap = bar_positions(len(shown), len(known))
    cov = shown["coverage"].to_numpy(dtype=float)
    ax.barh(y, cov, height=0.7, color=style.DISTRICT_COLOR, gid="districts")
    for yi, c, s_, n in zip(y, cov, shown["n_signed"], shown["n_staff"], strict=True):
        label = f"{fmt_int(s_)}/{fmt_int(n)}"
        if key == "commune":
            label += f", còn {fmt_int(max(0, int(n) - int(s_)))}"
        ax.text(c + 0.01, yi, label, va="center", fontsize=6.5)
    names = [nfc(v) for v in shown[key]]
    name_rows(ax, y, names, gap, len(known) - len(shown), noun)
    ax.set_ylim(len(shown) + (len(shown) < len(known)) - 0.5, -0.5)
    rate_axis(ax, max(1.0, target) + 0.16)


def _area_histogram(hist_ax, ax, known, noun: str, avg: float, target: float) -> None:
    """The rates of every area, 2,5 points a bin, under the bars (same x axis)."""
    values = known["coverage"].to_numpy(dtype=float)
    hist_ax.hist(
        values,
        bins=np.linspace(0, 1, 41),  # 2,5 points wide
        color=style.GREY,
        edgecolor="white",
        gid="distribution",
    )
    average_line(hist_ax, avg, gid=None)
    target_line(hist_ax, target, gid=None)
    hist_ax.set_xlim(ax.get_xlim())
    hist_ax.xaxis.set_major_formatter(style.pct_formatter())
    hist_ax.yaxis.set_major_formatter(style.int_formatter())
    hist_ax.set_ylabel(nfc(f"Số {noun}"))
    hist_ax.grid(axis="y")
    hist_ax.set_title(nfc(f"Phân bố tỷ lệ của cả {fmt_int(len(known))} {noun}"), loc="left")


def coverage_by_area(
    key: str,
    table: pd.DataFrame,
    target: float = 1.0,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per area (a district or a commune, column ``key``), lowest on top,
    "signed/staff" on each bar, the overall rate (Tổng cộng) and the target as vertical lines.

    With more than ``max_bars`` areas: the bottom and top ``max_bars // 2`` (a gap row
    between them says how many are left out) and, under them, a histogram of the rates of
    every area, so the whole distribution is seen with a few dozen artists.
    """
    noun = AREA_NOUNS[key]
    text = f"Tỷ lệ CBGVNV có chữ ký số cá nhân theo {noun}"
    t = table[table[key] != vocab.TOTAL]
    known = t[t["coverage"].notna()].sort_values(["coverage", key], kind="mergesort")
    if known.empty:
        return no_data(text, period)
    shown, note = pick_rows(known, max_bars)
    if note:  # the head already says how many areas there are
        note = f"hiển thị {len(shown) // 2} thấp nhất và {len(shown) // 2} cao nhất"
    truncated = len(shown) < len(known)
    avg = _overall_rate(table, t, key)
    bars_cm = (len(shown) + truncated + 2.5) * ROW_CM
    hist_cm = 4.5 if truncated else 0.0
    with style.use_style():
        fig = style.new_figure(bars_cm + hist_cm + 2.5)
        if truncated:
            ax, hist_ax = fig.subplots(2, 1, height_ratios=[bars_cm, hist_cm])
        else:
            ax, hist_ax = fig.add_subplot(), None
        _area_bars(ax, key, shown, known, target)
        average_line(ax, avg)
        target_line(ax, target)
        panel_title(ax, f"{fmt_int(len(t))} {noun}, chung {fmt_pct(avg)}", note)
        if hist_ax is not None:
            _area_histogram(hist_ax, ax, known, noun, avg, target)
        (hist_ax or ax).set_xlabel(nfc(RATE_LABEL))
        foot = f"nét đứt đen: tỷ lệ chung; chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}"
        if len(t) > len(known):
            foot += f"; {fmt_int(len(t) - len(known))} {noun} chưa có số liệu"
        title(fig, text, period, foot)
    return fig


#: Bars per district (``metrics.coverage_by_district``): see ``coverage_by_area``.
coverage_by_district = partial(coverage_by_area, "district")
#: Bars per commune (``metrics.coverage_by_commune``, a province's report), "signed/staff,
#: còn N" on each bar (N: staff still without a signature): see ``coverage_by_area``.
coverage_by_commune = partial(coverage_by_area, "commune")


def _role_bars(ax, t: pd.DataFrame, levels: list[str], roles: list[str], i: int) -> None:
    """The bars of role ``roles[i]``, one per level with a rate, side by side with the
    other roles' bars, the rate on top."""
    role = roles[i]
    width = 0.8 / max(len(roles), 1)
    xs, ys, labels = [], [], []
    for g, lv in enumerate(levels):
        if (lv, role) in t.index and not pd.isna(t.loc[(lv, role), "coverage"]):
            xs.append(g + (i - (len(roles) - 1) / 2) * width)
            ys.append(float(t.loc[(lv, role), "coverage"]))
            labels.append(fmt_pct(ys[-1], 0))
    bars = ax.bar(
        xs,
        ys,
        width=width * 0.92,
        color=style.role_color(role),
        label=nfc(vocab.ROLE_NAMES.get(role, role)),
    )
    ax.bar_label(bars, labels=labels, fontsize=6.5, padding=1)


def coverage_by_role(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Grouped bars: per level (and the district), one bar per role."""
    text = "Tỷ lệ có chữ ký số theo nhóm chức vụ"
    levels = present_levels(table, with_total=True)
    if not levels:
        return no_data(text, period, "Chưa có danh sách CBGVNV để tính theo chức vụ")
    roles = [r for r in vocab.ROLES if (table["role"] == r).any()]
    t = table.set_index(["level", "role"])
    with style.use_style():
        fig = style.new_figure(9)
        ax = fig.add_subplot()
        for i in range(len(roles)):
            _role_bars(ax, t, levels, roles, i)
        ax.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels])
        ax.set_ylim(0, 1.1)  # room for the labels of full bars; ticks stop at 100%
        ax.set_yticks(pct_ticks())
        ax.yaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="y")
        # Under the level names: a legend inside would sit on the labels of full bars.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=len(roles))
        title(fig, text, period, "CBGVNV đang làm việc, các trường gửi danh sách")
    return fig
