"""A Hà Nội-size province after the reform: cleaning, the province report, every commune report.

    .venv/bin/python benchmarks/bench_units.py          # 126 communes, 2954 schools, 140000 staff
    .venv/bin/python benchmarks/bench_units.py --quick   # smoke run: 6 communes, 150 schools
    .venv/bin/python benchmarks/bench_units.py --format csv --work /srv/tmp --keep

Not a test (never run by ``make test``). Steps, each in its own child process:

1. ``analysis.sample.province.write_province`` writes the province into ``<work>/raw``
   (timed apart: it is not part of the target).
2. ``python -m analysis clean --period P`` once (the cleaning of the whole province).
3. ``python -m analysis run --period P``: the province's report (the batch cleans again in its
   first notebook, as an office's run does).
4. When ``python -m analysis run --help`` offers ``--per-commune`` (issue 14's fan-out):
   ``python -m analysis run --period P --per-commune``, the province report and one report per
   commune; the commune reports written under ``outputs/P/xa/*/`` are counted, and the cost per
   commune report is ``(fan-out wall time - province run wall time) / communes``. Without the
   option the step is skipped and the result says so.

Measured per step: wall time, the peak of the summed resident memory of the child and all its
descendants (papermill kernels included; ``/proc/<pid>/status`` VmRSS sampled every 0,1 s, so
a peak shorter than that can be missed), and the child's own peak (``wait4`` ``ru_maxrss``,
the largest single process of the tree; the parent never imports pandas, so the fork carries
no large peak into it). Target (issue 14): steps 2 to 4 together <= 5 min and <= 4 GB.
Results: ``benchmarks/results/bench_units.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2025-12-12"
TARGET_S = 300.0
TARGET_MB = 4096.0


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(d))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(root: int) -> int:
    tree = _children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(tree.get(pid, []))
    return total


def measure(label: str, cmd: list[str], env: dict, log: Path) -> dict:
    """Run ``cmd``; wall time, peak summed RSS of its tree, its own ru_maxrss, exit code."""
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        peak = [0]
        done = threading.Event()

        def poll() -> None:
            have_proc = os.path.isdir("/proc")
            while have_proc and not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

        th = threading.Thread(target=poll, daemon=True)
        th.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        th.join()
    wall = time.perf_counter() - t0
    res = {
        "step": label,
        "command": " ".join(cmd[2:] if cmd[1] == "-m" else cmd[1:]),
        "wall_s": round(wall, 2),
        "peak_tree_mb": round(peak[0] / 1024, 1) if peak[0] else None,
        "peak_process_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
        "log": str(log),
    }
    print(
        f"{label:<22} {wall:8.1f} s  tree {res['peak_tree_mb']} MB  "
        f"process {res['peak_process_mb']} MB  exit {proc.returncode}",
        flush=True,
    )
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 communes, 150 schools, 3000 staff")
    ap.add_argument("--communes", type=int, default=None)
    ap.add_argument("--schools", type=int, default=None)
    ap.add_argument("--staff", type=int, default=None)
    ap.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    ap.add_argument("--work", default=None, help="where the province goes (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--jobs", type=int, default=None, help="passed to analysis run --jobs")
    args = ap.parse_args(argv)
    size = (6, 150, 3000) if args.quick else (126, 2954, 140_000)
    n_communes = args.communes or size[0]
    n_schools = args.schools or size[1]
    n_staff = args.staff or size[2]
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_units_"))
    raw, processed, outputs = work / "raw", work / "processed", work / "outputs"
    for d in (raw, processed, outputs):
        shutil.rmtree(d, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    results_dir = Path(args.out)
    results_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    py = sys.executable
    print(f"Tỉnh mẫu: {n_communes} xã, {n_schools} trường, {n_staff} CBGVNV -> {work}")
    steps = []
    gen = (
        "import json,sys; from analysis.sample.province import write_province; "
        f"info = write_province({str(raw)!r}, n_communes={n_communes}, n_schools={n_schools}, "
        f"n_staff={n_staff}, fmt={args.format!r}, period={PERIOD!r}); "
        f"open({str(work / 'province_info.json')!r}, 'w').write(json.dumps(info))"
    )
    steps.append(measure("generate (not timed)", [py, "-c", gen], env, work / "generate.log"))
    info = json.loads((work / "province_info.json").read_text())
    common = ["--raw-dir", str(raw), "--processed-dir", str(processed)]
    steps.append(
        measure(
            "clean",
            [py, "-m", "analysis", "clean", "--period", PERIOD, *common],
            env,
            work / "clean.log",
        )
    )
    run = [py, "-m", "analysis", "run", "--period", PERIOD, *common, "--output-dir"]
    if args.jobs:
        run_tail = ["--jobs", str(args.jobs), "--quiet"]
    else:
        run_tail = ["--quiet"]
    steps.append(
        measure("province report", [*run, str(outputs / "tinh"), *run_tail], env, work / "run.log")
    )
    helptext = subprocess.run(
        [py, "-m", "analysis", "run", "--help"], env=env, capture_output=True, text=True, cwd=ROOT
    ).stdout
    fan_out = "--per-commune" in helptext
    commune_reports = None
    if fan_out:
        fan = measure(
            "province + communes",
            [*run, str(outputs / "xa"), "--per-commune", *run_tail],
            env,
            work / "per_commune.log",
        )
        steps.append(fan)
        commune_reports = len(list((outputs / "xa" / PERIOD / "xa").glob("*/*.docx")))
        fan["commune_reports"] = commune_reports
        fan["per_commune_s"] = round((fan["wall_s"] - steps[2]["wall_s"]) / max(1, n_communes), 3)
    else:
        print(
            "--per-commune chưa có trong 'python -m analysis run': chỉ đo làm sạch và báo cáo tỉnh."
        )
    measured = [s for s in steps[1:] if s["step"] != "province report" or not fan_out]
    total_s = sum(s["wall_s"] for s in measured)
    peak_mb = max((s["peak_tree_mb"] or s["peak_process_mb"]) for s in steps[1:])
    summary = {
        "province": {k: info[k] for k in ("n_communes", "n_schools", "n_school_rows", "n_staff")},
        "format": args.format,
        "cpu_count": os.cpu_count(),
        "fan_out_available": fan_out,
        "commune_reports": commune_reports,
        "total_s": round(total_s, 1),
        "peak_mb": peak_mb,
        "target": {"seconds": TARGET_S, "mb": TARGET_MB},
        "pass": total_s <= TARGET_S and peak_mb <= TARGET_MB and fan_out,
        "steps": steps,
    }
    (results_dir / "bench_units.json").write_text(json.dumps(summary, indent=1) + "\n")
    lines = [
        "# bench_units",
        "",
        f"Province: {info['n_communes']} communes, {info['n_schools']} schools "
        f"({info['n_school_rows']} school-level rows), {info['n_staff']} staff, {args.format}; "
        f"{os.cpu_count()} cores.",
        "",
        "| step | wall s | peak tree MB | peak process MB | exit |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s['step']} | {s['wall_s']} | {s['peak_tree_mb']} | {s['peak_process_mb']} | "
        f"{s['exit']} |"
        for s in steps
    ]
    lines.append("")
    if fan_out:
        lines.append(
            f"Commune reports written: {commune_reports}; cost per commune report "
            f"{steps[-1]['per_commune_s']} s."
        )
    else:
        lines.append(
            "The `--per-commune` fan-out is not available: only cleaning and the "
            "province run were measured."
        )
    verdict = "PASS" if summary["pass"] else "MISS" if fan_out else "INCOMPLETE (no fan-out)"
    lines.append(
        f"{verdict}: clean + reports {total_s:.1f} s (target {TARGET_S:.0f} s), peak "
        f"{peak_mb} MB (target {TARGET_MB:.0f} MB)."
    )
    (results_dir / "bench_units.md").write_text("\n".join(lines) + "\n")
    print(lines[-1])
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    failed = [s for s in steps if s["exit"] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
