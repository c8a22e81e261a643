"""What the ingest stage hands on and its limits: the constants of the reading rules
(:data:`HEADER_SEARCH_ROWS`, :data:`EXTENSIONS`...), the output types (:class:`RawTable`,
:class:`SkippedSheet`, :class:`PeriodInput`, :class:`UnreadFile`) and :class:`IngestError`, a
contract the cleaning stage codes against; the small helpers of messages and paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.ingest import contract as K

#: The header is looked for in the first rows of a sheet.
HEADER_SEARCH_ROWS = 20
#: A header may be merged over this many rows.
MAX_HEADER_ROWS = 3
#: Rows of a sheet sampled to decide its legacy encoding.
LEGACY_SAMPLE_ROWS = 2000
#: An unrecognised sheet's rows looked at for a header below the first HEADER_SEARCH_ROWS, to
#: say where it is (about 0.15 ms a row with text; only sheets that match no kind pay it).
DEEP_HEADER_ROWS = 200
#: File extensions that are candidates for reading; the reader is picked from the bytes
#: (:func:`sniff`). Any other file of a period folder is listed as not read (:class:`UnreadFile`).
EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt")
#: System files (lower case) ignored without a word, like lock files (``~$``) and dot files.
SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})
#: Folders ignored without a word (besides hidden ones): macOS archive metadata.
SYSTEM_FOLDERS = frozenset({"__MACOSX"})
#: The suite's own files that may sit at the top of a period folder (the report's settings,
#: ``analysis.report.SETTINGS_FILE``): not data, not listed.
PROJECT_FILES = frozenset({"bao_cao.toml"})
ROW_CLASSES = ("data", "title", "header", "blank", "footer", "total")
REPAIR_KINDS = ("tcvn3", "vni", "nfd", "whitespace")
#: Why a hidden sheet of a workbook is listed and not read.
HIDDEN_SHEET_REASON = (
    "Trang tính bị ẩn: không đọc (có thể là số liệu cũ hoặc mẫu). Nếu đây là số liệu cần dùng, "
    "hãy hiện trang (Unhide) trong Excel rồi chạy lại."
)
#: Footers (signature block, date line, notes) are looked for in the last rows after the data.
FOOTER_SCAN_ROWS = 60

# --------------------------------------------------------------------------------------------
# Output types (a contract: clean.py codes against them)
# --------------------------------------------------------------------------------------------


@dataclass
class RawTable:
    """One recognised sheet (or CSV file) of one kind.

    Attributes:
        file: path relative to the raw root, POSIX (``"2024-04-19/ds_cbgvnv.xlsx"``).
        sheet: sheet name, ``""`` for a CSV file.
        kind: one of :data:`analysis.ingest.contract.KINDS`.
        folder: the period folder the file sits in (``"2024-04-19"``).
        data: the data rows; columns: the mapped *non-personal* canonical columns of ``kind``
            in canonical order (a subset of ``contract.kept_columns(kind)``); values as read
            (object dtype for Excel: str/float/int/bool/date/datetime, ``""`` for an empty
            cell; ``str`` for CSV), text cells repaired/NFC/space-cleaned; index: the 1-based
            source row number (named ``"source_row"``).
        totals: the total rows ("Tổng cộng"...), same columns and index, for cross-checks.
        row_classes: rows per class (``data``, ``title``, ``header``, ``blank``, ``footer``,
            ``total``), summing to ``rows_read``; ``row_classes["data"] == len(data)``.
        rows_read: rows of the sheet (up to its last non-empty row).
        repairs: cells changed in ``data`` + ``totals`` per repair (``tcvn3``, ``vni``,
            ``nfd``, ``whitespace``); a cell may count under a legacy kind and a later step.
        unmapped_columns: headers (flattened text) of non-blank columns that map to nothing
            (``STT``/``Ghi chú`` are not listed).
        personal_columns_dropped: headers of the personal columns dropped at read time.
        encoding: the CSV (or HTML) encoding found (``"utf-8"``, ``"utf-8-sig"``,
            ``"utf-16"``, ``"cp1258"``); ``None`` for a workbook.
        header_rows: the 1-based source rows of the header (merged headers span 2-3 rows).
        columns: canonical column -> the source column (flattened header text, for messages).
        legacy_encoding: ``"tcvn3"``/``"vni"`` when the sheet was typed in a legacy encoding.
        read_note: a Vietnamese warning when the file was read by its content rather than its
            extension (a CSV named ``.xlsx``...), ``None`` otherwise.
        unread_cells: source row -> (reason, canonical column, message) of the data rows
            holding, in a column read, a formula saved without a value (``formula_no_value``)
            or an error value (``formula_error``), both read as blank by calamine; the message
            names the first such cell of the row (``"ô F12: ..."``). The cleaning stage
            refuses these rows. Excel only (:mod:`analysis.ingest.xlsx_scan`).
        sheet_warnings: quality warnings of the sheet's XML (``far_cells``: values far off the
            table, not read; ``formula_no_value``/``formula_error``: such cells outside the
            data rows or the columns read), as ``quality.json["warnings"]`` records.
        title_texts: the non-empty text cells of the rows above the header, repaired (a
            per-school export names its school there, a provider's list its provider).
        id_numbers: for the kinds of :data:`~analysis.ingest.contract.ID_JOIN_KINDS` with a
            CCCD column, that column's values as read, aligned with ``data`` (same index); ``None``
            otherwise. Personal: the cleaning stage turns it into a join key and drops it
            (:mod:`analysis.clean.certificates`). Never kept by the read cache: a table that holds
            it is read again by each caller (:func:`_finished`, :func:`prefetch`).
    """

    file: str
    sheet: str
    kind: str
    folder: str
    data: pd.DataFrame
    totals: pd.DataFrame
    row_classes: dict[str, int]
    rows_read: int
    repairs: dict[str, int]
    unmapped_columns: list[str]
    personal_columns_dropped: list[str]
    encoding: str | None = None
    header_rows: list[int] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    legacy_encoding: str | None = None
    read_note: str | None = None
    unread_cells: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    sheet_warnings: list[dict] = field(default_factory=list)
    title_texts: list[str] = field(default_factory=list)
    id_numbers: pd.Series | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """``"file, trang “sheet”"`` for messages."""
        return _where(self.file, self.sheet)


@dataclass
class SkippedSheet:
    """A sheet whose header matches no kind (a lookup sheet, notes...), listed in the quality
    report. ``reason`` is Vietnamese; ``headers_seen`` the header-like cells found."""

    file: str
    sheet: str
    reason: str
    headers_seen: list[str]


@dataclass
class PeriodInput:
    """What ``read_period`` found for one period.

    ``tables``: the recognised sheets used for the period (for each kind those of
    ``served[kind]``), sorted by (kind order, file, sheet); ``skipped``: unrecognised sheets of
    the files read; ``served``: kind -> the folder that served it (``None``: no data <= period),
    for every kind of :data:`~analysis.ingest.contract.KINDS`; ``unread``: the files not read,
    sorted by file: of other types, in the period's own folder and in the folders that served a
    kind; ``.txt`` files holding no table, in the period's own folder (as for skipped sheets, a file
    of an earlier folder that serves nothing is not listed: whether it is looked at depends on
    the kinds cache, and the listing must not).
    """

    period: str
    raw_root: Path
    tables: list[RawTable]
    skipped: list[SkippedSheet]
    served: dict[str, str | None]
    unread: list[UnreadFile] = field(default_factory=list)

    def tables_of(self, kind: str) -> list[RawTable]:
        """The tables of one kind, in file/sheet order."""
        if kind not in K.KINDS:
            raise KeyError(kind)
        return [t for t in self.tables if t.kind == kind]


@dataclass(frozen=True)
class UnreadFile:
    """A file of a period folder that is not read (a PDF, a Word document, an archive, a text
    file that holds no table...), listed in the quality report with ``reason`` (Vietnamese).
    ``file`` is relative to the raw root."""

    file: str
    reason: str


class IngestError(Exception):
    """A file or period that cannot be read. ``message`` is Vietnamese and says what to do;
    ``file`` is relative to the raw root (or the period folder for a period-level error) and
    ``sheet`` is the sheet name (``""`` for a CSV or a whole file, ``None`` for a period).
    ``code`` names the case for callers and tests: ``empty``, ``encoding``, ``corrupt``,
    ``password``, ``wrong_type``, ``no_kind``, ``missing_column``, ``deep_header``, ``""``."""

    def __init__(self, file: str | None, sheet: str | None, message: str, code: str = ""):
        super().__init__(message)
        self.file = file
        self.sheet = sheet
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


def _where(file: str, sheet: str | None) -> str:
    return f"tệp “{file}”, trang “{sheet}”" if sheet else f"tệp “{file}”"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _rel(path: Path, raw_root: Path | None) -> str:
    path = Path(path)
    if raw_root is not None:
        try:
            return path.resolve().relative_to(Path(raw_root).resolve()).as_posix()
        except ValueError:
            pass
    return path.name
