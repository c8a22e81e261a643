"""The figures: each function takes metric tables and returns a matplotlib Figure.

Bars are drawn with plain matplotlib at numeric positions (no seaborn hue, see seaborn#3893),
so the order on the page is the order computed here; seaborn draws the heatmap of coverage by
school and period (``coverage_heatmap``) from a matrix built and ordered here. All labels are
Vietnamese (NFC), numbers formatted by ``analysis.fmt``. ``render`` builds a figure by name
from a dict of tables, ``publish`` also saves it (PNG + SVG) and returns it for inline display,
``make_all`` saves every figure whose tables are present.

Scale (a city, or the ministry's 54.000 schools): no figure draws one artist per school when
there are thousands. Per-school and per-district bars show the bottom and top ``max_bars // 2``
with a gap row saying how many are left out (the district figure adds a histogram of every
district); infrastructure is drawn as bars of schools per line-speed tier and computers per
100 pupils per level (never a marker per school); lists of schools without data are counted,
not drawn, above
``MAX_MISSING``. The district figure (``DISTRICT_FIGURES``) exists only for runs with more
than one district.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from analysis import metrics
from analysis.core import vocab
from analysis.core.fmt import fmt_date, fmt_int, fmt_num, fmt_pct
from analysis.core.vocab import ROLES, SCHOOL_LEVELS, TOTAL
from analysis.figures import style
from analysis.figures.style import nfc

MAX_BARS = 40
#: Schools without data listed one by one under the bars of a level, at most (else counted).
MAX_MISSING = 10
ROW_CM = 0.32  # height of one bar row (33 + 27 schools fit an A4 page at the text width)
#: Bar-end labels ("signed/staff") and school names, in points, as printed at 16 cm.
LABEL_PT = 7
#: The axis's right end past max(100%, target): room for the column of "signed/staff" labels.
LABEL_COLUMN = 0.2
NO_DATA = "Chưa có số liệu"
NO_DATA_GID = "no-data"
LIGHT_RULE = "#BBBBBB"
FOOTNOTE_WIDTH = 90  # characters per footnote line
PANEL_TITLE_WIDTH = 80  # characters per line of a panel title's note

_PREFIX = re.compile(
    r"^(trường\s+)?(mầm non|mn|tiểu học|th|thcs|trung học cơ sở)\s+", flags=re.IGNORECASE
)


def short_name(name: str) -> str:
    """'Trường Tiểu học Ái Mộ A' -> 'Ái Mộ A' (panels are per level, the prefix is noise)."""
    name = nfc(name)
    short = _PREFIX.sub("", name).strip()
    return short or name


def _period_text(period: str | None) -> str:
    if not period:
        return ""
    return f"Số liệu đến ngày {fmt_date(date.fromisoformat(str(period)))}"


def _title(fig: Figure, title: str, period: str | None, note: str = "") -> None:
    lines = [title] + [t for t in (_period_text(period), note) if t]
    fig.suptitle(nfc(lines[0]))
    if len(lines) > 1:
        # A second, regular-weight line under the bold title.
        # Left-aligned and wrapped, so it never runs into the sample mark on the right.
        text = "\n".join(textwrap.wrap(" · ".join(lines[1:]), FOOTNOTE_WIDTH))
        fig.supxlabel(nfc(text), fontsize=7.5, color="#444444", x=0.01, ha="left")


def _no_data(title: str, period: str | None, message: str = NO_DATA) -> Figure:
    """A figure that only says there is no data (``is_no_data``: never saved nor printed)."""
    with style.use_style():
        fig = style.new_figure(5)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, nfc(message), ha="center", va="center", fontsize=10, color="#444444")
        _title(fig, title, period)
    fig.set_gid(NO_DATA_GID)
    fig.no_data_message = nfc(f"{title}: {message[:1].lower()}{message[1:]}.")
    return fig


def is_no_data(fig: Figure) -> bool:
    return fig.get_gid() == NO_DATA_GID


class NoData:
    """What ``publish`` returns for a figure without data: one sentence, shown by a notebook
    cell (no picture, no file: the report then has no empty figure either)."""

    def __init__(self, name: str, message: str):
        self.name = name
        self.message = message

    def _repr_markdown_(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def _ratio(num: pd.Series, den: pd.Series) -> float:
    n, d = pd.to_numeric(num).sum(), pd.to_numeric(den).sum()
    return float(n) / float(d) if d else float("nan")


def _present_levels(table: pd.DataFrame, with_total: bool = False) -> list[str]:
    order = (*SCHOOL_LEVELS, TOTAL) if with_total else SCHOOL_LEVELS
    present = set(table["level"].astype("str"))
    return [lv for lv in order if lv in present]


def _pick_rows(df: pd.DataFrame, max_bars: int) -> tuple[pd.DataFrame, str]:
    """Bottom and top ``max_bars // 2`` rows (df sorted ascending) when there are too many."""
    if len(df) <= max_bars:
        return df, ""
    half = max(max_bars // 2, 1)
    note = (
        f"hiển thị {half} trường thấp nhất và {half} trường cao nhất trên {fmt_int(len(df))} trường"
    )
    return pd.concat([df.head(half), df.tail(half)]), note


def _bar_positions(n_shown: int, n_total: int) -> tuple[np.ndarray, int | None]:
    """y positions of ``n_shown`` bars; when rows were left out (bottom/top selection) one
    empty row separates the bottom half from the top half. Returns (positions, gap row)."""
    if n_shown >= n_total or n_shown < 2:
        return np.arange(n_shown, dtype=float), None
    half = n_shown // 2
    y = np.arange(n_shown, dtype=float)
    y[half:] += 1
    return y, half


def _panel_title(ax, head: str, note: str = "") -> None:
    """A panel's title, left-aligned; a note goes on its own (wrapped) lines in a smaller size
    so it never runs off the page."""
    if not note:
        ax.set_title(nfc(head), loc="left")
        return
    lines: list[str] = []
    for part in f"({note})".split("; "):  # a line break between parts, not inside one
        if lines and len(lines[-1]) + 2 + len(part) <= PANEL_TITLE_WIDTH:
            lines[-1] += "; " + part
        else:
            lines += textwrap.wrap(part, PANEL_TITLE_WIDTH)
    ax.set_title(nfc("\n".join([head, *lines])), loc="left", fontsize=8)


def _iso(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))


