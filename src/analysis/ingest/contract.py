"""The table kinds of the data contract (section 2) and how their headers are recognised.

Each kind (``truong``, ``cbgvnv``, ``tonghop_cks``, ``ha_tang``, ``hoc_ba``) has canonical
columns with English names (the processed tables' names), a Vietnamese header and aliases.
Headers are compared through :func:`header_key`: ``text.fold`` (case, diacritics, white space
and line breaks ignored), then every run of punctuation becomes one space, so
``"Số\\nlớp"``, ``"SỐ LỚP"`` and ``"Số lớp:"`` are the same key. A second key drops
parenthesised parts and asterisks (``"Mã trường (*)"`` = ``"Mã trường"``).

Merged (multi-row) headers arrive as *parts*: ``("Chữ ký số", "Trạng thái")``. A column is
matched, best first:

1. quality 4: the joined parts equal an alias (``"Chữ ký số Trạng thái"``);
2. quality 3: the same with parenthesised parts dropped;
3. quality 3: the last part is a sub-header alias *under a known group* (``"Trạng thái"``
   under ``"Chữ ký số"`` is the signature status, while a plain ``"Trạng thái"`` column is the
   employment status);
4. quality 2: the last part alone equals an alias (``"Nhà cung cấp"`` under any group);
5. quality 1: the upper parts equal an alias and the last part is no known header at all
   (a unit row such as ``"(người)"`` under ``"Tổng số CBGVNV"``).

Columns are then assigned greedily by (quality desc, alias rank asc, column index asc); a
canonical column is taken once (personal columns may take several source columns: they are
all dropped). A kind is recognised when all its required columns (and one of each "one of"
group) are present; the kind with the most matched columns wins, ties go to the order of
:data:`KINDS`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from analysis.core import text

#: Kinds whose CCCD column is carried to the cleaning stage (``RawTable.id_numbers``) to be
#: turned into a join key there (:mod:`analysis.clean.certificates`), never into ``data``.
ID_JOIN_KINDS: frozenset[str] = frozenset({"cbgvnv", "ca_thue_bao"})

#: Canonical columns that hold personal data: dropped by ingest right after header mapping.
PERSONAL_COLUMNS: frozenset[str] = frozenset(
    {"full_name", "birth_date", "id_number", "phone", "email"}
)


@dataclass(frozen=True)
class Column:
    """One canonical column of a kind.

    ``aliases`` are plain headers (the Vietnamese ``header`` and the English ``name`` are
    aliases too); ``sub_aliases`` maps a group id of :data:`GROUPS` to the sub-headers that mean
    this column under that group.
    """

    name: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    personal: bool = False
    sub_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def all_aliases(self) -> tuple[str, ...]:
        return (self.header, *self.aliases, self.name)


@dataclass(frozen=True)
class Kind:
    """A table kind: its columns, required columns and "one of" groups."""

    name: str
    title: str
    columns: tuple[Column, ...]
    #: groups of columns of which at least one is required (e.g. school code or name).
    one_of: tuple[tuple[str, ...], ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)

    @property
    def kept_columns(self) -> tuple[str, ...]:
        """The non-personal canonical columns, in canonical order (what ingest may keep)."""
        return tuple(c.name for c in self.columns if not c.personal)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def header_of(self, name: str) -> str:
        """The Vietnamese header of a canonical column (``"Mã trường"``)."""
        return self.column(name).header

    def missing(self, present: Iterable[str]) -> list[str]:
        """Canonical names of the required columns (and unmet "one of" groups, joined by
        ``"|"``) that ``present`` lacks, in canonical order."""
        present = set(present)
        out = [n for n in self.required if n not in present]
        for group in self.one_of:
            if not present.intersection(group):
                out.append("|".join(group))
        return out

    def missing_headers(self, present: Iterable[str]) -> list[str]:
        """Like :meth:`missing` but as Vietnamese headers (``"Mã trường hoặc Tên trường"``)."""
        return [
            " hoặc ".join(self.header_of(n) for n in item.split("|"))
            for item in self.missing(present)
        ]


# ----------------------------------------------------------------------------------------
# The kinds, read from their data file

#: The kinds' columns (English canonical names, Vietnamese headers, aliases, sub-header aliases
#: under a group), the groups of merged headers and the headers ignored: a data file beside
#: this module, read once at import. A column used by several kinds is written once, under
#: ``[columns]``, and named by ``use`` (with ``required`` where a kind requires it).
CONTRACT_FILE = Path(__file__).with_name("contract.toml")


def _column(entry: dict, shared: dict[str, dict]) -> Column:
    """A :class:`Column` from its table in the data file (``use``: a shared column)."""
    if "use" in entry:
        entry = {**shared[entry["use"]], **{k: v for k, v in entry.items() if k != "use"}}
    return Column(
        entry["name"],
        entry["header"],
        tuple(entry.get("aliases", ())),
        required=entry.get("required", False),
        personal=entry.get("personal", False),
        sub_aliases={gid: tuple(subs) for gid, subs in entry.get("sub_aliases", {}).items()},
    )


def _read_contract(path: Path) -> tuple[dict[str, Kind], dict[str, tuple[str, ...]], tuple]:
    """(the kinds by name, in the file's order; the header groups; the ignored headers)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    kinds = {
        name: Kind(
            name,
            kind["title"],
            tuple(_column(c, data["columns"]) for c in kind["columns"]),
            one_of=tuple(tuple(group) for group in kind.get("one_of", ())),
        )
        for name, kind in data["kinds"].items()
    }
    groups = {gid: tuple(cells) for gid, cells in data["groups"].items()}
    return kinds, groups, tuple(data["ignored_headers"])


