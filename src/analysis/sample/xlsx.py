"""Small writing helpers of the sample generator: report-style sheets (title rows, merged
headers, total and footer rows) with xlsxwriter, and CSV files in Windows encodings.

Every writer returns the 1-based row numbers (as Excel shows them) of what it wrote, so the
generator can record where each planted defect is.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

#: Combining marks that carry the vowel's shape (kept composed in Windows-1258 text).
_SHAPE_MARKS = {"\u0302", "\u0306", "\u031b"}


@dataclass
class Col:
    """One column of a sheet: its header (``group`` above ``label`` in a 2-row header)."""

    label: str
    values: list
    group: str | None = None
    kind: str = "text"  # text | date | number
    width: float = 14


@dataclass
class SheetSpec:
    name: str
    cols: list[Col]
    titles: list[str] = field(default_factory=list)
    total: dict[int, object] | None = None  # column index -> value of the total row
    footer: list[str] = field(default_factory=list)
    serial_cells: list[tuple[int, int, int]] = field(default_factory=list)  # (data i, col, n)
    blank_after_titles: bool = True


def new_workbook(path: Path, created: date) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_urls": False,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
        },
    )
    stamp = datetime(created.year, created.month, created.day, 8, 0, 0)
    wb.set_properties({"created": stamp, "author": "CSDL ngành", "comments": "Dữ liệu mẫu"})
    return wb


def write_sheet(wb: xlsxwriter.Workbook, spec: SheetSpec) -> dict:
    """Write one report-style sheet; return its 1-based row layout."""
    ws = wb.add_worksheet(spec.name)
    f = {
        "bold": wb.add_format({"bold": True, "align": "center", "valign": "vcenter"}),
        "head": wb.add_format(
            {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
        ),
        "date": wb.add_format({"num_format": "dd/mm/yyyy", "border": 1}),
        "cell": wb.add_format({"border": 1}),
        "total": wb.add_format({"bold": True, "border": 1}),
    }
    r, title_rows, blank_rows = _write_titles(ws, spec, f["bold"])
    r, header_rows, merged = _write_header(ws, spec, f["head"], r)
    first = r
    n = len(spec.cols[0].values) if spec.cols else 0
    for c, col in enumerate(spec.cols):
        ws.set_column(c, c, col.width)
        ws.write_column(first, c, col.values, f["date"] if col.kind == "date" else f["cell"])
    for i, c, serial in spec.serial_cells:
        ws.write_number(first + i, c, serial, f["cell"])
    r = first + n
    total_row = None
    if spec.total is not None:
        _write_total(ws, spec, f["total"], r)
        total_row = r + 1
        r += 1
    footer_rows = []
    if spec.footer:
        r += 1
        for line in spec.footer:
            ws.write_string(r, max(0, len(spec.cols) - 4), line)
            footer_rows.append(r + 1)
            r += 1
    ws.freeze_panes(first, 0)
    return {
        "sheet": spec.name,
        "title_rows": title_rows,
        "blank_rows": blank_rows,
        "header_rows": header_rows,
        "merged_header_cells": merged,
        "first_row": first + 1,
        "last_row": first + n,
        "total_row": total_row,
        "footer_rows": footer_rows,
        "columns": [c.label if c.group is None else f"{c.group} / {c.label}" for c in spec.cols],
    }


def _write_titles(ws, spec: SheetSpec, bold) -> tuple[int, list[int], list[int]]:
    """The title rows (merged across the sheet) and the blank row after them: the next row
    (0-based), the title rows and the blank rows (1-based)."""
    ncol = len(spec.cols)
    r = 0
    title_rows = []
    for t in spec.titles:
        if ncol > 1:
            ws.merge_range(r, 0, r, ncol - 1, t, bold)
        else:
            ws.write_string(r, 0, t, bold)
        title_rows.append(r + 1)
        r += 1
    blank_rows = []
    if spec.titles and spec.blank_after_titles:
        blank_rows.append(r + 1)
        r += 1
    return r, title_rows, blank_rows


def _write_header(ws, spec: SheetSpec, head, r: int) -> tuple[int, list[int], list]:
    """The header at row ``r``: one row, or two when columns have a group (the group merged
    above its columns, an ungrouped label merged down): the next row, the header rows and
    the merged cells."""
    ncol = len(spec.cols)
    if not any(c.group for c in spec.cols):
        for c, col in enumerate(spec.cols):
            ws.write_string(r, c, col.label, head)
        return r + 1, [r + 1], []
    merged = []
    c = 0
    while c < ncol:
        col = spec.cols[c]
        if col.group is None:
            ws.merge_range(r, c, r + 1, c, col.label, head)
            merged.append((r + 1, c))
            c += 1
            continue
        end = c
        while end + 1 < ncol and spec.cols[end + 1].group == col.group:
            end += 1
        if end > c:
            ws.merge_range(r, c, r, end, col.group, head)
        else:
            ws.write_string(r, c, col.group, head)
        merged.append((r + 1, c))
        for k in range(c, end + 1):
            ws.write_string(r + 1, k, spec.cols[k].label, head)
        c = end + 1
    return r + 2, [r + 1, r + 2], merged


def _write_total(ws, spec: SheetSpec, total_fmt, r: int) -> None:
    """The total row at row ``r``: text, a number or blank in each column."""
    for c in range(len(spec.cols)):
        v = spec.total.get(c)
        if v is None:
            ws.write_blank(r, c, None, total_fmt)
        elif isinstance(v, str):
            ws.write_string(r, c, v, total_fmt)
        else:
            ws.write_number(r, c, v, total_fmt)


def write_lookup_sheet(wb: xlsxwriter.Workbook, name: str, rows: list[tuple[str, str]]) -> dict:
    """A lookup sheet (roles, providers) that matches no table kind."""
    ws = wb.add_worksheet(name)
    head = wb.add_format({"bold": True, "border": 1})
    for c, h in enumerate(("STT", "Loại danh mục", "Giá trị")):
        ws.write_string(0, c, h, head)
    for i, (group, value) in enumerate(rows, start=1):
        ws.write_number(i, 0, i)
        ws.write_string(i, 1, group)
        ws.write_string(i, 2, value)
    ws.set_column(1, 2, 24)
    return {"sheet": name, "header_rows": [1], "first_row": 2, "last_row": len(rows) + 1}


def to_cp1258_text(value: str) -> str:
    """Unicode text in the form Windows-1258 can hold: base letters with their shape marks
    composed (â ê ô ơ ư ă), tone marks as combining characters."""
    out = []
    base = ""
    marks: list[str] = []

    def flush():
        if base:
            shape = "".join(m for m in marks if m in _SHAPE_MARKS)
            tone = "".join(m for m in marks if m not in _SHAPE_MARKS)
            out.append(unicodedata.normalize("NFC", base + shape) + tone)

    for ch in unicodedata.normalize("NFD", value):
        if unicodedata.combining(ch):
            marks.append(ch)
        else:
            flush()
            base, marks = ch, []
    flush()
    return "".join(out)


def write_csv(
    path: Path,
    rows: pd.DataFrame,
    *,
    sep: str,
    encoding: str,
    preamble: list[str] = (),
) -> int:
    """Write ``rows`` (all text) as CSV after ``preamble`` lines; return the header's line
    number (1-based). Windows line ends, as Excel writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = rows.to_csv(sep=sep, index=False, lineterminator="\r\n")
    lines = [sep.join([p] + [""] * (rows.shape[1] - 1)) for p in preamble]
    text = "".join(line + "\r\n" for line in lines) + body
    if encoding == "cp1258":
        # one small school file: the whole text converted at once
        data = to_cp1258_text(text).encode("cp1258")
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return len(lines) + 1
