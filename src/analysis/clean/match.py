"""Tying rows to the schools of the school list (data contract, section 4).

``match_schools`` works per UNIQUE (code, name) pair, never per row. Steps, first hit wins:

1. ``code``: the code (``parse.parse_code``) is a code of the list, or an all-digit code that
   lost leading zeros (a number cell) equals exactly one list code once zero-padded;
2. ``name``: ``text.school_key`` of the name is the key of exactly one school, or of several
   schools of different levels and the name states the level (``THCS Ngọc Lâm``);
3. ``alias``: ``school_key`` of the name is the key of an alias of ``school_aliases.csv``;
4. ``name`` again, for a key shared across levels by a name with no level word: the level of
   the other rows of the same file (``groups``) when they all sit at one level; otherwise the
   rows are refused (``ambiguous_school``, listing exactly the schools of that key);
5. ``ascii``: ``text.school_key_ascii`` (no diacritics) is the key of exactly one school, that
   school's ASCII key is shared with no other school, and it is not a near-twin reached by a
   name without the twin's letter;
6. fuzzy *suggestions* (rapidfuzz ``process.extract`` over the school keys, top 3 with
   scores): never applied. The rows are refused with reason ``fuzzy_school`` and a message
   naming the candidates, for a person to confirm in the alias table; no candidate at all ->
   ``unmatched_school``.

A level word binds (``text.stated_levels``: ``Trường Tiểu học``, ``TH``, ``THCS``, ``MN``,
``Mẫu giáo``, ``Nhà trẻ``, ``THPT``, ``GDTX``, ``TH&THCS``...): such a name is matched only to a
school that teaches one of those levels (its ``level``, or a level its own name states), at
every step. ``TH Sao Mai`` never lands in ``Trường Mầm non Sao Mai``: with no school of the
level it is ``unmatched_school``, whose message names the stated level, the suggestions of that
level first, then the schools of that name at other levels. An alias applies to such a name
when the alias text states one of its levels or the alias's school teaches one. Two schools of
the stated level sharing the name -> ``ambiguous_school`` with those two. A name with no level
word is matched across levels as before. Candidates are shown as ``name (level, code)``.

Near-twins (names that differ only by a trailing letter or number: ``Thạch Bàn A`` /
``Thạch Bàn B``, ``Ái Mộ A`` / ``Ái Mộ B``) are distinct schools. Every step keeps the trailing
letter in its keys, so no step maps one twin onto the other, and a bare ``Thạch Bàn`` matches
neither (it only gets both as suggestions).

Code widths: ``code_width`` is the one rule of the cleaning stage (the codes stored as text
decide); matching itself needs no width (step 1).
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

from analysis.core import parse, text

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


def code_width(*sources: pd.Series | None) -> int:
    """The width of a list's codes, from the codes that kept their leading zeros.

    Excel drops leading zeros only from codes stored as numbers; a code stored as text (a text
    cell of a workbook, every field of a CSV file) keeps them. So the width is the most common
    length of the all-digit codes stored as text (ties: the longer), never of all the codes:
    when most codes of a list were numbers, their short length says nothing. ``sources`` are raw
    columns (values as read: ``str`` for text, numbers for numeric cells) in order of trust; the
    first one holding an all-digit text code decides. 0 when none does: numbers alone cannot
    tell how many zeros they lost, and the caller keeps them as read (and says so).

    The one rule for every code width of the cleaning stage (school codes, Mã định danh);
    ``parse.pad_code`` then pads the shorter all-digit codes.
    """
    for raw in sources:
        if raw is None or not len(raw):
            continue
        counts = _text_digit_lengths(raw)
        if counts:
            return max(counts, key=lambda n: (counts[n], n))
    return 0


def _text_digit_lengths(raw: pd.Series) -> dict[int, int]:
    """Length -> rows, over the all-digit codes of ``raw`` stored as text."""
    if isinstance(raw.dtype, pd.StringDtype):  # a CSV column: every value is text
        values = raw.dropna().to_numpy(dtype=object)
    else:
        values = raw.to_numpy(dtype=object)
    # One pass in C-level string methods per row (a million ids: no factorising of a column
    # that mixes numbers and text, which costs seconds).
    lengths = np.fromiter(
        (len(v) if type(v) is str and v.isdigit() and v.isascii() else -1 for v in values),
        dtype=np.int64,
        count=len(values),
    )
    counts = np.bincount(lengths[lengths >= 0]) if (lengths >= 0).any() else np.zeros(0, int)
    out = {n: int(c) for n, c in enumerate(counts) if c}
    # Text with spaces or Excel's leading ' (rare): read as parse.parse_code and
    # privacy.normalise_staff_id read it.
    other = [v for v in values[lengths < 0] if isinstance(v, str)]
    if other:
        cleaned = pd.Series(other, dtype="str").str.replace(_CODE_SPACES_RE, "", regex=True)
        cleaned = cleaned.str.lstrip("'")
        for n in cleaned[cleaned.str.fullmatch(r"[0-9]+").fillna(False)].str.len():
            out[int(n)] = out.get(int(n), 0) + 1
    return out


_CODE_SPACES_RE = r"[\s\u200b\u200c\u200d\u2060\ufeff]+"


def _parsed_codes(codes: pd.Series) -> pd.Series:
    """Raw codes -> text (``parse.parse_code``: ``1020301.0`` -> ``"1020301"``); bad -> NA.
    Not padded: ``_Reference.resolve_code`` finds the list code a code that lost its leading
    zeros stands for."""
    values, bad = parse.parse_code(codes)
    return values.where(~bad).astype("str")


def _digit_key(code: str) -> str | None:
    """An all-digit code without its leading zeros (``"01020301"`` -> ``"1020301"``)."""
    return (code.lstrip("0") or "0") if code.isascii() and code.isdigit() else None


class _Reference:
    """Lookup structures of the school list and the alias table."""

    def __init__(self, schools: pd.DataFrame, aliases: pd.DataFrame | None):
        sch = schools[["school_code", "school_name", "level"]].copy()
        sch["school_code"] = sch["school_code"].astype("str")
        self._index_codes(sch)
        name_keys = text.school_keys_frame(sch["school_name"])
        sch["key"], sch["ascii"] = name_keys["key"], name_keys["ascii"]
        self._index_levels(schools, sch, name_keys)
        self._index_keys(sch.sort_values("school_code", kind="stable"))
        self._choices_at: dict[frozenset[str], list[str]] = {}
        # Alias key -> [(levels the alias text states, school code)] in file order.
        self.alias_of: dict[str, list[tuple[frozenset[str], str]]] = {}
        if aliases is not None and len(aliases):
            self._index_aliases(aliases)

    def _index_codes(self, sch: pd.DataFrame) -> None:
        """The list's codes, their names and levels, and the codes by their digits."""
        self.codes = set(_values(sch["school_code"].dropna()))
        # A code that lost leading zeros (a number cell) finds the one list code it pads to.
        self.by_digits: dict[str, list[str]] = {}
        for code in sorted(self.codes):
            dkey = _digit_key(code)
            if dkey is not None:
                self.by_digits.setdefault(dkey, []).append(code)
        code_l = _values(sch["school_code"])
        self.name_of = dict(zip(code_l, _values(sch["school_name"]), strict=True))
        self.level_of = dict(zip(code_l, _values(sch["level"]), strict=True))

    def _index_levels(
        self, schools: pd.DataFrame, sch: pd.DataFrame, name_keys: pd.DataFrame
    ) -> None:
        """The levels of a school: its level (those it teaches, ``levels``, for a multi-level
        school), and those its own name states (TH&THCS ...)."""
        code_l = _values(sch["school_code"])
        taught = (
            _values(schools["levels"]) if "levels" in schools.columns else _values(sch["level"])
        )
        self.levels_of: dict[str, frozenset[str]] = {}
        for code, level, stated in zip(code_l, taught, _values(name_keys["levels"]), strict=True):
            lv = set(level.split("; ")) if isinstance(level, str) else set()
            if isinstance(stated, str):
                lv.update(stated.split("|"))
            self.levels_of[code] = frozenset(lv)

    def _index_keys(self, sch: pd.DataFrame) -> None:
        """Name key and ASCII key -> codes (``sch`` sorted by code), and the twin groups."""
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

    def _index_aliases(self, aliases: pd.DataFrame) -> None:
        """The alias table by name key, each entry with the levels its alias text states."""
        al = aliases.dropna(subset=["alias", "school_code"])
        parsed, bad = parse.parse_code(al["school_code"])
        keys = text.school_keys_frame(al["alias"])
        for key, stated, code in zip(
            _values(keys["key"]),
            _values(keys["levels"]),
            _values(parsed.where(~bad)),
            strict=True,
        ):
            code = self.resolve_code(code)
            if isinstance(key, str) and code is not None:
                lv = frozenset(stated.split("|")) if isinstance(stated, str) else frozenset()
                self.alias_of.setdefault(key, []).append((lv, code))

    def resolve_code(self, code) -> str | None:
        """The list code a (parsed) code stands for: itself, or the one list code it equals
        once zero-padded (Excel dropped its leading zeros); None otherwise."""
        if not isinstance(code, str):
            return None
        if code in self.codes:
            return code
        dkey = _digit_key(code)
        if dkey is None:
            return None
        hits = [c for c in self.by_digits.get(dkey, ()) if len(c) > len(code)]
        return hits[0] if len(hits) == 1 else None

    def alias(self, key: str, levels: frozenset[str] | None) -> str | None:
        """The alias table's school for a name key. A name that states levels takes the first
        entry whose alias text states one of them or whose school is of one of them; a name
        that states none, the first entry (file order)."""
        entries = self.alias_of.get(key)
        if not entries:
            return None
        if not levels:
            return entries[0][1]
        for stated, code in entries:
            if stated & levels or self.levels_of[code] & levels:
                return code
        return None

    def at_levels(self, codes, levels: frozenset[str]) -> list[str]:
        """The schools of ``codes`` that teach one of ``levels``."""
        return [c for c in codes if self.levels_of[c] & levels]

    def choices_at(self, levels: frozenset[str]) -> list[str]:
        """The name keys of the schools that teach one of ``levels`` (sorted)."""
        if levels not in self._choices_at:
            self._choices_at[levels] = [
                k for k in self.choices if self.at_levels(self.by_key[k], levels)
            ]
        return self._choices_at[levels]

    def is_near_twin(self, code: str) -> bool:
        """True when the school has a twin (same base key, another trailing letter)."""
        key = self.key_of.get(code)
        base = twin_base(key)
        return bool(base) and len(self.twins.get(base, ())) > 1

    def label(self, code: str) -> str:
        """``"Trường Mầm non Sao Mai (Mầm non, 01010101)"``: name, level and code."""
        level = self.level_of.get(code)
        level = f"{level}, " if isinstance(level, str) else ""
        return f"{self.name_of.get(code, code)} ({level}{code})"


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
        _fingerprint(
            schools, [c for c in ("school_code", "school_name", "level", "levels") if c in schools]
        ),
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
    pairs = _unique_pairs(names, codes, index)
    found = _match_pairs(pairs, ref)
    uid_arr = pairs.uid.to_numpy()
    school_code = pd.Series(pd.array(found.matched, dtype="str")[uid_arr], index=index, dtype="str")
    method = pd.Series(pd.array(found.method, dtype="str")[uid_arr], index=index, dtype="str")
    if found.ambiguous and groups is not None:
        grp = (groups() if callable(groups) else groups).reindex(index).astype("str").fillna("")
        hit = _group_level_hits(pairs.uid, grp, school_code, found.ambiguous, ref)
        if hit is not None:
            school_code = school_code.fillna(hit)
            method = method.mask(hit.notna(), "name")
    unmatched_mask = school_code.isna()
    explained = _explain_unmatched(pairs, found, ref, pairs.uid[unmatched_mask].value_counts())

    def per_row(values: list[str | None]) -> pd.Series:
        if not unmatched_mask.any():  # every row matched: nothing to spread
            return pd.Series(None, index=index, dtype="str")
        out = pd.Series(pd.array(values, dtype="str")[uid_arr], index=index, dtype="str")
        return out.where(unmatched_mask)

    return MatchResult(
        school_code=school_code.astype("str"),
        method=method.astype("str"),
        reason=per_row(explained.reason),
        message=per_row(explained.message),
        column=per_row(explained.column),
        value=per_row(explained.value),
        unmatched=_unmatched_table(explained.rows),
    )


