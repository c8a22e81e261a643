"""Files, folders, periods: the per-process read cache (:func:`clear_cache`, :func:`prefetch`),
:func:`read_file`, :func:`read_folder`, and :func:`read_period` (carry-forward of each kind from
the latest folder that has it)."""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from analysis import paths
from analysis.core import cache
from analysis.ingest import contract as K
from analysis.ingest.files import list_files, scan_folder
from analysis.ingest.model import IngestError, PeriodInput, RawTable, SkippedSheet, UnreadFile, _rel
from analysis.ingest.probe import _Probe
from analysis.ingest.reader import _probe_file
from analysis.ingest.table import _finish

# --------------------------------------------------------------------------------------------
# File cache: cleaning a period reads the folders <= period (carry-forward) and the history
# reads the earlier folders again; several periods in one process read the same files over
# and over. Small files are kept, probed and finished, keyed by their content.
# --------------------------------------------------------------------------------------------

#: Files up to this size are kept in memory once read (per process).
CACHE_FILE_BYTES = 1 << 20
#: The cache holds files of at most this many bytes in all (least recently used go first).
CACHE_TOTAL_BYTES = 48 << 20

_FILE_CACHE: OrderedDict[
    tuple[str, str, str], tuple[int, list[_Probe | SkippedSheet | UnreadFile]]
] = OrderedDict()


def clear_cache() -> None:
    """Forget every file kept by the read cache."""
    _FILE_CACHE.clear()


def _cache_key(path: Path, raw_root: Path | None) -> tuple[tuple[str, str, str], int] | None:
    """(key, size) of a file the read cache keeps, ``None`` for one it does not (empty, too
    large or unreadable)."""
    try:
        size = path.stat().st_size
        if not 0 < size <= CACHE_FILE_BYTES:
            return None
        digest = hashlib.blake2b(path.read_bytes(), digest_size=20).hexdigest()
    except OSError:
        return None
    return (str(path.resolve()), _rel(path, raw_root), digest), size


def _cache_put(
    key: tuple[str, str, str], size: int, items: list[_Probe | SkippedSheet | UnreadFile]
) -> None:
    for item in items:
        if isinstance(item, _Probe):
            item.cached = True
    _FILE_CACHE[key] = (size, items)
    _FILE_CACHE.move_to_end(key)
    total = sum(n for n, _ in _FILE_CACHE.values())
    while total > CACHE_TOTAL_BYTES and len(_FILE_CACHE) > 1:
        _, (n, _) = _FILE_CACHE.popitem(last=False)
        total -= n


def _probe_file_cached(
    path: Path, raw_root: Path | None
) -> list[_Probe | SkippedSheet | UnreadFile]:
    """``_probe_file``, kept per process for small files, keyed by path and content."""
    found = _cache_key(path, raw_root)
    if found is None:
        return _probe_file(path, raw_root)
    key, size = found
    hit = _FILE_CACHE.get(key)
    if hit is None:
        _cache_put(key, size, _probe_file(path, raw_root))  # a bad file raises: nothing kept
        hit = _FILE_CACHE[key]
    else:
        _FILE_CACHE.move_to_end(key)
    return [
        replace(item, headers_seen=list(item.headers_seen))
        if isinstance(item, SkippedSheet)
        else item
        for item in hit[1]
    ]


def _read_whole(
    item: tuple[Path, tuple[str, str, str], int], raw_root: Path | None
) -> tuple[tuple, int, list]:
    """In a worker of ``prefetch``: the cache entry of one file (its key and size as the
    caller found them) with every table finished (the rows, which cannot be pickled,
    dropped)."""
    path, key, size = item
    items = _probe_file(path, raw_root)
    for probe in items:
        if isinstance(probe, _Probe):
            table = _finish(probe)
            if table.id_numbers is not None:
                # CCCD numbers are never kept nor sent back: the readers read this file.
                return key, size, None
            probe.table = table
            probe.load = None
    return key, size, items


def prefetch(files: list[Path], raw_root: Path | str | None, jobs: int) -> int:
    """Read ``files`` into this process's read cache with ``jobs`` processes (this one and
    forked workers, :mod:`analysis.core.parallel`), every sheet finished; the readers that follow
    (``read_period``, ``read_folder``) then find them read. Files already kept, and files the
    cache does not keep, are left to those readers; so is a file that fails to read, which
    they then read (and report) as usual. Returns how many files the workers read."""
    from analysis.core import parallel

    raw_root = Path(raw_root) if raw_root is not None else None
    todo: list[tuple[Path, tuple[str, str, str], int]] = []
    for path in files:
        found = _cache_key(Path(path), raw_root)
        if found is not None and found[0] not in _FILE_CACHE:
            todo.append((Path(path), *found))
    if jobs < 2 or len(todo) < 2:
        return 0
    # A small export costs about the same to read whatever its size (50-60 ms: opening,
    # header search, row classes); rows add to it.
    groups = parallel.split([1.0 + size / 100_000 for _, _, size in todo], min(jobs, len(todo)))
    pending = parallel.start(_read_whole, [[todo[i] for i in g] for g in groups[1:]], (raw_root,))
    try:
        for i in groups[0]:
            path = todo[i][0]
            try:
                for item in _probe_file_cached(path, raw_root):
                    if isinstance(item, _Probe):
                        _finished(item)
            except Exception:  # left to the readers that follow, which report it
                continue
    finally:
        results = pending.results()
    n = 0
    for result in itertools.chain.from_iterable(results):
        if isinstance(result, parallel.Failed):
            continue
        key, size, items = result
        if items is not None and key not in _FILE_CACHE:
            _cache_put(key, size, items)
            n += 1
    return n


