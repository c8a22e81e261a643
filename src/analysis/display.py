"""Tables as an analyst reads them in a notebook: Vietnamese formats, no pandas index.

``show(df)`` returns a ``Table``: Jupyter renders it as an HTML table (``_repr_html_``) and as
aligned text (``__repr__``), both deterministic (no object address, so an executed notebook is
the same bytes on a rerun). Cells are written the Vietnamese way: counts ``87.097``, rates
``69,8%``, a change of a rate ``+3,2 điểm``, other decimals ``12,5``, dates ``19/4/2024``,
``Có``/``Không``, and ``–`` for no data; headers from ``metrics.VN_COLUMNS``; a table of schools
with a coverage lists the lowest coverage first. An empty table (or None) becomes one sentence,
``Không có dữ liệu``; a mapping (the headline numbers) becomes a two-column table.

    from analysis import display
    display.show(tables["coverage_by_school"])
    display.show_table(tables, "coverage_by_district")     # a table the run may not have
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date, datetime

import pandas as pd

from analysis.core import vocab
from analysis.core.fmt import MISSING, fmt_date, fmt_int, fmt_num, fmt_pct
from analysis.core.text import is_missing
from analysis.metrics import BASIS_VN, DISTRICT_TABLES, RATE_COLUMNS, VN_COLUMNS, Note

NO_DATA = "Không có dữ liệu"
#: Columns of ratios' changes: written in points, signed.
POINT_COLUMNS = frozenset({"delta_coverage"})
#: Columns holding a day (ISO text or a date).
DATE_COLUMNS = frozenset(
    {"period", "prev_period", "date_100", "date_100_low", "date_100_high", "date_done",
     "issued_on", "expires_on"}
)  # fmt: skip
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
YES_NO = {True: "Có", False: "Không"}


def fmt_day(value) -> str:
    """'2024-04-19' / date / Timestamp -> '19/4/2024'; anything else as text."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (datetime, pd.Timestamp)):
        return fmt_date(value.date())
    if isinstance(value, date):
        return fmt_date(value)
    text = str(value)
    if _ISO.match(text):
        try:
            return fmt_date(date.fromisoformat(text[:10]))
        except ValueError:
            return text
    return text if text not in ("None", "nan", "<NA>") else MISSING


def fmt_points(value) -> str:
    """A change of a ratio in points: 0.032 -> '+3,2 điểm'."""
    if is_missing(value):
        return MISSING
    points = float(value) * 100
    sign = "+" if points > 0.05 else "−" if points < -0.05 else ""
    return f"{sign}{fmt_num(abs(points), 1)} điểm"


def fmt_cell(value, column: str = "") -> str:
    """One value, formatted by its column's meaning, then by its type."""
    if is_missing(value):
        return MISSING
    if column in RATE_COLUMNS - POINT_COLUMNS:
        return fmt_pct(value)
    if column in POINT_COLUMNS:
        return fmt_points(value)
    if column in DATE_COLUMNS:
        return fmt_day(value)
    if column == "basis":
        return BASIS_VN.get(value, str(value))
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return YES_NO[bool(value)]
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return fmt_day(value)
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return fmt_int(value)
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return fmt_int(value) if float(value).is_integer() else fmt_num(value, 1)
    text = str(value)
    return fmt_day(text) if _ISO_DAY.match(text) else text


class Table:
    """A formatted table for a notebook: HTML without the index, and the same as text."""

    def __init__(self, frame: pd.DataFrame, caption: str = ""):
        self.frame = frame  # every cell a formatted string; Vietnamese headers
        self.caption = caption

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        rows = []
        for record in self.frame.itertuples(index=False):
            cells = "".join(
                f'<td style="text-align:{_align(v)}">{html.escape(v)}</td>' for v in record
            )
            rows.append(f"<tr>{cells}</tr>")
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f'<table class="hocbaso">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False)
        return f"{self.caption}\n{text}" if self.caption else text

    def __len__(self) -> int:
        return len(self.frame)


def _align(text: str) -> str:
    return "right" if re.match(r"^[+−-]?[\d.,]+( điểm|%)?$", text) else "left"


