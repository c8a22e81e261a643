"""The formatted Excel workbook of a period: ``bang_bieu_<period>.xlsx`` (xlsxwriter).

One sheet per table. Each sheet: a title row with the period (and the sample mark where it
applies), a bold wrapped header with Vietnamese column names, the header row frozen, an
autofilter, column widths, and real numbers with number formats (``#,##0`` for counts,
``0.0%`` for ratios) that Excel shows with the separators of the reader's locale (Vietnamese:
``87.097``, ``69,8%``; a change in points as ``+3,2``). Counts are written as numbers, never as
text. Printing: A4 landscape, one page wide, the header row repeated on every page, the print
area set, the title merged over the table and wrapped; total rows (``Tổng cộng``, and on the
appendix sheet one per level) sit under the autofilter range, so a sort never moves them.
Sheets of data a period may not have (record signing, expiring certificates, pace to 30/6) are
written only when it has them.

Deterministic: the created date is the period's date (xlsxwriter otherwise stamps the clock)
and xlsxwriter writes zip members with a fixed timestamp, so a rerun gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from analysis.core import io, privacy, vocab
from analysis.core.fmt import fmt_date
from analysis.core.text import vn_rank

SAMPLE_TEXT = "DỮ LIỆU MẪU — không phải số liệu thật"
TOTAL = vocab.TOTAL
LEVELS = (*vocab.SCHOOL_LEVELS, TOTAL)
HEADER_ROW = 2  # 0: title, 1: sample mark / note, 2: header, 3...: data

INT_FORMAT = "#,##0"
PCT_FORMAT = "0.0%"
NUM_FORMAT = "#,##0.0"
#: A change in percentage points, signed: +3,2 / −1,5 (the value written is points, not a ratio).
POINTS_FORMAT = "+#,##0.0;-#,##0.0;0.0"
A4 = 9  # xlsxwriter's paper code
#: Title row height per line (points) and characters per cm of column width, for the wrap.
TITLE_LINE_PT = 19
TITLE_CHARS_PER_WIDTH = 1.2  # 14 pt bold: a character takes about 1,2 units of column width
DATE_FORMAT = "dd/mm/yyyy"

ROLE_LABELS = {"CBQL": "Cán bộ quản lý", "GV": "Giáo viên", "NV": "Nhân viên"}
BASIS_LABELS = {"list": "Danh sách CBGVNV", "counts": "Bảng tổng hợp"}
YES_NO = {True: "Có", False: "Không"}


@dataclass(frozen=True)
class Col:
    """One column of a sheet: source column, Vietnamese header, kind, optional value labels."""

    source: str
    header: str
    kind: str = "text"  # text | int | pct | num | points | date | label
    labels: Mapping | None = None


@dataclass(frozen=True)
class Sheet:
    name: str  # at most 31 characters
    title: str
    table: str
    columns: tuple[Col, ...]
    optional: bool = False  # only when the period has data for it (no empty sheet)


SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Quy mô",
        "Quy mô trường, lớp, học sinh theo cấp học",
        "scale_by_level",
        (
            Col("level", "Cấp học"),
            Col("n_schools", "Số trường", "int"),
            Col("n_classes", "Số lớp", "int"),
            Col("n_pupils", "Số học sinh", "int"),
            Col("n_pupils_with_id", "Số HS có mã định danh", "int"),
            Col("n_pupils_verified", "Số HS đã xác thực dân cư", "int"),
        ),
    ),
    Sheet(
        "Phụ lục CKS",
        "Cán bộ, giáo viên, nhân viên có chữ ký số cá nhân theo trường",
        "coverage_by_school",
        (
            Col("stt", "STT", "int"),
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("ward", "Phường"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("n_pending", "Số đang chờ cấp", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
            Col("basis", "Nguồn số liệu", "label", BASIS_LABELS),
            Col("rank_in_level", "Thứ hạng trong cấp (1 = thấp nhất)", "int"),
        ),
    ),
    Sheet(
        "Theo cấp học",
        "Chữ ký số cá nhân theo cấp học",
        "coverage_by_level",
        (
            Col("level", "Cấp học"),
            Col("n_schools", "Số trường", "int"),
            Col("n_schools_reporting", "Số trường có số liệu", "int"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
        ),
    ),
    Sheet(
        "Theo chức vụ",
        "Chữ ký số cá nhân theo nhóm chức vụ (theo danh sách CBGVNV)",
        "coverage_by_role",
        (
            Col("level", "Cấp học"),
            Col("role", "Nhóm chức vụ", "label", ROLE_LABELS),
            Col("n_staff", "Tổng số", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
        ),
    ),
    Sheet(
        "Theo nhà cung cấp",
        "Chữ ký số cá nhân theo nhà cung cấp (theo danh sách CBGVNV)",
        "coverage_by_provider",
        (
            Col("level", "Cấp học"),
            Col("provider", "Nhà cung cấp"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("share", "Tỷ trọng", "pct"),
        ),
    ),
    Sheet(
        "Theo xã phường",
        "Chữ ký số cá nhân theo xã/phường (tỷ lệ thấp nhất trước)",
        "coverage_by_commune",
        (
            Col("commune", "Xã/phường"),
            Col("n_schools", "Số trường", "int"),
            Col("n_schools_reporting", "Số trường có số liệu", "int"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
            Col("n_missing", "Số chưa có CKS", "int"),
        ),
        optional=True,
    ),
    Sheet(
        "Theo phường",
        "Chữ ký số cá nhân theo phường",
        "coverage_by_ward",
        (
            Col("ward", "Phường"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
        ),
    ),
    Sheet(
        "Hạ tầng",
        "Hạ tầng công nghệ thông tin theo trường",
        "infrastructure_by_school",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("n_fibre", "Số đường truyền cáp quang", "int"),
            Col("speed_mbps", "Tốc độ đường truyền (Mbps)", "num"),
            Col("n_computers", "Số máy tính phục vụ quản lý", "int"),
            Col("n_pupils", "Số học sinh", "int"),
            Col("computers_per_100_pupils", "Máy tính / 100 HS", "num"),
            Col("below_threshold", "Dưới ngưỡng", "label", YES_NO),
        ),
    ),
    Sheet(
        "Thay đổi so với kỳ trước",
        "Thay đổi tỷ lệ có chữ ký số so với kỳ trước",
        "coverage_change",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("prev_period", "Kỳ trước", "date"),
            Col("n_staff_prev", "Tổng số CBGVNV kỳ trước", "int"),
            Col("n_signed_prev", "Số đã có CKS kỳ trước", "int"),
            Col("coverage_prev", "Tỷ lệ kỳ trước", "pct"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
            Col("delta_signed", "Tăng thêm (người)", "int"),
            Col("delta_coverage", "Thay đổi tỷ lệ (điểm %)", "points"),
        ),
    ),
    Sheet(
        "Qua các kỳ",
        "Tỷ lệ có chữ ký số qua các kỳ báo cáo",
        "coverage_history",
        (
            Col("period", "Kỳ báo cáo", "date"),
            Col("level", "Cấp học"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("coverage", "Tỷ lệ", "pct"),
        ),
    ),
    Sheet(
        "Dự báo",
        "Dự báo thời điểm đạt 100% CBGVNV có chữ ký số",
        "projection",
        (
            Col("level", "Cấp học"),
            Col("n_points", "Số kỳ dùng", "int"),
            Col("date_100", "Dự kiến đạt 100%", "date"),
            Col("date_100_low", "Sớm nhất", "date"),
            Col("date_100_high", "Muộn nhất", "date"),
            Col("note", "Ghi chú"),
            Col("model", "Mô hình"),
        ),
    ),
)
SHEETS += (
    Sheet(
        "Tiến độ đến 30-6",
        "Tiến độ từng trường so với hạn ký học bạ (30/6), theo tốc độ từ kỳ trước",
        "signing_pace",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("n_staff", "Tổng số CBGVNV", "int"),
            Col("n_unsigned", "Số chưa có CKS", "int"),
            Col("signed_per_week", "Tốc độ từ kỳ trước (chữ ký/tuần)", "num"),
            Col("needed_per_week", "Cần để kịp hạn (chữ ký/tuần)", "num"),
            Col("left_at_window_end", "Dự kiến còn thiếu ở hạn", "int"),
            Col("date_done", "Dự kiến xong", "date"),
            Col("on_track", "Kịp hạn", "label", YES_NO),
        ),
        optional=True,
    ),
    Sheet(
        "Chứng thư hết hạn",
        "Chứng thư số của CBGVNV đã có chữ ký số hết hạn trước cuối đợt ký học bạ",
        "expiring",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("n_signed", "Số đã có CKS", "int"),
            Col("n_expiring_window", "Hết hạn trước 30/6", "int"),
            Col("n_expiring_days", "Hết hạn trong số ngày xét", "int"),
        ),
        optional=True,
    ),
    Sheet(
        "Ký số học bạ",
        "Ký số học bạ theo trường (giáo viên chủ nhiệm ký, hiệu trưởng duyệt)",
        "records_by_school",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("n_records", "Số học bạ", "int"),
            Col("n_signed_teacher", "GVCN đã ký", "int"),
            Col("rate_teacher", "Tỷ lệ GVCN đã ký", "pct"),
            Col("n_signed_principal", "Hiệu trưởng đã duyệt", "int"),
            Col("rate_principal", "Tỷ lệ hiệu trưởng đã duyệt", "pct"),
        ),
        optional=True,
    ),
    Sheet(
        "Học bạ theo khối",
        "Ký số học bạ theo khối lớp",
        "records_by_grade",
        (
            Col("level", "Cấp học"),
            Col("grade", "Khối lớp", "int"),
            Col("n_records", "Số học bạ", "int"),
            Col("n_signed_teacher", "GVCN đã ký", "int"),
            Col("rate_teacher", "Tỷ lệ GVCN đã ký", "pct"),
            Col("n_signed_principal", "Hiệu trưởng đã duyệt", "int"),
            Col("rate_principal", "Tỷ lệ hiệu trưởng đã duyệt", "pct"),
        ),
        optional=True,
    ),
)
#: The type of signature in the workbook's words (``staff.cert_type``).
CERT_TYPE_LABELS = {"token": "USB Token", "remote": "Ký số từ xa", "hsm": "HSM",
                    "unknown": "Chưa rõ loại"}  # fmt: skip
SHEETS += (
    Sheet(
        "Chữ ký số cơ quan",
        "Trường có chữ ký số của cơ quan (con dấu số) còn hiệu lực, theo cấp học và xã/phường",
        "institution_readiness",
        (
            Col("level", "Cấp học"),
            Col("commune", "Xã/phường"),
            Col("n_schools", "Số trường", "int"),
            Col("n_ready", "Số trường có CKS cơ quan", "int"),
            Col("share", "Tỷ lệ", "pct"),
        ),
        optional=True,
    ),
    Sheet(
        "Trường chưa có CKS cơ quan",
        "Trường chưa có chữ ký số của cơ quan (con dấu số) còn hiệu lực",
        "schools_without_seal",
        (
            Col("level", "Cấp học"),
            Col("school_code", "Mã trường"),
            Col("school_name", "Tên trường"),
            Col("commune", "Xã/phường"),
        ),
        optional=True,
    ),
    Sheet(
        "Loại chữ ký số",
        "CBGVNV đã có chữ ký số theo danh sách thuê bao: loại chữ ký số theo nhà cung cấp",
        "signature_type_by_provider",
        (
            Col("provider", "Nhà cung cấp"),
            Col("cert_type", "Loại chữ ký số", "label", CERT_TYPE_LABELS),
            Col("n_staff", "Số CBGVNV đã có CKS", "int"),
        ),
        optional=True,
    ),
    Sheet(
        "Chứng thư không khớp",
        "Chứng thư số trong danh sách thuê bao không khớp CBGVNV nào (theo số CCCD)",
        "unmatched_certificates",
        (
            Col("provider", "Nhà cung cấp"),
            Col("school_code", "Mã trường (theo Đơn vị)"),
            Col("n", "Số chứng thư", "int"),
        ),
        optional=True,
    ),
)
QUALITY_SHEET = "Chất lượng dữ liệu"
NON_DATA = ("title", "header", "total", "blank", "footer")
ACCOUNTING = (
    Col("source_file", "Tệp"),
    Col("source_sheet", "Trang tính"),
    Col("kind", "Loại bảng"),
    Col("rows_read", "Số dòng đọc", "int"),
    Col("kept", "Giữ lại", "int"),
    Col("quarantined", "Cách ly (loại ra)", "int"),
    Col("non_data_title", "Dòng tên bảng", "int"),
    Col("non_data_header", "Dòng tiêu đề cột", "int"),
    Col("non_data_total", "Dòng tổng", "int"),
    Col("non_data_blank", "Dòng trống", "int"),
    Col("non_data_footer", "Dòng chân (ký tên)", "int"),
    Col("balanced", "Cân đối", "label", {True: "Đúng", False: "LỆCH"}),
)
REASONS = (
    Col("kind", "Loại bảng"),
    Col("reason", "Lý do"),
    Col("n_rows", "Số dòng bị cách ly", "int"),
)
REPAIRS = (Col("repair", "Loại sửa lỗi tự động"), Col("n", "Số lần", "int"))
WARNINGS = (
    Col("file", "Tệp"),
    Col("sheet", "Trang tính"),
    Col("row", "Dòng", "int"),
    Col("code", "Mã cảnh báo"),
    Col("message", "Nội dung"),
)
SKIPPED = (Col("file", "Tệp"), Col("sheet", "Trang tính"), Col("reason", "Lý do bỏ qua"))


# ----------------------------------------------------------------------------- values


def sort_by_name(df: pd.DataFrame, col: str = "school_name") -> pd.DataFrame:
    """Rows in Vietnamese dictionary order of ``col`` (``core.text.vn_sort_key``), missing last,
    stable."""
    return df.take(np.argsort(vn_rank(df[col]), kind="stable"))


def _level_order(df: pd.DataFrame) -> pd.DataFrame:
    if "level" not in df.columns or df.empty:
        return df
    rank = df["level"].map({lv: i for i, lv in enumerate(LEVELS)}).fillna(len(LEVELS))
    return df.assign(_rank=rank).sort_values("_rank", kind="mergesort").drop(columns="_rank")


def _values(series: pd.Series, col: Col) -> list:
    """Python values for xlsxwriter: numbers stay numbers, missing values become blanks."""
    if col.kind == "int":
        s = pd.to_numeric(series).round().astype("Int64")
        return s.to_numpy(dtype=object, na_value=None).tolist()
    if col.kind in ("pct", "num"):
        s = pd.to_numeric(series).astype("Float64")
        return s.to_numpy(dtype=object, na_value=None).tolist()
    if col.kind == "points":  # a change of a ratio, written in points (0.032 -> 3.2)
        s = (pd.to_numeric(series).astype("Float64") * 100).round(10)
        return s.to_numpy(dtype=object, na_value=None).tolist()
    if col.kind == "date":
        s = pd.to_datetime(series.astype("str"), errors="coerce", format="ISO8601")
        out = s.dt.date.astype(object).where(s.notna(), None)
        return out.tolist()
    if col.kind == "label":
        labels = col.labels or {}
        s = series.map(lambda v: labels.get(v, v) if v is not None else None)
        return s.astype(object).where(series.notna(), None).tolist()
    s = series.astype("str")
    return s.astype(object).where(series.notna(), None).tolist()


def _width(header: str, values: list, col: Col) -> float:
    longest_word = max((len(w) for w in header.split()), default=4)
    head = min(len(header), 22)
    if col.kind == "int":
        body = max((len(f"{v:,}") for v in values if v is not None), default=1)
    elif col.kind in ("pct", "num", "points"):
        body = 7
    elif col.kind == "date":
        body = 10
    else:
        body = max((len(str(v)) for v in values if v is not None), default=1)
    return float(min(max(head, longest_word, body) + 2, 60))


HEADER_LINE_PT = 16


def _header_lines(header: str, width: float) -> int:
    """Lines a bold 12 pt header takes in a column ``width`` units wide (greedy word wrap)."""
    room = max(width - 1.5, 1) / TITLE_CHARS_PER_WIDTH * 1.1
    lines, used = 1, 0.0
    for word in header.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > room:
            lines, used = lines + 1, len(word)
        else:
            used += need
    return lines


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
        cell = {**base, "border": 1}

        def add(**kw):
            return wb.add_format({**cell, **kw})

        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.mark = wb.add_format({**base, "bold": True, "font_color": "#C00000"})
        self.note = wb.add_format({**base, "italic": True})
        self.header = add(bold=True, text_wrap=True, align="center", bg_color="#D9E1F2")
        self.body = {
            "text": add(text_wrap=False),
            "label": add(),
            "int": add(num_format=INT_FORMAT),
            "pct": add(num_format=PCT_FORMAT),
            "num": add(num_format=NUM_FORMAT),
            "points": add(num_format=POINTS_FORMAT),
            "date": add(num_format=DATE_FORMAT, align="left"),
        }
        self.bold = {
            "text": add(bold=True),
            "label": add(bold=True),
            "int": add(bold=True, num_format=INT_FORMAT),
            "pct": add(bold=True, num_format=PCT_FORMAT),
            "num": add(bold=True, num_format=NUM_FORMAT),
            "points": add(bold=True, num_format=POINTS_FORMAT),
            "date": add(bold=True, num_format=DATE_FORMAT, align="left"),
        }
        self.subtitle = wb.add_format({**base, "bold": True, "font_size": 12})
        # A title merged across the table's columns and wrapped, so it prints whole.
        self.title_wrap = wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": True})


def _title_text(title: str, day: date, sample: bool, district: str) -> str:
    where = f" — {district}" if district else ""  # "quận Long Biên", "phường Bồ Đề"
    text = f"{title}{where} — số liệu tính đến {fmt_date(day)}"
    return text + (" — Dữ liệu mẫu" if sample else "")


def _title(ws, fmts: _Formats, title: str, day: date, sample: bool, district: str) -> None:
    ws.write_string(0, 0, _title_text(title, day, sample, district), fmts.title)
    if sample:
        ws.write_string(1, 0, SAMPLE_TEXT, fmts.mark)


def _fit_title(ws, fmts: _Formats, text: str, widths: list[float]) -> None:
    """The title merged over the table's columns, wrapped, its row as tall as its lines: on
    paper (one page wide) it is never cut at the last column."""
    if len(widths) < 2:
        return
    lines = -(-len(text) // max(int(sum(widths) / TITLE_CHARS_PER_WIDTH), 1))
    ws.merge_range(0, 0, 0, len(widths) - 1, text, fmts.title_wrap)
    ws.set_row(0, TITLE_LINE_PT * max(lines, 1))


def _print_setup(ws, last_row: int, last_col: int) -> None:
    """A4 landscape, one page wide (as many pages down as needed), the header row repeated on
    every page, the print area = the title and the table."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.print_area(0, 0, max(last_row, HEADER_ROW + 1), last_col)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()


