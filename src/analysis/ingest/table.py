"""A recognised sheet's body turned into its :class:`RawTable` (:func:`_finish`): row classes, the
kept non-personal columns, repaired text, formula cells, duplicate columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import text
from analysis.ingest import contract as K
from analysis.ingest import xlsx_scan
from analysis.ingest.cells import _clean_coded
from analysis.ingest.headers import HeaderInfo, _is_numbering_row
from analysis.ingest.model import MAX_HEADER_ROWS, REPAIR_KINDS, ROW_CLASSES, RawTable
from analysis.ingest.probe import _Probe
from analysis.ingest.rows import _BLANK, _DATA, _HEADER, _TITLE, _TOTAL, _Cells, _classify_rows


def _duplicate_columns(probe: _Probe, header: HeaderInfo, kind: str) -> list[dict]:
    """Warnings for columns that name a column already read (a hidden old "Chữ ký số" beside
    the new one): only one is read, which is said, never silent."""
    used = {name: j for j, name in header.mapping.items()}
    out = []
    for j, cell in enumerate(header.cells):
        name = None if j in header.mapping else K.canonical_of(cell, kind)
        if name is None or name not in used or name in K.PERSONAL_COLUMNS:
            continue
        kept, extra = xlsx_scan.col_letters(used[name]), xlsx_scan.col_letters(j)
        out.append(
            {
                "code": "duplicate_column",
                "kind": kind,
                "file": probe.file,
                "sheet": probe.sheet,
                "row": header.start + 1,
                "message": (
                    f"Hai cột cùng là “{K.header_text(header.cells[used[name]])}” (cột {kept} và "
                    f"cột {extra}): chỉ đọc cột {kept}, cột {extra} bị bỏ qua. Hãy xoá hoặc "
                    "đổi tên cột thừa rồi chạy lại."
                ),
            }
        )
    return out


def _take_rows(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``frame[mask]``; a slice when the rows form one run (the usual body of a sheet under
    its header), so that no column is copied."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0] : rows[-1] + 1]
    return frame[mask]


def _finish(probe: _Probe) -> RawTable:
    """Read the body of a recognised sheet and build its RawTable."""
    header = probe.header
    assert header is not None and header.kind is not None
    kind = header.kind
    grid = _load_grid(probe, header)
    n = len(grid)
    by_name, personal = _mapped_columns(header)
    keep = [name for name in K.KIND_SPECS[kind].kept_columns if name in by_name]
    keep_cols = [by_name[name] for name in keep]
    cells = _Cells(grid)
    cls, body_from = _row_classes(cells, header, probe.legacy)
    unread_cells, sheet_warnings = _place_xlsx(probe, cls, body_from, keep_cols, keep, kind)
    sheet_warnings += _duplicate_columns(probe, header, kind)
    sel = (cls == _DATA) | (cls == _TOTAL)
    kept = _take_rows(grid, sel)[keep_cols]
    kept.columns = keep
    id_numbers = _id_numbers(kind, header, grid, cls)
    del grid
    repairs = _clean_kept(kept, cells, keep_cols, sel, probe.legacy)
    row_cls = cls[sel]
    counts = np.bincount(cls, minlength=len(ROW_CLASSES))
    return RawTable(
        file=probe.file,
        sheet=probe.sheet,
        kind=kind,
        folder=probe.folder,
        data=_take_rows(kept, row_cls == _DATA),
        totals=_take_rows(kept, row_cls == _TOTAL),
        row_classes={c: int(counts[i]) for i, c in enumerate(ROW_CLASSES)},
        rows_read=n,
        repairs=repairs,
        unmapped_columns=[
            K.header_text(c)
            for j, c in enumerate(header.cells)
            if j not in header.mapping and not K.is_ignored_header(c)
        ],
        personal_columns_dropped=personal,
        encoding=probe.encoding,
        header_rows=list(range(header.start + 1, header.end + 1)),
        columns={name: K.header_text(header.cells[by_name[name]]) for name in keep},
        legacy_encoding=probe.legacy,
        read_note=probe.read_note,
        unread_cells=unread_cells,
        sheet_warnings=sheet_warnings,
        title_texts=[v for r in probe.head_rows[: header.start] for v in r if v and v.strip()],
        id_numbers=id_numbers,
    )


def _load_grid(probe: _Probe, header: HeaderInfo) -> pd.DataFrame:
    """Every row of the sheet (raw values), at least as wide as its header, indexed by the
    1-based source row."""
    grid: pd.DataFrame = probe.load(header.start)
    if grid.shape[1] < len(header.cells):
        for j in range(grid.shape[1], len(header.cells)):
            grid[j] = ""
    grid.index = pd.RangeIndex(1, len(grid) + 1, name="source_row")
    return grid


def _mapped_columns(header: HeaderInfo) -> tuple[dict[str, int], list[str]]:
    """(non-personal canonical column -> its first source column, headers of the personal
    columns, dropped)."""
    by_name: dict[str, int] = {}
    personal: list[str] = []
    for j, name in sorted(header.mapping.items()):
        if name in K.PERSONAL_COLUMNS:
            personal.append(K.header_text(header.cells[j]))
        else:
            by_name.setdefault(name, j)
    return by_name, personal


def _row_classes(cells: _Cells, header: HeaderInfo, enc: str | None) -> tuple[np.ndarray, int]:
    """(the class of every row of the sheet, the first body row): title rows above the
    header, the header rows and the row of column numbers under them, then the body's
    classes (:func:`_classify_rows`); a blank row outside the header is blank."""
    blank = cells.blank()
    row_blank = blank.all(axis=1)
    n = len(row_blank)
    cls = np.full(n, _DATA, dtype=np.int8)
    h0, h1 = header.start, header.end
    cls[:h0] = _TITLE
    cls[h0:h1] = _HEADER
    body_from = h1
    # The row of column numbers may sit below a header row wholly covered by merges (blank).
    first_row = h1
    while first_row < min(n, h1 + MAX_HEADER_ROWS) and row_blank[first_row]:
        first_row += 1
    if first_row < n:
        first = [text.cell_text(v) for v in cells.grid.iloc[first_row].tolist()]
        if _is_numbering_row(first):
            cls[first_row] = _HEADER
            body_from = first_row + 1
    header_last = [c[-1] if c else "" for c in header.cells]
    if body_from < n:
        cls[body_from:] = _classify_rows(cells, blank, body_from, header.mapping, header_last, enc)
    cls[row_blank & (cls != _HEADER)] = _BLANK
    return cls, body_from


def _id_numbers(
    kind: str, header: HeaderInfo, grid: pd.DataFrame, cls: np.ndarray
) -> pd.Series | None:
    """The CCCD numbers of the data rows, as read, for the kinds joined on them
    (``RawTable.id_numbers``); ``None`` otherwise."""
    if kind not in K.ID_JOIN_KINDS:
        return None
    j_id = _id_number_column(header)
    if j_id is None:
        return None
    return _take_rows(grid, cls == _DATA)[j_id].rename("id_number")


def _clean_kept(
    kept: pd.DataFrame, cells: _Cells, keep_cols: list[int], sel: np.ndarray, enc: str | None
) -> dict[str, int]:
    """Repair the text cells of the kept columns in place (:func:`_clean_coded`, per distinct
    value, one memo for the sheet); the cells changed per repair kind."""
    repairs = dict.fromkeys(REPAIR_KINDS, 0)
    if not keep_cols:
        return repairs
    todo = cells.todo(keep_cols)
    memo: dict = {}
    for name, j in zip(list(kept.columns), keep_cols, strict=True):
        codes = cells.codes[j][sel]
        cleaned, counts = _clean_coded(kept[name], codes, cells.values_of, todo, enc, memo)
        if cleaned is not None:
            kept[name] = cleaned
        for r, v in counts.items():
            repairs[r] += v
    return repairs


def _id_number_column(header: HeaderInfo) -> int | None:
    """The column holding the CCCD number itself among the columns mapped to ``id_number``
    (which also takes "Ngày cấp CCCD", "Nơi cấp CCCD": dropped, never read)."""
    for j, name in sorted(header.mapping.items()):
        if name != "id_number":
            continue
        parts = K._as_parts(header.cells[j])
        last = K.header_key(parts[-1]) if parts else ""
        if not last.startswith(("ngay", "noi")):
            return j
    return None


def _place_xlsx(
    probe: _Probe, cls: np.ndarray, body_from: int, keep_cols: list[int], keep: list[str], kind: str
) -> tuple[dict[int, tuple[str, str, str]], list[dict]]:
    """The formula cells saved without a value, the error values and the far cells of an
    Excel sheet, tied to its rows (``xlsx_scan.place_formulas``); a body row read as blank
    that holds such a cell in a column read becomes a data row (refused later, never a blank
    row)."""
    if probe.xlsx is None:
        return {}, []
    where = {"kind": kind, "file": probe.file, "sheet": probe.sheet}
    refuse, warnings, to_data = xlsx_scan.place_formulas(
        probe.xlsx,
        [ROW_CLASSES[c] for c in cls.tolist()] if probe.xlsx.formulas or probe.xlsx.errors else [],
        body_from,
        dict(zip(keep_cols, keep, strict=True)),
        where,
    )
    if to_data:
        cls[to_data] = _DATA
    return refuse, warnings
