"""When coverage reaches 100%: the least-squares line per level (``projection``), the end of the
signing window, and each school's signing pace against it (``signing_pace``).

``projection``: ordinary least squares of coverage on days; band = slope ± 2 standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.core.fmt import fmt_date, fmt_num
from analysis.metrics.columns import MetricError, _frame, check_table
from analysis.metrics.frames import _int, _sort

MIN_POINTS = 3


#: Month and day on which the signing window of a school year ends (30 June).
WINDOW_END = (6, 30)


@dataclass(frozen=True)
class LineFit:
    """coverage = intercept + slope * (day - origin), fitted by least squares."""

    origin: date
    slope: float  # per day
    intercept: float
    slope_se: float
    n_points: int
    x_mean: float  # days since origin
    y_mean: float
    last_date: date
    last_coverage: float

    def day_reaching(self, value: float, slope: float | None = None) -> float | None:
        """Days since origin when the line (pivoting on the mean point) reaches ``value``."""
        slope = self.slope if slope is None else slope
        if not slope > 0:
            return None
        return self.x_mean + (value - self.y_mean) / slope


def fit_line(coverage_history: pd.DataFrame, level: str, last_k: int | None = None) -> LineFit:
    """Least-squares fit of coverage on days for one level (the last ``last_k`` periods)."""
    pts = coverage_history[
        (coverage_history["level"] == level) & coverage_history["coverage"].notna()
    ]
    pts = pts.sort_values("period")
    if last_k:
        pts = pts.tail(last_k)
    days = [date.fromisoformat(p) for p in pts["period"].astype("str")]
    y = pts["coverage"].to_numpy(dtype=float)
    n = len(days)
    if n == 0:
        raise MetricError(f"Không có số liệu tỷ lệ nào của cấp {level} để dự báo.")
    origin = days[0]
    x = np.array([(d - origin).days for d in days], dtype=float)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    slope = float(((x - x_mean) * (y - y_mean)).sum() / sxx) if sxx > 0 else 0.0
    intercept = y_mean - slope * x_mean
    if n > 2 and sxx > 0:
        resid = y - (intercept + slope * x)
        se = math.sqrt(float((resid**2).sum()) / (n - 2) / sxx)
    else:
        se = math.nan
    return LineFit(origin, slope, intercept, se, n, x_mean, y_mean, days[-1], float(y[-1]))


def _day(origin: date, days: float | None, not_before: date | None = None) -> str | None:
    """The day (ISO) when ``days`` after origin is reached, rounded up, never before
    ``not_before``; None past 2099."""
    if days is None or not math.isfinite(days):
        return None
    whole = math.ceil(round(days, 6))
    if not_before is not None:
        whole = max(whole, (not_before - origin).days)
    if whole > (date(2099, 12, 31) - origin).days:
        return None
    return (origin + timedelta(days=whole)).isoformat()


def _dates_100(fit: LineFit, n: int) -> dict:
    """The day the rising line ``fit`` of ``n`` periods reaches 100%, its band and the note."""
    # Coverage is under 100% at the last period, so no date may fall on or before it.
    after = fit.last_date + timedelta(days=1)
    date_100 = _day(fit.origin, fit.day_reaching(1.0), after)
    if date_100 is None:
        return {"note": "Với tốc độ hiện nay, ngày đạt 100% còn quá xa (sau năm 2099)."}
    spread = 2 * fit.slope_se if math.isfinite(fit.slope_se) else 0.0
    low = _day(fit.origin, fit.day_reaching(1.0, fit.slope + spread), after)
    high = _day(fit.origin, fit.day_reaching(1.0, fit.slope - spread), after)
    per_week = fmt_num(fit.slope * 7 * 100, 2)
    note = (
        f"Theo xu hướng của {n} kỳ (tăng trung bình {per_week} điểm % mỗi tuần), dự kiến đạt "
        f"100% vào khoảng {fmt_date(date.fromisoformat(date_100))}"
    )
    if low and high and (low != date_100 or high != date_100):
        note += (
            f" (trong khoảng {fmt_date(date.fromisoformat(low))} – "
            f"{fmt_date(date.fromisoformat(high))})"
        )
    elif high is None:
        note += "; giới hạn muộn nhất không xác định vì xu hướng chưa ổn định"
    return {
        "date_100": date_100,
        "date_100_low": low,
        "date_100_high": high,
        "note": note + ".",
    }


def _projection_row(coverage_history: pd.DataFrame, level: str, last_k: int | None) -> dict:
    pts = coverage_history[
        (coverage_history["level"] == level) & coverage_history["coverage"].notna()
    ]
    n = min(len(pts), last_k) if last_k else len(pts)
    k_text = f"{last_k} kỳ gần nhất" if last_k else "mọi kỳ có số liệu"
    model = (
        f"Đường thẳng khớp nhất với tỷ lệ theo ngày ({k_text}); khoảng: tốc độ nhanh hơn hoặc "
        "chậm hơn mà số liệu vẫn khớp (độ dốc ± 2 sai số chuẩn)"
    )
    row = {"level": level, "model": model, "n_points": n}
    row |= {"date_100": None, "date_100_low": None, "date_100_high": None}
    if n and float(pts.sort_values("period")["coverage"].iloc[-1]) >= 1 - 1e-12:
        return row | {"note": "Đã đạt 100%, không cần dự báo."}
    if n < MIN_POINTS:
        return row | {"note": f"Chưa đủ số liệu để dự báo (cần ít nhất {MIN_POINTS} kỳ)."}
    fit = fit_line(coverage_history, level, last_k)
    if not fit.slope > 0:
        return row | {"note": "Tỷ lệ không tăng qua các kỳ: không dự báo được ngày đạt 100%."}
    return row | _dates_100(fit, n)


def projection(
    coverage_history: pd.DataFrame, level: str | None = None, last_k: int | None = None
) -> pd.DataFrame:
    """When will coverage reach 100%? One row for ``level``, or one per level present + total.

    Model: ordinary least squares of coverage on days (all periods, or the last ``last_k``);
    ``date_100`` = the first day the line reaches 1; the band uses slope ± 2 standard errors,
    pivoting on the mean point. Fewer than 3 points, a non-positive slope or a level already at
    100% give no date and a note saying why.
    """
    present = coverage_history["level"].astype("str").unique().tolist()
    levels = (
        [level] if level else [lv for lv in (*vocab.SCHOOL_LEVELS, vocab.TOTAL) if lv in present]
    )
    rows = [_projection_row(coverage_history, lv, last_k) for lv in levels]
    out = _frame("projection", rows)
    for col in ("level", "model", "date_100", "date_100_low", "date_100_high", "note"):
        out[col] = out[col].astype("str")
    out["n_points"] = _int(out["n_points"])
    return check_table("projection", out, ["level"], pairs=())


def _pace_row(r, day: date, weeks_left: float) -> dict:
    """One school's row of ``signing_pace`` (``r``: its row of ``coverage_change``)."""
    staff, signed = int(r.n_staff), int(r.n_signed)
    unsigned = staff - signed
    pace = math.nan
    prev = r.prev_period if isinstance(r.prev_period, str) and r.prev_period else None
    if prev and pd.notna(r.delta_signed):
        weeks = (day - date.fromisoformat(prev)).days / 7
        if weeks > 0:
            pace = max(float(r.delta_signed), 0.0) / weeks
    if unsigned == 0:
        left, done = 0, None
    elif math.isfinite(pace) and pace > 0:
        left = max(0, math.ceil(round(unsigned - pace * weeks_left, 6)))
        done = _day(day, unsigned / pace * 7)
    else:
        left, done = unsigned, None
    return {
        "school_code": r.school_code,
        "school_name": r.school_name,
        "level": r.level,
        "n_staff": staff,
        "n_signed": signed,
        "n_unsigned": unsigned,
        "prev_period": prev,
        "signed_per_week": pace,
        "weeks_left": weeks_left,
        "needed_per_week": unsigned / weeks_left if weeks_left > 0 else float(unsigned),
        "left_at_window_end": left,
        "date_done": done,
        "on_track": left == 0,
    }


