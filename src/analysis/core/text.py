"""Text normalisation: NFC, invisible spaces, header folding, school-name keys.

Scalar functions take any value (``None``/NaN give ``None``); the ``*_series`` versions work
per unique value (``pd.factorize``), so a column of 1.66 million rows costs one call per
distinct text.

Note: ``clean_text`` keeps the soft hyphen U+00AD, which is TCVN3's 'ư' in legacy mojibake
(``Tr\\xadêng``): repair legacy encodings (``analysis.core.legacy``) before or after cleaning,
never after a step that drops it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

# Characters that vanish, and characters that become a plain space.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e"
_SPACES = "\u00a0\u202f\u205f\u3000\u2028\u2029\u0085" + "".join(map(chr, range(0x2000, 0x200B)))
_TRANSLATE = {ord(c): None for c in _ZERO_WIDTH}
_TRANSLATE.update({ord(c): " " for c in _SPACES})
_TRANSLATE.update({c: " " for c in range(0x00, 0x20)})  # tabs, line breaks, other controls
_TRANSLATE[0x7F] = None
# Every character of the table is non-printable (controls, format characters, separators
# other than the ASCII space), so ``str.isprintable()`` (a C loop) proves that ``translate``
# would change nothing. Checked here rather than assumed.
_PRINTABLE_UNTOUCHED = not any(chr(c).isprintable() for c in _TRANSLATE)
# Excel's XML escapes for line breaks, as some writers leave them in shared strings.
_EXCEL_ESCAPE_RE = re.compile(r"_x000[dDaA9]_")
_SPACE_RUN_RE = re.compile(r" {2,}")
_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def is_missing(value) -> bool:
    """None, NaN, NaT and pd.NA (scalars only)."""
    if value is None:
        return True
    if type(value) is str:  # the common case, answered without pandas
        return False
    try:
        return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
    except (TypeError, ValueError):
        return False


def cell_text(value) -> str:
    """A cell as text, the one conversion of the suite: ``""`` for a missing cell (None, NaN,
    NaT, NA), ``"TRUE"``/``"FALSE"`` for a bool, an integral number as its digits (``1.0`` ->
    ``"1"``), anything else (text, a date, another number) as ``str``."""
    if type(value) is str:  # the common case first
        return value
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def nfc(value):
    """Unicode NFC of a text (other values pass through; missing -> None)."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def clean_text(value) -> str | None:
    """NFC; zero-width characters removed; NBSP, tabs and line breaks -> space; spaces
    collapsed and stripped; the Latin eth ``Ð``/``ð`` (U+00D0/U+00F0, a look-alike that text
    passed through Windows-1252 brings; Vietnamese has none) -> ``Đ``/``đ``. Empty -> None.
    Numbers become their text (``12.0`` -> ``"12"``)."""
    text = cell_text(value)
    # Each step only when it can change something: this runs once per distinct cell.
    if "_x000" in text:
        text = _EXCEL_ESCAPE_RE.sub(" ", text)
    if not (_PRINTABLE_UNTOUCHED and text.isprintable()):
        text = text.translate(_TRANSLATE)
    text = unicodedata.normalize("NFC", text)
    if "\u00d0" in text or "\u00f0" in text:
        text = text.translate(_ETH)
    if "  " in text:
        text = _SPACE_RUN_RE.sub(" ", text)
    return text.strip() or None


class _CharTable(dict):
    """A ``str.translate`` table filled lazily, one computed entry per distinct character."""

    def __init__(self, func: Callable[[str], str | None]):
        super().__init__()
        self._func = func

    def __missing__(self, code: int) -> str | None:
        out = self._func(chr(code))
        self[code] = out
        return out


# Combining characters vanish, every other character stays itself.
_DROP_COMBINING = _CharTable(lambda ch: None if unicodedata.combining(ch) else ch)


_D_STROKE = str.maketrans({"đ": "d", "Đ": "D", "\u00f0": "d", "\u00d0": "D"})