def _pct_ticks(top: float = 1.0) -> list[float]:
    """0%, 20%, ... up to 100% (or the target above it): no tick past what a rate can be."""
    return [x / 10 for x in range(0, int(round(top * 10)) + 1, 2)]


def _gap_label(n_left_out: int, unit: str = "trường") -> str:
    return nfc(f"… {fmt_int(n_left_out)} {unit} khác …")


# --------------------------------------------------------------------------- coverage


def coverage_by_school(
    table: pd.DataFrame,
    target: float = 1.0,
    level: str | None = None,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per school, lowest on top, one panel per level with data; the level's
    average and the target as vertical lines; "signed/staff" on each bar."""
    title = "Tỷ lệ CBGVNV có chữ ký số cá nhân theo trường"
    t = table if not level else table[table["level"] == level]
    levels = _present_levels(t)
    if not levels:
        return _no_data(title, period)
    panels = []
    for lv in levels:
        sub = t[t["level"] == lv]
        known = sub[sub["coverage"].notna()].sort_values(
            ["coverage", "school_code"], kind="mergesort"
        )
        shown, note = _pick_rows(known, max_bars)
        missing = sub[sub["coverage"].isna()].sort_values("school_code", kind="mergesort")
        if len(missing) > MAX_MISSING:  # counted in the panel title, not listed
            no_data = int(missing["n_staff"].isna().sum())
            zero = len(missing) - no_data
            parts = [f"{fmt_int(no_data)} trường chưa có số liệu"] if no_data else []
            parts += [f"{fmt_int(zero)} trường 0 CBGVNV"] if zero else []
            note = "; ".join([note, *parts] if note else parts)
            missing = missing.iloc[:0]
        panels.append((lv, sub, known, shown, missing, note))
    heights = [len(p[3]) + len(p[4]) + 2.5 + (len(p[3]) < len(p[2])) for p in panels]
    with style.use_style():
        fig = style.new_figure(sum(heights) * ROW_CM + 2.5)
        axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
        for ax, (lv, sub, known, shown, missing, note) in zip(axes, panels, strict=True):
            y_bars, gap = _bar_positions(len(shown), len(known))
            start = (y_bars[-1] + 1) if len(shown) else 0.0
            y_missing = start + np.arange(len(missing), dtype=float)
            n_rows = int(start) + len(missing)
            cov = shown["coverage"].to_numpy(dtype=float)
            ax.barh(y_bars, cov, height=0.7, color=style.level_color(lv))
            # "signed/staff" in a column right of 100% and of the target, so that neither
            # the average nor the target line ever crosses a label.
            right = max(1.0, target)
            column = blended_transform_factory(ax.transAxes, ax.transData)
            x_label = 0.99  # axes fraction: the right end of the label column
            for yi, s, n in zip(y_bars, shown["n_signed"], shown["n_staff"], strict=True):
                ax.text(
                    x_label, yi, f"{fmt_int(s)}/{fmt_int(n)}", va="center", ha="right",
                    fontsize=LABEL_PT, transform=column, gid="count",
                )  # fmt: skip
            for yi, n in zip(y_missing, missing["n_staff"], strict=True):
                text = "0 CBGVNV" if not pd.isna(n) else "chưa có số liệu"
                ax.text(0.01, yi, nfc(text), va="center", fontsize=LABEL_PT, style="italic")
            ticks = [*y_bars, *y_missing]
            names = [short_name(v) for v in pd.concat([shown, missing])["school_name"]]
            if gap is not None:
                ticks.append(float(gap))
                names.append(_gap_label(len(known) - len(shown)))
                ax.axhline(gap, color=LIGHT_RULE, linewidth=0.6, gid="gap")
            ax.set_yticks(ticks, labels=names, fontsize=LABEL_PT)
            ax.set_ylim(max(n_rows, 1) - 0.5, -0.5)  # lowest coverage on top
            ax.set_xlim(0, right + LABEL_COLUMN)
            ax.set_xticks(_pct_ticks(right))
            ax.xaxis.set_major_formatter(style.pct_formatter())
            ax.grid(axis="x")
            avg = _ratio(sub["n_signed"], sub["n_staff"])
            ax.axvline(avg, color=style.AVERAGE_COLOR, linestyle="--", linewidth=1, gid="average")
            ax.axvline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid="target")
            head = f"{lv}: {fmt_int(len(sub))} trường, trung bình {fmt_pct(avg)}"
            _panel_title(ax, head, note)
        note = f"nét đứt đen: trung bình cấp học; chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}"
        _title(fig, title, period, note)
        axes[-1].set_xlabel(nfc("Tỷ lệ CBGVNV (đang làm việc) đã có chữ ký số"))
    return fig


def coverage_by_level(
    table: pd.DataFrame, target: float = 1.0, period: str | None = None
) -> Figure:
    """One bar per level (and the district), "signed/staff (rate)" at the end of each bar."""
    title = "Tỷ lệ CBGVNV có chữ ký số cá nhân theo cấp học"
    t = table.set_index("level")
    rows = [lv for lv in (*SCHOOL_LEVELS, TOTAL) if lv in t.index]
    if not rows or t["n_staff"].fillna(0).sum() == 0:
        return _no_data(title, period)
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
        ax.set_xticks(_pct_ticks(max(1.0, target)))
        ax.axvline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid="target")
        ax.xaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="x")
        _title(fig, title, period, f"đường chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}")
    return fig


def coverage_by_district(
    table: pd.DataFrame,
    target: float = 1.0,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per district (``coverage_by_district``): see ``_coverage_by_area``."""
    return _coverage_by_area(table, "district", "quận/huyện", target, period, max_bars)


def coverage_by_commune(
    table: pd.DataFrame,
    target: float = 1.0,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per commune (``coverage_by_commune``, a province's report), lowest on
    top, "signed/staff, còn N" on each bar (N: staff still without a signature)."""
    return _coverage_by_area(table, "commune", "xã/phường", target, period, max_bars)


def _coverage_by_area(
    table: pd.DataFrame,
    key: str,
    noun: str,
    target: float = 1.0,
    period: str | None = None,
    max_bars: int = MAX_BARS,
) -> Figure:
    """Horizontal bars per area (a district or a commune, column ``key``), lowest on top,
    "signed/staff" on each bar, the overall rate (Tổng cộng) and the target as vertical lines.

    With more than ``max_bars`` districts: the bottom and top ``max_bars // 2`` (a gap row
    between them says how many are left out) and, under them, a histogram of the rates of
    every area, so the whole distribution is seen with a few dozen artists.
    """
    title = f"Tỷ lệ CBGVNV có chữ ký số cá nhân theo {noun}"
    t = table[table[key] != TOTAL]
    known = t[t["coverage"].notna()].sort_values(["coverage", key], kind="mergesort")
    if known.empty:
        return _no_data(title, period)
    shown, note = _pick_rows(known, max_bars)
    if note:  # the head already says how many districts there are
        note = f"hiển thị {len(shown) // 2} thấp nhất và {len(shown) // 2} cao nhất"
    n_missing = len(t) - len(known)
    truncated = len(shown) < len(known)
    total = table[table[key] == TOTAL]
    avg = (
        float(total["coverage"].iloc[0])
        if len(total) and not pd.isna(total["coverage"].iloc[0])
        else _ratio(t["n_signed"], t["n_staff"])
    )
    n_rows = len(shown) + truncated
    bars_cm = (n_rows + 2.5) * ROW_CM
    hist_cm = 4.5 if truncated else 0.0
    with style.use_style():
        fig = style.new_figure(bars_cm + hist_cm + 2.5)
        if truncated:
            ax, hist_ax = fig.subplots(2, 1, height_ratios=[bars_cm, hist_cm])
        else:
            ax, hist_ax = fig.add_subplot(), None
        y, gap = _bar_positions(len(shown), len(known))
        cov = shown["coverage"].to_numpy(dtype=float)
        ax.barh(y, cov, height=0.7, color=style.DISTRICT_COLOR, gid="districts")
        for yi, c, s_, n in zip(y, cov, shown["n_signed"], shown["n_staff"], strict=True):
            label = f"{fmt_int(s_)}/{fmt_int(n)}"
            if key == "commune":
                label += f", còn {fmt_int(max(0, int(n) - int(s_)))}"
            ax.text(c + 0.01, yi, label, va="center", fontsize=6.5)
        ticks, names = list(y), [nfc(v) for v in shown[key]]
        if gap is not None:
            ticks.append(float(gap))
            names.append(_gap_label(len(known) - len(shown), noun))
            ax.axhline(gap, color=LIGHT_RULE, linewidth=0.6, gid="gap")
        ax.set_yticks(ticks, labels=names)
        ax.set_ylim(n_rows - 0.5, -0.5)
        ax.set_xlim(0, max(1.0, target) + 0.16)
        ax.xaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="x")
        ax.axvline(avg, color=style.AVERAGE_COLOR, linestyle="--", linewidth=1, gid="average")
        ax.axvline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid="target")
        head = f"{fmt_int(len(t))} {noun}, chung {fmt_pct(avg)}"
        _panel_title(ax, head, note)
        if hist_ax is not None:
            values = known["coverage"].to_numpy(dtype=float)
            hist_ax.hist(
                values,
                bins=np.linspace(0, 1, 41),  # 2,5 points wide
                color=style.GREY,
                edgecolor="white",
                gid="distribution",
            )
            hist_ax.axvline(avg, color=style.AVERAGE_COLOR, linestyle="--", linewidth=1)
            hist_ax.axvline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4)
            hist_ax.set_xlim(ax.get_xlim())
            hist_ax.xaxis.set_major_formatter(style.pct_formatter())
            hist_ax.yaxis.set_major_formatter(style.int_formatter())
            hist_ax.set_ylabel(nfc(f"Số {noun}"))
            hist_ax.grid(axis="y")
            hist_ax.set_title(nfc(f"Phân bố tỷ lệ của cả {fmt_int(len(known))} {noun}"), loc="left")
        (hist_ax or ax).set_xlabel(nfc("Tỷ lệ CBGVNV (đang làm việc) đã có chữ ký số"))
        foot = f"nét đứt đen: tỷ lệ chung; chấm đỏ: chỉ tiêu {fmt_pct(target, 0)}"
        if n_missing:
            foot += f"; {fmt_int(n_missing)} {noun} chưa có số liệu"
        _title(fig, title, period, foot)
    return fig


def coverage_history(
    history: pd.DataFrame,
    projection: pd.DataFrame | None = None,
    target: float = 1.0,
    period: str | None = None,
) -> Figure:
    """Coverage per level over the periods; the projection line, its band and date."""
    title = "Tỷ lệ CBGVNV có chữ ký số qua các kỳ báo cáo"
    levels = _present_levels(history, with_total=True)
    if not levels:
        return _no_data(title, period)
    proj = projection.set_index("level") if projection is not None else pd.DataFrame()
    notes = []
    with style.use_style():
        fig = style.new_figure(10)
        ax = fig.add_subplot()
        periods = sorted(history["period"].astype("str").unique())
        last_x = date.fromisoformat(periods[-1])
        for lv in levels:
            sub = history[(history["level"] == lv) & history["coverage"].notna()]
            sub = sub.sort_values("period")
            xs = [date.fromisoformat(p) for p in sub["period"]]
            color = style.level_color(lv)
            row = proj.loc[lv] if lv in proj.index else None
            has_date = row is not None and _iso(row["date_100"])
            # The projected date goes in the legend: no label on the plot to overlap another.
            label = (
                f"{lv}: 100% khoảng {fmt_date(date.fromisoformat(row['date_100']))}"
                if (has_date)
                else lv
            )
            ax.plot(
                xs,
                sub["coverage"].to_numpy(dtype=float),
                marker="o",
                color=color,
                linewidth=2 if lv == TOTAL else 1.5,
                label=nfc(label),
                gid=f"history:{lv}",
            )
            if row is None:
                continue
            if not has_date:
                notes.append(f"{lv}: {row['note']}")
                continue
            fit = metrics.fit_line(history, lv, int(row["n_points"]))
            end = date.fromisoformat(row["date_100"])
            last_x = max(last_x, end)
            x0 = fit.last_date
            days = np.array([(x0 - fit.origin).days, (end - fit.origin).days], dtype=float)
            ax.plot(
                [x0, end],
                np.clip(fit.intercept + fit.slope * days, 0, 1),
                color=color,
                linestyle="--",
                linewidth=1,
                gid=f"projection:{lv}",
            )
            if np.isfinite(fit.slope_se) and fit.slope_se > 0:
                grid = np.linspace(days[0], days[1], 30)
                lo = fit.y_mean + (fit.slope - 2 * fit.slope_se) * (grid - fit.x_mean)
                hi = fit.y_mean + (fit.slope + 2 * fit.slope_se) * (grid - fit.x_mean)
                dates = [fit.origin + timedelta(days=float(d)) for d in grid]
                ax.fill_between(
                    dates,
                    np.clip(lo, 0, 1),
                    np.clip(hi, 0, 1),
                    color=color,
                    alpha=0.15,
                    linewidth=0,
                )
            ax.plot([end], [1.0], marker="o", markersize=4, color=color, gid=f"date_100:{lv}")
        ax.axhline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid="target")
        ticks = [date.fromisoformat(p) for p in periods]
        deadline = metrics.signing_window_end(periods[-1])
        if deadline <= last_x + timedelta(days=60):  # the deadline in sight: marked
            ax.axvline(deadline, color=style.GREY, linestyle="-.", linewidth=1, gid="deadline")
            ax.text(
                deadline, 0.03, nfc(f" hạn {fmt_date(deadline)}"), rotation=90, va="bottom",
                ha="right", fontsize=7.5, color="#444444",
            )  # fmt: skip
            last_x = max(last_x, deadline)
        ax.set_xticks(ticks, labels=[fmt_date(d) for d in ticks], rotation=30, ha="right")
        ax.set_xlim(ticks[0] - timedelta(days=7), last_x + timedelta(days=14))
        ax.set_ylim(0, 1.03)  # a rate stops at 100%: the axis too
        ax.set_yticks(_pct_ticks())
        ax.yaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="y")
        ax.set_ylabel(nfc("Tỷ lệ có chữ ký số"))
        ax.legend(loc="upper left")  # the lines rise from lower left: this corner is free
        note = (
            "nét đứt: xu hướng nếu giữ tốc độ các kỳ qua; vùng mờ: nhanh hơn hoặc chậm hơn "
            "một chút mà số liệu vẫn khớp"
        )
        if notes:
            note += " · " + "; ".join(notes)
        _title(fig, title, period, note)
    return fig


def coverage_by_role(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Grouped bars: per level (and the district), one bar per role."""
    title = "Tỷ lệ có chữ ký số theo nhóm chức vụ"
    levels = _present_levels(table, with_total=True)
    if not levels:
        return _no_data(title, period, "Chưa có danh sách CBGVNV để tính theo chức vụ")
    roles = [r for r in ROLES if (table["role"] == r).any()]
    width = 0.8 / max(len(roles), 1)
    t = table.set_index(["level", "role"])
    with style.use_style():
        fig = style.new_figure(9)
        ax = fig.add_subplot()
        for i, role in enumerate(roles):
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
                label=nfc(style.ROLE_LABELS.get(role, role)),
            )
            ax.bar_label(bars, labels=labels, fontsize=6.5, padding=1)
        ax.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels])
        ax.set_ylim(0, 1.1)  # room for the labels of full bars; ticks stop at 100%
        ax.set_yticks(_pct_ticks())
        ax.yaxis.set_major_formatter(style.pct_formatter())
        ax.grid(axis="y")
        # Under the level names: a legend inside would sit on the labels of full bars.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=len(roles))
        _title(fig, title, period, "CBGVNV đang làm việc, các trường gửi danh sách")
    return fig


