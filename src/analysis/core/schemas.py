"""Pandera schemas of the processed tables (``data/processed/<period>/*.parquet``).

The column lists, dtypes and ranges follow ``docs/ARCHITECTURE.md``. They are used twice:

- the cleaning stage refuses bad *input* rows itself, vectorised, with a reason code and a
  Vietnamese message (quarantine);
- ``validate(name, df)`` checks every table just before it is written. A failure there is a bug
  in the pipeline (the row checks should have caught it), so it raises ``SchemaBugError``.

``empty(name)`` builds a table with the right columns and dtypes and no rows, for kinds that
have no data in any folder up to the period.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.core import vocab

BASES: tuple[str, ...] = ("list", "counts")
#: ``staff.signature_source``: the hand-filled list, the providers' lists, none (issue 15).
SIGNATURE_SOURCES: tuple[str, ...] = ("list", "ca", "none")
#: ``staff.cert_type``: from the providers' ``Gói dịch vụ``.
CERT_TYPES: tuple[str, ...] = ("token", "remote", "hsm")

STR = "str"
SOURCE_COLUMNS: dict[str, str] = {
    "source_file": STR,
    "source_sheet": STR,
    "source_row": "int64",
}

#: Column -> pandas dtype of every processed table, in the order they are written.
COLUMNS: dict[str, dict[str, str]] = {
    "schools": {
        "school_code": STR,
        "school_name": STR,
        "level": STR,
        "levels": STR,
        "ownership": STR,
        "ward": STR,
        "district": STR,
        "province": STR,
        "commune": STR,
        "n_classes": "int64",
        "n_pupils": "int64",
        "n_pupils_with_id": "Int64",
        "n_pupils_verified": "Int64",
        **SOURCE_COLUMNS,
    },
    "school_levels": {
        "school_code": STR,
        "level": STR,
        "n_classes": "Int64",
        "n_pupils": "Int64",
        "n_pupils_with_id": "Int64",
        "n_pupils_verified": "Int64",
    },
    "staff": {
        "person_key": STR,
        "school_code": STR,
        "level": STR,
        "role": STR,
        "position": STR,
        "signed": "bool",
        "pending": "bool",
        "provider": STR,
        "issued_on": "datetime64[ms]",
        "expires_on": "datetime64[ms]",
        "active": "bool",
        "status": STR,
        "signature_source": STR,
        "cert_type": STR,
        **SOURCE_COLUMNS,
    },
    "signature_counts": {
        "school_code": STR,
        "level": STR,
        "n_staff": "int64",
        "n_signed": "int64",
        "rate_reported": "float64",
        "superseded": "bool",
        **SOURCE_COLUMNS,
    },
    "signature_by_school": {
        "school_code": STR,
        "level": STR,
        "n_staff": "int64",
        "n_signed": "int64",
        "n_pending": "int64",
        "basis": STR,
    },
    "history": {
        "period": STR,
        "school_code": STR,
        "level": STR,
        "n_staff": "int64",
        "n_signed": "int64",
        "basis": STR,
    },
    "infrastructure": {
        "school_code": STR,
        "level": STR,
        "n_fibre": "int64",
        "speed_mbps": "float64",
        "n_computers": "Int64",
        **SOURCE_COLUMNS,
    },
    "institution_certificates": {
        "school_code": STR,
        "level": STR,
        "ready": "bool",
        "expires_on": "datetime64[ms]",
        "n_certificates": "int64",
        **SOURCE_COLUMNS,
    },
    "records": {
        "school_code": STR,
        "level": STR,
        "grade": "Int64",
        "class_name": STR,
        "n_pupils": "int64",
        "n_signed_teacher": "int64",
        "n_signed_principal": "int64",
        **SOURCE_COLUMNS,
    },
}

#: Processed table name -> parquet file name.
FILES: dict[str, str] = {name: f"{name}.parquet" for name in COLUMNS}


class SchemaBugError(RuntimeError):
    """A processed table broke its schema just before writing: a bug, never bad input."""


def _nonneg() -> pa.Check:
    return pa.Check.ge(0, error="negative_count")


def _source() -> dict[str, pa.Column]:
    return {
        "source_file": pa.Column(STR, nullable=False),
        "source_sheet": pa.Column(STR, nullable=False),
        "source_row": pa.Column("int64", pa.Check.ge(1), nullable=False),
    }


def _level(nullable: bool = False, levels: tuple[str, ...] = vocab.SCHOOL_LEVELS) -> pa.Column:
    """A ``level`` column: a level, or ``vocab.MULTI_LEVEL`` (a multi-level school)."""
    return pa.Column(STR, pa.Check.isin(levels, error="bad_level"), nullable=nullable)


def _levels_text(df: pd.DataFrame) -> pd.Series:
    """``levels`` names known levels, in order, and agrees with ``level``: one level for a
    single-level school, two or more for a ``MULTI_LEVEL`` one."""
    ok = []
    for level, text in zip(df["level"].tolist(), df["levels"].tolist(), strict=True):
        parts = tuple(str(text).split(vocab.LEVELS_SEP)) if isinstance(text, str) else ()
        good = parts == vocab.order_levels(parts) and len(set(parts)) == len(parts)
        good = good and (len(parts) > 1 if level == vocab.MULTI_LEVEL else parts == (level,))
        ok.append(good)
    return pd.Series(ok, index=df.index)


def _signature_columns() -> dict[str, pa.Column]:
    """``level``, ``n_staff``, ``n_signed``: the columns every signature table has."""
    return {
        "level": _level(),
        "n_staff": pa.Column("int64", _nonneg()),
        "n_signed": pa.Column("int64", _nonneg()),
    }


def _le(small: str, big: str, error: str) -> pa.Check:
    """Row-wise ``small <= big`` where both are present."""

    def check(df: pd.DataFrame) -> pd.Series:
        a = pd.to_numeric(df[small]).astype("Float64")
        b = pd.to_numeric(df[big]).astype("Float64")
        ok = (a <= b).fillna(True)
        return ok.astype(bool)

    return pa.Check(check, error=error)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "schools": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False, unique=True),
            "school_name": pa.Column(STR, nullable=False),
            "level": _level(),
            "levels": pa.Column(STR, nullable=False),
            "ownership": pa.Column(STR, nullable=True),
            "ward": pa.Column(STR, nullable=True),
            "district": pa.Column(STR, nullable=True),
            "province": pa.Column(STR, nullable=True),
            "commune": pa.Column(STR, nullable=True),
            "n_classes": pa.Column("int64", _nonneg()),
            "n_pupils": pa.Column("int64", _nonneg()),
            "n_pupils_with_id": pa.Column("Int64", _nonneg(), nullable=True),
            "n_pupils_verified": pa.Column("Int64", _nonneg(), nullable=True),
            **_source(),
        },
        checks=[
            _le("n_pupils_with_id", "n_pupils", "with_id_gt_pupils"),
            _le("n_pupils_verified", "n_pupils", "verified_gt_pupils"),
            pa.Check(_levels_text, error="bad_levels"),
        ],
        strict=True,
        ordered=True,
    ),
    "school_levels": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False),
            "level": _level(levels=vocab.LEVELS),
            "n_classes": pa.Column("Int64", _nonneg(), nullable=True),
            "n_pupils": pa.Column("Int64", _nonneg(), nullable=True),
            "n_pupils_with_id": pa.Column("Int64", _nonneg(), nullable=True),
            "n_pupils_verified": pa.Column("Int64", _nonneg(), nullable=True),
        },
        checks=[
            pa.Check(lambda df: ~df.duplicated(["school_code", "level"]), error="duplicate_level"),
            _le("n_pupils_with_id", "n_pupils", "with_id_gt_pupils"),
            _le("n_pupils_verified", "n_pupils", "verified_gt_pupils"),
        ],
        strict=True,
        ordered=True,
    ),
    "staff": pa.DataFrameSchema(
        {
            "person_key": pa.Column(
                STR, pa.Check.str_matches(r"^[0-9a-f]{16}$"), nullable=False, unique=True
            ),
            "school_code": pa.Column(STR, nullable=False),
            "level": _level(),
            "role": pa.Column(STR, pa.Check.isin(vocab.ROLES, error="bad_role"), nullable=False),
            "position": pa.Column(STR, nullable=True),
            "signed": pa.Column("bool"),
            "pending": pa.Column("bool"),
            "provider": pa.Column(STR, nullable=True),
            "issued_on": pa.Column("datetime64[ms]", nullable=True),
            "expires_on": pa.Column("datetime64[ms]", nullable=True),
            "active": pa.Column("bool"),
            "status": pa.Column(STR, nullable=True),
            "signature_source": pa.Column(STR, pa.Check.isin(SIGNATURE_SOURCES)),
            "cert_type": pa.Column(STR, pa.Check.isin(CERT_TYPES), nullable=True),
            **_source(),
        },
        checks=[
            pa.Check(
                lambda df: (
                    (df["expires_on"] >= df["issued_on"])
                    | df["expires_on"].isna()
                    | df["issued_on"].isna()
                ),
                error="expiry_before_issue",
            ),
            pa.Check(lambda df: ~(df["signed"] & df["pending"]), error="signed_and_pending"),
        ],
        strict=True,
        ordered=True,
    ),
    "signature_counts": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False, unique=True),
            **_signature_columns(),
            "rate_reported": pa.Column("float64", nullable=True),
            "superseded": pa.Column("bool"),
            **_source(),
        },
        checks=[_le("n_signed", "n_staff", "signed_gt_total")],
        strict=True,
        ordered=True,
    ),
    "signature_by_school": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False, unique=True),
            **_signature_columns(),
            "n_pending": pa.Column("int64", _nonneg()),
            "basis": pa.Column(STR, pa.Check.isin(BASES)),
        },
        checks=[
            _le("n_signed", "n_staff", "signed_gt_total"),
            _le("n_pending", "n_staff", "pending_gt_total"),
        ],
        strict=True,
        ordered=True,
    ),
    "history": pa.DataFrameSchema(
        {
            "period": pa.Column(STR, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
            "school_code": pa.Column(STR, nullable=False),
            **_signature_columns(),
            "basis": pa.Column(STR, pa.Check.isin(BASES)),
        },
        checks=[_le("n_signed", "n_staff", "signed_gt_total")],
        # A multi-level school: one row per level of its staff (``clean.history_rows``).
        unique=["period", "school_code", "level"],
        strict=True,
        ordered=True,
    ),
    "infrastructure": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False, unique=True),
            "level": _level(),
            "n_fibre": pa.Column("int64", _nonneg()),
            "speed_mbps": pa.Column("float64", pa.Check.gt(0, error="bad_speed"), nullable=True),
            "n_computers": pa.Column("Int64", _nonneg(), nullable=True),
            **_source(),
        },
        strict=True,
        ordered=True,
    ),
    "institution_certificates": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False, unique=True),
            "level": _level(),
            "ready": pa.Column("bool"),
            "expires_on": pa.Column("datetime64[ms]", nullable=True),
            "n_certificates": pa.Column("int64", pa.Check.ge(1)),
            **_source(),
        },
        strict=True,
        ordered=True,
    ),
    "records": pa.DataFrameSchema(
        {
            "school_code": pa.Column(STR, nullable=False),
            "level": _level(),
            "grade": pa.Column("Int64", pa.Check.in_range(1, 12), nullable=True),
            "class_name": pa.Column(STR, nullable=False),
            "n_pupils": pa.Column("int64", _nonneg()),
            "n_signed_teacher": pa.Column("int64", _nonneg()),
            "n_signed_principal": pa.Column("int64", _nonneg()),
            **_source(),
        },
        checks=[
            _le("n_signed_principal", "n_signed_teacher", "principal_gt_teacher"),
            _le("n_signed_teacher", "n_pupils", "signed_gt_pupils"),
        ],
        unique=["school_code", "class_name"],
        strict=True,
        ordered=True,
    ),
}


def empty(name: str) -> pd.DataFrame:
    """A table with no rows, the right columns and the right dtypes."""
    return pd.DataFrame({col: pd.Series([], dtype=dt) for col, dt in COLUMNS[name].items()})


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Select the table's columns in order and cast them to their dtypes (index reset)."""
    out = {}
    for col, dt in COLUMNS[name].items():
        series = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
        if dt == STR:
            if not (isinstance(series.dtype, pd.StringDtype) and str(series.dtype) == STR):
                series = series.astype("object").where(series.notna(), None).astype(STR)
        elif dt.startswith("datetime64"):
            series = pd.to_datetime(series).astype(dt)
        else:
            series = series.astype(dt)
        out[col] = series.reset_index(drop=True)
    return pd.DataFrame(out, columns=list(COLUMNS[name]))


def _dtype_errors(name: str, df: pd.DataFrame) -> list[str]:
    errors = []
    expected = COLUMNS[name]
    if list(df.columns) != list(expected):
        errors.append(f"cột {list(df.columns)} khác {list(expected)}")
        return errors
    for col, dt in expected.items():
        actual = df[col].dtype
        if dt == STR:
            ok = isinstance(actual, pd.StringDtype)
        else:
            ok = str(actual) == dt
        if not ok:
            errors.append(f"cột {col}: kiểu {actual}, cần {dt}")
    return errors


def validate(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check a processed table before writing; raise SchemaBugError on any failure."""
    errors = _dtype_errors(name, df)
    if errors:
        raise SchemaBugError(f"Lỗi chương trình: bảng {name}: " + "; ".join(errors))
    try:
        return SCHEMAS[name].validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        head = fc[["column", "check", "failure_case", "index"]].head(10).to_string(index=False)
        raise SchemaBugError(
            f"Lỗi chương trình: bảng {name} không đạt lược đồ ({len(fc)} lỗi), "
            f"không ghi file nào. Báo cho người phát triển.\n{head}"
        ) from exc
