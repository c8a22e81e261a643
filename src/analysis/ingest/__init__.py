"""Reading raw exports: files, sheets, header rows, merged headers, table kinds.

``read_period(raw_root, period)`` is what the cleaning stage calls. It lists the period folders
``<= period`` (newest first), reads their files, classifies each sheet by its header
(:mod:`analysis.ingest.contract`) and, for each kind, keeps the sheets of the latest folder
that has that kind (carry-forward, data contract section 1).

Files: :func:`scan_folder` lists a period folder and its sub-folders (``source_file`` keeps the
sub-path) and is the one listing used for reading, prefetching and every cache key over raw
files. Lock files (``~$``), hidden files and folders and system files are ignored; a file whose
extension is not a candidate (:data:`EXTENSIONS`) is an :class:`UnreadFile` with its reason, as
is a ``.txt`` that holds no table (it may be a note). The reader of a candidate is picked from
its bytes (:func:`sniff`), not its extension: workbooks (``.xlsx``/``.xlsm``/``.xls``/``.ods``,
python-calamine), HTML tables (web exports saved as ``.xls``; lxml), text (``.csv``, Excel's
"Unicode Text" ``.txt``: encoding, line ends, delimiter). A file read as another type than its
extension says carries a ``read_note`` (a warning in the quality report). A file that cannot be
read stops the run with one Vietnamese message (:class:`IngestError`, with a ``code``); the
library's own text goes to the log.

Per sheet:

1. cells are read as they come (calamine: str/float/int/bool/date/datetime; CSV: all text, so
   codes keep their leading zeros);
2. the legacy encoding (TCVN3/VNI) of the sheet is decided on its text cells
   (``legacy.detect_legacy_columns`` on the first :data:`LEGACY_SAMPLE_ROWS` rows, header
   included) and the header window is repaired *before* classifying;
3. the header is the row (or 2-3 rows of a merged header) among the first
   :data:`HEADER_SEARCH_ROWS` rows that classifies best; merged group cells are spread over
   their range (xlsx merge ranges, then a forward fill of the upper rows) and joined with the
   sub-header ("Chữ ký số" over "Trạng thái" -> ("Chữ ký số", "Trạng thái"));
4. personal columns (names, birth dates, CCCD, phone, e-mail) are dropped right after header
   mapping: they never reach a returned DataFrame (the cleaner needs ``staff_id`` for the
   keyed hash, which is kept);
5. every row gets one class: ``title`` (above the header), ``header`` (the header rows, a row of
   column numbers "(1) (2) (3)" right under it, and repeated header rows), ``blank``, ``total``
   ("Tổng cộng", "Tổng", "Cộng" as school name or first text cell), ``footer`` (signature
   block, date line, notes after the data) or ``data``;
6. the kept text cells are repaired (legacy), NFC-normalised and white-space cleaned, counted
   in ``RawTable.repairs`` (cells of ``data`` and ``totals``), per unique value.

Row numbers are 1-based source rows as Excel (or a text editor, for CSV) shows them. CSV line
ends (CRLF, LF, CR alone, mixed) are made LF before any parsing, so each counts as one line. A
CSV field holding a line break shifts the numbers of the lines below it (rare in exports): rows
are numbered by records, as Excel does. A header below the first :data:`HEADER_SEARCH_ROWS`
rows is not read but named, with its row, in the message.

Speed: a sheet's cells are factorised once (``_Cells``) and every fact used to classify rows
(blank, total label, repeated header) or to repair text is computed per distinct value, never
per row. Small files (up to :data:`CACHE_FILE_BYTES`) are kept per process, keyed by path and
content (``clear_cache`` forgets them): carry-forward, the history and several periods in one
run read each file once. Every caller still gets its own copy of a table.

Modules, in reading order: :mod:`~analysis.ingest.model` (constants, output types,
:class:`IngestError`), :mod:`~analysis.ingest.files` (folder listing, :func:`sniff`),
:mod:`~analysis.ingest.reader` (one file to its sheets, by content), the readers
:mod:`~analysis.ingest.excel`, :mod:`~analysis.ingest.csv`, :mod:`~analysis.ingest.html`
(with :mod:`~analysis.ingest.xlsx_scan`), :mod:`~analysis.ingest.probe` (a sheet's encoding and
header), :mod:`~analysis.ingest.headers`, :mod:`~analysis.ingest.rows` (row classes),
:mod:`~analysis.ingest.cells` (text repair), :mod:`~analysis.ingest.table` (a sheet's
:class:`RawTable`), :mod:`~analysis.ingest.period` (read cache, :func:`read_period`);
:mod:`~analysis.ingest.contract` holds the table kinds and their header aliases.
"""

from analysis.ingest.csv import UnknownEncoding, decode_bytes
from analysis.ingest.files import list_files, scan_folder, sniff
from analysis.ingest.headers import HeaderInfo, find_header
from analysis.ingest.model import (
    HIDDEN_SHEET_REASON,
    PROJECT_FILES,
    IngestError,
    PeriodInput,
    RawTable,
    SkippedSheet,
    UnreadFile,
)
from analysis.ingest.period import (
    clear_cache,
    files_to_read,
    prefetch,
    read_file,
    read_folder,
    read_period,
)

__all__ = [
    "HIDDEN_SHEET_REASON",
    "PROJECT_FILES",
    "HeaderInfo",
    "IngestError",
    "PeriodInput",
    "RawTable",
    "SkippedSheet",
    "UnknownEncoding",
    "UnreadFile",
    "clear_cache",
    "decode_bytes",
    "files_to_read",
    "find_header",
    "list_files",
    "prefetch",
    "read_file",
    "read_folder",
    "read_period",
    "scan_folder",
    "sniff",
]