_KINDS_READ = _read_contract(CONTRACT_FILE)
#: The table kinds, by name (:class:`Kind`), in the data file's order.
KIND_SPECS: dict[str, Kind] = _KINDS_READ[0]
KINDS: tuple[str, ...] = tuple(KIND_SPECS)
#: The kinds' Vietnamese names (messages, quality report).
KIND_TITLES: dict[str, str] = {name: spec.title for name, spec in KIND_SPECS.items()}
#: Header groups of merged headers: group id -> Vietnamese group cells.
GROUPS: dict[str, tuple[str, ...]] = _KINDS_READ[1]
#: Headers that are known but carry nothing we keep (not reported as unmapped).
IGNORED_HEADERS: tuple[str, ...] = _KINDS_READ[2]


def kept_columns(kind: str) -> tuple[str, ...]:
    """The non-personal canonical columns of ``kind``: the most ingest's ``data`` can hold."""
    return KIND_SPECS[kind].kept_columns


# ----------------------------------------------------------------------------------------
# Header keys and matching

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\*")


@lru_cache(maxsize=1 << 16, typed=True)
def header_key(value: object) -> str:
    """The comparison key of a header cell's text: folded, punctuation runs as single spaces
    (``None``: ``""``)."""
    if value is None:
        return ""
    s = (text.fold(str(value)) or "").replace("đ", "d")
    return _NON_ALNUM.sub(" ", s).strip()


def header_key_loose(value: object) -> str:
    """:func:`header_key` without parenthesised parts and asterisks (``"Tỷ lệ (%)"`` ->
    ``"ty le"``)."""
    if value is None:
        return ""
    return header_key(_PARENS.sub(" ", str(value)))


@dataclass(frozen=True)
class _Index:
    """Precomputed keys of one kind."""

    plain: dict[str, tuple[str, int]]  # key -> (canonical, alias rank)
    sub: dict[tuple[str, str], tuple[str, int]]  # (group id, key) -> (canonical, rank)


def _keys(alias: str) -> list[str]:
    out = []
    for k in (header_key(alias), header_key_loose(alias)):
        if k and k not in out:
            out.append(k)
    return out


def _kind_index(kind: str, known: set[str]) -> _Index:
    """The alias keys of one kind's columns (added to ``known``)."""
    plain: dict[str, tuple[str, int]] = {}
    sub: dict[tuple[str, str], tuple[str, int]] = {}
    for col in KIND_SPECS[kind].columns:
        for rank, alias in enumerate(col.all_aliases()):
            for k in _keys(alias):
                plain.setdefault(k, (col.name, rank))
                known.add(k)
        for gid, subs in sorted(col.sub_aliases.items()):
            for rank, alias in enumerate(subs):
                for k in _keys(alias):
                    sub.setdefault((gid, k), (col.name, rank))
                    known.add(k)
    return _Index(plain, sub)


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, _Index], dict[str, str], frozenset[str], frozenset[str]]:
    """Per-kind alias indexes, group key -> group id, every known key, ignored keys."""
    known: set[str] = set()
    per_kind = {kind: _kind_index(kind, known) for kind in KINDS}
    groups: dict[str, str] = {}
    for gid in sorted(GROUPS):
        for alias in GROUPS[gid]:
            for k in _keys(alias):
                groups.setdefault(k, gid)
    ignored = frozenset(k for a in IGNORED_HEADERS for k in _keys(a))
    known |= ignored
    return per_kind, groups, frozenset(known), ignored


