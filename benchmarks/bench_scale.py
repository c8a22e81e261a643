"""Scale benchmark: cleaning and metrics from ten thousand to 1,66 million staff rows.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000,100000,166000,1660000]
        [--repeat 3] [--xlsx-rows 100000] [--quick] [--out benchmarks/results/]
        [--work DIR] [--profile]

Synthetic national-size raw folders are written once per size with
``analysis.sample.large.write_large`` (outside the timing), then every measurement runs in a
fresh Python process (this script with ``--child``), which reports the wall time of the measured
call and its own peak resident memory (``ru_maxrss``), so that memory is per measurement.

Measures: cleaning N staff rows from CSV (``clean.clean_period``), the time ratio between sizes
that differ by 10x, reading one ``.xlsx`` of ``--xlsx-rows`` staff rows with python-calamine and
with openpyxl, and the metric computations on the largest cleaned table (``load_processed`` +
``compute_coverage`` + ``compute_scale``, no figures). Prints a table and one PASS/MISS line per
target, and writes ``bench_scale.json`` and ``bench_scale.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (10_000, 100_000, 166_000, 1_660_000)
QUICK_SIZES = (2_000, 20_000)
QUICK_XLSX_ROWS = 2_000
DEFAULT_XLSX_ROWS = 100_000
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
# A fixed pseudonymisation key: the benchmark never reads or creates the user's key file.
BENCH_KEY = b"bench-scale-key-not-secret-32byt"

# Targets of the brief.
TARGET_CLEAN_ROWS = 1_660_000
TARGET_CLEAN_S = 30.0
TARGET_CLEAN_MB = 4096.0
TARGET_LINEAR = 12.0  # 10x rows -> at most 12x time
TARGET_XLSX_SPEEDUP = 3.0  # calamine at least 3x faster than openpyxl
TARGET_METRICS_S = 5.0


# --------------------------------------------------------------------------------------------
# Child side: one measurement in this process, printed as one JSON line
# --------------------------------------------------------------------------------------------


def _peak_mb() -> float:
    """Peak resident memory of this process in MB.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's own
    memory since ``exec``. ``ru_maxrss`` is not used there: the kernel carries the parent's peak
    into a child across fork/vfork + exec, so a child of a big parent would report the parent's
    memory. Elsewhere ``ru_maxrss`` (KB on Linux, bytes on macOS), an upper bound.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _job_clean(job: dict) -> dict:
    from analysis import clean

    t0 = time.perf_counter()
    result = clean.clean_period(job["period"], job["raw"], job["processed"], key=BENCH_KEY)
    wall = time.perf_counter() - t0
    return {"wall_s": wall} | cleaned_totals(result.quality)


def _job_metrics(job: dict) -> dict:
    from analysis import metrics

    t0 = time.perf_counter()
    processed = metrics.load_processed(job["processed"])
    t_load = time.perf_counter() - t0
    tables = metrics.compute_coverage(processed, job["period"])
    tables |= metrics.compute_scale(processed)
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "load_s": t_load,
        "staff_rows": int(len(processed.staff)),
        "tables": {name: int(len(df)) for name, df in sorted(tables.items())},
    }


def _job_calamine(job: dict) -> dict:
    from python_calamine import CalamineWorkbook

    t0 = time.perf_counter()
    rows = CalamineWorkbook.from_path(job["path"]).get_sheet_by_index(0).to_python()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "rows": len(rows), "cells": sum(len(r) for r in rows)}


def _job_openpyxl(job: dict) -> dict:
    from openpyxl import load_workbook

    t0 = time.perf_counter()
    wb = load_workbook(job["path"], read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "rows": len(rows), "cells": sum(len(r) for r in rows)}


def _job_profile(job: dict) -> dict:
    """Cleaning under cProfile; writes the top functions (cumulative and own time)."""
    import cProfile
    import io
    import pstats

    from analysis import clean

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    clean.clean_period(job["period"], job["raw"], job["processed"], key=BENCH_KEY)
    prof.disable()
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs()
    for order in ("cumulative", "tottime"):
        buf.write(f"\n===== sorted by {order} =====\n")
        stats.sort_stats(order).print_stats(job.get("top", 40))
    Path(job["report"]).write_text(buf.getvalue(), encoding="utf-8")
    return {"wall_s": wall, "report": job["report"]}


