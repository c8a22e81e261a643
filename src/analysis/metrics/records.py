"""Digital school records (học bạ số) signed by the homeroom teacher and the principal, per school,
grade and level."""

from __future__ import annotations

import pandas as pd

from analysis.core import vocab
from analysis.metrics.columns import TABLE_COLUMNS, check_table
from analysis.metrics.frames import _int, _ratio, _sort, school_name_of


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
    out["school_name"] = school_name_of(out["school_code"], schools)
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
    total = (
        _records(records.assign(level=vocab.TOTAL), ["level"]) if len(records) else per_level[:0]
    )
    out = pd.concat([per_level, total], ignore_index=True)
    out = _sort(out[TABLE_COLUMNS["records_by_level"]], ["level"])
    out["level"] = out["level"].astype("str")
    return check_table("records_by_level", out, ["level"], pairs=_RECORD_PAIRS)