@lru_cache(maxsize=1)
def _group_keys_longest_first() -> tuple[str, ...]:
    _, groups, _, _ = _indexes()
    return tuple(sorted(groups, key=lambda k: (-len(k), k)))


def _as_parts(cell: object) -> tuple[str, ...]:
    """A header cell as its non-empty parts (group..., sub), consecutive repeats removed."""
    if isinstance(cell, (tuple, list)):
        raw = tuple(str(p) for p in cell if p is not None and str(p).strip() != "")
    elif cell is None:
        raw = ()
    else:
        raw = (str(cell),) if str(cell).strip() != "" else ()
    return _distinct_parts(raw)


@lru_cache(maxsize=1 << 16)
def _distinct_parts(raw: tuple[str, ...]) -> tuple[str, ...]:
    """``raw`` without a part whose key repeats the part before it. Cached: header texts
    repeat across candidate rows, sheets, files and periods (the parts are text, so a number
    never shares an entry with another that compares equal)."""
    parts: list[str] = []
    for p in raw:
        if not parts or header_key(parts[-1]) != header_key(p):
            parts.append(p)
    return tuple(parts)


def header_text(cell: object) -> str:
    """The flattened display text of a header cell (parts joined by a space)."""
    return " ".join(" ".join(str(p).split()) for p in _as_parts(cell))


def is_ignored_header(cell: object) -> bool:
    """True for known headers we don't keep (STT, Ghi chú) and for blank headers."""
    parts = _as_parts(cell)
    if not parts:
        return True
    _, _, _, ignored = _indexes()
    return header_key(parts[-1]) in ignored or header_key(" ".join(parts)) in ignored


@lru_cache(maxsize=1 << 16)
def _candidate(kind: str, parts: tuple[str, ...]) -> tuple[int, int, str] | None:
    """Best (quality, alias rank, canonical) of one header cell for ``kind``: the whole
    header (4, or 3 without parenthesised parts), else a header flattened into one cell with
    a known group first, else the sub-header of a merged one (:func:`_sub_candidate`)."""
    if not parts:
        return None
    per_kind, _, _, ignored = _indexes()
    idx = per_kind[kind]
    joined = " ".join(parts)
    k_full = header_key(joined)
    if k_full in ignored:
        return None
    if k_full in idx.plain:
        name, rank = idx.plain[k_full]
        return 4, rank, name
    k_loose = header_key_loose(joined)
    if k_loose in idx.plain:
        name, rank = idx.plain[k_loose]
        return 3, rank, name
    if len(parts) >= 2:
        return _sub_candidate(idx, parts)
    # A header flattened into one cell ("Chữ ký số Trạng thái"): split off a known group.
    for gk in _group_keys_longest_first():
        if k_full.startswith(gk + " "):
            return _candidate(kind, (gk, k_full[len(gk) + 1 :]))
    return None


def _sub_candidate(idx: _Index, parts: tuple[str, ...]) -> tuple[int, int, str] | None:
    """:func:`_candidate` of a merged header (two parts or more), best first: 3, the sub-header
    under a known group (innermost group first); 2, the sub-header alone; 1, the group alone
    when the sub-header is nothing we know (a unit row)."""
    _, groups, known, ignored = _indexes()
    last_keys = _keys(parts[-1])
    upper = parts[:-1]
    for up in reversed(upper):
        for uk in _keys(up):
            gid = groups.get(uk)
            if gid is None:
                continue
            for lk in last_keys:
                hit = idx.sub.get((gid, lk))
                if hit is not None:
                    return 3, hit[1], hit[0]
    for lk in last_keys:
        if lk in ignored:
            return None
        if lk in idx.plain:
            name, rank = idx.plain[lk]
            return 2, rank, name
    if not any(lk in known for lk in last_keys):
        for k in (header_key(" ".join(upper)), header_key_loose(" ".join(upper))):
            if k in idx.plain:
                name, rank = idx.plain[k]
                return 1, rank, name
    return None


