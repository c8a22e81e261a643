"""The cleaning stage: raw exports of one period -> ``data/processed/<period>/``.

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
  saved without a value or an error value (``RawTable.unread_cells``, :mod:`analysis.xlsx_scan`)
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

import hashlib
import json
import logging
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis import paths
from analysis.clean import certificates, match
from analysis.core import (
    cache,
    exports,
    io,
    parallel,
    parse,
    privacy,
    schemas,
    stops,
    text,
    units,
    vocab,
)
from analysis.core.fmt import fmt_date, fmt_int, fmt_num
from analysis.ingest import (
    IngestError,
    PeriodInput,
    RawTable,
    files_to_read,
    list_files,
    prefetch,
    read_folder,
    read_period,
)
from analysis.ingest import contract as K

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = (
    "source_file",
    "source_sheet",
    "source_row",
    "kind",
    "reason",
    "message",
    "column",
    "value",
)
NON_DATA = ("title", "header", "blank", "footer", "total")
SIGNATURE_KINDS = ("cbgvnv", "tonghop_cks", "ca_thue_bao")
RATE_TOLERANCE = 0.1  # percentage points

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


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class CleanResult:
    """What ``clean_period`` wrote, with views for the notebook (Vietnamese column labels)."""

    period: str
    out_dir: Path
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    quality: dict
    unmatched_schools: pd.DataFrame
    duplicate_rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- views -------------------------------------------------------------------------------

    def inputs(self) -> pd.DataFrame:
        """Files and sheets read: kind, serving folder; then skipped sheets, then the files
        not read."""
        rows = [
            {
                "Tệp": i["file"],
                "Trang": i["sheet"],
                "Loại bảng": K.KIND_TITLES.get(i["kind"], i["kind"]),
                "Thư mục phục vụ": i["folder"],
                "Mã hoá": i.get("encoding") or i.get("legacy_encoding") or "",
            }
            for i in self.quality["inputs"]
        ]
        rows += [
            {
                "Tệp": s["file"],
                "Trang": s["sheet"],
                "Loại bảng": "(bỏ qua) " + s["reason"],
                "Thư mục phục vụ": "",
                "Mã hoá": "",
            }
            for s in privacy.public_quality(self.quality)["skipped_sheets"]
        ]
        rows += [
            {
                "Tệp": u["file"],
                "Trang": "",
                "Loại bảng": "(không đọc) " + u["reason"],
                "Thư mục phục vụ": "",
                "Mã hoá": "",
            }
            for u in self.quality.get("unread_files", [])
        ]
        return pd.DataFrame(
            rows, columns=["Tệp", "Trang", "Loại bảng", "Thư mục phục vụ", "Mã hoá"]
        )

    def unread_files(self) -> pd.DataFrame:
        """The files of the period's folders that were not read, with the reason."""
        return pd.DataFrame(
            [(u["file"], u["reason"]) for u in self.quality.get("unread_files", [])],
            columns=["Tệp", "Lý do không đọc"],
        )

    def served(self) -> pd.DataFrame:
        """Kind -> the folder that served it (carry-forward)."""
        return pd.DataFrame(
            [
                {"Loại bảng": K.KIND_TITLES[k], "Thư mục phục vụ": v or "(không có dữ liệu)"}
                for k, v in self.quality["served"].items()
            ]
        )

    def accounting(self) -> pd.DataFrame:
        """Per input sheet: rows read = kept + quarantined + non-data, with a ✓."""
        rows = []
        for i in self.quality["inputs"]:
            nd = i["non_data"]
            rows.append(
                {
                    "Tệp": i["file"],
                    "Trang": i["sheet"],
                    "Loại bảng": i["kind"],
                    "Số dòng đọc": i["rows_read"],
                    "Giữ lại": i["kept"],
                    "Cách ly": i["quarantined"],
                    "Tiêu đề": nd["title"],
                    "Dòng tên cột": nd["header"],
                    "Dòng trống": nd["blank"],
                    "Chân trang": nd["footer"],
                    "Dòng tổng": nd["total"],
                    "Cân đối": "✓" if i["balanced"] else "✗",
                }
            )
        return pd.DataFrame(rows)

    def repairs(self) -> pd.DataFrame:
        """Repairs counted by kind."""
        items = sorted(self.quality["repairs"].items())
        return pd.DataFrame(items, columns=["Loại sửa", "Số ô / dòng"])

    def quarantine_summary(self) -> pd.DataFrame:
        """Quarantined rows per kind and reason."""
        q = self.quarantine
        if q.empty:
            return pd.DataFrame(columns=["Loại bảng", "Lý do", "Mô tả", "Số dòng"])
        out = q.groupby(["kind", "reason"]).size().rename("n").reset_index()
        out["label"] = out["reason"].map(REASON_LABELS).fillna(out["reason"])
        out = out[["kind", "reason", "label", "n"]]
        out.columns = ["Loại bảng", "Lý do", "Mô tả", "Số dòng"]
        return out

    def quarantine_examples(self, n: int = 3) -> pd.DataFrame:
        """A few quarantined rows per reason (file, sheet, row, message; no personal value,
        free text hidden: ``privacy.public_quarantine``)."""
        q = privacy.public_quarantine(self.quarantine)
        cols = ["reason", "source_file", "source_sheet", "source_row", "column", "value", "message"]
        ex = q.groupby("reason", sort=True).head(n)[cols] if len(q) else q[cols]
        ex = ex.sort_values(["reason", "source_file", "source_sheet", "source_row"])
        ex.columns = ["Lý do", "Tệp", "Trang", "Dòng", "Cột", "Giá trị", "Thông báo"]
        return ex.reset_index(drop=True)

    def unmatched(self) -> pd.DataFrame:
        """Unmatched school names with suggestions."""
        u = self.unmatched_schools
        out = u[["kind", "school_name_raw", "school_code_raw", "reason", "n_rows", "candidates"]]
        out.columns = ["Loại bảng", "Tên trường", "Mã trường", "Lý do", "Số dòng", "Gợi ý"]
        return out.reset_index(drop=True)

    def duplicates(self) -> pd.DataFrame:
        """Duplicate people: the row kept and the rows dropped, with the rule applied."""
        d = self.duplicate_rows
        if d.empty:
            return pd.DataFrame(columns=["Quy tắc", "Giữ", "Bỏ"])
        out = d[["rule", "kept", "dropped"]].copy()
        out.columns = ["Quy tắc", "Giữ", "Bỏ"]
        return out

    def left_staff(self) -> pd.DataFrame:
        """Staff no longer working, by status (excluded from every denominator)."""
        by = self.quality["left_staff"]["by_status"]
        return pd.DataFrame(sorted(by.items()), columns=["Trạng thái CB", "Số người"])

    def warnings(self) -> pd.DataFrame:
        """The warnings, quoted raw texts hidden (``privacy.public_quality``)."""
        w = privacy.public_quality(self.quality)["warnings"]
        cols = ["code", "kind", "file", "sheet", "row", "message"]
        out = pd.DataFrame(w, columns=cols)
        out.columns = ["Mã", "Loại bảng", "Tệp", "Trang", "Dòng", "Thông báo"]
        return out

    def certificates(self) -> pd.DataFrame:
        """The providers' lists and their join to the staff lists (``quality.json
        ["certificates"]``), one line per count, Vietnamese labels; per-school counts as
        ``mã trường: n`` lists. No personal data (counts, providers, school codes)."""
        q = self.quality.get("certificates", {})

        def per(d: dict) -> str:
            return "; ".join(f"{k}: {v}" for k, v in sorted(d.items())) if d else ""

        un = q.get("unmatched_certificate", {})
        over = q.get("overruled", {})
        exp = q.get("expiring_before_window", {})
        missing = q.get("signature_source_missing", {})
        inst = q.get("institutions", {})
        no_cert = q.get("staff_without_certificate", 0)
        end = fmt_date(pd.Timestamp(q["window_end"])) if q.get("window_end") else ""
        rows = [
            ("Có danh sách thuê bao của nhà cung cấp", "có" if q.get("lists") else "không", ""),
            ("Chứng thư đọc được", q.get("certificates_read", 0), ""),
            ("Chứng thư dùng được", q.get("certificates_kept", 0), per(q.get("by_provider", {}))),
            ("Chứng thư bị cách ly", q.get("certificates_refused", 0), ""),
            ("Chứng thư còn hiệu lực tại kỳ", q.get("active_on_period", 0), ""),
            ("Chứng thư khớp CBGVNV", q.get("matched", 0), ""),
            ("Chứng thư không khớp CBGVNV nào", un.get("total", 0), per(un.get("by_provider", {}))),
            ("  trong đó theo trường (nếu danh sách ghi đơn vị)", "", per(un.get("by_school", {}))),
            ("CBGVNV lấy chữ ký số từ danh sách nhà cung cấp", q.get("staff_joined", 0), ""),
            ("CBGVNV đang làm việc không có chứng thư nào", no_cert, ""),
            ("CBGVNV đang làm việc không có Số CCCD", q.get("staff_without_cccd", 0), ""),
            ("Số CCCD của CBGVNV không hợp lệ (không nối được)", q.get("staff_bad_cccd", 0), ""),
            ("Số CCCD mất số 0 đầu (đã bù)", q.get("staff_cccd_padded", 0), ""),
            ("Trạng thái tự khai bị thay bằng danh sách nhà cung cấp", over.get("total", 0),
             per(over.get("by_school", {}))),
            (f"Chứng thư hết hạn trước {end}", exp.get("total", 0),
             per(exp.get("by_school", {}))),
            ("CBGVNV không có nguồn chữ ký số (không cột Chữ ký số, không danh sách)",
             missing.get("total", 0), per(missing.get("by_school", {}))),
            ("Trường có chữ ký số tổ chức / sẵn sàng tại kỳ",
             f"{inst.get('schools', 0)} / {inst.get('ready', 0)}", ""),
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["Nội dung", "Số lượng", "Chi tiết"]).astype(
            {"Số lượng": "str"}
        )

    def total_checks(self) -> pd.DataFrame:
        t = self.quality["total_checks"]
        cols = ["kind", "file", "sheet", "row", "column", "reported", "computed", "ok"]
        out = pd.DataFrame(t, columns=cols)
        out.columns = ["Loại bảng", "Tệp", "Trang", "Dòng", "Cột", "Dòng tổng", "Tổng tính", "Khớp"]
        return out


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _stack(tables: list[RawTable]) -> pd.DataFrame:
    """Data rows of several sheets as one frame with ``_tid`` and source columns."""
    frames = []
    for tid, t in enumerate(tables):
        personal = [c for c in t.data.columns if c in K.PERSONAL_COLUMNS]
        # Values as read (str for CSV, object for Excel): every check works per distinct value.
        d = t.data.drop(columns=personal)
        d = d.assign(
            _tid=tid,
            source_file=t.file,
            source_sheet=t.sheet,
            source_row=np.asarray(t.data.index, dtype="int64"),
        )
        frames.append(d.reset_index(drop=True))
    if not frames:
        return pd.DataFrame(
            {
                "_tid": pd.Series([], dtype="int64"),
                "source_file": pd.Series([], dtype="str"),
                "source_sheet": pd.Series([], dtype="str"),
                "source_row": pd.Series([], dtype="int64"),
            }
        )
    df = pd.concat(frames, ignore_index=True)
    df["source_file"] = df["source_file"].astype("str")
    df["source_sheet"] = df["source_sheet"].astype("str")
    df["source_row"] = df["source_row"].astype("int64")
    df["_tid"] = df["_tid"].astype("int64")
    return df


