"""Staff lists (``cbgvnv``) and the signatures of a period.

``_staff_rows`` checks the rows (id, school, status, role, dates, employment) and replaces the
id by ``person_key``; ``_staff_level`` gives a multi-level school's staff their own level;
``dedup_staff`` keeps one row per person; ``resolve_signatures`` gives each school its
signatures from its list, else from its counts; ``_signatures`` runs all of it (with the
providers' lists, ``certificates``) for the period and for each folder of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.clean import certificates, match
from analysis.clean.checks import (
    KindCheck,
    _col,
    _is_number_cell,
    _KindOut,
    _level_of,
    _other_warnings,
    _own_level,
    _shown,
    _source,
    _unknown_width_warning,
    _unmatched_table,
    date_checks,
)
from analysis.clean.counts import clean_counts
from analysis.core import parse, privacy, schemas, vocab
from analysis.ingest import RawTable


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
    level, use = _own_level(level, own.to_numpy(dtype=object), school_codes, schools)
    stats["staff_level_own"] = int(use.sum())
    stats["staff_level_joint"] = int((multi & ~use).sum())
    return level


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
    k = KindCheck("cbgvnv", tables)
    df = k.df
    _school_from_title(df, tables, schools, aliases)
    sid = _staff_ids(k, id_width)
    k.match_schools(schools, aliases)
    signed, pending = _status_check(k)
    role, title = _role_check(k)
    dates = _date_checks(k)
    # Closed vocabularies: a status or provider typed as free text (a name, a phone number)
    # is written as "Khác"; its masked raw text goes to the warnings only.
    status = _closed(k, "employment_status", parse.parse_employment, "Trạng thái CB", "status")
    active = status.isna() | (status == parse.ACTIVE_STATUS).fillna(False)
    k.stats["blank_status_active"] = int(status.isna().sum())
    provider = _closed(k, "provider", parse.parse_provider, "Nhà cung cấp", "provider")
    folder = pd.Series(
        pd.array([t.folder for t in tables], dtype="str")[df["_tid"].to_numpy()], index=df.index
    )
    code = k.match.school_code
    rows = pd.DataFrame(
        {
            "person_key": privacy.person_key(sid, key, normalised=True),
            "school_code": code,
            "level": _staff_level(_col(df, "level"), code, schools, k.stats),
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
    kept = k.kept
    kk = kept.to_numpy()
    # Usually every row is kept: no copy of a 1,66 million-row frame then.
    table = rows if kk.all() else rows[kk]
    out = _KindOut(table, k.checks.quarantine(), kept, df, k.stats, k.warnings)
    out.unmatched = _unmatched_table("cbgvnv", k.match)
    return out


def _school_from_title(
    df: pd.DataFrame, tables: list[RawTable], schools: pd.DataFrame, aliases: pd.DataFrame
) -> None:
    """A per-school export (the CSDL ngành's) names its school in the title rows only: its
    rows get that name as ``school_name``."""
    no_school = [
        i
        for i, t in enumerate(tables)
        if "school_code" not in t.data.columns and "school_name" not in t.data.columns
    ]
    if not no_school or not len(df):
        return
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


def _staff_ids(k: KindCheck, id_width: int | None) -> pd.Series:
    """The person ids: normalised, zero-padded to the width of the ids stored as text (Excel
    drops leading zeros of numbers only: ``match.code_width``, the rule of the school codes
    too); a missing id is refused (``missing_id``)."""
    raw_id = _col(k.df, "staff_id")
    sid = privacy.normalise_staff_id(raw_id)
    width = id_width if id_width is not None else match.code_width(raw_id)
    if width:
        sid = parse.pad_code(sid, width).astype("str")
    else:
        numeric = _is_number_cell(raw_id) & sid.notna()
        if sid[numeric].str.len().nunique() > 1:  # some numbers surely lost zeros: say so
            k.warnings.append(_unknown_width_warning(k.df, numeric, "cbgvnv", "Mã định danh"))
    k.checks.add(
        "missing_id",
        sid.isna(),
        "staff_id",
        "",
        "Thiếu Mã định danh của cán bộ. Hãy điền Mã định danh (theo CSDL ngành) rồi chạy lại.",
    )
    return sid


def _status_check(k: KindCheck) -> tuple[pd.Series, pd.Series]:
    """(signed, pending) from the signature status; unreadable is refused (``bad_status``)."""
    raw_status = _col(k.df, "signature_status")
    signed, pending, bad_status = parse.parse_status(raw_status)
    shown_status = _shown(raw_status)
    k.checks.add(
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
    return signed, pending


def _role_check(k: KindCheck) -> tuple[pd.Series, pd.Series]:
    """(role, position title) from the position; a missing one (``missing_role``) or one that
    names no role (``bad_role``) is refused."""
    raw_pos = _col(k.df, "position")
    role, title, bad_role = parse.parse_role(raw_pos)
    shown_pos = _shown(raw_pos)
    k.checks.add(
        "missing_role",
        role.isna() & ~bad_role,
        "position",
        "",
        "Thiếu chức vụ. Hãy điền chức vụ (Hiệu trưởng, Giáo viên, Nhân viên...) rồi chạy lại.",
    )
    k.checks.add(
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
    return role, title


def _date_checks(k: KindCheck) -> dict[str, pd.Series]:
    """The certificate's issue and expiry dates (``date_checks``); an expiry before the issue
    is refused (``expiry_before_issue``)."""
    dates = date_checks(
        k.df, k.checks, (("issued_on", "Ngày cấp"), ("expires_on", "Ngày hết hạn")), k.stats
    )
    shown_exp = _shown(dates["expires_on"])
    shown_iss = _shown(dates["issued_on"])
    k.checks.add(
        "expiry_before_issue",
        dates["expires_on"] < dates["issued_on"],
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
    return dates


def _closed(k: KindCheck, column: str, parser, label: str, name: str) -> pd.Series:
    """``column`` in its closed vocabulary (``parser``), anything else written as "Khác"
    (``parse.or_other``) with a warning per distinct text of the kept rows (counted in
    ``<name>_other``). Called after the last check (the kept rows are final)."""
    raw = _col(k.df, column)
    values, other = parser(raw)
    k.warnings += _other_warnings(
        "cbgvnv", k.df, raw, other & k.kept, label, parse.OTHER, k.stats, f"{name}_other"
    )
    return parse.or_other(values, other)


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
    ranked = _ranked(rows)
    first = ~ranked["person_key"].duplicated(keep="first")
    kept = ranked[first.to_numpy()]
    dropped = ranked[~first.to_numpy()]
    # Rule per dropped row, against the kept row of the same person.
    ref = kept.set_index("person_key").reindex(dropped["person_key"])
    cases = _cases(dropped, ref, _rules(dropped, ref))
    kept = kept.drop(columns=["_inactive", "_issued", "_folder_rank", "_pos"])
    kept = kept.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    return kept, cases


def _ranked(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows in keeping order: by person, active first, then the most recent ``issued_on``,
    the latest serving folder, the first in file/sheet/row order (``_inactive``, ``_issued``,
    ``_folder_rank``, ``_pos``)."""
    ranked = rows.assign(
        _inactive=~rows["active"],
        _issued=rows["issued_on"].fillna(pd.Timestamp.min.as_unit("s")),
        _folder_rank=rows["_folder"].rank(method="dense", ascending=False),
        _pos=np.arange(len(rows)),
    )
    return ranked.sort_values(
        ["person_key", "_inactive", "_issued", "_folder_rank", "_pos"],
        ascending=[True, True, False, True, True],
        kind="stable",
    )


def _rules(dropped: pd.DataFrame, ref: pd.DataFrame) -> np.ndarray:
    """The rule that dropped each row against its person's kept row ``ref``: the first
    criterion that separates them (``identical`` when none does, ``order`` last)."""
    same = pd.Series(True, index=dropped.index)
    for col in _IDENTITY_COLUMNS:
        a = dropped[col].reset_index(drop=True)
        b = ref[col].reset_index(drop=True)
        eq = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
        same &= eq.to_numpy()
    inactive_diff = dropped["_inactive"].to_numpy() != ref["_inactive"].to_numpy()
    issued_diff = dropped["_issued"].to_numpy() != ref["_issued"].to_numpy()
    folder_diff = dropped["_folder_rank"].to_numpy() != ref["_folder_rank"].to_numpy()
    return np.select(
        [same.to_numpy(), inactive_diff, issued_diff, folder_diff],
        ["identical", "active", "issued_on", "folder"],
        default="order",
    )


def _cases(dropped: pd.DataFrame, ref: pd.DataFrame, rule: np.ndarray) -> pd.DataFrame:
    """One row per dropped row: its rule, its source and its kept row's, in kept-row order."""
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
            "kept": _where(ref.reset_index()).to_numpy(),
            "dropped": _where(dropped).to_numpy(),
        }
    )
    cases = cases.sort_values(
        ["kept_file", "kept_sheet", "kept_row", "dropped_file", "dropped_sheet", "dropped_row"],
        kind="stable",
    )
    return cases.reset_index(drop=True)


