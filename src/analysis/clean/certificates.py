"""Signature status from the source: the providers' subscriber lists and the school's own
certificate (data contract section 9, issue 15).

Providers' subscriber lists (``ca_thue_bao``)
---------------------------------------------
One row a certificate issued to a person. Each row is checked (first failing check wins, as
for every kind): ``missing_cccd``, ``bad_cccd`` (see below; the value shown is masked, every
digit a ``*``), ``missing_serial``, ``bad_date`` (Ngày hiệu lực, Ngày hết hạn),
``missing_expiry``, ``expiry_before_issue``; a serial listed twice (``duplicate_certificate``,
the first row in file/sheet/row order is kept). Its provider comes from the ``Nhà cung cấp``
column, else from the title rows above the header, else from the file name
(``Viettel_CA_thue_bao_T3.xlsx``), normalised to ``parse.PROVIDERS`` (``Khác`` otherwise).
``Trạng thái``: ``Hoạt động`` / ``Đang hoạt động`` is active; ``Tạm dừng``, ``Thu hồi``,
``Hủy``, ``Hết hạn`` are not; blank is active when the dates say so; any other text is not
active (warning ``free_text_other``, masked). ``Gói dịch vụ`` gives the closed ``cert_type``:
``token`` (USB Token), ``remote`` (Ký số từ xa, SmartCA, Remote Signing), ``hsm``, else null.
The words of these closed vocabularies are data: ``certificate_words.toml`` beside this module.

The join (:func:`join_staff`)
-----------------------------
Certificates are joined to staff rows by a keyed hash of the normalised CCCD
(:func:`normalise_cccd`): digits only; 12 digits is a CCCD; 11 digits is a CCCD that lost its
leading zero in Excel (padded); 9 digits is an old CMND, a key of its own (never padded to 12);
anything else is refused (``bad_cccd``). The hash (:func:`cccd_keys`) is BLAKE2b keyed with the
pseudonym key of :mod:`analysis.core.privacy` but personalised with :data:`CCCD_PERSON`, a domain
of its own, so it can never be compared with a ``person_key``. The CCCD and its hash live in
memory inside the cleaning stage only: no table, cache, quarantine or quality record holds
either (nor a name); ``person_key`` (of Mã định danh) is what identifies a person after it.

When a period is served subscriber lists, every staff row with a valid CCCD takes its
signature from them (``signature_source = "ca"``): signed when one of its certificates is
active on the period (valid from <= P <= expiry, status active); several certificates are one
person: the provider, type and ``issued_on`` of the latest active one (by valid-from), the
latest expiry of the active ones as ``expires_on``. A hand-filled ``Chữ ký số`` that disagrees
is overruled (the list wins) and counted per school. A staff row without a (valid) CCCD keeps
its hand-filled status (``"list"``); a row of a list without a signature column and without a
join is unsigned (``"none"``), and ``quality.json["certificates"]["signature_source_missing"]``
names its school. A certificate matching no staff row is counted per provider and, when its
``Đơn vị`` matches a school, per school (``unmatched_certificate``), without personal data.
A signed person whose certificates all expire before the end of the signing window
(:func:`signing_window_end`: the first 30 June on or after the period) is counted per school.

The school's own certificate (``chu_ky_so_to_chuc``)
-----------------------------------------------------
Rows matched to the school list like other kinds; per school one row of
``institution_certificates``: ``ready`` (an active certificate on the period), ``expires_on``
(the latest expiry of the active ones, else of all), ``n_certificates``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.clean import checks as C
from analysis.clean import match
from analysis.core import parse, privacy, schemas, text
from analysis.ingest import contract as K

#: BLAKE2b personalisation of the CCCD join key: a domain apart from ``person_key``'s.
CCCD_PERSON = b"hocbaso.cccd.v1"

#: The words of the certificates' closed vocabularies (the data file beside this module).
WORDS_FILE = Path(__file__).resolve().parent / "certificate_words.toml"
_WORDS: dict = tomllib.loads(WORDS_FILE.read_text(encoding="utf-8"))
_ACTIVE_WORDS: tuple[str, ...] = tuple(_WORDS["status"]["active"])
_INACTIVE_RE = re.compile(r"^(?:da |bi )?(?:" + "|".join(_WORDS["status"]["inactive"]) + r")\b")
#: (type, words contained in the folded text without spaces, words equal to it), in order.
_TYPE_RULES: list[tuple[str, tuple[str, ...], frozenset[str]]] = [
    (rule["type"], tuple(rule["contains"]), frozenset(rule.get("exact", ())))
    for rule in _WORDS["type_rules"]
]


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _ls(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def normalise_cccd(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``(ids, bad, padded)``: ``"C"`` + 12 digits for a CCCD (11 digits padded with a leading
    zero: ``padded``), ``"M"`` + 9 digits for an old CMND, NA for a blank; anything else is
    ``bad`` (NA id). White space, dots, dashes and apostrophes (Excel's text mark) are
    ignored; a number cell counts by its digits (``12345678901.0`` -> 11 digits). Vectorised
    (pyarrow compute)."""
    s = _id_text(values)
    arr = pa.array(s.array, type=pa.large_string()) if len(s) else pa.array([], pa.large_string())
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)
    digits = pc.fill_null(pc.ascii_is_decimal(arr), False)
    n = pc.fill_null(pc.utf8_length(arr), 0)
    is12, is11, is9 = (pc.and_(digits, pc.equal(n, k)) for k in (12, 11, 9))
    none = pa.scalar(None, pa.large_string())

    def prefixed(mark: str):
        return pc.binary_join_element_wise(_ls(mark), arr, _ls(""))

    ids = pc.if_else(
        is12, prefixed("C"), pc.if_else(is11, prefixed("C0"), pc.if_else(is9, prefixed("M"), none))
    )
    bad = pc.and_(pc.is_valid(arr), pc.invert(pc.or_(pc.or_(is12, is11), is9)))
    idx = s.index
    return (
        pd.Series(pd.array(ids, dtype="str"), index=idx),
        pd.Series(bad.to_numpy(zero_copy_only=False), index=idx, dtype=bool),
        pd.Series(is11.to_numpy(zero_copy_only=False), index=idx, dtype=bool),
    )


