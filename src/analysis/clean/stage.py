"""The cleaning stage as a recipe: raw exports of one period -> ``data/processed/<period>/``.

``clean_period(period)`` reads the period with ``ingest.read_period`` (carry-forward per kind),
parses and checks every row, ties rows to schools (``match``), replaces Mã định danh by the
pseudonymous ``person_key`` (``privacy``), resolves duplicate people, and writes the processed
tables (``schemas``), ``quarantine.csv`` and ``quality.json`` in one atomic swap.

Rules (also in the README's "Cleaning rules" section)
-----------------------------------------------------
- Every data row of every input sheet is either kept or quarantined (refused, with a reason
  code and a Vietnamese message); with the non-data rows (title, header, blank, footer, total)
  they add up to the rows read, per sheet. A run whose accounting does not balance fails.
- A refused row gets ONE quarantine record: the first failing check in the order listed per
  kind below. The quarantine never holds a personal value (for a staff row never the staff id).
- Every kind, first of all: a row of an Excel sheet holding, in a column read, a formula
  saved without a value or an error value (``RawTable.unread_cells``, `ingest.xlsx_scan`)
  is refused (``formula_no_value``/``formula_error``, naming the cell); the sheet XML's other
  findings (far cells, such cells outside the data rows) are warnings.
- School list (``truong``): missing or unreadable code (``missing_code``/``bad_code``), missing
  name (``missing_name``), unknown level (``bad_level``; a blank level is taken from the name's
  prefix when it names one), missing or unreadable class/pupil count (``missing_count``/
  ``bad_number``), negative (``negative_count``), a code listed twice (``duplicate_school``,
  the first row is kept). The optional pupil-id counts, when unreadable, negative or above the
  pupils, are dropped to empty with a warning (the school is kept). Excel drops leading zeros
  of codes stored as numbers only, so the code width is that of the codes stored as text
  (``match.code_width``: the list's, else the period's other files' and the alias table's);
  shorter all-digit codes are zero-padded to it; with no text code at all, codes stay as read
  (warning ``code_width_unknown``). Mã định danh follows the same rule.
- Staff lists (``cbgvnv``): ``missing_id``, school not matched (``missing_school``,
  ``unmatched_school``, ``fuzzy_school``, ``ambiguous_school``), ``bad_status``,
  ``missing_role``/``bad_role`` (the position names no role), ``bad_date``,
  ``expiry_before_issue``. Only "Đang làm việc" (or a blank employment status) is active;
  others are kept with ``active=False`` and never counted in a denominator.
- Duplicate people (same ``person_key`` after the checks): identical rows (same school, role,
  position, signature, dates, status) count once (the first row in file/sheet/row order is
  kept). Otherwise one row is kept by: active first, then the most recent ``issued_on``, then
  the row of the latest serving folder, then the first in file/sheet/row order. Each case is
  listed in ``quality.json["duplicates"]`` with source rows only.
- Counts (``tonghop_cks``): school not matched, ``missing_count``/``bad_number``,
  ``negative_count``, ``signed_gt_total``, a school counted twice (``duplicate_school``).
  ``|rate - 100*signed/total| > 0.1`` is a warning. A school that also sent a list: the list
  wins (``superseded=True``) and the difference is a warning.
- Infrastructure (``ha_tang``), records (``hoc_ba``): school not matched, missing/unreadable/
  negative numbers, ``speed_mbps <= 0`` (``bad_speed``), ``principal_gt_teacher``,
  ``signed_gt_pupils``, a school (class) listed twice (``duplicate_school``/``duplicate_class``).
- Total rows ("Tổng cộng") are never data; the last total row of a sheet is compared with the
  sum of the sheet's data rows (``quality.json["total_checks"]``, a mismatch is a warning).
- Free text never leaves: employment status, provider and ownership are written in their
  closed vocabularies (``parse``), anything else as ``Khác`` (warning ``free_text_other`` with
  the raw text masked by ``privacy.mask_contacts``, rows counted as ``<column>_other``); a ward
  or district holding a phone number or an e-mail becomes ``Khác`` too; a school name (school
  list) or class name (records) holding one is refused (``contact_in_text``). Every raw value
  quoted in a quarantine record or a warning is masked the same way.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.clean import certificates, match, quality
from analysis.clean.checks import _KindOut
from analysis.clean.history import (
    SIGNATURE_KINDS,
    _HistoryRun,
    _plan_history,
    _task_cost,
    history_rows,
)
from analysis.clean.infrastructure import clean_infrastructure
from analysis.clean.quality import CleanError
from analysis.clean.records import clean_records
from analysis.clean.result import CleanResult
from analysis.clean.schools import clean_schools
from analysis.clean.staff import _Signatures, _signatures
from analysis.core import exports, io, parallel, privacy, schemas, units
from analysis.ingest import PeriodInput, RawTable, files_to_read, prefetch, read_period


def clean_period(
    period: str,
    raw_root: Path | str = paths.RAW_DIR,
    processed_root: Path | str = paths.PROCESSED_DIR,
    *,
    key: bytes | None = None,
    jobs: int | None = None,
) -> CleanResult:
    """Clean one period: read, check, match, pseudonymise, dedup, account, write atomically.

    ``jobs``: processes to use (``analysis.core.parallel``; default ``parallel.jobs()``): the raw
    files are read, and the earlier folders of the history cleaned, by this process and forked
    workers. The result is the same for any number."""
    raw_root = Path(raw_root)
    processed_root = Path(processed_root)
    paths.parse_period(period)
    jobs = parallel.jobs() if jobs is None else max(1, jobs)
    pin = _read_inputs(period, raw_root, processed_root, jobs)
    if key is None:
        key = privacy.load_key()
    aliases = match.read_aliases(raw_root / match.ALIASES_FILE)
    sch = _clean_school_list(pin, period, raw_root, aliases)
    kinds = _clean_kinds(pin, period, sch, aliases, key, jobs, raw_root, processed_root)
    tables = _output_tables(kinds)
    found = quality.collect(_kind_outs(kinds, pin), pin, kinds.sig.warnings)
    quality.check_accounting(found.inputs, kinds.sig)
    quarantine = quality.run_quarantine(found.quarantine_parts)
    report = quality.quality_report(period, raw_root, pin, kinds.sig, tables, found, quarantine)
    target = processed_root / period
    _write_outputs(target, tables, quarantine, report)
    unmatched = quality.unmatched_table(found.unmatched_parts)
    return CleanResult(period, target, tables, quarantine, report, unmatched, kinds.sig.duplicates)


def _read_inputs(period: str, raw_root: Path, processed_root: Path, jobs: int) -> PeriodInput:
    """The period's tables (``read_period``: carry-forward per kind), read ahead by ``jobs``
    processes."""
    if jobs > 1:
        prefetch(files_to_read(raw_root, period, processed_root), raw_root, jobs)
    return read_period(raw_root, period, cache_root=processed_root)


def _clean_school_list(
    pin: PeriodInput, period: str, raw_root: Path, aliases: pd.DataFrame
) -> _KindOut:
    """The period's school list cleaned, with today's commune of every school; no list, or
    no usable row, stops the run (``CleanError``)."""
    truong = pin.tables_of("truong")
    if not truong:
        raise CleanError(
            f"Kỳ {period}: không có danh sách trường (bảng có cột Mã trường, Tên trường, Cấp học, "
            f"Số lớp, Số học sinh) trong các thư mục ≤ {period} dưới {raw_root}. Mọi dòng đều "
            "phải gắn với một trường của danh sách: hãy chép file danh sách trường vào thư mục "
            "kỳ báo cáo rồi chạy lại."
        )
    sch = clean_schools(truong, _code_evidence(pin, aliases))
    # Today's commune for every period (data contract §7): from the list after the reform,
    # through the crosswalk (don_vi_hanh_chinh.csv) before.
    crosswalk, crosswalk_file = units.load_crosswalk(raw_root)
    with_units, unit_warnings = units.assign_units(
        sch.table, period, crosswalk, _crosswalk_label(crosswalk_file, raw_root)
    )
    sch.table = schemas.conform("schools", with_units)
    sch.warnings += unit_warnings
    if sch.table.empty:
        raise CleanError(
            f"Kỳ {period}: danh sách trường không có dòng nào dùng được (mọi dòng bị cách ly). "
            "Hãy xem quarantine và sửa file danh sách trường rồi chạy lại."
        )
    return sch


def _code_evidence(pin: PeriodInput, aliases: pd.DataFrame) -> pd.Series:
    """Codes stored as text in the period's other files and in the alias table tell the
    school list's code width when the list itself has none (every code a number cell)."""
    evidence = [
        t.data["school_code"]
        for k in ("cbgvnv", "tonghop_cks", "ha_tang", "hoc_ba")
        for t in pin.tables_of(k)
        if "school_code" in t.data.columns
    ]
    evidence.append(aliases["school_code"].astype(object))
    return pd.concat(evidence, ignore_index=True)