def signing_pace(coverage_change: pd.DataFrame, period: str) -> pd.DataFrame:
    """Per school: will its staff all hold a signature by the end of the signing window?

    The school's recent pace is its new signatures since the previous period per week
    (``signed_per_week``, never negative); ``needed_per_week`` is the pace that would finish
    by the window's end (the first 30 June on or after the period); ``left_at_window_end`` the
    staff still without one on that day at the recent pace (saturating: at most the staff left
    now, never below 0), so their sum is a projection that cannot pass 100%; ``date_done`` the
    day the school finishes at its pace (None when it has finished or does not move);
    ``on_track`` is True when nobody is left at the window's end. Schools without a previous
    period have no pace (NaN) and are not on track unless finished.
    """
    day = date.fromisoformat(str(period))
    weeks_left = (signing_window_end(day) - day).days / 7
    change = coverage_change[coverage_change["n_staff"].notna()]
    rows = [_pace_row(r, day, weeks_left) for r in change.itertuples(index=False)]
    out = _frame("signing_pace", rows)
    for col in ("school_code", "school_name", "level", "prev_period", "date_done"):
        out[col] = out[col].astype("str")
    for col in ("n_staff", "n_signed", "n_unsigned", "left_at_window_end"):
        out[col] = _int(out[col])
    for col in ("signed_per_week", "weeks_left", "needed_per_week"):
        out[col] = pd.to_numeric(out[col]).astype("float64")
    out["on_track"] = out["on_track"].astype(bool)
    out = _sort(out, ["level", "school_code"])
    return check_table("signing_pace", out, ["school_code"])


def signing_window_end(period: str | date) -> date:
    """The end of the next signing window: the first 30 June on or after the period."""
    day = date.fromisoformat(period) if isinstance(period, str) else period
    end = date(day.year, *WINDOW_END)
    return end if end >= day else date(day.year + 1, *WINDOW_END)