def _id_text(values: pd.Series) -> pd.Series:
    """The ids as text: CSV text as it is, Excel numbers as their digits; separators taken out
    where a value is not all digits (a few rows)."""
    s = pd.Series(values, copy=False)
    if not isinstance(s.dtype, pd.StringDtype):
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            s = s.astype("str")  # CSV text: as it is
        else:  # Excel cells: numbers as their digits
            s = privacy.normalise_staff_id(s)
    s = s.astype("str")
    other = ~s.str.isdecimal().fillna(True).astype(bool)
    if other.any():
        s = s.mask(other, s[other].str.replace(r"[\s.'\-\u00a0\u200b\ufeff]", "", regex=True))
    return s


def cccd_keys(ids: pd.Series, key: bytes) -> np.ndarray:
    """The join key of each normalised id (:func:`normalise_cccd`) as uint64 (0 for NA):
    BLAKE2b keyed with ``key``, personalised with :data:`CCCD_PERSON`, 8-byte digest. In
    memory only. The key block is compressed once; each id continues a copy of that state."""
    if not isinstance(key, bytes | bytearray) or not key:
        raise privacy.PrivacyError("Khoá bí danh không hợp lệ (cần một dãy byte khác rỗng).")
    base = blake2b(key=bytes(key)[:64], digest_size=8, person=CCCD_PERSON)
    copy = base.copy
    out = bytearray()
    blank = bytes(8)
    if not len(ids):
        return np.zeros(0, dtype=np.uint64)
    for value in pa.array(ids.array).cast(pa.large_binary()).to_pylist():
        if value is None:
            out += blank
            continue
        h = copy()
        h.update(value)
        out += h.digest()
    return np.frombuffer(bytes(out), dtype="<u8").copy()


def mask_all_digits(value) -> str:
    """A refused CCCD as shown in quarantine: every digit a ``*`` (only the length shows)."""
    return re.sub(r"[0-9]", "*", text.clean_text(value) or "") if value is not None else ""


def provider_in_text(value: str | None) -> str | None:
    """The provider of ``parse.PROVIDERS`` that a title row or a file name names, or None."""
    if not value:
        return None
    folded = (text.fold(value) or "").replace("đ", "d")
    for word in re.split(r"[^0-9a-z]+", folded):
        if not word:
            continue
        for regex, name in parse._PROVIDER_RES:
            if regex.search(word):
                return name
    compact = re.sub(r"[^0-9a-z]+", "", folded)
    for regex, name in parse._PROVIDER_RES:
        if regex.pattern.startswith("^"):
            continue
        if regex.search(compact):
            return name
    return None


def _cert_key(value: str) -> str:
    """The folded words of a status or package text (đ as d, punctuation as spaces)."""
    return re.sub(r"[^0-9a-z]+", " ", (text.fold(value) or "").replace("đ", "d")).strip()