def _source(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The source columns (file, sheet, row) every processed table carries."""
    return {col: df[col] for col in schemas.SOURCE_COLUMNS}


def _staff_level(
    raw_level: pd.Series, school_codes: pd.Series, schools: pd.DataFrame, stats: dict[str, int]
) -> pd.Series:
    """The level of each staff row: its school's level; for a multi-level school, the row's
    own ``Cấp học`` / ``Cấp dạy`` where that names one of the levels the school teaches, else
    ``vocab.MULTI_LEVEL`` (the school's levels jointly: counted on the "Trường nhiều cấp học"
    row, ``staff_level_joint``). The staff list has no grade or subject column to go by."""
    level = _level_of(school_codes, schools)
    multi = (level == vocab.MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return level
    own, _ = parse.parse_level(raw_level)
    taught = _level_of(school_codes, schools, "levels")
    fits = [
        isinstance(o, str) and isinstance(t, str) and o in t.split(vocab.LEVELS_SEP)
        for o, t in zip(own.tolist(), taught.tolist(), strict=True)
    ]
    use = multi & np.asarray(fits, dtype=bool)
    stats["staff_level_own"] = int(use.sum())
    stats["staff_level_joint"] = int((multi & ~use).sum())
    return level.mask(use, own.to_numpy(dtype=object))


def _record_level(grade: pd.Series, school_codes: pd.Series, schools: pd.DataFrame) -> pd.Series:
    """The level of each class of the records: its school's; for a multi-level school, the
    level its Khối belongs to (1-5 Tiểu học, 6-9 THCS, 10-12 THPT) when the school teaches it,
    else ``vocab.MULTI_LEVEL``."""
    level = _level_of(school_codes, schools)
    multi = (level == vocab.MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return level
    g = pd.to_numeric(grade).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    of_grade = np.select(
        [(g >= 1) & (g <= 5), (g >= 6) & (g <= 9), (g >= 10) & (g <= 12)],
        [vocab.TH, vocab.THCS, vocab.THPT],
        default="",
    )
    taught = _level_of(school_codes, schools, "levels")
    fits = [
        bool(lv) and isinstance(t, str) and lv in t.split(vocab.LEVELS_SEP)
        for lv, t in zip(of_grade.tolist(), taught.tolist(), strict=True)
    ]
    use = multi & np.asarray(fits, dtype=bool)
    return level.mask(use, of_grade.astype(object))


def _level_of(school_codes: pd.Series, schools: pd.DataFrame, column: str = "level") -> pd.Series:
    """The level (Cấp học) of each matched school code, from the school list.

    Looked up once per distinct code (``map`` on the distinct codes, spread back by their
    factorisation), not once per row."""
    codes, uniques = pd.factorize(school_codes, use_na_sentinel=True)
    levels = pd.Series(uniques).map(
        pd.Series(schools[column].to_numpy(), index=schools["school_code"])
    )
    return pd.Series(
        levels.array.take(codes, allow_fill=True), index=school_codes.index, name=school_codes.name
    )


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(None, index=df.index, dtype=object)


def _display(s: pd.Series) -> pd.Series:
    """Raw values as short text for messages (per unique value), with phone numbers and
    e-mail addresses masked (``privacy.mask_contacts``); missing -> ""."""

    def show(v):
        if isinstance(v, pd.Timestamp):
            return f"{v.day:02d}/{v.month:02d}/{v.year}"
        return privacy.mask_contacts(text.clean_text(v) or "")

    return text.map_unique(s, show).fillna("")


def _shown(s: pd.Series):
    """``_display`` of ``s`` as a function of a row mask (computed for those rows only)."""
    return lambda rows: _display(s[rows])


def _type_mask(s: pd.Series, predicate) -> pd.Series:
    """``predicate(value)`` per unique value (missing -> False)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    facts = [bool(predicate(v)) for v in text.unique_values(uniques)]
    per_code = np.array([*facts, False], dtype=bool)  # code -1 (missing) -> the last slot
    return pd.Series(per_code[codes], index=s.index, name=s.name)


def _is_text_cell(s: pd.Series) -> pd.Series:
    return _type_mask(s, lambda v: isinstance(v, str))


def _is_number_cell(s: pd.Series) -> pd.Series:
    return _type_mask(
        s,
        lambda v: isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool),
    )


def _warning_at(df: pd.DataFrame, i: int, code: str, kind: str, **fields) -> dict:
    """A ``quality.json`` warning at row ``i`` of a stacked frame (its file, sheet, row)."""
    return {
        "code": code,
        "kind": kind,
        "file": df["source_file"].iat[i],
        "sheet": df["source_sheet"].iat[i],
        "row": int(df["source_row"].iat[i]),
        **fields,
    }


def _unknown_width_warning(df: pd.DataFrame, numeric: pd.Series, kind: str, label: str) -> dict:
    """A column's codes stored as numbers with none stored as text: the width is unknown."""
    first = int(np.flatnonzero(numeric.to_numpy())[0])
    return _warning_at(
        df,
        first,
        "code_width_unknown",
        kind,
        message=(
            f"{label} ở {fmt_int(int(numeric.sum()))} dòng được lưu dạng số (Excel bỏ các số 0 "
            f"ở đầu) và không có mã nào lưu dạng chữ để biết độ dài đúng: giữ nguyên như đã "
            f"đọc. Nếu mã có số 0 ở đầu, hãy định dạng cột {label} là Text (chữ) trong Excel, "
            "nhập lại mã rồi chạy lại."
        ),
    )


def date_checks(
    df: pd.DataFrame,
    checks: _Checks,
    columns: tuple[tuple[str, str], ...],
    stats: dict[str, int] | None = None,
) -> dict[str, pd.Series]:
    """The dates of ``columns`` (canonical name, Vietnamese label), day first; a cell that is
    not a date is refused (``bad_date``, quoting it). With ``stats``, the dates read from text
    and from Excel serial numbers are counted (``date_text``, ``date_serial``)."""
    dates = {}
    for col, label in columns:
        raw = _col(df, col)
        values, bad = parse.parse_date_vn(raw)
        dates[col] = values
        shown = _shown(raw)
        checks.add(
            "bad_date",
            bad,
            col,
            shown,
            lambda rows, label=label, shown=shown: (
                f"{label} '"
                + shown(rows)
                + f"' không đọc được: cần {parse.EXPECTED_FORMAT['date']}. Hãy "
                "sửa ô này rồi chạy lại."
            ),
        )
        if stats is not None:
            is_text = _is_text_cell(raw) & values.notna()
            is_num = _is_number_cell(raw) & values.notna()
            stats["date_text"] = stats.get("date_text", 0) + int(is_text.sum())
            stats["date_serial"] = stats.get("date_serial", 0) + int(is_num.sum())
    return dates


def _missing_text(index: pd.Index) -> pd.Series:
    """``pd.Series(None, index=index, dtype="str")``, built from a pyarrow array of nulls
    (several times faster than pandas spreading the scalar)."""
    return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="str"), index=index)


class _Checks:
    """Row checks of one stacked frame: the first failing reason per row wins."""

    def __init__(self, df: pd.DataFrame, kind: str, tables: list[RawTable]):
        self.df = df
        self.kind = kind
        self.tables = tables
        self.reason = _missing_text(df.index)
        self.column = _missing_text(df.index)
        self.value = _missing_text(df.index)
        self.message = _missing_text(df.index)
        self._unread_cells()

    def _unread_cells(self) -> None:
        """First of every kind's checks: a data row holding a formula saved without a value
        or an error value (``RawTable.unread_cells``) is refused, naming the cell
        (``formula_no_value``/``formula_error``); its blank is never read as a value (data
        contract section 3)."""
        found = [
            (tid, row, reason, column, message)
            for tid, t in enumerate(self.tables)
            for row, (reason, column, message) in t.unread_cells.items()
        ]
        if not found:
            return
        cells = pd.DataFrame(found, columns=["_tid", "source_row", "reason", "col", "msg"])
        at = self.df[["_tid", "source_row"]].merge(cells, on=["_tid", "source_row"], how="left")
        at.index = self.df.index
        for (reason, column), _ in cells.groupby(["reason", "col"], sort=True):
            rows = (at["reason"] == reason) & (at["col"] == column)
            self.add(reason, rows, column, "", at["msg"])

    def add(self, reason: str, mask: pd.Series, column: str, value, message) -> None:
        """Refuse the rows of ``mask`` not refused yet. ``value``/``message``: a Series, a
        scalar, or a function of the rows' boolean mask returning either for those rows only
        (so that nothing is formatted for rows that pass, e.g. a million good ones)."""
        new = (mask.fillna(False).astype(bool) & self.reason.isna()).to_numpy()
        if not new.any():
            return
        self.reason[new] = reason
        self.column[new] = column
        self.value[new] = self._rows(value, new).astype("str").fillna("")
        self.message[new] = self._rows(message, new).astype("str")

    def _rows(self, value, new: np.ndarray) -> pd.Series:
        """``value`` (Series, scalar or function of the mask) on the rows of ``new``."""
        if callable(value):
            value = value(new)
            if isinstance(value, pd.Series):
                return value
            return pd.Series(value, index=self.df.index[new])
        val = value if isinstance(value, pd.Series) else pd.Series(value, index=self.df.index)
        return val[new]

    def add_match(self, m: match.MatchResult) -> None:
        bad = m.reason.notna()
        for reason in sorted(m.reason[bad].unique()):
            sel = m.reason == reason
            col = m.column.where(sel)
            # column per row differs (name or code): add per column value.
            for c in sorted(col.dropna().unique()):
                rows = sel & (m.column == c)
                self.add(reason, rows, c, m.value.fillna(""), m.message)

    @property
    def refused(self) -> pd.Series:
        return self.reason.notna()

    def quarantine(self) -> pd.DataFrame:
        bad = self.refused.to_numpy()
        if not bad.any():  # (selecting no row of a big frame is not free)
            return _empty_quarantine()
        df = self.df.loc[bad]
        if df.empty:
            return _empty_quarantine()
        # Source header text of the blamed column, per sheet.
        headers = pd.DataFrame(
            [
                (tid, canon, src)
                for tid, t in enumerate(self.tables)
                for canon, src in sorted(t.columns.items())
            ],
            columns=["_tid", "column", "header"],
        )
        q = pd.DataFrame(
            {
                "_tid": df["_tid"].to_numpy(),
                "source_file": df["source_file"].to_numpy(),
                "source_sheet": df["source_sheet"].to_numpy(),
                "source_row": df["source_row"].to_numpy(),
                "kind": self.kind,
                "reason": self.reason[bad].to_numpy(),
                "message": self.message[bad].to_numpy(),
                "column": self.column[bad].to_numpy(),
                "value": self.value[bad].to_numpy(),
            }
        )
        if len(headers):
            headers["_tid"] = headers["_tid"].astype("int64")
            q = q.merge(headers, on=["_tid", "column"], how="left")
            q["column"] = q["header"].fillna(q["column"])
        where = (
            "Tệp “"
            + q["source_file"].astype("str")
            + "”"
            + np.where(
                q["source_sheet"].astype("str") != "", ", trang “" + q["source_sheet"] + "”", ""
            )
            + ", dòng "
            + q["source_row"].astype("str")
            + ": "
        )
        q["message"] = where + q["message"].astype("str")
        return _conform_quarantine(q)


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series([], dtype="int64" if c == "source_row" else "str")
            for c in QUARANTINE_COLUMNS
        }
    )


