"""What the run reports about itself: reason labels, the accounting of each input sheet,
the run's quarantine, the checks that stop a run that does not balance, and ``quality.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import paths
from analysis.clean import match
from analysis.clean.checks import _conform_quarantine, _empty_quarantine, _KindOut, _tally
from analysis.clean.staff import _duplicate_cases
from analysis.core import privacy
from analysis.ingest import PeriodInput, RawTable
from analysis.ingest import contract as K

if TYPE_CHECKING:
    from analysis.clean.staff import _Signatures

NON_DATA = ("title", "header", "blank", "footer", "total")


#: Vietnamese labels of the reason codes (notebook, summaries).
REASON_LABELS: dict[str, str] = {
    "missing_code": "Thiếu mã trường",
    "bad_code": "Mã trường không hợp lệ",
    "missing_name": "Thiếu tên trường",
    "bad_level": "Cấp học không rõ",
    "missing_count": "Thiếu số liệu bắt buộc",
    "bad_number": "Số không đọc được",
    "negative_count": "Số âm",
    "duplicate_school": "Trường bị lặp",
    "duplicate_class": "Lớp bị lặp",
    "missing_id": "Thiếu Mã định danh",
    "missing_school": "Thiếu mã và tên trường",
    "unmatched_school": "Không khớp trường",
    "fuzzy_school": "Tên trường gần đúng (cần xác nhận)",
    "ambiguous_school": "Tên trường có ở nhiều cấp",
    "bad_status": "Trạng thái chữ ký số không đọc được",
    "missing_role": "Thiếu chức vụ",
    "bad_role": "Chức vụ không rõ",
    "bad_date": "Ngày không đọc được",
    "expiry_before_issue": "Ngày hết hạn trước ngày cấp",
    "signed_gt_total": "Số đã có CKS lớn hơn tổng số",
    "bad_speed": "Tốc độ đường truyền không hợp lệ",
    "principal_gt_teacher": "Hiệu trưởng ký nhiều hơn GVCN",
    "signed_gt_pupils": "Số học bạ đã ký lớn hơn số học sinh",
    "missing_class": "Thiếu tên lớp",
    "contact_in_text": "Có số điện thoại / e-mail trong tên",
    "formula_no_value": "Công thức không có giá trị đã lưu",
    "formula_error": "Ô có giá trị lỗi (#N/A, #REF!...)",
    "missing_cccd": "Thiếu Số CCCD",
    "bad_cccd": "Số CCCD không hợp lệ",
    "missing_serial": "Thiếu Serial chứng thư",
    "missing_expiry": "Thiếu ngày hết hạn",
    "duplicate_certificate": "Chứng thư bị lặp",
}


class CleanError(Exception):
    """Input that cannot be cleaned (no school list, no usable data, unbalanced accounting).

    ``message`` is Vietnamese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _input_record(t: RawTable, kept: int, quarantined: int) -> dict:
    non_data = {k: int(t.row_classes.get(k, 0)) for k in NON_DATA}
    balanced = t.rows_read == kept + quarantined + sum(non_data.values())
    return {
        "file": t.file,
        "sheet": t.sheet,
        "kind": t.kind,
        "folder": t.folder,
        "rows_read": int(t.rows_read),
        "kept": int(kept),
        "quarantined": int(quarantined),
        "non_data": non_data,
        "balanced": bool(balanced),
        "encoding": t.encoding,
        "legacy_encoding": t.legacy_encoding,
        "unmapped_columns": [privacy.mask_contacts(str(c)) for c in t.unmapped_columns],
        "personal_columns_dropped": len(t.personal_columns_dropped),
    }


def _per_table_counts(out: _KindOut, tables: list[RawTable]) -> list[dict]:
    tid = out.stacked["_tid"].to_numpy()
    kept = out.kept_mask.to_numpy()
    recs = []
    for i, t in enumerate(tables):
        sel = tid == i
        n_kept = int(kept[sel].sum())
        recs.append(_input_record(t, n_kept, int(sel.sum()) - n_kept))
    return recs


@dataclass
class _Collected:
    """What every kind's cleaning reports, gathered in kind order (``collect``)."""

    inputs: list[dict] = field(default_factory=list)
    quarantine_parts: list[pd.DataFrame] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    total_checks: list[dict] = field(default_factory=list)
    unmatched_parts: list[pd.DataFrame] = field(default_factory=list)


def collect(
    outs: list[tuple[_KindOut, list[RawTable]]], pin: PeriodInput, signature_warnings: list[dict]
) -> _Collected:
    """The accounting per input sheet, quarantines, repairs, warnings, total checks and
    unmatched schools of every kind (``outs``: each kind's result and its tables), then the
    signatures' warnings and the files read by their content."""
    c = _Collected()
    for out, tbls in outs:
        c.inputs += _per_table_counts(out, tbls)
        c.quarantine_parts.append(out.quarantine)
        _add_counts(c.repairs, out.stats)
        c.warnings += out.warnings
        c.total_checks += out.total_checks
        if out.unmatched is not None and len(out.unmatched):
            c.unmatched_parts.append(out.unmatched)
        for t in tbls:
            _add_counts(c.repairs, t.repairs)
            c.warnings += t.sheet_warnings
    c.warnings += signature_warnings
    c.warnings += _read_by_content(pin)
    return c


