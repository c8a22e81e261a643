"""Batch runs per reporting period: ``python -m analysis run`` (also ``hocbaso run``).

For each period, the notebooks ``notebooks/NN_*.ipynb`` run through papermill with the
parameters ``period``, ``raw_dir``, ``processed_dir`` and ``output_dir`` (absolute paths), stage
by stage (``notebook_stage``: 10-19 clean, 20-89 analyses, 90-99 report); the notebooks of one
stage run side by side. A period is built in a temporary folder
``<output_root>/.tmp-<period>-<pid>/<period>`` and swapped in only when every notebook
succeeded; a failure keeps the previous good outputs and saves the failed notebook under
``<output_root>/_failed/<period>/``.

``--per-commune``: once the notebooks succeeded, every commune's report is written in the
temporary folder (``fanout``, ``<period>/xa/<slug>/``), then the manifest (with ``units``) and
the swap, as for the period alone; a commune that fails is left out (listed at the end, exit
1), the others and the period's own report are swapped in.

Exit codes: 0 all periods built; 1 a period or a commune's report failed (the others still
ran); 2 bad parameters (reported before any kernel starts); 130 stopped by Ctrl+C, 143 by
SIGTERM, 3 an unexpected error (``analysis.core.stops``: one Vietnamese line, details in
``<output_root>/_logs/run.log``). A stop stops every kernel (and the worker processes a kernel
forked), removes the temporary folders and keeps the previous outputs: a period is swapped in
whole or not at all.

Modules: ``config`` (the run's folders and options, checked: ``make_config``,
``resolve_periods``), ``kernels`` (kernel manager, the quick ready check, warm kernels, the
papermill engine), ``notebooks`` (stages, imports, executing one notebook, normalising it, the
failure message), ``run`` (``run_period`` as a recipe of steps, ``run_periods``,
``prepare_period``), ``fanout`` (the per-commune reports), ``manifest`` (``manifest.json``).
This module: the command line (``build_parser``, ``main``).
"""

from __future__ import annotations

import argparse
import os
import sys

