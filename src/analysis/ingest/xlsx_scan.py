"""A look inside the sheet XML of an ``.xlsx``/``.xlsm`` file before calamine reads it.

Two traps of files nobody here wrote (data contract section 3).

**The size a sheet declares.** What python-calamine 0.9.1 does, measured on hand-built files:
it does not use ``<dimension ref>`` for the size (a sheet declaring ``A1:C4`` over 500 rows
reads 500 rows; one declaring ``A1:XFD1048576`` over 10 cells reads 10 cells), and it builds
a dense grid over the bounding box of the cells that hold a value (a cell holding only a
style is not counted): one value at ``XFD1048576`` beside ``A1:B10`` asks for
549 755 813 888 bytes and aborts the process (exit 134, uncatchable). So the declared size is
only reported here; what matters is the real extent of the cells.

Rule: the cells that exist are read, never truncated, and no grid is built over empty space.
Every sheet is scanned (streamed, a few MB at a time): the last cell element of every row
(holding a value or not: that can only make the extent larger) gives the extent from A1 and
the cells the rows can hold (the sum of their lengths). An extent up to :data:`SMALL_CELLS`
cells, or up to :data:`SPARSE_FACTOR` times what the rows hold, is read by calamine as it is.
Any other is looked at cell by cell (the cells holding a value, and the formulas saved without
one): while the extent is more than :data:`SPARSE_FACTOR` times the cells present (and more
than :data:`SMALL_CELLS`), the widest empty band of rows or columns is cut off with everything
beyond it, so a stray value never makes a grid over the space between. The cells beyond such
a band are *far cells*: they are taken out of the sheet XML (the workbook is rewritten in
memory, nothing else changes) so that calamine never sees them, and each is reported by name
and value (masked) as a ``far_cells`` warning of ``quality.json``: no value is dropped
without a word. A sheet with more than :data:`MAX_FAR_CELLS` far cells is refused
(:class:`FarCellsError`, one message naming the sheet and the first cells): that is data
scattered off the table, not a stray cell.

**Formulas saved without a value.** Files written by scripts or web tools (openpyxl writes
``<c r="B1"><f>...</f><v></v></c>``) hold formulas with no cached value, which calamine and
openpyxl read as blank. The scan collects, in the same pass, every formula cell with no
``<v>`` or an empty one; an empty ``<v/>`` on a ``t="str"`` cell is the empty text Excel saved
(``=IF(...;"";...)``) and is a value. :func:`place_formulas` then ties them to the rows of the
table: a data row with such a cell in a column the suite reads is refused
(``formula_no_value``, by the cleaning stage, naming the cell); one in a title, header, total
or footer row, or in a column not read, is a ``formula_no_value`` warning. No evaluator is used.

**Error values.** A cell whose saved value is an error (``t="e"``: ``#N/A``, ``#REF!``,
``#DIV/0!``..., mostly from a formula) is read as blank by calamine too (a blank signature
status would count as unsigned). The same pass collects them and they are tied to the rows the
same way: refused as ``formula_error`` (naming the cell and the error) or a ``formula_error``
warning.

Limits: rows and the cells of a row are taken in the ascending order the file format
requires; a cell without an ``r`` attribute (allowed, rare) is not named, and one of those in a
far row is not seen. ``.xls`` files are not scanned.

Cost (measured): about one more inflating of the sheet XML and a pass over its bytes in C: some
130 ms for a 16.000 x 72 staff sheet (38 MB of XML, read in about 1,2 s: 10 %), some 40 ms for
the 37 workbooks the sample period reads (about 2,5 % of its cleaning, one process).
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from analysis.core import privacy

#: An extent (rows x columns from A1) up to this many cells is read as it is.
SMALL_CELLS = 65_536
#: A larger extent is looked at cell by cell when it is more than this many times the cells
#: its rows can hold (the sum of the rows' lengths), and cut when it is more than this many
#: times the cells present.
SPARSE_FACTOR = 4
#: More far cells than this in one sheet: the sheet is refused.
MAX_FAR_CELLS = 200
#: Far cells / formula cells named one by one in a warning.
NAMED_CELLS = 20
#: The sheet XML is read this many bytes at a time.
CHUNK_BYTES = 4 << 20

_REL_TYPES = ("/officeDocument", "/worksheet")


class FarCellsError(Exception):
    """A sheet whose values are scattered far off its table. ``message`` is Vietnamese."""

    def __init__(self, sheet: str, message: str):
        super().__init__(message)
        self.sheet = sheet
        self.message = message


@dataclass
class FarCell:
    """A cell taken out of the sheet (0-based ``row``/``col``; ``text``: its value, short and
    masked; ``formula``: a formula saved without a value)."""

    ref: str
    row: int
    col: int
    text: str
    formula: bool = False


@dataclass
class SheetScan:
    """What the scan found in one worksheet.

    ``declared``: the ``<dimension ref>`` as written (``None`` when absent); ``rows``/``cols``:
    the extent from A1 that is read (after far cells are taken out); ``formulas``: 0-based
    (row, col) of the formula cells saved without a value, inside the extent, in sheet order;
    ``far``: the far cells taken out (values, and formulas saved without one);
    ``errors``: 0-based (row, col, error text) of the cells holding an error value.
    """

    name: str
    part: str
    declared: str | None
    rows: int
    cols: int
    formulas: list[tuple[int, int]] = field(default_factory=list)
    far: list[FarCell] = field(default_factory=list)
    errors: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def extent(self) -> str:
        """The extent read as an A1 range (``""`` for an empty sheet)."""
        if not self.rows or not self.cols:
            return ""
        return f"A1:{cell_ref(self.rows - 1, self.cols - 1)}"


@dataclass
class WorkbookScan:
    """The scans of a workbook's worksheets (by sheet name) and, when far cells were taken
    out, the rewritten workbook (``data``, an in-memory .xlsx) to read instead of the file."""

    sheets: dict[str, SheetScan]
    data: bytes | None = None


# --------------------------------------------------------------------------------------------
# Cell references
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def col_number(letters: bytes) -> int:
    """0-based column of ``b"A"`` .. ``b"XFD"``."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def col_letters(col: int) -> str:
    """Letters of a 0-based column."""
    s = ""
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_ref(row: int, col: int) -> str:
    """``"F12"`` for 0-based (11, 5)."""
    return f"{col_letters(col)}{row + 1}"


