"""Header detection: the best 1-3 rows among a sheet's first rows (:func:`find_header`, merged
ranges spread, :class:`HeaderInfo`), the row of column numbers under it, and a known header
further down (:func:`_deep_header`, for the message)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from analysis.core import text
from analysis.ingest import contract as K
from analysis.ingest.cells import _repair_cells
from analysis.ingest.model import DEEP_HEADER_ROWS, HEADER_SEARCH_ROWS, MAX_HEADER_ROWS


@dataclass
class HeaderInfo:
    """The header found in a sheet's first rows (0-based positions)."""

    start: int
    n_rows: int
    cells: list[tuple[str, ...]]  # per column: parts (group..., sub)
    kind: str | None
    mapping: dict[int, str]
    score: int

    @property
    def end(self) -> int:
        return self.start + self.n_rows

    @property
    def texts(self) -> list[str]:
        return [K.header_text(c) for c in self.cells]


def _fill_merges(
    window: list[list[str]], merges: list[tuple[tuple[int, int], tuple[int, int]]] | None
) -> list[list[str]]:
    """Spread each merged range's top-left text over the range (inside the window)."""
    if not merges:
        return window
    out = [list(r) for r in window]
    n_rows = len(out)
    for (r0, c0), (r1, c1) in merges:
        if r0 >= n_rows:
            continue
        width = len(out[r0])
        if c0 >= width:
            continue
        value = out[r0][c0]
        if value == "":
            continue
        for r in range(r0, min(r1, n_rows - 1) + 1):
            for c in range(c0, min(c1, len(out[r]) - 1) + 1):
                if out[r][c] == "":
                    out[r][c] = value
    return out


def _ffill(row: list[str]) -> list[str]:
    out, last = [], ""
    for v in row:
        if v != "":
            last = v
        out.append(last if v == "" else v)
    return out


def _header_cells(window: list[list[str]], start: int, n: int) -> list[tuple[str, ...]]:
    rows = window[start : start + n]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    filled = [_ffill(r) for r in rows[:-1]] + [rows[-1]]
    return [tuple(r[j] for r in filled) for j in range(width)]


def find_header(
    window: list[list[str]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]] | None = None,
) -> HeaderInfo | None:
    """The best header among the first rows of a sheet (cells as repaired text).

    Candidates are 1..3 consecutive rows starting on a non-blank row of the window. A candidate
    whose kind is recognised beats one that isn't; then more matched columns, fewer rows, an
    earlier start. Returns ``None`` for a window with no non-blank row.
    """
    window = window[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]
    filled = _fill_merges(window, merges)
    n_rows = len(filled)
    best: tuple | None = None
    best_info: HeaderInfo | None = None
    for start in range(min(HEADER_SEARCH_ROWS, n_rows)):
        if not any(v != "" for v in filled[start]):
            continue
        for n in range(1, MAX_HEADER_ROWS + 1):
            if start + n > n_rows:
                break
            if n > 1 and not any(v != "" for v in filled[start + n - 1]):
                break
            cells = _header_cells(filled, start, n)
            m = K.best_match(cells)
            # Ties: better-quality matches (a title row above lowers them), then the header
            # that ends first (a data or column-number row below adds nothing), then the one
            # that starts first (the upper rows of a merged header).
            rank = (m.complete, m.score, m.quality, -(start + n), -start)
            if best is None or rank > best:
                best = rank
                best_info = HeaderInfo(
                    start, n, cells, m.kind if m.complete else None, m.mapping, m.score
                )
    return best_info


_NUMBERING = re.compile(r"^\(?\s*(\d{1,3}|[A-Za-z])\s*\)?\*?$")


def _is_numbering_row(values: list[str]) -> bool:
    """A row of column numbers under the header: "(1) (2) (3)", "1 2 3 4", "A B C"."""
    cells = [v.strip() for v in values if v.strip() != ""]
    if len(cells) < 2 or not all(_NUMBERING.match(c) for c in cells):
        return False
    if any("(" in c for c in cells):
        return True
    keys = [c.strip("()* ") for c in cells]
    if all(k.isdigit() for k in keys):
        nums = [int(k) for k in keys]
        return nums == list(range(nums[0], nums[0] + len(nums))) and nums[0] in (0, 1)
    if all(k.isalpha() for k in keys):
        return [k.upper() for k in keys] == [chr(ord("A") + i) for i in range(len(keys))]
    return False


def _deep_header(head: list[list[object]], enc: str | None) -> HeaderInfo | None:
    """A header of a known kind below the first :data:`HEADER_SEARCH_ROWS` rows (down to row
    :data:`DEEP_HEADER_ROWS`), for the message that says where it is: rows with two text cells
    matching columns of a kind are tried as a header (with the rows around them, for a merged
    header). Only unrecognised sheets are looked at; positions are the sheet's."""
    memo: dict[int, list[str]] = {}

    def text_of(i: int) -> list[str]:
        if i not in memo:
            memo[i] = _repair_cells([text.cell_text(v) for v in head[i]], enc)
        return memo[i]

    for start in range(HEADER_SEARCH_ROWS, min(len(head), DEEP_HEADER_ROWS)):
        if sum(1 for v in head[start] if type(v) is str and v.strip()) < 2:
            continue
        if K.best_match([(t,) for t in text_of(start) if t]).score < 2:
            continue
        lo = max(HEADER_SEARCH_ROWS, start - MAX_HEADER_ROWS + 1)
        hi = min(len(head), start + MAX_HEADER_ROWS)
        info = find_header([text_of(i) for i in range(lo, hi)])
        if info is not None and info.kind is not None:
            return replace(info, start=info.start + lo)
    return None
