"""Legacy Vietnamese encodings: TCVN3 (ABC, fonts like .VnTime) and VNI-Windows (VNI-Times).

How legacy text reaches us: someone typed with a TCVN3 or VNI font; the file stored the *bytes*
as Windows-1252 characters, so read as Unicode the cell shows mojibake:

- TCVN3 ``Tr\xadêng TiÓu häc`` for ``Trường Tiểu học`` (the soft hyphen U+00AD is 'ư');
- VNI ``Tröôøng Tieåu hoïc`` for ``Trường Tiểu học`` (base letter + one or two mark bytes).

No maintained library does this, so the tables live here (and are tested hard).

TCVN3 conventions (documented choice)
-------------------------------------
The code points are those of TCVN 5712:1993 (glibc charmap ``TCVN5712-1``). The ABC fonts that
offices use (.VnTime, "VN3") only have *lower-case* precomposed toned vowels plus the seven
upper-case base letters ``Ă Â Ê Ô Ơ Ư Đ`` (0xA1-0xA7); all-caps text is typed in the companion
.VnTimeH font, which draws the *lower-case* codes as capitals. So:

- ``encode_tcvn3`` writes lower-case letters with their precomposed codes and upper-case toned
  vowels as upper-case base + one of the standard's combining tone marks 0xB0-0xB4 (shown as
  ``° ± ² ³ ´`` in cp1252): ``Á`` -> ``A³``. This is lossless, so decoding round-trips exactly.
  ``upper="lower"`` instead imitates .VnTimeH (``TRƯỜNG`` -> ``TR¦êNG``), which is lossy for case.
- ``decode_tcvn3`` reads all of that, plus the sixteen VN1 upper-case codes that sit in
  0xA0-0xFF (e.g. 0xC0 ``À`` -> ``Ắ``). It deliberately does NOT read VN1's upper-case letters in
  0x80-0x9F or the C0 control range: in cp1252 those are quotes, dashes and bullets, far more
  likely real punctuation than letters.
- .VnTimeH capitals: with ``smart_case=True`` (default) a word whose unambiguous letters are all
  upper case, with at least one upper-case letter after the first position (``HäC``,
  ``TR¦êNG``), has its lower-case toned vowels raised (``HỌC``, ``TRƯỜNG``). Words with at most
  one leading unambiguous letter (``Mé``, ``¸``) follow the cell when the whole cell has no
  unambiguous lower-case letter and at least one such all-caps word. Whole-cell lower, title
  and upper case therefore round-trip; a mixed-case oddity like ``HCà`` does not (use
  ``smart_case=False`` for an exact inverse of ``encode_tcvn3``).

Detection
---------
``detect_legacy`` decodes a text both ways and scores each candidate by how many of its words
are well-formed Vietnamese syllables (initial consonant, vowel cluster, final, at most one
tone) minus leftover Latin-1 junk. A kind is returned only when its decoding is strictly
better than the text as it stands. Text holding any character beyond Latin-1 (``Đ``, ``ư``,
``ạ``..., combining marks of NFD text) is real Unicode and never legacy. Short cells can be
ambiguous (``Cã`` is TCVN3 for ``Có`` but also a valid syllable): ``detect_legacy_columns``
decides for a whole sheet by majority, and ``repair_legacy(text, kind)`` then converts every
cell that decodes at least as well as it reads.
A column (or header row) that holds real Unicode text and no
cell of its own evidence is left alone (``column_kind``): a Unicode sheet with one pasted TCVN3
column keeps its ``Có`` / ``Không``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

Kind = Literal["tcvn3", "vni"]

# --------------------------------------------------------------------------------------------
# Vietnamese letters
# --------------------------------------------------------------------------------------------

#: tone name -> combining mark (Unicode)
_TONE_MARK = {
    "grave": "\u0300",
    "hook": "\u0309",
    "tilde": "\u0303",
    "acute": "\u0301",
    "dot": "\u0323",
}
_TONE_OF_MARK = {v: k for k, v in _TONE_MARK.items()}
_TONES = tuple(_TONE_MARK)  # grave, hook, tilde, acute, dot

#: the twelve vowel bases (lower case) that carry tones
_BASES = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")


def _toned(base: str, tone: str | None) -> str:
    return base if tone is None else unicodedata.normalize("NFC", base + _TONE_MARK[tone])


def vietnamese_letters() -> list[str]:
    """All 134 letters that are not plain ASCII: 132 shaped/toned vowels and đ, Đ (NFC).

    Lower case first, then upper case; used by the tests and the tables below.
    """
    lower = []
    for base in _BASES:
        if base not in "aeiouy":
            lower.append(base)
        lower.extend(_toned(base, tone) for tone in _TONES)
    lower.append("đ")
    return lower + [ch.upper() for ch in lower]


# --------------------------------------------------------------------------------------------
# TCVN3 tables (TCVN 5712:1993)
# --------------------------------------------------------------------------------------------

# Lower-case codes, per base in tone order (none, grave, hook, tilde, acute, dot).
_TCVN3_LOWER_CODES = {
    "a": (None, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xA8, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xA9, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (None, 0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xAA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (None, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (None, 0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xAB, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xAC, 0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (None, 0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xAD, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (None, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
# Upper-case base letters that TCVN3 (VN3) encodes.
_TCVN3_UPPER_BASE = {"Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}
# Combining tone marks of the standard.
_TCVN3_MARK_CODES = {"grave": 0xB0, "hook": 0xB1, "tilde": 0xB2, "acute": 0xB3, "dot": 0xB4}
# VN1 upper-case toned letters that sit in 0xA0-0xFF (decoded, never produced).
_TCVN3_VN1_UPPER = {
    0xAF: "Ằ",
    0xBA: "Ẳ",
    0xBF: "Ẵ",
    0xC0: "Ắ",
    0xC1: "Ầ",
    0xC2: "Ẩ",
    0xC3: "Ẫ",
    0xC4: "Ấ",
    0xC5: "Ề",
    0xCD: "Ể",
    0xD9: "Ễ",
    0xDA: "Ế",
    0xDB: "Ồ",
    0xE0: "Ổ",
    0xF0: "Ỗ",
    0xFF: "Ố",
}


def _build_tcvn3():
    lower_enc: dict[str, str] = {}  # Unicode lower-case letter -> TCVN3 char
    for base, codes in _TCVN3_LOWER_CODES.items():
        for tone, code in zip((None, *_TONES), codes, strict=True):
            if code is not None:
                lower_enc[_toned(base, tone)] = chr(code)
    lower_enc["đ"] = chr(0xAE)

    upper_base_enc = {k: chr(v) for k, v in _TCVN3_UPPER_BASE.items()}
    for ch in "AEIOUY":
        upper_base_enc[ch] = ch

    enc: dict[str, str] = dict(lower_enc)
    enc_lower_style: dict[str, str] = dict(lower_enc)
    for ch, code in upper_base_enc.items():
        if ch not in "AEIOUY":
            enc[ch] = code
            enc_lower_style[ch] = code
    for base in _BASES:
        ubase = base.upper()
        for tone in _TONES:
            letter = _toned(ubase, tone)
            enc[letter] = upper_base_enc[ubase] + chr(_TCVN3_MARK_CODES[tone])
            enc_lower_style[letter] = lower_enc[_toned(base, tone)]

    dec: dict[int, str] = {ord(v): k for k, v in lower_enc.items()}
    dec.update({v: k for k, v in _TCVN3_UPPER_BASE.items()})
    dec.update({k: v for k, v in _TCVN3_VN1_UPPER.items()})
    return enc, enc_lower_style, dec


_TCVN3_ENC, _TCVN3_ENC_LOWER_STYLE, _TCVN3_DEC = _build_tcvn3()
_TCVN3_ENC_TABLE = str.maketrans(_TCVN3_ENC)
_TCVN3_ENC_LOWER_TABLE = str.maketrans(_TCVN3_ENC_LOWER_STYLE)
_TCVN3_DEC_TABLE = str.maketrans(_TCVN3_DEC)

# Raw TCVN3 characters by case evidence.
_T_AMBIGUOUS = "".join(
    chr(c) for codes in _TCVN3_LOWER_CODES.values() for c in codes[1:] if c is not None
)
_T_LOWER = "".join(chr(c) for c in range(0xA8, 0xAF))  # ă â ê ô ơ ư đ
_T_UPPER = "".join(chr(c) for c in (*_TCVN3_UPPER_BASE.values(), *_TCVN3_VN1_UPPER))
_T_MARKS = "".join(chr(c) for c in _TCVN3_MARK_CODES.values())
_T_MARK_TO_UNICODE = {chr(c): _TONE_MARK[t] for t, c in _TCVN3_MARK_CODES.items()}

# A base letter (raw) followed by a combining tone mark byte.
_T_COMBINING_RE = re.compile(
    "([aeiouyAEIOUY" + re.escape(_T_UPPER[:6] + _T_LOWER[:6]) + "])([" + re.escape(_T_MARKS) + "])"
)
_T_WORD_RE = re.compile("[A-Za-z" + re.escape(_T_AMBIGUOUS + _T_LOWER + _T_UPPER + _T_MARKS) + "]+")
_T_AMBIG_RE = re.compile("[" + re.escape(_T_AMBIGUOUS) + "]")
_T_UNAMBIG_LOWER = set("abcdefghijklmnopqrstuvwxyz" + _T_LOWER)
_T_UNAMBIG_UPPER = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _T_UPPER)


def encode_tcvn3(text: str, upper: Literal["combining", "lower"] = "combining") -> str:
    """Unicode Vietnamese -> TCVN3 mojibake as it shows when the bytes are read as cp1252.

    ``upper="combining"`` (default, lossless): ``Á`` -> ``A³`` (base + combining tone mark).
    ``upper="lower"``: .VnTimeH style, upper-case toned vowels use the lower-case codes.
    """
    text = unicodedata.normalize("NFC", text)
    table = _TCVN3_ENC_TABLE if upper == "combining" else _TCVN3_ENC_LOWER_TABLE
    return text.translate(table)


def _t_case_flags(word: str) -> tuple[bool, bool]:
    """(has an unambiguous lower-case letter, has an unambiguous capital after position 0)."""
    has_lower = any(ch in _T_UNAMBIG_LOWER for ch in word)
    upper_later = any(ch in _T_UNAMBIG_UPPER for ch in word[1:])
    return has_lower, upper_later


def _t_decode_plain(raw: str) -> str:
    raw = _T_COMBINING_RE.sub(lambda m: m.group(1) + _T_MARK_TO_UNICODE[m.group(2)], raw)
    return unicodedata.normalize("NFC", raw.translate(_TCVN3_DEC_TABLE))


def decode_tcvn3(text: str, smart_case: bool = True) -> str:
    """TCVN3 mojibake -> Unicode (NFC). See the module docstring for the case heuristic."""
    if not isinstance(text, str):
        return text
    if not any(ord(ch) >= 0x80 for ch in text):
        return text
    if not smart_case or not _T_AMBIG_RE.search(text):
        return _t_decode_plain(text)
    # Raw text with no combining marks after a base letter: .VnTimeH capitals are possible.
    if _T_COMBINING_RE.search(text):
        return _t_decode_plain(text)
    words = list(_T_WORD_RE.finditer(text))
    flags = [_t_case_flags(m.group()) for m in words]
    cell_has_lower = any(f[0] for f in flags)
    cell_caps = not cell_has_lower and any(f[1] for f in flags)
    out, pos = [], 0
    for m, (has_lower, upper_later) in zip(words, flags, strict=True):
        word = m.group()
        out.append(_t_decode_plain(text[pos : m.start()]))
        decoded = _t_decode_plain(word)
        if not has_lower and (upper_later or cell_caps) and _T_AMBIG_RE.search(word):
            decoded = decoded.upper()
        out.append(decoded)
        pos = m.end()
    out.append(_t_decode_plain(text[pos:]))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# VNI-Windows tables
# --------------------------------------------------------------------------------------------

# Mark bytes (lower-case form; the upper-case form is ch.upper() of the cp1252 character).
_VNI_TONE = {"acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRC = {None: "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE = {None: "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
# Letters that VNI writes as one byte (lower case; upper = .upper()).
_VNI_SINGLE = {
    "ơ": "ô",
    "ư": "ö",
    "í": "í",
    "ì": "ì",
    "ỉ": "æ",
    "ĩ": "ó",
    "ị": "ò",
    "ỵ": "î",
    "đ": "ñ",
}


def _build_vni():
    enc: dict[str, str] = {}
    for base in _BASES:
        for tone in (None, *_TONES):
            letter = _toned(base, tone)
            if letter in _VNI_SINGLE:
                seq = _VNI_SINGLE[letter]
            elif base in "aeiouy":
                if tone is None:
                    continue
                seq = base + _VNI_TONE[tone]
            elif base == "â":
                seq = "a" + _VNI_CIRC[tone]
            elif base == "ê":
                seq = "e" + _VNI_CIRC[tone]
            elif base == "ô":
                seq = "o" + _VNI_CIRC[tone]
            elif base == "ă":
                seq = "a" + _VNI_BREVE[tone]
            elif base == "ơ":
                seq = "ô" + _VNI_TONE[tone]
            elif base == "ư":
                seq = "ö" + _VNI_TONE[tone]
            else:  # pragma: no cover - every base is handled above
                raise AssertionError(base)
            enc[letter] = seq
            enc[letter.upper()] = seq.upper()
    enc["đ"] = _VNI_SINGLE["đ"]
    enc["Đ"] = _VNI_SINGLE["đ"].upper()

    dec: dict[str, str] = {}
    for letter, seq in enc.items():
        dec[seq] = letter
        if len(seq) == 2:
            # Accept a mark of either case; the base decides the letter's case.
            base, mark = seq
            dec.setdefault(base + mark.swapcase(), letter)
    return enc, dec


_VNI_ENC, _VNI_DEC = _build_vni()
_VNI_ENC_TABLE = str.maketrans(_VNI_ENC)
_VNI_RE = re.compile(
    "|".join(re.escape(seq) for seq in sorted(_VNI_DEC, key=lambda s: (-len(s), s)))
)


def encode_vni(text: str) -> str:
    """Unicode Vietnamese -> VNI-Windows mojibake as it shows when the bytes are read as cp1252."""
    return unicodedata.normalize("NFC", text).translate(_VNI_ENC_TABLE)


def decode_vni(text: str) -> str:
    """VNI-Windows mojibake -> Unicode (NFC)."""
    if not isinstance(text, str):
        return text
    if not any(ord(ch) >= 0x80 for ch in text):
        return text
    return _VNI_RE.sub(lambda m: _VNI_DEC[m.group()], text)


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

_CP1252_HIGH = "".join(
    bytes([b]).decode("cp1252")
    for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
)
# Characters a legacy-encoded cell can hold: Latin-1 and cp1252's 0x80-0x9F glyphs.
_NOT_LEGACY_RE = re.compile("[^\x00-\xff" + re.escape(_CP1252_HIGH) + "]")
_HIGH_RE = re.compile("[\x80-\xff]")

_INITIAL = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_CLUSTER = (
    "iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|uya|uyê|uyu|"
    "ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iu|oa|oă|oe|oi|oo|ôi|ơi|ua|uâ|uê|ui|uô|uơ|uy|ưa|ưi|ươ|ưu|yê|"
    "a|ă|â|e|ê|i|o|ô|ơ|u|ư|y"
)
_FINAL = "ch|ng|nh|c|m|n|p|t"
_SYLLABLE_RE = re.compile(f"(?:{_INITIAL})?(?:{_CLUSTER})(?:{_FINAL})?")
_WORD_RE = re.compile(r"[^\W\d_]+")
_TONE_CHARS = set(_TONE_MARK.values())
# Latin-1 letters that Unicode Vietnamese uses.
_VIET_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")


@lru_cache(maxsize=1 << 16)
def _is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(ch in _TONE_CHARS for ch in decomposed)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_CHARS))
    return _SYLLABLE_RE.fullmatch(bare) is not None


def _score(text: str) -> int:
    """+1 per well-formed Vietnamese word with non-ASCII letters, -1 per malformed one,
    -1 per leftover Latin-1 symbol or foreign letter."""
    score = 0
    for word in _WORD_RE.findall(text):
        if word.isascii():
            continue
        score += 1 if _is_syllable(word) else -1
    for ch in text:
        o = ord(ch)
        if 0x80 <= o <= 0xFF and o != 0xA0 and ch not in _VIET_LATIN1 and not ch.isalpha():
            score -= 1
    return score


def _junk(text: str) -> int:
    return sum(1 for ch in text if 0x80 <= ord(ch) <= 0xFF and ch not in _VIET_LATIN1)


def _candidate(text) -> bool:
    """A text that could be legacy mojibake: Latin-1/cp1252 only, with something above ASCII."""
    return (
        isinstance(text, str)
        and _HIGH_RE.search(text) is not None
        and _NOT_LEGACY_RE.search(text) is None
    )


_DECODERS = {"tcvn3": decode_tcvn3, "vni": decode_vni}


# A lone symbol between spaces ("Cà phê · trà", "© 2024") is punctuation, not a letter: it is
# left out of the evaluation so that turning it into a letter earns nothing.
_ISOLATED_SYMBOL_RE = re.compile(r"(?<!\S)[\x80-\xbf\xd7\xf7](?!\S)")


def _evaluate(text: str) -> tuple[Kind | None, int]:
    """The best kind and its score gain over the text as it stands (0 when none)."""
    text = _ISOLATED_SYMBOL_RE.sub(" ", text)
    base = _score(text)
    results = []
    for kind, decode in _DECODERS.items():
        decoded = decode(text)
        if decoded == text:
            continue
        gain = _score(decoded) - base
        if gain > 0:
            results.append((gain, -_junk(decoded), kind))
    if not results:
        return None, 0
    results.sort(reverse=True)
    if len(results) == 2 and results[0][:2] == results[1][:2]:
        return None, 0
    return results[0][2], results[0][0]


def detect_legacy(text) -> Kind | None:
    """``"tcvn3"``, ``"vni"`` or ``None`` for one text (``None`` for ordinary Unicode)."""
    if not _candidate(text):
        return None
    return _evaluate(text)[0]


def _force(text: str, kind: Kind) -> str:
    """Decode as ``kind`` when that reads at least as well as the text as it stands."""
    if not _candidate(text):
        return text
    decoded = _DECODERS[kind](text)
    if decoded != text and _score(decoded) >= _score(text):
        return decoded
    return text


def column_kind(values: Iterable[object], kind: Kind | None) -> Kind | None:
    """The sheet's legacy ``kind`` as it applies to one column (or header row) of ``values``.

    ``None`` when the column reads as Unicode: it holds a text that no legacy text can hold (a
    letter beyond Windows-1252 such as ``ấ``, ``ư``, ``Đ``) and no text whose own evidence says
    ``kind``. A sheet where only the school names were pasted from a TCVN3 file so keeps the
    ``Có`` / ``Không`` of its Unicode status column (``Có`` would decode to the valid ``Cú``).
    """
    if kind is None:
        return None
    unicode_seen = False
    for v in values:
        if not isinstance(v, str) or v.isascii():
            continue
        if _candidate(v):
            if detect_legacy(v) == kind:
                return kind
        elif _NOT_LEGACY_RE.search(v) is not None:
            unicode_seen = True
    return None if unicode_seen else kind


def repair_legacy(text, kind: Kind | None = None) -> tuple[str, Kind | None]:
    """``(text, kind)``: the text converted to Unicode and the encoding found (None: unchanged).

    With ``kind`` given (a sheet-level decision), any cell that decodes at least as well as it
    reads is converted; otherwise the cell's own evidence decides.
    """
    if kind is None:
        kind = detect_legacy(text)
        if kind is None:
            return text, None
        return _DECODERS[kind](text), kind
    repaired = _force(text, kind)
    return repaired, (kind if repaired != text else None)


#: ``detect_legacy_columns`` stops once this many distinct cells have voted.
FRAME_VOTES = 400


def detect_legacy_columns(columns: Iterable[Iterable[object]], max_votes: int = FRAME_VOTES):
    """The legacy encoding of a whole sheet, by majority of its distinct text cells, given
    as columns (any iterables of cell values). Cells are visited column by column in sorted
    order (deterministic) and the count stops after ``max_votes`` decisive cells, so a sheet of
    a million rows costs no more than a page.

    Only text cells with a character above ASCII can vote, so each column is reduced to its
    distinct non-ASCII strings before anything else (cheap on a page of mostly ASCII cells).
    Columns are consumed lazily: the walk stops once ``max_votes`` cells have voted.
    """
    votes: Counter[str] = Counter()
    gains: Counter[str] = Counter()
    seen: set[str] = set()
    n_votes = 0
    for col in columns:
        if n_votes >= max_votes:
            break
        # The distinct cells in sorted order; an ASCII text is never a candidate.
        for value in sorted({v for v in col if isinstance(v, str) and not v.isascii()}):
            if value in seen or not _candidate(value):
                continue
            seen.add(value)
            found, gain = _evaluate(value)
            if found is not None:
                votes[found] += 1
                gains[found] += gain
                n_votes += 1
                if n_votes >= max_votes:
                    break
    if not votes:
        return None
    ranked = sorted(votes, key=lambda k: (votes[k], gains[k], k), reverse=True)
    if len(ranked) == 2 and (votes[ranked[0]], gains[ranked[0]]) == (
        votes[ranked[1]],
        gains[ranked[1]],
    ):
        return None
    return ranked[0]  # type: ignore[return-value]