def strip_diacritics(text: str) -> str:
    """'Trường Đức' -> 'Truong Duc' (tones, shapes and đ/Đ, and the look-alike eth ð/Ð)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    return decomposed.translate(_DROP_COMBINING)


def fold(value) -> str | None:
    """Key for header matching: clean, lower case, no diacritics, punctuation -> spaces.

    ``"Số\\nlớp"`` -> ``"so lop"``; ``"Tỷ lệ (%)"`` -> ``"ty le"``; ``"Mã định danh"`` ->
    ``"ma dinh danh"``. Empty (or punctuation only) -> None.
    """
    text = clean_text(value)
    if text is None:
        return None
    text = strip_diacritics(text.lower())
    text = _NON_ALNUM_RE.sub(" ", text).strip()
    return _SPACE_RUN_RE.sub(" ", text) or None


# ------------------------------------------------------------------ tone placement

_TONE_CLASS = "[\u0300\u0301\u0303\u0309\u0323]"
_LETTER_OR_MARK = r"(?:[^\W\d_]|[\u0300-\u036f])"
# Old style puts the tone on the second vowel of an open oa/oe/uy (hoà, khoẻ, thuỷ);
# new style on the first (hòa, khỏe, thủy). 'qu' + y keeps it on y in both (quý).
_OA_OE_RE = re.compile(rf"(?<![qQ])([oO])([aAeE])({_TONE_CLASS})(?!{_LETTER_OR_MARK})")
_UY_RE = re.compile(rf"(?<![qQ])([uU])([yY])({_TONE_CLASS})(?!{_LETTER_OR_MARK})")


def _composed(bases: str) -> str:
    return "".join(
        unicodedata.normalize("NFC", b + t) for b in bases for t in _TONE_CLASS.strip("[]")
    )


# What the two patterns above need, seen on NFC text: an o/u directly followed by a vowel that
# carries a tone and nothing else (à, é, ỷ...). A name without such a pair has nothing to move,
# which is most names: they skip the NFD round trip.
_OLD_TONE_NFC_RE = re.compile(f"[oO][{_composed('aAeE')}]|[uU][{_composed('yY')}]")


def unify_tone_placement(value):
    """Old and new tone placement mapped to one form (the new one, tone on the first vowel of
    an open ``oa``/``oe``/``uy``): ``hoà`` -> ``hòa``, ``thuỷ`` -> ``thủy``, ``khoẻ`` ->
    ``khỏe``, ``uý`` -> ``úy``; ``quý``, ``hoàng``, ``thuyền`` are left as they are."""
    if is_missing(value):
        return None
    if not isinstance(value, str):
        return value
    composed = unicodedata.normalize("NFC", value)
    if not _OLD_TONE_NFC_RE.search(composed):
        return composed  # nothing to move: NFC(NFD(x)) is NFC(x)
    text = unicodedata.normalize("NFD", value)
    text = _OA_OE_RE.sub(r"\1\3\2", text)
    text = _UY_RE.sub(r"\1\3\2", text)
    return unicodedata.normalize("NFC", text)


# ------------------------------------------------------------------ school names

# Type prefixes, folded (no diacritics), longest first. Each maps to the levels it states: one
# level, several (a multi-level school, TH&THCS), or None (``Liên cấp``: levels not named). THPT
# and GDTX are recognised as level words although the school list does not hold them yet, so
# that ``THPT Sao Mai`` is never taken for ``Tiểu học Sao Mai``.
_MN, _TH, _THCS, _THPT, _GDTX = "Mầm non", "Tiểu học", "THCS", "THPT", "GDTX"
_LEVEL_PREFIXES: list[tuple[str, tuple[str, ...] | None]] = [
    ("trung tam giao duc nghe nghiep giao duc thuong xuyen", (_GDTX,)),
    ("tieu hoc trung hoc co so va trung hoc pho thong", (_TH, _THCS, _THPT)),
    ("trung hoc co so va trung hoc pho thong", (_THCS, _THPT)),
    ("tieu hoc va trung hoc co so", (_TH, _THCS)),
    ("trung tam giao duc thuong xuyen", (_GDTX,)),
    ("th thcs va thpt", (_TH, _THCS, _THPT)),
    ("trung tam gdnn gdtx", (_GDTX,)),
    ("lien cap th thcs", (_TH, _THCS)),
    ("giao duc thuong xuyen", (_GDTX,)),
    ("trung hoc pho thong", (_THPT,)),
    ("tieu hoc va thcs", (_TH, _THCS)),
    ("th thcs thpt", (_TH, _THCS, _THPT)),  # TH&THCS&THPT, TH-THCS-THPT
    ("thcs va thpt", (_THCS, _THPT)),
    ("trung tam gdtx", (_GDTX,)),
    ("th va thcs", (_TH, _THCS)),
    ("thcs thpt", (_THCS, _THPT)),  # THCS&THPT
    ("gdnn gdtx", (_GDTX,)),
    ("th thcs", (_TH, _THCS)),  # TH&THCS, TH-THCS
    ("lien cap", None),
    ("trung hoc co so", (_THCS,)),
    ("thcs", (_THCS,)),
    ("thpt", (_THPT,)),
    ("ptth", (_THPT,)),
    ("gdtx", (_GDTX,)),
    ("tieu hoc", (_TH,)),
    ("t h", (_TH,)),  # T.H
    ("th", (_TH,)),
    ("mam non", (_MN,)),
    ("mau giao", (_MN,)),
    ("nha tre", (_MN,)),
    ("mn", (_MN,)),
    ("mg", (_MN,)),
]
_SCHOOL_WORD = "truong"
# One pattern for all the prefixes, one group per prefix in list order: Python tries the
# alternatives left to right, so the first prefix of the list that matches wins, as a loop over
# the list would find.
_PREFIX_RE = re.compile(
    "^(?:"
    + "|".join("(" + re.escape(p).replace(r"\ ", " ") + "(?: |$))" for p, _ in _LEVEL_PREFIXES)
    + ")"
)
_PREFIX_LEVELS = [lvl for _, lvl in _LEVEL_PREFIXES]


def _fold_char(ch: str) -> str:
    base = strip_diacritics(ch)
    return base[:1].lower() if base and base[:1].isalnum() else " "


_FOLD_POSITIONS = _CharTable(_fold_char)
# Letters, digits and combining marks stay; anything else becomes a space.
_SPACE_PUNCT_KEEP_MARKS = _CharTable(
    lambda ch: ch if (ch.isalnum() or unicodedata.combining(ch)) else " "
)
# Letters and digits stay; anything else becomes a space.
_SPACE_NON_ALNUM = _CharTable(lambda ch: ch if ch.isalnum() else " ")


def _fold_keep_positions(text: str) -> str:
    """Fold that keeps one character per input character (so a match length carries over)."""
    return text.translate(_FOLD_POSITIONS)


def _split_prefix(name: str) -> tuple[str, tuple[str, ...] | None, bool]:
    """(remaining name, levels the prefix states, prefix found) for a cleaned lower-case name.

    Works on a punctuation-to-space copy of the name so ``T.H`` and ``TH&THCS`` match; the
    remainder is cut from the original text so diacritics are kept.
    """
    # Normalise punctuation first so character positions line up with the folded copy.
    spaced = name.translate(_SPACE_PUNCT_KEEP_MARKS)
    spaced = unicodedata.normalize("NFC", spaced)
    tokens_text = _SPACE_RUN_RE.sub(" ", spaced).strip()
    folded = _fold_keep_positions(tokens_text)
    level: tuple[str, ...] | None = None
    found = level_done = False
    pos = 0
    while True:
        rest = folded[pos:]
        if rest.startswith(_SCHOOL_WORD + " ") or rest == _SCHOOL_WORD:
            pos += len(_SCHOOL_WORD) + 1
            found = True
            continue
        if not level_done:
            match = _PREFIX_RE.match(rest)
            if match is not None:
                pos += match.end()
                level, found, level_done = _PREFIX_LEVELS[match.lastindex - 1], True, True
                continue
        break
    remainder = tokens_text[pos:].strip()
    return remainder, level, found


def _school_parts(value) -> tuple[str | None, str | None, tuple[str, ...] | None]:
    text = clean_text(value)
    if text is None:
        return None, None, None
    return _school_parts_of_clean(text)


@lru_cache(maxsize=1 << 17)
def _school_parts_of_clean(text: str) -> tuple[str | None, str | None, tuple[str, ...] | None]:
    # Memoised: school_key, school_key_ascii, level_hint and stated_levels of one name, in the
    # school list and in every table matched against it, all need these parts.
    text = unify_tone_placement(text).lower()
    remainder, levels, _ = _split_prefix(text)
    if not remainder:  # the name is nothing but a type ("Trường Tiểu học"): keep it whole
        remainder = _SPACE_RUN_RE.sub(" ", text.translate(_SPACE_NON_ALNUM)).strip()
    hint = levels[0] if levels is not None and len(levels) == 1 else None
    return remainder or None, hint, levels


def school_key(value) -> str | None:
    """Key for matching school names: clean, NFC, tone placement unified, lower case, the type
    prefix stripped ("Trường", "Trường Tiểu học", "TH", "T.H", "MN", "Mẫu giáo", "THCS",
    "Trung học cơ sở", "TH&THCS"...), punctuation -> spaces; diacritics and trailing letters
    or numbers kept: ``"Trường TH Ái Mộ A"`` -> ``"ái mộ a"``."""
    return _school_parts(value)[0]


def school_key_ascii(value) -> str | None:
    """A weaker key: ``school_key`` without diacritics (``"ái mộ a"`` -> ``"ai mo a"``)."""
    key = school_key(value)
    return None if key is None else strip_diacritics(key)


def level_hint(value) -> str | None:
    """The level a school name's prefix names: ``"Mầm non"``, ``"Tiểu học"``, ``"THCS"``,
    ``"THPT"``, ``"GDTX"`` or None (no prefix, or a multi-level school such as TH&THCS)."""
    return _school_parts(value)[1]


def stated_levels(value) -> tuple[str, ...] | None:
    """Every level a school name's prefix states, in the order of ``LEVEL_ORDER``:
    ``"TH Sao Mai"`` -> ``("Tiểu học",)``, ``"Trường TH&THCS Đoàn Kết"`` -> ``("Tiểu học",
    "THCS")``; None when the name states none (no prefix, ``"Trường Sao Mai"``, or
    ``"Liên cấp"`` without the levels). ``match`` binds a name that states levels to the schools
    of those levels."""
    return _school_parts(value)[2]


#: The levels a name can state, in the order ``stated_levels`` gives them.
LEVEL_ORDER: tuple[str, ...] = (_MN, _TH, _THCS, _THPT, _GDTX)


# ------------------------------------------------------------------ Series versions


def unique_values(uniques):
    """The distinct values from ``pd.factorize`` as Python objects, for a loop over them.

    Text (pyarrow strings) is converted in one go: iterating over a pyarrow-backed array
    builds one scalar per element, several times slower, for the same ``str`` values."""
    if isinstance(getattr(uniques, "dtype", None), pd.StringDtype):
        return np.asarray(uniques, dtype=object)
    return uniques


def map_unique(s: pd.Series, func: Callable, dtype: str | None = "str") -> pd.Series:
    """Apply ``func`` once per distinct value of ``s``; missing values stay missing.

    The result keeps the index and name of ``s``.
    """
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(unique_values(uniques)):
        results[i] = func(value)
    results[-1] = None  # code -1 (missing input) indexes this slot
    unique_array = pd.array(results, dtype=dtype) if dtype is not None else results
    return pd.Series(unique_array[codes], index=s.index, name=s.name)


def clean_text_series(s: pd.Series) -> pd.Series:
    return map_unique(s, clean_text)


def fold_series(s: pd.Series) -> pd.Series:
    return map_unique(s, fold)


def school_key_series(s: pd.Series) -> pd.Series:
    return map_unique(s, school_key)


def school_key_ascii_series(s: pd.Series) -> pd.Series:
    return map_unique(s, school_key_ascii)


def level_hint_series(s: pd.Series) -> pd.Series:
    return map_unique(s, level_hint)


def stated_levels_series(s: pd.Series) -> pd.Series:
    """``stated_levels`` per value, joined by ``|`` (``"Tiểu học|THCS"``); None -> NA."""
    return map_unique(s, lambda v: None if (lv := stated_levels(v)) is None else "|".join(lv))


def school_keys_frame(s: pd.Series) -> pd.DataFrame:
    """``school_key_series``, ``school_key_ascii_series`` and ``level_hint_series`` of ``s`` as
    the columns ``key``, ``ascii``, ``hint``, and ``stated_levels`` joined by ``|`` as
    ``levels`` (index of ``s``), from one pass over its distinct values: each name is split
    once, not once per series."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    cols = ("key", "ascii", "hint", "levels")
    out = {c: np.empty(len(uniques) + 1, dtype=object) for c in cols}
    for i, value in enumerate(unique_values(uniques)):
        key, hint, levels = _school_parts(value)
        out["key"][i] = key
        out["ascii"][i] = None if key is None else strip_diacritics(key)
        out["hint"][i] = hint
        out["levels"][i] = None if levels is None else "|".join(levels)
    for c in out:
        out[c][-1] = None  # code -1 (missing input) indexes this slot
    return pd.DataFrame({c: pd.array(v, dtype="str")[codes] for c, v in out.items()}, index=s.index)