def _status_scalar(value) -> tuple[bool | None, bool]:
    """(active, free text) of one status value; None: blank."""
    t = parse._text(value)
    if t is None:
        return None, False
    key = _cert_key(t)
    if key in _ACTIVE_WORDS:
        return True, False
    if _INACTIVE_RE.match(key):
        return False, False
    return False, True


def parse_cert_status(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``(active, blank, other)`` per row: active/inactive by the closed list of the module's
    doc; ``blank`` rows are active when their dates say so; ``other`` (free text) is not."""

    def code(v) -> int:
        active, other = _status_scalar(v)
        return 2 if active is None else 3 if other else int(active)

    c = text.map_unique(s, code, dtype="Int64").fillna(2).to_numpy(dtype="int64")
    idx = s.index
    return (
        pd.Series(c == 1, index=idx),
        pd.Series(c == 2, index=idx),
        pd.Series(c == 3, index=idx),
    )


def _type_scalar(value) -> str | None:
    t = parse._text(value)
    if t is None:
        return None
    compact = _cert_key(t).replace(" ", "")
    for cert_type, contains, exact in _TYPE_RULES:
        if any(w in compact for w in contains) or compact in exact:
            return cert_type
    return None


def parse_cert_type(s: pd.Series) -> pd.Series:
    """``Gói dịch vụ`` -> ``token``/``remote``/``hsm`` or NA (closed vocabulary)."""
    return text.map_unique(s, _type_scalar)


def signing_window_end(period: str) -> pd.Timestamp:
    """The end of the signing window: the first 30 June on or after the period."""
    p = pd.Timestamp(period)
    end = pd.Timestamp(year=p.year, month=6, day=30)
    return end if end >= p else pd.Timestamp(year=p.year + 1, month=6, day=30)


def _table_provider(t) -> str | None:
    """A list's provider from its title rows, else from its file name."""
    for cell in t.title_texts:
        found = provider_in_text(cell)
        if found:
            return found
    return provider_in_text(PurePosixPath(t.file).stem)


_SCHOOL_LABELS = frozenset(
    {"don vi", "truong", "ten truong", "ten don vi", "don vi cong tac", "co so giao duc"}
)
_SCHOOL_PREFIX_RE = re.compile(
    r"^(truong|mam non|mau giao|nha tre|tieu hoc|thcs|th&thcs|trung hoc)\b"
)


def title_school(t, schools: pd.DataFrame, aliases: pd.DataFrame) -> str | None:
    """The school a per-school export names in its title rows ("Trường Tiểu học Ái Mộ",
    "Đơn vị: Trường TH Ái Mộ"): the first title text that matches the school list, else the
    first that looks like a school's name (its rows then say it matched none), else None."""
    cands = []
    for cell in t.title_texts:
        value = text.clean_text(cell) or ""
        if ":" in value:
            label, rest = value.split(":", 1)
            if K.header_key(label) in _SCHOOL_LABELS and rest.strip():
                cands.append(rest.strip())
                continue
        if _SCHOOL_PREFIX_RE.match((text.fold(value) or "").replace("đ", "d")):
            cands.append(value)
    if not cands:
        return None
    m = match.match_schools(pd.Series(cands, dtype="str"), None, schools, aliases)
    hits = np.flatnonzero(m.school_code.notna().to_numpy())
    return cands[int(hits[0])] if len(hits) else cands[0]


# --------------------------------------------------------------------------------------------
# Subscriber lists
# --------------------------------------------------------------------------------------------


@dataclass
class CertRows:
    """The checked certificates of a period (in memory only: ``_key`` is the CCCD's hash)."""

    out: object  # clean._KindOut (accounting, quarantine, warnings)
    certs: pd.DataFrame  # _key, provider, valid_from, expires_on, active, cert_type, school_code
    stats: dict = field(default_factory=dict)


def clean_certificates(
    tables: list, schools: pd.DataFrame, aliases: pd.DataFrame, key: bytes, period: str
) -> CertRows:
    """Providers' subscriber lists -> checked certificates (see the module's doc)."""
    df = C._stack(tables)
    checks = C._Checks(df, "ca_thue_bao", tables)
    stats: dict[str, int] = {}
    raw_ids = _stacked_ids(tables, df)
    ids, bad_id, padded = normalise_cccd(raw_ids)
    _check_cccd(checks, raw_ids, ids, bad_id)
    serial = _serials(C._col(df, "serial"))
    checks.add(
        "missing_serial",
        serial.isna(),
        "serial",
        "",
        "Thiếu Serial chứng thư. Hãy điền số serial rồi chạy lại.",
    )
    dates = _cert_dates(df, checks)
    _check_expiry_before_issue(checks, dates)
    _check_duplicate_serial(checks, serial)
    raw_provider = C._col(df, "provider")
    provider, other_provider = _providers(raw_provider, tables, df, stats)
    raw_status = C._col(df, "cert_status")
    active, status_other = _active_on(raw_status, dates, period)
    cert_type = parse_cert_type(C._col(df, "package"))
    kept = ~checks.refused
    warnings = C._other_warnings(
        "ca_thue_bao", df, raw_status, status_other & kept, "Trạng thái", parse.OTHER, stats,
        "cert_status_other",
    )  # fmt: skip
    warnings += C._other_warnings(
        "ca_thue_bao", df, raw_provider, other_provider & kept, "Nhà cung cấp", parse.OTHER,
        stats, "provider_other",
    )  # fmt: skip
    stats["cccd_padded"] = int((padded & kept).sum())
    stats["cmnd"] = int((ids.str.startswith("M").fillna(False) & kept).sum())
    kk = kept.to_numpy()
    certs = pd.DataFrame(
        {
            "_key": cccd_keys(ids[kk], key),
            "provider": provider[kk].reset_index(drop=True),
            "valid_from": dates["valid_from"][kk].to_numpy(),
            "expires_on": dates["expires_on"][kk].to_numpy(),
            "active": active[kk].to_numpy(dtype=bool),
            "cert_type": cert_type[kk].reset_index(drop=True),
            # The school (optional) only helps to report unmatched certificates per school:
            # matched to the school list for those only (``join_quality``), never refused.
            "_school_name": C._col(df, "school_name").astype(object)[kk].to_numpy(),
            "_school_code": C._col(df, "school_code").astype(object)[kk].to_numpy(),
        }
    )
    del ids  # the CCCD numbers go no further than their hash
    out = C._KindOut(certs, checks.quarantine(), kept, df, stats, warnings)
    return CertRows(out, certs, stats)


def _check_cccd(checks, raw_ids: pd.Series, ids: pd.Series, bad_id: pd.Series) -> None:
    """Refuse a certificate without a CCCD (``missing_cccd``) or with a bad one (``bad_cccd``,
    shown masked)."""
    checks.add(
        "missing_cccd",
        raw_ids.isna() | ids.isna() & ~bad_id,
        "id_number",
        "",
        "Thiếu Số CCCD của thuê bao: chứng thư không nối được với CBGVNV. Hãy điền Số CCCD "
        "(12 chữ số) rồi chạy lại.",
    )

    def shown_id(rows) -> pd.Series:  # only for the refused rows
        return text.map_unique(raw_ids[rows], mask_all_digits).fillna("")

    checks.add(
        "bad_cccd",
        bad_id,
        "id_number",
        shown_id,
        lambda rows: (
            "Số CCCD '"
            + shown_id(rows)
            + "' không hợp lệ (cần 12 chữ số, hoặc 9 chữ số của CMND cũ): chứng thư không nối "
            "được. Hãy sửa ô này rồi chạy lại."
        ),
    )


def _serials(raw_serial: pd.Series) -> pd.Series:
    """Serials: numbers as their digits, no spaces, upper case (vectorised; text is clean)."""
    if isinstance(raw_serial.dtype, pd.StringDtype):  # CSV text, cleaned by ingest already
        return raw_serial.where(raw_serial != "").astype("str")
    return privacy.normalise_staff_id(raw_serial)


def _cert_dates(df: pd.DataFrame, checks) -> dict[str, pd.Series]:
    """Ngày hiệu lực and Ngày hết hạn (``bad_date``), the expiry required (``missing_expiry``):
    the dates of a subscriber list and of a school's own certificate."""
    dates = C.date_checks(
        df, checks, (("valid_from", "Ngày hiệu lực"), ("expires_on", "Ngày hết hạn"))
    )
    checks.add(
        "missing_expiry",
        dates["expires_on"].isna(),
        "expires_on",
        "",
        "Thiếu Ngày hết hạn của chứng thư. Hãy điền ngày này rồi chạy lại.",
    )
    return dates


def _check_expiry_before_issue(checks, dates: dict[str, pd.Series]) -> None:
    """Refuse a certificate that expires before it is valid, quoting both dates."""
    shown_exp = C._shown(dates["expires_on"])
    shown_from = C._shown(dates["valid_from"])
    checks.add(
        "expiry_before_issue",
        dates["expires_on"] < dates["valid_from"],
        "expires_on",
        shown_exp,
        lambda rows: (
            "Ngày hết hạn "
            + shown_exp(rows)
            + " trước ngày hiệu lực "
            + shown_from(rows)
            + ". Hãy kiểm tra lại hai ngày này rồi chạy lại."
        ),
    )


def _check_duplicate_serial(checks, serial: pd.Series) -> None:
    """A serial listed twice: the first row not refused so far is kept."""
    ok_serial = serial.where(checks.reason.isna())
    dup = ok_serial.notna() & ok_serial.duplicated(keep="first")
    checks.add(
        "duplicate_certificate",
        dup,
        "serial",
        serial.fillna(""),
        "Chứng thư serial '"
        + serial.fillna("")
        + "' đã có ở một dòng trước: dòng này bị bỏ qua (mỗi chứng thư đếm một lần).",
    )


def _providers(
    raw_provider: pd.Series, tables: list, df: pd.DataFrame, stats: dict[str, int]
) -> tuple[pd.Series, pd.Series]:
    """(provider per row, free text): the column, else the title rows, else the file name,
    else ``parse.OTHER``; ``stats["provider_from_title_or_file"]`` counted."""
    provider, other_provider = parse.parse_provider(raw_provider)
    provider = parse.or_other(provider, other_provider)
    per_table = pd.array([_table_provider(t) for t in tables] + [None], dtype="str")
    from_table = pd.Series(per_table[df["_tid"].to_numpy()], index=df.index, dtype="str")
    stats["provider_from_title_or_file"] = int((provider.isna() & from_table.notna()).sum())
    return provider.fillna(from_table).fillna(parse.OTHER).astype("str"), other_provider


def _active_on(
    raw_status: pd.Series, dates: dict[str, pd.Series], period: str
) -> tuple[pd.Series, pd.Series]:
    """(active on the period, status is free text): an active or blank status and valid from
    <= period <= expiry."""
    status_active, status_blank, status_other = parse_cert_status(raw_status)
    p = pd.Timestamp(period)
    in_dates = (dates["valid_from"].isna() | (dates["valid_from"] <= p)) & (
        dates["expires_on"] >= p
    ).fillna(False)
    active = ((status_active | status_blank) & in_dates.astype(bool)).astype(bool)
    return active, status_other


def _stacked_ids(tables: list, df: pd.DataFrame) -> pd.Series:
    """The tables' ``id_numbers`` aligned with ``clean._stack(tables)`` (NA where a table has
    none)."""
    parts = []
    for t in tables:
        if t.id_numbers is not None:
            parts.append(t.id_numbers.reindex(t.data.index).astype(object).to_numpy())
        else:
            parts.append(np.full(len(t.data), None, dtype=object))
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    blank = pd.isna(values)
    values[blank] = None
    blank |= values == ""
    values[blank] = None
    return pd.Series(values, index=df.index, dtype=object)


# --------------------------------------------------------------------------------------------
# The join
# --------------------------------------------------------------------------------------------


def staff_join_columns(
    tables: list, df: pd.DataFrame, key: bytes, join: bool = True
) -> pd.DataFrame:
    """Per stacked staff row: ``_key`` (uint64, 0: none; all 0 unless ``join``: no lists,
    nothing to join), ``_bad_cccd``, ``_padded``, ``_hand`` (the row's sheet has a signature
    column)."""
    if join:
        ids, bad, padded = normalise_cccd(_stacked_ids(tables, df))
    else:  # no lists: nothing to join, the CCCD column is not even looked at
        ids = pd.Series(pd.NA, index=df.index, dtype="str")
        bad = padded = pd.Series(False, index=df.index)
    hand = np.array(["signature_status" in t.data.columns for t in tables] + [False])
    out = pd.DataFrame(
        {
            "_key": cccd_keys(ids, key) if join else np.zeros(len(ids), dtype=np.uint64),
            "_bad_cccd": bad.to_numpy(dtype=bool),
            "_padded": padded.to_numpy(dtype=bool),
            "_hand": hand[df["_tid"].to_numpy()] if len(df) else np.zeros(0, dtype=bool),
        },
        index=df.index,
    )
    return out


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a diff: faster than ``np.unique``'s hash)."""
    v = np.sort(values)
    return v[np.r_[True, v[1:] != v[:-1]]] if len(v) else v


def join_staff(rows: pd.DataFrame, certs: pd.DataFrame | None) -> pd.DataFrame:
    """Staff rows (with the ``staff_join_columns``) -> signature from the lists where a row
    has a key and the period has lists; ``signature_source``, ``cert_type`` set for every row
    and ``_hand_signed`` (the hand-filled status, for the overruled counts) kept.

    Vectorised: the active certificates sorted by (key, valid-from, expiry); each key's last
    one gives provider, type and valid-from, and the greatest expiry of its run the expiry;
    staff keys are looked up in a hash index of those keys."""
    idx = rows.index
    keys = rows["_key"].to_numpy()
    hand = rows["_hand"].to_numpy(dtype=bool)
    out = {"_hand_signed": pd.Series(rows["signed"].to_numpy(dtype=bool), index=idx)}
    source = np.where(hand, "list", "none").astype(object)
    n = len(rows)
    cert_type = pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype="str"), index=idx)
    if certs is not None:
        on = keys != 0
        source[on] = "ca"
        cert_type = _from_lists(rows, _latest_active(certs), on, out)
    out["signature_source"] = pd.Series(pd.array(source, dtype="str"), index=idx)
    out["cert_type"] = cert_type
    new = pd.DataFrame(out)
    return pd.concat(
        [rows.drop(columns=[c for c in new.columns if c in rows.columns]), new], axis=1
    )


