"""Records (``hoc_ba``) -> ``records``: one row per class, pupils and records signed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clean.checks import (
    KindCheck,
    _Checks,
    _col,
    _contact_mask,
    _display,
    _KindOut,
    _level_of,
    _own_level,
)
from analysis.core import schemas, text, vocab
from analysis.ingest import RawTable


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
    return _own_level(level, of_grade.astype(object), school_codes, schools)[0]


def clean_records(tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame) -> _KindOut:
    """Records rows -> ``records`` (one row per class of a school)."""
    k = KindCheck("hoc_ba", tables, schools, aliases)
    class_name, shown_class = _class_name_check(k)
    grade = k.count("grade", "Khối", required=False)
    pupils = k.count("n_pupils", "Số học sinh")
    teacher = k.count("n_signed_teacher", "Số học bạ GVCN đã ký")
    principal = k.count("n_signed_principal", "Số học bạ Hiệu trưởng đã ký")
    _signed_checks(k.checks, pupils, teacher, principal)
    code = k.match.school_code
    ok = k.checks.reason.isna()
    key = pd.DataFrame({"s": code.where(ok), "c": class_name.where(ok)})
    k.checks.add(
        "duplicate_class",
        key.notna().all(axis=1) & key.duplicated(keep="first"),
        "class_name",
        shown_class,
        "Lớp '" + shown_class + "' của trường " + code.fillna("") + " đã có ở "
        "một dòng trước: dòng này bị bỏ qua. Hãy xoá dòng lặp rồi chạy lại.",
    )
    out = k.kept_rows(
        {
            "school_code": code,
            "level": _record_level(grade, code, schools),
            "grade": grade,
            "class_name": class_name,
            "n_pupils": pupils,
            "n_signed_teacher": teacher,
            "n_signed_principal": principal,
        }
    )
    totals = ["n_pupils", "n_signed_teacher", "n_signed_principal"]
    return k.result(schemas.conform("records", out), totals)


def _class_name_check(k: KindCheck) -> tuple[pd.Series, pd.Series]:
    """(class names, as shown in messages): a missing name (``missing_class``) or one holding
    a phone number or an e-mail (``contact_in_text``) is refused."""
    class_name = text.clean_text_series(_col(k.df, "class_name"))
    k.checks.add(
        "missing_class",
        class_name.isna(),
        "class_name",
        "",
        "Thiếu tên lớp. Hãy điền tên lớp rồi chạy lại.",
    )
    shown_class = _display(class_name)
    k.checks.add(
        "contact_in_text",
        _contact_mask(class_name),
        "class_name",
        shown_class,
        "Tên lớp '" + shown_class + "' có số điện thoại hoặc e-mail (đã che): tên lớp không "
        "được chứa thông tin liên hệ. Hãy sửa tên lớp (ví dụ 5A) rồi chạy lại.",
    )
    return class_name, shown_class


def _signed_checks(
    checks: _Checks, pupils: pd.Series, teacher: pd.Series, principal: pd.Series
) -> None:
    """Refuse a class whose principal signed more records than its teacher
    (``principal_gt_teacher``), or whose teacher signed more than its pupils
    (``signed_gt_pupils``)."""
    sp, st, spu = (v.astype("str").fillna("") for v in (principal, teacher, pupils))
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