def _crosswalk_label(path: Path, raw_root: Path) -> str:
    try:
        return Path(path).relative_to(raw_root).as_posix()
    except ValueError:
        return f"mặc định của phần mềm ({Path(path).name})"


@dataclass
class _Kinds:
    """Every kind of one period cleaned (``None``: the period has no table of that kind)."""

    schools: _KindOut
    sig: _Signatures
    history: pd.DataFrame
    inst: _KindOut | None
    infra: _KindOut | None
    recs: _KindOut | None


def _clean_kinds(
    pin: PeriodInput,
    period: str,
    sch: _KindOut,
    aliases: pd.DataFrame,
    key: bytes,
    jobs: int,
    raw_root: Path,
    processed_root: Path,
) -> _Kinds:
    """The period's other kinds cleaned against its school list, and the history. The earlier
    folders of the history are cleaned by workers while this process cleans the period itself
    (its own signature, infrastructure and record tables: the head start)."""
    schools = sch.table
    plan = _plan_history(raw_root, period, schools, processed_root)
    own = [t for k in (*SIGNATURE_KINDS, "ha_tang", "hoc_ba") for t in pin.tables_of(k)]
    head_start = _task_cost((period, own, [], []))
    history_run = _HistoryRun(plan, schools, aliases, key, jobs, head_start)
    try:
        sig = _signatures(
            pin.tables_of("cbgvnv"),
            pin.tables_of("tonghop_cks"),
            pin.tables_of("ca_thue_bao"),
            schools,
            aliases,
            key,
            period,
        )
        inst = _clean_if(pin, "chu_ky_so_to_chuc", certificates.clean_institution,
                         schools, aliases, period)  # fmt: skip
        infra = _clean_if(pin, "ha_tang", clean_infrastructure, schools, aliases)
        recs = _clean_if(pin, "hoc_ba", clean_records, schools, aliases)
        history = history_run.finish(pin, history_rows(sig.by_school, sig.staff))
    finally:
        history_run.cancel()
    return _Kinds(sch, sig, history, inst, infra, recs)