@dataclass
class _Latest:
    """The active certificates by key: ``act`` (the active rows), ``take`` (per key, the row
    of ``act`` of its latest certificate), ``keys`` (sorted), ``valid_from`` of that one and
    the greatest ``expires_on`` of the key's."""

    act: pd.DataFrame
    take: np.ndarray
    keys: np.ndarray
    valid_from: np.ndarray
    expires_on: np.ndarray


def _latest_active(certs: pd.DataFrame) -> _Latest:
    """The active certificates sorted by (key, valid-from, expiry), one run per key."""
    act = certs[certs["active"].to_numpy(dtype=bool)]
    ak = act["_key"].to_numpy()
    vf = act["valid_from"].to_numpy(dtype="datetime64[s]")
    ex = act["expires_on"].to_numpy(dtype="datetime64[s]")
    vf_rank = np.where(np.isnat(vf), np.datetime64(-(2**62), "s"), vf)
    order = np.lexsort((ex, vf_rank, ak))
    ak, vf, ex = ak[order], vf[order], ex[order]
    last = np.flatnonzero(np.r_[ak[1:] != ak[:-1], True]) if len(ak) else np.zeros(0, int)
    first = np.r_[0, last[:-1] + 1] if len(last) else np.zeros(0, int)
    if len(first):
        max_ex = np.maximum.reduceat(ex.astype("int64"), first).astype("datetime64[s]")
    else:
        max_ex = np.zeros(0, dtype="datetime64[s]")
    return _Latest(act, order[last], ak[last], vf[last], max_ex)