def _provider_order(providers) -> list[str]:
    fixed = [p for p in style.PROVIDER_COLORS if p in set(providers)]
    others = sorted(p for p in set(providers) if p not in fixed and not p.startswith("Không rõ"))
    unknown = sorted(p for p in set(providers) if p.startswith("Không rõ"))
    return fixed + others + unknown


def coverage_by_provider(table: pd.DataFrame, period: str | None = None) -> Figure:
    """100% stacked bars: the share of each provider among the signed staff of a level."""
    title = "Nhà cung cấp chữ ký số theo cấp học"
    levels = _present_levels(table, with_total=True)
    if not levels:
        return _no_data(title, period, "Chưa có danh sách CBGVNV có chữ ký số")
    providers = _provider_order(table["provider"].astype("str"))
    colors = style.provider_colors(providers)
    t = table.set_index(["level", "provider"])
    with style.use_style():
        fig = style.new_figure(2.8 + 1.1 * len(levels))
        ax = fig.add_subplot()
        left = np.zeros(len(levels))
        for prov in providers:
            share = np.array(
                [
                    float(t.loc[(lv, prov), "share"]) if (lv, prov) in t.index else 0.0
                    for lv in levels
                ]
            )
            bars = ax.barh(
                range(len(levels)),
                share,
                left=left,
                height=0.6,
                color=colors[prov],
                label=nfc(prov),
            )
            labels = [fmt_pct(s, 0) if s >= 0.08 else "" for s in share]
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=7)
            left += share
        ax.set_yticks(range(len(levels)), labels=[nfc(lv) for lv in levels])
        ax.set_ylim(len(levels) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(style.pct_formatter())
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(len(providers), 4))
        _title(fig, title, period, "tỷ trọng trong số CBGVNV đã có chữ ký số")
    return fig