# --------------------------------------------------------------------------------------------
# Workbook parts
# --------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))


def _rels(z: zipfile.ZipFile, names: dict[str, str], part: str) -> dict[str, tuple[str, str]]:
    member = names.get(part.lower())
    if member is None:
        return {}
    out = {}
    for el in ET.fromstring(z.read(member)).iter():
        if _local(el.tag) == "Relationship":
            out[el.get("Id", "")] = (el.get("Type", ""), el.get("Target", ""))
    return out


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> zip member of its XML."""
    names = {n.lower(): n for n in z.namelist()}
    wb_part = "xl/workbook.xml"
    for typ, target in _rels(z, names, "_rels/.rels").values():
        if typ.endswith(_REL_TYPES[0]):
            wb_part = _resolve("", target)
            break
    base = posixpath.dirname(wb_part)
    rels = _rels(z, names, posixpath.join(base, "_rels", posixpath.basename(wb_part) + ".rels"))
    out: dict[str, str] = {}
    for el in ET.fromstring(z.read(names[wb_part.lower()])).iter():
        if _local(el.tag) != "sheet":
            continue
        rid = next((v for k, v in el.attrib.items() if k.startswith("{") and _local(k) == "id"), "")
        typ, target = rels.get(rid, ("", ""))
        member = names.get(_resolve(base, target).lower()) if target else None
        if typ.endswith(_REL_TYPES[1]) and member is not None and el.get("name") is not None:
            out[el.get("name")] = member
    return out


# --------------------------------------------------------------------------------------------
# The scan of one sheet
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _patterns(p: bytes) -> dict:
    """The patterns for a sheet whose elements carry the namespace prefix ``p`` (``b""`` or
    e.g. ``b"x:"``)."""
    c, f, v = b"<" + p + b"c", b"<" + p + b"f", b"<" + p + b"v"
    return {
        "end_row": b"</" + p + b"row>",
        "cell": c + b" ",
        "dimension": re.compile(b"<" + p + rb"""dimension\s[^>]*?\bref=["']([^"']*)["']"""),
        "last_ref": re.compile(c + rb"""\s[^>]*?\br=["']([A-Z]{1,3})([0-9]{1,7})["']"""),
        "formula": re.compile(f + rb"[\s>/]"),
        # A cell whose value is an error (its <v> is taken from the cell's content).
        "error": re.compile(c + rb"""\s([^>]*?\bt=["']e["'][^>/]*)>(.*?)</""" + p + rb"c>", re.S),
        "v": re.compile(v + rb">([^<]*)</" + p + rb"v>"),
        # A formula cell whose formula is followed by no <v>, or an empty one.
        "uncached": re.compile(
            c
            + rb"\b([^>]*)>\s*"
            + f
            + rb"\b[^>]*?(?:/>|>[^<]*</"
            + p
            + rb"f>)\s*("
            + v
            + rb"\s*/>|"
            + v
            + rb"\s*>\s*</"
            + p
            + rb"v>)?\s*</"
            + p
            + rb"c>"
        ),
        # A cell holding a <v> or an <is> (after its formula, if any).
        "value": re.compile(
            c
            + rb"""\s[^>]*?\br=["']([A-Z]{1,3})([0-9]{1,7})["'][^>/]*>\s*(?:"""
            + f
            + rb"\b[^>]*?(?:/>|>[^<]*</"
            + p
            + rb"f>)\s*)?<"
            + p
            + rb"(?:v|is)\b"
        ),
    }