def _job_generate(job: dict) -> dict:
    from analysis.sample.large import write_large

    t0 = time.perf_counter()
    info = write_large(job["root"], job["size"], fmt=job["fmt"])
    info["gen_s"] = time.perf_counter() - t0
    info["wall_s"] = info["gen_s"]
    root = Path(job["root"])
    info["bytes"] = sum((root / f["file"]).stat().st_size for f in info["files"])
    return info


# Functions timed by the breakdown job ("module:qualname"), inclusive wall time per call.
# Names that no longer exist (the modules change) are skipped, not an error.
BREAKDOWN = (
    "ingest:read_period",
    "ingest:_probe_file",
    "ingest:_finish",
    "ingest:_Cells.__init__",
    "ingest:_read_csv_arrow",
    "ingest:_classify_rows",
    "ingest:_total_mask",
    "ingest:_clean_values",
    "ingest:_blank_frame",
    "clean:clean_schools",
    "clean:_signatures",
    "clean:_staff_rows",
    "clean:_stack",
    "clean:_match",
    "match:match_schools",
    "privacy:normalise_staff_id",
    "privacy:person_key",
    "parse:parse_status",
    "parse:parse_role",
    "parse:parse_date_vn",
    "parse:parse_provider",
    "parse:parse_int_vn",
    "clean:_display",
    "clean:_is_text_cell",
    "clean:_is_number_cell",
    "text:clean_text_series",
    "text:fold_series",
    "clean:_Checks.add",
    "clean:_Checks.quarantine",
    "clean:dedup_staff",
    "clean:resolve_signatures",
    "clean:_history",
    "schemas:conform",
    "schemas:validate",
    "clean:_write_outputs",
)


def _instrument(targets: tuple[str, ...]) -> dict[str, list[float]]:
    """Wrap each target with a wall-clock timer (in its module and wherever it was imported
    by name into another ``analysis`` module). Returns {target: [calls, seconds]}."""
    import functools
    import importlib

    times: dict[str, list[float]] = {}
    for target in targets:
        mod_name, qual = target.split(":")
        mod = importlib.import_module(f"analysis.{mod_name}")
        owner = mod
        *outer, name = qual.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name, None)
        if original is None:
            continue
        slot = times.setdefault(target, [0, 0.0])

        def wrapper(*a, __f=original, __slot=slot, **kw):
            t0 = time.perf_counter()
            try:
                return __f(*a, **kw)
            finally:
                __slot[0] += 1
                __slot[1] += time.perf_counter() - t0

        wrapper = functools.wraps(original)(wrapper)
        setattr(owner, name, wrapper)
        if not outer:
            for other in list(sys.modules.values()):
                if getattr(other, "__name__", "").startswith("analysis") and (
                    getattr(other, name, None) is original
                ):
                    setattr(other, name, wrapper)
    return times


def _job_breakdown(job: dict) -> dict:
    """Cleaning with timers around the main steps (no profiler overhead)."""
    from analysis import clean

    times = _instrument(BREAKDOWN)
    t0 = time.perf_counter()
    clean.clean_period(job["period"], job["raw"], job["processed"], key=BENCH_KEY)
    wall = time.perf_counter() - t0
    steps = [{"step": k, "calls": int(v[0]), "seconds": v[1]} for k, v in times.items() if v[0]]
    return {"wall_s": wall, "steps": steps}


JOBS = {
    "generate": _job_generate,
    "clean": _job_clean,
    "metrics": _job_metrics,
    "calamine": _job_calamine,
    "openpyxl": _job_openpyxl,
    "profile": _job_profile,
    "breakdown": _job_breakdown,
}