@dataclass
class _Pairs:
    """The distinct (raw code, code, name) of the rows: ``uniq`` (row i = pair i: ``code_raw``,
    ``code``, ``name``, ``key``, ``ascii``, ``levels``), ``uid`` (the pair of each row) and
    ``stated`` (the levels each name states, None: no level word)."""

    uniq: pd.DataFrame
    uid: pd.Series
    stated: list[frozenset[str] | None]


def _unique_pairs(names: pd.Series | None, codes: pd.Series | None, index: pd.Index) -> _Pairs:
    """Rows -> distinct raw (code, name) pairs, numbered from the two columns' factorisations
    (no cleaning or hashing of text per row); everything after works on the pairs."""
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
                _parsed_codes(pair_code_raw)
                if codes is not None
                else pd.Series(None, index=pair_code_raw.index, dtype="str")
            ),
            "name": pd.Series(pair_name, dtype="str"),
        }
    )
    # One id per unique (raw code, code, name) (raw pairs may clean to the same values); NA
    # compares equal to NA through the fill. Pairs come in order of first appearance, so the
    # ids are numbered in order of first appearance in the rows.
    pair_uid = pairs.fillna("\0").groupby(["code_raw", "code", "name"], sort=False).ngroup()
    uniq = pairs[(~pair_uid.duplicated()).to_numpy()].reset_index(drop=True)  # row i = uid i
    uid = pd.Series(pair_uid.to_numpy()[pair_codes], index=index)
    name_keys = text.school_keys_frame(uniq["name"])
    for col in ("key", "ascii", "levels"):
        uniq[col] = name_keys[col]
    # The levels each name states (``TH Sao Mai``): they bind its match (None: no level word).
    stated: list[frozenset[str] | None] = [
        frozenset(lv.split("|")) if isinstance(lv, str) else None for lv in _values(uniq["levels"])
    ]
    return _Pairs(uniq, uid, stated)


