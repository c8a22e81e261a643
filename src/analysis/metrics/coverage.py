"""Coverage of staff digital signatures on one period: per school, level, ward, district, commune,
role and provider.

``coverage_by_level`` always has the three level rows: a level without signature data has
``n_schools_reporting = 0``, ``n_staff = n_signed = 0`` and ``coverage = NaN`` (explicit, not
dropped). ``coverage_by_school`` lists every school of the levels that have signature data.
``coverage_by_role`` / ``coverage_by_provider`` come from the staff *lists* (active staff);
schools that only sent per-school counts have no role or provider detail. With more than one
district ``coverage_by_ward`` writes a ward as "Phường (Quận/Huyện)" so same-named wards of two
districts are not added together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.core.text import vn_rank
from analysis.core.units import name_key
from analysis.metrics.columns import TABLE_COLUMNS, check_table, finish_table
from analysis.metrics.frames import _int, _ratio, _sort
from analysis.metrics.scale import is_multi, level_table, taught_levels
from analysis.metrics.unit import NO_COMMUNE, NO_DISTRICT, _district_of, _district_series, districts

NO_PROVIDER = "Không rõ nhà cung cấp"


NO_WARD = "Không rõ phường"


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
    jointly: ``clean.staff._staff_level``); a multi-level school with counts only stays jointly."""
    multi = (sbs["level"] == vocab.MULTI_LEVEL).fillna(False) & (sbs["basis"] == "list").fillna(
        False
    )
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
    teaches = {lv: taught.map(lambda t, lv=lv: lv in t).to_numpy(dtype=bool) for lv in vocab.LEVELS}

    def row(level: str) -> dict:
        if level == vocab.TOTAL:
            sch, sig = schools, sbs
        elif level == vocab.MULTI_LEVEL:
            sch, sig = schools[is_multi(schools)], by_level[by_level["level"] == level]
        else:
            sch, sig = schools[teaches[level]], by_level[by_level["level"] == level]
        return {
            "level": level,
            "n_schools": len(sch),
            "n_schools_reporting": int(sig["school_code"].nunique()),
            "n_staff": int(sig["n_staff"].sum()),
            "n_signed": int(sig["n_signed"].sum()),
        }

    out = level_table([*schools["level"].tolist(), *by_level["level"].tolist()], row)
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    out = out[TABLE_COLUMNS["coverage_by_level"]]
    return check_table("coverage_by_level", out, ["level"])


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
    total = _coverage_rows(per_school.assign(ward=vocab.TOTAL), ["ward"])
    out = pd.concat([_sort(wards, ["ward"]), total], ignore_index=True)
    out = out[TABLE_COLUMNS["coverage_by_ward"]]
    out["ward"] = out["ward"].astype("str")
    return check_table("coverage_by_ward", out, ["ward"])


