"""analysis.core.parallel and its use by the cleaning stage: forked workers give the same bytes as
one process, a failure in a worker is raised by the caller with its usual message."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import warnings
from pathlib import Path

import pytest

from analysis import clean, ingest
from analysis.clean import history
from analysis.core import parallel

PERIOD = "2024-06-24"
KEY = b"test-parallel-key-not-secret-32b"

needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="workers are forked (Linux)")


def _square(x: int, offset: int = 0) -> int:
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * x + offset


def _warn(x: int) -> int:
    warnings.warn(f"careful with {x}", UserWarning, stacklevel=1)
    return x


def _die(x: int) -> int:
    os._exit(3)


def test_split_balances_costs_and_keeps_every_index_once():
    costs = [5.0, 1.0, 1.0, 3.0, 2.0, 2.0]
    groups = parallel.split(costs, 2)
    assert sorted(i for g in groups for i in g) == list(range(len(costs)))
    loads = [sum(costs[i] for i in g) for g in groups]
    assert loads == [7.0, 7.0]
    assert all(g == sorted(g) for g in groups)
    # the caller's group starts with its head start: it gets less
    mine, theirs = parallel.split(costs, 2, head_start=6.0)
    assert sum(costs[i] for i in mine) + 6.0 <= sum(costs[i] for i in theirs) + 5.0
    assert parallel.split([], 3) == [[], [], []]
    assert parallel.split([1.0, 1.0], 1) == [[0, 1]]


def test_jobs_reads_the_environment(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setenv(parallel.ENV_JOBS, "3")
    assert parallel.jobs() == 3
    monkeypatch.setenv(parallel.ENV_JOBS, "0")
    assert parallel.jobs() == 1
    monkeypatch.setenv(parallel.ENV_JOBS, "many")
    assert parallel.jobs() == (os.cpu_count() or 1)
    monkeypatch.delenv(parallel.ENV_JOBS)
    assert parallel.jobs() == (os.cpu_count() or 1)
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    monkeypatch.setenv(parallel.ENV_JOBS, "4")
    assert parallel.jobs() == 1


@needs_fork
def test_workers_return_results_in_order_and_failures_as_failed():
    pending = parallel.start(_square, [[1, 2, -3], [4]], (10,))
    first, second = pending.results()
    assert first[:2] == [11, 14] and second == [26]
    assert isinstance(first[2], parallel.Failed) and "negative -3" in first[2].error


@needs_fork
def test_warnings_of_a_worker_are_given_again_by_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert parallel.start(_warn, [[7, 8]]).results() == [[7, 8]]
    assert [str(w.message) for w in caught] == ["careful with 7", "careful with 8"]


@needs_fork
def test_a_dead_worker_fails_its_whole_group():
    (group,) = parallel.start(_die, [[1, 2]]).results()
    assert len(group) == 2 and all(isinstance(r, parallel.Failed) for r in group)


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@needs_fork
def test_cancel_before_the_results_kills_the_workers():
    """The workers a pool started are known without the pool's private state
    (``started_processes``): giving up on them kills them at once, a running piece with them."""
    with parallel.started_processes() as started:
        pending = parallel.start(_sleep, [[60.0], [60.0]])
    assert len(started) == 2 and all(p.is_alive() for p in started)
    t0 = time.monotonic()
    pending.cancel()
    assert time.monotonic() - t0 < 30
    assert not any(p.is_alive() for p in started)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _clean(raw: Path, processed: Path, jobs: int) -> dict[str, str]:
    ingest.clear_cache()  # as in a new kernel
    clean.clean_period(PERIOD, raw, processed, key=KEY, jobs=jobs)
    return _hashes(processed / PERIOD)


@needs_fork
def test_cleaning_with_workers_writes_the_same_bytes_as_one_process(
    sample_raw_dir, tmp_path, monkeypatch
):
    groups = []
    real = parallel.Pending.__init__

    def spy(self, fn, grouped, args=()):
        groups.append((fn.__name__, [len(g) for g in grouped]))
        real(self, fn, grouped, args)

    monkeypatch.setattr(parallel.Pending, "__init__", spy)
    two = _clean(sample_raw_dir, tmp_path / "two", jobs=2)
    # the files were read, and earlier folders cleaned, by a worker besides this process
    names = [name for name, sizes in groups if sum(sizes)]
    assert names == ["_read_whole", "_history_entry"]
    groups.clear()
    one = _clean(sample_raw_dir, tmp_path / "one", jobs=1)
    assert all(sum(sizes) == 0 for _, sizes in groups)
    assert two == one
    for name in ("history", "kinds"):
        a = sorted(p.name for p in (tmp_path / "two" / "_cache" / name).iterdir())
        b = sorted(p.name for p in (tmp_path / "one" / "_cache" / name).iterdir())
        assert a == b and a


@needs_fork
@pytest.mark.parametrize("damage", ["unreadable file", "bad history folder"])
def test_a_failure_met_by_a_worker_is_raised_as_without_workers(
    sample_raw_dir, tmp_path, monkeypatch, damage
):
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw_dir, raw)
    if damage == "unreadable file":
        victim = sorted((raw / "2024-01-19").glob("*.xlsx"))[0]
        victim.write_bytes(b"PK\x03\x04 this is not a workbook")
        expected = ingest.IngestError
    else:
        # two earlier folders whose cleaning raises: on the sample, one is cleaned by this
        # process and one by the worker; the first in folder order is the error raised
        real = history._signatures

        def fails_for_two_folders(staff, counts, *args):
            if staff and staff[0].folder in ("2024-01-19", "2024-02-23"):
                raise clean.CleanError(f"hỏng ở {staff[0].folder}")
            return real(staff, counts, *args)

        monkeypatch.setattr(history, "_signatures", fails_for_two_folders)
        expected = clean.CleanError
    messages = []
    for jobs in (2, 1):
        ingest.clear_cache()
        with pytest.raises(expected) as err:
            clean.clean_period(PERIOD, raw, tmp_path / f"p{jobs}", key=KEY, jobs=jobs)
        messages.append(str(err.value))
        assert not (tmp_path / f"p{jobs}" / PERIOD).exists()  # nothing half-written
    assert messages[0] == messages[1]
    assert "2024-01-19" in messages[0]