@dataclass
class _Found:
    """Per pair: the matched code and method (None: not matched); the pairs whose name is
    that of several schools (``ambiguous``) and those stating a level whose name is only that
    of schools of other levels (``other_level``), with those schools."""

    matched: list[str | None]
    method: list[str | None]
    ambiguous: dict[int, list[str]]
    other_level: dict[int, list[str]]


def _match_pairs(pairs: _Pairs, ref: _Reference) -> _Found:
    """Steps 1, 2, 3 and 5 of the module docstring for every pair (first hit wins)."""
    n = len(pairs.uniq)
    found = _Found([None] * n, [None] * n, {}, {})
    columns = (_values(pairs.uniq[c]) for c in ("code", "key", "ascii"))
    for i, (code, key, akey) in enumerate(zip(*columns, strict=True)):
        kind, hit = _match_pair(ref, code, key, akey, pairs.stated[i])
        if kind == "ambiguous":
            found.ambiguous[i] = hit
        elif kind == "other_level":
            found.other_level[i] = hit
        elif kind is not None:
            found.matched[i], found.method[i] = hit, kind
    return found


def _match_pair(ref: _Reference, code, key, akey, levels: frozenset[str] | None) -> tuple:
    """``(method, code)`` of one pair, ``("ambiguous", codes)``, ``("other_level", codes)`` or
    ``(None, None)``. A name stating levels (``levels``) is matched only to schools of them."""
    found = ref.resolve_code(code)
    if found is not None:
        return "code", found
    if not isinstance(key, str):
        return None, None
    cands = ref.by_key.get(key, [])
    acands = ref.by_ascii.get(akey, []) if isinstance(akey, str) else []
    # A level word binds: only the schools of that level are candidates.
    named = ref.at_levels(cands, levels) if levels else cands
    by_ascii = ref.at_levels(acands, levels) if levels else acands
    if len(named) == 1:
        return "name", named[0]
    alias = ref.alias(key, levels or None)
    if alias is not None:
        return "alias", alias
    if len(named) > 1:
        return "ambiguous", named
    if len(by_ascii) == 1 and not ref.is_near_twin(by_ascii[0]):
        return "ascii", by_ascii[0]
    aliased = [c for _, c in ref.alias_of.get(key, ())] if levels else []
    if levels and not by_ascii and (cands or acands or aliased):
        return "other_level", list(dict.fromkeys([*cands, *acands, *aliased]))
    return None, None