# ------------------------------------------------------------------ Vietnamese sort order

#: The letters in Vietnamese dictionary order (a < ă < â ... d < đ ...), with f, j, w, z of
#: foreign names in their Latin places.
_VN_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_VN_SHAPES = frozenset("\u0306\u0302\u031b")  # breve, circumflex, horn: part of the letter
_VN_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
_VN_SHAPED = {"a\u0306": "ă", "a\u0302": "â", "e\u0302": "ê", "o\u0302": "ô"}
_VN_MISSING_KEY = ("\uffff", "")


def _vn_code(ch: str) -> str:
    """Two characters per letter: its place in the alphabet; a space sorts before everything
    ("Gia Thụy" < "Giang Biên"), then digits and punctuation, then letters."""
    if ch in _VN_ALPHABET:
        return f"{_VN_ALPHABET.index(ch) + 10:02d}"
    return "  " if ch == " " else f"!{ch}"


_VN_ASCII_CODES = {c: _vn_code(chr(c)) for c in range(128)}


def vn_sort_key(value) -> tuple[str, str]:
    """Vietnamese dictionary order: a < ă < â < b ... d < đ ..., case aside; tones break ties
    (none < huyền < hỏi < ngã < sắc < nặng). Missing (None/NaN) sorts after every text."""
    if is_missing(value):
        return _VN_MISSING_KEY
    low = str(value).lower()
    if low.isascii():
        return (low.translate(_VN_ASCII_CODES), "0" * len(low))
    primary, tones = [], []
    for ch in unicodedata.normalize("NFD", low):
        if ch in _VN_TONES:
            tones[-1:] = [_VN_TONES[ch]]
        elif ch in _VN_SHAPES and primary:
            base = primary[-1][0]
            shaped = "ơ" if base == "o" else "ư" if base == "u" else base
            primary[-1] = _VN_SHAPED.get(base + ch, shaped)
        elif not unicodedata.combining(ch):
            primary.append(ch)
            tones.append("0")
    return ("".join(map(_vn_code, primary)), "".join(tones))


def vn_rank(values: pd.Series) -> np.ndarray:
    """Dense rank of each value in ``vn_sort_key`` order, the key computed once per distinct
    value; equal keys share a rank, missing values rank last."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = [vn_sort_key(v) for v in uniques]
    place = {key: i for i, key in enumerate(sorted(set(keys)))}
    rank = np.array([place[key] for key in keys] + [len(place)], dtype=np.int64)
    return rank[codes]  # code -1 (missing) takes the last slot
