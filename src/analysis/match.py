"""Tying rows to the schools of the school list (data contract, section 4).

``match_schools`` works per UNIQUE (code, name) pair, never per row. Steps, first hit wins:

1. ``code``: the code (``parse.parse_code``, zero-padded to the school list's code width by
   ``parse.pad_code``) is a code of the list;
2. ``name``: ``text.school_key`` of the name is the key of exactly one school, or of several
   schools of different levels (``Ngọc Lâm`` exists as TH and THCS) and the name's own prefix
   names the level (``THCS Ngọc Lâm``);
3. ``alias``: ``school_key`` of the name is the key of an alias of ``school_aliases.csv``;
4. ``name`` again, for a key shared across levels with no prefix: the level of the other rows of
   the same file (``groups``) when they all sit at one level; otherwise the rows are refused
   (``ambiguous_school``);
5. ``ascii``: ``text.school_key_ascii`` (no diacritics) is the key of exactly one school, that
   school's ASCII key is shared with no other school, and it is not a near-twin reached by a
   name without the twin's letter;
6. fuzzy *suggestions* (rapidfuzz ``process.extract`` over the school keys, top 3 with
   scores): never applied. The rows are refused with reason ``fuzzy_school`` and a message
   naming the candidates, for a person to confirm in the alias table; no candidate at all ->
   ``unmatched_school``.

Near-twins (names that differ only by a trailing letter or number: ``Thạch Bàn A`` /
``Thạch Bàn B``, ``Ái Mộ A`` / ``Ái Mộ B``) are distinct schools. Every step keeps the trailing
letter in its keys, so no step maps one twin onto the other, and a bare ``Thạch Bàn`` matches
neither (it only gets both as suggestions).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from analysis import parse, text

METHODS: tuple[str, ...] = ("code", "name", "alias", "ascii")
REASONS: tuple[str, ...] = (
    "unmatched_school",
    "fuzzy_school",
    "ambiguous_school",
    "missing_school",
)
ALIASES_FILE = "school_aliases.csv"
ALIAS_COLUMNS = ("alias", "school_code", "note")
#: Fuzzy suggestions: how many, and the lowest score (0-100) worth showing.
FUZZY_LIMIT = 3
FUZZY_CUTOFF = 70.0

_TWIN_RE = re.compile(r"^(.*\S)\s+([0-9]+|[^\W\d_])$")


@dataclass
class MatchResult:
    """What ``match_schools`` found, aligned with the input rows.

    Attributes:
        school_code: the matched code per row, NA when not matched (``str``).
        method: ``code``/``name``/``alias``/``ascii`` per row, NA when not matched.
        reason: NA when matched, else ``unmatched_school``, ``fuzzy_school``,
            ``ambiguous_school`` or ``missing_school`` (no code and no name).
        message: Vietnamese message for unmatched rows (what was seen, suggestions, what to do).
        column: the column to blame (``school_name`` or ``school_code``) for unmatched rows.
        value: the offending text (the name, else the code) for unmatched rows.
        unmatched: one row per unmatched unique (code, name): ``school_code_raw``,
            ``school_name_raw``, ``reason``, ``n_rows``, ``candidates`` (text), ``candidate_codes``
            (``;``-separated), sorted by ``n_rows`` desc then name.
    """

    school_code: pd.Series
    method: pd.Series
    reason: pd.Series
    message: pd.Series
    column: pd.Series
    value: pd.Series
    unmatched: pd.DataFrame

    @property
    def matched(self) -> pd.Series:
        return self.school_code.notna()

    def method_counts(self) -> dict[str, int]:
        counts = self.method.value_counts()
        return {m: int(counts.get(m, 0)) for m in METHODS}


def twin_base(key: str | None) -> str | None:
    """``"thạch bàn a"`` -> ``"thạch bàn"``; a key without a trailing letter/number -> None."""
    if not key:
        return None
    m = _TWIN_RE.match(key)
    return m.group(1) if m else None


def read_aliases(path: Path | str) -> pd.DataFrame:
    """Read ``school_aliases.csv`` (``alias,school_code,note``; UTF-8 with or without BOM).

    A missing file gives an empty table. Codes are read as text (leading zeros kept).
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in ALIAS_COLUMNS})
    df = pd.read_csv(path, dtype="str", encoding="utf-8-sig", keep_default_na=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("alias", "school_code") if c not in df.columns]
    if missing:
        raise ValueError(
            f"Tệp bí danh trường {path} thiếu cột {', '.join(missing)}: cần các cột "
            "alias,school_code,note."
        )
    if "note" not in df.columns:
        df["note"] = ""
    out = df[list(ALIAS_COLUMNS)].copy()
    for col in ALIAS_COLUMNS:
        out[col] = text.clean_text_series(out[col])
    return out.dropna(subset=["alias", "school_code"]).reset_index(drop=True)