def _from_lists(rows: pd.DataFrame, latest: _Latest, on: np.ndarray, out: dict) -> pd.Series:
    """The columns the lists give the rows with a key (``on``), added to ``out`` (signed,
    pending, provider, issued_on, expires_on); returns ``cert_type``."""
    idx = rows.index
    n = len(rows)
    lk = latest.keys
    pos = pd.Index(lk).get_indexer(rows["_key"].to_numpy()) if len(lk) else np.full(n, -1)
    hit = on & (pos >= 0)
    pos_c = np.maximum(pos, 0)
    take = latest.take[pos_c] if len(lk) else np.zeros(n, dtype=np.int64)
    signed = np.where(on, hit, rows["signed"].to_numpy(dtype=bool))
    out["signed"] = pd.Series(signed, index=idx)
    out["pending"] = pd.Series(rows["pending"].to_numpy(dtype=bool) & ~signed, index=idx)
    prov = _picked(latest.act["provider"], take, hit)
    prov.index = idx
    out["provider"] = rows["provider"].astype("str").where(~on, prov)
    nat = np.datetime64("NaT", "s")
    iss = np.where(hit, latest.valid_from[pos_c] if len(lk) else nat, nat)
    exp = np.where(hit, latest.expires_on[pos_c] if len(lk) else nat, nat)
    for col, new in (("issued_on", iss), ("expires_on", exp)):
        old = rows[col].to_numpy(dtype="datetime64[s]")
        out[col] = pd.Series(np.where(on, new, old), index=idx)
    cert_type = _picked(latest.act["cert_type"], take, hit)
    cert_type.index = idx
    return cert_type