def _sort_districts(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Districts in Vietnamese alphabetical order, ``NO_DISTRICT`` then ``vocab.TOTAL`` last."""
    rank = df["district"].map({NO_DISTRICT: 1, vocab.TOTAL: 2}).fillna(0).astype("int64")
    return _sort(df.assign(_last=rank), ["_last", *keys]).drop(columns="_last")


_AREA_COUNTS = ("n_schools", "n_schools_reporting", "n_staff", "n_signed")


def _coverage_by_area(
    schools: pd.DataFrame, sbs: pd.DataFrame, area: pd.Series, col: str, unknown: str
) -> pd.DataFrame:
    """Per area (``area``: one per row of ``schools``, in column ``col``) plus the total (Tổng
    cộng), unsorted: schools, schools with signature data, staff, signed, coverage. A school
    with signature data but not on the school list counts under ``unknown``."""
    of_code = pd.Series(area.to_numpy(), index=schools["school_code"].to_numpy())
    of_code = of_code[~of_code.index.duplicated()]  # first row of a code wins
    sig = pd.DataFrame(
        {
            col: sbs["school_code"].map(of_code).fillna(unknown),
            "school_code": sbs["school_code"].astype("str"),
            "n_staff": pd.to_numeric(sbs["n_staff"]).astype("int64"),
            "n_signed": pd.to_numeric(sbs["n_signed"]).astype("int64"),
        }
    )
    n_schools = area.value_counts().rename("n_schools")
    per = sig.groupby(col, sort=False).agg(
        n_schools_reporting=("school_code", "nunique"),
        n_staff=("n_staff", "sum"),
        n_signed=("n_signed", "sum"),
    )
    out = pd.concat([n_schools, per], axis=1).fillna(0).rename_axis(col).reset_index()
    total = {col: vocab.TOTAL, **{c: int(out[c].sum()) for c in _AREA_COUNTS}}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out[col] = out[col].astype("str")
    for c in _AREA_COUNTS:
        out[c] = _int(out[c])
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    return out


def coverage_by_district(schools: pd.DataFrame, signature_by_school: pd.DataFrame) -> pd.DataFrame:
    """Per district (every level), plus the total (Tổng cộng).

    ``n_schools``: schools of the school list; ``n_schools_reporting``: those with signature
    data (a list or counts); a district without any has 0 staff and NaN coverage, like
    ``coverage_by_level``. Schools with signature data but not on the school list (should not
    happen after cleaning) count under ``NO_DISTRICT``.
    """
    district = _district_series(schools)
    out = _coverage_by_area(schools, signature_by_school, district, "district", NO_DISTRICT)
    out = _sort_districts(out, ["district"])[TABLE_COLUMNS["coverage_by_district"]]
    return check_table("coverage_by_district", out, ["district"])


def _commune_names(schools: pd.DataFrame) -> pd.Series:
    """Today's commune of each school, one spelling per commune (the first written, so "Phường
    Bồ Đề" and "P. Bồ Đề" are one: ``units.name_key``); ``NO_COMMUNE`` when unknown."""
    if "commune" in schools.columns:
        raw = schools["commune"].astype("object")
    else:
        raw = pd.Series(None, index=schools.index, dtype="object")
    values = [v if isinstance(v, str) else None for v in raw.tolist()]
    keys = [name_key(v) if v is not None else None for v in values]
    shown: dict[str, str] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None and key not in shown:
            shown[key] = value.strip()
    names = [shown[k] if k is not None else NO_COMMUNE for k in keys]
    return pd.Series(names, index=schools.index, dtype="str")


def _sort_communes(out: pd.DataFrame) -> pd.DataFrame:
    """Lowest coverage first, then most staff missing, then name; a commune without data after
    those with data, ``NO_COMMUNE`` then the total last."""
    rank = out["commune"].map({NO_COMMUNE: 1, vocab.TOTAL: 2}).fillna(0).astype("int64")
    no_data = out["coverage"].isna().astype("int64")
    order = np.lexsort(
        (vn_rank(out["commune"]), -out["n_missing"].fillna(0).to_numpy(),
         out["coverage"].fillna(2.0).to_numpy(), no_data.to_numpy(), rank.to_numpy())
    )  # fmt: skip
    return out.iloc[order].reset_index(drop=True)


def coverage_by_commune(schools: pd.DataFrame, signature_by_school: pd.DataFrame) -> pd.DataFrame:
    """Per today's commune (every level; ``schools.commune``, for a period before the reform
    from the crosswalk), plus the total (Tổng cộng): schools, schools reporting, staff,
    signed, coverage and ``n_missing`` (staff still without a signature). Sorted lowest
    coverage first (a commune without data after those with data, ``Chưa rõ xã/phường``
    for schools whose commune is unknown, then the total)."""
    commune = _commune_names(schools)
    out = _coverage_by_area(schools, signature_by_school, commune, "commune", NO_COMMUNE)
    out["n_missing"] = _int((out["n_staff"] - out["n_signed"]).clip(lower=0))
    out = _sort_communes(out)[TABLE_COLUMNS["coverage_by_commune"]]
    return check_table("coverage_by_commune", out, ["commune"])


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
    out = pd.concat([per_level, district.assign(level=vocab.TOTAL)], ignore_index=True)
    for col in ("n_staff", "n_signed"):
        out[col] = _int(out[col])
    out["coverage"] = _ratio(out["n_signed"], out["n_staff"])
    return finish_table("coverage_by_role", out, ["level", "role"], ["level", "role"])


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
    out = pd.concat([per_level, total.assign(level=vocab.TOTAL)], ignore_index=True)
    out["n_signed"] = _int(out["n_signed"])
    level_total = out.groupby("level")["n_signed"].transform("sum")
    out["share"] = _ratio(out["n_signed"], level_total)
    out["_unknown"] = (out["provider"] == NO_PROVIDER).astype("int64")
    out["_neg"] = -out["n_signed"].astype("int64")
    return finish_table(
        "coverage_by_provider",
        out,
        ["level", "_unknown", "_neg", "provider"],
        ["level", "provider"],
        pairs=(),
    )