_ATTR_R = re.compile(rb"""\br=["']([A-Z]{1,3})([0-9]{1,7})["']""")
_ATTR_T = re.compile(rb"""\bt=["']([A-Za-z]+)["']""")
_PREFIX = re.compile(rb"<(\w+:)?worksheet\b")


@dataclass
class _Pass:
    declared: str | None = None
    prefix: bytes = b""
    max_row: int = -1
    max_col: int = -1
    row_cells: int = 0  # sum over rows of (last column + 1)
    formulas: list[tuple[int, int]] = field(default_factory=list)
    errors: list[tuple[int, int, str]] = field(default_factory=list)


def _scan_piece(piece: bytes, out: _Pass, pat: dict) -> None:
    """Rows of ``piece`` (whole rows): the extent from their last cells, the error values and
    the formula cells saved without a value (each looked for only where a plain search finds
    one may be)."""
    find, rfind, match = piece.find, piece.rfind, pat["last_ref"].match
    end_row, cell = pat["end_row"], pat["cell"]
    step = len(end_row)
    pos, max_row, max_col, row_cells = 0, out.max_row, out.max_col, 0
    while (e := find(end_row, pos)) >= 0:
        c = rfind(cell, pos, e)
        pos = e + step
        if c >= 0 and (m := match(piece, c)) is not None:
            col = col_number(m[1])
            row_cells += col + 1
            if col > max_col:
                max_col = col
            row = int(m[2]) - 1
            if row > max_row:
                max_row = row
    out.max_row, out.max_col = max_row, max_col
    out.row_cells += row_cells
    if piece.find(b't="e"') >= 0 or piece.find(b"t='e'") >= 0:
        for m in pat["error"].finditer(piece):
            r = _ATTR_R.search(m[1])
            v = pat["v"].search(m[2])
            if r is not None:
                text = v[1].decode("utf-8", "replace") if v is not None else ""
                out.errors.append((int(r[2]) - 1, col_number(r[1]), text))
    if pat["formula"].search(piece) is None:
        return
    for m in pat["uncached"].finditer(piece):
        attrs = m[1]
        t = _ATTR_T.search(attrs)
        if m[2] is not None and t is not None and t[1] == b"str":
            continue  # an empty <v/> on a text formula: the empty text Excel saved
        r = _ATTR_R.search(attrs)
        if r is not None:
            out.formulas.append((int(r[2]) - 1, col_number(r[1])))