@dataclass(frozen=True)
class KindMatch:
    """How well a header matches one kind."""

    kind: str
    mapping: dict[int, str]
    complete: bool
    missing: tuple[str, ...]  # canonical names ("a|b" for an unmet "one of" group)
    #: sum of the match qualities (4 exact ... 1 group only) of the mapped columns: breaks
    #: ties between header candidates (a title row above a header lowers it).
    quality: int = 0

    @property
    def score(self) -> int:
        """Number of distinct canonical columns matched."""
        return len(set(self.mapping.values()))

    @property
    def fraction(self) -> float:
        """Share of the kind's canonical columns that matched (0..1)."""
        return self.score / len(KIND_SPECS[self.kind].columns)

    @property
    def required_fraction(self) -> float:
        """Share of the kind's required items (required columns + "one of" groups) present."""
        spec = KIND_SPECS[self.kind]
        n_items = len(spec.required) + len(spec.one_of)
        return (n_items - len(self.missing)) / n_items if n_items else 1.0


def match_kinds(header_cells: Sequence[object]) -> list[KindMatch]:
    """A :class:`KindMatch` for every kind, in :data:`KINDS` order. A header cell is a string
    or a tuple of parts (group..., sub) from a merged header; each canonical column is taken
    once, except personal ones (all dropped anyway)."""
    # Fresh mappings: a caller may change its copy.
    return [_fresh(m) for m in _found_kinds(tuple(_as_parts(c) for c in header_cells))]


def _fresh(m: KindMatch) -> KindMatch:
    return KindMatch(m.kind, dict(m.mapping), m.complete, m.missing, m.quality)


@lru_cache(maxsize=1 << 14)
def _found_kinds(parts: tuple[tuple[str, ...], ...]) -> tuple[KindMatch, ...]:
    """The matches of a header given as its cells' parts, without copies (shared objects: read
    only). Cached: a header candidate (a row, or 2-3 rows of a merged header) is classified
    once per process, the same forms come back in every file and every period."""
    # Each cell's candidates are looked up once for all kinds.
    per_cell = [_candidates(p) for p in parts]
    out = []
    for k, kind in enumerate(KINDS):
        mapping, quality = _assign([(i, c[k]) for i, c in enumerate(per_cell) if c[k] is not None])
        missing = tuple(KIND_SPECS[kind].missing(mapping.values()))
        out.append(KindMatch(kind, mapping, not missing, missing, quality))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _candidates(parts: tuple[str, ...]) -> tuple[tuple[int, int, str] | None, ...]:
    """``_candidate(kind, parts)`` of one header cell for every kind, in :data:`KINDS` order."""
    return tuple(_candidate(kind, parts) for kind in KINDS)


def canonical_of(cell: object, kind: str) -> str | None:
    """The canonical column of ``kind`` that a header cell names, if any (before the
    assignment of a sheet's columns, which keeps one column per canonical name)."""
    cand = _candidates(_as_parts(cell))[KINDS.index(kind)]
    return cand[2] if cand is not None else None


def _assign(found: list[tuple[int, tuple[int, int, str]]]) -> tuple[dict[int, str], int]:
    """Greedy assignment of (column, (quality, rank, canonical)) candidates by (quality desc,
    alias rank, column): (mapping, sum of qualities)."""
    cands = sorted((-quality, rank, i, name) for i, (quality, rank, name) in found)
    taken: set[str] = set()
    mapping: dict[int, str] = {}
    total = 0
    for neg_quality, _, i, name in cands:
        if name in taken and name not in PERSONAL_COLUMNS:
            continue
        taken.add(name)
        mapping[i] = name
        total -= neg_quality
    return dict(sorted(mapping.items())), total


def best_match(header_cells: Sequence[object]) -> KindMatch:
    """The best :class:`KindMatch` of a header: complete kinds first, then most columns, then
    the higher match quality, then :data:`KINDS` order."""
    best = max(
        _found_kinds(tuple(_as_parts(c) for c in header_cells)),
        key=lambda m: (m.complete, m.score, m.quality, -KINDS.index(m.kind)),
    )
    return _fresh(best)


def near_kind(header_cells: Sequence[object], threshold: float = 0.6) -> KindMatch | None:
    """The kind an unrecognised header *looks like* (>= ``threshold`` of its columns, or >= 75 %
    of its required items with at least three of them present), or ``None``. Used to refuse a sheet
    that lacks a required column instead of skipping it silently."""
    best = None
    for m in match_kinds(header_cells):
        if m.complete:
            continue
        spec = KIND_SPECS[m.kind]
        n_req_present = len(spec.required) + len(spec.one_of) - len(m.missing)
        looks = m.fraction >= threshold or (m.required_fraction >= 0.75 and n_req_present >= 3)
        if looks and (
            best is None
            or (m.fraction, m.required_fraction)
            > (
                best.fraction,
                best.required_fraction,
            )
        ):
            best = m
    return best