def _write_table(
    ws,
    fmts: _Formats,
    df: pd.DataFrame | None,
    columns: tuple[Col, ...],
    first_row: int,
    *,
    filter_and_freeze: bool,
    bold_mask: pd.Series | None = None,
    widths_acc: dict[int, float] | None = None,
    n_tail: int = 0,
) -> int:
    """Header at ``first_row``, data below; returns the next free row.

    With ``widths_acc`` (several tables on one sheet) the column widths are accumulated there
    (the widest wins) for the caller to set once. The last ``n_tail`` rows (totals) are left
    out of the autofilter range, so a sort or a filter never moves or hides them."""
    for j, col in enumerate(columns):
        ws.write_string(first_row, j, col.header, fmts.header)
    if df is None or df.empty:
        ws.write_string(first_row + 1, 0, "Chưa có số liệu cho kỳ này.", fmts.note)
        last = first_row
        widths = [_width(c.header, [], c) for c in columns]
    else:
        df = df.reset_index(drop=True)
        widths = []
        for j, col in enumerate(columns):
            values = _values(df[col.source], col) if col.source in df.columns else []
            values = values or [None] * len(df)
            ws.write_column(first_row + 1, j, values, fmts.body[col.kind])
            if bold_mask is not None and bold_mask.any():
                for i in bold_mask[bold_mask].index:  # the total row(s) only
                    ws.write(first_row + 1 + int(i), j, values[int(i)], fmts.bold[col.kind])
            widths.append(_width(col.header, values, col))
        last = first_row + len(df)
    for j, width in enumerate(widths):
        if widths_acc is None:
            ws.set_column(j, j, width)
        else:
            widths_acc[j] = max(widths_acc.get(j, 0), width)
    # A wrapped header as tall as its longest wrap (neither Excel nor LibreOffice grows a row
    # on its own when printing): 12 pt lines, a header word never split.
    lines = max(_header_lines(c.header, w) for c, w in zip(columns, widths, strict=True))
    ws.set_row(first_row, HEADER_LINE_PT * lines)
    if filter_and_freeze:
        ws.freeze_panes(first_row + 1, 0)
        ws.autofilter(first_row, 0, max(last - n_tail, first_row), len(columns) - 1)
    return last + 1