def _code_width(codes: pd.Series) -> int:
    lengths = codes.dropna().astype("str").str.len()
    return int(lengths.max()) if len(lengths) else 0


def normalise_codes(codes: pd.Series, width: int) -> pd.Series:
    """Raw codes -> the school list's form (text, zero-padded to ``width``); bad -> NA."""
    values, bad = parse.parse_code(codes)
    values = values.where(~bad)
    if width:
        padded = parse.pad_code(values, width)
        values = padded[0] if isinstance(padded, tuple) else padded
    return values.astype("str")


class _Reference:
    """Lookup structures of the school list and the alias table."""

    def __init__(self, schools: pd.DataFrame, aliases: pd.DataFrame | None):
        sch = schools[["school_code", "school_name", "level"]].copy()
        sch["school_code"] = sch["school_code"].astype("str")
        self.width = _code_width(sch["school_code"])
        self.codes = set(_values(sch["school_code"].dropna()))
        code_l = _values(sch["school_code"])
        self.name_of = dict(zip(code_l, _values(sch["school_name"]), strict=True))
        self.level_of = dict(zip(code_l, _values(sch["level"]), strict=True))
        name_keys = text.school_keys_frame(sch["school_name"])
        sch["key"], sch["ascii"] = name_keys["key"], name_keys["ascii"]
        sch = sch.sort_values("school_code", kind="stable")
        # Plain lists for the loops (iterating over pyarrow-backed columns is slow).
        code_l, key_l, ascii_l = (_values(sch[c]) for c in ("school_code", "key", "ascii"))
        self.by_key: dict[str, list[str]] = {}
        self.by_ascii: dict[str, list[str]] = {}
        for code, key, akey in zip(code_l, key_l, ascii_l, strict=True):
            if isinstance(key, str):
                self.by_key.setdefault(key, []).append(code)
            if isinstance(akey, str):
                self.by_ascii.setdefault(akey, []).append(code)
        self.key_of = dict(zip(code_l, key_l, strict=True))
        # Twin groups: base key -> keys of the schools that share it with a trailing letter.
        self.twins: dict[str, set[str]] = {}
        for key in self.by_key:
            base = twin_base(key)
            if base:
                self.twins.setdefault(base, set()).add(key)
        self.choices = sorted(self.by_key)
        self.alias_of: dict[str, str] = {}
        if aliases is not None and len(aliases):
            al = aliases.dropna(subset=["alias", "school_code"])
            codes = normalise_codes(al["school_code"], self.width)
            keys = text.school_key_series(al["alias"])
            for key, code in zip(keys, codes, strict=True):
                if isinstance(key, str) and isinstance(code, str) and code in self.codes:
                    self.alias_of.setdefault(key, code)

    def is_near_twin(self, code: str) -> bool:
        """True when the school has a twin (same base key, another trailing letter)."""
        key = self.key_of.get(code)
        base = twin_base(key)
        return bool(base) and len(self.twins.get(base, ())) > 1

    def label(self, code: str) -> str:
        return f"{self.name_of.get(code, code)} ({code})"


_REFERENCE_CACHE: OrderedDict[tuple[bytes, bytes | None], _Reference] = OrderedDict()
_REFERENCE_CACHE_SIZE = 4


def _fingerprint(df: pd.DataFrame, columns: list[str]) -> bytes:
    """A digest of the values of ``columns`` (with their names and dtypes)."""
    h = hashlib.blake2b(digest_size=20)
    part = df[columns]
    h.update(repr((list(part.columns), [str(t) for t in part.dtypes], len(part))).encode())
    h.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return h.digest()


