"""Metric tables: pure functions of the processed tables (``data/processed/<period>/``).

Every function returns a tidy table whose columns are exactly those of the "Metric tables"
section of ``docs/ARCHITECTURE.md``. Every rate comes with its counts; rates are ratios in
[0, 1] (``coverage``, ``share``, ``rate_*``), ``NaN`` where the denominator is 0 or unknown.
Counts are nullable ``Int64`` (``<NA>`` = no data, which is not the same as 0).

Decisions worth knowing (also in the report of this module):

- Levels are always ordered Mầm non, Tiểu học, THCS, then the district total "Tổng cộng".
- ``coverage_by_level`` always has the three level rows: a level without signature data has
  ``n_schools_reporting = 0``, ``n_staff = n_signed = 0`` and ``coverage = NaN`` (explicit, not
  dropped). ``coverage_by_school`` lists every school of the levels that have signature data.
- ``coverage_by_role`` / ``coverage_by_provider`` come from the staff *lists* (active staff);
  schools that only sent per-school counts have no role or provider detail.
- ``expiring``: the next signing window ends on the first 30 June on or after the period
  (the end of the school year, when records are signed); certificates that have already expired
  are counted too (they must be renewed before signing).
- ``projection``: ordinary least squares of coverage on days; band = slope ± 2 standard errors.
- Many districts (a city, the ministry): ``select_unit(processed, district)`` narrows the
  processed tables to one district ("" = everything). ``coverage_by_district`` and
  ``scale_by_district`` are made only when the (selected) data spans more than one district
  (``has_many_districts``); a one-district run, like the sample, has neither, and
  ``write_tables`` removes a stale copy. With more than one district ``coverage_by_ward`` writes
  a ward as "Phường (Quận/Huyện)" so same-named wards of two districts are not added together.
- Scale: every table is built with groupby/merge and vectorised sorting (text folded once per
  distinct value); no Python loop per school or per person (1,66 million staff in ~2 s).
- Headline numbers: notebook 20 writes ``headline_coverage.json``, notebook 30
  ``headline_scale.json``; each then (re)writes ``headline.json`` = the merge of the parts
  present (their keys never overlap), so the order of the runs does not matter. The batch runs
  20 and 30 side by side: the merge holds a lock on the ``tables`` folder (POSIX ``flock``),
  so the last merge always sees both parts.
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import exports, io, vocab
from analysis.core.fmt import fmt_date, fmt_int, fmt_num, fmt_pct

LEVELS: tuple[str, ...] = vocab.LEVELS
MULTI_LEVEL = vocab.MULTI_LEVEL
TOTAL = vocab.TOTAL
NO_PROVIDER = "Không rõ nhà cung cấp"
NO_DISTRICT = "Không rõ quận/huyện"
NO_COMMUNE = "Chưa rõ xã/phường"
NO_WARD = "Không rõ phường"
MIN_POINTS = 3
#: Month and day on which the signing window of a school year ends (30 June).
WINDOW_END = (6, 30)

PROCESSED_KINDS: tuple[str, ...] = (
    "schools",
    "staff",
    "signature_counts",
    "signature_by_school",
    "history",
    "infrastructure",
    "records",
    "school_levels",
    "institution_certificates",
)

#: Metric table -> its columns, in order (docs/ARCHITECTURE.md, "Metric tables").
TABLE_COLUMNS: dict[str, list[str]] = {
    "scale_by_level": [
        "level",
        "n_schools",
        "n_classes",
        "n_pupils",
        "n_pupils_with_id",
        "n_pupils_verified",
    ],
    "coverage_by_school": [
        "school_code",
        "school_name",
        "level",
        "ward",
        "n_staff",
        "n_signed",
        "n_pending",
        "coverage",
        "basis",
        "rank_in_level",
    ],
    "coverage_by_level": [
        "level",
        "n_schools",
        "n_schools_reporting",
        "n_staff",
        "n_signed",
        "coverage",
    ],
    "coverage_by_ward": ["ward", "n_staff", "n_signed", "coverage"],
    "coverage_by_district": [
        "district",
        "n_schools",
        "n_schools_reporting",
        "n_staff",
        "n_signed",
        "coverage",
    ],
    "scale_by_district": ["district", "level", "n_schools", "n_classes", "n_pupils"],
    "coverage_by_commune": [
        "commune",
        "n_schools",
        "n_schools_reporting",
        "n_staff",
        "n_signed",
        "coverage",
        "n_missing",
    ],
    "coverage_by_role": ["level", "role", "n_staff", "n_signed", "coverage"],
    "coverage_by_provider": ["level", "provider", "n_signed", "share"],
    "coverage_change": [
        "school_code",
        "school_name",
        "level",
        "prev_period",
        "n_staff_prev",
        "n_signed_prev",
        "coverage_prev",
        "n_staff",
        "n_signed",
        "coverage",
        "delta_signed",
        "delta_coverage",
    ],
    "coverage_history": ["period", "level", "n_staff", "n_signed", "coverage"],
    "projection": [
        "level",
        "model",
        "n_points",
        "date_100",
        "date_100_low",
        "date_100_high",
        "note",
    ],
    "expiring": [
        "school_code",
        "school_name",
        "level",
        "n_signed",
        "n_expiring_window",
        "n_expiring_days",
    ],
    "coverage_school_history": [
        "period",
        "school_code",
        "school_name",
        "level",
        "n_staff",
        "n_signed",
        "coverage",
    ],
    "signing_pace": [
        "school_code",
        "school_name",
        "level",
        "n_staff",
        "n_signed",
        "n_unsigned",
        "prev_period",
        "signed_per_week",
        "weeks_left",
        "needed_per_week",
        "left_at_window_end",
        "date_done",
        "on_track",
    ],
    "infrastructure_by_school": [
        "school_code",
        "school_name",
        "level",
        "n_fibre",
        "speed_mbps",
        "n_computers",
        "n_pupils",
        "computers_per_100_pupils",
        "below_threshold",
    ],
    "infrastructure_summary": [
        "n_schools_reporting",
        "n_fibre",
        "speed_min",
        "speed_median",
        "n_computers",
        "n_schools_below",
    ],
    "records_by_school": [
        "school_code",
        "school_name",
        "level",
        "n_records",
        "n_signed_teacher",
        "n_signed_principal",
        "rate_teacher",
        "rate_principal",
    ],
    "records_by_grade": [
        "level",
        "grade",
        "n_records",
        "n_signed_teacher",
        "n_signed_principal",
        "rate_teacher",
        "rate_principal",
    ],
    "institution_readiness": ["level", "commune", "n_schools", "n_ready", "share"],
    "schools_without_seal": ["school_code", "school_name", "level", "commune"],
    "signature_type_by_provider": ["provider", "cert_type", "n_staff"],
    "unmatched_certificates": ["provider", "school_code", "n"],
    "certificates_by_provider": ["provider", "n_certificates", "n_matched", "n_unmatched"],
    "records_by_level": [
        "level",
        "n_records",
        "n_signed_teacher",
        "n_signed_principal",
        "rate_teacher",
        "rate_principal",
    ],
}

#: Which notebook writes which tables (each writes its own headline part).
COVERAGE_TABLES: tuple[str, ...] = (
    "coverage_by_school",
    "coverage_by_level",
    "coverage_by_ward",
    "coverage_by_district",
    "coverage_by_commune",
    "coverage_by_role",
    "coverage_by_provider",
    "coverage_change",
    "coverage_history",
    "projection",
    "expiring",
    "institution_readiness",
    "schools_without_seal",
    "signature_type_by_provider",
    "unmatched_certificates",
    "certificates_by_provider",
)
SCALE_TABLES: tuple[str, ...] = (
    "scale_by_level",
    "scale_by_district",
    "infrastructure_by_school",
    "infrastructure_summary",
    "records_by_school",
    "records_by_grade",
    "records_by_level",
)

#: Tables written only when the data holds more than one district (city or national runs),
#: per headline part; ``write_tables`` removes a stale copy when a run has one district.
DISTRICT_TABLES: dict[str, tuple[str, ...]] = {
    "coverage": ("coverage_by_district", "coverage_by_commune"),
    "scale": ("scale_by_district",),
}
#: Tables written only when the period has the data (the school's own certificates, the
#: providers' lists, issue 15); ``write_tables`` removes a stale copy like a district table's.
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "coverage": (
        "institution_readiness",
        "schools_without_seal",
        "signature_type_by_provider",
        "unmatched_certificates",
        "certificates_by_provider",
    ),
}

#: Vietnamese column headers for display (notebooks, workbook).
VN_COLUMNS: dict[str, str] = {
    "level": "Cấp học",
    "school_code": "Mã trường",
    "school_name": "Tên trường",
    "ward": "Phường",
    "district": "Quận/Huyện",
    "commune": "Xã/Phường",
    "n_missing": "Số chưa có CKS",
    "n_ready": "Số trường có CKS cơ quan",
    "cert_type": "Loại chữ ký số",
    "n": "Số chứng thư",
    "n_certificates": "Số chứng thư trong danh sách",
    "n_matched": "Khớp với CBGVNV",
    "n_unmatched": "Không khớp CBGVNV nào",
    "role": "Nhóm chức vụ",
    "provider": "Nhà cung cấp",
    "period": "Kỳ báo cáo",
    "prev_period": "Kỳ trước",
    "grade": "Khối",
    "n_schools": "Số trường",
    "n_schools_reporting": "Số trường có số liệu",
    "n_classes": "Số lớp",
    "n_pupils": "Số học sinh",
    "n_pupils_with_id": "Số HS có mã định danh",
    "n_pupils_verified": "Số HS đã xác thực",
    "n_staff": "Tổng số CBGVNV",
    "n_signed": "Số đã có chữ ký số",
    "n_pending": "Số đang chờ cấp",
    "coverage": "Tỷ lệ có chữ ký số",
    "basis": "Nguồn số liệu",
    "rank_in_level": "Thứ hạng trong cấp (1 = thấp nhất)",
    "share": "Tỷ trọng",
    "n_staff_prev": "Tổng số CBGVNV kỳ trước",
    "n_signed_prev": "Số đã có CKS kỳ trước",
    "coverage_prev": "Tỷ lệ kỳ trước",
    "delta_signed": "Tăng thêm (người)",
    "delta_coverage": "Thay đổi tỷ lệ",
    "model": "Mô hình",
    "n_points": "Số kỳ dùng",
    "date_100": "Dự kiến đạt 100%",
    "date_100_low": "Sớm nhất",
    "date_100_high": "Muộn nhất",
    "note": "Ghi chú",
    "n_expiring_window": "Hết hạn trước cuối đợt ký",
    "n_expiring_days": "Hết hạn trong số ngày xét",
    "n_fibre": "Số đường truyền cáp quang",
    "speed_mbps": "Tốc độ (Mbps)",
    "n_computers": "Số máy tính phục vụ quản lý",
    "computers_per_100_pupils": "Máy tính / 100 HS",
    "below_threshold": "Dưới ngưỡng",
    "speed_min": "Tốc độ thấp nhất (Mbps)",
    "speed_median": "Tốc độ trung vị (Mbps)",
    "n_schools_below": "Số trường dưới ngưỡng",
    "n_records": "Số học bạ",
    "n_signed_teacher": "GVCN đã ký",
    "n_signed_principal": "Hiệu trưởng đã ký",
    "rate_teacher": "Tỷ lệ GVCN đã ký",
    "rate_principal": "Tỷ lệ Hiệu trưởng đã ký",
}
BASIS_VN = {"list": "Danh sách", "counts": "Bảng tổng hợp"}
RATE_COLUMNS = frozenset(
    {"coverage", "share", "coverage_prev", "delta_coverage", "rate_teacher", "rate_principal"}
)


class MetricError(ValueError):
    """A metric table broke an invariant (the message is Vietnamese and names the rows)."""


# --------------------------------------------------------------------------- loading


@dataclass
class Processed:
    """The processed tables of one period (absent kinds are empty frames with their columns)."""

    schools: pd.DataFrame
    staff: pd.DataFrame
    signature_counts: pd.DataFrame
    signature_by_school: pd.DataFrame
    history: pd.DataFrame
    infrastructure: pd.DataFrame
    records: pd.DataFrame
    quality: dict = field(default_factory=dict)
    #: The district the tables were narrowed to by ``select_unit`` ("" = every district).
    unit: str = ""
    #: One row per school and level it teaches (``school_levels.parquet``); empty: made from
    #: ``schools`` (``school_levels``).
    school_levels: pd.DataFrame = field(default_factory=lambda: _empty_kind("school_levels"))
    #: The school's own certificate (``institution_certificates.parquet``); empty: the period
    #: has no such data (not "no school ready").
    institution_certificates: pd.DataFrame = field(
        default_factory=lambda: _empty_kind("institution_certificates")
    )

    @property
    def sample(self) -> bool:
        return bool(self.quality.get("sample", False))


def _empty_kind(kind: str) -> pd.DataFrame:
    from analysis.core import schemas

    return schemas.empty(kind)


def load_processed(processed_dir: Path | str) -> Processed:
    """Read ``<processed_dir>/*.parquet`` and ``quality.json`` of one period.

    A kind whose file is absent becomes an empty frame with its columns; a folder that does
    not exist at all is an error with a message saying which command makes it.
    """
    processed_dir = Path(processed_dir)
    if not processed_dir.is_dir():
        raise FileNotFoundError(
            f"Chưa có dữ liệu đã làm sạch tại {processed_dir}. Hãy chạy bước làm sạch trước: "
            f"python -m analysis clean --period {processed_dir.name}"
        )
    tables = {}
    for kind in PROCESSED_KINDS:
        path = processed_dir / f"{kind}.parquet"
        tables[kind] = pd.read_parquet(path) if path.is_file() else _empty_kind(kind)
    quality_path = processed_dir / "quality.json"
    quality = json.loads(quality_path.read_text(encoding="utf-8")) if quality_path.is_file() else {}
    return Processed(**tables, quality=quality)


# --------------------------------------------------------------------------- unit

#: Administrative prefixes a user may add or leave out when naming a district (folded).
_DISTRICT_PREFIXES = ("thanh pho", "thi xa", "quan", "huyen", "tp", "tx")
#: How many district names an error message lists.
SHOWN_DISTRICTS = 8


class UnitError(ValueError):
    """The requested reporting unit (district) is not in the data (message in Vietnamese)."""


def _district_series(schools: pd.DataFrame) -> pd.Series:
    """The district of each school; missing or blank -> ``NO_DISTRICT``."""
    if "district" not in schools.columns:
        return pd.Series(NO_DISTRICT, index=schools.index, dtype="str")
    district = schools["district"].astype("str").str.strip()
    return district.where(district.notna() & (district != ""), NO_DISTRICT).astype("str")


def districts(schools: pd.DataFrame) -> list[str]:
    """The districts of the school list, in Vietnamese alphabetical order (``NO_DISTRICT`` last
    when some schools have none)."""
    names = _district_series(schools).unique().tolist()
    return sorted(names, key=lambda name: (name == NO_DISTRICT, _fold(name), name))


def has_many_districts(schools: pd.DataFrame) -> bool:
    """True when the school list spans more than one district: then the district tables
    (``DISTRICT_TABLES``) and the district figure are made; a one-district run has none."""
    return len(districts(schools)) > 1


def _strip_prefix(folded: str) -> str:
    for prefix in _DISTRICT_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def _files_text(df: pd.DataFrame, limit: int = 3) -> str:
    if "source_file" not in df.columns or df.empty:
        return "danh sách trường"
    files = sorted(df["source_file"].dropna().astype("str").unique().tolist())
    shown = ", ".join(files[:limit]) + (
        f" và {len(files) - limit} file khác" if len(files) > limit else ""
    )
    return f"danh sách trường ({shown})"


def match_district(schools: pd.DataFrame, district: str) -> str:
    """The district of the school list that ``district`` names (as written in the data).

    Matching ignores case, diacritics and spacing (``text.fold``): ``"long bien"`` finds
    ``"Long Biên"``; a leading Quận/Huyện/Thị xã/Thành phố may be added or left out when that
    leaves one candidate. An unknown or ambiguous name raises ``UnitError`` naming the file and
    listing districts that exist.
    """
    from analysis.core import text

    names = [n for n in districts(schools) if n != NO_DISTRICT]
    wanted = text.fold(district) or ""
    folded = {name: text.fold(name) or "" for name in names}
    exact = [name for name in names if folded[name] == wanted]
    if len(exact) == 1:
        return exact[0]
    loose = [name for name in names if _strip_prefix(folded[name]) == _strip_prefix(wanted)]
    if len(loose) == 1 and not exact:
        return loose[0]
    source = _files_text(schools)
    if not names:
        raise UnitError(
            f"Không lọc được theo quận/huyện “{district}”: {source} không có cột Quận/Huyện "
            "(hoặc cột này để trống). Thêm cột Quận/Huyện vào danh sách trường rồi chạy lại "
            "bước làm sạch, hoặc để trống tham số district để lập báo cáo cho toàn bộ dữ liệu."
        )
    candidates = exact or loose
    if candidates:
        raise UnitError(
            f"Tên quận/huyện “{district}” khớp với {len(candidates)} quận/huyện trong {source}: "
            f"{', '.join(candidates[:SHOWN_DISTRICTS])}. Hãy ghi đầy đủ tên (kèm Quận/Huyện)."
        )
    from rapidfuzz import fuzz, process

    close = process.extract(
        wanted,
        {name: folded[name] for name in names},
        scorer=fuzz.WRatio,
        limit=SHOWN_DISTRICTS,
        score_cutoff=75,
    )
    suggestions = [name for _, _, name in close]
    examples = suggestions or names[:SHOWN_DISTRICTS]
    label = "Tên gần giống" if suggestions else "Ví dụ"
    raise UnitError(
        f"Không tìm thấy quận/huyện “{district}” trong {source}. Dữ liệu có "
        f"{fmt_int(len(names))} quận/huyện. {label}: {', '.join(examples)}. Sửa tham số "
        "district cho đúng tên trong cột Quận/Huyện, hoặc để trống để lấy mọi quận/huyện."
    )


def select_unit(processed: Processed, district: str | None) -> Processed:
    """The processed tables narrowed to one district (the report's unit).

    ``""`` or None: everything, unchanged. Otherwise the schools of that district (matched by
    ``match_district``) and every row of the other tables that belongs to one of them (by
    school code). ``quality`` is kept as it is (the accounting is that of the whole cleaning
    run); ``unit`` records the district as written in the data.
    """
    if district is None or not str(district).strip():
        return processed
    name = match_district(processed.schools, str(district))
    return _narrow(processed, _district_series(processed.schools) == name, name)


def select_commune(processed: Processed, commune: str) -> Processed:
    """The processed tables narrowed to the schools of one of today's communes (``schools.
    commune``, prefix, case and diacritics aside: ``units.name_key``): one commune's report of
    a fan-out. A commune the data does not hold raises ``UnitError``."""
    from analysis.core.units import communes, name_key

    wanted = name_key(commune)
    values = processed.schools["commune"].astype("object").tolist()
    keep = pd.Series(
        [isinstance(v, str) and name_key(v) == wanted for v in values],
        index=processed.schools.index,
        dtype=bool,
    )
    if not keep.any():
        names = communes(processed.schools)
        raise UnitError(
            f"Không có trường nào của xã/phường “{commune}” trong danh sách trường. Dữ liệu có "
            f"{fmt_int(len(names))} xã/phường: {', '.join(names[:SHOWN_DISTRICTS])}."
        )
    return _narrow(processed, keep, str(commune))


def _narrow(processed: Processed, keep: pd.Series, name: str) -> Processed:
    """The schools where ``keep`` holds and every row of the other tables that belongs to one
    of them (by school code); ``quality`` is that of the whole cleaning run."""
    p = processed
    schools = p.schools[keep.to_numpy()].reset_index(drop=True)
    codes = pd.Index(schools["school_code"].unique())

    def narrow(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["school_code"].isin(codes)].reset_index(drop=True)

    # every table of the period (whatever kinds ``Processed`` holds) keyed by school code
    tables = {
        f.name: narrow(getattr(p, f.name))
        for f in fields(p)
        if isinstance(getattr(p, f.name), pd.DataFrame)
        and "school_code" in getattr(p, f.name).columns
    }
    return replace(p, **{**tables, "schools": schools, "unit": name})


class Note(str):
    """A sentence for a notebook: Jupyter shows it as text (Markdown), not as a quoted string."""

    def _repr_markdown_(self) -> str:
        return str(self)


def unit_text(processed: Processed) -> Note:
    """One line for a notebook: which unit the tables cover, e.g. "Đơn vị báo cáo: Long Biên
    (142 trường)" or "Đơn vị báo cáo: toàn bộ dữ liệu, 702 quận/huyện (54.072 trường)"."""
    n_schools = f"{fmt_int(len(processed.schools))} trường"
    if processed.unit:
        return Note(f"Đơn vị báo cáo: {processed.unit} ({n_schools})")
    names = districts(processed.schools)
    if len(names) == 1:
        return Note(f"Đơn vị báo cáo: {names[0]} ({n_schools})")
    return Note(f"Đơn vị báo cáo: toàn bộ dữ liệu, {fmt_int(len(names))} quận/huyện ({n_schools})")


# --------------------------------------------------------------------------- helpers


#: Combining marks of the Basic Multilingual Plane, deleted by ``str.translate`` (fast fold).
_COMBINING = {c: None for c in range(0x10000) if unicodedata.combining(chr(c))}


def _fold(text: str) -> str:
    """Sort key for Vietnamese text: lower case, no diacritics, đ -> d."""
    text = unicodedata.normalize("NFD", str(text).lower().replace("đ", "d"))
    if text.isascii():
        return text
    if max(text) <= "\uffff":
        return text.translate(_COMBINING)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _level_rank(series: pd.Series) -> pd.Series:
    order = {name: i for i, name in enumerate((*vocab.SCHOOL_LEVELS, TOTAL))}
    return series.map(order).fillna(len(order)).astype("int64")


def _text_rank(col: pd.Series) -> np.ndarray:
    """Dense rank of each value by its folded form (``_fold``, computed once per distinct
    value); equal folds share a rank; missing values rank last."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if len(uniques) == 0:
        return np.zeros(len(col), dtype=np.int64)
    values = pd.Series(np.asarray(uniques, dtype=object), dtype="str")
    ascii_ = values.str.isascii().to_numpy(dtype=bool)
    folded = values.str.lower().to_numpy(dtype=object)  # the fold of ASCII text
    folded[~ascii_] = [_fold(v) for v in values[~ascii_]]
    _, rank = np.unique(folded, return_inverse=True)
    rank = np.append(rank.astype(np.int64), rank.max() + 1)  # slot for code -1 (missing)
    return rank[codes]


def _sort_key(col: pd.Series) -> list[np.ndarray]:
    """Arrays that order ``col`` (most significant first): the fixed order of levels and
    roles, folded Vietnamese text, numbers with missing values last."""
    if col.name == "level":
        return [_level_rank(col).to_numpy()]
    if col.name == "role":
        order = {name: i for i, name in enumerate((*vocab.ROLES, TOTAL))}
        return [col.map(order).fillna(len(order)).astype("int64").to_numpy()]
    if col.dtype == "str" or col.dtype == object:
        return [_text_rank(col)]
    values = pd.to_numeric(col).to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    return [missing.astype(np.int8), np.where(missing, 0.0, values)]


def _sort(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sort by keys; ``level`` in the fixed level order, text Vietnamese-aware, missing values
    last, stable (ties keep their order). Vectorised: text is folded once per distinct value
    and the rows are ordered by ``numpy.lexsort`` on integer/float keys."""
    if df.empty:
        return df.reset_index(drop=True)
    arrays = [a for k in keys for a in _sort_key(df[k])]
    order = np.lexsort(arrays[::-1])  # lexsort: last array is the primary key; stable
    return df.take(order).reset_index(drop=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as float64, NaN where den is 0 or missing (never a division error)."""
    num = pd.to_numeric(num).astype("Float64")
    den = pd.to_numeric(den).astype("Float64")
    out = (num / den.where(den > 0)).astype("float64")
    return out


def _int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series).astype("Int64")


def _sum(series: pd.Series):
    """Sum of a count column; NA when every value is missing."""
    return series.sum(min_count=1) if len(series) else 0


def _frame(name: str, data) -> pd.DataFrame:
    return pd.DataFrame(data, columns=TABLE_COLUMNS[name])


def check_table(
    name: str, df: pd.DataFrame, key: list[str] | None = None, pairs=(("n_signed", "n_staff"),)
) -> pd.DataFrame:
    """Invariants where a table is born: columns, unique key, 0 <= rate <= 1, part <= whole."""
    if list(df.columns) != TABLE_COLUMNS[name]:
        raise MetricError(
            f"Lỗi chương trình: bảng {name} có cột {list(df.columns)}, cần {TABLE_COLUMNS[name]}."
        )
    if key:
        dup = df[df.duplicated(key, keep=False)]
        if len(dup):
            shown = dup[key].astype(str).agg(" / ".join, axis=1).head(5).tolist()
            raise MetricError(
                f"Bảng {name}: khóa {key} bị trùng ở {len(dup)} dòng (ví dụ {shown}). "
                "Kiểm tra lại dữ liệu đã làm sạch: mỗi trường chỉ được có một dòng."
            )
    label = "school_code" if "school_code" in df.columns else df.columns[0]
    for col in sorted(RATE_COLUMNS & set(df.columns) - {"delta_coverage"}):
        values = pd.to_numeric(df[col])
        bad = df[(values < 0) | (values > 1 + 1e-12)]
        if len(bad):
            raise MetricError(
                f"Bảng {name}: cột {col} phải nằm trong [0, 1] nhưng có {len(bad)} dòng ngoài "
                f"khoảng ({label}: {bad[label].astype(str).head(5).tolist()}). "
                "Kiểm tra số đã ký không vượt tổng số trong dữ liệu nguồn."
            )
    for part, whole in pairs:
        if part in df.columns and whole in df.columns:
            over = (_int(df[part]) > _int(df[whole])).fillna(False)
            if over.any():
                bad = df[over.to_numpy(dtype=bool)]
                raise MetricError(
                    f"Bảng {name}: {part} lớn hơn {whole} ở {len(bad)} dòng "
                    f"({label}: {bad[label].astype(str).head(5).tolist()}). "
                    "Kiểm tra lại số liệu của các trường này trong file nguồn."
                )
    return df


# --------------------------------------------------------------------------- scale


_COUNTS = ("n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified")


def taught_levels(schools: pd.DataFrame) -> pd.Series:
    """The levels each school teaches, joined by ``"; "`` (its ``level`` when the table has no
    ``levels`` column, as tables cleaned before multi-level schools)."""
    if "levels" in schools.columns:
        return schools["levels"].astype("str").fillna(schools["level"].astype("str"))
    return schools["level"].astype("str")


def school_levels(schools: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per school and level it teaches: ``table`` (``school_levels.parquet``) when it
    has rows, else made from ``schools``: a single-level school's counts under its level, a
    multi-level school's levels with counts unknown (not split)."""
    if table is not None and len(table):
        return table
    multi = (schools["level"] == MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)
    out = schools[["school_code", *_COUNTS]].copy()
    for col in _COUNTS:
        out[col] = _int(out[col])
        out.loc[multi, col] = pd.NA
    out["level"] = taught_levels(schools).str.split(vocab.LEVELS_SEP, regex=False).to_numpy()
    return out.explode("level")[["school_code", "level", *_COUNTS]].reset_index(drop=True)


def _level_rows(present) -> list[str]:
    return vocab.shown_levels(present)


def scale_by_level(schools: pd.DataFrame, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Schools, classes, pupils per level, then "Trường nhiều cấp học", then Tổng cộng.

    Rows: Mầm non, Tiểu học, THCS always (zeros kept), THPT and GDTX when the data has them,
    "Trường nhiều cấp học" when it has a multi-level school (data contract §8). A level's
    ``n_schools`` counts its single-level schools; a multi-level school counts once, on the
    "Trường nhiều cấp học" row. A level's classes and pupils are those of every school teaching
    it (``school_levels``: a multi-level school's share under each level); the "Trường nhiều
    cấp học" row holds the counts a multi-level school did not split by level (one row naming
    several levels). Tổng cộng counts each school once; the rows above add up to it."""
    sl = school_levels(schools, levels)
    multi = schools[(schools["level"] == MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)]
    rows = []
    for level in (*_level_rows([*schools["level"].tolist(), *sl["level"].tolist()]), TOTAL):
        if level == TOTAL:
            part, counts = schools, schools
        elif level == MULTI_LEVEL:
            part = multi
            known = sl[sl["school_code"].isin(multi["school_code"])]
            # What each multi-level school did not split: its total less its known shares.
            counts = pd.DataFrame(
                {
                    col: _int(multi[col]).reset_index(drop=True)
                    - _int(known.groupby("school_code")[col].sum())
                    .reindex(multi["school_code"].to_numpy())
                    .fillna(0)
                    .reset_index(drop=True)
                    for col in _COUNTS
                }
            )
        else:
            part = schools[schools["level"] == level]
            counts = sl[sl["level"] == level]
        rows.append(
            {
                "level": level,
                "n_schools": len(part),
                "n_classes": int(_int(counts["n_classes"]).sum()),
                "n_pupils": int(_int(counts["n_pupils"]).sum()),
                "n_pupils_with_id": _sum(counts["n_pupils_with_id"]),
                "n_pupils_verified": _sum(counts["n_pupils_verified"]),
            }
        )
    out = _frame("scale_by_level", rows)
    out["level"] = out["level"].astype("str")
    for col in TABLE_COLUMNS["scale_by_level"][1:]:
        out[col] = _int(out[col])
    return check_table("scale_by_level", out, ["level"], pairs=())


# --------------------------------------------------------------------------- coverage


def coverage_by_school(schools: pd.DataFrame, signature_by_school: pd.DataFrame) -> pd.DataFrame:
    """Every school of the levels with signature data, with its coverage and rank in its level.

    A school without data keeps its row (counts and coverage NA); a school with 0 staff has
    coverage NA. ``rank_in_level`` 1 = the lowest coverage (furthest behind), ties share a rank.
    """
    sbs = signature_by_school
    levels = [lv for lv in vocab.SCHOOL_LEVELS if (sbs["level"] == lv).any()]
    base = schools.loc[
        schools["level"].isin(levels), ["school_code", "school_name", "level", "ward"]
    ]
    merged = base.merge(
        sbs[["school_code", "level", "n_staff", "n_signed", "n_pending", "basis"]],
        on="school_code",
        how="outer",
        suffixes=("", "_sig"),
        indicator=True,
    )
    # A school with signature data but absent from the school list (should not happen after
    # cleaning) is kept under its code rather than silently lost.
    merged["level"] = merged["level"].fillna(merged["level_sig"])
    merged["school_name"] = merged["school_name"].fillna(merged["school_code"])
    out = pd.DataFrame(
        {
            "school_code": merged["school_code"].astype("str"),
            "school_name": merged["school_name"].astype("str"),
            "level": merged["level"].astype("str"),
            "ward": merged["ward"].astype("str"),
            "n_staff": _int(merged["n_staff"]),
            "n_signed": _int(merged["n_signed"]),
            "n_pending": _int(merged["n_pending"]),
            "coverage": _ratio(merged["n_signed"], merged["n_staff"]),
            "basis": merged["basis"].astype("str"),
        }
    )
    out["rank_in_level"] = (
        out.groupby("level")["coverage"].rank(method="min", ascending=True).astype("Int64")
    )
    out = _sort(out, ["level", "school_code"])
    return check_table("coverage_by_school", out, ["school_code"])


def _coverage_rows(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum n_staff/n_signed by keys (rows with no data ignored) and add coverage."""
    grouped = (
        df.dropna(subset=["n_staff"])
        .groupby(by, sort=False, dropna=False)[["n_staff", "n_signed"]]
        .sum()
        .reset_index()
    )
    grouped["n_staff"] = _int(grouped["n_staff"])
    grouped["n_signed"] = _int(grouped["n_signed"])
    grouped["coverage"] = _ratio(grouped["n_signed"], grouped["n_staff"])
    return grouped


def _signatures_by_level(sbs: pd.DataFrame, staff: pd.DataFrame | None) -> pd.DataFrame:
    """``signature_by_school`` with each multi-level school that has a staff list split by its
    staff's level (a row's own Cấp học, or "Trường nhiều cấp học" for the school's levels
    jointly: ``clean._staff_level``); a multi-level school with counts only stays jointly."""
    multi = (sbs["level"] == MULTI_LEVEL).fillna(False) & (sbs["basis"] == "list").fillna(False)
    if staff is None or not multi.any():
        return sbs
    codes = set(sbs.loc[multi.to_numpy(dtype=bool), "school_code"].tolist())
    st = staff[staff["school_code"].isin(codes).to_numpy(dtype=bool)]
    st = st[st["active"].to_numpy(dtype=bool)]
    split = (
        st.assign(n_signed=st["signed"].astype("int64"))
        .groupby(["school_code", "level"], sort=True)
        .agg(n_staff=("n_signed", "size"), n_signed=("n_signed", "sum"))
        .reset_index()
    )
    return pd.concat([sbs[~multi.to_numpy(dtype=bool)], split], ignore_index=True)


def coverage_by_level(
    schools: pd.DataFrame, signature_by_school: pd.DataFrame, staff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per level (Mầm non, Tiểu học, THCS always, with explicit zeros/NaN; THPT, GDTX and
    "Trường nhiều cấp học" when present) and the total.

    A level's ``n_schools`` counts every school teaching it (a multi-level school under each of
    its levels); its staff are those of its schools at that level (a multi-level school's staff
    by their own level, given ``staff``). The "Trường nhiều cấp học" row counts the multi-level
    schools and the staff no level is known for. Tổng cộng counts each school once."""
    sbs = signature_by_school
    by_level = _signatures_by_level(sbs, staff)
    taught = taught_levels(schools).str.split(vocab.LEVELS_SEP, regex=False)
    teaches = {lv: taught.map(lambda t, lv=lv: lv in t).to_numpy(dtype=bool) for lv in LEVELS}
    present = [*schools["level"].tolist(), *by_level["level"].tolist()]
    rows = []
    for level in (*_level_rows(present), TOTAL):
        if level == TOTAL:
            sch, sig = schools, sbs
        elif level == MULTI_LEVEL:
            sch = schools[(schools["level"] == MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)]
            sig = by_level[by_level["level"] == MULTI_LEVEL]
        else:
            sch, sig = schools[teaches[level]], by_level[by_level["level"] == level]
        rows.append(
            {
                "level": level,
                "n_schools": len(sch),
                "n_schools_reporting": int(sig["school_code"].nunique()),
                "n_staff": int(sig["n_staff"].sum()),
                "n_signed": int(sig["n_signed"].sum()),
            }
        )
    out = pd.DataFrame(rows)
    out["level"] = out["level"].astype("str")
    for col in ("n_schools", "n_schools_reporting", "n_staff", "n_signed"):
        out[col] = _int(out[col])
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    out = out[TABLE_COLUMNS["coverage_by_level"]]
    return check_table("coverage_by_level", out, ["level"])


def _district_of(schools: pd.DataFrame) -> pd.Series:
    """school_code -> district (``NO_DISTRICT`` when blank), first row of a code wins."""
    where = pd.Series(_district_series(schools).to_numpy(), index=schools["school_code"].to_numpy())
    return where[~where.index.duplicated()]


def coverage_by_ward(
    schools: pd.DataFrame,
    signature_by_school: pd.DataFrame,
    per_school: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per ward (schools with signature data), plus the total.

    When the school list holds more than one district a ward is written "Phường (Quận)", so two
    wards of the same name in different districts are not added together. ``per_school``: the
    ``coverage_by_school`` table when already computed (saves computing it twice).
    """
    if per_school is None:
        per_school = coverage_by_school(schools, signature_by_school)
    ward = per_school["ward"].fillna(NO_WARD)
    if len(districts(schools)) > 1:
        district = per_school["school_code"].map(_district_of(schools)).fillna(NO_DISTRICT)
        ward = ward + " (" + district.astype("str") + ")"
    per_school = per_school.assign(ward=ward)
    wards = _coverage_rows(per_school, ["ward"])
    total = _coverage_rows(per_school.assign(ward=TOTAL), ["ward"])
    out = pd.concat([_sort(wards, ["ward"]), total], ignore_index=True)
    out = out[TABLE_COLUMNS["coverage_by_ward"]]
    out["ward"] = out["ward"].astype("str")
    return check_table("coverage_by_ward", out, ["ward"])


def _sort_districts(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Districts in Vietnamese alphabetical order, ``NO_DISTRICT`` then ``TOTAL`` last."""
    rank = df["district"].map({NO_DISTRICT: 1, TOTAL: 2}).fillna(0).astype("int64")
    return _sort(df.assign(_last=rank), ["_last", *keys]).drop(columns="_last")


def coverage_by_district(schools: pd.DataFrame, signature_by_school: pd.DataFrame) -> pd.DataFrame:
    """Per district (every level), plus the total (Tổng cộng).

    ``n_schools``: schools of the school list; ``n_schools_reporting``: those with signature
    data (a list or counts); a district without any has 0 staff and NaN coverage, like
    ``coverage_by_level``. Schools with signature data but not on the school list (should not
    happen after cleaning) count under ``NO_DISTRICT``.
    """
    district = _district_series(schools)
    sbs = signature_by_school
    sig = pd.DataFrame(
        {
            "district": sbs["school_code"].map(_district_of(schools)).fillna(NO_DISTRICT),
            "school_code": sbs["school_code"].astype("str"),
            "n_staff": pd.to_numeric(sbs["n_staff"]).astype("int64"),
            "n_signed": pd.to_numeric(sbs["n_signed"]).astype("int64"),
        }
    )
    n_schools = district.value_counts().rename("n_schools")
    per = sig.groupby("district", sort=False).agg(
        n_schools_reporting=("school_code", "nunique"),
        n_staff=("n_staff", "sum"),
        n_signed=("n_signed", "sum"),
    )
    out = pd.concat([n_schools, per], axis=1).fillna(0).rename_axis("district").reset_index()
    total = {
        "district": TOTAL,
        "n_schools": len(schools),
        "n_schools_reporting": int(sig["school_code"].nunique()),
        "n_staff": int(sig["n_staff"].sum()),
        "n_signed": int(sig["n_signed"].sum()),
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["district"] = out["district"].astype("str")
    for col in ("n_schools", "n_schools_reporting", "n_staff", "n_signed"):
        out[col] = _int(out[col])
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    out = _sort_districts(out, ["district"])[TABLE_COLUMNS["coverage_by_district"]]
    return check_table("coverage_by_district", out, ["district"])


def coverage_by_commune(schools: pd.DataFrame, signature_by_school: pd.DataFrame) -> pd.DataFrame:
    """Per today's commune (every level; ``schools.commune``, for a period before the reform
    from the crosswalk), plus the total (Tổng cộng): schools, schools reporting, staff,
    signed, coverage and ``n_missing`` (staff still without a signature). Sorted lowest
    coverage first (a commune without data after those with data, ``Chưa rõ xã/phường``
    for schools whose commune is unknown, then the total)."""
    from analysis.core.units import name_key

    if "commune" in schools.columns:
        raw = schools["commune"].astype("object")
    else:
        raw = pd.Series(None, index=schools.index, dtype="object")
    # one spelling per commune (the first written), so "Phường Bồ Đề" and "P. Bồ Đề" are one
    values = [v if isinstance(v, str) else None for v in raw.tolist()]
    keys = [name_key(v) if v is not None else None for v in values]
    shown: dict[str, str] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None and key not in shown:
            shown[key] = value.strip()
    commune = pd.Series(
        [shown[k] if k is not None else NO_COMMUNE for k in keys], index=schools.index, dtype="str"
    )
    of_code = pd.Series(commune.to_numpy(), index=schools["school_code"].to_numpy())
    of_code = of_code[~of_code.index.duplicated()]
    sbs = signature_by_school
    sig = pd.DataFrame(
        {
            "commune": sbs["school_code"].map(of_code).fillna(NO_COMMUNE),
            "school_code": sbs["school_code"],
            "n_staff": sbs["n_staff"].astype("int64"),
            "n_signed": sbs["n_signed"].astype("int64"),
        }
    )
    n_schools = commune.value_counts().rename("n_schools")
    per = sig.groupby("commune", sort=False).agg(
        n_schools_reporting=("school_code", "nunique"),
        n_staff=("n_staff", "sum"),
        n_signed=("n_signed", "sum"),
    )
    out = pd.concat([n_schools, per], axis=1).fillna(0).rename_axis("commune").reset_index()
    for col in ("n_schools", "n_schools_reporting", "n_staff", "n_signed"):
        out[col] = out[col].astype("int64")
    total = {
        "commune": TOTAL,
        **{
            c: int(out[c].sum())
            for c in ("n_schools", "n_schools_reporting", "n_staff", "n_signed")
        },
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["commune"] = out["commune"].astype("str")
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    out["n_missing"] = (out["n_staff"] - out["n_signed"]).clip(lower=0)
    for col in ("n_schools", "n_schools_reporting", "n_staff", "n_signed", "n_missing"):
        out[col] = _int(out[col])
    rank = out["commune"].map({NO_COMMUNE: 1, TOTAL: 2}).fillna(0).astype("int64")
    no_data = out["coverage"].isna().astype("int64")
    order = np.lexsort(
        (_text_rank(out["commune"]), -out["n_missing"].fillna(0).to_numpy(),
         out["coverage"].fillna(2.0).to_numpy(), no_data.to_numpy(), rank.to_numpy())
    )  # fmt: skip
    out = out.iloc[order].reset_index(drop=True)[TABLE_COLUMNS["coverage_by_commune"]]
    return check_table("coverage_by_commune", out, ["commune"])


def scale_by_district(schools: pd.DataFrame, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Schools, classes, pupils per district and level: the levels as ``scale_by_level`` shows
    them (zeros kept; a multi-level school once on the "Trường nhiều cấp học" row, its classes
    and pupils under each level it teaches, ``school_levels``) and the district's total (level
    Tổng cộng) per district, then the same for all districts (district Tổng cộng)."""
    district = _district_series(schools)
    multi = (schools["level"] == MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)
    classes = pd.to_numeric(schools["n_classes"]).astype("int64")
    pupils = pd.to_numeric(schools["n_pupils"]).astype("int64")
    parts = [
        pd.DataFrame(
            {
                "district": district,
                "level": schools["level"].astype("str"),
                "n": 1,
                "n_classes": classes,
                "n_pupils": pupils,
            }
        )
    ]
    if multi.any():
        # A multi-level school: its shares under its levels, what it did not split on its row.
        codes = schools["school_code"][multi]
        sl = school_levels(schools, levels)
        sl = sl[sl["school_code"].isin(codes)]
        of = pd.Series(district[multi].to_numpy(), index=codes.to_numpy())
        share = pd.DataFrame(
            {
                "district": sl["school_code"].map(of).to_numpy(),
                "level": sl["level"].astype("str").to_numpy(),
                "n": 0,
                "n_classes": _int(sl["n_classes"]).fillna(0).to_numpy(dtype="int64"),
                "n_pupils": _int(sl["n_pupils"]).fillna(0).to_numpy(dtype="int64"),
            }
        )
        known = share.assign(code=sl["school_code"].to_numpy()).groupby("code")
        rest = parts[0][multi].copy()
        for col in ("n_classes", "n_pupils"):
            got = known[col].sum().reindex(codes.to_numpy()).fillna(0).to_numpy(dtype="int64")
            rest[col] = rest[col].to_numpy() - got
        parts = [parts[0][~multi], rest, share]
    t = pd.concat(parts, ignore_index=True)
    total = pd.DataFrame(
        {"district": district, "level": TOTAL, "n": 1, "n_classes": classes, "n_pupils": pupils}
    )
    t = pd.concat([t, total], ignore_index=True)
    t = pd.concat([t, t.assign(district=TOTAL)], ignore_index=True)
    agg = t.groupby(["district", "level"], sort=False).agg(
        n_schools=("n", "sum"), n_classes=("n_classes", "sum"), n_pupils=("n_pupils", "sum")
    )
    names = [*districts(schools), TOTAL] if len(schools) else [TOTAL]
    shown = [*_level_rows(t["level"].tolist()), TOTAL]
    grid = pd.MultiIndex.from_product([names, shown], names=["district", "level"])
    out = agg.reindex(grid, fill_value=0).reset_index()
    for col in ("district", "level"):
        out[col] = out[col].astype("str")
    for col in ("n_schools", "n_classes", "n_pupils"):
        out[col] = _int(out[col])
    out = out[TABLE_COLUMNS["scale_by_district"]]  # already in order: districts, then levels
    return check_table("scale_by_district", out, ["district", "level"], pairs=())


def _active_signed(staff: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the active staff and of the active staff who have signed (no row copies)."""
    active = staff["active"].to_numpy(dtype=bool, na_value=False)
    signed = staff["signed"].to_numpy(dtype=bool, na_value=False)
    return active, active & signed


def coverage_by_role(staff: pd.DataFrame) -> pd.DataFrame:
    """Active staff from the lists: per level and role, plus the district per role (Tổng cộng)."""
    active, signed = _active_signed(staff)
    counts = pd.DataFrame(
        {
            "level": staff["level"],
            "role": staff["role"],
            "n_staff": active.astype("int64"),
            "n_signed": signed.astype("int64"),
        }
    )
    per_level = counts.groupby(["level", "role"], sort=False, dropna=False)[
        ["n_staff", "n_signed"]
    ].sum()
    per_level = per_level[per_level["n_staff"] > 0].reset_index()  # groups of active staff
    district = per_level.groupby("role", sort=False)[["n_staff", "n_signed"]].sum().reset_index()
    out = pd.concat([per_level, district.assign(level=TOTAL)], ignore_index=True)
    for col in ("n_staff", "n_signed"):
        out[col] = _int(out[col])
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    out = _sort(out, ["level", "role"])[TABLE_COLUMNS["coverage_by_role"]]
    for col in ("level", "role"):
        out[col] = out[col].astype("str")
    return check_table("coverage_by_role", out, ["level", "role"])


def coverage_by_provider(staff: pd.DataFrame) -> pd.DataFrame:
    """Signed active staff per level and provider; ``share`` = share of the level's signed."""
    _, signed = _active_signed(staff)
    counts = pd.DataFrame(
        {"level": staff["level"], "provider": staff["provider"], "n_signed": signed.astype("int64")}
    )
    per_level = counts.groupby(["level", "provider"], sort=False, dropna=False)["n_signed"].sum()
    per_level = per_level[per_level > 0].reset_index()
    per_level["provider"] = per_level["provider"].fillna(NO_PROVIDER).astype("str")
    per_level["level"] = per_level["level"].astype("str")
    # a provider written as "Không rõ nhà cung cấp" and a missing one are the same row
    per_level = per_level.groupby(["level", "provider"], sort=False)["n_signed"].sum().reset_index()
    total = per_level.groupby("provider", sort=False)["n_signed"].sum().reset_index()
    out = pd.concat([per_level, total.assign(level=TOTAL)], ignore_index=True)
    out["n_signed"] = _int(out["n_signed"])
    level_total = out.groupby("level")["n_signed"].transform("sum")
    out["share"] = _ratio(out["n_signed"], level_total)
    out["_unknown"] = (out["provider"] == NO_PROVIDER).astype("int64")
    out["_neg"] = -out["n_signed"].astype("int64")
    out = _sort(out, ["level", "_unknown", "_neg", "provider"])[
        TABLE_COLUMNS["coverage_by_provider"]
    ]
    for col in ("level", "provider"):
        out[col] = out[col].astype("str")
    return check_table("coverage_by_provider", out, ["level", "provider"], pairs=())


def _periods(history: pd.DataFrame) -> list[str]:
    return sorted(history["period"].astype("str").unique().tolist())


def _history_per_school(history: pd.DataFrame, schools: pd.DataFrame | None) -> pd.DataFrame:
    """``history`` with one row per period and school: a multi-level school's rows by level of
    its staff (``clean.history_rows``) summed, under the school's level."""
    multi = (history["level"] == MULTI_LEVEL).fillna(False)
    if schools is not None and len(schools):
        codes = schools.loc[(schools["level"] == MULTI_LEVEL).fillna(False), "school_code"]
        multi = multi | history["school_code"].isin(set(codes.tolist()))
    if not multi.any():
        return history
    part = history[multi.to_numpy(dtype=bool)]
    joint = (
        part.groupby(["period", "school_code"], sort=False)
        .agg(n_staff=("n_staff", "sum"), n_signed=("n_signed", "sum"), basis=("basis", "first"))
        .reset_index()
        .assign(level=MULTI_LEVEL)
    )
    out = pd.concat([history[~multi.to_numpy(dtype=bool)], joint], ignore_index=True)
    return out.sort_values(["period", "school_code"], kind="stable").reset_index(drop=True)


def coverage_change(
    history: pd.DataFrame, period: str, schools: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per school of ``period`` vs the latest earlier period present in ``history``.

    ``prev_period`` is that earlier period (NA if there is none); the ``*_prev`` values and the
    deltas are NA for a school that had no data then.
    """
    history = _history_per_school(history, schools)
    history = history.assign(period=history["period"].astype("str"))
    earlier = [p for p in _periods(history) if p < str(period)]
    prev = earlier[-1] if earlier else None
    cur = history[history["period"] == str(period)]
    cols = ["school_code", "level", "n_staff", "n_signed"]
    if prev is None:
        old = pd.DataFrame(columns=["school_code", "n_staff", "n_signed"])
    else:
        old = history.loc[history["period"] == prev, ["school_code", "n_staff", "n_signed"]]
    merged = cur[cols].merge(old, on="school_code", how="left", suffixes=("", "_prev"))
    names = (
        schools.set_index("school_code")["school_name"]
        if schools is not None and len(schools)
        else pd.Series(dtype="str")
    )
    out = pd.DataFrame(
        {
            "school_code": merged["school_code"].astype("str"),
            "school_name": merged["school_code"].map(names).fillna(merged["school_code"]),
            "level": merged["level"].astype("str"),
            "prev_period": pd.Series(prev, index=merged.index, dtype="str"),
            "n_staff_prev": _int(merged["n_staff_prev"]),
            "n_signed_prev": _int(merged["n_signed_prev"]),
            "coverage_prev": _ratio(merged["n_signed_prev"], merged["n_staff_prev"]),
            "n_staff": _int(merged["n_staff"]),
            "n_signed": _int(merged["n_signed"]),
            "coverage": _ratio(merged["n_signed"], merged["n_staff"]),
        }
    )
    out["school_name"] = out["school_name"].astype("str")
    out["delta_signed"] = out["n_signed"] - out["n_signed_prev"]
    out["delta_coverage"] = out["coverage"] - out["coverage_prev"]
    out = _sort(out, ["level", "school_code"])
    check_table(
        "coverage_change",
        out,
        ["school_code"],
        pairs=(("n_signed", "n_staff"), ("n_signed_prev", "n_staff_prev")),
    )
    return out


#: A school year starts on 1 August (classes start early in September, the signing window of the
#: records ends on 30 June).
SCHOOL_YEAR_START_MONTH = 8


def school_year_start(period: str) -> date:
    """1 August of the school year that ``period`` belongs to."""
    day = date.fromisoformat(str(period))
    year = day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1
    return date(year, SCHOOL_YEAR_START_MONTH, 1)


def this_school_year(history: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of ``history`` of the school year of ``period``: the trend, the projection and
    the heatmap are a school year's (staff lists are renewed over the summer, and a line drawn
    across two years says nothing about this year's pace)."""
    start = school_year_start(period).isoformat()
    periods = history["period"].astype("str")
    return history[(periods >= start) & (periods <= str(period))]


def coverage_history(history: pd.DataFrame) -> pd.DataFrame:
    """Per period and level (levels with data in that period) plus "Tổng cộng" per period."""
    history = history.assign(period=history["period"].astype("str"))
    per_level = _coverage_rows(history, ["period", "level"])
    total = _coverage_rows(history.assign(level=TOTAL), ["period", "level"])
    out = pd.concat([per_level, total], ignore_index=True)
    out = _sort(out, ["period", "level"])[TABLE_COLUMNS["coverage_history"]]
    for col in ("period", "level"):
        out[col] = out[col].astype("str")
    return check_table("coverage_history", out, ["period", "level"])


def coverage_school_history(history: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Per school and period (``history``): staff, signed, coverage; for the heatmap of
    coverage by school and period, where a stalled school is a row that does not change."""
    names = schools.set_index("school_code")["school_name"] if len(schools) else pd.Series()
    history = _history_per_school(history, schools)
    out = history.assign(
        period=history["period"].astype("str"),
        school_name=history["school_code"].map(names).fillna(history["school_code"]),
        coverage=_ratio(history["n_signed"], history["n_staff"]),
    )
    out = out[TABLE_COLUMNS["coverage_school_history"]].copy()
    for col in ("period", "school_code", "school_name", "level"):
        out[col] = out[col].astype("str")
    for col in ("n_staff", "n_signed"):
        out[col] = _int(out[col])
    out = _sort(out, ["level", "school_code", "period"])
    return check_table("coverage_school_history", out, ["school_code", "period"])


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class LineFit:
    """coverage = intercept + slope * (day - origin), fitted by least squares."""

    origin: date
    slope: float  # per day
    intercept: float
    slope_se: float
    n_points: int
    x_mean: float  # days since origin
    y_mean: float
    last_date: date
    last_coverage: float

    def day_reaching(self, value: float, slope: float | None = None) -> float | None:
        """Days since origin when the line (pivoting on the mean point) reaches ``value``."""
        slope = self.slope if slope is None else slope
        if not slope > 0:
            return None
        return self.x_mean + (value - self.y_mean) / slope


def fit_line(coverage_history: pd.DataFrame, level: str, last_k: int | None = None) -> LineFit:
    """Least-squares fit of coverage on days for one level (the last ``last_k`` periods)."""
    pts = coverage_history[
        (coverage_history["level"] == level) & coverage_history["coverage"].notna()
    ]
    pts = pts.sort_values("period")
    if last_k:
        pts = pts.tail(last_k)
    days = [date.fromisoformat(p) for p in pts["period"].astype("str")]
    y = pts["coverage"].to_numpy(dtype=float)
    n = len(days)
    if n == 0:
        raise MetricError(f"Không có số liệu tỷ lệ nào của cấp {level} để dự báo.")
    origin = days[0]
    x = np.array([(d - origin).days for d in days], dtype=float)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    slope = float(((x - x_mean) * (y - y_mean)).sum() / sxx) if sxx > 0 else 0.0
    intercept = y_mean - slope * x_mean
    if n > 2 and sxx > 0:
        resid = y - (intercept + slope * x)
        se = math.sqrt(float((resid**2).sum()) / (n - 2) / sxx)
    else:
        se = math.nan
    return LineFit(origin, slope, intercept, se, n, x_mean, y_mean, days[-1], float(y[-1]))


def _day(origin: date, days: float | None, not_before: date | None = None) -> str | None:
    """The day (ISO) when ``days`` after origin is reached, rounded up, never before
    ``not_before``; None past 2099."""
    if days is None or not math.isfinite(days):
        return None
    whole = math.ceil(round(days, 6))
    if not_before is not None:
        whole = max(whole, (not_before - origin).days)
    if whole > (date(2099, 12, 31) - origin).days:
        return None
    return (origin + timedelta(days=whole)).isoformat()


def _projection_row(coverage_history: pd.DataFrame, level: str, last_k: int | None) -> dict:
    pts = coverage_history[
        (coverage_history["level"] == level) & coverage_history["coverage"].notna()
    ]
    n = min(len(pts), last_k) if last_k else len(pts)
    k_text = f"{last_k} kỳ gần nhất" if last_k else "mọi kỳ có số liệu"
    model = (
        f"Đường thẳng khớp nhất với tỷ lệ theo ngày ({k_text}); khoảng: tốc độ nhanh hơn hoặc "
        "chậm hơn mà số liệu vẫn khớp (độ dốc ± 2 sai số chuẩn)"
    )
    row = {"level": level, "model": model, "n_points": n}
    row |= {"date_100": None, "date_100_low": None, "date_100_high": None}
    if n and float(pts.sort_values("period")["coverage"].iloc[-1]) >= 1 - 1e-12:
        return row | {"note": "Đã đạt 100%, không cần dự báo."}
    if n < MIN_POINTS:
        return row | {"note": f"Chưa đủ số liệu để dự báo (cần ít nhất {MIN_POINTS} kỳ)."}
    fit = fit_line(coverage_history, level, last_k)
    if not fit.slope > 0:
        return row | {"note": "Tỷ lệ không tăng qua các kỳ: không dự báo được ngày đạt 100%."}
    # Coverage is under 100% at the last period, so no date may fall on or before it.
    after = fit.last_date + timedelta(days=1)
    date_100 = _day(fit.origin, fit.day_reaching(1.0), after)
    if date_100 is None:
        return row | {"note": "Với tốc độ hiện nay, ngày đạt 100% còn quá xa (sau năm 2099)."}
    spread = 2 * fit.slope_se if math.isfinite(fit.slope_se) else 0.0
    low = _day(fit.origin, fit.day_reaching(1.0, fit.slope + spread), after)
    high = _day(fit.origin, fit.day_reaching(1.0, fit.slope - spread), after)
    per_week = fmt_num(fit.slope * 7 * 100, 2)
    note = (
        f"Theo xu hướng của {n} kỳ (tăng trung bình {per_week} điểm % mỗi tuần), dự kiến đạt "
        f"100% vào khoảng {fmt_date(date.fromisoformat(date_100))}"
    )
    if low and high and (low != date_100 or high != date_100):
        note += (
            f" (trong khoảng {fmt_date(date.fromisoformat(low))} – "
            f"{fmt_date(date.fromisoformat(high))})"
        )
    elif high is None:
        note += "; giới hạn muộn nhất không xác định vì xu hướng chưa ổn định"
    return row | {
        "date_100": date_100,
        "date_100_low": low,
        "date_100_high": high,
        "note": note + ".",
    }


def projection(
    coverage_history: pd.DataFrame, level: str | None = None, last_k: int | None = None
) -> pd.DataFrame:
    """When will coverage reach 100%? One row for ``level``, or one per level present + total.

    Model: ordinary least squares of coverage on days (all periods, or the last ``last_k``);
    ``date_100`` = the first day the line reaches 1; the band uses slope ± 2 standard errors,
    pivoting on the mean point. Fewer than 3 points, a non-positive slope or a level already at
    100% give no date and a note saying why.
    """
    present = coverage_history["level"].astype("str").unique().tolist()
    levels = [level] if level else [lv for lv in (*vocab.SCHOOL_LEVELS, TOTAL) if lv in present]
    rows = [_projection_row(coverage_history, lv, last_k) for lv in levels]
    out = _frame("projection", rows)
    for col in ("level", "model", "date_100", "date_100_low", "date_100_high", "note"):
        out[col] = out[col].astype("str")
    out["n_points"] = _int(out["n_points"])
    return check_table("projection", out, ["level"], pairs=())


def signing_pace(coverage_change: pd.DataFrame, period: str) -> pd.DataFrame:
    """Per school: will its staff all hold a signature by the end of the signing window?

    The school's recent pace is its new signatures since the previous period per week
    (``signed_per_week``, never negative); ``needed_per_week`` is the pace that would finish
    by the window's end (the first 30 June on or after the period); ``left_at_window_end`` the
    staff still without one on that day at the recent pace (saturating: at most the staff left
    now, never below 0), so their sum is a projection that cannot pass 100%; ``date_done`` the
    day the school finishes at its pace (None when it has finished or does not move);
    ``on_track`` is True when nobody is left at the window's end. Schools without a previous
    period have no pace (NaN) and are not on track unless finished.
    """
    day = date.fromisoformat(str(period))
    end = signing_window_end(day)
    weeks_left = (end - day).days / 7
    rows = []
    change = coverage_change[coverage_change["n_staff"].notna()]
    for r in change.itertuples(index=False):
        staff, signed = int(r.n_staff), int(r.n_signed)
        unsigned = staff - signed
        pace = math.nan
        prev = r.prev_period if isinstance(r.prev_period, str) and r.prev_period else None
        if prev and pd.notna(r.delta_signed):
            weeks = (day - date.fromisoformat(prev)).days / 7
            if weeks > 0:
                pace = max(float(r.delta_signed), 0.0) / weeks
        needed = unsigned / weeks_left if weeks_left > 0 else float(unsigned)
        if unsigned == 0:
            left, done = 0, None
        elif math.isfinite(pace) and pace > 0:
            left = max(0, math.ceil(round(unsigned - pace * weeks_left, 6)))
            done = _day(day, unsigned / pace * 7)
        else:
            left, done = unsigned, None
        rows.append(
            {
                "school_code": r.school_code,
                "school_name": r.school_name,
                "level": r.level,
                "n_staff": staff,
                "n_signed": signed,
                "n_unsigned": unsigned,
                "prev_period": prev,
                "signed_per_week": pace,
                "weeks_left": weeks_left,
                "needed_per_week": needed,
                "left_at_window_end": left,
                "date_done": done,
                "on_track": left == 0,
            }
        )
    out = _frame("signing_pace", rows)
    for col in ("school_code", "school_name", "level", "prev_period", "date_done"):
        out[col] = out[col].astype("str")
    for col in ("n_staff", "n_signed", "n_unsigned", "left_at_window_end"):
        out[col] = _int(out[col])
    for col in ("signed_per_week", "weeks_left", "needed_per_week"):
        out[col] = pd.to_numeric(out[col]).astype("float64")
    out["on_track"] = out["on_track"].astype(bool)
    out = _sort(out, ["level", "school_code"])
    return check_table("signing_pace", out, ["school_code"])


# --------------------------------------------------------------------------- expiring


def signing_window_end(period: str | date) -> date:
    """The end of the next signing window: the first 30 June on or after the period."""
    day = date.fromisoformat(period) if isinstance(period, str) else period
    end = date(day.year, *WINDOW_END)
    return end if end >= day else date(day.year + 1, *WINDOW_END)


def expiring(
    staff: pd.DataFrame,
    schools: pd.DataFrame,
    period: str,
    window_end: date | str | None = None,
    days: int = 90,
) -> pd.DataFrame:
    """Per school with a staff list: signed active staff whose certificate expires soon.

    ``n_expiring_window``: expires on or before ``window_end`` (default: the first 30 June on
    or after the period, the end of the school year when records are signed);
    ``n_expiring_days``: expires on or before period + ``days``. Both include certificates
    that have already expired (they must be renewed before signing).
    """
    day = date.fromisoformat(str(period))
    end = signing_window_end(day) if window_end is None else window_end
    end = date.fromisoformat(end) if isinstance(end, str) else end
    signed = staff.loc[
        staff["active"].astype(bool) & staff["signed"].astype(bool),
        ["school_code", "level", "expires_on"],
    ]
    expires = pd.to_datetime(signed["expires_on"])
    if len(schools) and (schools["level"] == MULTI_LEVEL).any():
        # One row per school: a multi-level school's staff (by their own level) under its level.
        own = pd.Series(schools["level"].to_numpy(), index=schools["school_code"].to_numpy())
        level = pd.Series(signed["school_code"].map(own).to_numpy(), index=signed.index)
        signed = signed.assign(level=level.fillna(signed["level"]))
    signed = signed.assign(
        n_signed=1,
        n_expiring_window=(expires <= pd.Timestamp(end)).astype("int64"),
        n_expiring_days=(expires <= pd.Timestamp(day + timedelta(days=days))).astype("int64"),
    )
    out = (
        signed.groupby(["school_code", "level"])[
            ["n_signed", "n_expiring_window", "n_expiring_days"]
        ]
        .sum()
        .reset_index()
    )
    names = schools.set_index("school_code")["school_name"] if len(schools) else pd.Series()
    out["school_name"] = out["school_code"].map(names).fillna(out["school_code"]).astype("str")
    out = out[TABLE_COLUMNS["expiring"]]
    for col in ("school_code", "level"):
        out[col] = out[col].astype("str")
    for col in ("n_signed", "n_expiring_window", "n_expiring_days"):
        out[col] = _int(out[col])
    out = _sort(out, ["level", "school_code"])
    return check_table(
        "expiring",
        out,
        ["school_code"],
        pairs=(("n_expiring_window", "n_signed"), ("n_expiring_days", "n_signed")),
    )


# --------------------------------------------------------------------------- infrastructure


def infrastructure_by_school(
    schools: pd.DataFrame,
    infrastructure: pd.DataFrame,
    min_speed: float = 70,
    min_computers_per_100: float | None = None,
) -> pd.DataFrame:
    """Per reporting school; ``below_threshold``: no fibre, a known speed under ``min_speed``, or
    (when given) fewer than ``min_computers_per_100`` computers per 100 pupils. An unknown speed
    alone does not flag a school."""
    merged = infrastructure.merge(
        schools[["school_code", "school_name", "n_pupils"]], on="school_code", how="left"
    )
    out = pd.DataFrame(
        {
            "school_code": merged["school_code"].astype("str"),
            "school_name": merged["school_name"].fillna(merged["school_code"]).astype("str"),
            "level": merged["level"].astype("str"),
            "n_fibre": _int(merged["n_fibre"]),
            "speed_mbps": pd.to_numeric(merged["speed_mbps"]).astype("float64"),
            "n_computers": _int(merged["n_computers"]),
            "n_pupils": _int(merged["n_pupils"]),
        }
    )
    out["computers_per_100_pupils"] = _ratio(out["n_computers"], out["n_pupils"]) * 100
    below = (out["n_fibre"] == 0).fillna(False) | (out["speed_mbps"] < min_speed)
    if min_computers_per_100 is not None:
        below |= out["computers_per_100_pupils"] < min_computers_per_100
    out["below_threshold"] = below.astype(bool)
    out = _sort(out, ["level", "school_code"])
    return check_table("infrastructure_by_school", out, ["school_code"], pairs=())


def infrastructure_summary(infrastructure_by_school: pd.DataFrame) -> pd.DataFrame:
    """One row of district totals of the reporting schools."""
    t = infrastructure_by_school
    speed = t["speed_mbps"].dropna()
    out = _frame(
        "infrastructure_summary",
        [
            {
                "n_schools_reporting": len(t),
                "n_fibre": _sum(t["n_fibre"]),
                "speed_min": float(speed.min()) if len(speed) else math.nan,
                "speed_median": float(speed.median()) if len(speed) else math.nan,
                "n_computers": _sum(t["n_computers"]),
                "n_schools_below": int(t["below_threshold"].sum()),
            }
        ],
    )
    for col in ("n_schools_reporting", "n_fibre", "n_computers", "n_schools_below"):
        out[col] = _int(out[col])
    for col in ("speed_min", "speed_median"):
        out[col] = out[col].astype("float64")
    return check_table("infrastructure_summary", out, pairs=())


def speed_tier_edges(min_speed: float = 70) -> list[float]:
    """Lower edges of the line-speed tiers (Mbps): 30 and the threshold, then 100 and 200."""
    return sorted({0.0, 30.0, float(min_speed), 100.0, 200.0})


def speed_tiers(infrastructure_by_school: pd.DataFrame, min_speed: float = 70) -> pd.DataFrame:
    """Schools per level and line-speed tier (``tier`` labels in order, ``below``: the tier is
    under the threshold): ``Không có cáp quang`` for a school without fibre, ``Chưa báo tốc độ``
    for an unknown speed, else the tier of ``speed_tier_edges``. Every reporting school is in
    exactly one tier."""
    t = infrastructure_by_school
    edges = speed_tier_edges(min_speed)
    labels = [
        f"{fmt_num(lo, 0)}–<{fmt_num(hi, 0)}" if lo else f"< {fmt_num(hi, 0)}"
        for lo, hi in zip(edges, edges[1:], strict=False)
    ] + [f"≥ {fmt_num(edges[-1], 0)}"]
    no_fibre, unknown = "Không có cáp quang", "Chưa báo tốc độ"
    speed = t["speed_mbps"].to_numpy(dtype=float)
    idx = np.searchsorted(np.asarray(edges), np.nan_to_num(speed, nan=0.0), side="right") - 1
    tier = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    tier = np.where(np.isnan(speed), unknown, tier)
    tier = np.where((t["n_fibre"] == 0).fillna(False).to_numpy(), no_fibre, tier)
    order = [no_fibre, *labels, unknown]
    below = {no_fibre, *(lab for lab, lo in zip(labels, edges, strict=True) if lo < min_speed)}
    counts = (
        pd.DataFrame({"level": t["level"].astype("str").to_numpy(), "tier": tier})
        .groupby(["level", "tier"], sort=False)
        .size()
    )
    rows = [
        {
            "level": lv,
            "tier": tr,
            "tier_order": i,
            "below": tr in below,
            "n_schools": int(counts.get((lv, tr), 0)),
        }
        for lv in [lv for lv in vocab.SCHOOL_LEVELS if lv in set(t["level"])]
        for i, tr in enumerate(order)
    ]
    out = pd.DataFrame(rows, columns=["level", "tier", "tier_order", "below", "n_schools"])
    assert int(out["n_schools"].sum()) == len(t), "một trường phải thuộc đúng một mức tốc độ"
    return out


# --------------------------------------------------------------------------- records


def _records(records: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    cols = ["n_pupils", "n_signed_teacher", "n_signed_principal"]
    out = records.groupby(by, sort=False, dropna=False)[cols].sum().reset_index()
    out = out.rename(columns={"n_pupils": "n_records"})
    for col in ("n_records", "n_signed_teacher", "n_signed_principal"):
        out[col] = _int(out[col])
    out["rate_teacher"] = _ratio(out["n_signed_teacher"], out["n_records"])
    out["rate_principal"] = _ratio(out["n_signed_principal"], out["n_records"])
    return out


_RECORD_PAIRS = (("n_signed_teacher", "n_records"), ("n_signed_principal", "n_signed_teacher"))


def records_by_school(schools: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Records (one per pupil) signed by the homeroom teacher and the principal, per school (a
    multi-level school's classes, whose records carry each grade's level, summed on one row
    under the school's own level)."""
    own = schools.set_index("school_code")["level"] if len(schools) else pd.Series()
    level = records["school_code"].map(own).fillna(records["level"]).astype("str")
    out = _records(records.assign(level=level), ["school_code", "level"])
    names = schools.set_index("school_code")["school_name"] if len(schools) else pd.Series()
    out["school_name"] = out["school_code"].map(names).fillna(out["school_code"]).astype("str")
    out = _sort(out[TABLE_COLUMNS["records_by_school"]], ["level", "school_code"])
    for col in ("school_code", "level"):
        out[col] = out[col].astype("str")
    return check_table("records_by_school", out, ["school_code"], pairs=_RECORD_PAIRS)


def records_by_grade(records: pd.DataFrame) -> pd.DataFrame:
    """Per level and grade (khối)."""
    out = _records(records, ["level", "grade"])
    out["grade"] = _int(out["grade"])
    out = _sort(out[TABLE_COLUMNS["records_by_grade"]], ["level", "grade"])
    out["level"] = out["level"].astype("str")
    return check_table("records_by_grade", out, ["level", "grade"], pairs=_RECORD_PAIRS)


def records_by_level(records: pd.DataFrame) -> pd.DataFrame:
    """Per level with records, plus the district total (when there are records)."""
    per_level = _records(records, ["level"])
    total = _records(records.assign(level=TOTAL), ["level"]) if len(records) else per_level[:0]
    out = pd.concat([per_level, total], ignore_index=True)
    out = _sort(out[TABLE_COLUMNS["records_by_level"]], ["level"])
    out["level"] = out["level"].astype("str")
    return check_table("records_by_level", out, ["level"], pairs=_RECORD_PAIRS)


# --------------------------------------------------------------------------- all tables


def compute_coverage(
    processed: Processed,
    period: str,
    *,
    expiring_days: int = 90,
    last_k: int | None = None,
    unit: str = "",
) -> dict[str, pd.DataFrame]:
    """The tables notebook 20 writes (coverage_*, projection, expiring). ``coverage_by_commune``
    is made for a province's report (``unit``, or inferred: ``units.infer_unit``)."""
    from analysis.core import units

    p = processed
    year = this_school_year(p.history, period)
    history = coverage_history(year)
    per_school = coverage_by_school(p.schools, p.signature_by_school)
    tables = {
        "coverage_by_school": per_school,
        "coverage_by_level": coverage_by_level(p.schools, p.signature_by_school, p.staff),
        "coverage_by_ward": coverage_by_ward(p.schools, p.signature_by_school, per_school),
        "coverage_by_role": coverage_by_role(p.staff),
        "coverage_by_provider": coverage_by_provider(p.staff),
        "coverage_change": coverage_change(p.history, period, p.schools),
        "coverage_history": history,
        "coverage_school_history": coverage_school_history(year, p.schools),
        "projection": projection(history, last_k=last_k),
        "expiring": expiring(p.staff, p.schools, period, days=expiring_days),
    }
    tables["signing_pace"] = signing_pace(tables["coverage_change"], period)
    if has_many_districts(p.schools):
        tables["coverage_by_district"] = coverage_by_district(p.schools, p.signature_by_school)
    if units.infer_unit(p.schools, period, unit).kind == "province":
        tables["coverage_by_commune"] = coverage_by_commune(p.schools, p.signature_by_school)
    tables.update(certificate_tables(p))
    return tables


# --------------------------------------------------------------------------- certificates

#: ``institution_readiness``: the other dimension of a row per level (commune) or per commune
#: (level).
ALL = "Tất cả"
#: ``signature_type_by_provider.cert_type`` of a certificate whose type the list does not say.
UNKNOWN_CERT_TYPE = "unknown"
#: ``unmatched_certificates.school_code`` of a certificate whose Đơn vị matches no school.
NO_SCHOOL = "(không rõ)"


def _commune_or_none(schools: pd.DataFrame) -> pd.Series:
    if "commune" not in schools.columns:
        return pd.Series(None, index=schools.index, dtype="object")
    return schools["commune"].astype("object").where(schools["commune"].notna(), None)


def institution_readiness(schools: pd.DataFrame, inst: pd.DataFrame) -> pd.DataFrame:
    """Schools holding an active certificate of their own on the period, per level (commune
    ``ALL``), per commune where ``schools.commune`` is known (level ``ALL``), then the total
    (Tổng cộng / Tổng cộng: the only row saying Tổng cộng, kept last by a sort in the
    workbook). ``share`` = n_ready / n_schools."""
    ready = set(inst.loc[inst["ready"].to_numpy(dtype=bool), "school_code"].astype(str))
    df = pd.DataFrame(
        {
            "level": schools["level"].astype("str"),
            "commune": _commune_or_none(schools),
            "ready": schools["school_code"].astype(str).isin(ready).astype("int64"),
        }
    )
    rows = []
    for level, grp in df.groupby("level", sort=False):
        rows.append((level, ALL, len(grp), int(grp["ready"].sum())))
    if df["commune"].notna().any():
        com = df.assign(commune=df["commune"].fillna(NO_COMMUNE))
        for commune, grp in com.groupby("commune", sort=False):
            rows.append((ALL, commune, len(grp), int(grp["ready"].sum())))
    rows.append((TOTAL, TOTAL, len(df), int(df["ready"].sum())))
    out = pd.DataFrame(rows, columns=["level", "commune", "n_schools", "n_ready"])
    for col in ("n_schools", "n_ready"):
        out[col] = _int(out[col])
    out["share"] = _ratio(out["n_ready"], out["n_schools"])
    out["_l"] = out["level"].map({ALL: 1, TOTAL: 2}).fillna(0).astype("int64")
    out["_c"] = out["commune"].map({NO_COMMUNE: 1, ALL: 2, TOTAL: 3}).fillna(0).astype("int64")
    out = _sort(out, ["_l", "level", "_c", "commune"])[TABLE_COLUMNS["institution_readiness"]]
    for col in ("level", "commune"):
        out[col] = out[col].astype("str")
    return check_table(
        "institution_readiness", out, ["level", "commune"], pairs=(("n_ready", "n_schools"),)
    )


def schools_without_seal(schools: pd.DataFrame, inst: pd.DataFrame) -> pd.DataFrame:
    """The schools without an active certificate of their own on the period."""
    ready = set(inst.loc[inst["ready"].to_numpy(dtype=bool), "school_code"].astype(str))
    keep = ~schools["school_code"].astype(str).isin(ready).to_numpy()
    out = pd.DataFrame(
        {
            "school_code": schools["school_code"].astype("str"),
            "school_name": schools["school_name"].astype("str"),
            "level": schools["level"].astype("str"),
            "commune": _commune_or_none(schools).fillna("").astype("str"),
        }
    )[keep]
    out = _sort(out, ["level", "school_name", "school_code"]).reset_index(drop=True)
    return check_table("schools_without_seal", out, ["school_code"], pairs=())


def signature_type_by_provider(staff: pd.DataFrame) -> pd.DataFrame:
    """Active signed staff whose signature comes from the providers' lists (``signature_source
    == "ca"``), per provider and ``cert_type`` (``unknown`` when the list does not say)."""
    _, signed = _active_signed(staff)
    ca = signed & (staff["signature_source"].astype("object") == "ca").to_numpy(dtype=bool)
    sub = pd.DataFrame(
        {
            "provider": staff["provider"].astype("object").where(staff["provider"].notna(), None),
            "cert_type": staff["cert_type"].astype("object"),
        }
    )[ca]
    sub["provider"] = sub["provider"].fillna(NO_PROVIDER).astype("str")
    sub["cert_type"] = sub["cert_type"].fillna(UNKNOWN_CERT_TYPE).astype("str")
    out = sub.groupby(["provider", "cert_type"], sort=False).size().rename("n_staff").reset_index()
    out["n_staff"] = _int(out["n_staff"])
    from analysis.core.schemas import CERT_TYPES

    order = {t: i for i, t in enumerate((*CERT_TYPES, UNKNOWN_CERT_TYPE))}
    out["_t"] = out["cert_type"].map(order).fillna(len(order)).astype("int64")
    out["_u"] = (out["provider"] == NO_PROVIDER).astype("int64")
    out = _sort(out, ["_u", "provider", "_t"])[TABLE_COLUMNS["signature_type_by_provider"]]
    for col in ("provider", "cert_type"):
        out[col] = out[col].astype("str")
    return check_table("signature_type_by_provider", out, ["provider", "cert_type"], pairs=())


def unmatched_certificates(quality: Mapping) -> pd.DataFrame:
    """Certificates of the providers' lists matching no staff row, per provider and school
    (``(không rõ)``: its Đơn vị matches no school), from ``quality.json["certificates"]``:
    counts only."""
    un = (quality.get("certificates") or {}).get("unmatched_certificate") or {}
    rows = []
    if "by_provider_school" in un:
        for prov, per in un["by_provider_school"].items():
            rows += [(prov, code or NO_SCHOOL, int(n)) for code, n in per.items()]
    else:  # a quality.json written before the provider x school counts: per provider only
        rows = [(prov, NO_SCHOOL, int(n)) for prov, n in (un.get("by_provider") or {}).items()]
    out = pd.DataFrame(rows, columns=TABLE_COLUMNS["unmatched_certificates"])
    out["n"] = _int(out["n"])
    out["_u"] = (out["school_code"] == NO_SCHOOL).astype("int64")
    out = _sort(out, ["provider", "_u", "school_code"])[TABLE_COLUMNS["unmatched_certificates"]]
    for col in ("provider", "school_code"):
        out[col] = out[col].astype("str")
    return check_table("unmatched_certificates", out, ["provider", "school_code"], pairs=())


def certificates_by_provider(quality: Mapping) -> pd.DataFrame:
    """Per provider: the certificates its lists hold (kept), those matching a staff row and
    those matching none (``quality.json["certificates"]``, counts only), + Tổng cộng."""
    q = quality.get("certificates") or {}
    kept = {str(k): int(v) for k, v in (q.get("by_provider") or {}).items()}
    un = {
        str(k): int(v)
        for k, v in ((q.get("unmatched_certificate") or {}).get("by_provider") or {}).items()
    }
    names = sorted(set(kept) | set(un))
    out = pd.DataFrame(
        {
            "provider": pd.Series(names, dtype="str"),
            "n_certificates": [kept.get(n, 0) for n in names],
            "n_unmatched": [un.get(n, 0) for n in names],
        }
    )
    out["n_matched"] = (out["n_certificates"] - out["n_unmatched"]).clip(lower=0)
    out = _sort(out, ["provider"])
    if len(out):
        total = {c: int(out[c].sum()) for c in ("n_certificates", "n_matched", "n_unmatched")}
        out = pd.concat([out, pd.DataFrame([{"provider": TOTAL, **total}])], ignore_index=True)
    out = out[TABLE_COLUMNS["certificates_by_provider"]]
    for col in ("n_certificates", "n_matched", "n_unmatched"):
        out[col] = _int(out[col])
    out["provider"] = out["provider"].astype("str")
    return check_table(
        "certificates_by_provider",
        out,
        ["provider"],
        pairs=(("n_matched", "n_certificates"), ("n_unmatched", "n_certificates")),
    )


def has_providers_lists(processed: Processed) -> bool:
    """The period was served the providers' subscriber lists (``ca_thue_bao``)."""
    return bool((processed.quality.get("certificates") or {}).get("lists"))


def certificate_tables(processed: Processed) -> dict[str, pd.DataFrame]:
    """The certificate tables a period's data allow (``OPTIONAL_TABLES``): the school's own
    certificate when ``institution_certificates`` has rows (an empty table is no data, not "no
    school ready"); the type of signature and the unmatched certificates with the providers'
    lists."""
    p = processed
    out: dict[str, pd.DataFrame] = {}
    if len(p.institution_certificates):
        out["institution_readiness"] = institution_readiness(p.schools, p.institution_certificates)
        out["schools_without_seal"] = schools_without_seal(p.schools, p.institution_certificates)
    staff_ca = "signature_source" in p.staff.columns and (p.staff["signature_source"] == "ca").any()
    if has_providers_lists(p) or staff_ca:
        out["signature_type_by_provider"] = signature_type_by_provider(p.staff)
        unmatched = unmatched_certificates(p.quality)
        if p.unit:  # a commune's own report: the lists' counts are the whole run's (quality.json)
            codes = set(p.schools["school_code"].astype("str"))
            out["unmatched_certificates"] = unmatched[
                unmatched["school_code"].isin(codes)
            ].reset_index(drop=True)
        else:
            out["unmatched_certificates"] = unmatched
            out["certificates_by_provider"] = certificates_by_provider(p.quality)
    return out


def compute_scale(
    processed: Processed, *, min_speed: float = 70, min_computers_per_100: float | None = None
) -> dict[str, pd.DataFrame]:
    """The tables notebook 30 writes (scale_by_level, infrastructure_*, records_*)."""
    p = processed
    infra = infrastructure_by_school(p.schools, p.infrastructure, min_speed, min_computers_per_100)
    tables = {
        "scale_by_level": scale_by_level(p.schools, p.school_levels),
        "infrastructure_by_school": infra,
        "infrastructure_summary": infrastructure_summary(infra),
        "records_by_school": records_by_school(p.schools, p.records),
        "records_by_grade": records_by_grade(p.records),
        "records_by_level": records_by_level(p.records),
    }
    if has_many_districts(p.schools):
        tables["scale_by_district"] = scale_by_district(p.schools, p.school_levels)
    return tables


def compute_all(processed: Processed, period: str, **options) -> dict[str, pd.DataFrame]:
    """Every metric table of a period (coverage and scale parts)."""
    cov = {k: options[k] for k in ("expiring_days", "last_k") if k in options}
    sca = {k: options[k] for k in ("min_speed", "min_computers_per_100") if k in options}
    return compute_coverage(processed, period, **cov) | compute_scale(processed, **sca)


# --------------------------------------------------------------------------- headline

LEVEL_SLUGS = {
    vocab.MN: "mn",
    vocab.TH: "th",
    vocab.THCS: "thcs",
    vocab.THPT: "thpt",
    vocab.GDTX: "gdtx",
    MULTI_LEVEL: "nhieu_cap",
    TOTAL: "total",
}


def _plain(value):
    """A JSON-ready plain number: NA/NaN -> None, numpy scalars -> int/float."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


def headline(
    tables: Mapping[str, pd.DataFrame], period: str | None = None, sample: bool | None = None
) -> dict:
    """Plain headline numbers from whichever metric tables are given (flat, sorted keys).

    Keys: ``schools_<lv>``, ``classes_<lv>``, ``pupils_<lv>`` (scale); ``staff_<lv>``,
    ``signed_<lv>``, ``coverage_<lv>``, ``schools_reporting_<lv>`` (coverage); ``date_100_<lv>``
    (projection); ``infra_*``; ``records_*``; with ``<lv>`` in mn, th, thcs, total.
    """
    out: dict = {}
    if period is not None:
        out["period"] = str(period)
    if sample is not None:
        out["sample"] = bool(sample)
    if "scale_by_level" in tables:
        for row in tables["scale_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"schools_{slug}": row.n_schools,
                f"classes_{slug}": row.n_classes,
                f"pupils_{slug}": row.n_pupils,
            }
    if "coverage_by_level" in tables:
        for row in tables["coverage_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"schools_reporting_{slug}": row.n_schools_reporting,
                f"staff_{slug}": row.n_staff,
                f"signed_{slug}": row.n_signed,
                f"coverage_{slug}": row.coverage,
            }
    if "projection" in tables:
        for row in tables["projection"].itertuples(index=False):
            out[f"date_100_{LEVEL_SLUGS[row.level]}"] = row.date_100
    if "infrastructure_summary" in tables and len(tables["infrastructure_summary"]):
        summary = tables["infrastructure_summary"]
        for col in TABLE_COLUMNS["infrastructure_summary"]:
            out[f"infra_{col}"] = summary[col].iloc[0]
    if "records_by_level" in tables:
        for row in tables["records_by_level"].itertuples(index=False):
            slug = LEVEL_SLUGS[row.level]
            out |= {
                f"records_{slug}": row.n_records,
                f"records_signed_teacher_{slug}": row.n_signed_teacher,
                f"records_signed_principal_{slug}": row.n_signed_principal,
            }
    return {key: _plain(out[key]) for key in sorted(out)}


def _write_json(data: dict, path: Path) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    io.write_bytes(path, text.encode("utf-8"))


def read_headline(tables_dir: Path | str) -> dict:
    """Merge the headline parts (``headline_*.json``) present in ``tables_dir``."""
    merged: dict = {}
    for path in sorted(Path(tables_dir).glob("headline_*.json")):
        merged |= json.loads(path.read_text(encoding="utf-8"))
    return {key: merged[key] for key in sorted(merged)}


def write_headline(part: str, data: dict, tables_dir: Path | str) -> Path:
    """Write ``headline_<part>.json`` then ``headline.json`` = the merge of every part present."""
    tables_dir = Path(tables_dir)
    tables_dir.mkdir(parents=True, exist_ok=True)
    _write_json(data, tables_dir / f"headline_{part}.json")
    path = tables_dir / "headline.json"
    # Notebooks 20 and 30 may run at the same time (analysis.batch). Each part is written
    # before its merge, and merges are serialised, so the last merge sees every part.
    with _locked(tables_dir):
        _write_json(read_headline(tables_dir), path)
    return path


@contextmanager
def _locked(folder: Path):
    """An exclusive advisory lock on ``folder`` itself for the duration of the block (no lock
    file is left among the artefacts; a no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows (the batch's IPC kernels are POSIX too)
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- files


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path | str,
    headline_part: str | None = None,
    period: str | None = None,
    sample: bool | None = None,
) -> dict[str, Path]:
    """Write ``<name>.parquet`` and ``<name>.csv`` (UTF-8) per table, in a stable column order.

    With ``headline_part`` also write that headline part and the merged ``headline.json``, and
    remove the files of that part's district tables (``DISTRICT_TABLES``) absent from ``tables``
    (left by an earlier many-district run into the same folder). Returns name -> parquet path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in sorted(tables):
        df = tables[name]
        if name in TABLE_COLUMNS:
            df = df[TABLE_COLUMNS[name]]
        df = df.reset_index(drop=True)
        parquet = out_dir / f"{name}.parquet"
        tmp = parquet.with_name(parquet.name + ".tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(parquet)
        # The CSV copy is for people: formula-like text gets a leading ' (``exports``).
        io.write_bytes(out_dir / f"{name}.csv", exports.csv_bytes(df))
        written[name] = parquet
    if headline_part:
        # A district table of an earlier many-district run must not outlive a one-district run.
        stale = DISTRICT_TABLES.get(headline_part, ()) + OPTIONAL_TABLES.get(headline_part, ())
        for name in stale:
            if name not in tables:
                for suffix in (".parquet", ".csv"):
                    (out_dir / f"{name}{suffix}").unlink(missing_ok=True)
        write_headline(headline_part, headline(tables, period, sample), out_dir)
    return written


def read_table(tables_dir: Path | str, name: str) -> pd.DataFrame:
    """Read one metric table written by ``write_tables`` (for the report stage)."""
    path = Path(tables_dir) / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"Chưa có bảng {name} tại {path}. Hãy chạy notebook "
            f"{'20_coverage' if name in COVERAGE_TABLES else '30_scale_infrastructure'} "
            "của kỳ này trước (python -m analysis run)."
        )
    return pd.read_parquet(path)


def read_tables(tables_dir: Path | str, names: Iterable[str] | None = None) -> dict:
    """Every metric table present in ``tables_dir`` (or the given names)."""
    tables_dir = Path(tables_dir)
    names = sorted(names) if names is not None else sorted(TABLE_COLUMNS)
    return {n: read_table(tables_dir, n) for n in names if (tables_dir / f"{n}.parquet").is_file()}


# --------------------------------------------------------------------------- display


def vn_columns(df: pd.DataFrame, percent: bool = True) -> pd.DataFrame:
    """A copy for display: Vietnamese headers; with ``percent`` rates become percentages
    (0-100, one decimal, header suffixed "(%)") so the table still sorts by number."""
    out = df.copy()
    if "basis" in out.columns:
        out["basis"] = out["basis"].map(BASIS_VN).fillna(out["basis"])
    names = {}
    for col in out.columns:
        label = VN_COLUMNS.get(col, col)
        if percent and col in RATE_COLUMNS:
            out[col] = (pd.to_numeric(out[col]) * 100).round(1)
            label += " (%)"
        names[col] = label
    return out.rename(columns=names)


def vn_table(tables: Mapping[str, pd.DataFrame], name: str, percent: bool = True) -> pd.DataFrame:
    """``vn_columns`` of ``tables[name]``, or a one-cell note when the run has no such table
    (a one-district run has no district tables), so a notebook cell never needs an ``if``."""
    if name in tables:
        return vn_columns(tables[name], percent)
    if name in {n for names in DISTRICT_TABLES.values() for n in names}:
        note = "Dữ liệu chỉ có một quận/huyện: không lập bảng theo quận/huyện."
    else:
        note = "Không có bảng này trong kỳ báo cáo."
    return pd.DataFrame({"Ghi chú": [note]})


def furthest_behind(coverage_by_school: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` schools with the lowest coverage in each level (rank order)."""
    t = coverage_by_school[coverage_by_school["rank_in_level"].notna()]
    t = t[t["rank_in_level"] <= n]
    return _sort(t, ["level", "rank_in_level", "school_code"])


def pct_text(table: pd.DataFrame, level: str = "Tiểu học") -> str:
    """'1.248/1.787 (69,8%)' for a level of ``coverage_by_level``."""
    row = table[table["level"] == level]
    if row.empty:
        return "–"
    row = row.iloc[0]
    return f"{fmt_int(row['n_signed'])}/{fmt_int(row['n_staff'])} ({fmt_pct(row['coverage'])})"


def select_level(df: pd.DataFrame, level: str | None) -> pd.DataFrame:
    """Rows of one level ("" or None = every level), for the notebooks' ``level`` parameter."""
    if not level:
        return df
    if level not in vocab.SCHOOL_LEVELS:
        raise ValueError(
            f"Cấp học '{level}' không hợp lệ: dùng \"\", {', '.join(vocab.SCHOOL_LEVELS)}."
        )
    return df[df["level"] == level].reset_index(drop=True)