def child_main(job_json: str) -> int:
    job = json.loads(job_json)
    out = JOBS[job["job"]](job)
    out["peak_mb"] = _peak_mb()
    print("BENCH-RESULT " + json.dumps(out, sort_keys=True), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# Parent side: helpers (small and testable)
# --------------------------------------------------------------------------------------------


class BenchError(RuntimeError):
    """A measurement failed or its row accounting did not balance."""


def cleaned_totals(quality: dict) -> dict:
    """Row totals of one cleaning run, from its ``quality.json`` content."""
    by_kind: dict[str, dict[str, int]] = {}
    for item in quality.get("inputs", []):
        acc = by_kind.setdefault(item["kind"], {"rows_read": 0, "kept": 0, "quarantined": 0})
        for k in acc:
            acc[k] += int(item[k])
    dups = quality.get("duplicates", {})
    return {
        "inputs": dict(sorted(by_kind.items())),
        "tables": dict(sorted(quality.get("tables", {}).items())),
        "quarantined": int(quality.get("quarantine", {}).get("total", 0)),
        "duplicates_removed": int(dups.get("rows_removed", 0)),
    }


def check_accounting(written: dict, totals: dict) -> list[str]:
    """Differences between what ``write_large`` wrote and what cleaning accounts for.

    Per kind: the data rows written must equal the rows kept + quarantined; the staff table
    must hold the kept staff rows less the duplicates removed; the school table the kept
    school rows. Returns a list of problems (empty when everything balances)."""
    problems = []
    want: dict[str, int] = {}
    for f in written["files"]:
        want[f["kind"]] = want.get(f["kind"], 0) + int(f["rows"])
    for kind, rows in sorted(want.items()):
        got = totals["inputs"].get(kind)
        if got is None:
            problems.append(f"{kind}: {rows} rows written, none read")
            continue
        if got["kept"] + got["quarantined"] != rows:
            problems.append(
                f"{kind}: {rows} rows written, {got['kept']} kept + {got['quarantined']} "
                "quarantined"
            )
    staff_in = totals["inputs"].get("cbgvnv", {}).get("kept", 0)
    staff_out = totals["tables"].get("staff", 0)
    if staff_out + totals["duplicates_removed"] != staff_in:
        problems.append(
            f"staff: {staff_in} kept rows, {staff_out} persons + "
            f"{totals['duplicates_removed']} duplicates"
        )
    schools_in = totals["inputs"].get("truong", {}).get("kept", 0)
    if totals["tables"].get("schools", 0) != schools_in:
        problems.append(f"schools: {schools_in} kept rows, {totals['tables'].get('schools')}")
    return problems


def run_child(job: dict, timeout: float | None = None) -> dict:
    """Run one measurement in a fresh interpreter; return its result plus ``process_s``
    (the child's whole life, imports included)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(job)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    process_s = time.perf_counter() - t0
    line = next(
        (x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH-RESULT ")), None
    )
    if done.returncode or line is None:
        raise BenchError(
            f"measurement {job['job']} failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    out = json.loads(line.removeprefix("BENCH-RESULT "))
    out["process_s"] = process_s
    out["load_before"] = load
    return out


def repeated(job: dict, repeat: int, before=None) -> dict:
    """``repeat`` fresh-process runs of ``job``: median wall time, max peak memory."""
    runs = []
    for _ in range(max(1, repeat)):
        if before is not None:
            before()
        runs.append(run_child(job))
    out = dict(runs[-1])
    out["wall_s"] = statistics.median(r["wall_s"] for r in runs)
    out["wall_runs"] = [r["wall_s"] for r in runs]
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    loads = [r["load_before"] for r in runs if r["load_before"] is not None]
    out["load_before"] = max(loads) if loads else None
    return out


def generate(size: int, root: Path, fmt: str = "csv") -> dict:
    """Write a large synthetic raw folder of ``size`` staff rows into ``root`` (timed, in a
    child process so that this process stays small)."""
    info = run_child({"job": "generate", "root": str(root), "size": size, "fmt": fmt})
    info["gen_peak_mb"] = info.pop("peak_mb")
    for k in ("wall_s", "process_s"):
        info.pop(k, None)
    return info


def linearity(clean_rows: list[dict]) -> list[dict]:
    """Time ratios between measured sizes: every pair whose sizes differ by exactly 10x is a
    target pair; consecutive sizes are listed too (for information)."""
    by_size = {r["size"]: r["wall_s"] for r in clean_rows}
    sizes = sorted(by_size)
    pairs = []
    seen = set()
    for a in sizes:
        for b in sizes:
            if b == 10 * a:
                pairs.append((a, b, True))
                seen.add((a, b))
    for a, b in zip(sizes, sizes[1:], strict=False):
        if (a, b) not in seen:
            pairs.append((a, b, False))
    out = []
    for a, b, target in sorted(pairs):
        t_ratio = by_size[b] / by_size[a] if by_size[a] > 0 else float("inf")
        out.append(
            {
                "small": a,
                "large": b,
                "rows_ratio": b / a,
                "time_ratio": t_ratio,
                # time growth per row growth: 1 = linear
                "per_row_ratio": t_ratio / (b / a),
                "target": target,
            }
        )
    return out


def machine_info() -> dict:
    """Machine and package versions (read without importing the packages)."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    mem_gb = None
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gb = int(line.split()[1]) / 1024 / 1024
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "memory_gb": round(mem_gb, 1) if mem_gb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pandas": ver("pandas"),
        "numpy": ver("numpy"),
        "pyarrow": ver("pyarrow"),
        "python-calamine": ver("python-calamine"),
        "openpyxl": ver("openpyxl"),
    }