from analysis.batch import manifest as manifest_mod
from analysis.batch.config import (
    BatchConfig,
    BatchError,
    PeriodResult,
    _say,
    _seconds,
    find_notebooks,
    make_config,
    resolve_periods,
)
from analysis.batch.kernels import (
    WarmKernel,
    kernel_manager_class,
    light_nbformat,
    shutdown_all_kernels,
)
from analysis.batch.notebooks import (
    failure_message,
    normalise_notebook,
    notebook_imports,
    notebook_stage,
    notebook_stages,
)
from analysis.batch.run import prepare_period, run_period, run_periods
from analysis.cli import ArgumentParser as _Parser  # Vietnamese errors, exit 2
from analysis.core import stops

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BatchConfig",
    "BatchError",
    "PeriodResult",
    "WarmKernel",
    "build_parser",
    "failure_message",
    "find_notebooks",
    "kernel_manager_class",
    "light_nbformat",
    "main",
    "make_config",
    "normalise_notebook",
    "notebook_imports",
    "notebook_stage",
    "notebook_stages",
    "prepare_period",
    "resolve_periods",
    "run_period",
    "run_periods",
    "shutdown_all_kernels",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m analysis run",
        description=(
            "Chạy các notebook NN_*.ipynb theo thứ tự cho một hay nhiều kỳ báo cáo (papermill); "
            "kết quả ở <output-dir>/<kỳ>/ kèm manifest.json."
        ),
    )
    parser.add_argument(
        "--period",
        action="append",
        metavar="YYYY-MM-DD",
        help="kỳ báo cáo (có thể lặp lại); mặc định: kỳ mới nhất trong thư mục dữ liệu thô",
    )
    parser.add_argument("--all", action="store_true", help="chạy mọi kỳ có trong dữ liệu thô")
    parser.add_argument("--raw-dir", help="thư mục dữ liệu thô (mặc định data/raw)")
    parser.add_argument("--processed-dir", help="thư mục dữ liệu đã làm sạch (data/processed)")
    parser.add_argument("--output-dir", help="thư mục kết quả (mặc định outputs)")
    parser.add_argument("--notebooks-dir", help="thư mục notebook (mặc định notebooks)")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="chỉ ghi các notebook đã điền tham số vào <output-dir>/_prepared/<kỳ>/, không chạy",
    )
    parser.add_argument(
        "--jobs", type=int, help="số kỳ chạy song song (mặc định: số lõi CPU, tối đa số kỳ)"
    )
    parser.add_argument(
        "--notebook-jobs",
        type=int,
        help="số notebook cùng bước (20-89) chạy song song trong một kỳ, và số tiến trình "
        "của bước làm sạch (mặc định: số lõi CPU chia cho số kỳ chạy song song)",
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="giới hạn thời gian mỗi ô, giây (mặc định 600)"
    )
    parser.add_argument(
        "--hide-code", action="store_true", help="ẩn mã trong notebook đã chạy (report mode)"
    )
    parser.add_argument(
        "--no-prewarm",
        action="store_true",
        help="không khởi động trước kernel của notebook kế tiếp (chậm hơn, để đo)",
    )
    parser.add_argument(
        "--unit",
        choices=["province", "commune", "district"],
        help="đơn vị báo cáo: province (Sở GD&ĐT), commune (UBND xã/phường), district (quận/"
        "huyện, các kỳ trước 1/7/2025); mặc định: suy ra từ dữ liệu",
    )
    parser.add_argument(
        "--per-commune",
        action="store_true",
        help="ngoài báo cáo của đơn vị, viết thêm một báo cáo cho mỗi xã/phường trong "
        "<output-dir>/<kỳ>/xa/<tên-xã>/",
    )
    parser.add_argument("--quiet", action="store_true", help="chỉ in lỗi và tóm tắt")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option (2, message already printed)
        return int(exc.code or 0)
    try:
        if args.jobs is not None and args.jobs < 1:
            raise BatchError(f"--jobs phải là số nguyên dương (đang là {args.jobs}).")
        if args.notebook_jobs is not None and args.notebook_jobs < 1:
            raise BatchError(
                f"--notebook-jobs phải là số nguyên dương (đang là {args.notebook_jobs})."
            )
        if args.timeout < 1:
            raise BatchError(f"--timeout phải là số giây dương (đang là {args.timeout}).")
        cfg = make_config(
            args.raw_dir,
            args.processed_dir,
            args.output_dir,
            args.notebooks_dir,
            timeout=args.timeout,
            quiet=args.quiet,
            progress_bar=sys.stderr.isatty() and not args.quiet,
            prewarm=not args.no_prewarm,
            hide_code=args.hide_code,
            unit=args.unit or "",
            per_commune=args.per_commune,
        )
        periods = resolve_periods(cfg.raw_root, args.period, args.all)
    except BatchError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return EXIT_USAGE

    # A stop or an unexpected error (``analysis.stops``): details in <output-dir>/_logs/run.log,
    # and no kernel left running.
    stops.set_log(stops.log_for(cfg.output_root, "run"), "run")
    stops.on_stop(shutdown_all_kernels)
    if args.prepare_only:
        for period in periods:
            prepare_period(period, cfg)
        return EXIT_OK

    jobs = args.jobs or os.cpu_count() or 1
    results = run_periods(periods, cfg, jobs=jobs, notebook_jobs=args.notebook_jobs)
    failed = [r for r in results if not r.ok]
    unit_failures = [m for r in results if r.ok for m in r.unit_failures]
    for r in results:
        if r.ok:
            _say(
                cfg,
                f"[{r.period}] xong trong {_seconds(r.seconds)} s: {cfg.output_root / r.period}",
            )
            settings_line = manifest_mod.report_settings_line(cfg.output_root / r.period)
            if settings_line:
                _say(cfg, f"[{r.period}] {settings_line}")
    if unit_failures:
        print(
            f"Tóm tắt: {len(unit_failures)} báo cáo xã/phường lỗi (các báo cáo khác đã ghi):",
            file=sys.stderr,
        )
        for message in unit_failures:
            print(f"  - {message}", file=sys.stderr)
    if failed:
        print(
            f"Tóm tắt: {len(results) - len(failed)}/{len(results)} kỳ thành công; "
            f"{len(failed)} kỳ lỗi:",
            file=sys.stderr,
        )
        for r in failed:
            print(f"  - {r.message}", file=sys.stderr)
        return EXIT_FAILED
    if unit_failures:
        return EXIT_FAILED
    if len(results) > 1:
        _say(cfg, f"Tóm tắt: {len(results)}/{len(results)} kỳ thành công.")
    return EXIT_OK