_SUFFIX = re.compile(r"_(mn|th|thcs|total)$")
_SUFFIX_VN = {"mn": "Mầm non", "th": "Tiểu học", "thcs": "THCS", "total": "Tổng cộng"}
_HEADLINE_VN = {
    "schools": "Số trường", "classes": "Số lớp", "pupils": "Số học sinh",
    "staff": "Tổng số CBGVNV", "signed": "Số đã có chữ ký số", "records": "Số học bạ",
    "records_signed_teacher": "Học bạ GVCN đã ký", "signed_teacher": "GVCN đã ký",
    "records_signed_principal": "Học bạ hiệu trưởng đã ký", "sample": "Dữ liệu mẫu",
    "schools_reporting": "Số trường có số liệu",
}  # fmt: skip


def _headline_row(key: str, value) -> tuple[str, str]:
    """A headline key ('coverage_th', 'infra_n_fibre') as a label and a formatted value."""
    match = _SUFFIX.search(key)
    base = key[: match.start()] if match else key
    base = base.removeprefix("infra_")
    label = _HEADLINE_VN.get(base, VN_COLUMNS.get(base, base))
    if match:
        label = f"{label}, {_SUFFIX_VN[match.group(1)]}"
    column = "date_100" if base == "date_100" else base
    return label, fmt_cell(value, column)


def _lowest_first(df: pd.DataFrame) -> pd.DataFrame:
    """Schools with a coverage: the lowest first (level order kept), no data last."""
    if not {"school_code", "coverage"} <= set(df.columns) or df.empty:
        return df
    keys = ["coverage"] if "level" not in df.columns else ["_level", "coverage"]
    order = {lv: i for i, lv in enumerate(vocab.BASE_LEVELS)}
    out = df.assign(_level=df["level"].map(order).fillna(len(order))) if "level" in df else df
    out = out.sort_values(keys, kind="mergesort", na_position="last")
    return out.drop(columns=["_level"], errors="ignore")


def show(data, caption: str = "", *, lowest_first: bool = True, limit: int | None = None):
    """``data`` (a DataFrame, a mapping, or None) ready to read; an empty one as a sentence.

    ``limit`` shows the first rows only and says how many were left out.
    """
    if data is None:
        return Note(f"{NO_DATA}{': ' + caption if caption else ''}.")
    if isinstance(data, Mapping):
        rows = [_headline_row(k, v) for k, v in data.items()]
        return Table(pd.DataFrame(rows, columns=["Chỉ số", "Giá trị"]), caption)
    df = pd.DataFrame(data)
    if df.empty:
        return Note(f"{NO_DATA}{': ' + caption if caption else ''}.")
    if lowest_first:
        df = _lowest_first(df)
    left_out = 0
    if limit is not None and len(df) > limit:
        left_out, df = len(df) - limit, df.head(limit)
    out = pd.DataFrame(
        {
            VN_COLUMNS.get(col, col): [fmt_cell(v, col) for v in df[col].tolist()]
            for col in df.columns
        }
    )
    if left_out:
        caption = f"{caption} ({fmt_int(limit)} dòng đầu; còn {fmt_int(left_out)} dòng)".strip()
    return Table(out, caption)


def period_note(period: str) -> Note:
    """'Kỳ báo cáo: số liệu đến ngày 19/4/2024' for a notebook's first output."""
    return Note(f"Kỳ báo cáo: số liệu đến ngày {fmt_day(period)}")


def show_table(tables: Mapping[str, pd.DataFrame], name: str, caption: str = "", **kw):
    """``show(tables[name])``, or a sentence when the run has no such table (a one-district
    run has no district tables)."""
    if name in tables:
        return show(tables[name], caption, **kw)
    if name == "coverage_by_commune":
        return Note("Bảng theo xã/phường chỉ có trong báo cáo của tỉnh/thành phố (Sở GD&ĐT).")
    if name in {n for names in DISTRICT_TABLES.values() for n in names}:
        return Note("Dữ liệu chỉ có một quận/huyện: không lập bảng theo quận/huyện.")
    return Note(f"{NO_DATA}: kỳ báo cáo không có bảng này.")