def verdicts(results: dict) -> list[dict]:
    """One PASS/MISS line per target (targets that were not measured are left out)."""
    out = []
    clean_rows = {r["size"]: r for r in results["clean"]}
    if TARGET_CLEAN_ROWS in clean_rows:
        r = clean_rows[TARGET_CLEAN_ROWS]
        out.append(
            {
                "target": f"làm sạch {TARGET_CLEAN_ROWS:,} dòng ≤ {TARGET_CLEAN_S:g} s",
                "value": f"{r['wall_s']:.1f} s",
                "ok": r["wall_s"] <= TARGET_CLEAN_S,
            }
        )
        out.append(
            {
                "target": f"làm sạch {TARGET_CLEAN_ROWS:,} dòng ≤ {TARGET_CLEAN_MB / 1024:g} GB",
                "value": f"{r['peak_mb']:.0f} MB",
                "ok": r["peak_mb"] <= TARGET_CLEAN_MB,
            }
        )
    for p in results["linearity"]:
        if p["target"]:
            out.append(
                {
                    "target": f"tuyến tính {p['small']:,} -> {p['large']:,} dòng: "
                    f"≤ {TARGET_LINEAR:g}x thời gian",
                    "value": f"{p['time_ratio']:.2f}x",
                    "ok": p["time_ratio"] <= TARGET_LINEAR,
                }
            )
    x = results.get("xlsx")
    if x:
        out.append(
            {
                "target": f"đọc .xlsx {x['rows']:,} dòng: calamine ≥ {TARGET_XLSX_SPEEDUP:g}x "
                "nhanh hơn openpyxl",
                "value": f"{x['speedup']:.1f}x",
                "ok": x["speedup"] >= TARGET_XLSX_SPEEDUP,
            }
        )
    m = results.get("metrics")
    if m:
        out.append(
            {
                "target": f"chỉ số trên {m['staff_rows']:,} CBGVNV ≤ {TARGET_METRICS_S:g} s",
                "value": f"{m['wall_s']:.2f} s",
                "ok": m["wall_s"] <= TARGET_METRICS_S,
            }
        )
    for v in out:
        v["target"] = v["target"].replace(",", ".")
    return out


def _n(v: int) -> str:
    """Integer with Vietnamese thousands dots."""
    return f"{v:,}".replace(",", ".")


def table_rows(results: dict) -> list[list[str]]:
    """The result table as text cells: measure, size, rows, wall s, peak MB, ratio."""
    rows = []
    # the 10x pair ending at a size wins over a consecutive pair ending there
    ratio_at = {p["large"]: p for p in sorted(results["linearity"], key=lambda p: p["target"])}
    for r in results["clean"]:
        p = ratio_at.get(r["size"])
        ratio = f"{p['time_ratio']:.2f}x / {p['rows_ratio']:g}x dòng" if p else ""
        rows.append(
            [
                "làm sạch CSV",
                _n(r["size"]),
                _n(r["rows_in"]),
                f"{r['wall_s']:.2f}",
                f"{r['peak_mb']:.0f}",
                ratio,
            ]
        )
    x = results.get("xlsx")
    if x:
        for lib in ("calamine", "openpyxl"):
            ratio = f"{x['speedup']:.1f}x nhanh hơn" if lib == "calamine" else ""
            rows.append(
                [
                    f"đọc .xlsx ({lib})",
                    _n(x["rows"]),
                    _n(x[lib]["rows"]),
                    f"{x[lib]['wall_s']:.2f}",
                    f"{x[lib]['peak_mb']:.0f}",
                    ratio,
                ]
            )
    m = results.get("metrics")
    if m:
        rows.append(
            [
                "chỉ số (đọc + tính)",
                _n(m["size"]),
                _n(m["staff_rows"]),
                f"{m['wall_s']:.2f}",
                f"{m['peak_mb']:.0f}",
                f"đọc parquet {m['load_s']:.2f} s",
            ]
        )
    return rows