#: The type of signature in a legend (``staff.cert_type``; ``unknown``: the list does not say).
CERT_TYPE_LABELS = {"token": "USB Token", "remote": "Ký số từ xa", "hsm": "HSM",
                    "unknown": "Chưa rõ loại"}  # fmt: skip
CERT_TYPE_COLORS = {"token": "#1f5a96", "remote": "#e08a1e", "hsm": "#5b8c3a",
                    "unknown": "#b0b0b0"}  # fmt: skip


def coverage_signature_type(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Stacked bars per provider: the staff signed by the providers' lists, by type of
    signature (USB Token, remote, HSM, unknown), counts labelled."""
    title = "Loại chữ ký số theo nhà cung cấp"
    if table is None or table.empty or int(table["n_staff"].sum()) == 0:
        return _no_data(title, period, "Chưa có danh sách thuê bao của nhà cung cấp")
    providers = _provider_order(table["provider"].astype("str"))
    kinds = [k for k in CERT_TYPE_LABELS if k in set(table["cert_type"].astype("str"))]
    t = table.set_index(["provider", "cert_type"])["n_staff"]
    with style.use_style():
        fig = style.new_figure(2.8 + 0.8 * len(providers))
        ax = fig.add_subplot()
        left = np.zeros(len(providers))
        for kind in kinds:
            n = np.array([float(t.get((prov, kind), 0)) for prov in providers])
            bars = ax.barh(
                range(len(providers)),
                n,
                left=left,
                height=0.6,
                color=CERT_TYPE_COLORS[kind],
                label=CERT_TYPE_LABELS[kind],
            )
            total = max(float(left.max() + n.max()), 1.0)
            labels = [fmt_int(v) if v and v / total >= 0.04 else "" for v in n]
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=7)
            left += n
        ax.set_yticks(range(len(providers)), labels=[nfc(p) for p in providers])
        ax.set_ylim(len(providers) - 0.5, -0.5)
        ax.set_xlabel("Số CBGVNV đã có chữ ký số")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=min(len(kinds), 4))
        _title(fig, title, period, "theo danh sách thuê bao của nhà cung cấp")
    return fig


# --------------------------------------------------------------------------- scale etc.


def scale_by_level(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Three panels (schools, classes, pupils), one bar per level, values labelled."""
    title = "Quy mô trường, lớp, học sinh theo cấp học"
    t = table.set_index("level")
    levels = [lv for lv in SCHOOL_LEVELS if lv in t.index]
    if not levels or t.loc[levels, "n_schools"].sum() == 0:
        return _no_data(title, period)
    panels = (("n_schools", "Số trường"), ("n_classes", "Số lớp"), ("n_pupils", "Số học sinh"))
    with style.use_style():
        fig = style.new_figure(8)
        axes = fig.subplots(1, 3)
        for ax, (col, label) in zip(axes, panels, strict=True):
            values = [int(t.loc[lv, col]) for lv in levels]
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
            if len(levels) > 3:  # THPT, GDTX, multi-level: short labels, slanted
                names = [nfc(vocab.SHORT.get(lv, lv)) for lv in levels]
                ax.set_xticks(range(len(levels)), labels=names, fontsize=7, rotation=35)
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("right")
            else:
                ax.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels], fontsize=7.5)
            ax.set_title(nfc(label + (" (triệu)" if millions else "")))
            ax.set_ylim(0, max(values) * 1.15 or 1)
            formatter = style.millions_formatter() if millions else style.int_formatter()
            ax.yaxis.set_major_formatter(formatter)
            ax.grid(axis="y")
        note = ""
        if TOTAL in t.index:
            tot = t.loc[TOTAL]
            note = (
                f"Tổng cộng {fmt_int(tot['n_schools'])} trường, {fmt_int(tot['n_classes'])} lớp, "
                f"{fmt_int(tot['n_pupils'])} học sinh"
            )
        _title(fig, title, period, note)
    return fig


