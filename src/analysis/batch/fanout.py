"""One report per commune of a period: ``python -m analysis run --period P --per-commune``.

The period is cleaned once and its notebooks write the report of the data's unit in
``outputs/<P>/`` as usual; then, in the same process, each commune of the school list gets its
own report in ``outputs/<P>/xa/<slug>/`` (``bao_cao_<P>.docx``, ``bang_bieu_<P>.xlsx``,
``figures/``, ``tables/``): the processed tables narrowed to the commune's schools
(``metrics.select_commune``), then the calls notebooks 20, 30 and 90 make (``analyse_unit``),
with the commune's wording (``[xa."<tên xã>"]`` of ``bao_cao.toml``, else the package's
commune defaults and a ``DỰ THẢO``: ``report.load_settings(..., fan_out=True)``). One commune
that fails does not stop the others: each outcome is a ``UnitOutcome`` (ok, or the message).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis import figures, metrics, paths, report
from analysis.batch.config import OWN_ERRORS
from analysis.core import parallel, stops, units

COMMUNES_DIR = "xa"
#: The notebooks' defaults (20_coverage: expiring_days; 30_scale_infrastructure: min_speed_mbps).
EXPIRING_DAYS = 90
MIN_SPEED_MBPS = 70


@dataclass
class UnitOutcome:
    """What one commune's report gave: its unit, folder (relative to the period's), status."""

    kind: str
    name: str
    folder: str
    ok: bool
    message: str = ""
    seconds: float = 0.0
    draft: bool = False
    n_schools: int = 0
    notes: list[str] = field(default_factory=list)


def analyse_unit(
    processed: metrics.Processed,
    cfg: paths.RunConfig,
    unit: units.Unit,
    settings: dict,
    source: str = "",
    notes: list[str] | None = None,
) -> report.ReportResult:
    """The tables, figures and report of one unit from its (narrowed) processed tables: what
    notebooks 20, 30 and 90 do, written under ``cfg.out``."""
    target = report.target_ratio(cfg.raw_root, cfg.period, settings.get("target_pct", ""))
    cov = metrics.compute_coverage(
        processed, cfg.period, expiring_days=EXPIRING_DAYS, unit=unit.kind
    )
    metrics.write_tables(cov, cfg.tables, "coverage", cfg.period, cfg.sample)
    sca = metrics.compute_scale(processed, min_speed=MIN_SPEED_MBPS)
    metrics.write_tables(sca, cfg.tables, "scale", cfg.period, cfg.sample)
    tables = {**cov, **sca}
    for name in (*figures.COVERAGE_FIGURES, *figures.SCALE_FIGURES):
        figures.publish(
            name,
            tables,
            cfg.figures,
            cfg.period,
            cfg.sample,
            target=target,
            min_speed=MIN_SPEED_MBPS,
        )
    return report.build_report(cfg, settings=settings, source=source, notes=notes)


def commune_report(
    processed: metrics.Processed, cfg: paths.RunConfig, commune: str, period_dir: Path
) -> UnitOutcome:
    """One commune's report in ``<period_dir>/xa/<slug>/``; an error is returned, not raised
    (a stop, ``stops.Stopped``, is raised)."""
    started = time.perf_counter()
    unit = units.Unit("commune", commune)
    folder = f"{COMMUNES_DIR}/{unit.slug}"
    out_dir = period_dir / COMMUNES_DIR / unit.slug
    outcome = UnitOutcome("commune", commune, folder, ok=False)
    try:
        sub = metrics.select_commune(processed, commune)
        outcome.n_schools = len(sub.schools)
        unit = units.Unit("commune", commune, units.infer_unit(sub.schools, cfg.period).province)
        ucfg = paths.RunConfig(
            cfg.period, cfg.raw_root, cfg.processed_root, cfg.output_root, out_dir=out_dir
        )
        shutil.rmtree(out_dir, ignore_errors=True)
        settings, source, notes = report.load_settings(
            cfg.raw_root, cfg.period, unit=unit, fan_out=True
        )
        result = analyse_unit(sub, ucfg, unit, settings, source, notes)
        outcome.ok = True
        outcome.draft = result.draft
        outcome.notes = list(result.notes)
    except stops.Stopped:
        raise
    except Exception as exc:  # one commune's failure does not stop the others
        stops.log_exception(exc, f"Kỳ {cfg.period}: xã/phường {commune}:")
        own = type(exc).__name__ in OWN_ERRORS
        what = str(exc).rstrip(".") if own else stops.describe_error(exc)
        if not own:
            what += f"; chi tiết trong {stops.log_path()}"
        outcome.message = f"Kỳ {cfg.period}: báo cáo của {commune} lỗi: {what}."
        shutil.rmtree(out_dir, ignore_errors=True)  # nothing half-written is left
    outcome.seconds = time.perf_counter() - started
    return outcome


def _commune_job(
    name: str, processed: metrics.Processed, cfg: paths.RunConfig, period_dir: Path
) -> UnitOutcome:
    """One commune in a forked worker (``analysis.core.parallel``): one process, no workers of its
    own (the workbook is written after the Word report)."""
    os.environ[parallel.ENV_JOBS] = "1"
    with _quiet_notes():
        return commune_report(processed, cfg, name, period_dir)


def fan_out(
    cfg: paths.RunConfig, period_dir: Path, progress_bar: bool = False, quiet: bool = False
) -> list[UnitOutcome]:
    """Every commune's report of ``cfg.period`` (from the processed folder), in
    ``<period_dir>/xa/<slug>/``; outcomes in the communes' alphabetical order. The communes
    are shared out between this process and forked workers (``parallel.jobs()``, shares of
    about equal numbers of schools); the bytes are those of one process. The progress bar
    counts the communes as their reports are done (a worker's when its share is done)."""
    processed = metrics.load_processed(cfg.processed)
    names = units.communes(processed.schools)
    if not names:
        return []
    groups = _shares(processed, names)
    outcomes: list[UnitOutcome | None] = [None] * len(names)
    bar = _progress_bar(cfg.period, len(names), progress_bar and not quiet)
    pending = parallel.start(
        _commune_job, [[names[i] for i in g] for g in groups[1:]], (processed, cfg, period_dir)
    )
    try:
        with _quiet_notes():  # each commune's notes are in its outcome, not on the terminal
            for i in groups[0]:
                bar.set_postfix_str(names[i], refresh=False)
                outcomes[i] = commune_report(processed, cfg, names[i], period_dir)
                bar.update(1)
    finally:
        done = pending.results()
    with _quiet_notes():
        for group, results in zip(groups[1:], done, strict=False):
            for i, outcome in zip(group, results, strict=True):
                if isinstance(outcome, parallel.Failed):  # the worker died: done here
                    outcome = commune_report(processed, cfg, names[i], period_dir)
                outcomes[i] = outcome
                bar.update(1)
    bar.close()
    return [o for o in outcomes if o is not None]


def _shares(processed: metrics.Processed, names: list[str]) -> list[list[int]]:
    """Indexes of ``names`` in ``parallel.jobs()`` shares of about equal numbers of schools;
    share 0 is this process's."""
    n_jobs = min(parallel.jobs(), len(names))
    if n_jobs <= 1:
        return [list(range(len(names)))]
    keys = processed.schools["commune"].map(
        lambda v: units.name_key(v) if isinstance(v, str) else None
    )
    sizes = keys.value_counts()
    costs = [float(sizes.get(units.name_key(n), 1)) for n in names]
    return parallel.split(costs, n_jobs)


def _progress_bar(period: str, total: int, shown: bool):
    """The communes' progress bar on standard error (``shown``: a bar at all)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"[{period}] báo cáo từng xã/phường",
        unit="xã",
        disable=not shown,
        file=sys.stderr,
    )


@contextlib.contextmanager
def _quiet_notes():
    logger = logging.getLogger("analysis.report")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def unit_records(period_dir: Path, main: units.Unit, outcomes: list[UnitOutcome]) -> list[dict]:
    """The manifest's ``units``: the data's unit (the period folder, its artefacts without the
    communes' folders) and every commune (its folder and artefacts; a failed one its message)."""
    from analysis.batch.manifest import MANIFEST_NAME, hash_tree

    main_files = [
        f
        for f in hash_tree(period_dir, exclude=[MANIFEST_NAME])
        if not f["path"].startswith(f"{COMMUNES_DIR}/")
    ]
    records = [
        {"kind": main.kind, "name": main.name, "folder": "", "ok": True, "artefacts": main_files}
    ]
    for o in outcomes:
        record = {"kind": o.kind, "name": o.name, "folder": o.folder, "ok": o.ok}
        record["n_schools"] = o.n_schools
        if o.ok:
            record["draft"] = o.draft
            record["artefacts"] = hash_tree(period_dir / o.folder)
        else:
            record["message"] = o.message
        records.append(record)
    return records