HEADERS = ["phép đo", "cỡ", "số dòng", "thời gian (s)", "bộ nhớ đỉnh (MB)", "tỷ lệ"]


def _load_line(results: dict) -> str:
    """The machine's 1-minute load average seen before the measurements (other work on the
    machine makes times longer: a load near the core count means the times are not clean)."""
    loads = [r.get("load_before") for r in results["clean"]]
    for key in ("metrics",):
        if results.get(key):
            loads.append(results[key].get("load_before"))
    if results.get("xlsx"):
        loads += [results["xlsx"][lib].get("load_before") for lib in ("calamine", "openpyxl")]
    loads = [v for v in loads if v is not None]
    if not loads:
        return "Tải máy: không đo được."
    cores = results["machine"].get("cores") or 1
    note = " (máy bận: thời gian đo bị kéo dài)" if max(loads) >= 0.5 * cores else ""
    return (
        f"Tải máy (load average 1 phút) trước các phép đo: {min(loads):.2f} đến "
        f"{max(loads):.2f} trên {cores} lõi{note}."
    )


def render_markdown(results: dict) -> str:
    """The whole result as a Markdown page (machine, table, targets, generation times)."""
    m = results["machine"]
    lines = [
        "# Kết quả đo hiệu năng theo quy mô (bench_scale)",
        "",
        f"Máy: {m['cpu']}; {m['cores']} lõi (dùng được {m['cores_usable']}); "
        f"RAM {m['memory_gb']} GB; {m['os']}.",
        f"Python {m['python']}, pandas {m['pandas']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}, "
        f"python-calamine {m['python-calamine']}, openpyxl {m['openpyxl']}.",
        f"Lặp {results['repeat']} lần, lấy trung vị thời gian; bộ nhớ đỉnh là lớn nhất của các "
        "lần (mỗi lần một tiến trình mới).",
        "",
        _load_line(results),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(results)]
    lines += ["", "## Mục tiêu", ""]
    for v in results["verdicts"]:
        lines.append(f"- {'PASS' if v['ok'] else 'MISS'}: {v['target']} (đo được {v['value']})")
    lines += ["", "## Sinh dữ liệu (không tính vào phép đo)", ""]
    for g in results["generated"]:
        lines.append(
            f"- {_n(g['n_staff'])} dòng {g['fmt']}: {g['gen_s']:.1f} s, "
            f"{g['bytes'] / 1e6:.0f} MB, {_n(g['n_schools'])} trường, "
            f"{g['files']} tệp"
        )
    bd = results.get("breakdown")
    if bd:
        lines += [
            "",
            f"## Thời gian từng bước: làm sạch {_n(bd['size'])} dòng ({bd['wall_s']:.1f} s)",
            "",
            "Thời gian gồm cả các bước con (các dòng lồng nhau, không cộng dồn).",
            "",
            "| bước | số lần gọi | thời gian (s) |",
            "|---|---|---|",
        ]
        lines += [f"| `{st['step']}` | {st['calls']} | {st['seconds']:.2f} |" for st in bd["steps"]]
    if results.get("profile"):
        lines += ["", f"Hồ sơ cProfile: `{results['profile']}`"]
    return "\n".join(lines) + "\n"


def render_text(results: dict) -> str:
    """The table for the terminal (fixed-width columns)."""
    rows = [HEADERS] + table_rows(results)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    out = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    for v in results["verdicts"]:
        out.append(f"{'PASS' if v['ok'] else 'MISS'}  {v['target']}  (đo được {v['value']})")
    out.append(_load_line(results))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Parent side: the run