def _fast_pass(z: zipfile.ZipFile, member: str) -> _Pass:
    out = _Pass()
    with z.open(member) as fh:
        first = fh.read(CHUNK_BYTES)
        m = _PREFIX.search(first, 0, 4096)
        out.prefix = (m[1] or b"") if m else b""
        pat = _patterns(out.prefix)
        dim = pat["dimension"].search(first)
        out.declared = dim[1].decode("ascii", "replace") if dim else None
        end_row = pat["end_row"]
        tail, block = b"", first
        while block:
            piece = tail + block if tail else block
            cut = piece.rfind(end_row)
            if cut < 0:
                tail = piece
            else:
                cut += len(end_row)
                _scan_piece(piece[:cut] if cut < len(piece) else piece, out, pat)
                tail = piece[cut:]
            block = fh.read(CHUNK_BYTES)
        if tail:
            _scan_piece(tail + end_row, out, pat)
    return out


def _cut_region(rows: np.ndarray, cols: np.ndarray, limit: int) -> tuple[int, int]:
    """(rows, cols) of the region from A1 kept: the widest empty band of rows or columns is
    cut off (with everything beyond it) while the region holds more than ``limit`` cells."""
    keep = np.ones(len(rows), dtype=bool)
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    while n_rows * n_cols > limit:
        best = None
        for axis, values, other, size in (
            (0, rows[keep], n_cols, n_rows),
            (1, cols[keep], n_rows, n_cols),
        ):
            u = np.unique(values)
            if len(u) < 2:
                continue
            gaps = np.diff(u)
            i = int(np.argmax(gaps))
            if gaps[i] <= 1:
                continue
            new = int(u[i]) + 1
            saved = (size - new) * other
            if best is None or saved > best[0]:
                best = (saved, axis, new)
        if best is None:
            break
        _, axis, new = best
        keep &= (rows < new) if axis == 0 else (cols < new)
        n_rows, n_cols = int(rows[keep].max()) + 1, int(cols[keep].max()) + 1
    return n_rows, n_cols


