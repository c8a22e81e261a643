"""The cleaning stage: raw exports of one period -> ``data/processed/<period>/``.

``clean_period(period)`` (:mod:`.stage`) reads the period, checks every row, ties rows to
schools, pseudonymises people and writes the processed tables, ``quarantine.csv`` and
``quality.json`` in one atomic swap. The rules are in :mod:`.stage`'s docstring.

Modules
-------
- ``checks``: the one skeleton every kind's cleaner uses (stacked rows, first failing check
  per row, count and date checks, school matching, the kind's quarantine, warnings at a row).
- ``schools``: the school list (codes, names, levels, counts; rows of one code merged).
- ``staff``: staff lists (row checks, level, duplicate people) and the signatures of a
  period (lists, counts, providers' lists resolved per school).
- ``counts``: per-school signature counts. ``infrastructure``, ``records``: their kinds.
- ``certificates``: the providers' and institution certificates; ``match``: school matching.
- ``history``: the signature history of the earlier folders (cached, cleaned in workers).
- ``quality``: reason labels, accounting per sheet, the run's quarantine and ``quality.json``.
- ``result``: ``CleanResult``, what ``clean_period`` returns, with the notebook's views.
- ``stage``: ``clean_period``, a recipe: load inputs, clean the kinds, account, write.
"""

from __future__ import annotations

from analysis import cli, paths
from analysis.clean.checks import QUARANTINE_COLUMNS, date_checks
from analysis.clean.counts import clean_counts
from analysis.clean.history import history_rows
from analysis.clean.infrastructure import clean_infrastructure
from analysis.clean.quality import REASON_LABELS, CleanError
from analysis.clean.records import clean_records
from analysis.clean.result import CleanResult
from analysis.clean.schools import clean_schools
from analysis.clean.staff import dedup_staff, resolve_signatures
from analysis.clean.stage import clean_period
from analysis.core import stops, units
from analysis.ingest import IngestError

# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis clean`` without the stops wrapper (the options: ``analysis.cli``)."""
    return cli.run_command("clean", argv)


def command(args) -> int:
    """Clean one period into ``<processed>/<period>/`` and print what came out."""
    try:
        cfg = paths.RunConfig.from_params(args.period, args.raw_dir, args.processed_dir)
        # a stop or an unexpected error (core.stops): details in <processed>/_logs/clean.log
        stops.set_log(stops.log_for(cfg.processed_root, "clean"), "clean")
        with stops.doing(f"làm sạch kỳ {cfg.period}"):
            result = clean_period(cfg.period, cfg.raw_root, cfg.processed_root)
    except (IngestError, CleanError, units.CrosswalkError, paths.PeriodError) as exc:
        return cli.error(exc)
    q = result.quality
    print(
        f"Đã làm sạch kỳ {result.period} vào {result.out_dir}: "
        f"{q['tables']['schools']} trường, {q['tables']['staff']} CBGVNV, "
        f"{q['quarantine']['total']} dòng bị cách ly (xem quarantine.csv), "
        f"{len(q['warnings'])} cảnh báo (xem quality.json)."
    )
    return 0


__all__ = [
    "command",
    "QUARANTINE_COLUMNS",
    "REASON_LABELS",
    "CleanError",
    "CleanResult",
    "clean_counts",
    "clean_infrastructure",
    "clean_period",
    "clean_records",
    "clean_schools",
    "date_checks",
    "dedup_staff",
    "history_rows",
    "main",
    "resolve_signatures",
    # the skeleton ``certificates`` uses (``from analysis import clean as C``)
]