def _copy_table(t: RawTable) -> RawTable:
    """A RawTable that shares no mutable container with ``t`` (frames are copy-on-write)."""
    return replace(
        t,
        data=t.data.copy(deep=False),
        totals=t.totals.copy(deep=False),
        row_classes=dict(t.row_classes),
        repairs=dict(t.repairs),
        unmapped_columns=list(t.unmapped_columns),
        personal_columns_dropped=list(t.personal_columns_dropped),
        header_rows=list(t.header_rows),
        columns=dict(t.columns),
        unread_cells=dict(t.unread_cells),
        sheet_warnings=[dict(w) for w in t.sheet_warnings],
        title_texts=list(t.title_texts),
        id_numbers=None,  # personal: never in a copy (the read cache keeps copies)
    )


def _finished(probe: _Probe) -> RawTable:
    """``_finish(probe)``; a cached probe keeps its table (and drops its rows) for next time.
    Every caller gets its own copy."""
    if probe.table is not None:
        return _copy_table(probe.table)
    table = _finish(probe)
    if probe.cached and table.id_numbers is None:
        # A table holding CCCD numbers is never kept: each caller reads it again.
        probe.table = _copy_table(table)
        probe.load = None  # the rows are no longer needed
    return table


def read_file(
    path: Path | str, raw_root: Path | str | None = None
) -> list[RawTable | SkippedSheet | UnreadFile]:
    """Read every sheet of one file (a CSV file is one sheet named ``""``).

    Returns a RawTable per recognised sheet and a SkippedSheet per other sheet, in sheet order;
    for a ``.txt`` file that holds no table, one :class:`UnreadFile`.
    Raises :class:`IngestError` for an unreadable file, a file with no recognised sheet, or a
    sheet that looks like a kind but lacks a required column.
    """
    raw_root = Path(raw_root) if raw_root is not None else Path(path).parent.parent
    out: list[RawTable | SkippedSheet] = []
    for item in _probe_file_cached(Path(path), raw_root):
        out.append(_finished(item) if isinstance(item, _Probe) else item)
    return out


def read_folder(
    folder: Path | str,
    raw_root: Path | str | None = None,
    skipped: list[SkippedSheet] | None = None,
    kinds: tuple[str, ...] | None = None,
    unread: list[UnreadFile] | None = None,
) -> list[RawTable]:
    """Read every file of one folder and its sub-folders (:func:`list_files` order). Skipped
    sheets are appended to ``skipped``, and the files not read to ``unread``, when lists are
    given. With ``kinds``, only the sheets of those kinds are turned into tables (the others
    are classified from their header rows and left)."""
    folder = Path(folder)
    raw_root = Path(raw_root) if raw_root is not None else folder.parent
    files, not_read = scan_folder(folder, raw_root)
    if unread is not None:
        unread.extend(not_read)
    tables: list[RawTable] = []
    for path in files:
        for item in _probe_file_cached(path, raw_root):
            if isinstance(item, _Probe):
                if kinds is None or item.kind in kinds:
                    tables.append(_finished(item))
            elif isinstance(item, SkippedSheet):
                if skipped is not None:
                    skipped.append(item)
            elif unread is not None:
                unread.append(item)
    if unread is not None:
        unread.sort(key=lambda u: u.file)
    return tables


def _kinds_index(path: Path) -> str:
    return f"kinds/{cache.file_digest(path).hex()}"


def files_to_read(raw_root: Path | str, period: str, cache_root: Path | str | None) -> list[Path]:
    """The files a first reading of ``period`` and of the history of its earlier folders will
    read, for ``prefetch``: every file of the newest folder ``<= period``, and the files of the
    earlier folders whose kinds ``cache_root`` does not hold yet (a file whose kinds are known
    was read by an earlier run, whose history entries spare reading it again)."""
    raw_root = Path(raw_root)
    folders = [p for p in paths.list_periods(raw_root) if p <= period]
    out: list[Path] = []
    for n, folder in enumerate(reversed(folders)):
        for path in list_files(raw_root / folder):
            known = (
                cache.load_json(cache_root, _kinds_index(path), cache.code_fingerprint())
                if n and cache_root is not None
                else None
            )
            if known is None:
                out.append(path)
    return out


