"""A sheet whose header has been looked at (:class:`_Probe`): its legacy encoding and header from
the first rows (:func:`_probe_grid`), and whether it is recognised, skipped or refused
(:func:`_check_probe`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from analysis.core import legacy, text
from analysis.ingest import contract as K
from analysis.ingest import xlsx_scan
from analysis.ingest.cells import _repair_cells
from analysis.ingest.headers import HeaderInfo, _deep_header, find_header
from analysis.ingest.model import (
    HEADER_SEARCH_ROWS,
    MAX_HEADER_ROWS,
    IngestError,
    RawTable,
    SkippedSheet,
    _cap,
    _where,
)


@dataclass
class _Probe:
    """A sheet whose header has been looked at; the body is read on demand."""

    file: str
    sheet: str
    folder: str
    encoding: str | None
    legacy: str | None
    header: HeaderInfo | None
    head_rows: list[list[str]]  # repaired text of the first rows
    load: object  # callable (n_top_rows) -> pd.DataFrame of every row (raw values)
    n_rows_hint: int | None = None
    #: the finished table, kept when the probe sits in the file cache (see ``_finished``)
    table: RawTable | None = None
    cached: bool = False
    #: an unrecognised sheet's header of a known kind further down (``_deep_header``)
    deep_header: HeaderInfo | None = None
    #: see ``RawTable.read_note``
    read_note: str | None = None
    #: what the sheet XML holds beside calamine's cells (``xlsx_scan.SheetScan``; Excel only)
    xlsx: xlsx_scan.SheetScan | None = None

    @property
    def kind(self) -> str | None:
        return self.header.kind if self.header else None


def _headers_seen(probe: _Probe) -> list[str]:
    """The header-like cells of an unrecognised sheet: the best partial header when it matched
    two columns or more, else the first row with two non-blank cells (else the first row)."""
    if probe.header is not None and probe.header.score >= 2:
        return [t for t in probe.header.texts if t][:40]
    rows = [r for r in probe.head_rows[:HEADER_SEARCH_ROWS] if any(v for v in r)]
    if not rows:
        return []
    wide = [r for r in rows if sum(1 for v in r if v) >= 2]
    return [v for v in (wide or rows)[0] if v][:40]


def _check_probe(probe: _Probe) -> SkippedSheet | None:
    """None when the sheet is recognised; a SkippedSheet when it is not; raises IngestError
    when it looks like a kind but lacks a required column."""
    if probe.kind is not None:
        return None
    deep = probe.deep_header
    if deep is not None:
        assert deep.kind is not None
        raise IngestError(
            probe.file,
            probe.sheet,
            f"{_cap(_where(probe.file, probe.sheet))}: dòng tiêu đề của bảng "
            f"“{K.KIND_TITLES[deep.kind]}” ở dòng {deep.start + 1}, ngoài {HEADER_SEARCH_ROWS} "
            f"dòng đầu (dòng tiêu đề chỉ được tìm trong {HEADER_SEARCH_ROWS} dòng đầu của mỗi "
            "trang). Hãy xoá bớt các dòng phía trên dòng tiêu đề rồi chạy lại.",
            code="deep_header",
        )
    seen = _headers_seen(probe)
    if not probe.head_rows or not any(any(v for v in r) for r in probe.head_rows):
        return SkippedSheet(probe.file, probe.sheet, "Trang tính trống.", [])
    candidates: list[tuple[int, list[object]]] = []
    if probe.header is not None:
        candidates.append((probe.header.start, list(probe.header.cells)))
    for start in range(min(HEADER_SEARCH_ROWS, len(probe.head_rows))):
        row = probe.head_rows[start]
        if any(row):
            candidates.append((start, [(v,) for v in row]))
    best_near = None
    for start, cells in candidates:
        near = K.near_kind(cells)
        if near is not None and (best_near is None or near.score > best_near[0].score):
            best_near = (near, start, cells)
    if best_near is not None:
        near, start, cells = best_near
        spec = K.KIND_SPECS[near.kind]
        missing = ", ".join(f"“{h}”" for h in spec.missing_headers(near.mapping.values()))
        found = ", ".join(f"“{t}”" for t in (K.header_text(c) for c in cells) if t)
        raise IngestError(
            probe.file,
            probe.sheet,
            f"{_cap(_where(probe.file, probe.sheet))}: bảng có dạng “{spec.title}” "
            f"(dòng tiêu đề ở dòng {start + 1}) nhưng thiếu cột bắt buộc {missing}. "
            f"Các cột tìm thấy: {found}. Hãy thêm cột này hoặc sửa tên cột cho đúng mẫu "
            "rồi chạy lại.",
            code="missing_column",
        )
    shown = ", ".join(f"“{v}”" for v in seen[:12]) or "(không có)"
    return SkippedSheet(
        probe.file,
        probe.sheet,
        "Dòng tiêu đề không khớp loại bảng nào "
        f"({', '.join(K.KIND_TITLES[k] for k in K.KINDS)}); tiêu đề thấy được: {shown}.",
        seen,
    )


def _detect_legacy_head(head: list[list[object]]) -> str | None:
    """``legacy.detect_legacy_columns`` of the first rows as text (``text.cell_text`` of each cell,
    short rows padded with ``""``), column by column, without building a frame: a column is
    reduced to its distinct cells first and only those are turned into text."""
    if not head:
        return None

    def columns():
        for col in itertools.zip_longest(*head, fillvalue=""):
            texts = {v for v in col if type(v) is str}
            try:
                # (type, value): 1, 1.0 and True compare equal but read differently.
                others = {(type(v), v) for v in col if type(v) is not str}
                texts.update(text.cell_text(v) for _, v in others)
            except TypeError:  # an unhashable cell (never from calamine or csv)
                texts.update(text.cell_text(v) for v in col if type(v) is not str)
            yield texts

    return legacy.detect_legacy_columns(columns())


def _probe_grid(
    rel: str,
    sheet: str,
    folder: str,
    encoding: str | None,
    head: list[list[object]],
    merges,
    load,
) -> _Probe:
    """Decide legacy encoding and header from the first rows of a sheet."""
    enc = _detect_legacy_head(head)
    window = head[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]
    window_text = [_repair_cells([text.cell_text(v) for v in r], enc) for r in window]
    info = find_header(window_text, merges)
    probe = _Probe(rel, sheet, folder, encoding, enc, info, window_text, load)
    if info is None or info.kind is None:
        probe.deep_header = _deep_header(head, enc)
    return probe