def _reference(schools: pd.DataFrame, aliases: pd.DataFrame | None) -> _Reference:
    """``_Reference(schools, aliases)``, kept for the few last school lists (one cleaning run
    matches every table of every folder against the same list), keyed by content."""
    key = (
        _fingerprint(schools, ["school_code", "school_name", "level"]),
        None
        if aliases is None or not len(aliases)
        else _fingerprint(aliases, ["alias", "school_code"]),
    )
    ref = _REFERENCE_CACHE.get(key)
    if ref is None:
        ref = _Reference(schools, aliases)
        _REFERENCE_CACHE[key] = ref
        while len(_REFERENCE_CACHE) > _REFERENCE_CACHE_SIZE:
            _REFERENCE_CACHE.popitem(last=False)
    else:
        _REFERENCE_CACHE.move_to_end(key)
    return ref


def _values(s: pd.Series) -> list:
    """The values of a column as a list of Python objects (missing: the column's NA value),
    as iterating over the column gives them, without a pyarrow scalar per element."""
    return s.to_numpy(dtype=object).tolist()


def _cleaned_codes(values: pd.Series | None, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, ``text.clean_text`` of each distinct value + ``None`` last): code -1
    (a missing cell, or no column at all) indexes that last slot. ``clean_text_series`` of the
    column is ``cleaned[codes]``, the same factorisation and the same call per value."""
    if values is None:
        return np.full(len(index), -1, dtype=np.intp), np.array([None], dtype=object)
    codes, uniques = pd.factorize(values.reindex(index), use_na_sentinel=True)
    cleaned = [text.clean_text(v) for v in text.unique_values(uniques)]
    return np.asarray(codes, dtype=np.intp), np.array([*cleaned, None], dtype=object)


def match_schools(
    names: pd.Series | None,
    codes: pd.Series | None,
    schools: pd.DataFrame,
    aliases: pd.DataFrame | None = None,
    *,
    groups: pd.Series | Callable[[], pd.Series] | None = None,
) -> MatchResult:
    """Match rows to schools by code, normalised name, alias, ASCII key; suggest fuzzy matches.

    ``names``/``codes`` are the raw columns (either may be None); ``schools`` needs
    ``school_code``, ``school_name``, ``level``; ``aliases`` is the alias table
    (``alias``, ``school_code``); ``groups`` (optional, e.g. the source file) lets an ambiguous
    name take the level of the other rows of its group; it may be given as a function that
    returns it, called only when some name is ambiguous. See the module docstring.
    """
    if names is None and codes is None:
        raise ValueError("match_schools needs names or codes")
    index = (names if names is not None else codes).index
    ref = _reference(schools, aliases)
    # Rows -> distinct raw (code, name) pairs, numbered from the two columns' factorisations
    # (no cleaning or hashing of text per row); everything below works on the pairs.
    name_codes, name_clean = _cleaned_codes(names, index)
    code_codes, code_clean = _cleaned_codes(codes, index)
    width = len(code_clean)  # distinct codes + 1: room for code -1
    pair_codes, pair_ids = pd.factorize((name_codes + 1) * width + (code_codes + 1))
    pair_name = name_clean[pair_ids // width - 1]
    pair_code_raw = pd.Series(code_clean[pair_ids % width - 1], dtype="str")
    pairs = pd.DataFrame(
        {
            "code_raw": pair_code_raw,
            "code": (
                normalise_codes(pair_code_raw, ref.width)
                if codes is not None
                else pd.Series(None, index=pair_code_raw.index, dtype="str")
            ),
            "name": pd.Series(pair_name, dtype="str"),
        }
    )
    keys = ["code_raw", "code", "name"]
    # One id per unique (raw code, code, name) (raw pairs may clean to the same values); NA
    # compares equal to NA through the fill. Pairs come in order of first appearance, so the
    # ids are numbered in order of first appearance in the rows.
    filled = pairs.fillna("\0")
    pair_uid = filled.groupby(keys, sort=False).ngroup()
    uniq = pairs[(~pair_uid.duplicated()).to_numpy()].reset_index(drop=True)  # row i = uid i
    uid = pd.Series(pair_uid.to_numpy()[pair_codes], index=index)
    name_keys = text.school_keys_frame(uniq["name"])
    for col in ("key", "ascii", "hint"):
        uniq[col] = name_keys[col]

    n = len(uniq)
    matched: list[str | None] = [None] * n
    method: list[str | None] = [None] * n
    ambiguous: dict[int, list[str]] = {}
    for i, (code, key, akey, hint) in enumerate(
        zip(*(_values(uniq[c]) for c in ("code", "key", "ascii", "hint")), strict=True)
    ):
        if isinstance(code, str) and code in ref.codes:
            matched[i], method[i] = code, "code"
            continue
        if not isinstance(key, str):
            continue
        cands = ref.by_key.get(key, [])
        if len(cands) == 1:
            matched[i], method[i] = cands[0], "name"
            continue
        if len(cands) > 1 and isinstance(hint, str):
            at_level = [c for c in cands if ref.level_of[c] == hint]
            if len(at_level) == 1:
                matched[i], method[i] = at_level[0], "name"
                continue
        if key in ref.alias_of:
            matched[i], method[i] = ref.alias_of[key], "alias"
            continue
        if len(cands) > 1:
            ambiguous[i] = cands
            continue
        acands = ref.by_ascii.get(akey, []) if isinstance(akey, str) else []
        if len(acands) == 1 and not ref.is_near_twin(acands[0]):
            matched[i], method[i] = acands[0], "ascii"

    uid_arr = uid.to_numpy()
    school_code = pd.Series(pd.array(matched, dtype="str")[uid_arr], index=index, dtype="str")
    method_s = pd.Series(pd.array(method, dtype="str")[uid_arr], index=index, dtype="str")

    # Step 4: an ambiguous name takes the level of the other matched rows of its group.
    if ambiguous and groups is not None:
        grp = (groups() if callable(groups) else groups).reindex(index).astype("str").fillna("")
        levels = school_code.map(ref.level_of)
        level_sets = pd.DataFrame({"g": grp, "lv": levels}).dropna().groupby("g")["lv"].unique()
        group_level = {g: lv[0] for g, lv in level_sets.items() if len(lv) == 1}
        amb_rows = uid.isin(list(ambiguous))
        combos = pd.DataFrame({"uid": uid[amb_rows], "g": grp[amb_rows]}).drop_duplicates()
        resolved = {}
        for u, g in sorted(combos.itertuples(index=False, name=None)):
            lv = group_level.get(g)
            at_level = [c for c in ambiguous[u] if ref.level_of[c] == lv]
            if len(at_level) == 1:
                resolved[(u, g)] = at_level[0]
        if resolved:
            res = pd.Series(resolved, dtype="str")
            res.index = res.index.set_names(["uid", "g"])
            looked = pd.MultiIndex.from_arrays([uid, grp], names=["uid", "g"])
            hit = pd.Series(res.reindex(looked).to_numpy(), index=index, dtype="str")
            school_code = school_code.fillna(hit)
            method_s = method_s.mask(hit.notna(), "name")

    # Reasons and messages per unmatched unique pair.
    reason_u: list[str | None] = [None] * n
    message_u: list[str | None] = [None] * n
    column_u: list[str | None] = [None] * n
    value_u: list[str | None] = [None] * n
    unmatched_mask = school_code.isna()
    counts = uid[unmatched_mask].value_counts()
    table_rows = []
    fuzzy_cache: dict[tuple, list[tuple[str, float, str]]] = {}
    for u in sorted(counts.index):
        code_raw, name, key = uniq.at[u, "code_raw"], uniq.at[u, "name"], uniq.at[u, "key"]
        code_raw = code_raw if isinstance(code_raw, str) else None
        name = name if isinstance(name, str) else None
        amb = ambiguous.get(u, [])
        shown = name if name is not None else code_raw
        cands: list[tuple[str, float, str]] = []
        if name is None and code_raw is None:
            rsn = "missing_school"
            msg = (
                "Dòng không có mã trường và tên trường. Hãy điền mã trường (theo danh sách "
                "trường) rồi chạy lại."
            )
        elif amb:
            rsn = "ambiguous_school"
            options = "; ".join(ref.label(c) for c in amb)
            msg = (
                f"Tên trường '{shown}' có ở nhiều cấp học: {options}. Hãy ghi rõ cấp (ví dụ "
                "'TH ...' hoặc 'THCS ...') hoặc điền mã trường, hoặc thêm dòng vào "
                "data/raw/school_aliases.csv."
            )
        else:
            if isinstance(key, str):
                hint = uniq.at[u, "hint"]
                hint = hint if isinstance(hint, str) else None
                if (key, hint) not in fuzzy_cache:
                    fuzzy_cache[(key, hint)] = _suggest(key, ref, hint)
                cands = fuzzy_cache[(key, hint)]
            if name is None:
                rsn = "unmatched_school"
                msg = (
                    f"Mã trường '{code_raw}' không có trong danh sách trường. Hãy sửa mã "
                    "trường (hoặc điền tên trường) rồi chạy lại."
                )
            elif cands:
                rsn = "fuzzy_school"
                sugg = "; ".join(f"{label} [{score:.0f}]" for label, score, _ in cands)
                msg = (
                    f"Không khớp tên trường '{name}'. Gợi ý: {sugg}. Nếu đúng, thêm dòng vào "
                    f"data/raw/school_aliases.csv (alias,school_code,note), ví dụ: "
                    f'"{name}",{cands[0][2]},'
                )
            else:
                rsn = "unmatched_school"
                msg = (
                    f"Không khớp tên trường '{name}' với trường nào trong danh sách trường và "
                    "không có gợi ý gần đúng. Hãy sửa tên hoặc điền mã trường, hoặc thêm dòng "
                    "vào data/raw/school_aliases.csv."
                )
                if code_raw is not None:
                    msg = f"Mã trường '{code_raw}' không có trong danh sách trường. " + msg
        if rsn == "ambiguous_school":
            cand_text = "; ".join(ref.label(c) for c in amb)
            cand_codes = ";".join(amb)
        else:
            cand_text = "; ".join(f"{label} [{score:.0f}]" for label, score, _ in cands)
            cand_codes = ";".join(c for _, _, c in cands)
        reason_u[u], message_u[u] = rsn, msg
        column_u[u] = "school_name" if name is not None else "school_code"
        value_u[u] = shown or ""
        table_rows.append(
            {
                "school_code_raw": code_raw,
                "school_name_raw": name,
                "reason": rsn,
                "n_rows": int(counts[u]),
                "candidates": cand_text,
                "candidate_codes": cand_codes,
            }
        )

    any_unmatched = bool(unmatched_mask.any())

    def per_row(values: list[str | None]) -> pd.Series:
        if not any_unmatched:  # every row matched: nothing to spread
            return pd.Series(None, index=index, dtype="str")
        out = pd.Series(pd.array(values, dtype="str")[uid_arr], index=index, dtype="str")
        return out.where(unmatched_mask)

    cols = ["school_code_raw", "school_name_raw", "reason", "n_rows", "candidates"]
    cols.append("candidate_codes")
    unmatched = pd.DataFrame(table_rows, columns=cols)
    if len(unmatched):
        unmatched = unmatched.sort_values(
            ["n_rows", "school_name_raw", "school_code_raw"],
            ascending=[False, True, True],
            kind="stable",
            na_position="last",
        ).reset_index(drop=True)
    for col in cols:
        unmatched[col] = unmatched[col].astype("int64" if col == "n_rows" else "str")
    return MatchResult(
        school_code=school_code.astype("str"),
        method=method_s.astype("str"),
        reason=per_row(reason_u),
        message=per_row(message_u),
        column=per_row(column_u),
        value=per_row(value_u),
        unmatched=unmatched,
    )


def _nz(value) -> str:
    return value if isinstance(value, str) else "\0"


def _suggest(key: str, ref: _Reference, hint: str | None = None) -> list[tuple[str, float, str]]:
    """Top fuzzy candidates ``(label, score, code)`` for an unmatched key (never applied).

    Schools at the level the name's prefix hints come first, then by score."""
    hits = process.extract(
        key, ref.choices, scorer=fuzz.WRatio, limit=FUZZY_LIMIT * 3, score_cutoff=FUZZY_CUTOFF
    )
    out: list[tuple[bool, float, str, str]] = []
    for choice, score, _ in hits:
        for code in ref.by_key[choice]:
            out.append((ref.level_of.get(code) != hint, -float(score), ref.label(code), code))
    out.sort()
    return [(label, -neg, code) for _, neg, label, code in out[:FUZZY_LIMIT]]