def infrastructure_by_school(
    table: pd.DataFrame, min_speed: float = 70, period: str | None = None
) -> Figure:
    """Two panels of bars (line speeds come in a few tiers: a scatter piles schools on the same
    points). Left: schools per line-speed tier (``metrics.speed_tiers``), stacked by level,
    the tiers under the threshold marked. Right: management computers per 100 pupils, per
    level, with the counts it comes from. Readable at any number of schools."""
    title = "Hạ tầng CNTT: tốc độ đường truyền và máy tính"
    if table.empty:
        return _no_data(title, period, "Chưa có số liệu hạ tầng CNTT trong kỳ này")
    tiers = metrics.speed_tiers(table, min_speed)
    order = tiers.drop_duplicates("tier").sort_values("tier_order")
    order = order[order["tier"].isin(tiers.loc[tiers["n_schools"] > 0, "tier"])]
    levels = _present_levels(table)
    with style.use_style():
        fig = style.new_figure(9)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
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
            left.barh(
                y, n, left=start, color=style.level_color(lv), label=nfc(lv), height=0.7,
                gid=f"tiers:{lv}",
            )  # fmt: skip
            start += n
        for yi, total in zip(y, start, strict=True):
            left.text(total, yi, f" {fmt_int(int(total))}", va="center", fontsize=7.5)
        left.set_yticks(
            y, labels=[nfc(t if t[0].isalpha() else f"{t} Mbps") for t in order["tier"]]
        )
        for tick, below in zip(left.get_yticklabels(), order["below"], strict=True):
            if below:
                tick.set_color(style.TARGET_COLOR)
        left.set_xlim(0, max(float(start.max()), 1) * 1.18)
        left.xaxis.set_major_formatter(style.int_formatter())
        left.set_xlabel(nfc("Số trường"))
        left.set_title(nfc("Trường theo tốc độ đường truyền"))
        left.grid(axis="x")
        left.legend(loc="lower right", fontsize=7)
        # Schools that reported computers only (a level none of whose schools did: "–").
        known = table[table["n_computers"].notna()]
        rate = [
            _ratio(
                known.loc[known["level"] == lv, "n_computers"],
                known.loc[known["level"] == lv, "n_pupils"],
            )
            * 100
            for lv in levels
        ]
        bars = right.bar(
            range(len(levels)),
            np.nan_to_num(rate),
            color=[style.level_color(lv) for lv in levels],
            width=0.6,
            gid="computers_per_100",
        )
        right.bar_label(
            bars, labels=[fmt_num(r, 1) if r == r else "–" for r in rate], fontsize=7.5, padding=1
        )
        right.set_xticks(range(len(levels)), labels=[nfc(lv) for lv in levels], fontsize=7.5)
        right.set_ylim(0, max(max(np.nan_to_num(rate)), 0.1) * 1.2)
        right.set_title(nfc("Máy tính quản lý\ntrên 100 học sinh"))
        right.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_num(v, 1)))
        right.grid(axis="y")
        n_below = int(table["below_threshold"].sum())
        note = (
            f"{fmt_int(len(table))} trường báo số liệu; ngưỡng {fmt_num(min_speed, 0)} Mbps: "
            f"{fmt_int(n_below)} trường dưới ngưỡng hoặc không có cáp quang"
            + (" (mức tô đỏ)" if n_below else "")
            + "; danh sách theo trường trong bảng hạ tầng"
        )
        _title(fig, title, period, note)
    return fig