def _group_level_hits(
    uid: pd.Series,
    grp: pd.Series,
    school_code: pd.Series,
    ambiguous: dict[int, list[str]],
    ref: _Reference,
) -> pd.Series | None:
    """Step 4: an ambiguous name takes the level of the other matched rows of its group (when
    they all sit at one level). The code per row (NA elsewhere), None when none resolves."""
    index = school_code.index
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
    if not resolved:
        return None
    res = pd.Series(resolved, dtype="str")
    res.index = res.index.set_names(["uid", "g"])
    looked = pd.MultiIndex.from_arrays([uid, grp], names=["uid", "g"])
    return pd.Series(res.reindex(looked).to_numpy(), index=index, dtype="str")


@dataclass
class _Explained:
    """Per pair (None where matched): reason, message, column, value; and the rows of the
    ``unmatched`` table."""

    reason: list[str | None]
    message: list[str | None]
    column: list[str | None]
    value: list[str | None]
    rows: list[dict]


_ALIAS_HINT = "thêm dòng vào data/raw/school_aliases.csv (alias,school_code,note)"


def _explain_unmatched(
    pairs: _Pairs, found: _Found, ref: _Reference, counts: pd.Series
) -> _Explained:
    """Step 6 and the messages: reason, Vietnamese message and candidates of every unmatched
    pair (``counts``: its rows)."""
    n = len(pairs.uniq)
    out = _Explained([None] * n, [None] * n, [None] * n, [None] * n, [])
    fuzzy_cache: dict[tuple, list[_Candidate]] = {}
    for u in sorted(counts.index):
        code_raw, name, key = (pairs.uniq.at[u, c] for c in ("code_raw", "name", "key"))
        code_raw = code_raw if isinstance(code_raw, str) else None
        name = name if isinstance(name, str) else None
        levels = pairs.stated[u]
        # Candidates: (label, score or None for a namesake, code), the name's level first.
        cands: list[_Candidate] = []
        if isinstance(key, str) and not found.ambiguous.get(u):
            if (key, levels) not in fuzzy_cache:
                fuzzy_cache[(key, levels)] = _suggest(key, ref, levels)
            cands = fuzzy_cache[(key, levels)]
        rsn, msg, cands = _reason(u, code_raw, name, levels, cands, found, ref)
        shown = name if name is not None else code_raw
        out.reason[u], out.message[u] = rsn, msg
        out.column[u] = "school_name" if name is not None else "school_code"
        out.value[u] = shown or ""
        out.rows.append(
            {
                "school_code_raw": code_raw,
                "school_name_raw": name,
                "reason": rsn,
                "n_rows": int(counts[u]),
                "candidates": _candidates_text(cands),
                "candidate_codes": ";".join(c for _, _, c in cands),
            }
        )
    return out