# --------------------------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_clean(size: int, work: Path, repeat: int, keep_processed: bool) -> tuple[dict, dict]:
    """Generate ``size`` rows once, clean them ``repeat`` times; return (gen info, result)."""
    raw = work / f"raw_{size}"
    processed = work / f"processed_{size}"
    info = generate(size, raw)
    _log(f"  sinh {_n(size)} dòng: {info['gen_s']:.1f} s ({info['bytes'] / 1e6:.0f} MB)")
    job = {"job": "clean", "period": info["period"], "raw": str(raw), "processed": str(processed)}
    res = repeated(job, repeat, before=lambda: shutil.rmtree(processed, ignore_errors=True))
    problems = check_accounting(info, res)
    if problems:
        raise BenchError(f"cỡ {size}: đối soát số dòng không khớp: {'; '.join(problems)}")
    rows_in = sum(f["rows"] for f in info["files"] if f["kind"] == "cbgvnv")
    row = {
        "size": size,
        "rows_in": rows_in,
        "wall_s": res["wall_s"],
        "wall_runs": res["wall_runs"],
        "process_s": res["process_s"],
        "peak_mb": res["peak_mb"],
        "load_before": res["load_before"],
        "staff_rows": res["tables"].get("staff", 0),
        "schools_rows": res["tables"].get("schools", 0),
        "quarantined": res["quarantined"],
        "duplicates_removed": res["duplicates_removed"],
        "processed": str(processed),
        "period": info["period"],
    }
    _log(
        f"  làm sạch {_n(size)}: {res['wall_s']:.2f} s (các lần {res['wall_runs']}), "
        f"đỉnh {res['peak_mb']:.0f} MB"
    )
    if not keep_processed:
        shutil.rmtree(processed, ignore_errors=True)
        shutil.rmtree(raw, ignore_errors=True)
    return {k: v for k, v in info.items() if k != "files"} | {"files": info["files"]}, row


def bench_xlsx(rows: int, work: Path, repeat: int) -> tuple[dict, dict]:
    raw = work / f"xlsx_{rows}"
    info = generate(rows, raw, fmt="xlsx")
    _log(f"  sinh .xlsx {_n(rows)} dòng: {info['gen_s']:.1f} s ({info['bytes'] / 1e6:.0f} MB)")
    staff_files = [f for f in info["files"] if f["kind"] == "cbgvnv"]
    path = raw / staff_files[0]["file"]
    cal = repeated({"job": "calamine", "path": str(path)}, repeat)
    opx = repeated({"job": "openpyxl", "path": str(path)}, repeat)
    if cal["rows"] != opx["rows"] or cal["rows"] != staff_files[0]["rows"] + 1:
        raise BenchError(
            f"đọc .xlsx: calamine {cal['rows']} dòng, openpyxl {opx['rows']} dòng, "
            f"đã ghi {staff_files[0]['rows']} + 1 dòng tiêu đề"
        )
    _log(f"  calamine {cal['wall_s']:.2f} s, openpyxl {opx['wall_s']:.2f} s")
    shutil.rmtree(raw, ignore_errors=True)
    result = {
        "rows": staff_files[0]["rows"],
        "calamine": cal,
        "openpyxl": opx,
        "speedup": opx["wall_s"] / cal["wall_s"] if cal["wall_s"] > 0 else float("inf"),
    }
    return info, result