def _add_counts(total: dict[str, int], counts: dict) -> None:
    for k, v in counts.items():
        _tally(total, k, v)


def _read_by_content(pin: PeriodInput) -> list[dict]:
    """A file read by its content rather than its extension (a CSV named .xlsx...): one
    warning a file."""
    noted: set[str] = set()
    warnings = []
    for t in pin.tables:
        if t.read_note and t.file not in noted:
            noted.add(t.file)
            warnings.append(
                {
                    "code": "read_by_content",
                    "kind": t.kind,
                    "file": t.file,
                    "sheet": t.sheet,
                    "row": None,
                    "message": t.read_note,
                }
            )
    return warnings


def _rows_before_dedup(sig: _Signatures) -> int:
    return int(len(sig.staff_out.table)) if sig.staff_out is not None else 0


def check_accounting(inputs: list[dict], sig: _Signatures) -> None:
    """Stop the run (``CleanError``, nothing written) when a sheet's rows do not add up, or
    the staff rows before dedup are not the people after it plus the rows dropped."""
    unbalanced = [i for i in inputs if not i["balanced"]]
    if unbalanced:
        first = unbalanced[0]
        raise CleanError(
            f"Lỗi đối soát số dòng ở tệp “{first['file']}” trang “{first['sheet']}”: đọc "
            f"{first['rows_read']} dòng nhưng giữ {first['kept']} + cách ly "
            f"{first['quarantined']} + dòng không phải dữ liệu {sum(first['non_data'].values())}."
            " Không ghi kết quả nào; hãy báo cho người phát triển."
        )
    n_before = _rows_before_dedup(sig)
    n_removed = int(len(sig.duplicates))
    if n_before != len(sig.staff) + n_removed:
        raise CleanError(
            f"Lỗi đối soát khi gộp người trùng: {n_before} dòng trước khi gộp, "
            f"{len(sig.staff)} người sau khi gộp, {n_removed} dòng bỏ. Không ghi kết quả nào; "
            "hãy báo cho người phát triển."
        )


def run_quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The run's ``quarantine.csv``: every kind's records in file, sheet, row order."""
    quarantine = pd.concat(parts, ignore_index=True) if parts else _empty_quarantine()
    return _conform_quarantine(
        quarantine.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    )


def _counted(values: pd.Series) -> dict[str, int]:
    """How many times each value occurs, in value order."""
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def quality_report(
    period: str,
    raw_root: Path,
    pin: PeriodInput,
    sig: _Signatures,
    tables: dict[str, pd.DataFrame],
    c: _Collected,
    quarantine: pd.DataFrame,
) -> dict:
    """``quality.json``: what was read and served, skipped, repaired, deduplicated, left,
    checked, warned and quarantined, and the rows of each table written."""
    left = sig.staff[~sig.staff["active"]]
    inst = tables["institution_certificates"]
    return {
        "period": period,
        "sample": paths.is_sample(raw_root),
        "served": {k: pin.served.get(k) for k in K.KINDS},
        "inputs": sorted(c.inputs, key=lambda i: (i["file"], i["sheet"])),
        "skipped_sheets": [
            {
                "file": s.file,
                "sheet": s.sheet,
                "reason": privacy.mask_contacts(s.reason),
                "quoted": [privacy.mask_contacts(h) for h in s.headers_seen],
            }
            for s in sorted(pin.skipped, key=lambda s: (s.file, s.sheet))
        ],
        "unread_files": [{"file": u.file, "reason": u.reason} for u in pin.unread],
        "repairs": dict(sorted(c.repairs.items())),
        "duplicates": _duplicates_section(sig),
        "left_staff": {
            "total": int(len(left)),
            "by_status": _counted(left["status"].fillna("(trống)")),
        },
        "total_checks": c.total_checks,
        "certificates": {
            **sig.join,
            "institutions": {"schools": int(len(inst)), "ready": int(inst["ready"].sum())},
        },
        "warnings": c.warnings,
        "quarantine": {"total": int(len(quarantine)), "by_reason": _counted(quarantine["reason"])},
        "tables": {name: int(len(df)) for name, df in tables.items()},
    }


def _duplicates_section(sig: _Signatures) -> dict:
    """``quality.json["duplicates"]``: rows before and after dedup, cases by rule and each
    case's source rows."""
    dups = sig.duplicates
    return {
        "rows_before": _rows_before_dedup(sig),
        "rows_removed": int(len(dups)),
        "persons_after": int(len(sig.staff)),
        "persons_with_duplicates": int(dups["person_key"].nunique()) if len(dups) else 0,
        "by_rule": _counted(dups["rule"]),
        "cases": _duplicate_cases(dups),
    }


_UNMATCHED_COLUMNS = ["kind", *match.UNMATCHED_COLUMNS]


def unmatched_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The unmatched school names of every kind, with suggestions."""
    if not parts:
        return pd.DataFrame(columns=_UNMATCHED_COLUMNS)
    return pd.concat(parts, ignore_index=True)