def _reason(
    u: int,
    code_raw: str | None,
    name: str | None,
    levels: frozenset[str] | None,
    cands: list[_Candidate],
    found: _Found,
    ref: _Reference,
) -> tuple[str, str, list[_Candidate]]:
    """(reason, message, candidates shown) of one unmatched pair."""
    amb = found.ambiguous.get(u, [])
    if name is None and code_raw is None:
        return (
            "missing_school",
            "Dòng không có mã trường và tên trường. Hãy điền mã trường (theo danh sách "
            "trường) rồi chạy lại.",
            cands,
        )
    if amb:
        return (
            "ambiguous_school",
            _ambiguous_message(name if name is not None else code_raw, amb, levels, ref),
            [(ref.label(c), None, c) for c in amb],
        )
    if name is None:
        return (
            "unmatched_school",
            f"Mã trường '{code_raw}' không có trong danh sách trường. Hãy sửa mã "
            "trường (hoặc điền tên trường) rồi chạy lại.",
            cands,
        )
    unknown_code = (
        f"Mã trường '{code_raw}' không có trong danh sách trường. " if code_raw is not None else ""
    )
    if u in found.other_level:
        return _other_level_reason(unknown_code, name, levels, cands, found.other_level[u], ref)
    return _fuzzy_reason(unknown_code, name, levels, cands, ref)


