"""Stops (analysis.core.stops): Ctrl+C, SIGTERM and unexpected errors of the real command line.

``python -m analysis run|clean`` runs in a subprocess on a copy of the sample's raw folder,
with processed and output folders that a complete run filled first. A signal is sent once
the run has started (its temporary folder or its first notebook is on disk); then the exit
code, the one Vietnamese line on standard error, the log file, the folders (no temporary
leftovers, the previous outputs byte-identical) and the processes (no kernel, no worker left)
are checked. Linux only (signals, /proc).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import paths

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="signals and /proc: Linux"
)

PERIOD = "2024-04-19"
SRC = Path(__file__).resolve().parents[2] / "src"
STARTUP_TIMEOUT = 90.0  # a loaded 2-core CI machine
STOP_TIMEOUT = 60.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("HOCBASO_ROOT", None)
    return env


def command(root: Path, name: str = "run", *extra: str) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "analysis",
        name,
        "--period",
        PERIOD,
        "--raw-dir",
        str(root / "raw"),
    ]
    args += ["--processed-dir", str(root / "processed")]
    if name == "run":
        args += ["--output-dir", str(root / "outputs"), "--quiet"]
    return args + list(extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(root: Path) -> list[str]:
    """Temporary names of the atomic writes anywhere under ``root``."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.name.startswith((".tmp-", ".old-"))
        or (p.name.startswith(".") and p.name.endswith(".tmp"))
    )


# --------------------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), fields[0], fields[19]


def descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid`` (kernels run in their own session, still its children),
    with its start time (to tell it from a later process given the same pid)."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents.setdefault(st[0], []).append(int(entry.name))
            starts[int(entry.name)] = st[2]
    found, todo = {}, [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def still_running(procs: dict[int, str], parent_pid: int) -> list[str]:
    """Which of ``procs`` still run (zombies do not), and any process whose environment names
    ``parent_pid`` as its kernel parent (a kernel, or a worker a kernel forked)."""
    alive = []
    for pid, start in procs.items():
        st = _stat(pid)
        if st is not None and st[2] == start and st[1] != "Z":
            alive.append(f"{pid} {Path(f'/proc/{pid}/cmdline').read_bytes()[:80]!r}")
    alive += [f"{pid} (kernel of {parent_pid})" for pid in kernels_of(parent_pid)]
    return sorted(set(alive))


def kernels_of(pid: int) -> list[int]:
    """Live processes whose environment names ``pid`` as their kernel parent: the kernels
    ``pid`` started and the workers they forked, even once ``pid`` is gone."""
    marker = f"JPY_PARENT_PID={pid}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        st = _stat(int(entry.name))
        if marker in environ.split(b"\0") and st is not None and st[1] != "Z":
            found.append(int(entry.name))
    return found


def kill_all(proc: subprocess.Popen, procs: dict[int, str]) -> tuple[bytes, bytes]:
    """Kill the command and whatever it left (a kernel left running keeps its standard
    error open, and ``communicate`` would wait for it forever)."""
    for pid in {*procs, *descendants(proc.pid), *kernels_of(proc.pid)}:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    proc.kill()
    try:
        return proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        return b"", b"(no output: the pipes stayed open)"


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            _, err = kill_all(proc, {})
            pytest.fail(f"ended before the signal (code {proc.returncode}): {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            kill_all(proc, {})
            pytest.fail("the run did not reach the point where the signal is sent")
        time.sleep(0.02)


def tmp_notebook(root: Path, proc: subprocess.Popen, name: str) -> bool:
    """The batch's temporary copy of notebook ``name`` exists (papermill writes it once the
    notebook has run: the next stage is starting)."""
    folder = root / "outputs" / f".tmp-{PERIOD}-{proc.pid}" / PERIOD / "notebooks"
    return (folder / name).is_file()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """A copy of the sample's raw folder and the outputs of a complete run of PERIOD."""
    root = tmp_path_factory.mktemp("signals")
    shutil.copytree(paths.RAW_DIR, root / "raw")
    done = subprocess.run(command(root), env=_env(), capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    assert sorted(p.name for p in (root / "outputs").iterdir()) == [PERIOD]
    return root


@pytest.fixture
def project(previous, tmp_path):
    """A fresh copy of the raw folder and of the previous outputs, for one test."""
    root = tmp_path / "p"
    for name in ("raw", "processed", "outputs"):
        shutil.copytree(previous / name, root / name, symlinks=True)
    return root


def check_stopped(
    root: Path, proc: subprocess.Popen, procs: dict[int, str], before: dict, code: int, words: str
):
    """Wait for the end, then check the exit code, the message, the folders, the processes."""
    try:
        out, err = proc.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        out, err = kill_all(proc, procs)
        pytest.fail(f"no exit {STOP_TIMEOUT} s after the signal: {err.decode()[-2000:]}")
    left = still_running(procs, proc.pid)
    if left:  # checked below, once they had a moment to be reaped; never left running
        time.sleep(5)
        left = still_running(procs, proc.pid)
        kill_all(proc, procs)
    text = err.decode("utf-8")
    assert proc.returncode == code, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text  # one message, nothing else
    assert lines[0].startswith(words), text
    assert "Không có kết quả nào bị ghi dở" in lines[0] and "chạy lại lệnh" in lines[0]
    assert "Traceback" not in text and "Error" not in text and "Kernel" not in text
    # run: <output-dir>/_logs/run.log; clean: <processed-dir>/_logs/clean.log
    name = "run" if "run" in proc.args else "clean"
    log_file = root / ("outputs" if name == "run" else "processed") / "_logs" / f"{name}.log"
    assert str(log_file) in lines[0]
    details = log_file.read_text(encoding="utf-8")
    assert signal.Signals(code - 128).name in details and "Traceback" in details
    # nothing half-written, nothing left over
    assert leftovers(root / "processed") == []
    if (root / "outputs").is_dir():
        assert leftovers(root / "outputs") == []
        assert sorted(p.name for p in (root / "outputs").iterdir()) == [PERIOD, "_logs"]
    assert {name: snapshot(root / name / PERIOD) for name in before} == before
    assert left == []  # nothing left running: kernels, the workers they forked
    return lines[0]


def previous_outputs(root: Path, *names: str) -> dict:
    return {name: snapshot(root / name / PERIOD) for name in names}


# --------------------------------------------------------------------------- run


def test_ctrl_c_while_cleaning(project):
    """SIGINT while 10_clean runs in its kernel (reading the raw files with the workers its
    cleaning forks: the cache is gone)."""
    before = previous_outputs(project, "outputs", "processed")
    shutil.rmtree(project / "processed" / "_cache")  # the cleaning has files to read again
    proc = subprocess.Popen(
        command(project), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    # the cleaning, in the kernel, stores what it learns of the files as it reads them
    wait_for((project / "processed" / "_cache").is_dir, STARTUP_TIMEOUT, proc)
    procs = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    line = check_stopped(project, proc, procs, before, 130, "Đã dừng theo yêu cầu (Ctrl+C)")
    assert f"kỳ {PERIOD}" in line and "10_clean.ipynb" in line


def test_sigterm_while_analyses_run_side_by_side(project):
    """SIGTERM while the notebooks of stage 20-89 run in threads, two kernels at once."""
    before = previous_outputs(project, "outputs", "processed")
    proc = subprocess.Popen(
        command(project), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for(lambda: tmp_notebook(project, proc, "10_clean.ipynb"), STARTUP_TIMEOUT, proc)
    procs = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    line = check_stopped(
        project, proc, procs, before, 143, "Đã dừng vì nhận tín hiệu kết thúc (SIGTERM)"
    )
    assert f"kỳ {PERIOD}" in line


def test_a_second_signal_does_not_interrupt_the_cleanup(project):
    """Ctrl+C, then SIGTERM while the first stop cleans up: the first one is reported, and the
    cleanup still ends."""
    before = previous_outputs(project, "outputs", "processed")
    proc = subprocess.Popen(
        command(project), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    tmp = project / "outputs" / f".tmp-{PERIOD}-{proc.pid}"
    wait_for(tmp.is_dir, STARTUP_TIMEOUT, proc)
    wait_for(lambda: bool(descendants(proc.pid)), STARTUP_TIMEOUT, proc)  # a kernel starts
    procs = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    check_stopped(project, proc, procs, before, 130, "Đã dừng theo yêu cầu (Ctrl+C)")


@pytest.mark.parametrize(
    "to_group, signum, code, words",
    [
        (False, signal.SIGTERM, 143, "Đã dừng vì nhận tín hiệu kết thúc (SIGTERM)"),
        # Ctrl+C at a terminal: SIGINT to every process of the foreground group
        (True, signal.SIGINT, 130, "Đã dừng theo yêu cầu (Ctrl+C)"),
    ],
    ids=["sigterm", "ctrl-c-to-the-group"],
)
def test_a_stop_ends_the_worker_processes_of_parallel_periods(
    project, to_group, signum, code, words
):
    """Two periods at once (--jobs 2: a worker process each, their kernels below them): the
    command stops its workers in order (they ignore Ctrl+C and stop on its SIGTERM)."""
    before = previous_outputs(project, "outputs", "processed")
    args = command(project, "run", "--period", "2024-06-24", "--jobs", "2")
    proc = subprocess.Popen(
        args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )

    def started() -> bool:  # both periods have begun, each worker has started a kernel
        tmp = sum(p.name.startswith(".tmp-") for p in (project / "outputs").iterdir())
        below = descendants(proc.pid)
        workers = [p for p in below if (_stat(p) or (0,))[0] == proc.pid]
        kernels = [p for p in below if (_stat(p) or (0,))[0] in workers]
        return tmp == 2 and len(kernels) >= 2

    wait_for(started, STARTUP_TIMEOUT, proc)
    procs = descendants(proc.pid)
    if to_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    line = check_stopped(project, proc, procs, before, code, words)
    assert "2024-06-24" in line
    assert not (project / "outputs" / "2024-06-24").exists()


# --------------------------------------------------------------------------- clean


def test_sigterm_during_the_cleaning_command(project):
    """``python -m analysis clean``: the cleaning runs in the command's own process, with
    the worker processes it forks to read the files."""
    before = previous_outputs(project, "processed")
    shutil.rmtree(project / "outputs")
    shutil.rmtree(project / "processed" / "_cache")  # the workers then have files to read
    proc = subprocess.Popen(
        command(project, "clean"),
        env={**_env(), "ANALYSIS_JOBS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: bool(descendants(proc.pid)), STARTUP_TIMEOUT, proc)  # the readers
    procs = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    line = check_stopped(
        project, proc, procs, before, 143, "Đã dừng vì nhận tín hiệu kết thúc (SIGTERM)"
    )
    assert f"làm sạch kỳ {PERIOD}" in line


def test_unexpected_error_is_one_message_and_a_log(tmp_path):
    """An error no stage expected: one Vietnamese line naming what was being done, the
    traceback only in the log file, exit code 3."""
    script = (
        "import sys\n"
        "from analysis import clean, cli\n"
        "def broken(*a, **k):\n"
        "    raise KeyError('cột_không_có')\n"
        "clean.clean_period = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    processed = tmp_path / "processed"
    args = [sys.executable, "-c", script, "clean", "--period", PERIOD]
    args += ["--raw-dir", str(paths.RAW_DIR), "--processed-dir", str(processed)]
    done = subprocess.run(args, env=_env(), capture_output=True, timeout=120)
    text = done.stderr.decode("utf-8")
    assert done.returncode == 3, text
    lines = text.strip().splitlines()
    log_file = processed / "_logs" / "clean.log"
    assert len(lines) == 1 and "Traceback" not in text and "cột_không_có" not in text
    assert lines[0].startswith(f"Lỗi không lường trước lúc đang làm sạch kỳ {PERIOD}")
    assert str(log_file) in lines[0]
    details = log_file.read_text(encoding="utf-8")
    assert "Traceback" in details and "KeyError: 'cột_không_có'" in details
    assert not (processed / PERIOD).exists()


# --------------------------------------------------------------------------- mechanisms


def test_a_signal_inside_deferred_waits_for_its_end(tmp_path):
    """The two renames of a swap: SIGTERM inside ``stops.deferred`` takes effect at its end."""
    script = (
        "import os, signal, sys\n"
        "from analysis.core import stops\n"
        f"stops.set_log({str(tmp_path / 'x.log')!r}, 'x')\n"
        "def body(argv):\n"
        "    with stops.deferred():\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        print('inside, after the signal', flush=True)\n"
        "    print('never here', flush=True)\n"
        "sys.exit(stops.run('x', body, []))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=_env(), capture_output=True, timeout=60
    )
    assert done.returncode == 143
    assert done.stdout.decode() == "inside, after the signal\n"
    assert done.stderr.decode().startswith("Đã dừng vì nhận tín hiệu kết thúc (SIGTERM).")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_process_are_undone(tmp_path):
    """A process killed between the two renames of a swap leaves the previous folder aside:
    it comes back. Its temporary folder and cache files go; a live process's stay."""
    dead, alive = _dead_pid(), os.getpid()
    (tmp_path / f".old-{PERIOD}-{dead}").mkdir()
    (tmp_path / f".old-{PERIOD}-{dead}" / "quality.json").write_text("{}")
    (tmp_path / f".tmp-{PERIOD}-{dead}").mkdir()
    (tmp_path / f".tmp-{PERIOD}-{alive}").mkdir()
    (tmp_path / f".tmp-2024-06-24-{dead}").mkdir()  # another period: not asked for
    cache = tmp_path / "_cache" / "history"
    cache.mkdir(parents=True)
    (cache / f".{PERIOD}.parquet.{dead}.tmp").write_bytes(b"half")
    (cache / f".{PERIOD}.parquet.{alive}.tmp").write_bytes(b"being written")
    (cache / f"{PERIOD}.parquet").write_bytes(b"entry")
    paths.remove_leftovers(tmp_path, PERIOD)
    assert (tmp_path / PERIOD / "quality.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [PERIOD, "_cache", f".tmp-{PERIOD}-{alive}", f".tmp-2024-06-24-{dead}"]
    )
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [f".{PERIOD}.parquet.{alive}.tmp", f"{PERIOD}.parquet"]
    )
    # with the folder in place, a previous version aside is only removed
    (tmp_path / f".old-{PERIOD}-{dead}").mkdir()
    paths.remove_leftovers(tmp_path, PERIOD)
    assert (tmp_path / PERIOD / "quality.json").is_file()
    assert not (tmp_path / f".old-{PERIOD}-{dead}").exists()


def test_a_notebook_failure_is_shown_in_vietnamese(tmp_path):
    """A failing notebook is still reported as before (notebook, cell, what to do); the
    suite's own errors without their class name, a dead kernel in Vietnamese."""
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from analysis import batch
    from analysis.core import stops

    stops.set_log(tmp_path / "_logs" / "run.log", "run")
    advice = "Không đọc được tệp “2024-04-19/Hong.xlsx”: tệp bị hỏng. Hãy lưu lại rồi chạy lại."
    own = PapermillExecutionError(3, 3, "clean_period(...)", "IngestError", advice, [])
    text = batch.failure_message(PERIOD, "10_clean.ipynb", own, None)
    assert text.startswith(f"Kỳ {PERIOD}: notebook 10_clean.ipynb lỗi ở ô In [3] (ô thứ 4")
    assert advice in text and "IngestError" not in text and ".." not in text
    bug = PapermillExecutionError(4, 4, "x", "ValueError", "Cột Chữ ký số bị thiếu", [])
    assert "ValueError: Cột Chữ ký số bị thiếu" in batch.failure_message(PERIOD, "a", bug, None)
    died = batch.failure_message(PERIOD, "20_coverage.ipynb", DeadKernelError("Kernel died"), None)
    assert "kernel dừng đột ngột" in died and "Kernel died" not in died and "Error" not in died
    assert "DeadKernelError: Kernel died" in (tmp_path / "_logs" / "run.log").read_text("utf-8")
