"""Coverage over the reporting periods: a line per level, and where ``metrics.projection``
dates 100% the trend line, its band and that date; the signing deadline when it is in sight."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import metrics
from analysis.core import vocab
from analysis.core.fmt import fmt_date
from analysis.figures import style
from analysis.figures.bars import pct_ticks
from analysis.figures.frame import no_data, present_levels, title
from analysis.figures.style import nfc

TREND_NOTE = (
    "nét đứt: xu hướng nếu giữ tốc độ các kỳ qua; vùng mờ: nhanh hơn hoặc chậm hơn "
    "một chút mà số liệu vẫn khớp"
)


def _iso(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))


def _level_line(ax, history: pd.DataFrame, lv: str, row) -> None:
    """The level's rate per period; the projected date of 100% goes in the legend (no label
    on the plot to overlap another)."""
    sub = history[(history["level"] == lv) & history["coverage"].notna()]
    sub = sub.sort_values("period")
    xs = [date.fromisoformat(p) for p in sub["period"]]
    label = lv
    if row is not None and _iso(row["date_100"]):
        label = f"{lv}: 100% khoảng {fmt_date(date.fromisoformat(row['date_100']))}"
    ax.plot(
        xs,
        sub["coverage"].to_numpy(dtype=float),
        marker="o",
        color=style.level_color(lv),
        linewidth=2 if lv == vocab.TOTAL else 1.5,
        label=nfc(label),
        gid=f"history:{lv}",
    )


def _band(ax, fit, days: np.ndarray, color: str) -> None:
    """The slope ± 2 standard errors around the fitted line, from its last point to 100%."""
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


def _projection(ax, history: pd.DataFrame, lv: str, row) -> date:
    """The trend line of ``lv`` up to its projected 100% date, the band, the date's marker.
    Returns that date."""
    color = style.level_color(lv)
    fit = metrics.fit_line(history, lv, int(row["n_points"]))
    end = date.fromisoformat(row["date_100"])
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
        _band(ax, fit, days, color)
    ax.plot([end], [1.0], marker="o", markersize=4, color=color, gid=f"date_100:{lv}")
    return end


def _deadline(ax, periods: list[str], last_x: date) -> date:
    """The end of the signing window, marked when in sight; returns the x axis's last date."""
    deadline = metrics.signing_window_end(periods[-1])
    if deadline <= last_x + timedelta(days=60):  # the deadline in sight: marked
        ax.axvline(deadline, color=style.GREY, linestyle="-.", linewidth=1, gid="deadline")
        ax.text(
            deadline, 0.03, nfc(f" hạn {fmt_date(deadline)}"), rotation=90, va="bottom",
            ha="right", fontsize=7.5, color="#444444",
        )  # fmt: skip
        last_x = max(last_x, deadline)
    return last_x


def _period_axes(ax, ticks: list[date], last_x: date) -> None:
    ax.set_xticks(ticks, labels=[fmt_date(d) for d in ticks], rotation=30, ha="right")
    ax.set_xlim(ticks[0] - timedelta(days=7), last_x + timedelta(days=14))
    ax.set_ylim(0, 1.03)  # a rate stops at 100%: the axis too
    ax.set_yticks(pct_ticks())
    ax.yaxis.set_major_formatter(style.pct_formatter())
    ax.grid(axis="y")
    ax.set_ylabel(nfc("Tỷ lệ có chữ ký số"))
    ax.legend(loc="upper left")  # the lines rise from lower left: this corner is free


def coverage_history(
    history: pd.DataFrame,
    projection: pd.DataFrame | None = None,
    target: float = 1.0,
    period: str | None = None,
) -> Figure:
    """Coverage per level over the periods; the projection line, its band and date."""
    text = "Tỷ lệ CBGVNV có chữ ký số qua các kỳ báo cáo"
    levels = present_levels(history, with_total=True)
    if not levels:
        return no_data(text, period)
    proj = projection.set_index("level") if projection is not None else pd.DataFrame()
    notes = []
    with style.use_style():
        fig = style.new_figure(10)
        ax = fig.add_subplot()
        periods = sorted(history["period"].astype("str").unique())
        last_x = date.fromisoformat(periods[-1])
        for lv in levels:
            row = proj.loc[lv] if lv in proj.index else None
            _level_line(ax, history, lv, row)
            if row is None:
                continue
            if not _iso(row["date_100"]):
                notes.append(f"{lv}: {row['note']}")
                continue
            last_x = max(last_x, _projection(ax, history, lv, row))
        ax.axhline(target, color=style.TARGET_COLOR, linestyle=":", linewidth=1.4, gid="target")
        last_x = _deadline(ax, periods, last_x)
        _period_axes(ax, [date.fromisoformat(p) for p in periods], last_x)
        note = TREND_NOTE + (" · " + "; ".join(notes) if notes else "")
        title(fig, text, period, note)
    return fig