def _prepare(sheet: Sheet, df: pd.DataFrame | None) -> pd.DataFrame | None:
    if df is None:
        return None
    if "school_name" in df.columns and not df.empty:
        df = sort_by_name(df)
    df = _level_order(df)
    if sheet.table == "coverage_by_school" and not df.empty:
        df = df.assign(stt=df.groupby("level", sort=False).cumcount() + 1)
        df = pd.concat([df, appendix_totals(df)], ignore_index=True)
    return df.reset_index(drop=True)


def appendix_totals(df: pd.DataFrame) -> pd.DataFrame:
    """The total rows of the appendix sheet: one per level ("Cộng <cấp>") when there are
    several levels, then "Tổng cộng"; the rate is the total signed over the total staff."""
    levels = [lv for lv in LEVELS if lv in set(df["level"])]
    groups = [(f"Cộng {lv}", df[df["level"] == lv], lv) for lv in levels] if len(levels) > 1 else []
    groups.append((TOTAL, df, ""))
    rows = []
    for name, part, level in groups:
        staff = pd.to_numeric(part["n_staff"]).sum(min_count=1)
        signed = pd.to_numeric(part["n_signed"]).sum(min_count=1)
        rows.append(
            {
                "level": level or TOTAL,
                "school_name": name,
                "n_staff": staff,
                "n_signed": signed,
                "n_pending": pd.to_numeric(part["n_pending"]).sum(min_count=1),
                "coverage": signed / staff if pd.notna(staff) and staff else None,
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- quality


def accounting_table(quality: Mapping) -> pd.DataFrame:
    """``quality.json["inputs"]`` (a list of records or a mapping) as one row per input."""
    inputs = quality.get("inputs") or []
    if isinstance(inputs, Mapping):
        inputs = [{"source_file": key, **value} for key, value in sorted(inputs.items())]
    records = []
    for item in inputs:
        non_data = item.get("non_data") or {}
        rec = {
            "source_file": item.get("source_file", item.get("file", "")),
            "source_sheet": item.get("source_sheet", item.get("sheet", "")),
            "kind": item.get("kind", ""),
            "rows_read": item.get("rows_read"),
            "kept": item.get("kept"),
            "quarantined": item.get("quarantined"),
        }
        rec |= {f"non_data_{k}": non_data.get(k, 0) for k in NON_DATA}
        records.append(rec)
    cols = [c.source for c in ACCOUNTING if c.source != "balanced"]
    df = pd.DataFrame.from_records(records, columns=cols)
    if df.empty:
        return df.assign(balanced=pd.Series(dtype=bool))
    counts = df[cols[3:]].apply(pd.to_numeric).fillna(0)
    parts = counts.drop(columns="rows_read").sum(axis=1)
    return df.assign(balanced=(parts == counts["rows_read"]))


def quarantine_reasons(quarantine: pd.DataFrame | None) -> pd.DataFrame:
    """Quarantined rows counted by kind and reason."""
    if quarantine is None or quarantine.empty:
        return pd.DataFrame(columns=["kind", "reason", "n_rows"])
    out = quarantine.groupby(["kind", "reason"], sort=True).size().rename("n_rows")
    return out.reset_index()


def _records(items, columns: tuple[Col, ...]) -> pd.DataFrame:
    """A list of dicts (from quality.json) as a frame with exactly ``columns``."""
    items = [item for item in (items or []) if isinstance(item, Mapping)]
    names = [c.source for c in columns]
    return pd.DataFrame.from_records([{k: i.get(k) for k in names} for i in items], columns=names)


def _count(value, key: str = "total") -> int | None:
    """A count from quality.json: a number, or ``value[key]`` when it is a breakdown."""
    if isinstance(value, Mapping):
        value = value.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return len(value)
    return None


def _block(ws, fmts, title: str, df: pd.DataFrame, columns, row: int, widths: dict) -> int:
    """A subtitle and a small table below the previous block; returns the next free row."""
    row += 1
    ws.write_string(row, 0, title, fmts.subtitle)
    return _write_table(ws, fmts, df, columns, row + 1, filter_and_freeze=False, widths_acc=widths)


def _quality_sheet(wb, fmts, quality: Mapping, quarantine, day, sample, district) -> None:
    quality = privacy.public_quality(dict(quality))  # quoted raw texts stay in quality.json
    ws = wb.add_worksheet(QUALITY_SHEET)
    _title(ws, fmts, "Chất lượng dữ liệu: đối soát số dòng theo từng tệp", day, sample, district)
    widths: dict[int, float] = {}
    accounting = accounting_table(quality)
    row = _write_table(
        ws, fmts, accounting, ACCOUNTING, HEADER_ROW, filter_and_freeze=True, widths_acc=widths
    )
    reasons = quarantine_reasons(quarantine)
    row = _block(ws, fmts, "Số dòng bị cách ly theo lý do", reasons, REASONS, row, widths)
    repairs = quality.get("repairs") or {}
    rep = pd.DataFrame({"repair": sorted(repairs), "n": [repairs[k] for k in sorted(repairs)]})
    row = _block(ws, fmts, "Sửa lỗi tự động", rep, REPAIRS, row, widths)
    warnings = _records(quality.get("warnings"), WARNINGS)
    row = _block(ws, fmts, "Cảnh báo", warnings, WARNINGS, row, widths)
    skipped = _records(quality.get("skipped_sheets"), SKIPPED)
    title = "Trang tính bỏ qua (không khớp loại bảng nào)"
    row = _block(ws, fmts, title, skipped, SKIPPED, row, widths)
    checks = quality.get("total_checks")
    failed = None
    if isinstance(checks, list):
        failed = sum(1 for c in checks if isinstance(c, Mapping) and c.get("ok") is False)
    extras = [
        ("Số dòng trùng người đã gộp", _count(quality.get("duplicates"), "rows_removed")),
        ("Số CBGVNV không còn làm việc (loại khỏi mẫu số)", _count(quality.get("left_staff"))),
        ("Số dòng tổng cộng đã đối chiếu với tổng tính lại", _count(checks)),
        ("   trong đó không khớp", failed),
    ]
    for label, value in extras:
        if value is not None:
            row += 1
            ws.write_string(row, 0, label, fmts.note)
            ws.write_number(row, 3, value, fmts.body["int"])
    for j, width in sorted(widths.items()):
        ws.set_column(j, j, width)
    title = _title_text("Chất lượng dữ liệu: đối soát số dòng theo từng tệp", day, sample, district)
    _fit_title(ws, fmts, title, [widths[j] for j in sorted(widths)])
    _print_setup(ws, row, max(widths) if widths else 0)


# ----------------------------------------------------------------------------- workbook


def write_xlsx(
    tables: Mapping[str, pd.DataFrame],
    quality: Mapping | None,
    quarantine: pd.DataFrame | None,
    out_path: Path | str,
    day: date,
    sample: bool,
    district: str = "",
    unit_label: str = "",
) -> Path:
    """Write the workbook (atomically) and return its path. The titles name the unit:
    ``unit_label`` ("phường Bồ Đề", "thành phố Hà Nội"), else "quận ``district``"."""
    district = unit_label or (f"quận {district}" if district else "")
    out_path = Path(out_path)
    with io.atomic_path(out_path) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp),
            # Data text is text: never a formula (``=...``), a hyperlink or a number.
            {
                "constant_memory": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        stamp = datetime(day.year, day.month, day.day)
        wb.set_properties(
            {
                "title": f"Bảng biểu kỳ {fmt_date(day)}",
                "author": "Phòng GD&ĐT",
                "company": "Phòng GD&ĐT",
                "created": stamp,
                "comments": SAMPLE_TEXT if sample else "",
            }
        )
        fmts = _Formats(wb)
        for sheet in SHEETS:
            if sheet.optional and (tables.get(sheet.table) is None or tables[sheet.table].empty):
                continue  # a sheet of data the period does not have: left out, not empty
            ws = wb.add_worksheet(sheet.name)
            _title(ws, fmts, sheet.title, day, sample, district)
            df = _prepare(sheet, tables.get(sheet.table))
            bold = None
            keys = [
                c
                for c in ("level", "ward", "district", "commune")
                if df is not None and c in df.columns
            ]
            if keys:  # totals last, in bold, out of the filter range
                is_total = df[keys].astype("str").eq(TOTAL).any(axis=1)
                df = pd.concat([df[~is_total], df[is_total]], ignore_index=True)
                bold = df[keys].astype("str").eq(TOTAL).any(axis=1)
            if sheet.table == "coverage_by_school" and df is not None and not df.empty:
                bold = df["school_name"].astype("str").str.startswith(("Cộng ", TOTAL))
            n_tail = int(bold.sum()) if bold is not None else 0
            widths: dict[int, float] = {}
            end = _write_table(
                ws, fmts, df, sheet.columns, HEADER_ROW, filter_and_freeze=True,
                bold_mask=bold, widths_acc=widths, n_tail=n_tail,
            )  # fmt: skip
            for j, width in sorted(widths.items()):
                ws.set_column(j, j, width)
            text = _title_text(sheet.title, day, sample, district)
            _fit_title(ws, fmts, text, [widths[j] for j in sorted(widths)])
            _print_setup(ws, end - 1, len(sheet.columns) - 1)
        _quality_sheet(wb, fmts, quality or {}, quarantine, day, sample, district)
        wb.close()
    return out_path