def records_progress(
    table: pd.DataFrame, period: str | None = None, max_bars: int = MAX_BARS
) -> Figure:
    """Per school (records_by_school): share of records signed by the homeroom teacher (GVCN)
    and approved by the principal, one panel per level, lowest principal rate on top."""
    title = "Tiến độ ký số học bạ theo trường"
    levels = _present_levels(table)
    if not levels:
        return _no_data(title, period, "Chưa có số liệu ký số học bạ trong kỳ này")
    panels = []
    for lv in levels:
        sub = table[table["level"] == lv].sort_values(
            ["rate_principal", "rate_teacher", "school_code"], kind="mergesort"
        )
        shown, note = _pick_rows(sub, max_bars)
        panels.append((lv, sub, shown, note))
    heights = [len(p[2]) + 2.5 + (len(p[2]) < len(p[1])) for p in panels]
    with style.use_style():
        fig = style.new_figure(sum(heights) * ROW_CM * 1.2 + 2.5)
        axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
        for ax, (lv, sub, shown, note) in zip(axes, panels, strict=True):
            y, gap = _bar_positions(len(shown), len(sub))
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
            ticks, names = list(y), [short_name(v) for v in shown["school_name"]]
            if gap is not None:
                ticks.append(float(gap))
                names.append(_gap_label(len(sub) - len(shown)))
                ax.axhline(gap, color=LIGHT_RULE, linewidth=0.6, gid="gap")
            ax.set_yticks(ticks, labels=names)
            ax.set_ylim(len(shown) + (gap is not None) - 0.5, -0.5)
            ax.set_xlim(0, 1.05)
            ax.set_xticks(_pct_ticks())
            ax.xaxis.set_major_formatter(style.pct_formatter())
            ax.grid(axis="x")
            rate = _ratio(sub["n_signed_principal"], sub["n_records"])
            head = f"{lv}: Hiệu trưởng đã ký {fmt_pct(rate)} số học bạ"
            _panel_title(ax, head, note)
        _title(fig, title, period)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def stalled_schools(table: pd.DataFrame, last: int = 3) -> set[str]:
    """Schools still under 100% whose signed count has not moved over their ``last`` periods
    (at least two periods of data)."""
    out = set()
    for code, sub in table.sort_values("period").groupby("school_code", sort=False):
        signed = pd.to_numeric(sub["n_signed"]).dropna().tail(last)
        cov = pd.to_numeric(sub["coverage"]).dropna()
        if len(signed) >= 2 and signed.nunique() == 1 and len(cov) and cov.iloc[-1] < 1:
            out.add(str(code))
    return out