def run(
    sizes: list[int],
    repeat: int,
    xlsx_rows: int,
    work: Path,
    profile_dir: Path | None = None,
) -> dict:
    """Every measurement; returns the result dictionary (JSON-ready)."""
    results: dict = {
        "machine": machine_info(),
        "repeat": repeat,
        "sizes": sizes,
        "clean": [],
        "generated": [],
    }
    largest = max(sizes)
    for size in sorted(sizes):
        _log(f"Làm sạch {_n(size)} dòng CBGVNV (CSV)...")
        info, row = bench_clean(size, work, repeat, keep_processed=size == largest)
        results["generated"].append({k: v for k, v in info.items() if k != "files"})
        results["generated"][-1]["files"] = len(info["files"])
        results["clean"].append(row)
    results["linearity"] = linearity(results["clean"])

    big = next(r for r in results["clean"] if r["size"] == largest)
    _log(f"Chỉ số trên bảng đã làm sạch {_n(largest)} dòng...")
    met = repeated(
        {
            "job": "metrics",
            "processed": str(Path(big["processed"]) / big["period"]),
            "period": big["period"],
        },
        repeat,
    )
    met["size"] = largest
    results["metrics"] = met
    _log(f"  chỉ số: {met['wall_s']:.2f} s (đọc {met['load_s']:.2f} s)")

    raw_big = work / f"raw_{largest}"
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        _log(f"Thời gian từng bước khi làm sạch {_n(largest)} dòng (không có profiler)...")
        job = {"period": big["period"], "raw": str(raw_big)}
        shutil.rmtree(work / "processed_steps", ignore_errors=True)
        steps = run_child(job | {"job": "breakdown", "processed": str(work / "processed_steps")})
        results["breakdown"] = {"size": largest, "wall_s": steps["wall_s"], "steps": steps["steps"]}
        _log(f"cProfile làm sạch {_n(largest)} dòng...")
        report = profile_dir / f"profile_clean_{largest}.txt"
        shutil.rmtree(work / "processed_profile", ignore_errors=True)
        run_child(
            job
            | {
                "job": "profile",
                "processed": str(work / "processed_profile"),
                "report": str(report),
            }
        )
        results["profile"] = str(report)
    for folder in (
        Path(big["processed"]),
        raw_big,
        work / "processed_steps",
        work / "processed_profile",
    ):
        shutil.rmtree(folder, ignore_errors=True)

    if xlsx_rows > 0:
        _log(f"Đọc .xlsx {_n(xlsx_rows)} dòng: calamine và openpyxl...")
        info, results["xlsx"] = bench_xlsx(xlsx_rows, work, repeat)
        gen = {k: v for k, v in info.items() if k != "files"} | {"files": len(info["files"])}
        results["generated"].append(gen)
    for r in results["clean"]:
        r.pop("processed", None)
    results["verdicts"] = verdicts(results)
    return results


def write_results(results: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    js = out / "bench_scale.json"
    md = out / "bench_scale.md"
    js.write_text(
        json.dumps(results, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    md.write_text(render_markdown(results), encoding="utf-8")
    return js, md


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="số dòng CBGVNV cần đo, cách nhau bởi dấu phẩy",
    )
    parser.add_argument("--repeat", type=int, default=3, help="số lần lặp (lấy trung vị)")
    parser.add_argument(
        "--xlsx-rows", type=int, default=None, help="số dòng của tệp .xlsx so sánh (0 = bỏ qua)"
    )
    parser.add_argument("--quick", action="store_true", help="cỡ nhỏ, chạy thử nhanh")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="thư mục ghi kết quả")
    parser.add_argument("--work", default="", help="thư mục tạm cho dữ liệu sinh ra")
    parser.add_argument(
        "--profile", action="store_true", help="chạy thêm cProfile khi làm sạch cỡ lớn nhất"
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    if args.quick:
        sizes = list(QUICK_SIZES)
        repeat = 1
        xlsx_rows = QUICK_XLSX_ROWS if args.xlsx_rows is None else args.xlsx_rows
    else:
        try:
            sizes = sorted(
                {int(s.replace(".", "").replace("_", "")) for s in args.sizes.split(",")}
            )
        except ValueError:
            print(
                f"Lỗi: --sizes '{args.sizes}' phải là các số nguyên, cách nhau bởi dấu phẩy.",
                file=sys.stderr,
            )
            return 2
        repeat = args.repeat
        xlsx_rows = DEFAULT_XLSX_ROWS if args.xlsx_rows is None else args.xlsx_rows
    if not sizes or min(sizes) <= 0 or repeat < 1 or xlsx_rows < 0:
        print("Lỗi: cỡ phải dương, --repeat ≥ 1, --xlsx-rows ≥ 0.", file=sys.stderr)
        return 2
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=args.work or None) as tmp:
        try:
            results = run(sizes, repeat, xlsx_rows, Path(tmp), out if args.profile else None)
        except BenchError as exc:
            print(f"Lỗi: {exc}", file=sys.stderr)
            return 1
    js, md = write_results(results, out)
    m = results["machine"]
    print(
        f"Máy: {m['cpu']}; {m['cores']} lõi; RAM {m['memory_gb']} GB; Python {m['python']}, "
        f"pandas {m['pandas']}, pyarrow {m['pyarrow']}"
    )
    print(render_text(results))
    print(f"Kết quả: {js} và {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
