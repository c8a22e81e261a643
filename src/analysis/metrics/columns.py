"""The metric tables' columns (docs/ARCHITECTURE.md, "Metric tables"), which notebook writes which,
their Vietnamese headers, and ``check_table``: the invariants checked where a table is born."""

from __future__ import annotations

import pandas as pd

from analysis.metrics.frames import _int, _sort

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


def finish_table(
    name: str,
    df: pd.DataFrame,
    order: list[str],
    key: list[str],
    pairs=(("n_signed", "n_staff"),),
) -> pd.DataFrame:
    """The table ``name`` as it is born: rows sorted by ``order`` (``_sort``: helper columns
    such as ``_u`` may be among them), its columns, its ``key`` columns as text, checked."""
    out = _sort(df, order)[TABLE_COLUMNS[name]]
    for col in key:
        out[col] = out[col].astype("str")
    return check_table(name, out, key, pairs=pairs)