def heatmap_matrix(table: pd.DataFrame, level: str, max_rows: int = MAX_BARS) -> pd.DataFrame:
    """The matrix the heatmap of one level shows: schools (rows: the lowest coverage at the
    latest period first, at most ``max_rows``) by periods (columns, oldest first)."""
    sub = table[table["level"] == level]
    wide = sub.pivot(index="school_code", columns="period", values="coverage")
    wide = wide.reindex(columns=sorted(wide.columns))
    latest = wide.iloc[:, -1] if wide.shape[1] else pd.Series(dtype=float)
    codes = pd.Series(wide.index, index=wide.index)
    order = pd.DataFrame({"latest": latest, "code": codes}).sort_values(
        ["latest", "code"], kind="mergesort", na_position="first"
    )
    return wide.loc[order.index[:max_rows]].astype(float)


def coverage_heatmap(
    table: pd.DataFrame, period: str | None = None, max_rows: int = MAX_BARS
) -> Figure:
    """seaborn heatmap of coverage per school (rows, the lowest first) and period (columns),
    one panel per level: a school that does not move is a row of one colour, and is named
    "(đứng yên)"."""
    import seaborn as sns

    title = "Tỷ lệ có chữ ký số theo trường qua các kỳ"
    levels = _present_levels(table) if len(table) else []
    if not levels:
        return _no_data(title, period, "Chưa có số liệu chữ ký số theo trường qua các kỳ")
    names = table.drop_duplicates("school_code").set_index("school_code")["school_name"]
    stalled = stalled_schools(table)
    panels = [(lv, heatmap_matrix(table, lv, max_rows)) for lv in levels]
    heights = [len(m) + 2.5 for _, m in panels]
    with style.use_style():
        fig = style.new_figure(sum(heights) * ROW_CM + 3.5)
        axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
        for ax, (lv, matrix) in zip(axes, panels, strict=True):
            n_level = int((table["level"] == lv).groupby(table["school_code"]).any().sum())
            labels = [
                short_name(names.get(code, code)) + (" (đứng yên)" if code in stalled else "")
                for code in matrix.index
            ]
            sns.heatmap(
                matrix.to_numpy(),
                ax=ax,
                vmin=0,
                vmax=1,
                cmap="RdYlGn",
                linewidths=0.3,
                linecolor="white",
                cbar=False,
                xticklabels=[fmt_date(date.fromisoformat(p)) for p in matrix.columns],
                yticklabels=[nfc(x) for x in labels],
            )
            ax.tick_params(axis="y", labelsize=LABEL_PT, rotation=0)
            ax.tick_params(axis="x", labelsize=LABEL_PT + 0.5, rotation=0)
            ax.set_xlabel("")
            ax.set_ylabel("")
            n_stalled = sum(code in stalled for code in matrix.index)
            head = f"{lv}: {fmt_int(n_level)} trường"
            head += f", {fmt_int(n_stalled)} trường đứng yên" if n_stalled else ""
            note = ""
            if len(matrix) < n_level:
                note = f"hiển thị {fmt_int(len(matrix))} trường thấp nhất kỳ này"
            _panel_title(ax, head, note)
        bar = fig.colorbar(axes[0].collections[0], ax=list(axes), location="bottom",
                           fraction=0.03, pad=0.02, aspect=40)  # fmt: skip
        bar.ax.xaxis.set_major_formatter(style.pct_formatter())
        bar.ax.tick_params(labelsize=LABEL_PT)
        note = "đỏ: thấp, xanh: cao; đứng yên: số đã ký không đổi 3 kỳ gần nhất"
        _title(fig, title, period, note)
    return fig


# --------------------------------------------------------------------------- registry

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