def _where(df: pd.DataFrame) -> pd.Series:
    """``file [sheet] dòng n (school)`` of each row, for the duplicates view."""
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
    """No duplicate case (the columns of ``dedup_staff``'s cases)."""
    cols = ["person_key", *_CASE_COLUMNS, "kept", "dropped"]
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})


def resolve_signatures(
    staff: pd.DataFrame, counts: pd.DataFrame, schools: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """(signature_by_school, counts with ``superseded``, warnings for list-vs-counts).

    A school with a staff list: active staff (n_staff), signed and pending among them, basis
    ``list``. A school with only counts: the counts, n_pending 0, basis ``counts``. The level
    is the school's (``vocab.MULTI_LEVEL`` for a multi-level school, whose staff rows may carry
    their own level: the metrics split it by those).
    """
    from_list = _from_list(staff, schools)
    counts = counts.copy()
    # Membership in a Python set of the listed codes (``isin`` would build one pyarrow scalar
    # per listed school); missing codes are never listed.
    listed_codes = set(from_list["school_code"].to_numpy(dtype=object).tolist())
    counts["superseded"] = np.fromiter(
        (c in listed_codes for c in counts["school_code"].to_numpy(dtype=object).tolist()),
        dtype=bool,
        count=len(counts),
    )
    warnings = _list_and_counts_warnings(counts, from_list)
    from_counts = counts[~counts["superseded"]][["school_code", "level", "n_staff", "n_signed"]]
    from_counts = from_counts.assign(n_pending=0, basis="counts")
    sbs = pd.concat([from_list, from_counts], ignore_index=True)
    sbs = sbs.sort_values("school_code", kind="stable")
    return schemas.conform("signature_by_school", sbs), counts, warnings


def _from_list(staff: pd.DataFrame, schools: pd.DataFrame | None) -> pd.DataFrame:
    """One row per school with a staff list: its level, its active staff, signed and pending
    among them (basis ``list``)."""
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
    return from_list.reset_index().assign(basis="list")


def _list_and_counts_warnings(counts: pd.DataFrame, from_list: pd.DataFrame) -> list[dict]:
    """A school that sent both a list and counts: the list wins, the difference is a warning
    at the counts' row."""
    sup = counts[counts["superseded"]].merge(
        from_list[["school_code", "n_staff", "n_signed"]], on="school_code", suffixes=("", "_list")
    )
    return [
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
        for r in sup.itertuples(index=False)
    ]


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
    """The signatures of one folder: its staff lists (joined to the providers' lists, one row
    per person), its counts, and ``signature_by_school`` resolved from both."""
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
    staff, dups, join = _join_staff(staff_out, cert_rows, schools, aliases, period)
    counts_out = clean_counts(count_tables, schools, aliases) if count_tables else None
    counts = counts_out.table if counts_out is not None else schemas.empty("signature_counts")
    sbs, counts, warnings = resolve_signatures(staff, counts, schools)
    counts = schemas.conform("signature_counts", counts)
    cert_out = cert_rows.out if cert_rows is not None else None
    if cert_out is not None:
        cert_out.table = cert_out.table.drop(columns=["_key", "_school_name", "_school_code"])
    return _Signatures(staff, counts, sbs, staff_out, counts_out, dups, warnings, cert_out, join)


def _join_staff(
    staff_out: _KindOut | None,
    cert_rows,
    schools: pd.DataFrame,
    aliases: pd.DataFrame,
    period: str,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(staff one row per person, duplicate cases, the join's quality) of the checked staff
    rows ``staff_out`` (or none) joined to the providers' lists ``cert_rows`` (or none);
    ``staff_out.table`` loses the join's private columns."""
    if staff_out is None:
        join = certificates.join_quality(
            certificates.empty_join_rows(),
            np.zeros(0, dtype=np.uint64),
            cert_rows,
            period,
            schools=schools,
            aliases=aliases,
        )
        return schemas.empty("staff"), _empty_dups(), join
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
    return schemas.conform("staff", staff_rows.drop(columns=private)), dups, join
