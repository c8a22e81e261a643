"""Vietnamese number, percentage and date formats (Babel, locale ``vi``).

``87097`` -> ``"87.097"``; ``0.698`` -> ``"69,8%"``; ``date(2024, 4, 19)`` ->
``"ngày 19 tháng 4 năm 2024"`` (Nghị định 30/2020: a leading zero for days 1-9 and for
months 1 and 2).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from babel.numbers import format_decimal

LOCALE = "vi"
MISSING = "–"


def _missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def fmt_int(value) -> str:
    """Group thousands with '.': 87097 -> '87.097'."""
    if _missing(value):
        return MISSING
    return format_decimal(int(round(value)), format="#,##0", locale=LOCALE)


def fmt_num(value, decimals: int = 1) -> str:
    """A decimal number with ',' as decimal mark: 69.8 -> '69,8'."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def fmt_pct(ratio, decimals: int = 1) -> str:
    """A ratio as a percentage: 0.698 -> '69,8%' (the ratio, not the percent, goes in)."""
    if _missing(ratio):
        return MISSING
    return fmt_num(ratio * 100, decimals) + "%"


def fmt_date(day: date) -> str:
    """Short date as Vietnamese offices write it: 19/4/2024."""
    return f"{day.day}/{day.month}/{day.year}"


def fmt_date_long(day: date) -> str:
    """'ngày 19 tháng 4 năm 2024', with the leading zeros Nghị định 30/2020 asks for."""
    dd = f"{day.day:02d}" if day.day < 10 else str(day.day)
    mm = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {dd} tháng {mm} năm {day.year}"


def date_line(place: str, day: date) -> str:
    """'Long Biên, ngày 19 tháng 4 năm 2024'."""
    return f"{place}, {fmt_date_long(day)}"