def _ambiguous_message(
    shown: str, amb: list[str], levels: frozenset[str] | None, ref: _Reference
) -> str:
    """The message of a name shared by several schools (of the level it states, if any)."""
    options = "; ".join(ref.label(c) for c in amb)
    if levels:  # namesakes of the level the name states
        return (
            f"Tên trường '{shown}' ứng với {len(amb)} trường {_levels_text(levels)} cùng tên: "
            f"{options}. Hãy điền mã trường, hoặc {_ALIAS_HINT}."
        )
    return (
        f"Tên trường '{shown}' có ở nhiều cấp học: {options}. Hãy ghi rõ cấp (ví "
        "dụ 'TH ...' hoặc 'THCS ...') hoặc điền mã trường, hoặc thêm dòng vào "
        "data/raw/school_aliases.csv."
    )


def _other_level_reason(
    unknown_code: str,
    name: str,
    levels: frozenset[str],
    cands: list[_Candidate],
    others: list[str],
    ref: _Reference,
) -> tuple[str, str, list[_Candidate]]:
    """The name states a level and only schools of other levels bear it: never theirs."""
    level_text = _levels_text(levels)
    right = [x for x in cands if ref.levels_of[x[2]] & levels]
    cands = right + [(ref.label(c), None, c) for c in others]
    msg = (
        f"{unknown_code}Tên trường '{name}' ghi cấp {level_text} nhưng danh sách trường "
        f"không có trường {level_text} nào tên như vậy"
    )
    if right:
        msg += f"; gợi ý cùng cấp: {_candidates_text(right)}"
    msg += (
        "; trường mang tên này ở cấp khác (trong danh sách trường hoặc "
        f"school_aliases.csv): {_candidates_text(cands[len(right) :])}. Hãy "
        f"sửa tên (cấp học) hoặc điền mã trường; nếu đúng là một trường nêu trên, "
        f"{_ALIAS_HINT}."
    )
    return "unmatched_school", msg, cands


