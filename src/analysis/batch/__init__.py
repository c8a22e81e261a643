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
This module: the command ``run`` (``command``; its options are in ``analysis.cli``).
"""

from __future__ import annotations

import os
import sys

from analysis import cli
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
from analysis.core import stops

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BatchConfig",
    "BatchError",
    "PeriodResult",
    "WarmKernel",
    "command",
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


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis run`` without the stops wrapper (the options: ``analysis.cli``)."""
    return cli.run_command("run", argv)


def command(args) -> int:
    """Run the periods the options name; one line per period, then what failed."""
    try:
        cfg, periods = _config(args)
    except BatchError as exc:
        return cli.error(exc, EXIT_USAGE)
    # A stop or an unexpected error (``core.stops``): details in <output-dir>/_logs/run.log,
    # and no kernel left running.
    stops.set_log(stops.log_for(cfg.output_root, "run"), "run")
    stops.on_stop(shutdown_all_kernels)
    if args.prepare_only:
        for period in periods:
            prepare_period(period, cfg)
        return EXIT_OK
    jobs = args.jobs or os.cpu_count() or 1
    results = run_periods(periods, cfg, jobs=jobs, notebook_jobs=args.notebook_jobs)
    for r in results:
        if r.ok:
            _say(
                cfg,
                f"[{r.period}] xong trong {_seconds(r.seconds)} s: {cfg.output_root / r.period}",
            )
            settings_line = manifest_mod.report_settings_line(cfg.output_root / r.period)
            if settings_line:
                _say(cfg, f"[{r.period}] {settings_line}")
    return _summary(cfg, results)


def _config(args) -> tuple[BatchConfig, list[str]]:
    """The run's configuration and periods from the options (``BatchError`` if wrong)."""
    for option, value in (("--jobs", args.jobs), ("--notebook-jobs", args.notebook_jobs)):
        if value is not None and value < 1:
            raise BatchError(f"{option} phải là số nguyên dương (đang là {value}).")
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
    return cfg, resolve_periods(cfg.raw_root, args.period, args.all)


def _summary(cfg: BatchConfig, results: list[PeriodResult]) -> int:
    """The summary lines (failed communes, failed periods) and the exit code."""
    failed = [r for r in results if not r.ok]
    unit_failures = [m for r in results if r.ok for m in r.unit_failures]
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
