"""Where the time of ``python -m analysis run`` goes.

    .venv/bin/python benchmarks/bench_batch.py [--period 2024-04-19] [--repeat 3] [--skip-all]

Prints one table: the fixed costs (python + papermill import, kernel start, heavy imports in
a kernel, saving/normalising an executed notebook); one period (median of ``--repeat``) as a
first run into an empty processed folder and as the office's usual run, where the history of
the earlier folders is already in ``processed/_cache`` (target 15 s), with the time per
notebook and the same run with one notebook at a time and without kernels started ahead; and
all periods with ``--all`` against ``single run × periods / cores + 20%`` (the first run and
the next run as the single run). Runs into a
temporary folder; data/raw is only read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import batch, paths
from analysis.batch import kernels, notebooks
from analysis.batch.config import ENGINE_NAME

batch.light_nbformat()
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

TARGET_S = 15.0  # issue 6: one period's batch on a 2-core machine

HEAVY = (
    "import pandas, pyarrow.parquet, matplotlib.pyplot, seaborn, docx, docxtpl, xlsxwriter\n"
    "import pandera.pandas, rapidfuzz, babel.numbers"
)


def _timed(fn, repeat: int) -> float:
    values = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        values.append(time.perf_counter() - t0)
    return statistics.median(values)


def _notebook(path: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


def _papermill(src: Path, dst: Path, engine: str | None) -> None:
    kernels.register_engine()
    pm.execute_notebook(
        str(src),
        str(dst),
        kernel_name="python3",
        language="python",
        progress_bar=False,
        engine_name=engine,
        request_save_on_cell_execute=False,
    )


def _cli(*args: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "--quiet", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
    return time.perf_counter() - t0, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-all", action="store_true", help="skip the --all measurement")
    args = parser.parse_args()
    period = args.period or paths.latest_period(paths.RAW_DIR)
    periods = paths.list_periods(paths.RAW_DIR)
    cores = os.cpu_count() or 1
    rows: list[tuple[str, str]] = []

    def add(label: str, seconds: float, note: str = "") -> None:
        rows.append((label, f"{seconds:7.2f} s  {note}"))
        print(f"  {label:<58} {seconds:7.2f} s  {note}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        code = "import papermill"
        for label, prefix in (
            ("python + import papermill (as installed)", ""),
            ("python + import papermill (rfc3987_syntax blocked)", "import sys; "),
        ):
            block = "sys.modules['rfc3987_syntax'] = None; " if prefix else ""
            add(
                label,
                _timed(
                    lambda b=block, p=prefix: subprocess.run(
                        [sys.executable, "-c", p + b + code], check=True
                    ),
                    args.repeat,
                ),
            )
        empty = _notebook(tmp / "empty.ipynb", "1")
        heavy = _notebook(tmp / "heavy.ipynb", HEAVY)
        t_empty_tcp = _timed(lambda: _papermill(empty, tmp / "o.ipynb", None), args.repeat)
        add("papermill, empty notebook, stock engine (tcp)", t_empty_tcp, "kernel start+stop")
        t_empty = _timed(lambda: _papermill(empty, tmp / "o.ipynb", ENGINE_NAME), args.repeat)
        add("papermill, empty notebook, batch engine (ipc)", t_empty, "kernel start+stop")
        t_heavy = _timed(lambda: _papermill(heavy, tmp / "o.ipynb", ENGINE_NAME), args.repeat)
        add("heavy imports in a kernel (pandas, matplotlib, ...)", t_heavy - t_empty)

        raw = ["--raw-dir", str(paths.RAW_DIR)]
        runs = iter(range(10_000))

        def one(*extra: str, processed: Path | None = None) -> tuple[float, int, Path]:
            """One period into a new output folder; a new processed folder unless given."""
            n = next(runs)
            out = tmp / f"o{n}"
            proc = processed or tmp / f"p{n}"
            seconds, rc = _cli(
                "--period",
                period,
                "--output-dir",
                str(out),
                "--processed-dir",
                str(proc),
                *raw,
                *extra,
            )
            return seconds, rc, out

        def median_of(*extra: str, processed: Path | None = None) -> tuple[float, int, Path]:
            done = [one(*extra, processed=processed) for _ in range(args.repeat)]
            done.sort(key=lambda item: item[0])
            return done[len(done) // 2]

        first, rc, _ = median_of()
        add(
            f"one period {period}, first run (empty processed folder)",
            first,
            f"exit {rc}; target 15 s: {'ok' if first <= TARGET_S else 'over'}",
        )
        office = tmp / "office-processed"
        one(processed=office)  # an earlier run of the period (or of the periods before it)
        next_run, rc, out = median_of(processed=office)
        add(
            f"one period {period}, next run (history of earlier folders cached)",
            next_run,
            f"exit {rc}; target 15 s: {'ok' if next_run <= TARGET_S else 'over'}",
        )
        manifest_path = out / period / "manifest.json"
        if manifest_path.is_file():
            import json

            timings = json.loads(manifest_path.read_text(encoding="utf-8"))["timings"]
            for name, seconds in timings["notebooks"].items():
                add(f"  {name}", seconds, "(next run, from the manifest; 20 and 30 together)")
            executed = out / period / "notebooks" / "20_coverage.ipynb"
            if executed.is_file():
                copy = tmp / "executed.ipynb"
                copy.write_bytes(executed.read_bytes())
                add(
                    "  read + normalise + write executed 20_coverage.ipynb",
                    _timed(lambda: notebooks.finish_notebook(copy, set(), "/x", "/y"), args.repeat),
                    f"{executed.stat().st_size // 1024} KB, figures embedded",
                )
        serial, rc, _ = median_of("--notebook-jobs", "1", processed=office)
        add("  same, one notebook at a time (--notebook-jobs 1)", serial, f"exit {rc}")
        cold_kernels, rc, _ = median_of("--no-prewarm", processed=office)
        add("  same, no kernel started ahead (--no-prewarm)", cold_kernels, f"exit {rc}")
        if not args.skip_all:
            all_time, rc = _cli(
                "--all",
                "--output-dir",
                str(tmp / "all"),
                "--processed-dir",
                str(tmp / "all-processed"),
                *raw,
            )
            add(
                f"--all: {len(periods)} periods on {cores} cores (empty processed)",
                all_time,
                f"exit {rc}",
            )
            for label, single in (("first run", first), ("next run", next_run)):
                estimate = single * len(periods) / min(cores, len(periods)) * 1.2
                verdict = "ok" if all_time <= estimate else "over"
                add(f"   bound: {label} x periods / cores + 20%", estimate, verdict)

    print("\n| measure | time |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value.strip()} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