def _fuzzy_reason(
    unknown_code: str,
    name: str,
    levels: frozenset[str] | None,
    cands: list[_Candidate],
    ref: _Reference,
) -> tuple[str, str, list[_Candidate]]:
    """A name of no school: fuzzy suggestions (of its level first), or none."""
    if cands and (not levels or ref.levels_of[cands[0][2]] & levels):
        msg = (
            f"Không khớp tên trường '{name}'. Gợi ý: {_candidates_text(cands)}. Nếu đúng, "
            f"{_ALIAS_HINT}, ví dụ: "
            f'"{name}",{cands[0][2]},'
        )
        return "fuzzy_school", msg, cands
    if cands:  # only schools of other levels come near the name
        msg = (
            f"{unknown_code}Không khớp tên trường '{name}' với trường {_levels_text(levels)} nào "
            f"trong danh sách trường; gần đúng nhưng ở cấp khác: {_candidates_text(cands)}."
            f" Hãy sửa tên (cấp học) hoặc điền mã trường, hoặc {_ALIAS_HINT}."
        )
        return "unmatched_school", msg, cands
    msg = (
        f"{unknown_code}Không khớp tên trường '{name}' với trường nào trong danh sách "
        "trường và không có gợi ý gần đúng. Hãy sửa tên hoặc điền mã trường, hoặc "
        "thêm dòng vào data/raw/school_aliases.csv."
    )
    return "unmatched_school", msg, cands


#: The columns of ``MatchResult.unmatched``.
UNMATCHED_COLUMNS = (
    "school_code_raw",
    "school_name_raw",
    "reason",
    "n_rows",
    "candidates",
    "candidate_codes",
)


def _unmatched_table(rows: list[dict]) -> pd.DataFrame:
    """``MatchResult.unmatched``: the rows sorted by ``n_rows`` desc, then name, then code."""
    unmatched = pd.DataFrame(rows, columns=list(UNMATCHED_COLUMNS))
    if len(unmatched):
        unmatched = unmatched.sort_values(
            ["n_rows", "school_name_raw", "school_code_raw"],
            ascending=[False, True, True],
            kind="stable",
            na_position="last",
        ).reset_index(drop=True)
    for col in UNMATCHED_COLUMNS:
        unmatched[col] = unmatched[col].astype("int64" if col == "n_rows" else "str")
    return unmatched


#: A candidate school shown to a person: (label, fuzzy score or None for a namesake, code).
_Candidate = tuple[str, float | None, str]


def _candidates_text(cands: list[_Candidate]) -> str:
    return "; ".join(
        label if score is None else f"{label} [{score:.0f}]" for label, score, _ in cands
    )


def _levels_text(levels: frozenset[str] | None) -> str:
    """``{"THCS", "Tiểu học"}`` -> ``"Tiểu học / THCS"`` (levels in ``text.LEVEL_ORDER``)."""
    if not levels:
        return ""
    order = {lv: i for i, lv in enumerate(text.LEVEL_ORDER)}
    return " / ".join(sorted(levels, key=lambda lv: (order.get(lv, len(order)), lv)))


def _suggest(key: str, ref: _Reference, levels: frozenset[str] | None = None) -> list[_Candidate]:
    """Top fuzzy candidates ``(label, score, code)`` for an unmatched key (never applied).

    For a name that states levels, the schools of those levels come first (searched among
    themselves, so that a close school of another level never pushes them out), then the
    others, up to ``FUZZY_LIMIT`` in all; by score within each group."""

    def hits(choices: list[str], keep) -> list[tuple[float, str, str]]:
        found = process.extract(
            key, choices, scorer=fuzz.WRatio, limit=FUZZY_LIMIT * 3, score_cutoff=FUZZY_CUTOFF
        )
        out = [
            (-float(score), ref.label(code), code)
            for choice, score, _ in found
            for code in ref.by_key[choice]
            if keep(code)
        ]
        out.sort()
        return out

    if levels:
        first = hits(ref.choices_at(levels), lambda c: bool(ref.levels_of[c] & levels))
        rest = hits(ref.choices, lambda c: not ref.levels_of[c] & levels)
        ranked = (first + rest)[:FUZZY_LIMIT]
    else:
        ranked = hits(ref.choices, lambda c: True)[:FUZZY_LIMIT]
    return [(label, -neg, code) for neg, label, code in ranked]
