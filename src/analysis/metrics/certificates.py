"""Certificates: signed staff whose certificate expires before the signing window ends
(``expiring``), the school's own certificate (``institution_readiness``,
``schools_without_seal``) and the providers' subscriber lists (``signature_type_by_provider``,
``unmatched_certificates``, ``certificates_by_provider``).

``expiring``: the next signing window ends on the first 30 June on or after the period (the end
of the school year, when records are signed); certificates that have already expired are
counted too (they must be renewed before signing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd

from analysis.core import vocab
from analysis.core.schemas import CERT_TYPES
from analysis.metrics.columns import TABLE_COLUMNS, check_table, finish_table
from analysis.metrics.coverage import NO_PROVIDER, _active_signed
from analysis.metrics.frames import _int, _ratio, _sort, school_name_of
from analysis.metrics.load import Processed
from analysis.metrics.projection import signing_window_end
from analysis.metrics.unit import NO_COMMUNE


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
    signed = _signed_staff(staff, schools)
    expires = pd.to_datetime(signed["expires_on"])
    signed = signed.assign(
        n_signed=1,
        n_expiring_window=(expires <= pd.Timestamp(end)).astype("int64"),
        n_expiring_days=(expires <= pd.Timestamp(day + timedelta(days=days))).astype("int64"),
    )
    counts = ["n_signed", "n_expiring_window", "n_expiring_days"]
    out = signed.groupby(["school_code", "level"])[counts].sum().reset_index()
    out["school_name"] = school_name_of(out["school_code"], schools)
    out["level"] = out["level"].astype("str")
    for col in counts:
        out[col] = _int(out[col])
    pairs = (("n_expiring_window", "n_signed"), ("n_expiring_days", "n_signed"))
    return finish_table("expiring", out, ["level", "school_code"], ["school_code"], pairs)


def _signed_staff(staff: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """The active staff who have signed (school, level, expiry), one level per school: a
    multi-level school's staff (by their own level) under the school's level."""
    signed = staff.loc[
        staff["active"].astype(bool) & staff["signed"].astype(bool),
        ["school_code", "level", "expires_on"],
    ]
    if len(schools) and (schools["level"] == vocab.MULTI_LEVEL).any():
        own = pd.Series(schools["level"].to_numpy(), index=schools["school_code"].to_numpy())
        level = pd.Series(signed["school_code"].map(own).to_numpy(), index=signed.index)
        signed = signed.assign(level=level.fillna(signed["level"]))
    return signed


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
    rows.append((vocab.TOTAL, vocab.TOTAL, len(df), int(df["ready"].sum())))
    out = pd.DataFrame(rows, columns=["level", "commune", "n_schools", "n_ready"])
    for col in ("n_schools", "n_ready"):
        out[col] = _int(out[col])
    out["share"] = _ratio(out["n_ready"], out["n_schools"])
    out["_l"] = out["level"].map({ALL: 1, vocab.TOTAL: 2}).fillna(0).astype("int64")
    out["_c"] = (
        out["commune"].map({NO_COMMUNE: 1, ALL: 2, vocab.TOTAL: 3}).fillna(0).astype("int64")
    )
    return finish_table(
        "institution_readiness",
        out,
        ["_l", "level", "_c", "commune"],
        ["level", "commune"],
        pairs=(("n_ready", "n_schools"),),
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
    order = {t: i for i, t in enumerate((*CERT_TYPES, UNKNOWN_CERT_TYPE))}
    out["_t"] = out["cert_type"].map(order).fillna(len(order)).astype("int64")
    out["_u"] = (out["provider"] == NO_PROVIDER).astype("int64")
    return finish_table(
        "signature_type_by_provider",
        out,
        ["_u", "provider", "_t"],
        ["provider", "cert_type"],
        pairs=(),
    )


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
    return finish_table(
        "unmatched_certificates",
        out,
        ["provider", "_u", "school_code"],
        ["provider", "school_code"],
        pairs=(),
    )


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
        out = pd.concat(
            [out, pd.DataFrame([{"provider": vocab.TOTAL, **total}])], ignore_index=True
        )
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
