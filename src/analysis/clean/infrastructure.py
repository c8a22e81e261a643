"""Infrastructure (``ha_tang``) -> ``infrastructure``: fibre lines, speed, computers."""

from __future__ import annotations

import pandas as pd

from analysis.clean.checks import (
    KindCheck,
    _col,
    _display,
    _is_text_cell,
    _KindOut,
    _level_of,
    _tally,
)
from analysis.core import parse, schemas
from analysis.ingest import RawTable


def clean_infrastructure(
    tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame
) -> _KindOut:
    """Infrastructure rows -> ``infrastructure`` (one row per school)."""
    k = KindCheck("ha_tang", tables, schools, aliases)
    n_fibre = k.count("n_fibre", "Số đường truyền cáp quang")
    speed = _speed_check(k)
    n_computers = k.count("n_computers", "Số máy tính", required=False)
    code = k.match.school_code
    k.duplicate_school(code.fillna(""), "một dòng trước")
    out = k.kept_rows(
        {
            "school_code": code,
            "level": _level_of(code, schools),
            "n_fibre": n_fibre,
            "speed_mbps": speed.astype("float64"),
            "n_computers": n_computers,
        }
    )
    return k.result(schemas.conform("infrastructure", out), ["n_fibre", "n_computers"])


def _speed_check(k: KindCheck) -> pd.Series:
    """The line speed in Mbps (``parse.SPEED_UNITS``); unreadable (``bad_number``) or not above
    0 (``bad_speed``) is refused; speeds read from text are counted (``number_text``)."""
    raw_speed = _col(k.df, "speed_mbps")
    speed, bad_speed = parse.parse_float_vn(raw_speed, units=parse.SPEED_UNITS)
    shown = _display(raw_speed)
    k.checks.add(
        "bad_number",
        bad_speed,
        "speed_mbps",
        shown,
        "Tốc độ đường truyền '" + shown + "' không đọc được: cần một số Mbps, ví dụ 100 hoặc "
        "70 Mbps. Hãy sửa ô này rồi chạy lại.",
    )
    k.checks.add(
        "bad_speed",
        speed <= 0,
        "speed_mbps",
        shown,
        "Tốc độ đường truyền '" + shown + "' phải lớn hơn 0. Hãy sửa ô này (để trống nếu không "
        "có) rồi chạy lại.",
    )
    _tally(k.stats, "number_text", (_is_text_cell(raw_speed) & speed.notna()).sum())
    return speed