def shown_text(text: str, width: int = 40) -> str:
    """A value for a message: one line, masked as every raw text the suite quotes
    (``privacy.mask_contacts``: digit runs of 6 or more, e-mail addresses), at most ``width``
    characters."""
    text = privacy.mask_contacts(" ".join(str(text).split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell_value(xml: bytes, strings: list[str] | None) -> str:
    """The text of one cell element (shared strings looked up), for a message."""
    try:
        el = ET.fromstring(xml)
    except ET.ParseError:
        return ""
    t = el.get("t", "n")
    texts = [x.text or "" for x in el.iter() if _local(x.tag) == "t"]
    if t == "inlineStr" or texts:
        return "".join(texts)
    v = next((x.text or "" for x in el.iter() if _local(x.tag) == "v"), "")
    if t == "s" and strings is not None and v.strip().isdigit() and int(v) < len(strings):
        return strings[int(v)]
    return v


def _shared_strings(z: zipfile.ZipFile) -> list[str] | None:
    names = {n.lower(): n for n in z.namelist()}
    member = names.get("xl/sharedstrings.xml")
    if member is None:
        return None
    out = []
    for el in ET.fromstring(z.read(member)).iter():
        if _local(el.tag) == "si":
            out.append("".join(x.text or "" for x in el.iter() if _local(x.tag) == "t"))
    return out


def _far_message(scan: SheetScan, n_far: int) -> str:
    shown = ", ".join(c.ref for c in scan.far[:NAMED_CELLS])
    return (
        f"có {n_far} ô có giá trị nằm rải rác rất xa bảng (ngoài vùng {scan.extent}), ví dụ "
        f"{shown}. Hãy chuyển các ô này vào trong bảng hoặc xoá chúng (chọn các dòng/cột thừa, "
        "bấm Xoá), lưu lại rồi chạy lại."
    )


def _precise(
    z: zipfile.ZipFile, name: str, member: str, fast: _Pass, strings_cache: list
) -> tuple[SheetScan, bytes | None]:
    """Cell by cell: the region to read, the far cells, the rewritten sheet XML (or None)."""
    data = z.read(member)
    p = fast.prefix
    pat = _patterns(p)
    scan, far, far_formulas = _region(name, member, fast, pat["value"].findall(data))
    if not far:
        return scan, None
    far_refs = [cell_ref(r, c) for r, c in sorted(far)]
    if len(far) > MAX_FAR_CELLS:
        scan.far = [FarCell(ref, 0, 0, "") for ref in far_refs[:NAMED_CELLS]]
        raise FarCellsError(name, _far_message(scan, len(far)))
    if not strings_cache:
        strings_cache.append(_shared_strings(z))
    new = _take_out(data, p, far_refs, far_formulas, scan, strings_cache[0])
    if len(scan.far) != len(far):  # a far cell written in a way not foreseen: never read it
        left = sorted(set(far_refs) - {c.ref for c in scan.far})
        scan.far = [FarCell(ref, 0, 0, "") for ref in left[:NAMED_CELLS]]
        raise FarCellsError(name, _far_message(scan, len(left)))
    dim = pat["dimension"].search(new, 0, 1 << 16)
    if dim is not None:
        new = new[: dim.start(1)] + scan.extent.encode("ascii") + new[dim.end(1) :]
    scan.far.sort(key=lambda c: (c.row, c.col))
    return scan, new


def _region(
    name: str, member: str, fast: _Pass, found: list[tuple[bytes, bytes]]
) -> tuple[SheetScan, set[tuple[int, int]], set[tuple[int, int]]]:
    """(the sheet's scan with the region to read, the far cells, the far formula cells) from
    the cells holding a value (``found``: (column letters, row digits)) and the formulas."""
    pts_r = [int(d) - 1 for _, d in found]
    pts_c = [col_number(letters) for letters, _ in found]
    n_values = len(found)
    for r, c in fast.formulas:
        pts_r.append(r)
        pts_c.append(c)
    scan = SheetScan(name, member, fast.declared, 0, 0)
    if not pts_r:
        return scan, set(), set()
    rows = np.asarray(pts_r, dtype=np.int64)
    cols = np.asarray(pts_c, dtype=np.int64)
    n_rows, n_cols = _cut_region(rows, cols, max(SMALL_CELLS, SPARSE_FACTOR * len(rows)))
    scan.rows, scan.cols = n_rows, n_cols
    scan.formulas = [(r, c) for r, c in fast.formulas if r < n_rows and c < n_cols]
    scan.errors = [(r, c, e) for r, c, e in fast.errors if r < n_rows and c < n_cols]
    far_values = np.flatnonzero((rows[:n_values] >= n_rows) | (cols[:n_values] >= n_cols))
    far_formulas = {(r, c) for r, c in fast.formulas if r >= n_rows or c >= n_cols}
    far = far_formulas | {(int(rows[i]), int(cols[i])) for i in far_values}
    return scan, far, far_formulas


def _take_out(
    data: bytes,
    p: bytes,
    far_refs: list[str],
    far_formulas: set[tuple[int, int]],
    scan: SheetScan,
    strings: list[str] | None,
) -> bytes:
    """The sheet XML without its far cells (calamine never sees them), each one found added
    to ``scan.far`` with its shown text."""
    refs = b"|".join(ref.encode("ascii") for ref in far_refs)
    far_re = re.compile(
        b"<"
        + p
        + rb"""c\s[^>]*?\br=["'](?:"""
        + refs
        + rb""")["'][^>]*?(?:/>|>.*?</"""
        + p
        + rb"c>)",
        re.S,
    )
    parts, pos = [], 0
    for m in far_re.finditer(data):
        parts.append(data[pos : m.start()])
        pos = m.end()
        r = _ATTR_R.search(m[0])
        row, col = int(r[2]) - 1, col_number(r[1])
        formula = (row, col) in far_formulas
        xml = m[0]
        if p:  # the cell alone, without its namespace declaration
            xml = xml.replace(b"<" + p, b"<").replace(b"</" + p, b"</")
        text = "" if formula else shown_text(_cell_value(xml, strings))
        scan.far.append(FarCell(cell_ref(row, col), row, col, text, formula))
    parts.append(data[pos:])
    return b"".join(parts)


#: What a damaged or unusual package raises while it is scanned (calamine then decides).
_UNREADABLE = (
    OSError,
    EOFError,
    KeyError,
    ValueError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # an unsupported compression
    zipfile.BadZipFile,
    zlib.error,
    ET.ParseError,
)


def scan_workbook(path: Path | str) -> WorkbookScan | None:
    """Scan every worksheet of an .xlsx/.xlsm file. ``None`` when the file is not a workbook
    this scan understands (calamine then reads it, and reports it, as before). Raises
    :class:`FarCellsError` for a sheet with values scattered far off its table."""
    try:
        z = zipfile.ZipFile(path)
    except _UNREADABLE:
        return None
    with z:
        try:
            parts = _sheet_parts(z)
        except _UNREADABLE:
            return None
        sheets: dict[str, SheetScan] = {}
        replaced: dict[str, bytes] = {}
        strings_cache: list = []
        for name, member in parts.items():
            try:
                fast = _fast_pass(z, member)
            except _UNREADABLE:
                return None  # e.g. a corrupt or encrypted member: calamine reports it
            n_rows, n_cols = fast.max_row + 1, fast.max_col + 1
            if n_rows * n_cols <= max(SMALL_CELLS, SPARSE_FACTOR * fast.row_cells):
                sheets[name] = SheetScan(
                    name, member, fast.declared, n_rows, n_cols, fast.formulas, [], fast.errors
                )
                continue
            scan, new = _precise(z, name, member, fast, strings_cache)
            sheets[name] = scan
            if new is not None:
                replaced[member] = new
        data = None
        if replaced:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
                for info in z.infolist():
                    out.writestr(info.filename, replaced.get(info.filename) or z.read(info))
            data = buf.getvalue()
    return WorkbookScan(sheets, data)


def pad_rows(rows: list[list], scan: SheetScan | None) -> list[list]:
    """``rows`` (calamine's, from A1) extended with empty rows down to the last formula cell
    saved without a value (calamine stops at the last value)."""
    if scan is None or not scan.formulas:
        return rows
    last = max(r for r, _ in scan.formulas)
    if last >= len(rows):
        width = max((len(r) for r in rows), default=0)
        rows.extend([""] * width for _ in range(last + 1 - len(rows)))
    return rows


# --------------------------------------------------------------------------------------------
# Tying the cells to the rows of a table
# --------------------------------------------------------------------------------------------

_CLASS_LABELS = {
    "title": "dòng tiêu đề phía trên bảng",
    "header": "dòng tên cột",
    "total": "dòng tổng",
    "footer": "phần chân bảng (người lập biểu, ghi chú)",
    "blank": "dòng trống",
    "data": "cột không được dùng",
}

#: The quarantine message of a data row holding a formula saved without a value.
FORMULA_MESSAGE = (
    "ô {ref}: công thức không có giá trị đã lưu (tệp do phần mềm hay trang web tạo, chưa "
    "được Excel tính); mở tệp trong Excel, bấm Lưu rồi gửi lại."
)
#: ... and of one holding an error value.
ERROR_MESSAGE = (
    "ô {ref}: giá trị là lỗi {error} (công thức không tính được); sửa công thức hoặc ô mà nó "
    "dùng trong Excel, lưu rồi gửi lại."
)


def place_formulas(
    scan: SheetScan | None,
    classes: list[str],
    body_from: int,
    used: dict[int, str],
    where: dict,
) -> tuple[dict[int, tuple[str, str, str]], list[dict], list[int]]:
    """Tie the scan's cells to the rows of a table.

    ``classes``: the class of every row of the grid (``"data"``, ``"blank"``...);
    ``body_from``: the first row under the header; ``used``: grid column -> canonical column
    of the columns the suite reads; ``where``: ``kind``/``file``/``sheet`` for warnings.

    Returns (``{source_row: (reason, column, message)}`` of the data rows to refuse, naming
    the first such cell of the row: ``formula_no_value`` or ``formula_error``; the warnings;
    the 0-based body rows read as blank that hold such a cell in a column read: they are data
    rows, to be refused, never blank rows).
    """
    if scan is None:
        return {}, [], []
    cells = sorted(
        [(r, c, "formula_no_value", "") for r, c in scan.formulas]
        + [(r, c, "formula_error", e) for r, c, e in scan.errors]
    )

    def class_of(r: int) -> str:
        return classes[r] if r < len(classes) else "blank"

    # A body row read as blank only because of such cells is a data row.
    to_data = sorted(
        {r for r, c, _, _ in cells if c in used and r >= body_from and class_of(r) == "blank"}
    )
    became = set(to_data)
    refuse: dict[int, tuple[str, str, str]] = {}
    other: dict[tuple[str, str], list[str]] = {}
    first_row: dict[tuple[str, str], int] = {}
    for r, c, reason, error in cells:
        cls = "data" if r in became else class_of(r)
        ref = cell_ref(r, c)
        if c in used and cls == "data":
            if r + 1 not in refuse:
                refuse[r + 1] = (reason, used[c], _refusal_message(ref, reason, error))
            continue
        key = (reason, cls)
        other.setdefault(key, []).append(ref if reason == "formula_no_value" else f"{ref} {error}")
        first_row.setdefault(key, r + 1)
    warnings = [
        _formula_warning(reason, cls, refs, first_row[(reason, cls)], where)
        for (reason, cls), refs in sorted(other.items(), key=lambda kv: (first_row[kv[0]], kv[0]))
    ]
    warnings += [_far_warning(cell, scan.extent, where) for cell in scan.far]
    return refuse, warnings, to_data


def _refusal_message(ref: str, reason: str, error: str) -> str:
    """Why a data row is refused: its cell ``ref`` holds a formula saved without a value, or
    an error value."""
    if reason == "formula_no_value":
        return FORMULA_MESSAGE.format(ref=ref)
    return ERROR_MESSAGE.format(ref=ref, error=shown_text(error, 12))


def _formula_warning(reason: str, cls: str, refs: list[str], row: int, where: dict) -> dict:
    """The warning for the formula cells without a value (or the error values) of one class
    of rows outside the data read (a total row, a title...)."""
    shown = ", ".join(refs[:NAMED_CELLS]) + (" ..." if len(refs) > NAMED_CELLS else "")
    effect = (
        "không đối chiếu được dòng tổng với các dòng dữ liệu ở các ô này"
        if cls == "total"
        else "các ô này được đọc là trống"
    )
    what = (
        "ô công thức không có giá trị đã lưu"
        if reason == "formula_no_value"
        else "ô có giá trị lỗi"
    )
    todo = (
        "Hãy mở tệp trong Excel, bấm Lưu rồi gửi lại."
        if reason == "formula_no_value"
        else "Hãy sửa các công thức này trong Excel, lưu rồi gửi lại."
    )
    return {
        "code": reason,
        **where,
        "row": row,
        "message": f"{len(refs)} {what} ở {_CLASS_LABELS[cls]}: {shown}; {effect}. {todo}",
    }


def _far_warning(cell: FarCell, extent: str, where: dict) -> dict:
    """The warning for one cell far off the table, taken out of the sheet (not read)."""
    what = (
        "công thức không có giá trị đã lưu"
        if cell.formula
        else (f"giá trị “{cell.text}”" if cell.text else "ô trống")
    )
    return {
        "code": "far_cells",
        **where,
        "row": cell.row + 1,
        "quoted": [cell.text] if cell.text and not cell.formula else [],
        "message": (
            f"Ô {cell.ref} ({what}) nằm rất xa bảng (ngoài vùng {extent}) nên "
            "không được đọc vào bảng. Nếu đó là dữ liệu, hãy chuyển vào trong bảng; "
            "nếu không, hãy xoá ô đó và lưu lại."
        ),
    }


__all__ = [
    "ERROR_MESSAGE",
    "FORMULA_MESSAGE",
    "FarCell",
    "FarCellsError",
    "SheetScan",
    "WorkbookScan",
    "cell_ref",
    "col_letters",
    "col_number",
    "pad_rows",
    "place_formulas",
    "scan_workbook",
    "shown_text",
]
