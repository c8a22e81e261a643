"""Independent pieces of work, run in worker processes forked from this one.

The cleaning stage of a first run reads every raw file of the period's folders and cleans the
signature data of every earlier folder for the history: pieces that do not depend on one
another, done one after another on one core while the machine's other cores wait. Here they are
shared out: the calling process keeps a share and forked workers take the rest. A fork shares
what this process already holds (imported modules, the read cache of ``ingest``), where a
spawned worker would import pandas again (about 1 s) and read the files again.

The result is the same as running the pieces one after another: each piece is a function of
its arguments only, its result comes back pickled, and the caller puts the results together in
the same order as the serial code. A piece that fails in a worker (an unreadable file, a worker
killed for memory) comes back as :class:`Failed` and the caller runs it again itself, so an
error is raised in the calling process, with its usual message, where the serial code would
raise it. Warnings a worker gives are given again by the caller, in order.

Used by the cleaning stage (``ingest.prefetch``, the history in ``clean.clean_period``) and by
the report (the Excel workbook is written while the Word report renders).

A stop (Ctrl+C, SIGTERM: ``analysis.core.stops``) is the caller's business: the workers ignore
Ctrl+C (the terminal sends it to every process of the group) and are killed when the caller
gives up on them (``Pending.cancel`` before every result is in, or ``results`` during a stop:
their pieces have no effect outside their results, so nothing is left half done).

How many processes: the ``ANALYSIS_JOBS`` environment variable (the batch sets it to the cores
it leaves to each period: ``--notebook-jobs``), else the number of cores; 1, or a system
without ``fork`` (Windows, macOS), runs everything in the calling process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from analysis.core import stops

ENV_JOBS = "ANALYSIS_JOBS"


def can_fork() -> bool:
    """True where worker processes are forked (Linux)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def jobs() -> int:
    """How many processes may be used (see the module's docstring)."""
    if not can_fork():
        return 1
    value = os.environ.get(ENV_JOBS, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass  # not a number: as if unset
    return os.cpu_count() or 1


def _worker_init() -> None:
    """In a worker: Ctrl+C is left to the caller, SIGTERM ends the worker (the handlers of a
    forked caller would raise its stops inside a piece)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@dataclass(frozen=True)
class Failed:
    """A piece that raised in a worker (or whose worker died); the caller runs it again."""

    error: str


def split(costs: Sequence[float], parts: int, head_start: float = 0.0) -> list[list[int]]:
    """Indexes of ``costs`` shared into ``parts`` groups of about equal total cost (largest
    first, each to the lightest group; ties to the lower index). Group 0 is the caller's and
    starts with ``head_start`` (the work it does besides). Each group keeps its indexes in
    increasing order."""
    parts = max(1, parts)
    loads = [head_start] + [0.0] * (parts - 1)
    groups: list[list[int]] = [[] for _ in range(parts)]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        g = min(range(parts), key=lambda g: (loads[g], g))
        groups[g].append(i)
        loads[g] += costs[i]
    return [sorted(g) for g in groups]


def _run_group(fn: Callable[..., Any], items: list, args: tuple) -> tuple[list, list]:
    """In a worker: ``fn(item, *args)`` for each item, a :class:`Failed` for an item that
    raised; and the warnings given, as (message, category, filename, lineno)."""
    results: list = []
    with warnings.catch_warnings(record=True) as caught:
        for item in items:
            try:
                results.append(fn(item, *args))
            except Exception as exc:  # re-run by the caller, which raises it properly
                results.append(Failed(f"{type(exc).__name__}: {exc}"))
    given = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
    return results, given


@contextlib.contextmanager
def started_processes() -> Iterator[list]:
    """The ``multiprocessing`` processes started inside the block, listed when it ends: the
    workers of a ``ProcessPoolExecutor`` whose submits it holds (the pool starts them there),
    to stop or kill them without the pool's private ``_processes``. Start no other process in
    another thread meanwhile: it would be listed too."""
    before = set(multiprocessing.active_children())
    started: list = []
    try:
        yield started
    finally:
        started.extend(p for p in multiprocessing.active_children() if p not in before)


class Pending:
    """Pieces running in forked workers, one worker per group of items."""

    def __init__(self, fn: Callable[..., Any], groups: list[list], args: tuple = ()):
        self._groups = [g for g in groups if g]
        self._pool = None
        self._futures: list = []
        self._workers: list = []
        if not self._groups:
            return
        # The workers are forked at the first submit, with this process's state at that time.
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            max_workers=len(self._groups), mp_context=context, initializer=_worker_init
        )
        try:
            with started_processes() as self._workers:
                self._futures = [self._pool.submit(_run_group, fn, g, args) for g in self._groups]
        except Exception:  # could not start workers: the caller runs everything
            self.cancel()
            self._futures = []

    def results(self) -> list[list]:
        """Per group, the result of each item (or :class:`Failed`), in item order. Waits for
        the workers; replays their warnings in this process. During a stop
        (``stops.stopping``: this is a ``finally`` on the way out) it does not wait: the
        workers are killed and every piece is :class:`Failed`."""
        if stops.stopping():
            self.cancel()
            return [[Failed("stopped")] * len(g) for g in self._groups]
        out = []
        try:
            for group, future in zip(self._groups, self._futures, strict=False):
                try:
                    results, given = future.result()
                except Exception as exc:  # the worker died (killed, out of memory)
                    results, given = [Failed(f"{type(exc).__name__}: {exc}")] * len(group), []
                for message, category, filename, lineno in given:
                    warnings.warn_explicit(message, category, filename, lineno)
                out.append(results)
        finally:  # a stop while waiting: the workers are killed
            self.cancel()
        if len(out) < len(self._groups):  # no workers were started
            out += [[Failed("no worker")] * len(g) for g in self._groups[len(out) :]]
        return out

    def cancel(self) -> None:
        """Stop the workers: once every result is in, they end; before that (the caller gives
        up: an error, a stop) they are killed, a running piece with them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not all(future.done() for future in self._futures):
            for process in self._workers:
                with contextlib.suppress(Exception):
                    process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def start(fn: Callable[..., Any], groups: list[list], args: tuple = ()) -> Pending:
    """Run ``fn(item, *args)`` for the items of each group in a forked worker per group.
    ``fn`` must be a module-level function; items, ``args`` and results are pickled."""
    return Pending(fn, groups, args)