def _conform_quarantine(q: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: q[c] for c in QUARANTINE_COLUMNS})
    for c in QUARANTINE_COLUMNS:
        out[c] = out[c].astype("int64" if c == "source_row" else "str")
    out["value"] = out["value"].fillna("")
    out["column"] = out["column"].fillna("")
    return out.reset_index(drop=True)


def _count_check(
    checks: _Checks,
    df: pd.DataFrame,
    column: str,
    label: str,
    required: bool,
    parsed: dict[str, pd.Series],
    *,
    stats: dict[str, int] | None = None,
) -> None:
    """Parse a count column into ``parsed[column]``; refuse missing/bad/negative values."""
    raw = _col(df, column)
    values, bad = parse.parse_int_vn(raw)
    parsed[column] = values
    shown = _shown(raw)
    if required:
        checks.add(
            "missing_count",
            values.isna() & ~bad,
            column,
            "",
            f"Thiếu {label}. Hãy điền số (số nguyên ≥ 0) rồi chạy lại.",
        )
    checks.add(
        "bad_number",
        bad,
        column,
        shown,
        lambda rows: (
            f"{label} '" + shown(rows) + f"' không đọc được: cần {parse.EXPECTED_FORMAT['int']}. "
            "Hãy sửa ô này rồi chạy lại."
        ),
    )
    checks.add(
        "negative_count",
        values < 0,
        column,
        shown,
        lambda rows: f"{label} '" + shown(rows) + "' là số âm. Hãy sửa thành số ≥ 0 rồi chạy lại.",
    )
    if stats is not None:
        stats["number_text"] = stats.get("number_text", 0) + int(
            (_is_text_cell(raw) & values.notna() & ~bad).sum()
        )


def _match(df: pd.DataFrame, schools: pd.DataFrame, aliases: pd.DataFrame) -> match.MatchResult:
    names = df["school_name"] if "school_name" in df.columns else None
    codes = df["school_code"] if "school_code" in df.columns else None
    if names is None and codes is None:  # cannot happen for a recognised kind
        names = pd.Series(None, index=df.index, dtype="str")

    # Built only if some name is ambiguous (a 1,66 million-row concatenation otherwise).
    def groups() -> pd.Series:
        return df["source_file"] + "\x1f" + df["source_sheet"]

    m = match.match_schools(names, codes, schools, aliases, groups=groups)
    if not len(m.unmatched):  # every row matched: no message, nothing to mask
        return m
    # The raw names and codes shown in messages are masked; the list's codes are not personal.
    keep = frozenset(schools["school_code"].dropna().tolist())
    m.value = privacy.mask_contacts_series(m.value)
    m.message = privacy.mask_contacts_series(m.message, keep)
    m.unmatched = m.unmatched.assign(
        school_code_raw=privacy.mask_contacts_series(m.unmatched["school_code_raw"]),
        school_name_raw=privacy.mask_contacts_series(m.unmatched["school_name_raw"]),
    )
    return m


def _count_methods(stats: dict[str, int], m: match.MatchResult, raw_codes: pd.Series | None):
    counts = m.method_counts()
    for method in ("name", "alias", "ascii"):
        stats[f"school_{method}"] = stats.get(f"school_{method}", 0) + counts[method]
    if raw_codes is not None:
        parsed, _ = parse.parse_code(raw_codes)
        padded = (m.method == "code") & (parsed.str.len() < m.school_code.str.len())
        stats["code_padded"] = stats.get("code_padded", 0) + int(padded.fillna(False).sum())


def _unmatched_table(kind: str, m: match.MatchResult) -> pd.DataFrame:
    u = m.unmatched.copy()
    u.insert(0, "kind", kind)
    return u


def _total_checks(
    tables: list[RawTable], df: pd.DataFrame, parsed: dict[str, pd.Series], columns: list[str]
) -> list[dict]:
    """Compare the last total row of each sheet with the sum of its data rows."""
    out = []
    for tid, t in enumerate(tables):
        if t.totals is None or len(t.totals) == 0:
            continue
        total_row = t.totals.iloc[[-1]]
        row_no = int(t.totals.index[-1])
        sel = (df["_tid"] == tid).to_numpy()
        for col in columns:
            if col not in t.totals.columns or col not in parsed:
                continue
            reported, bad = (
                parse.parse_int_vn(total_row[col])
                if col != "speed_mbps"
                else parse.parse_float_vn(total_row[col])
            )
            rep = reported.iloc[0]
            if pd.isna(rep) or bool(bad.iloc[0]):
                continue
            computed = int(parsed[col][sel].fillna(0).clip(lower=0).sum())
            out.append(
                {
                    "kind": t.kind,
                    "file": t.file,
                    "sheet": t.sheet,
                    "row": row_no,
                    "column": col,
                    "reported": int(rep),
                    "computed": computed,
                    "ok": bool(int(rep) == computed),
                }
            )
    return out


def _total_warnings(checks: list[dict]) -> list[dict]:
    return [
        {
            "code": "total_mismatch",
            "kind": c["kind"],
            "file": c["file"],
            "sheet": c["sheet"],
            "row": c["row"],
            "message": (
                f"Dòng tổng ghi {c['column']} = {c['reported']} nhưng tổng các dòng dữ liệu là "
                f"{c['computed']}. Số liệu vẫn được dùng theo từng dòng; hãy kiểm tra lại dòng "
                "tổng hoặc các dòng bị cách ly."
            ),
        }
        for c in checks
        if not c["ok"]
    ]


#: Most warnings listed per column for text outside its closed vocabulary (the count of
#: rows is in ``repairs``; one more warning says how many distinct values were not listed).
OTHER_WARNINGS_MAX = 50


def _contact_mask(s: pd.Series) -> pd.Series:
    """True where a text cell holds a phone-like digit run or an e-mail address."""
    return _type_mask(s, privacy.contains_contact)


