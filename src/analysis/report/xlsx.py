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

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from analysis import paths
from analysis.core import io, privacy, vocab
from analysis.core.fmt import fmt_date
from analysis.core.text import vn_rank

#: The sample mark of the workbook and of the Word report (its header on every page).
SAMPLE_TEXT = "DỮ LIỆU MẪU — không phải số liệu thật"
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

#: The sheets and the quality sheet's tables are data: ``templates/sheets.toml`` (with the
#: report's other data files, packaged with them).
SHEETS_PATH = paths.TEMPLATES_DIR / "sheets.toml"


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


def _labels(table: Mapping[str, str]) -> dict:
    """A ``[labels.*]`` table; its keys ``true`` / ``false`` are the booleans."""
    keys = {"true": True, "false": False}
    return {keys.get(key, key): words for key, words in table.items()}


def _columns(rows: list[list[str]], labels: Mapping[str, dict]) -> tuple[Col, ...]:
    """``[source, header, kind, labels]`` rows (kind and labels optional) as columns."""
    return tuple(
        Col(source, header, *(rest[:1] or ["text"]), labels[rest[1]] if len(rest) > 1 else None)
        for source, header, *rest in rows
    )


def _load_sheets(path: Path = SHEETS_PATH) -> tuple[tuple[Sheet, ...], dict[str, tuple]]:
    """The sheets of the workbook and the quality sheet's tables, from ``sheets.toml``."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    labels = {name: _labels(table) for name, table in data["labels"].items()}
    labels |= {"role": vocab.ROLE_NAMES, "cert_type": vocab.CERT_TYPE_NAMES}
    sheets = tuple(
        Sheet(
            s["name"],
            s["title"],
            s["table"],
            _columns(s["columns"], labels),
            s.get("optional", False),
        )
        for s in data["sheet"]
    )
    return sheets, {key: _columns(rows, labels) for key, rows in data["blocks"].items()}


SHEETS, BLOCKS = _load_sheets()
QUALITY_SHEET = "Chất lượng dữ liệu"
NON_DATA = ("title", "header", "total", "blank", "footer")


# ----------------------------------------------------------------------------- values


def sort_by_name(df: pd.DataFrame, col: str = "school_name") -> pd.DataFrame:
    """Rows in Vietnamese dictionary order of ``col`` (``core.text.vn_sort_key``), missing last,
    stable."""
    return df.take(np.argsort(vn_rank(df[col]), kind="stable"))


def _level_order(df: pd.DataFrame) -> pd.DataFrame:
    if "level" not in df.columns or df.empty:
        return df
    order = {lv: vocab.rank(lv) for lv in df["level"].dropna().unique()}
    rank = df["level"].map(order).fillna(vocab.rank(""))  # levels, TOTAL, then the others
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
    levels = [lv for lv in vocab.SCHOOL_LEVELS if lv in set(df["level"])]
    groups = [(f"Cộng {lv}", df[df["level"] == lv], lv) for lv in levels] if len(levels) > 1 else []
    groups.append((vocab.TOTAL, df, ""))
    rows = []
    for name, part, level in groups:
        staff = pd.to_numeric(part["n_staff"]).sum(min_count=1)
        signed = pd.to_numeric(part["n_signed"]).sum(min_count=1)
        rows.append(
            {
                "level": level or vocab.TOTAL,
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
    cols = [c.source for c in BLOCKS["accounting"] if c.source != "balanced"]
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
        ws,
        fmts,
        accounting,
        BLOCKS["accounting"],
        HEADER_ROW,
        filter_and_freeze=True,
        widths_acc=widths,
    )
    reasons = quarantine_reasons(quarantine)
    row = _block(ws, fmts, "Số dòng bị cách ly theo lý do", reasons, BLOCKS["reasons"], row, widths)
    repairs = quality.get("repairs") or {}
    rep = pd.DataFrame({"repair": sorted(repairs), "n": [repairs[k] for k in sorted(repairs)]})
    row = _block(ws, fmts, "Sửa lỗi tự động", rep, BLOCKS["repairs"], row, widths)
    warnings = _records(quality.get("warnings"), BLOCKS["warnings"])
    row = _block(ws, fmts, "Cảnh báo", warnings, BLOCKS["warnings"], row, widths)
    skipped = _records(quality.get("skipped_sheets"), BLOCKS["skipped"])
    title = "Trang tính bỏ qua (không khớp loại bảng nào)"
    row = _block(ws, fmts, title, skipped, BLOCKS["skipped"], row, widths)
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
    title = _title_text("Chất lượng dữ liệu: đối soát số dòng theo từng tệp", day, sample, district)
    _finish_sheet(ws, fmts, title, widths, row, max(widths) if widths else 0)


def _finish_sheet(ws, fmts, title: str, widths: Mapping[int, float], last_row, last_col) -> None:
    """Column widths, the title fitted over the table, the print setup."""
    for j, width in sorted(widths.items()):
        ws.set_column(j, j, width)
    _fit_title(ws, fmts, title, [widths[j] for j in sorted(widths)])
    _print_setup(ws, last_row, last_col)


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
        wb = _workbook(tmp, day, sample)
        fmts = _Formats(wb)
        for sheet in SHEETS:
            if sheet.optional and (tables.get(sheet.table) is None or tables[sheet.table].empty):
                continue  # a sheet of data the period does not have: left out, not empty
            _data_sheet(wb, fmts, sheet, tables.get(sheet.table), day, sample, district)
        _quality_sheet(wb, fmts, quality or {}, quarantine, day, sample, district)
        wb.close()
    return out_path


def _workbook(tmp: Path, day: date, sample: bool) -> xlsxwriter.Workbook:
    """A new workbook whose data text stays text, stamped with the period's date."""
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
    return wb


def _data_sheet(wb, fmts, sheet: Sheet, df, day: date, sample: bool, district: str) -> None:
    """One sheet of ``SHEETS``: the title, the table (totals last, in bold), the print setup."""
    ws = wb.add_worksheet(sheet.name)
    _title(ws, fmts, sheet.title, day, sample, district)
    df, bold = _totals_last(sheet, _prepare(sheet, df))
    n_tail = int(bold.sum()) if bold is not None else 0
    widths: dict[int, float] = {}
    end = _write_table(
        ws, fmts, df, sheet.columns, HEADER_ROW, filter_and_freeze=True,
        bold_mask=bold, widths_acc=widths, n_tail=n_tail,
    )  # fmt: skip
    text = _title_text(sheet.title, day, sample, district)
    _finish_sheet(ws, fmts, text, widths, end - 1, len(sheet.columns) - 1)


def _totals_last(sheet: Sheet, df: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.Series]:
    """The total rows moved last and marked for bold (out of the filter range): rows whose
    level, ward, district or commune is ``TOTAL``; on the appendix, "Cộng <cấp>" too."""
    bold = None
    keys = [
        c for c in ("level", "ward", "district", "commune") if df is not None and c in df.columns
    ]
    if keys:
        is_total = df[keys].astype("str").eq(vocab.TOTAL).any(axis=1)
        df = pd.concat([df[~is_total], df[is_total]], ignore_index=True)
        bold = df[keys].astype("str").eq(vocab.TOTAL).any(axis=1)
    if sheet.table == "coverage_by_school" and df is not None and not df.empty:
        bold = df["school_name"].astype("str").str.startswith(("Cộng ", vocab.TOTAL))
    return df, bold