def read_period(
    raw_root: Path | str, period: str, cache_root: Path | str | None = None
) -> PeriodInput:
    """Read what period ``period`` needs: for each kind, the sheets of the latest folder
    ``<= period`` that has that kind.

    Folders are probed newest first (headers only: a CSV body or an Excel sheet's rows are
    turned into a table only when its kind is still unserved), and the walk stops once every
    kind is served. An older folder is only looked at while some kind has not been found,
    so a district whose school list sits in the first folder probes every folder's headers:
    cheap for CSV (the first rows), a full sheet load for Excel (calamine reads whole sheets).

    With ``cache_root`` (the processed folder), the kinds of each probed file's sheets are kept
    in ``<cache_root>/_cache/kinds/`` (``analysis.core.cache``, keyed by the file's bytes and the
    code), and a file of an earlier folder whose kinds a newer folder already serves is not
    probed again: it would be left anyway (no table, and its skipped sheets are not listed).

    Raises :class:`IngestError` when no folder ``<= period`` holds a readable file, or none of
    them holds a sheet of any kind, or for a bad file met on the way.
    """
    raw_root = Path(raw_root)
    paths.parse_period(period)
    folders = [p for p in paths.list_periods(raw_root) if p <= period]
    served: dict[str, str | None] = dict.fromkeys(K.KINDS, None)
    found = PeriodInput(period, raw_root, [], [], served, [])
    n_files = 0
    for folder in reversed(folders):
        if all(served[k] is not None for k in K.KINDS):
            break
        n_files += _read_period_folder(found, folder, folder == folders[-1], cache_root)
    if n_files == 0:
        raise _no_file_error(raw_root, period, found.unread)
    if not found.tables:
        raise IngestError(
            period,
            None,
            f"Không có dữ liệu dùng được cho kỳ {period}: các tệp trong các thư mục ≤ {period} "
            "không có trang nào nhận ra được loại bảng. Hãy kiểm tra dòng tiêu đề của các tệp "
            "(xem danh sách trang bị bỏ qua) rồi chạy lại.",
        )
    order = {k: i for i, k in enumerate(K.KINDS)}
    found.tables.sort(key=lambda t: (order[t.kind], t.file, t.sheet))
    found.unread.sort(key=lambda u: u.file)
    return found


def _read_period_folder(
    found: PeriodInput, folder: str, newest: bool, cache_root: Path | str | None
) -> int:
    """One folder of :func:`read_period` (``newest``: the period's own folder): the tables of
    the kinds still unserved, added to ``found`` with the folder serving them, and the skipped
    sheets and files not read that the period lists. Returns how many files it holds."""
    raw_root, served = found.raw_root, found.served
    files, not_read = scan_folder(raw_root / folder, raw_root)
    found_here: set[str] = set()
    pending: list[_Probe] = []
    unread_here = list(not_read)
    for path in files:
        items = _probe_for_period(path, raw_root, served, newest, cache_root)
        if newest:  # like the skipped sheets of a file that serves nothing
            unread_here += [i for i in items if isinstance(i, UnreadFile)]
        used = [i for i in items if isinstance(i, _Probe) and served[i.kind] is None]
        if newest or used:  # skipped sheets: of the period's own folder, or of a file used
            found.skipped += [i for i in items if isinstance(i, SkippedSheet)]
        pending += used
        found_here.update(item.kind for item in used)
    found.tables += [_finished(probe) for probe in pending]
    for kind in sorted(found_here):
        served[kind] = folder
    if newest or found_here:  # as for skipped sheets: the folders this period uses
        found.unread += unread_here
    return len(files)


def _probe_for_period(
    path: Path,
    raw_root: Path,
    served: dict[str, str | None],
    newest: bool,
    cache_root: Path | str | None,
) -> list[_Probe | SkippedSheet | UnreadFile]:
    """The probed items of one file (``[]`` for a file of an earlier folder whose kinds, known
    from ``cache_root``, are all served already); a file probed is noted in the kinds cache."""
    if cache_root is None:
        return _probe_file_cached(path, raw_root)
    index = _kinds_index(path)
    known = cache.load_json(cache_root, index, cache.code_fingerprint())
    if not newest and known is not None and all(served[k] for k in known):
        return []
    items = _probe_file_cached(path, raw_root)
    if known is None:
        kinds = sorted({i.kind for i in items if isinstance(i, _Probe)})
        cache.store_json(cache_root, index, cache.code_fingerprint(), kinds)
    return items


def _no_file_error(raw_root: Path, period: str, unread: list[UnreadFile]) -> IngestError:
    """No folder ``<= period`` holds a file to read (the files not read are named)."""
    shown = "; ".join(f"“{u.file}”: {u.reason}" for u in unread[:5])
    return IngestError(
        period,
        None,
        f"Không có dữ liệu cho kỳ {period}: không tìm thấy tệp .xlsx, .xls, .ods hay .csv "
        f"nào trong các thư mục kỳ báo cáo ≤ {period} dưới {raw_root}"
        f"{f' (tệp không đọc: {shown})' if shown else ''}. Hãy chép các tệp xuất "
        f"dữ liệu vào {raw_root / period} rồi chạy lại.",
    )
