"""The signature history: ``signature_by_school`` of every folder up to the period.

``_plan_history`` finds the cached entries and the folders still to clean (signature kinds
carried forward between folders like ``read_period`` does); ``_HistoryRun`` cleans them in
this process and in forked workers while the period itself is cleaned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.clean import match
from analysis.clean.staff import _signatures
from analysis.core import cache, parallel, schemas, vocab
from analysis.ingest import PeriodInput, RawTable, list_files, read_folder

SIGNATURE_KINDS = ("cbgvnv", "tonghop_cks", "ca_thue_bao")


def _read_signature_folder(raw_root: Path, folder: str) -> list[RawTable]:
    """The signature tables of one folder (the other sheets are classified, not read in full).

    Small files are kept by ``ingest``'s read cache (keyed by content), so cleaning several
    periods in one run, or the history after ``read_period``, reads each file once."""
    return read_folder(raw_root / folder, raw_root, kinds=SIGNATURE_KINDS)


@dataclass
class _HistoryPlan:
    """What the history of ``period`` needs (``_plan_history``).

    ``entries``: folder -> its history entry, for the folders already done (cache hits, and
    folders with no signature data of their own: an empty entry); ``tasks``: (folder, staff
    tables, count tables) of each folder still to clean, in folder order, with the tables
    carried forward as ``read_period`` would serve them to that folder; ``keys``: the cache
    key of every folder ``<= period`` (none without a processed folder)."""

    period: str
    folders: list[str]
    keys: dict[str, str]
    entries: dict[str, pd.DataFrame]
    tasks: list[tuple[str, list[RawTable], list[RawTable], list[RawTable]]]
    processed_root: Path | None


def _plan_history(
    raw_root: Path, period: str, schools: pd.DataFrame, processed_root: Path | None
) -> _HistoryPlan:
    """The history's cache hits, and the tables of the folders it still has to clean.

    Each earlier folder is read once; signature kinds are carried forward between folders like
    ``read_period`` does, and its tables of one kind are taken in the same (file, sheet) order,
    so a folder's entry is what cleaning that folder's own period gives with this school list.

    With ``processed_root``, each earlier folder's entry is kept in
    ``<processed_root>/_cache/history/<folder>.parquet`` (``analysis.core.cache``), under a key that
    covers everything it depends on: the bytes of every raw file in the folders up to that one
    (so carried-forward tables too), this period's school list, the alias file and the cleaning
    code. When every earlier folder is a hit no raw file of an earlier folder is parsed; after
    a miss the folders are walked as without a cache (the carry-forward needs their tables)
    and only the missing folders are cleaned.
    """
    upto = [p for p in paths.list_periods(raw_root) if p <= period]
    folders = [p for p in upto if p < period]
    keys = _history_keys(raw_root, upto, schools) if processed_root is not None else {}
    entries: dict[str, pd.DataFrame] = {}
    for folder in folders:
        hit = cache.load(processed_root, f"history/{folder}", keys[folder]) if keys else None
        if hit is not None:
            entries[folder] = hit
    tasks: list[tuple[str, list[RawTable], list[RawTable], list[RawTable]]] = []
    if len(entries) < len(folders):
        last: dict[str, list[RawTable]] = {k: [] for k in SIGNATURE_KINDS}
        for folder in folders:
            tables = _read_signature_folder(raw_root, folder)
            here = {
                k: sorted((t for t in tables if t.kind == k), key=lambda t: (t.file, t.sheet))
                for k in SIGNATURE_KINDS
            }
            for k in SIGNATURE_KINDS:
                if here[k]:
                    last[k] = here[k]
            if folder in entries:
                continue
            if any(here.values()):
                tasks.append((folder, last["cbgvnv"], last["tonghop_cks"], last["ca_thue_bao"]))
            else:  # no signature data of its own: an empty entry says so
                entries[folder] = schemas.empty("history")
                if keys:
                    cache.store(processed_root, f"history/{folder}", keys[folder], entries[folder])
    return _HistoryPlan(period, folders, keys, entries, tasks, processed_root)


def history_rows(by_school: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """A folder's ``signature_by_school`` as history rows: a multi-level school with a staff
    list gets one row per level of its staff (a row's own Cấp học, or "Trường nhiều cấp học":
    ``_staff_level``), so that coverage by level is the same rule in every period; every
    other school keeps its one row."""
    multi = (by_school["level"] == vocab.MULTI_LEVEL) & (by_school["basis"] == "list")
    multi = multi.fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return by_school
    codes = set(by_school.loc[multi, "school_code"].tolist())
    st = staff[staff["school_code"].isin(codes).to_numpy(dtype=bool)]
    st = st[st["active"].to_numpy(dtype=bool)]
    split = (
        st.assign(s=st["signed"].astype("int64"), p=st["pending"].astype("int64"))
        .groupby(["school_code", "level"], sort=True)
        .agg(n_staff=("s", "size"), n_signed=("s", "sum"), n_pending=("p", "sum"))
        .reset_index()
        .assign(basis="list")
    )
    # A listed school whose staff all left keeps its (empty) row.
    empty = by_school[multi & ~by_school["school_code"].isin(set(split["school_code"]))]
    out = pd.concat([by_school[~multi], split, empty], ignore_index=True)
    return out.sort_values("school_code", kind="stable").reset_index(drop=True)


def _history_entry(
    task: tuple[str, list[RawTable], list[RawTable], list[RawTable]],
    schools: pd.DataFrame,
    aliases: pd.DataFrame,
    key: bytes,
) -> pd.DataFrame:
    """The history entry of one folder: its signature_by_school (run in a worker too)."""
    folder, staff_tables, count_tables, cert_tables = task
    sig = _signatures(staff_tables, count_tables, cert_tables, schools, aliases, key, folder)
    return history_rows(sig.by_school, sig.staff).assign(period=folder)


def _task_cost(task: tuple[str, list[RawTable], list[RawTable], list[RawTable]]) -> float:
    """A rough cost of cleaning one folder's signature tables, for sharing them out: the rows,
    plus a fixed part per folder (school matching, checks, dedup on small tables)."""
    return 2000.0 + sum(len(t.data) for t in task[1] + task[2] + task[3])


class _HistoryRun:
    """The folders of a history plan being cleaned: shared between this process and forked
    workers (``analysis.core.parallel``) at ``start``, so that the workers run while this process
    cleans the period itself; ``finish`` cleans this process's share, collects the rest and
    assembles the history."""

    def __init__(
        self,
        plan: _HistoryPlan,
        schools: pd.DataFrame,
        aliases: pd.DataFrame,
        key: bytes,
        jobs: int,
        head_start: float,
    ):
        self.plan, self.args = plan, (schools, aliases, key)
        tasks = plan.tasks
        if jobs > 1 and tasks:
            groups = parallel.split(
                [_task_cost(t) for t in tasks], min(jobs, len(tasks) + 1), head_start
            )
        else:
            groups = [list(range(len(tasks)))]
        self.mine, self.theirs = groups[0], [g for g in groups[1:] if g]
        self.pending = parallel.start(
            _history_entry, [[tasks[i] for i in g] for g in self.theirs], self.args
        )

    def cancel(self) -> None:
        self.pending.cancel()

    def finish(self, current: PeriodInput, current_sbs: pd.DataFrame) -> pd.DataFrame:
        """signature_by_school of every folder <= period with its own signature data (+ this
        period's), and the cache entries of the folders cleaned (this period's included: the
        next period's history finds it)."""
        plan, tasks = self.plan, self.plan.tasks
        done: dict[int, object] = {}
        for i in self.mine:
            try:
                done[i] = _history_entry(tasks[i], *self.args)
            except Exception as exc:  # raised again below, in folder order
                done[i] = parallel.Failed(str(exc))
        for group, results in zip(self.theirs, self.pending.results(), strict=True):
            done.update(zip(group, results, strict=True))
        entries = dict(plan.entries)
        for i, task in enumerate(tasks):  # folder order: the first failing folder raises
            entry = done[i]
            if isinstance(entry, parallel.Failed):
                entry = _history_entry(task, *self.args)
            entries[task[0]] = entry
            if plan.keys:
                cache.store(plan.processed_root, f"history/{task[0]}", plan.keys[task[0]], entry)
        own = any(current.served.get(k) == plan.period for k in SIGNATURE_KINDS)
        if plan.period in plan.keys:
            entry = current_sbs.assign(period=plan.period) if own else schemas.empty("history")
            name = f"history/{plan.period}"
            cache.store(plan.processed_root, name, plan.keys[plan.period], entry)
        frames = [entries[f] for f in plan.folders if len(entries[f])]
        if any(current.served.get(k) for k in SIGNATURE_KINDS):
            frames.append(current_sbs.assign(period=plan.period))
        if not frames:
            return schemas.empty("history")
        hist = pd.concat(frames, ignore_index=True).sort_values(
            ["period", "school_code"], kind="stable"
        )
        return schemas.conform("history", hist)


def _history_keys(raw_root: Path, folders: list[str], schools: pd.DataFrame) -> dict[str, str]:
    """The cache key of each folder's history entry (see ``_plan_history``)."""
    running = hashlib.blake2b(digest_size=20)
    running.update(b"history-v1")
    running.update(cache.code_fingerprint().encode())
    running.update(cache.frame_digest(schools))
    alias_file = raw_root / match.ALIASES_FILE
    running.update(cache.file_digest(alias_file) if alias_file.is_file() else b"-")
    keys = {}
    for folder in folders:
        for path in list_files(raw_root / folder):  # sub-folders too: what is read
            running.update(path.relative_to(raw_root).as_posix().encode())
            running.update(cache.file_digest(path))
        keys[folder] = running.copy().hexdigest()
    return keys
