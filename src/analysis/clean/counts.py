"""Per-school signature counts (``tonghop_cks``) -> ``signature_counts``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clean.checks import KindCheck, _col, _KindOut, _level_of, _warning_at
from analysis.core import parse, schemas
from analysis.core.fmt import fmt_num
from analysis.ingest import RawTable

RATE_TOLERANCE = 0.1  # percentage points


def clean_counts(tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame) -> _KindOut:
    """Per-school signature counts -> ``signature_counts`` (``superseded`` set later)."""
    k = KindCheck("tonghop_cks", tables, schools, aliases)
    n_staff = k.count("n_staff", "Tổng số CBGVNV")
    n_signed = k.count("n_signed", "Số đã có chữ ký số")
    signed, staff = n_signed.astype("str").fillna(""), n_staff.astype("str").fillna("")
    k.checks.add(
        "signed_gt_total",
        n_signed > n_staff,
        "n_signed",
        signed + " > " + staff,
        "Số đã có chữ ký số (" + signed + ") lớn hơn tổng số CBGVNV (" + staff + "). Hãy kiểm "
        "tra lại hai số này rồi chạy lại.",
    )
    rate, bad_rate = parse.parse_percent(_col(k.df, "rate_reported"), ratio_if_le_1="auto")
    rate = rate.where(~bad_rate)
    code = k.match.school_code
    k.duplicate_school(k.match.value.fillna(code.fillna("")), "một dòng tổng hợp trước")
    k.warnings += _rate_warnings(k, rate, bad_rate)
    out = k.kept_rows(
        {
            "school_code": code,
            "level": _level_of(code, schools),
            "n_staff": n_staff,
            "n_signed": n_signed,
            "rate_reported": rate.astype("float64"),
            "superseded": False,
        }
    )
    return k.result(schemas.conform("signature_counts", out), ["n_staff", "n_signed"])


def _rate_warnings(k: KindCheck, rate: pd.Series, bad_rate: pd.Series) -> list[dict]:
    """Kept rows whose reported rate differs from the counts' by more than ``RATE_TOLERANCE``
    (``rate_mismatch``), then those whose rate cannot be read (``bad_rate``)."""
    n_staff, n_signed = k.parsed["n_staff"], k.parsed["n_signed"]
    kept, code = k.kept, k.match.school_code
    computed = 100.0 * n_signed.astype("Float64") / n_staff.astype("Float64").where(n_staff > 0)
    mismatch = ((rate - computed).abs() > RATE_TOLERANCE).fillna(False).astype(bool) & kept
    warnings = [
        _warning_at(
            k.df,
            i,
            "rate_mismatch",
            "tonghop_cks",
            message=(
                f"Tỷ lệ ghi {fmt_num(rate.iat[i])}% khác tỷ lệ tính từ số liệu "
                f"{n_signed.iat[i]}/{n_staff.iat[i]} = {fmt_num(float(computed.iat[i]))}% "
                f"(trường {code.iat[i]}). Dùng số liệu, không dùng tỷ lệ ghi."
            ),
        )
        for i in np.flatnonzero(mismatch.to_numpy())
    ]
    warnings += [
        _warning_at(
            k.df,
            i,
            "bad_rate",
            "tonghop_cks",
            message="Tỷ lệ (%) không đọc được: bỏ qua, dùng số liệu.",
        )
        for i in np.flatnonzero((bad_rate & kept).to_numpy())
    ]
    return warnings