def _picked(values: pd.Series, take: np.ndarray, hit: np.ndarray) -> pd.Series:
    """``values`` (of the active certificates) at ``take`` where ``hit`` (NA elsewhere) as a
    ``str`` Series, built from the few distinct values (providers, types) without a Python
    object per row."""
    codes, uniques = pd.factorize(values)
    per = np.where(hit, codes[take] if len(codes) else -1, -1)
    cat = pd.Categorical.from_codes(
        per, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    )
    return pd.Series(cat).astype("str")


def empty_join_rows() -> pd.DataFrame:
    """No staff rows, with the columns :func:`join_quality` reads."""
    return pd.DataFrame(
        {
            "school_code": pd.Series([], dtype="str"),
            "signed": pd.Series([], dtype=bool),
            "active": pd.Series([], dtype=bool),
            "expires_on": pd.Series([], dtype="datetime64[s]"),
            "signature_source": pd.Series([], dtype="str"),
            "_key": pd.Series([], dtype=np.uint64),
            "_bad_cccd": pd.Series([], dtype=bool),
            "_padded": pd.Series([], dtype=bool),
            "_hand": pd.Series([], dtype=bool),
            "_hand_signed": pd.Series([], dtype=bool),
        }
    )


def _in_sorted(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_unique)`` for an array of distinct values (a hash index)."""
    if not len(sorted_unique):
        return np.zeros(len(values), dtype=bool)
    return pd.Index(sorted_unique).get_indexer(values) >= 0


def join_quality(
    staff: pd.DataFrame,
    all_keys: np.ndarray,
    cert_rows: CertRows | None,
    period: str,
    window_end: pd.Timestamp | None = None,
    schools: pd.DataFrame | None = None,
    aliases: pd.DataFrame | None = None,
) -> dict:
    """``quality.json["certificates"]``: the join's counts (no personal data: school codes,
    providers and numbers only). ``staff``: the deduplicated rows with the join columns;
    ``all_keys``: the keys of every kept staff row before dedup (a certificate matching any
    of them is matched)."""
    window_end = signing_window_end(period) if window_end is None else window_end
    q: dict = {"window_end": window_end.strftime("%Y-%m-%d")}
    codes = staff["school_code"].astype("str")
    none = (staff["signature_source"].astype("str") == "none").to_numpy(dtype=bool)
    q["signature_source_missing"] = {"total": int(none.sum()), "by_school": _by_school(codes, none)}
    if cert_rows is None:
        q["lists"] = False
        return q
    q["staff_bad_cccd"] = int(staff["_bad_cccd"].sum())
    q["staff_cccd_padded"] = int(staff["_padded"].sum())
    certs = cert_rows.certs
    q["lists"] = True
    n_read = int(len(cert_rows.out.stacked))
    q["certificates_read"] = n_read
    q["certificates_kept"] = int(len(certs))
    q["certificates_refused"] = n_read - int(len(certs))
    q["active_on_period"] = int(certs["active"].sum())
    q["by_provider"] = _counts(certs["provider"])
    ck = certs["_key"].to_numpy()
    matched = _in_sorted(ck, _unique_sorted(all_keys[all_keys != 0]))
    q["matched"] = int(matched.sum())
    q["unmatched_certificate"] = _unmatched_certificates(certs[~matched], schools, aliases)
    q.update(_staff_join_counts(staff, ck, codes, window_end))
    return q


def _counts(values: pd.Series) -> dict[str, int]:
    """Value -> count, sorted by value."""
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def _by_school(codes: pd.Series, mask: np.ndarray) -> dict[str, int]:
    """School code -> how many rows of ``mask``."""
    return _counts(codes[mask])


def _unmatched_certificates(
    un: pd.DataFrame, schools: pd.DataFrame | None, aliases: pd.DataFrame | None
) -> dict:
    """The certificates matching no staff row: per provider, per school (when their ``Đơn
    vị`` matches one) and per provider x school (``""``: no school)."""
    un_school = pd.Series([], dtype="str")
    if (
        len(un)
        and schools is not None
        and (un["_school_name"].notna().any() or un["_school_code"].notna().any())
    ):
        m = match.match_schools(
            un["_school_name"].reset_index(drop=True),
            un["_school_code"].reset_index(drop=True),
            schools,
            aliases,
        )
        un_school = m.school_code.dropna()
    pairs = pd.DataFrame(
        {
            "provider": un["provider"].astype("str").to_numpy(),
            "school": un_school.reindex(range(len(un))).fillna("").astype("str").to_numpy(),
        }
    )
    return {
        "total": int(len(un)),
        "by_provider": _counts(un["provider"]),
        "by_school": _counts(un_school),
        "by_provider_school": {
            str(prov): _counts(grp) for prov, grp in pairs.groupby("provider", sort=True)["school"]
        },
    }


def _staff_join_counts(
    staff: pd.DataFrame, ck: np.ndarray, codes: pd.Series, window_end: pd.Timestamp
) -> dict:
    """The staff side of the join: joined, without CCCD, without certificate, overruled
    hand-filled statuses and signatures expiring before the end of the signing window."""
    ca = (staff["signature_source"].astype("str") == "ca").to_numpy(dtype=bool)
    active = staff["active"].to_numpy(dtype=bool)
    with_key = staff["_key"].to_numpy() != 0
    has_any = _in_sorted(staff["_key"].to_numpy(), _unique_sorted(ck)) & with_key
    bad = staff["_bad_cccd"].to_numpy(dtype=bool)
    signed = staff["signed"].to_numpy(dtype=bool)
    hand = staff["_hand"].to_numpy(dtype=bool)
    hand_signed = staff["_hand_signed"].to_numpy(dtype=bool)
    over = ca & hand & (hand_signed != signed)
    exp = pd.to_datetime(staff["expires_on"]).to_numpy()
    expiring = ca & signed & active & (exp < np.datetime64(window_end))
    return {
        "staff_joined": int(ca.sum()),
        "staff_without_cccd": int((~with_key & ~bad & active).sum()),
        "staff_without_certificate": int((with_key & ~has_any & active).sum()),
        "overruled": {
            "total": int(over.sum()),
            "signed_by_hand_not_in_lists": int((over & hand_signed).sum()),
            "unsigned_by_hand_signed_in_lists": int((over & ~hand_signed).sum()),
            "by_school": _by_school(codes, over),
        },
        "expiring_before_window": {
            "total": int(expiring.sum()),
            "by_school": _by_school(codes, expiring),
        },
    }


# --------------------------------------------------------------------------------------------
# The school's own certificate
# --------------------------------------------------------------------------------------------


def clean_institution(
    tables: list, schools: pd.DataFrame, aliases: pd.DataFrame, period: str
) -> object:
    """``chu_ky_so_to_chuc`` -> ``institution_certificates`` (one row per school)."""
    df = C._stack(tables)
    checks = C._Checks(df, "chu_ky_so_to_chuc", tables)
    stats: dict[str, int] = {}
    m = C._match(df, schools, aliases)
    checks.add_match(m)
    dates = _cert_dates(df, checks)
    checks.add(
        "expiry_before_issue",
        dates["expires_on"] < dates["valid_from"],
        "expires_on",
        C._shown(dates["expires_on"]),
        "Ngày hết hạn trước ngày hiệu lực. Hãy kiểm tra lại hai ngày này rồi chạy lại.",
    )
    raw_status = C._col(df, "cert_status")
    active, status_other = _active_on(raw_status, dates, period)
    kept = ~checks.refused
    warnings = C._other_warnings(
        "chu_ky_so_to_chuc", df, raw_status, status_other & kept, "Trạng thái", parse.OTHER,
        stats, "cert_status_other",
    )  # fmt: skip
    rows = pd.DataFrame(
        {
            "school_code": m.school_code,
            "active": active,
            "expires_on": dates["expires_on"],
            **C._source(df),
        }
    )[kept.to_numpy()]
    table = institution_table(rows, schools)
    out = C._KindOut(table, checks.quarantine(), kept, df, stats, warnings)
    out.unmatched = C._unmatched_table("chu_ky_so_to_chuc", m)
    return out


def institution_table(rows: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """One row per school: ready, the latest expiry (of the active ones, else of all), the
    number of certificates, the source of the row that gives the expiry."""
    if rows.empty:
        return schemas.empty("institution_certificates")
    r = rows.assign(_a=rows["active"].astype(int)).sort_values(
        ["school_code", "_a", "expires_on", "source_file", "source_sheet", "source_row"],
        ascending=[True, True, True, False, False, False],
        kind="stable",
    )
    best = r.drop_duplicates("school_code", keep="last")
    n = r.groupby("school_code").size()
    out = pd.DataFrame(
        {
            "school_code": best["school_code"].to_numpy(),
            "level": C._level_of(best["school_code"], schools).to_numpy(),
            "ready": best["active"].to_numpy(dtype=bool),
            "expires_on": best["expires_on"].to_numpy(),
            "n_certificates": n.reindex(best["school_code"]).to_numpy(dtype="int64"),
            "source_file": best["source_file"].to_numpy(),
            "source_sheet": best["source_sheet"].to_numpy(),
            "source_row": best["source_row"].to_numpy(),
        }
    )
    return schemas.conform("institution_certificates", out.sort_values("school_code"))


__all__ = [
    "CCCD_PERSON",
    "cccd_keys",
    "clean_certificates",
    "clean_institution",
    "join_quality",
    "join_staff",
    "normalise_cccd",
    "parse_cert_status",
    "parse_cert_type",
    "provider_in_text",
    "signing_window_end",
    "staff_join_columns",
]