def _other_warnings(
    kind: str,
    df: pd.DataFrame,
    raw: pd.Series,
    rows: pd.Series,
    label: str,
    written: str,
    stats: dict[str, int],
    stat_key: str,
) -> list[dict]:
    """Warnings for the kept rows of ``rows`` whose ``raw`` text left a closed vocabulary (it
    is written as ``written``): one per distinct text, masked, at its first row; the number
    of rows is counted in ``stats[stat_key]`` (only when there is one)."""
    sel = rows.fillna(False).to_numpy(dtype=bool)
    if not sel.any():
        return []
    stats[stat_key] = stats.get(stat_key, 0) + int(sel.sum())
    shown = _display(raw[sel])
    first = pd.DataFrame({"shown": shown.to_numpy(), "i": np.flatnonzero(sel)})
    groups = first.groupby("shown", sort=False)["i"].agg(["first", "size"])
    groups = groups.sort_values("first", kind="stable")
    out = []
    for value, (i, n) in groups.head(OTHER_WARNINGS_MAX).iterrows():
        out.append(
            _warning_at(
                df,
                i,
                "free_text_other",
                kind,
                quoted=[value],
                message=(
                    f"{label} '{value}' không thuộc danh mục: ghi là “{written}” ở {int(n)} "
                    "dòng (dòng này và các dòng cùng nội dung). Số điện thoại và e-mail đã "
                    "được che; hãy sửa ô theo danh mục (tên, số điện thoại không ghi vào cột "
                    "này) rồi chạy lại."
                ),
            )
        )
    if len(groups) > OTHER_WARNINGS_MAX:
        i = int(groups["first"].iat[OTHER_WARNINGS_MAX])
        out.append(
            _warning_at(
                df,
                i,
                "free_text_other",
                kind,
                message=(
                    f"Còn {len(groups) - OTHER_WARNINGS_MAX} nội dung khác của cột {label} "
                    f"không thuộc danh mục ({int(groups['size'].iloc[OTHER_WARNINGS_MAX:].sum())}"
                    f" dòng), cũng ghi là “{written}”."
                ),
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


@dataclass
class _KindOut:
    table: pd.DataFrame
    quarantine: pd.DataFrame
    kept_mask: pd.Series  # per stacked row
    stacked: pd.DataFrame
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    total_checks: list[dict] = field(default_factory=list)
    unmatched: pd.DataFrame | None = None
    #: ``school_levels`` (the school list only): one row per school and level it teaches.
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


def clean_schools(tables: list[RawTable], code_evidence: pd.Series | None = None) -> _KindOut:
    """The school list -> ``schools`` (refused rows quarantined).

    Codes are zero-padded to the width ``match.code_width`` finds: from the list's codes stored
    as text, else from ``code_evidence`` (the raw codes of the period's other files and of the
    alias table); with neither, codes stay as read and a warning says so."""
    df = _stack(tables)
    checks = _Checks(df, "truong", tables)
    stats: dict[str, int] = {}
    warnings: list[dict] = []
    raw_code = _col(df, "school_code")
    code, bad_code = parse.parse_code(raw_code)
    width = match.code_width(raw_code, code_evidence)
    if not width:
        numeric = _is_number_cell(raw_code) & code.notna()
        if numeric.any():
            warnings.append(_unknown_width_warning(df, numeric, "truong", "Mã trường"))
    padded = parse.pad_code(code, width) if width else code
    stats["code_padded"] = int((padded.str.len() > code.str.len()).fillna(False).sum())
    code = padded.astype("str")
    shown_code = _display(raw_code)
    checks.add(
        "missing_code",
        code.isna() & ~bad_code,
        "school_code",
        "",
        "Thiếu mã trường. Hãy điền mã trường rồi chạy lại.",
    )
    checks.add(
        "bad_code",
        bad_code,
        "school_code",
        shown_code,
        "Mã trường '" + shown_code + f"' không hợp lệ: cần {parse.EXPECTED_FORMAT['code']}.",
    )
    name = text.clean_text_series(_col(df, "school_name"))
    checks.add(
        "missing_name",
        name.isna(),
        "school_name",
        "",
        "Thiếu tên trường. Hãy điền tên trường rồi chạy lại.",
    )
    shown_name = _shown(name)
    checks.add(
        "contact_in_text",
        _contact_mask(name),
        "school_name",
        shown_name,
        lambda rows: (
            "Tên trường '"
            + shown_name(rows)
            + "' có số điện thoại hoặc e-mail (đã che): tên trường không được chứa thông tin "
            "liên hệ. Hãy sửa tên trường theo danh sách rồi chạy lại."
        ),
    )
    raw_level = _col(df, "level")
    row_levels, bad_level, unnamed = _row_levels(raw_level, name, stats)
    shown_level = _display(raw_level)
    checks.add(
        "bad_level",
        bad_level | (row_levels.isna() & ~unnamed),
        "level",
        shown_level,
        "Cấp học '" + shown_level + f"' không rõ: cần {parse.EXPECTED_FORMAT['level']}. Hãy "
        "sửa ô này rồi chạy lại.",
    )
    checks.add(
        "bad_level",
        unnamed,
        "level",
        shown_level,
        "Cấp học '" + shown_level + "': trường nhiều cấp học nhưng cả ô Cấp học lẫn tên trường "
        "đều không nêu các cấp. Hãy ghi các cấp vào ô Cấp học (ví dụ TH&THCS), hoặc mỗi cấp "
        "một dòng, rồi chạy lại.",
    )
    parsed: dict[str, pd.Series] = {}
    _count_check(checks, df, "n_classes", "Số lớp", True, parsed, stats=stats)
    _count_check(checks, df, "n_pupils", "Số học sinh", True, parsed, stats=stats)
    # Optional pupil-id counts: a bad value is dropped (warning), the school is kept.
    for col, label in (
        ("n_pupils_with_id", "Số HS có mã định danh"),
        ("n_pupils_verified", "Số HS đã xác thực"),
    ):
        raw = _col(df, col)
        values, bad = parse.parse_int_vn(raw)
        wrong = bad | (values < 0).fillna(False) | (values > parsed["n_pupils"]).fillna(False)
        wrong = wrong & checks.reason.isna()
        for i in np.flatnonzero(wrong.to_numpy())[:50]:
            shown = _display(raw.iloc[[i]]).iat[0]
            warnings.append(
                _warning_at(
                    df,
                    i,
                    "bad_optional_count",
                    "truong",
                    quoted=[shown],
                    message=f"{label} '{shown}' không hợp lệ (không đọc được, âm hoặc lớn "
                    "hơn số học sinh): để trống.",
                )
            )
        parsed[col] = values.mask(wrong.to_numpy())
    # A code listed twice at the same level: the first kept row wins (duplicates among the rows
    # not yet refused). Rows of one code at different levels are one multi-level school.
    ok_codes = code.where(checks.reason.isna())
    dup = _level_duplicates(ok_codes, row_levels)
    checks.add(
        "duplicate_school",
        dup,
        "school_code",
        code.fillna(""),
        "Mã trường '" + code.fillna("") + "' đã có ở một dòng trước (cùng cấp học): dòng này bị "
        "bỏ qua. Hãy xoá dòng lặp rồi chạy lại.",
    )
    kept = ~checks.refused
    # Ownership is a closed vocabulary; a ward or district is a name of the list, unless it
    # holds a phone number or an e-mail: then it is written as "Khác" (raw text masked in
    # the warnings only).
    raw_own = _col(df, "ownership")
    ownership, other_own = parse.parse_ownership(raw_own)
    ownership = parse.or_other(ownership, other_own)
    warnings += _other_warnings(
        "truong", df, raw_own, other_own & kept, "Loại hình", parse.OTHER, stats,
        "ownership_other",
    )  # fmt: skip
    places = {}
    for col, label in (
        ("ward", "Phường"),
        ("district", "Quận/Huyện"),
        ("commune", "Xã/Phường"),
        ("province", "Tỉnh/Thành phố"),
    ):
        place = text.clean_text_series(_col(df, col))
        contact = _contact_mask(place)
        warnings += _other_warnings(
            "truong", df, place, contact & kept, label, parse.OTHER, stats, f"{col}_other"
        )
        places[col] = place.mask(contact.to_numpy(), parse.OTHER)
    out = pd.DataFrame(
        {
            "school_code": code,
            "school_name": name,
            "levels": row_levels,
            "ownership": ownership,
            "ward": places["ward"],
            "district": places["district"],
            # as the list writes them; ``units.assign_units`` applies the period's rule
            "province": places["province"],
            "commune": places["commune"],
            "n_classes": parsed["n_classes"],
            "n_pupils": parsed["n_pupils"],
            "n_pupils_with_id": parsed["n_pupils_with_id"],
            "n_pupils_verified": parsed["n_pupils_verified"],
            **_source(df),
        }
    )[kept.to_numpy()]
    out, school_levels, level_warnings = _merge_levels(out, df, stats)
    warnings += level_warnings
    table = schemas.conform("schools", out)
    tc = _total_checks(
        tables,
        df[kept.to_numpy()],
        {k: v[kept.to_numpy()] for k, v in parsed.items()},
        ["n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified"],
    )
    warnings += _total_warnings(tc)
    extra = {"school_levels": schemas.conform("school_levels", school_levels)}
    return _KindOut(table, checks.quarantine(), kept, df, stats, warnings, tc, extra=extra)


def _row_levels(
    raw_level: pd.Series, name: pd.Series, stats: dict[str, int]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(levels of each school-list row joined by ``vocab.LEVELS_SEP``, bad Cấp học, multi-level
    without its levels anywhere).

    ``Cấp học`` names one level or several (``TH&THCS``, ``Tiểu học, THCS``:
    ``parse.parse_levels``). A blank ``Cấp học`` takes the levels the name states ("Trường
    TH&THCS Đoàn Kết"; ``level_from_name``); ``Liên cấp`` / ``Trường nhiều cấp học`` takes
    them from the name too and needs two or more there (``multi_level_from_name``)."""
    levels, bad = parse.parse_levels(raw_level)
    stated = text.stated_levels_series(name).str.replace("|", vocab.LEVELS_SEP, regex=False)
    from_name = levels.isna() & ~bad & stated.notna()
    stats["level_from_name"] = int(from_name.sum())
    multi = (levels == vocab.MULTI_LEVEL).fillna(False).astype(bool)
    named = stated.str.contains(vocab.LEVELS_SEP, regex=False).fillna(False).astype(bool)
    if (multi & named).any():  # new counts only when there is something to count: the quality
        stats["multi_level_from_name"] = int((multi & named).sum())  # sheet of old data stays
    levels = levels.mask(multi.to_numpy(), stated.where(named))
    levels = levels.fillna(stated.where(from_name))
    return levels, bad, multi & ~named


def _level_duplicates(codes: pd.Series, row_levels: pd.Series) -> pd.Series:
    """Rows whose code was already listed, on an earlier row, at one of the same levels."""
    pairs = pd.DataFrame(
        {"code": codes.to_numpy(dtype=object), "levels": row_levels.to_numpy(dtype=object)}
    )
    pairs["row"] = np.arange(len(pairs))
    pairs = pairs.dropna()
    pairs["level"] = pairs["levels"].str.split(vocab.LEVELS_SEP, regex=False)
    pairs = pairs.explode("level")
    rows = pairs.loc[pairs.duplicated(["code", "level"], keep="first"), "row"].unique()
    dup = np.zeros(len(codes), dtype=bool)
    dup[rows] = True
    return pd.Series(dup, index=codes.index)


_SCHOOL_COUNTS = ("n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified")


def _merge_levels(
    rows: pd.DataFrame, df: pd.DataFrame, stats: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """The kept school-list rows (column ``levels``) -> (schools, school_levels, warnings).

    One school per code: the rows of one code at different levels (one row per school and
    level) become one school whose ``levels`` are theirs (in the order of ``vocab.LEVELS``),
    whose counts are their sums (a pupil-id count: unknown if one row leaves it blank), and
    whose name, ownership, place and source are the first row's. ``level`` is the level, or
    ``vocab.MULTI_LEVEL`` for two levels or more. ``school_levels`` keeps each row's counts under
    its level. A single row naming several levels (``TH&THCS``) has counts not split by level:
    its ``school_levels`` rows have them unknown (NA), the school keeps them in its totals, and
    the metrics count them once, on the ``Trường nhiều cấp học`` row (warning
    ``multi_level_unsplit``)."""
    rows = rows.reset_index(drop=True)
    parts = rows["levels"].astype(object).str.split(vocab.LEVELS_SEP, regex=False)
    unsplit = (parts.str.len() > 1).to_numpy()
    sl = rows[["school_code", *_SCHOOL_COUNTS]].assign(level=parts)
    sl.loc[unsplit, list(_SCHOOL_COUNTS)] = pd.NA
    sl = sl.explode("level")
    sl["_rank"] = sl["level"].map(vocab.rank)
    sl = sl.sort_values(["school_code", "_rank"], kind="stable").drop(columns="_rank")
    sl = sl[["school_code", "level", *_SCHOOL_COUNTS]]

    first = ~rows["school_code"].duplicated(keep="first")
    if not first.all():
        stats["multi_level_rows"] = int((~first).sum())
    if unsplit.any():
        stats["multi_level_unsplit"] = int(unsplit.sum())
    schools = rows[first.to_numpy()].copy()
    if not first.all():
        grouped = rows.groupby("school_code", sort=False)
        levels = grouped["levels"].agg(
            lambda v: vocab.LEVELS_SEP.join(
                vocab.order_levels(lv for t in v for lv in t.split(vocab.LEVELS_SEP))
            )
        )
        schools["levels"] = schools["school_code"].map(levels).to_numpy()
        for col in _SCHOOL_COUNTS:
            values = pd.to_numeric(rows[col]).astype("Int64")
            total = values.groupby(rows["school_code"], sort=False).sum(min_count=1)
            blank = values.isna().groupby(rows["school_code"], sort=False).any()
            schools[col] = pd.array(schools["school_code"].map(total.mask(blank)), "Int64")
    multi = schools["levels"].str.contains(vocab.LEVELS_SEP, regex=False).fillna(False)
    schools["level"] = schools["levels"].mask(multi.to_numpy(), vocab.MULTI_LEVEL)
    warnings = []
    # Rows of one code at several levels under names that differ (not only in their type
    # prefix): one school by the rule, but maybe two schools given one code by mistake.
    if not first.all():
        keys = text.school_key_series(rows["school_name"])
        differs = keys.groupby(rows["school_code"], sort=False).transform("nunique") > 1
        later = (differs & ~first).to_numpy(dtype=bool)
        for i in np.flatnonzero(later)[:50]:
            r = rows.iloc[i]
            first_name = schools.loc[schools["school_code"] == r["school_code"], "school_name"]
            warnings.append(
                {
                    "code": "multi_level_name_differs",
                    "kind": "truong",
                    "file": r["source_file"],
                    "sheet": r["source_sheet"],
                    "row": int(r["source_row"]),
                    "quoted": [str(r["school_name"])],
                    "message": (
                        f"Mã trường {r['school_code']} có ở nhiều dòng, mỗi dòng một cấp học, "
                        f"nhưng tên khác nhau ('{r['school_name']}' và "
                        f"'{first_name.iat[0]}'): được tính là một trường nhiều cấp học, tên "
                        "theo dòng đầu. Nếu là hai trường khác nhau, hãy sửa mã trường rồi chạy "
                        "lại."
                    ),
                }
            )
    for i in np.flatnonzero(unsplit)[:50]:
        r = rows.iloc[i]
        lv = ", ".join(str(r["levels"]).split(vocab.LEVELS_SEP))
        warnings.append(
            {
                "code": "multi_level_unsplit",
                "kind": "truong",
                "file": r["source_file"],
                "sheet": r["source_sheet"],
                "row": int(r["source_row"]),
                "message": (
                    f"Trường {r['school_code']} dạy nhiều cấp ({lv}) nhưng số lớp, số học sinh "
                    "không tách theo cấp: được tính một lần vào Tổng cộng và vào dòng "
                    f"“{vocab.MULTI_LEVEL}”, không vào từng cấp. Để tách, hãy ghi mỗi cấp một "
                    "dòng (cùng mã trường)."
                ),
            }
        )
    return schools, sl, warnings


def _staff_rows(
    tables: list[RawTable],
    schools: pd.DataFrame,
    aliases: pd.DataFrame,
    key: bytes,
    id_width: int | None = None,
    *,
    join: bool = False,
) -> _KindOut:
    """Staff lists -> checked rows (before dedup), with person keys and the CCCD join columns
    (``certificates.staff_join_columns``: in memory only)."""
    df = _stack(tables)
    # A per-school export (the CSDL ngành's) names its school in the title rows only.
    no_school = [
        i
        for i, t in enumerate(tables)
        if "school_code" not in t.data.columns and "school_name" not in t.data.columns
    ]
    if no_school and len(df):
        named = np.array(
            [
                certificates.title_school(t, schools, aliases) if i in no_school else None
                for i, t in enumerate(tables)
            ],
            dtype=object,
        )
        from_title = pd.Series(named[df["_tid"].to_numpy()], index=df.index, dtype=object)
        names = _col(df, "school_name").astype(object)
        df["school_name"] = names.where(~df["_tid"].isin(no_school), from_title)
    checks = _Checks(df, "cbgvnv", tables)
    stats: dict[str, int] = {}
    # Person id: normalised, zero-padded to the width of the ids stored as text (Excel drops
    # leading zeros of numbers only: ``match.code_width``, the rule of the school codes too).
    raw_id = _col(df, "staff_id")
    sid = privacy.normalise_staff_id(raw_id)
    width = id_width if id_width is not None else match.code_width(raw_id)
    warnings: list[dict] = []
    if width:
        sid = parse.pad_code(sid, width).astype("str")
    else:
        numeric = _is_number_cell(raw_id) & sid.notna()
        if sid[numeric].str.len().nunique() > 1:  # some numbers surely lost zeros: say so
            warnings.append(_unknown_width_warning(df, numeric, "cbgvnv", "Mã định danh"))
    checks.add(
        "missing_id",
        sid.isna(),
        "staff_id",
        "",
        "Thiếu Mã định danh của cán bộ. Hãy điền Mã định danh (theo CSDL ngành) rồi chạy lại.",
    )
    m = _match(df, schools, aliases)
    checks.add_match(m)
    _count_methods(stats, m, df["school_code"] if "school_code" in df.columns else None)
    raw_status = _col(df, "signature_status")
    signed, pending, bad_status = parse.parse_status(raw_status)
    shown_status = _shown(raw_status)
    checks.add(
        "bad_status",
        bad_status,
        "signature_status",
        shown_status,
        lambda rows: (
            "Trạng thái chữ ký số '"
            + shown_status(rows)
            + f"' không đọc được: cần {parse.EXPECTED_FORMAT['status']}."
            " Hãy sửa ô này rồi chạy lại."
        ),
    )
    raw_pos = _col(df, "position")
    role, title, bad_role = parse.parse_role(raw_pos)
    shown_pos = _shown(raw_pos)
    checks.add(
        "missing_role",
        role.isna() & ~bad_role,
        "position",
        "",
        "Thiếu chức vụ. Hãy điền chức vụ (Hiệu trưởng, Giáo viên, Nhân viên...) rồi chạy lại.",
    )
    checks.add(
        "bad_role",
        bad_role,
        "position",
        shown_pos,
        lambda rows: (
            "Chức vụ '"
            + shown_pos(rows)
            + f"' không rõ: cần {parse.EXPECTED_FORMAT['role']}. Hãy sửa ô này "
            "rồi chạy lại."
        ),
    )
    dates = date_checks(
        df, checks, (("issued_on", "Ngày cấp"), ("expires_on", "Ngày hết hạn")), stats
    )
    before = dates["expires_on"] < dates["issued_on"]
    shown_exp = _shown(dates["expires_on"])
    shown_iss = _shown(dates["issued_on"])
    checks.add(
        "expiry_before_issue",
        before,
        "expires_on",
        shown_exp,
        lambda rows: (
            "Ngày hết hạn "
            + shown_exp(rows)
            + " trước ngày cấp "
            + shown_iss(rows)
            + ". Hãy kiểm tra lại hai "
            "ngày này rồi chạy lại."
        ),
    )
    # Closed vocabularies: a status or provider typed as free text (a name, a phone number)
    # is written as "Khác"; its masked raw text goes to the warnings only.
    raw_emp = _col(df, "employment_status")
    status, other_status = parse.parse_employment(raw_emp)
    status = parse.or_other(status, other_status)
    active = status.isna() | (status == parse.ACTIVE_STATUS).fillna(False)
    stats["blank_status_active"] = int(status.isna().sum())
    pkey = privacy.person_key(sid, key, normalised=True)
    level = _staff_level(_col(df, "level"), m.school_code, schools, stats)
    folder = pd.Series(
        pd.array([t.folder for t in tables], dtype="str")[df["_tid"].to_numpy()], index=df.index
    )
    raw_provider = _col(df, "provider")
    provider, other_provider = parse.parse_provider(raw_provider)
    provider = parse.or_other(provider, other_provider)
    rows = pd.DataFrame(
        {
            "person_key": pkey,
            "school_code": m.school_code,
            "level": level,
            "role": role,
            "position": title,
            "signed": signed,
            "pending": pending,
            "provider": provider,
            "issued_on": dates["issued_on"],
            "expires_on": dates["expires_on"],
            "active": active.astype(bool),
            "status": status,
            **_source(df),
            "_folder": folder.astype("str"),
        }
    )
    # The CCCD's join key is computed only when the period has providers' lists.
    rows = pd.concat([rows, certificates.staff_join_columns(tables, df, key, join)], axis=1)
    kept = ~checks.refused
    kk = kept.to_numpy()
    warnings += _other_warnings(
        "cbgvnv", df, raw_emp, other_status & kept, "Trạng thái CB", parse.OTHER, stats,
        "status_other",
    )  # fmt: skip
    warnings += _other_warnings(
        "cbgvnv", df, raw_provider, other_provider & kept, "Nhà cung cấp", parse.OTHER, stats,
        "provider_other",
    )  # fmt: skip
    # Usually every row is kept: no copy of a 1,66 million-row frame then.
    out = _KindOut(rows if kk.all() else rows[kk], checks.quarantine(), kept, df, stats, warnings)
    out.unmatched = _unmatched_table("cbgvnv", m)
    return out


_IDENTITY_COLUMNS = [
    "school_code",
    "role",
    "position",
    "signed",
    "pending",
    "provider",
    "issued_on",
    "expires_on",
    "active",
    "status",
    "signature_source",
    "cert_type",
]


def dedup_staff(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per ``person_key``. Returns (kept rows, one row per duplicate case).

    Rule: identical rows (same values in every column but the source) count once, the first
    in file/sheet/row order is kept (rule ``identical``). Otherwise, among a person's rows, keep
    the active one first, then the most recent ``issued_on``, then the row of the latest
    serving folder, then the first in file/sheet/row order (rules ``active``, ``issued_on``,
    ``order``: the first criterion that separates the kept row from the next candidate).
    """
    rows = rows.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    if rows.empty:
        return rows, _empty_dups()
    if not privacy.has_repeated_keys(rows["person_key"]):
        return rows, _empty_dups()
    ranked = rows.assign(
        _inactive=~rows["active"],
        _issued=rows["issued_on"].fillna(pd.Timestamp.min.as_unit("s")),
        _folder_rank=rows["_folder"].rank(method="dense", ascending=False),
        _pos=np.arange(len(rows)),
    )
    ranked = ranked.sort_values(
        ["person_key", "_inactive", "_issued", "_folder_rank", "_pos"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )
    first = ~ranked["person_key"].duplicated(keep="first")
    kept = ranked[first.to_numpy()]
    dropped = ranked[~first.to_numpy()]
    # Rule per dropped row, against the kept row of the same person.
    k = kept.set_index("person_key")
    ref = k.reindex(dropped["person_key"])
    same = pd.Series(True, index=dropped.index)
    for col in _IDENTITY_COLUMNS:
        a = dropped[col].reset_index(drop=True)
        b = ref[col].reset_index(drop=True)
        eq = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
        same &= eq.to_numpy()
    inactive_diff = dropped["_inactive"].to_numpy() != ref["_inactive"].to_numpy()
    issued_diff = dropped["_issued"].to_numpy() != ref["_issued"].to_numpy()
    folder_diff = dropped["_folder_rank"].to_numpy() != ref["_folder_rank"].to_numpy()
    rule = np.select(
        [same.to_numpy(), inactive_diff, issued_diff, folder_diff],
        ["identical", "active", "issued_on", "folder"],
        default="order",
    )

    def where(df: pd.DataFrame) -> pd.Series:
        sheet = df["source_sheet"].astype("str")
        return (
            df["source_file"].astype("str")
            + np.where(sheet != "", " [" + sheet + "]", "")
            + " dòng "
            + df["source_row"].astype("str")
            + " ("
            + df["school_code"].astype("str")
            + ")"
        )

    cases = pd.DataFrame(
        {
            "person_key": dropped["person_key"].to_numpy(),
            "rule": rule,
            "kept_file": ref["source_file"].to_numpy(),
            "kept_sheet": ref["source_sheet"].to_numpy(),
            "kept_row": ref["source_row"].to_numpy(),
            "kept_school": ref["school_code"].to_numpy(),
            "dropped_file": dropped["source_file"].to_numpy(),
            "dropped_sheet": dropped["source_sheet"].to_numpy(),
            "dropped_row": dropped["source_row"].to_numpy(),
            "dropped_school": dropped["school_code"].to_numpy(),
            "kept": where(ref.reset_index()).to_numpy(),
            "dropped": where(dropped).to_numpy(),
        }
    )
    cases = cases.sort_values(
        ["kept_file", "kept_sheet", "kept_row", "dropped_file", "dropped_sheet", "dropped_row"],
        kind="stable",
    )
    kept = kept.drop(columns=["_inactive", "_issued", "_folder_rank", "_pos"])
    kept = kept.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    return kept, cases.reset_index(drop=True)


_CASE_COLUMNS = [
    "rule",
    "kept_file",
    "kept_sheet",
    "kept_row",
    "kept_school",
    "dropped_file",
    "dropped_sheet",
    "dropped_row",
    "dropped_school",
]


def _duplicate_cases(dups: pd.DataFrame) -> list[dict]:
    """One flat JSON record per dropped row (source rows and school codes only)."""
    if dups.empty:
        return []
    cases = dups[_CASE_COLUMNS].astype(object)
    cases["kept_row"] = dups["kept_row"].astype("int64").astype(object)
    cases["dropped_row"] = dups["dropped_row"].astype("int64").astype(object)
    return cases.to_dict("records")


def _empty_dups() -> pd.DataFrame:
    cols = [
        "person_key",
        "rule",
        "kept_file",
        "kept_sheet",
        "kept_row",
        "kept_school",
        "dropped_file",
        "dropped_sheet",
        "dropped_row",
        "dropped_school",
        "kept",
        "dropped",
    ]
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})


def clean_counts(tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame) -> _KindOut:
    """Per-school signature counts -> ``signature_counts`` (``superseded`` set later)."""
    df = _stack(tables)
    checks = _Checks(df, "tonghop_cks", tables)
    stats: dict[str, int] = {}
    warnings: list[dict] = []
    m = _match(df, schools, aliases)
    checks.add_match(m)
    _count_methods(stats, m, df["school_code"] if "school_code" in df.columns else None)
    parsed: dict[str, pd.Series] = {}
    _count_check(checks, df, "n_staff", "Tổng số CBGVNV", True, parsed, stats=stats)
    _count_check(checks, df, "n_signed", "Số đã có chữ ký số", True, parsed, stats=stats)
    n_staff, n_signed = parsed["n_staff"], parsed["n_signed"]
    checks.add(
        "signed_gt_total",
        n_signed > n_staff,
        "n_signed",
        n_signed.astype("str").fillna("") + " > " + n_staff.astype("str").fillna(""),
        "Số đã có chữ ký số ("
        + n_signed.astype("str").fillna("")
        + ") lớn hơn tổng số CBGVNV ("
        + n_staff.astype("str").fillna("")
        + "). Hãy kiểm tra lại hai số này rồi chạy lại.",
    )
    rate, bad_rate = parse.parse_percent(_col(df, "rate_reported"), ratio_if_le_1="auto")
    rate = rate.where(~bad_rate)
    ok_code = m.school_code.where(checks.reason.isna())
    dup = ok_code.notna() & ok_code.duplicated(keep="first")
    checks.add(
        "duplicate_school",
        dup,
        "school_name" if "school_name" in df.columns else "school_code",
        m.value.fillna(m.school_code.fillna("")),
        "Trường " + m.school_code.fillna("") + " đã có ở một dòng tổng hợp trước: dòng này bị bỏ "
        "qua. Hãy xoá dòng lặp rồi chạy lại.",
    )
    kept = ~checks.refused
    kk = kept.to_numpy()
    computed = 100.0 * n_signed.astype("Float64") / n_staff.astype("Float64").where(n_staff > 0)
    mismatch = ((rate - computed).abs() > RATE_TOLERANCE).fillna(False).astype(bool) & kept
    for i in np.flatnonzero(mismatch.to_numpy()):
        warnings.append(
            _warning_at(
                df,
                i,
                "rate_mismatch",
                "tonghop_cks",
                message=(
                    f"Tỷ lệ ghi {fmt_num(rate.iat[i])}% khác tỷ lệ tính từ số liệu "
                    f"{n_signed.iat[i]}/{n_staff.iat[i]} = {fmt_num(float(computed.iat[i]))}% "
                    f"(trường {m.school_code.iat[i]}). Dùng số liệu, không dùng tỷ lệ ghi."
                ),
            )
        )
    for i in np.flatnonzero((bad_rate & kept).to_numpy()):
        warnings.append(
            _warning_at(
                df,
                i,
                "bad_rate",
                "tonghop_cks",
                message="Tỷ lệ (%) không đọc được: bỏ qua, dùng số liệu.",
            )
        )
    level = _level_of(m.school_code, schools)
    out = pd.DataFrame(
        {
            "school_code": m.school_code,
            "level": level,
            "n_staff": n_staff,
            "n_signed": n_signed,
            "rate_reported": rate.astype("float64"),
            "superseded": False,
            **_source(df),
        }
    )[kk]
    tc = _total_checks(
        tables, df[kk], {k: v[kk] for k, v in parsed.items()}, ["n_staff", "n_signed"]
    )
    warnings += _total_warnings(tc)
    res = _KindOut(
        schemas.conform("signature_counts", out), checks.quarantine(), kept, df, stats, warnings, tc
    )
    res.unmatched = _unmatched_table("tonghop_cks", m)
    return res


def resolve_signatures(
    staff: pd.DataFrame, counts: pd.DataFrame, schools: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """(signature_by_school, counts with ``superseded``, warnings for list-vs-counts).

    A school with a staff list: active staff (n_staff), signed and pending among them, basis
    ``list``. A school with only counts: the counts, n_pending 0, basis ``counts``. The level
    is the school's (``vocab.MULTI_LEVEL`` for a multi-level school, whose staff rows may carry
    their own level: the metrics split it by those).
    """
    # Only the columns the counts need are filtered (not the whole 1,66 million-row table).
    active = staff.loc[staff["active"].to_numpy(dtype=bool), ["school_code", "signed", "pending"]]
    listed = staff[["school_code", "level"]].groupby("school_code", sort=True)
    listed = listed.agg(level=("level", "first"))
    if schools is not None and len(listed):
        own = pd.Series(schools["level"].to_numpy(), index=schools["school_code"].to_numpy())
        listed["level"] = pd.Series(listed.index.map(own), index=listed.index).fillna(
            listed["level"]
        )
    agg = active.groupby("school_code", sort=True).agg(
        n_staff=("signed", "size"),
        n_signed=("signed", "sum"),
        n_pending=("pending", "sum"),
    )
    from_list = listed.join(agg, how="left").fillna({"n_staff": 0, "n_signed": 0, "n_pending": 0})
    from_list = from_list.reset_index().assign(basis="list")
    counts = counts.copy()
    # Membership in a Python set of the listed codes (``isin`` would build one pyarrow scalar
    # per listed school); missing codes are never listed.
    listed_codes = set(from_list["school_code"].to_numpy(dtype=object).tolist())
    counts["superseded"] = np.fromiter(
        (c in listed_codes for c in counts["school_code"].to_numpy(dtype=object).tolist()),
        dtype=bool,
        count=len(counts),
    )
    warnings = []
    sup = counts[counts["superseded"]].merge(
        from_list[["school_code", "n_staff", "n_signed"]], on="school_code", suffixes=("", "_list")
    )
    for r in sup.itertuples(index=False):
        warnings.append(
            {
                "code": "list_and_counts",
                "kind": "tonghop_cks",
                "file": r.source_file,
                "sheet": r.source_sheet,
                "row": int(r.source_row),
                "message": (
                    f"Trường {r.school_code} có cả danh sách CBGVNV và dòng tổng hợp: dùng danh "
                    f"sách ({int(r.n_signed_list)}/{int(r.n_staff_list)}), bỏ dòng tổng hợp "
                    f"({int(r.n_signed)}/{int(r.n_staff)}); chênh lệch tổng số "
                    f"{int(r.n_staff) - int(r.n_staff_list):+d}, đã có CKS "
                    f"{int(r.n_signed) - int(r.n_signed_list):+d}."
                ),
            }
        )
    from_counts = counts[~counts["superseded"]][["school_code", "level", "n_staff", "n_signed"]]
    from_counts = from_counts.assign(n_pending=0, basis="counts")
    sbs = pd.concat([from_list, from_counts], ignore_index=True)
    sbs = sbs.sort_values("school_code", kind="stable")
    return schemas.conform("signature_by_school", sbs), counts, warnings


def clean_infrastructure(
    tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame
) -> _KindOut:
    df = _stack(tables)
    checks = _Checks(df, "ha_tang", tables)
    stats: dict[str, int] = {}
    m = _match(df, schools, aliases)
    checks.add_match(m)
    _count_methods(stats, m, df["school_code"] if "school_code" in df.columns else None)
    parsed: dict[str, pd.Series] = {}
    _count_check(checks, df, "n_fibre", "Số đường truyền cáp quang", True, parsed, stats=stats)
    raw_speed = _col(df, "speed_mbps")
    speed, bad_speed = parse.parse_float_vn(raw_speed, units=parse.SPEED_UNITS)
    shown = _display(raw_speed)
    checks.add(
        "bad_number",
        bad_speed,
        "speed_mbps",
        shown,
        "Tốc độ đường truyền '" + shown + "' không đọc được: cần một số Mbps, ví dụ 100 hoặc "
        "70 Mbps. Hãy sửa ô này rồi chạy lại.",
    )
    checks.add(
        "bad_speed",
        speed <= 0,
        "speed_mbps",
        shown,
        "Tốc độ đường truyền '" + shown + "' phải lớn hơn 0. Hãy sửa ô này (để trống nếu không "
        "có) rồi chạy lại.",
    )
    stats["number_text"] = stats.get("number_text", 0) + int(
        (_is_text_cell(raw_speed) & speed.notna()).sum()
    )
    _count_check(checks, df, "n_computers", "Số máy tính", False, parsed, stats=stats)
    ok_code = m.school_code.where(checks.reason.isna())
    dup = ok_code.notna() & ok_code.duplicated(keep="first")
    checks.add(
        "duplicate_school",
        dup,
        "school_name" if "school_name" in df.columns else "school_code",
        m.school_code.fillna(""),
        "Trường " + m.school_code.fillna("") + " đã có ở một dòng trước: dòng này bị bỏ qua. "
        "Hãy xoá dòng lặp rồi chạy lại.",
    )
    kept = ~checks.refused
    kk = kept.to_numpy()
    level = _level_of(m.school_code, schools)
    out = pd.DataFrame(
        {
            "school_code": m.school_code,
            "level": level,
            "n_fibre": parsed["n_fibre"],
            "speed_mbps": speed.astype("float64"),
            "n_computers": parsed["n_computers"],
            **_source(df),
        }
    )[kk]
    tc = _total_checks(
        tables, df[kk], {k: v[kk] for k, v in parsed.items()}, ["n_fibre", "n_computers"]
    )
    res = _KindOut(
        schemas.conform("infrastructure", out),
        checks.quarantine(),
        kept,
        df,
        stats,
        _total_warnings(tc),
        tc,
    )
    res.unmatched = _unmatched_table("ha_tang", m)
    return res


def clean_records(tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame) -> _KindOut:
    df = _stack(tables)
    checks = _Checks(df, "hoc_ba", tables)
    stats: dict[str, int] = {}
    m = _match(df, schools, aliases)
    checks.add_match(m)
    _count_methods(stats, m, df["school_code"] if "school_code" in df.columns else None)
    class_name = text.clean_text_series(_col(df, "class_name"))
    checks.add(
        "missing_class",
        class_name.isna(),
        "class_name",
        "",
        "Thiếu tên lớp. Hãy điền tên lớp rồi chạy lại.",
    )
    shown_class = _display(class_name)
    checks.add(
        "contact_in_text",
        _contact_mask(class_name),
        "class_name",
        shown_class,
        "Tên lớp '" + shown_class + "' có số điện thoại hoặc e-mail (đã che): tên lớp không "
        "được chứa thông tin liên hệ. Hãy sửa tên lớp (ví dụ 5A) rồi chạy lại.",
    )
    parsed: dict[str, pd.Series] = {}
    _count_check(checks, df, "grade", "Khối", False, parsed, stats=stats)
    _count_check(checks, df, "n_pupils", "Số học sinh", True, parsed, stats=stats)
    _count_check(checks, df, "n_signed_teacher", "Số học bạ GVCN đã ký", True, parsed, stats=stats)
    _count_check(
        checks, df, "n_signed_principal", "Số học bạ Hiệu trưởng đã ký", True, parsed, stats=stats
    )
    pupils, teacher, principal = (
        parsed["n_pupils"],
        parsed["n_signed_teacher"],
        parsed["n_signed_principal"],
    )
    sp, st, spu = (
        principal.astype("str").fillna(""),
        teacher.astype("str").fillna(""),
        pupils.astype("str").fillna(""),
    )
    checks.add(
        "principal_gt_teacher",
        principal > teacher,
        "n_signed_principal",
        sp,
        "Số học bạ Hiệu trưởng đã ký (" + sp + ") lớn hơn số GVCN đã ký (" + st + "): Hiệu trưởng "
        "chỉ ký sau GVCN. Hãy kiểm tra lại rồi chạy lại.",
    )
    checks.add(
        "signed_gt_pupils",
        teacher > pupils,
        "n_signed_teacher",
        st,
        "Số học bạ GVCN đã ký (" + st + ") lớn hơn số học sinh (" + spu + "). Hãy kiểm tra lại "
        "rồi chạy lại.",
    )
    ok = checks.reason.isna()
    key = pd.DataFrame({"s": m.school_code.where(ok), "c": class_name.where(ok)})
    dup = key.notna().all(axis=1) & key.duplicated(keep="first")
    checks.add(
        "duplicate_class",
        dup,
        "class_name",
        shown_class,
        "Lớp '" + shown_class + "' của trường " + m.school_code.fillna("") + " đã có ở "
        "một dòng trước: dòng này bị bỏ qua. Hãy xoá dòng lặp rồi chạy lại.",
    )
    kept = ~checks.refused
    kk = kept.to_numpy()
    level = _record_level(parsed["grade"], m.school_code, schools)
    out = pd.DataFrame(
        {
            "school_code": m.school_code,
            "level": level,
            "grade": parsed["grade"],
            "class_name": class_name,
            "n_pupils": pupils,
            "n_signed_teacher": teacher,
            "n_signed_principal": principal,
            **_source(df),
        }
    )[kk]
    tc = _total_checks(
        tables,
        df[kk],
        {k: v[kk] for k, v in parsed.items()},
        ["n_pupils", "n_signed_teacher", "n_signed_principal"],
    )
    res = _KindOut(
        schemas.conform("records", out),
        checks.quarantine(),
        kept,
        df,
        stats,
        _total_warnings(tc),
        tc,
    )
    res.unmatched = _unmatched_table("hoc_ba", m)
    return res


# --------------------------------------------------------------------------------------------
# Signatures (shared by the period and the history of earlier periods)
# --------------------------------------------------------------------------------------------


@dataclass
class _Signatures:
    staff: pd.DataFrame
    counts: pd.DataFrame
    by_school: pd.DataFrame
    staff_out: _KindOut | None
    counts_out: _KindOut | None
    duplicates: pd.DataFrame
    warnings: list[dict]
    cert_out: _KindOut | None = None
    #: ``quality.json["certificates"]`` (counts only)
    join: dict = field(default_factory=dict)


def _signatures(
    staff_tables: list[RawTable],
    count_tables: list[RawTable],
    cert_tables: list[RawTable],
    schools: pd.DataFrame,
    aliases: pd.DataFrame,
    key: bytes,
    period: str,
) -> _Signatures:
    staff_out = (
        _staff_rows(staff_tables, schools, aliases, key, join=bool(cert_tables))
        if staff_tables
        else None
    )
    cert_rows = (
        certificates.clean_certificates(cert_tables, schools, aliases, key, period)
        if cert_tables
        else None
    )
    if staff_out is not None:
        joined = certificates.join_staff(
            staff_out.table, cert_rows.certs if cert_rows is not None else None
        )
        all_keys = joined["_key"].to_numpy()
        staff_rows, dups = dedup_staff(joined)
        join = certificates.join_quality(
            staff_rows, all_keys, cert_rows, period, schools=schools, aliases=aliases
        )
        # The CCCD's hash and the join's own columns end here.
        private = ["_folder", "_key", "_bad_cccd", "_padded", "_hand", "_hand_signed"]
        staff_out.table = joined.drop(columns=private)
        staff = schemas.conform("staff", staff_rows.drop(columns=private))
        del joined, staff_rows, all_keys
    else:
        staff, dups = schemas.empty("staff"), _empty_dups()
        join = certificates.join_quality(
            certificates.empty_join_rows(),
            np.zeros(0, dtype=np.uint64),
            cert_rows,
            period,
            schools=schools,
            aliases=aliases,
        )
    counts_out = clean_counts(count_tables, schools, aliases) if count_tables else None
    counts = counts_out.table if counts_out is not None else schemas.empty("signature_counts")
    sbs, counts, warnings = resolve_signatures(staff, counts, schools)
    counts = schemas.conform("signature_counts", counts)
    cert_out = cert_rows.out if cert_rows is not None else None
    if cert_out is not None:
        cert_out.table = cert_out.table.drop(columns=["_key", "_school_name", "_school_code"])
    return _Signatures(staff, counts, sbs, staff_out, counts_out, dups, warnings, cert_out, join)


def _read_signature_folder(raw_root: Path, folder: str) -> list[RawTable]:
    """The signature tables of one folder (the other sheets are classified, not read in full).

    Small files are kept by ``ingest``'s read cache (keyed by content), so cleaning several
    periods in one run, or the history after ``read_period``, reads each file once."""
    return read_folder(raw_root / folder, raw_root, kinds=SIGNATURE_KINDS)


@dataclass
class _HistoryPlan:
    """What the history of ``period`` needs (``_plan_history``).

    ``entries``: folder -> its history entry, for the folders already done (cache hits, and
    folders with no signature data of their own: an empty entry); ``tasks``: (folder, staff
    tables, count tables) of each folder still to clean, in folder order, with the tables
    carried forward as ``read_period`` would serve them to that folder; ``keys``: the cache
    key of every folder ``<= period`` (none without a processed folder)."""

    period: str
    folders: list[str]
    keys: dict[str, str]
    entries: dict[str, pd.DataFrame]
    tasks: list[tuple[str, list[RawTable], list[RawTable], list[RawTable]]]
    processed_root: Path | None


def _plan_history(
    raw_root: Path, period: str, schools: pd.DataFrame, processed_root: Path | None
) -> _HistoryPlan:
    """The history's cache hits, and the tables of the folders it still has to clean.

    Each earlier folder is read once; signature kinds are carried forward between folders like
    ``read_period`` does, and its tables of one kind are taken in the same (file, sheet) order,
    so a folder's entry is what cleaning that folder's own period gives with this school list.

    With ``processed_root``, each earlier folder's entry is kept in
    ``<processed_root>/_cache/history/<folder>.parquet`` (``analysis.cache``), under a key that
    covers everything it depends on: the bytes of every raw file in the folders up to that one
    (so carried-forward tables too), this period's school list, the alias file and the cleaning
    code. When every earlier folder is a hit no raw file of an earlier folder is parsed; after
    a miss the folders are walked as without a cache (the carry-forward needs their tables)
    and only the missing folders are cleaned.
    """
    upto = [p for p in paths.list_periods(raw_root) if p <= period]
    folders = [p for p in upto if p < period]
    keys = _history_keys(raw_root, upto, schools) if processed_root is not None else {}
    entries: dict[str, pd.DataFrame] = {}
    for folder in folders:
        hit = cache.load(processed_root, f"history/{folder}", keys[folder]) if keys else None
        if hit is not None:
            entries[folder] = hit
    tasks: list[tuple[str, list[RawTable], list[RawTable], list[RawTable]]] = []
    if len(entries) < len(folders):
        last: dict[str, list[RawTable]] = {k: [] for k in SIGNATURE_KINDS}
        for folder in folders:
            tables = _read_signature_folder(raw_root, folder)
            here = {
                k: sorted((t for t in tables if t.kind == k), key=lambda t: (t.file, t.sheet))
                for k in SIGNATURE_KINDS
            }
            for k in SIGNATURE_KINDS:
                if here[k]:
                    last[k] = here[k]
            if folder in entries:
                continue
            if any(here.values()):
                tasks.append((folder, last["cbgvnv"], last["tonghop_cks"], last["ca_thue_bao"]))
            else:  # no signature data of its own: an empty entry says so
                entries[folder] = schemas.empty("history")
                if keys:
                    cache.store(processed_root, f"history/{folder}", keys[folder], entries[folder])
    return _HistoryPlan(period, folders, keys, entries, tasks, processed_root)


def history_rows(by_school: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """A folder's ``signature_by_school`` as history rows: a multi-level school with a staff
    list gets one row per level of its staff (a row's own Cấp học, or "Trường nhiều cấp học":
    ``_staff_level``), so that coverage by level is the same rule in every period; every
    other school keeps its one row."""
    multi = (by_school["level"] == vocab.MULTI_LEVEL) & (by_school["basis"] == "list")
    multi = multi.fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return by_school
    codes = set(by_school.loc[multi, "school_code"].tolist())
    st = staff[staff["school_code"].isin(codes).to_numpy(dtype=bool)]
    st = st[st["active"].to_numpy(dtype=bool)]
    split = (
        st.assign(s=st["signed"].astype("int64"), p=st["pending"].astype("int64"))
        .groupby(["school_code", "level"], sort=True)
        .agg(n_staff=("s", "size"), n_signed=("s", "sum"), n_pending=("p", "sum"))
        .reset_index()
        .assign(basis="list")
    )
    # A listed school whose staff all left keeps its (empty) row.
    empty = by_school[multi & ~by_school["school_code"].isin(set(split["school_code"]))]
    out = pd.concat([by_school[~multi], split, empty], ignore_index=True)
    return out.sort_values("school_code", kind="stable").reset_index(drop=True)


def _history_entry(
    task: tuple[str, list[RawTable], list[RawTable], list[RawTable]],
    schools: pd.DataFrame,
    aliases: pd.DataFrame,
    key: bytes,
) -> pd.DataFrame:
    """The history entry of one folder: its signature_by_school (run in a worker too)."""
    folder, staff_tables, count_tables, cert_tables = task
    sig = _signatures(staff_tables, count_tables, cert_tables, schools, aliases, key, folder)
    return history_rows(sig.by_school, sig.staff).assign(period=folder)


def _task_cost(task: tuple[str, list[RawTable], list[RawTable], list[RawTable]]) -> float:
    """A rough cost of cleaning one folder's signature tables, for sharing them out: the rows,
    plus a fixed part per folder (school matching, checks, dedup on small tables)."""
    return 2000.0 + sum(len(t.data) for t in task[1] + task[2] + task[3])


class _HistoryRun:
    """The folders of a history plan being cleaned: shared between this process and forked
    workers (``analysis.parallel``) at ``start``, so that the workers run while this process
    cleans the period itself; ``finish`` cleans this process's share, collects the rest and
    assembles the history."""

    def __init__(
        self,
        plan: _HistoryPlan,
        schools: pd.DataFrame,
        aliases: pd.DataFrame,
        key: bytes,
        jobs: int,
        head_start: float,
    ):
        self.plan, self.args = plan, (schools, aliases, key)
        tasks = plan.tasks
        if jobs > 1 and tasks:
            groups = parallel.split(
                [_task_cost(t) for t in tasks], min(jobs, len(tasks) + 1), head_start
            )
        else:
            groups = [list(range(len(tasks)))]
        self.mine, self.theirs = groups[0], [g for g in groups[1:] if g]
        self.pending = parallel.start(
            _history_entry, [[tasks[i] for i in g] for g in self.theirs], self.args
        )

    def cancel(self) -> None:
        self.pending.cancel()

    def finish(self, current: PeriodInput, current_sbs: pd.DataFrame) -> pd.DataFrame:
        """signature_by_school of every folder <= period with its own signature data (+ this
        period's), and the cache entries of the folders cleaned (this period's included: the
        next period's history finds it)."""
        plan, tasks = self.plan, self.plan.tasks
        done: dict[int, object] = {}
        for i in self.mine:
            try:
                done[i] = _history_entry(tasks[i], *self.args)
            except Exception as exc:  # raised again below, in folder order
                done[i] = parallel.Failed(str(exc))
        for group, results in zip(self.theirs, self.pending.results(), strict=True):
            done.update(zip(group, results, strict=True))
        entries = dict(plan.entries)
        for i, task in enumerate(tasks):  # folder order: the first failing folder raises
            entry = done[i]
            if isinstance(entry, parallel.Failed):
                entry = _history_entry(task, *self.args)
            entries[task[0]] = entry
            if plan.keys:
                cache.store(plan.processed_root, f"history/{task[0]}", plan.keys[task[0]], entry)
        own = any(current.served.get(k) == plan.period for k in SIGNATURE_KINDS)
        if plan.period in plan.keys:
            entry = current_sbs.assign(period=plan.period) if own else schemas.empty("history")
            name = f"history/{plan.period}"
            cache.store(plan.processed_root, name, plan.keys[plan.period], entry)
        frames = [entries[f] for f in plan.folders if len(entries[f])]
        if any(current.served.get(k) for k in SIGNATURE_KINDS):
            frames.append(current_sbs.assign(period=plan.period))
        if not frames:
            return schemas.empty("history")
        hist = pd.concat(frames, ignore_index=True).sort_values(
            ["period", "school_code"], kind="stable"
        )
        return schemas.conform("history", hist)


def _history_keys(raw_root: Path, folders: list[str], schools: pd.DataFrame) -> dict[str, str]:
    """The cache key of each folder's history entry (see ``_plan_history``)."""
    running = hashlib.blake2b(digest_size=20)
    running.update(b"history-v1")
    running.update(cache.code_fingerprint().encode())
    running.update(cache.frame_digest(schools))
    alias_file = raw_root / match.ALIASES_FILE
    running.update(cache.file_digest(alias_file) if alias_file.is_file() else b"-")
    keys = {}
    for folder in folders:
        for path in list_files(raw_root / folder):  # sub-folders too: what is read
            running.update(path.relative_to(raw_root).as_posix().encode())
            running.update(cache.file_digest(path))
        keys[folder] = running.copy().hexdigest()
    return keys


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------


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


def _crosswalk_label(path: Path, raw_root: Path) -> str:
    try:
        return Path(path).relative_to(raw_root).as_posix()
    except ValueError:
        return f"mặc định của phần mềm ({Path(path).name})"


def clean_period(
    period: str,
    raw_root: Path | str = paths.RAW_DIR,
    processed_root: Path | str = paths.PROCESSED_DIR,
    *,
    key: bytes | None = None,
    jobs: int | None = None,
) -> CleanResult:
    """Clean one period: read, check, match, pseudonymise, dedup, account, write atomically.

    ``jobs``: processes to use (``analysis.parallel``; default ``parallel.jobs()``): the raw
    files are read, and the earlier folders of the history cleaned, by this process and forked
    workers. The result is the same for any number."""
    raw_root = Path(raw_root)
    processed_root = Path(processed_root)
    paths.parse_period(period)
    jobs = parallel.jobs() if jobs is None else max(1, jobs)
    if jobs > 1:
        prefetch(files_to_read(raw_root, period, processed_root), raw_root, jobs)
    pin = read_period(raw_root, period, cache_root=processed_root)
    if key is None:
        key = privacy.load_key()
    aliases = match.read_aliases(raw_root / match.ALIASES_FILE)

    truong = pin.tables_of("truong")
    if not truong:
        raise CleanError(
            f"Kỳ {period}: không có danh sách trường (bảng có cột Mã trường, Tên trường, Cấp học, "
            f"Số lớp, Số học sinh) trong các thư mục ≤ {period} dưới {raw_root}. Mọi dòng đều "
            "phải gắn với một trường của danh sách: hãy chép file danh sách trường vào thư mục "
            "kỳ báo cáo rồi chạy lại."
        )
    # Codes stored as text in the period's other files and in the alias table tell the school
    # list's code width when the list itself has none (every code a number cell).
    evidence = [
        t.data["school_code"]
        for k in ("cbgvnv", "tonghop_cks", "ha_tang", "hoc_ba")
        for t in pin.tables_of(k)
        if "school_code" in t.data.columns
    ]
    evidence.append(aliases["school_code"].astype(object))
    sch = clean_schools(truong, pd.concat(evidence, ignore_index=True))
    # Today's commune for every period (data contract §7): from the list after the reform,
    # through the crosswalk (don_vi_hanh_chinh.csv) before.
    crosswalk, crosswalk_file = units.load_crosswalk(raw_root)
    with_units, unit_warnings = units.assign_units(
        sch.table, period, crosswalk, _crosswalk_label(crosswalk_file, raw_root)
    )
    sch.table = schemas.conform("schools", with_units)
    sch.warnings += unit_warnings
    schools = sch.table
    if schools.empty:
        raise CleanError(
            f"Kỳ {period}: danh sách trường không có dòng nào dùng được (mọi dòng bị cách ly). "
            "Hãy xem quarantine và sửa file danh sách trường rồi chạy lại."
        )

    # The earlier folders of the history are cleaned by workers while this process cleans
    # the period itself (its own signature, infrastructure and record tables: the head start).
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
        inst = (
            certificates.clean_institution(
                pin.tables_of("chu_ky_so_to_chuc"), schools, aliases, period
            )
            if pin.tables_of("chu_ky_so_to_chuc")
            else None
        )
        infra = (
            clean_infrastructure(pin.tables_of("ha_tang"), schools, aliases)
            if pin.tables_of("ha_tang")
            else None
        )
        recs = (
            clean_records(pin.tables_of("hoc_ba"), schools, aliases)
            if pin.tables_of("hoc_ba")
            else None
        )
        history = history_run.finish(pin, history_rows(sig.by_school, sig.staff))
    finally:
        history_run.cancel()

    tables = {
        "schools": schools,
        "school_levels": sch.extra["school_levels"],
        "staff": sig.staff,
        "signature_counts": sig.counts,
        "signature_by_school": sig.by_school,
        "history": history,
        "infrastructure": infra.table if infra else schemas.empty("infrastructure"),
        "records": recs.table if recs else schemas.empty("records"),
        "institution_certificates": (
            inst.table if inst else schemas.empty("institution_certificates")
        ),
    }
    for name, df in tables.items():
        schemas.validate(name, df)

    outs: list[tuple[_KindOut, list[RawTable]]] = [(sch, truong)]
    if sig.staff_out is not None:
        outs.append((sig.staff_out, pin.tables_of("cbgvnv")))
    if sig.counts_out is not None:
        outs.append((sig.counts_out, pin.tables_of("tonghop_cks")))
    if infra is not None:
        outs.append((infra, pin.tables_of("ha_tang")))
    if recs is not None:
        outs.append((recs, pin.tables_of("hoc_ba")))
    if sig.cert_out is not None:
        outs.append((sig.cert_out, pin.tables_of("ca_thue_bao")))
    if inst is not None:
        outs.append((inst, pin.tables_of("chu_ky_so_to_chuc")))

    inputs: list[dict] = []
    quarantine_parts = []
    repairs: dict[str, int] = {}
    warnings: list[dict] = []
    total_checks: list[dict] = []
    unmatched_parts = []
    for out, tbls in outs:
        inputs += _per_table_counts(out, tbls)
        quarantine_parts.append(out.quarantine)
        for k, v in out.stats.items():
            repairs[k] = repairs.get(k, 0) + int(v)
        warnings += out.warnings
        total_checks += out.total_checks
        if out.unmatched is not None and len(out.unmatched):
            unmatched_parts.append(out.unmatched)
        for t in tbls:
            for k, v in t.repairs.items():
                repairs[k] = repairs.get(k, 0) + int(v)
            warnings += t.sheet_warnings
    warnings += sig.warnings
    # A file read by its content rather than its extension (a CSV named .xlsx...): once a file.
    noted: set[str] = set()
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

    unbalanced = [i for i in inputs if not i["balanced"]]
    if unbalanced:
        first = unbalanced[0]
        raise CleanError(
            f"Lỗi đối soát số dòng ở tệp “{first['file']}” trang “{first['sheet']}”: đọc "
            f"{first['rows_read']} dòng nhưng giữ {first['kept']} + cách ly "
            f"{first['quarantined']} + dòng không phải dữ liệu {sum(first['non_data'].values())}."
            " Không ghi kết quả nào; hãy báo cho người phát triển."
        )
    n_before = int(len(sig.staff_out.table)) if sig.staff_out is not None else 0
    n_removed = int(len(sig.duplicates))
    if n_before != len(sig.staff) + n_removed:
        raise CleanError(
            f"Lỗi đối soát khi gộp người trùng: {n_before} dòng trước khi gộp, "
            f"{len(sig.staff)} người sau khi gộp, {n_removed} dòng bỏ. Không ghi kết quả nào; "
            "hãy báo cho người phát triển."
        )

    quarantine = (
        pd.concat(quarantine_parts, ignore_index=True) if quarantine_parts else _empty_quarantine()
    )
    quarantine = _conform_quarantine(
        quarantine.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    )
    served = {k: pin.served.get(k) for k in K.KINDS}
    left = sig.staff[~sig.staff["active"]]
    left_by = left["status"].fillna("(trống)").value_counts().sort_index()
    dups = sig.duplicates
    quality = {
        "period": period,
        "sample": paths.is_sample(raw_root),
        "served": served,
        "inputs": sorted(inputs, key=lambda i: (i["file"], i["sheet"])),
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
        "repairs": dict(sorted(repairs.items())),
        "duplicates": {
            "rows_before": n_before,
            "rows_removed": n_removed,
            "persons_after": int(len(sig.staff)),
            "persons_with_duplicates": int(dups["person_key"].nunique()) if len(dups) else 0,
            "by_rule": {
                str(k): int(v) for k, v in dups["rule"].value_counts().sort_index().items()
            },
            "cases": _duplicate_cases(dups),
        },
        "left_staff": {
            "total": int(len(left)),
            "by_status": {str(k): int(v) for k, v in left_by.items()},
        },
        "total_checks": total_checks,
        "certificates": {
            **sig.join,
            "institutions": {
                "schools": int(len(tables["institution_certificates"])),
                "ready": int(tables["institution_certificates"]["ready"].sum()),
            },
        },
        "warnings": warnings,
        "quarantine": {
            "total": int(len(quarantine)),
            "by_reason": {
                str(k): int(v) for k, v in quarantine["reason"].value_counts().sort_index().items()
            },
        },
        "tables": {name: int(len(df)) for name, df in tables.items()},
    }
    target = processed_root / period
    _write_outputs(target, tables, quarantine, quality)
    unmatched = (
        pd.concat(unmatched_parts, ignore_index=True)
        if unmatched_parts
        else pd.DataFrame(
            columns=[
                "kind",
                "school_code_raw",
                "school_name_raw",
                "reason",
                "n_rows",
                "candidates",
                "candidate_codes",
            ]
        )
    )
    return CleanResult(period, target, tables, quarantine, quality, unmatched, dups)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from analysis.cli import ArgumentParser  # Vietnamese errors, exit 2

    parser = ArgumentParser(
        prog="python -m analysis clean",
        description="Làm sạch dữ liệu thô của một kỳ báo cáo vào data/processed/<kỳ>/.",
    )
    parser.add_argument("--period", default="", help="kỳ báo cáo YYYY-MM-DD (mặc định: mới nhất)")
    parser.add_argument("--raw-dir", default="", help="thư mục dữ liệu thô (mặc định data/raw)")
    parser.add_argument(
        "--processed-dir", default="", help="thư mục kết quả (mặc định data/processed)"
    )
    args = parser.parse_args(argv)
    try:
        cfg = paths.RunConfig.from_params(args.period, args.raw_dir, args.processed_dir)
        # a stop or an unexpected error (analysis.stops): details in <processed>/_logs/clean.log
        stops.set_log(stops.log_for(cfg.processed_root, "clean"), "clean")
        with stops.doing(f"làm sạch kỳ {cfg.period}"):
            result = clean_period(cfg.period, cfg.raw_root, cfg.processed_root)
    except (IngestError, CleanError, units.CrosswalkError, paths.PeriodError) as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    q = result.quality
    print(
        f"Đã làm sạch kỳ {result.period} vào {result.out_dir}: "
        f"{q['tables']['schools']} trường, {q['tables']['staff']} CBGVNV, "
        f"{q['quarantine']['total']} dòng bị cách ly (xem quarantine.csv), "
        f"{len(q['warnings'])} cảnh báo (xem quality.json)."
    )
    return 0


__all__ = [
    "CleanError",
    "CleanResult",
    "clean_counts",
    "clean_infrastructure",
    "clean_period",
    "clean_records",
    "clean_schools",
    "dedup_staff",
    "main",
    "resolve_signatures",
]
