"""Where the time of ``python -m analysis run`` goes.

    .venv/bin/python benchmarks/bench_batch.py [--period 2024-04-19] [--repeat 3] [--skip-all]

Prints one table: the fixed costs (python + papermill import, kernel start, heavy imports in
a kernel, saving/normalising an executed notebook), one period (with and without the warm
kernel pipeline of analysis.batch) and all periods with ``--all`` against the estimate
``single × periods / cores + 20%``. Runs into a temporary folder; data/raw is only read.
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

batch._light_nbformat()
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

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
    batch._register_engine()
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
        t_empty = _timed(lambda: _papermill(empty, tmp / "o.ipynb", batch.ENGINE_NAME), args.repeat)
        add("papermill, empty notebook, batch engine (ipc)", t_empty, "kernel start+stop")
        t_heavy = _timed(lambda: _papermill(heavy, tmp / "o.ipynb", batch.ENGINE_NAME), args.repeat)
        add("heavy imports in a kernel (pandas, matplotlib, ...)", t_heavy - t_empty)
        out_nb = tmp / "o.ipynb"
        add(
            "read + normalise + write an executed notebook",
            _timed(lambda: batch._finish_notebook(out_nb, set(), "/x", "/y"), args.repeat),
        )

        common = ["--raw-dir", str(paths.RAW_DIR), "--processed-dir", str(tmp / "processed")]
        single_warm, rc = _cli("--period", period, "--output-dir", str(tmp / "o1"), *common)
        add(f"one period {period}, warm kernels (default)", single_warm, f"exit {rc}")
        single_cold, rc = _cli(
            "--period", period, "--output-dir", str(tmp / "o2"), "--no-prewarm", *common
        )
        add(f"one period {period}, a cold kernel per notebook", single_cold, f"exit {rc}")
        manifest_path = tmp / "o1" / period / "manifest.json"
        if manifest_path.is_file():
            import json

            timings = json.loads(manifest_path.read_text(encoding="utf-8"))["timings"]
            for name, seconds in sorted(timings["notebooks"].items()):
                add(f"  {name}", seconds, "(warm run, from the manifest)")
        if not args.skip_all:
            all_time, rc = _cli("--all", "--output-dir", str(tmp / "o3"), *common)
            estimate = single_warm * len(periods) / min(cores, len(periods)) * 1.2
            verdict = "ok" if all_time <= estimate else "over"
            add(f"--all: {len(periods)} periods on {cores} cores", all_time, f"exit {rc}")
            add("   estimate single x periods / cores + 20%", estimate, verdict)

    print("\n| measure | time |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value.strip()} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
