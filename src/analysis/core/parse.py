"""Parsers for the values of Vietnamese spreadsheets.

Every parser takes a Series (a list or array is wrapped), works once per *distinct* value
(``pd.factorize``), and returns ``(values, bad)``: ``values`` keeps the input's index and name,
``bad`` is a boolean Series marking non-empty inputs that could not be read. Empty input
(None, NaN, ``""``, spaces only, and for numbers and dates a lone dash ``-``/``–``/``—``) gives
a missing value and is *not* bad: whether a value is required is the schema's business.

Documented choices
------------------
- Numbers are read the Vietnamese way: ``.`` groups thousands and ``,`` marks decimals
  (``1.127`` = 1127, ``69,8`` = 69.8, ``1.234,5`` = 1234.5). With both marks present, the last
  one is the decimal mark (``1,234.5`` = 1234.5 too). A lone dot followed by groups of exactly
  three digits is thousands (``12.500`` = 12500); otherwise a lone dot is decimal (``0.698``,
  ``100.5``).
- ``1,127``: for counts (``parse_int_vn``) the only whole-number reading is 1127, so it is
  1127; for ``parse_float_vn`` a single comma is always the decimal mark (1.127). Two or more
  comma groups (``1,234,567``) are thousands in both.
- Counts must be whole: ``12.5`` or ``12,5`` is bad; ``12,0`` and the float 12.0 are 12.
  Negative counts are returned as read; use ``range_mask`` to refuse them.
- Dates are always day first (``05/04/2024`` is 5 April 2024). Two-digit years: 00-49 ->
  2000s, 50-99 -> 1900s. Excel serial numbers (origin 1899-12-30) are accepted from
  ``EXCEL_SERIAL_MIN`` (1920-01-01) to ``EXCEL_SERIAL_MAX`` (2100-12-31); a time of day is
  dropped.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import vocab
from analysis.core.text import clean_text, fold, is_missing, unique_values

# ------------------------------------------------------------------ closed vocabularies
# Only these values (and the names of the school list) leave the cleaning stage: free text
# typed in a status, position, provider or ownership cell (a name, a phone number) becomes
# ``OTHER`` (or refuses the row, for a position), and its raw text goes, masked, to
# ``quality.json`` / ``quarantine.csv`` only (data contract, section 3). The words that name
# each value are data: ``parse_words.toml`` beside this module.

#: What any value outside a closed vocabulary becomes.
OTHER = "Khác"
#: The words of the closed vocabularies (the data file beside this module, read once).
WORDS_FILE = Path(__file__).resolve().parent / "parse_words.toml"
_WORDS: dict = tomllib.loads(WORDS_FILE.read_text(encoding="utf-8"))
#: Certificate providers (``parse_provider``, the rules' providers); anything else is ``OTHER``.
PROVIDERS: tuple[str, ...] = tuple(
    dict.fromkeys(rule["provider"] for rule in _WORDS["provider_rules"])
)
#: Normalised positions (``parse_role``'s titles); an unknown position refuses the row.
POSITIONS: tuple[str, ...] = tuple(_WORDS["positions"]["titles"])
#: (folded leading words, status): a status is read from its leading words, so
#: "Nghỉ việc (báo qua ĐT ...)" is ``Nghỉ việc``; "đã"/"đang" before them is ignored.
_EMPLOYMENT_RULES: list[tuple[tuple[str, ...], str]] = [
    (tuple(rule["leading"]), rule["status"]) for rule in _WORDS["employment_rules"]
]
#: Employment statuses (Trạng thái CB, ``parse_employment``; the first rule's is the active
#: one); anything else is ``OTHER``.
ACTIVE_STATUS: str = _EMPLOYMENT_RULES[0][1]
EMPLOYMENT_STATUSES: tuple[str, ...] = (
    *dict.fromkeys(status for _, status in _EMPLOYMENT_RULES),
    OTHER,
)
#: School ownership (Loại hình, ``parse_ownership``); anything else is ``OTHER``.
OWNERSHIPS: tuple[str, ...] = (*_WORDS["ownership"]["names"], OTHER)

#: What a value should look like, for the Vietnamese quarantine messages of the clean stage.
EXPECTED_FORMAT = {
    "int": "một số nguyên không âm, ví dụ 1.127 hoặc 25",
    "float": "một số, ví dụ 69,8 hoặc 1.234,5",
    "percent": "một tỷ lệ phần trăm, ví dụ 69,8% hoặc 69,8",
    "date": "một ngày dạng ngày/tháng/năm, ví dụ 05/04/2024",
    "status": "Đã cấp / Đã có / Có / x, Chưa cấp / Chưa có / Không, hoặc Đang chờ / Đang đăng ký",
    "role": "một chức vụ: Hiệu trưởng, Phó hiệu trưởng, Giáo viên, Tổng phụ trách, Nhân viên...",
    "level": "Mầm non, Tiểu học, THCS, THPT, GDTX, hoặc nhiều cấp như TH&THCS, Liên cấp",
    "code": "một mã gồm chữ số (và chữ cái), không dấu, ví dụ 01020301",
}

_DASHES = {"-", "–", "—", "--", "---"}
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})


# ------------------------------------------------------------------ machinery


def _as_series(s) -> pd.Series:
    return s if isinstance(s, pd.Series) else pd.Series(s)


class _Uniques:
    """The distinct values of a column, parsed once each, and how to spread them back."""

    def __init__(self, s, scalar: Callable[[object], tuple], n_out: int = 1):
        self.s = _as_series(s)
        self.codes, uniques = pd.factorize(self.s, use_na_sentinel=True)
        # One extra slot at the end: code -1 (missing input) indexes it.
        self.outs = [np.empty(len(uniques) + 1, dtype=object) for _ in range(n_out)]
        self.bad_u = np.zeros(len(uniques) + 1, dtype=bool)
        for i, value in enumerate(unique_values(uniques)):
            result = scalar(value)
            for j in range(n_out):
                self.outs[j][i] = result[j]
            self.bad_u[i] = result[n_out]
        for j in range(n_out):
            self.outs[j][-1] = None

    def series(self, j: int, dtype) -> pd.Series:
        """Output ``j`` per row, converted to ``dtype`` at the level of distinct values."""
        if dtype == "datetime64[s]":
            stamps = [pd.NaT if v is None else pd.Timestamp(v) for v in self.outs[j]]
            unique_array = pd.array(pd.DatetimeIndex(stamps).as_unit("s"))
        elif dtype is bool:
            unique_array = np.where(pd.isna(self.outs[j]), False, self.outs[j]).astype(bool)
        else:
            unique_array = pd.array(self.outs[j], dtype=dtype)
        return pd.Series(unique_array[self.codes], index=self.s.index, name=self.s.name)

    @property
    def bad(self) -> pd.Series:
        return pd.Series(self.bad_u[self.codes], index=self.s.index, name=self.s.name, dtype=bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _text(value) -> str | None:
    """Cleaned text of a value, None for empty or a lone dash."""
    text = clean_text(value)
    if text is None or text in _DASHES:
        return None
    return text


def _folded(value) -> tuple[str | None, bool]:
    """(``fold`` of the value's text, bad): blank -> (None, False); text that folds to
    nothing (punctuation only) -> (None, True)."""
    text = _text(value)
    if text is None:
        return None, False
    key = fold(text)
    return key, key is None


# ------------------------------------------------------------------ numbers

_DIGIT_SPACE_RE = re.compile(r"(?<=\d) (?=\d)", re.ASCII)
_NUMBER_UNIT_RE = re.compile(r"([+-]?\d[\d.,]*)\s*(.*)", re.ASCII)
_THOUSANDS_DOT_RE = re.compile(r"\d{1,3}(?:\.\d{3})+", re.ASCII)
_THOUSANDS_COMMA_RE = re.compile(r"\d{1,3}(?:,\d{3})+", re.ASCII)
_THOUSANDS_COMMA2_RE = re.compile(r"\d{1,3}(?:,\d{3}){2,}", re.ASCII)
_DECIMAL_RE = re.compile(r"\d+[.,]\d+", re.ASCII)
_ZERO_DECIMAL_RE = re.compile(r"(\d+)[.,]0+", re.ASCII)


def _number_text(num: str) -> float | None:
    """A bare number in Vietnamese (or English) notation -> float; None if malformed."""
    sign = -1.0 if num.startswith("-") else 1.0
    num = num.lstrip("+-")
    if not num or not _digits(num[0]) or not _digits(num[-1]):
        return None
    if _digits(num):
        return sign * float(num)
    has_dot, has_comma = "." in num, "," in num
    if has_dot and has_comma:
        dec = "," if num.rfind(",") > num.rfind(".") else "."
        thousands = "." if dec == "," else ","
        whole, _, frac = num.rpartition(dec)
        if not _digits(frac) or dec in whole:
            return None
        if not re.fullmatch(r"\d{1,3}(?:" + re.escape(thousands) + r"\d{3})+", whole, re.ASCII):
            return None
        return sign * float(whole.replace(thousands, "") + "." + frac)
    if has_dot:
        if _THOUSANDS_DOT_RE.fullmatch(num) and not num.startswith("0"):
            return sign * float(num.replace(".", ""))
        if _DECIMAL_RE.fullmatch(num):
            return sign * float(num)
        return None
    # commas only
    if _THOUSANDS_COMMA2_RE.fullmatch(num) and not num.startswith("0"):
        return sign * float(num.replace(",", ""))
    if _DECIMAL_RE.fullmatch(num):
        return sign * float(num.replace(",", "."))
    return None


def _digits(text: str) -> bool:
    """Only ASCII digits (``str.isdigit`` also accepts '²' and other scripts)."""
    return text.isascii() and text.isdigit()


def _prepare_number_text(text: str) -> str:
    return _DIGIT_SPACE_RE.sub("", text.translate(_MINUS))


_INT64_MAX = 2**63 - 1


def _int_scalar(value) -> tuple[int | None, bool]:
    number, bad = _int_scalar_unchecked(value)
    if number is not None and abs(number) > _INT64_MAX:
        return None, True
    return number, bad


def _int_scalar_unchecked(value) -> tuple[int | None, bool]:
    if is_missing(value):
        return None, False
    if isinstance(value, bool | np.bool_):
        return None, True
    if isinstance(value, int | np.integer):
        return int(value), False
    if isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            return None, True
        return int(value), False
    if not isinstance(value, str):
        return None, True
    text = _text(value)
    if text is None:
        return None, False
    text = _prepare_number_text(text)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if _digits(body):
        return sign * int(body), False
    if _THOUSANDS_DOT_RE.fullmatch(body):
        return sign * int(body.replace(".", "")), False
    if _THOUSANDS_COMMA_RE.fullmatch(body):
        return sign * int(body.replace(",", "")), False
    m = _ZERO_DECIMAL_RE.fullmatch(body)
    if m:
        return sign * int(m.group(1)), False
    number = _number_text(text)
    if number is not None and number.is_integer():
        return int(number), False
    return None, True


def parse_int_vn(s) -> tuple[pd.Series, pd.Series]:
    """Counts: ``1.127`` -> 1127, ``25.915`` -> 25915, ``1 127`` -> 1127, 1127.0 -> 1127,
    ``1,127`` -> 1127; ``12.5`` and text are bad. Values are ``Int64``."""
    u = _Uniques(s, _int_scalar)
    return u.series(0, "Int64"), u.bad


def _unit_key(unit: str) -> str:
    folded = fold(unit.replace("%", " percent "))
    return "" if folded is None else folded.replace(" ", "")


def _float_scalar(value, units: dict[str, float] | None = None) -> tuple[float | None, bool]:
    if is_missing(value):
        return None, False
    if isinstance(value, bool | np.bool_):
        return None, True
    if _is_number(value):
        number = float(value)
        return (number, False) if math.isfinite(number) else (None, True)
    if not isinstance(value, str):
        return None, True
    text = _text(value)
    if text is None:
        return None, False
    m = _NUMBER_UNIT_RE.fullmatch(_prepare_number_text(text))
    if m is None:
        return None, True
    number = _number_text(m.group(1))
    if number is None:
        return None, True
    unit = m.group(2).strip()
    if unit:
        if any(ch.isdigit() for ch in unit) or not (unit[0].isalpha() or unit[0] == "%"):
            return None, True
        if units is not None:
            factor = units.get(_unit_key(unit))
            if factor is None:
                return None, True
            number *= factor
    return number, False


#: Units of a line speed, for ``parse_float_vn(s, units=SPEED_UNITS)`` (result in Mbps).
SPEED_UNITS: dict[str, float] = {unit: float(f) for unit, f in _WORDS["speed_units"].items()}


def parse_float_vn(s, units: dict[str, float] | None = None) -> tuple[pd.Series, pd.Series]:
    """Decimals: ``69,8`` -> 69.8, ``1.234,5`` -> 1234.5, ``70 Mbps`` -> 70, ``100Mbps`` -> 100.

    A trailing unit (letters or ``%``) is ignored when ``units`` is None; otherwise it must be
    a key of ``units`` (folded, no spaces: ``"Mb/s"`` -> ``"mbs"``) and the value is
    multiplied by its factor (``units=SPEED_UNITS``: ``1 Gbps`` -> 1000). Values are float64.
    """
    u = _Uniques(s, lambda v: _float_scalar(v, units))
    return u.series(0, "float64"), u.bad


def _percent_scalar(value) -> tuple[float | None, bool, bool]:
    """(percent, numeric cell?, bad)."""
    if is_missing(value):
        return None, False, False
    if _is_number(value):
        number, bad = _float_scalar(value)
        return number, True, bad
    if isinstance(value, str):
        text = _text(value)
        if text is None:
            return None, False, False
        text = text.rstrip()
        if text.endswith("%"):
            text = text[:-1].rstrip()
        number, bad = _float_scalar(text, units={})
        return number, False, bad
    return None, False, True


def parse_percent(s, ratio_if_le_1: bool | str = False) -> tuple[pd.Series, pd.Series]:
    """Percentages in percent: ``69,8%`` -> 69.8, ``69,8`` -> 69.8.

    ``ratio_if_le_1=True``: a *numeric* cell in [0, 1] is an Excel percentage-formatted ratio,
    so 0.698 -> 69.8 (text is never rescaled). ``"auto"``: do so only when every numeric cell
    of the column is in [0, 1] and one lies strictly between. Range checks are left to the
    caller (``range_mask``). Values are float64.
    """
    u = _Uniques(s, _percent_scalar, n_out=2)
    out = u.series(0, "float64")
    numeric_mask = u.series(1, bool)
    if ratio_if_le_1 == "auto":
        nums = out[numeric_mask & out.notna()]
        ratio_if_le_1 = (
            bool(len(nums))
            and bool(nums.between(0, 1).all())
            and bool(((nums > 0) & (nums < 1)).any())
        )
    if ratio_if_le_1:
        scale = numeric_mask & out.between(0, 1)
        out = out.where(~scale, (out * 100).round(10))
    return out, u.bad


def range_mask(values: pd.Series, low=None, high=None) -> pd.Series:
    """True where a (non-missing) value lies outside ``[low, high]``."""
    values = _as_series(values)
    mask = pd.Series(False, index=values.index)
    present = values.notna()
    if low is not None:
        mask |= present & (values < low).fillna(False).astype(bool)
    if high is not None:
        mask |= present & (values > high).fillna(False).astype(bool)
    return mask.astype(bool)


# ------------------------------------------------------------------ dates

EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_SERIAL_MIN = (date(1920, 1, 1) - EXCEL_EPOCH).days  # 7306
EXCEL_SERIAL_MAX = (date(2100, 12, 31) - EXCEL_EPOCH).days  # 73415

_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?)?"
_DMY_RE = re.compile(
    r"(\d{1,2})\s*([/\-.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})" + _TIME, re.I | re.ASCII
)
_YMD_RE = re.compile(r"(\d{4})([/\-.])(\d{1,2})\2(\d{1,2})" + _TIME, re.I | re.ASCII)
_YMD8_RE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_LONG_RE = re.compile(r"(?:ngay )?(\d{1,2}) thang (\d{1,2}) nam (\d{4})", re.ASCII)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= 49 else 1900
    return year


def _serial(number: float) -> date | None:
    if not math.isfinite(number) or not EXCEL_SERIAL_MIN <= number < EXCEL_SERIAL_MAX + 1:
        return None
    return EXCEL_EPOCH + timedelta(days=int(math.floor(number)))


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _date_scalar(value) -> tuple[date | None, bool]:
    if is_missing(value):
        return None, False
    if isinstance(value, pd.Timestamp | datetime):
        return value.date(), False
    if isinstance(value, date):
        return value, False
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date(), False
    if isinstance(value, bool | np.bool_):
        return None, True
    if _is_number(value):
        day = _serial(float(value))
        return day, day is None
    if not isinstance(value, str):
        return None, True
    text = _text(value)
    if text is None:
        return None, False
    day: date | None = None
    if m := _DMY_RE.fullmatch(text):
        day = _make_date(_year(m.group(4)), int(m.group(3)), int(m.group(1)))
    elif m := _YMD_RE.fullmatch(text):
        day = _make_date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    elif m := _YMD8_RE.fullmatch(text):
        day = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif re.fullmatch(r"\d+(?:[.,]\d+)?", text, re.ASCII):
        day = _serial(float(text.replace(",", ".")))
    elif (folded := fold(text)) and (m := _LONG_RE.fullmatch(folded)):
        day = _make_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return day, day is None


def parse_date_vn(s) -> tuple[pd.Series, pd.Series]:
    """Dates, day first: ``05/04/2024``, ``5/4/2024``, ``05-04-2024``, ``05.04.2024``,
    ``2024-04-05``, ``ngày 05 tháng 4 năm 2024``, Excel serials (45387), date cells.

    Values are ``datetime64[s]`` at midnight (NaT when missing or bad).
    """
    u = _Uniques(s, _date_scalar)
    return u.series(0, "datetime64[s]"), u.bad


# ------------------------------------------------------------------ signature status

_STATUS_WORDS: dict = _WORDS["signature_status"]
_CHECK_YES = frozenset(_STATUS_WORDS["check_yes"])
_CHECK_NO = frozenset(_STATUS_WORDS["check_no"])
_STATUS_YES_EXACT = frozenset(_STATUS_WORDS["yes"])
_STATUS_NO_EXACT = frozenset(_STATUS_WORDS["no"])
_STATUS_PENDING_PREFIX: tuple[str, ...] = tuple(_STATUS_WORDS["pending_prefixes"])
_STATUS_NO_PREFIX: tuple[str, ...] = tuple(_STATUS_WORDS["no_prefixes"])
_STATUS_YES_PREFIX: tuple[str, ...] = tuple(_STATUS_WORDS["yes_prefixes"])


def _starts(text: str, prefixes: tuple[str, ...]) -> bool:
    return any(text == p or text.startswith(p + " ") for p in prefixes)


def _status_scalar(value) -> tuple[bool, bool, bool]:
    """(signed, pending, bad)."""
    if is_missing(value):
        return False, False, False
    if isinstance(value, bool | np.bool_):
        return bool(value), False, False
    if _is_number(value):
        if value == 1:
            return True, False, False
        if value == 0:
            return False, False, False
        return False, False, True
    text = _text(value) if isinstance(value, str) else None
    if text is None:
        return False, False, not isinstance(value, str)
    if text in _CHECK_YES:
        return True, False, False
    if text in _CHECK_NO:
        return False, False, False
    key = fold(text)
    if key is None:
        return False, False, True
    if key in _STATUS_YES_EXACT:
        return True, False, False
    if key in _STATUS_NO_EXACT:
        return False, False, False
    if _starts(key, _STATUS_PENDING_PREFIX):
        return False, True, False
    if _starts(key, _STATUS_NO_PREFIX):
        return False, False, False
    if _starts(key, _STATUS_YES_PREFIX):
        return True, False, False
    return False, False, True


def parse_status(s) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Digital-signature status -> (signed, pending, bad), all bool.

    Yes: Đã cấp, Đã có, Có, x, X, 1, TRUE, "Đã có CKS", ✓. No: Chưa cấp, Chưa có, Không,
    blank, 0, FALSE, Hết hạn. Pending (not signed): Đang chờ, Đang đăng ký, Đã đăng ký.
    A bad value is neither signed nor pending.
    """
    u = _Uniques(s, _status_scalar, n_out=2)
    return u.series(0, bool), u.series(1, bool), u.bad


# ------------------------------------------------------------------ role

#: (pattern searched as whole words in the folded text, role, title); the first match wins.
_ROLE_RULES: list[tuple[str, str, str]] = [
    (rule["pattern"], rule["role"], rule["title"]) for rule in _WORDS["position_rules"]
]
_ROLE_RES = [(re.compile(rf"\b(?:{p})\b", re.ASCII), role, title) for p, role, title in _ROLE_RULES]


def _role_scalar(value) -> tuple[str | None, str | None, bool]:
    key, bad = _folded(value)
    if key is None:
        return None, OTHER if bad else None, bad
    for regex, role, title in _ROLE_RES:
        if regex.search(key):
            return role, title, False
    return None, OTHER, True


def parse_role(s) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Position -> (role ``CBQL``/``GV``/``NV``, normalised title, bad).

    Hiệu trưởng, Phó hiệu trưởng (P. Hiệu trưởng, PHT, HT) -> CBQL; Giáo viên, GV, Tổng phụ
    trách Đội -> GV; Nhân viên, NV, Kế toán, Văn thư, Y tế, Thư viện, Thiết bị, Bảo vệ,
    Phục vụ, Thủ quỹ, CNTT -> NV. The first rule that matches wins, so "Giáo viên kiêm văn thư"
    is GV. Titles are ``POSITIONS``; an unknown position is bad, its title ``OTHER`` (the raw
    text never leaves: the caller quarantines the row with the text masked).
    """
    u = _Uniques(s, _role_scalar, n_out=2)
    return u.series(0, "str"), u.series(1, "str"), u.bad


# ------------------------------------------------------------------ provider

#: (pattern searched in the folded text without spaces, provider); the first match wins.
_PROVIDER_RULES: list[tuple[str, str]] = [
    (rule["pattern"], rule["provider"]) for rule in _WORDS["provider_rules"]
]
_PROVIDER_RES = [(re.compile(p, re.ASCII), name) for p, name in _PROVIDER_RULES]
_PROVIDER_NONE = frozenset(_WORDS["providers"]["none"])


def _provider_scalar(value) -> tuple[str | None, bool]:
    key, bad = _folded(value)
    if key is None:
        return None, bad
    if key in _PROVIDER_NONE:
        return None, False
    compact = key.replace(" ", "")
    for regex, name in _PROVIDER_RES:
        if regex.search(compact):
            return name, False
    return None, True


def parse_provider(s) -> tuple[pd.Series, pd.Series]:
    """Certificate provider -> one of ``PROVIDERS`` (``Viettel``, ``VNPT``, ``FPT``, ``BKAV``,
    ``MISA``, ``VGCA`` (also "Ban Cơ yếu Chính phủ"), ``CMC``, ``Nacencomm`` (CA2), ``EFY``,
    ``Newtel``...), e.g. ``viettel-ca``, ``VNPT CA``, ``MISA eSign``; blank or "Không" -> NA;
    anything else (a name, a phone number typed by hand) is bad: NA, which the caller writes
    as ``OTHER`` ("Khác", ``or_other``), reporting the raw text masked, never writing it."""
    u = _Uniques(s, _provider_scalar)
    return u.series(0, "str"), u.bad


def or_other(values: pd.Series, bad: pd.Series) -> pd.Series:
    """``values`` with ``OTHER`` where ``bad``: what a closed-vocabulary column writes."""
    return values.mask(bad.to_numpy(dtype=bool), OTHER)


# ------------------------------------------------------------------ employment status


def _leading_words_scalar(
    value, rules: list[tuple[tuple[str, ...], str]], lead: str
) -> tuple[str | None, bool]:
    """The vocabulary word of ``rules`` whose prefixes start the folded text (also once a
    leading word matching ``lead`` is dropped); blank -> (None, False); no rule -> bad."""
    key, bad = _folded(value)
    if key is None:
        return None, bad
    for candidate in (key, re.sub(lead, "", key)):
        for prefixes, word in rules:
            if _starts(candidate, prefixes):
                return word, False
    return None, True


def _employment_scalar(value) -> tuple[str | None, bool]:
    return _leading_words_scalar(value, _EMPLOYMENT_RULES, r"^(?:da|dang) ")


def parse_employment(s) -> tuple[pd.Series, pd.Series]:
    """Employment status (Trạng thái CB) -> one of ``EMPLOYMENT_STATUSES``, read from the
    leading words: ``Đang làm việc``; ``Nghỉ hưu``; ``Chuyển đi`` (Chuyển công tác, Điều
    chuyển...); ``Nghỉ việc`` (Thôi việc...); ``Nghỉ thai sản``; ``Tạm nghỉ`` (Nghỉ ốm, Nghỉ
    không lương...); ``Đi học``. "Nghỉ việc (báo qua ĐT ...)" is ``Nghỉ việc``. Blank -> NA;
    anything else is bad (NA; the caller writes ``OTHER``, see ``or_other``)."""
    u = _Uniques(s, _employment_scalar)
    return u.series(0, "str"), u.bad


# ------------------------------------------------------------------ ownership

_OWNERSHIP_RULES: list[tuple[tuple[str, ...], str]] = [
    (tuple(rule["leading"]), rule["ownership"]) for rule in _WORDS["ownership_rules"]
]


def _ownership_scalar(value) -> tuple[str | None, bool]:
    return _leading_words_scalar(value, _OWNERSHIP_RULES, r"^(?:truong|loai hinh) ")


def parse_ownership(s) -> tuple[pd.Series, pd.Series]:
    """School ownership (Loại hình) -> ``Công lập``, ``Tư thục`` (Ngoài công lập, Tư nhân) or
    ``Dân lập``; blank -> NA; anything else is bad (NA; the caller writes ``OTHER``)."""
    u = _Uniques(s, _ownership_scalar)
    return u.series(0, "str"), u.bad


# ------------------------------------------------------------------ level

_LEVEL_LOOKUP = {word: level for level, words in vocab.LEVEL_WORDS.items() for word in words}
# Longest first: "trung hoc co so" before "th", for the greedy reading of "Tiểu học, THCS".
_LEVEL_TOKENS = sorted(_LEVEL_LOOKUP, key=lambda w: (-len(w), w))
_LEVEL_LEAD_RE = re.compile(r"^(?:(?:cap|bac|khoi|truong|lien cap|nhieu cap|gom)\s)+")


def _levels_of_key(key: str) -> tuple[str, ...] | None:
    """The levels a folded level text names (``"tieu hoc thcs"`` -> TH, THCS); ``()`` for a
    multi-level word without the levels (``"lien cap"``); None when it is not level text."""
    for candidate in (key, _LEVEL_LEAD_RE.sub("", key)):
        if candidate in _LEVEL_LOOKUP:
            return (_LEVEL_LOOKUP[candidate],)
    if key in vocab.MULTI_WORDS:
        return ()
    rest, found = _LEVEL_LEAD_RE.sub("", key), []
    while rest:
        if rest.startswith("va "):
            rest = rest[3:]
            continue
        for word in _LEVEL_TOKENS:
            if rest == word or rest.startswith(word + " "):
                found.append(_LEVEL_LOOKUP[word])
                rest = rest[len(word) :].lstrip()
                break
        else:
            return None
    return vocab.order_levels(found) if found else None


def _levels_scalar(value) -> tuple[str | None, bool]:
    key, bad = _folded(value)
    if key is None:
        return None, bad
    levels = _levels_of_key(key)
    if levels is None:
        return None, True
    if not levels:
        return vocab.MULTI_LEVEL, False
    return vocab.LEVELS_SEP.join(levels), False


def parse_levels(s) -> tuple[pd.Series, pd.Series]:
    """School level text -> the levels it names, joined by ``"; "`` in the order of
    ``vocab.LEVELS``: ``"TH"`` -> ``"Tiểu học"``, ``"TH&THCS"`` / ``"Tiểu học, THCS"`` ->
    ``"Tiểu học; THCS"``, ``"Trung tâm GDNN-GDTX"`` -> ``"GDTX"``, ``"PTTH"`` -> ``"THPT"``;
    ``"Liên cấp"`` / ``"Trường nhiều cấp học"`` (levels not named) -> ``vocab.MULTI_LEVEL``
    (the caller takes the levels from the school's name)."""
    u = _Uniques(s, _levels_scalar)
    return u.series(0, "str"), u.bad


def parse_level(s) -> tuple[pd.Series, pd.Series]:
    """School level -> one of ``vocab.LEVELS`` (Mầm non: MN, Nhà trẻ, Mẫu giáo; Tiểu học: TH,
    Cấp 1; THCS: Trung học cơ sở, Cấp 2; THPT: Trung học phổ thông, PTTH, Cấp 3; GDTX: Trung
    tâm GDNN-GDTX, Giáo dục thường xuyên), or ``vocab.MULTI_LEVEL`` for text naming several
    levels (``TH&THCS``) or none (``Liên cấp``): ``parse_levels`` gives which."""
    levels, bad = parse_levels(s)
    multi = levels.str.contains(vocab.LEVELS_SEP, regex=False).fillna(False).astype(bool)
    return levels.mask(multi.to_numpy(), vocab.MULTI_LEVEL), bad


# ------------------------------------------------------------------ codes

_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/\-]*", re.ASCII)


def _code_scalar(value) -> tuple[str | None, bool]:
    if type(value) is str:
        return _code_text(value)
    if is_missing(value):
        return None, False
    if isinstance(value, bool | np.bool_):
        return None, True
    if isinstance(value, int | np.integer):
        return str(int(value)), False
    if isinstance(value, float | np.floating):
        if not math.isfinite(value) or not float(value).is_integer():
            return None, True
        return str(int(value)), False
    if not isinstance(value, str):
        return None, True
    return _code_text(value)


@lru_cache(maxsize=1 << 17)
def _code_text(value: str) -> tuple[str | None, bool]:
    # Memoised: the same codes are read in the school list, in every staff file and again
    # when matching (tens of thousands of distinct codes, each several times).
    text = clean_text(value)
    if text is None:
        return None, False
    code = text.replace(" ", "").lstrip("'")
    if not code:
        return None, False
    if _CODE_RE.fullmatch(code):
        return code, False
    return None, True


def parse_code(s) -> tuple[pd.Series, pd.Series]:
    """School / person codes as text: 1020301.0 -> ``"1020301"``; ``" 01020301 "`` ->
    ``"01020301"`` (leading zeros of text kept, spaces and Excel's leading ``'`` removed).
    Anything but letters, digits and ``. _ / -`` (or a non-integer number) is bad."""
    u = _Uniques(s, _code_scalar)
    return u.series(0, "str"), u.bad


def pad_code(s, width: int):
    """Restore leading zeros that Excel dropped: all-digit codes shorter than ``width`` are
    zero-padded (``"1020301"`` -> ``"01020301"`` for width 8); other codes are left alone.
    Works on a Series or a single value."""
    if not isinstance(s, pd.Series):
        if isinstance(s, str) and _digits(s) and len(s) < width:
            return s.zfill(width)
        return s
    text = s.astype("str")
    digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    short = digits & (text.str.len() < width).fillna(False).astype(bool)
    if not short.any():  # the usual case: no zfill over every row for nothing
        return text
    return text.where(~short, text.str.zfill(width))


# ------------------------------------------------------------------ total rows

_TOTAL_HEADS = frozenset(_WORDS["total_rows"]["heads"])
_TOTAL_TAIL_WORDS = frozenset(_WORDS["total_rows"]["tail"])


def _total_scalar(value) -> bool:
    key = fold(value) if isinstance(value, str) else None
    if not key:
        return False
    words = key.split()
    return words[0] in _TOTAL_HEADS and all(w in _TOTAL_TAIL_WORDS for w in words[1:])


def is_total_label(s):
    """A row label that marks a total or subtotal row: "Tổng cộng", "Tổng", "Cộng",
    "TỔNG CỘNG", "Tổng số", "Cộng Mầm non", "Tổng cộng toàn quận:"... but not a header such
    as "Tổng số CBGVNV" nor "Cộng hòa xã hội chủ nghĩa Việt Nam". A Series gives a bool
    Series, a single value a bool."""
    if not isinstance(s, pd.Series | list | tuple | np.ndarray):
        return _total_scalar(s)
    return _Uniques(s, lambda v: (_total_scalar(v), False)).series(0, bool)