def _clean_if(pin: PeriodInput, kind: str, cleaner, *args) -> _KindOut | None:
    """``cleaner(tables of kind, *args)``, or ``None`` when the period has none."""
    tables = pin.tables_of(kind)
    return cleaner(tables, *args) if tables else None


def _output_tables(kinds: _Kinds) -> dict[str, pd.DataFrame]:
    """The processed tables to write (an empty table for a kind not sent), each validated."""
    sig, infra, recs, inst = kinds.sig, kinds.infra, kinds.recs, kinds.inst
    tables = {
        "schools": kinds.schools.table,
        "school_levels": kinds.schools.extra["school_levels"],
        "staff": sig.staff,
        "signature_counts": sig.counts,
        "signature_by_school": sig.by_school,
        "history": kinds.history,
        "infrastructure": infra.table if infra else schemas.empty("infrastructure"),
        "records": recs.table if recs else schemas.empty("records"),
        "institution_certificates": (
            inst.table if inst else schemas.empty("institution_certificates")
        ),
    }
    for name, df in tables.items():
        schemas.validate(name, df)
    return tables


def _kind_outs(kinds: _Kinds, pin: PeriodInput) -> list[tuple[_KindOut, list[RawTable]]]:
    """Each kind's result with the tables it read, in the order of the accounting."""
    sig = kinds.sig
    outs = [
        (kinds.schools, "truong"),
        (sig.staff_out, "cbgvnv"),
        (sig.counts_out, "tonghop_cks"),
        (kinds.infra, "ha_tang"),
        (kinds.recs, "hoc_ba"),
        (sig.cert_out, "ca_thue_bao"),
        (kinds.inst, "chu_ky_so_to_chuc"),
    ]
    return [(out, pin.tables_of(kind)) for out, kind in outs if out is not None]


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    privacy.assert_no_personal(df, path.name)
    df.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def _write_outputs(
    target: Path, tables: dict[str, pd.DataFrame], quarantine: pd.DataFrame, quality: dict
) -> None:
    """Write everything into a temp folder beside ``target``, then swap it in (two renames
    no signal comes between: ``stops.deferred``). Any exception, a stop (Ctrl+C, SIGTERM)
    included, removes the temp folder and keeps the previous version; what a process killed
    outright left (``.tmp-``/``.old-<period>-<pid>``) is undone by the next write
    (``paths.remove_leftovers``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    paths.remove_leftovers(target.parent, target.name)
    tmp = io.staging_dir(target)
    try:
        for name in schemas.COLUMNS:
            _write_parquet(tables[name], tmp / schemas.FILES[name])
        privacy.assert_no_personal(quarantine, "quarantine.csv")
        # Text that a spreadsheet would run as a formula gets a leading ' (``exports``).
        (tmp / "quarantine.csv").write_bytes(exports.csv_bytes(quarantine, bom=True))
        (tmp / "quality.json").write_text(
            json.dumps(quality, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        io.swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
