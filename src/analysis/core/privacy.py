"""The pseudonymous person key, and the guard that keeps personal columns out of outputs.

A person is identified across files and periods by *Mã định danh* (``staff_id``). That value
never leaves the cleaning stage: it is replaced by ``person_key`` = keyed BLAKE2b(key,
normalised staff_id) with an 8-byte digest, as 16 hex characters. The key lives outside the
repository:

1. the environment variable ``HOCBASO_PSEUDONYM_KEY`` (hex, or any text used as UTF-8 bytes), else
2. the key file ``$XDG_CONFIG_HOME/hocbaso/pseudonym.key`` (default
   ``~/.config/hocbaso/pseudonym.key``), created on first use with 32 random bytes
   (stored as hex, mode 0600) and a logged notice asking the user to back it up.

Without the same key the keys of later periods cannot be joined to earlier ones, so the key
file must be backed up; its value is never logged nor written anywhere else.

Contact details typed into free text (``mask_contacts``)
--------------------------------------------------------
A status, position or provider cell may hold a name and a phone number typed by hand. Only
closed vocabularies leave the cleaning stage; the raw text of such a cell may appear only in
``quarantine.csv`` / ``quality.json``, masked:

- a *digit run* is 6 or more digits in a row, a single space, dot or dash between two digits
  counting as part of the run (``0912345678``, ``0912 345 678``, ``0912.345.678``,
  ``0912-345-678``). Its first two digits are kept and every other digit becomes ``*``:
  ``0912345678`` -> ``09********``, ``0912 345 678`` -> ``09** *** ***``. A date
  (``05/04/2024``, ``05-04-2024``, ``05.04.2024``, ``2024-04-05``) is no run;
- an e-mail address (``local@domain.tld``) becomes ``***@***``.

Codes of the school list are not personal: ``mask_contacts(text, keep=codes)`` leaves a run
that is exactly one of ``keep`` as it is (messages that name candidate schools by code).

What leaves ``data/processed`` (``public_quality``, ``public_quarantine``)
---------------------------------------------------------------------------
Masking hides digits and e-mails, not a name typed beside them. So the raw text of a free-text
cell stays in ``quality.json`` / ``quarantine.csv`` only: every view shown or written beyond
them (the notebooks' tables, the workbook's quality sheet, the manifest) goes through
``public_quality`` / ``public_quarantine``, which put :data:`HIDDEN` in its place:

- a warning or skipped sheet that quotes raw text lists the quoted texts under ``quoted``;
  the public copy hides each of them in its ``message`` / ``reason`` and drops ``quoted``;
- a quarantined row whose value holds letters (free text could be a name) shows :data:`HIDDEN`
  as its value and in its message; numbers, dates and codes stay readable, and so do the
  school names of :data:`SCHOOL_REASONS`, which the officer needs to mend the file.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from hashlib import blake2b
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.core.text import cell_text, fold

log = logging.getLogger(__name__)

KEY_ENV = "HOCBASO_PSEUDONYM_KEY"
KEY_FILE_NAME = "pseudonym.key"
KEY_LENGTH = 16  # hex characters kept of the HMAC digest

#: Canonical (and common raw) column names that hold personal data. None of them may appear
#: in a table written after cleaning. ``staff_id`` (Mã định danh) is personal too: only its
#: keyed hash ``person_key`` is written.
PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        "staff_id",
        "full_name",
        "name",
        "person_name",
        "birth_date",
        "date_of_birth",
        "dob",
        "national_id",
        "cccd",
        "id_number",
        "phone",
        "phone_number",
        "mobile",
        "email",
        "e_mail",
        "address",
    }
)

# Folded raw header fragments that betray a personal column that escaped renaming.
_PERSONAL_HEADER_RE = re.compile(
    r"(^|\b)(ho (va )?ten|ngay sinh|cccd|can cuoc|cmnd|so dinh danh ca nhan|dien thoai|"
    r"email|e mail|ma dinh danh|ma cb|ma can bo)(\b|$)"
)

_HEX_RE = re.compile(r"^(?:[0-9a-fA-F]{2})+$")


_EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A date (``05-04-2024``, ``2024-04-05``) is matched first and left alone; otherwise a run of
# digits joined by single spaces, dots or dashes.
_DIGIT_RUN_RE = re.compile(
    r"(?<![0-9])(?:(?P<date>[0-9]{1,2}([-./])[0-9]{1,2}\2[0-9]{2,4}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2})"
    r"|(?P<run>[0-9](?:[ .\-]?[0-9]){5,}))(?![0-9])"
)
MASKED_EMAIL = "***@***"


def _mask_run(run: str) -> str:
    kept = 0
    out = []
    for ch in run:
        if ch.isdigit():
            out.append(ch if kept < 2 else "*")
            kept += 1
        else:
            out.append(ch)
    return "".join(out)


def contains_contact(value) -> bool:
    """True when ``value`` (text) holds a digit run of 6 or more or an e-mail address."""
    if not isinstance(value, str):
        return False
    if "@" in value and _EMAIL_RE.search(value):
        return True
    return any(m.group("run") for m in _DIGIT_RUN_RE.finditer(value))


def mask_contacts(value, keep: frozenset[str] | set[str] = frozenset()):
    """``value`` with its e-mail addresses and digit runs masked (see the module's doc);
    a run equal to one of ``keep`` (school codes) stays. Non-text values are returned as they
    are."""
    if not isinstance(value, str):
        return value
    if "@" in value:
        value = _EMAIL_RE.sub(MASKED_EMAIL, value)

    def run(m: re.Match) -> str:
        text = m.group(0)
        return text if m.group("date") or text in keep else _mask_run(text)

    return _DIGIT_RUN_RE.sub(run, value)


def mask_contacts_series(s: pd.Series, keep: frozenset[str] | set[str] = frozenset()) -> pd.Series:
    """``mask_contacts`` per distinct value of a text Series (missing stays missing)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if not len(uniques):
        return s
    masked = np.array([*(mask_contacts(v, keep) for v in uniques), None], dtype=object)
    if all(a is b or a == b for a, b in zip(masked[:-1], uniques, strict=True)):
        return s
    return pd.Series(pd.array(masked[codes], dtype="str"), index=s.index, name=s.name)


class PrivacyError(RuntimeError):
    """A personal column is about to be written: a bug in the pipeline, never ignored."""


def key_file_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "hocbaso" / KEY_FILE_NAME


def _decode_key(text: str) -> bytes:
    text = text.strip()
    if _HEX_RE.match(text) and len(text) >= 32:
        return bytes.fromhex(text)
    return text.encode("utf-8")


def load_key() -> bytes:
    """The pseudonymisation key: env var, else the key file (created on first use)."""
    env = os.environ.get(KEY_ENV)
    if env is not None and env.strip():
        return _decode_key(env)
    path = key_file_path()
    if path.is_file():
        key = _decode_key(path.read_text(encoding="utf-8"))
        if not key:
            raise PrivacyError(
                f"File khoá bí danh {path} rỗng. Khôi phục file từ bản sao lưu, hoặc đặt biến "
                f"môi trường {KEY_ENV}."
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # Written under a temporary name and linked into place: a process that loses the race
    # against another one creating the key at the same time reads the winner's key, never a
    # half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key.hex() + "\n")
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return load_key()
    finally:
        tmp.unlink(missing_ok=True)
    log.warning(
        "Đã tạo khoá bí danh mới tại %s. Hãy sao lưu file này ở nơi an toàn: mất khoá thì mã "
        "bí danh của các kỳ sau sẽ không nối được với các kỳ trước.",
        path,
    )
    return key


def normalise_staff_id(values: pd.Series) -> pd.Series:
    """NFKC (full-width digits are digits), no white space, no leading ``'`` (Excel's text
    prefix, which ``parse.parse_code`` drops from school codes too), upper case; ``"12345.0"``
    (a float read from Excel) -> ``"12345"``.

    Vectorised (pandas string methods); missing and empty values become NA.
    """
    s = pd.Series(values, copy=False)
    if s.dtype == object and not pd.api.types.infer_dtype(s, skipna=True) == "string":
        # Excel cells: numbers become their digits, per unique value
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        as_text = np.array([cell_text(v) for v in uniques] + [None], dtype=object)
        text = pd.Series(as_text[codes], index=s.index).astype("str")
    else:
        text = s.astype("str")
    # Each repair only where it applies: most ids are plain ASCII digits already.
    text = _where_needed(text, ~text.str.isascii(), lambda t: t.str.normalize("NFKC"))
    text = _where_needed(
        text,
        text.str.contains(_SPACES, regex=True),
        lambda t: t.str.replace(_SPACES, "", regex=True),
    )
    text = _where_needed(text, text.str.startswith("'"), lambda t: t.str.lstrip("'"))
    text = text.str.upper()
    # "12345.0" (a float read from Excel) -> "12345"
    text = _where_needed(
        text, text.str.fullmatch(r"\d+\.0+"), lambda t: t.str.replace(r"\.0+$", "", regex=True)
    )
    return text.where(text != "").astype("str")


# The characters themselves, not ``\\u`` escapes: pandas hands such a pattern to pyarrow's RE2
# (vectorised), while an escape sends it to Python's ``re``, one row at a time.
_SPACES = "[ \t\n\r\f\v\u00a0\u200b\u200c\u200d\ufeff]+"


def _where_needed(text: pd.Series, mask: pd.Series, repair) -> pd.Series:
    """``repair`` applied to the rows of ``mask`` only (vectorised on that subset)."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return text
    return text.mask(mask, repair(text[mask]))


def person_key(staff_ids: pd.Series, key: bytes, *, normalised: bool = False) -> pd.Series:
    """Keyed BLAKE2b (8-byte digest) of the normalised staff_id, as 16 hex characters.

    ``normalised=True``: the ids already went through :func:`normalise_staff_id` (the cleaning
    stage normalises and pads them first), so they are hashed as they are.
    """
    if not isinstance(key, bytes | bytearray) or not key:
        raise PrivacyError("Khoá bí danh không hợp lệ (cần một dãy byte khác rỗng).")
    norm = staff_ids.astype("str") if normalised else normalise_staff_id(staff_ids)
    # Keyed BLAKE2b: a MAC by design (RFC 7693), and about twice as fast as HMAC-SHA256.
    # Ids are nearly all distinct, so they are hashed row by row: finding the distinct ones
    # (a hash table of 1,66 million strings) would cost more than it saves. The key block is
    # compressed once; every id continues a copy of that state, which is what
    # ``blake2b(id, key=key)`` computes. The UTF-8 bytes come straight from pyarrow.
    size = KEY_LENGTH // 2
    keyed = blake2b(key=bytes(key)[:64], digest_size=size)  # keys of up to 64 bytes
    ids = pa.array(norm.array).cast(pa.large_binary()).to_pylist()
    digests = bytearray()
    blank = bytes(size)
    copy = keyed.copy
    for value in ids:
        if value is None:
            digests += blank  # a placeholder under a null slot
            continue
        h = copy()
        h.update(value)
        digests += h.digest()
    # Hex in one go, cut into fixed 16-character strings by offsets (no Python str per id).
    n = len(ids)
    offsets = np.arange(0, KEY_LENGTH * (n + 1), KEY_LENGTH, dtype=np.int64)
    missing = norm.isna().to_numpy(dtype=bool)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    hexed = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(digests.hex().encode("ascii")), validity
    )
    return pd.Series(pd.array(hexed, dtype="str"), index=norm.index, name="person_key")


_HEX_VALUE = np.full(256, 255, dtype=np.uint8)  # byte -> hex digit value (255: not a digit)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def has_repeated_keys(keys: pd.Series) -> bool:
    """``keys.duplicated().any()`` for a column of person keys.

    Keys as :func:`person_key` writes them (16 lower-case hex digits, none missing) are read
    as the 64-bit numbers they spell (one number per key and back), and a sort finds a repeat:
    several times faster than hashing 1,66 million strings. Other columns take pandas' way."""
    numbers = _keys_as_numbers(keys)
    if numbers is None:
        return bool(keys.duplicated().any())
    numbers.sort()
    return bool((numbers[1:] == numbers[:-1]).any())


def _keys_as_numbers(keys: pd.Series) -> np.ndarray | None:
    """The keys as uint64, or None when a key is missing or not 16 lower-case hex digits."""
    if not isinstance(keys.dtype, pd.StringDtype) or bool(keys.isna().any()):
        return None
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    arr = pa.array(keys.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    lengths = pc.min_max(pc.binary_length(arr))
    if lengths["min"].as_py() != KEY_LENGTH or lengths["max"].as_py() != KEY_LENGTH:
        return None
    # Every key is 16 bytes long, so the keys lie back to back in the data buffer.
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    digits = _HEX_VALUE[data].reshape(n, KEY_LENGTH)
    if (digits == 255).any():
        return None
    packed = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2])  # 8 bytes a key
    return packed.view(">u8").ravel().astype(np.uint64)


def personal_columns(columns) -> list[str]:
    """The column names among ``columns`` that are (or look like) personal fields."""
    found = []
    for col in columns:
        name = str(col)
        if name.lower() in PERSONAL_FIELDS or _PERSONAL_HEADER_RE.search(fold(name) or ""):
            found.append(name)
    return found


def assert_no_personal(df: pd.DataFrame, what: str = "bảng") -> None:
    """Raise PrivacyError if ``df`` has a personal column (checked by column name)."""
    found = personal_columns(df.columns)
    if found:
        raise PrivacyError(
            f"Lỗi chương trình: {what} sắp ghi ra còn cột dữ liệu cá nhân {sorted(found)}. "
            "Không ghi file nào; hãy báo cho người phát triển."
        )


# --------------------------------------------------------------------------------------------
# Views that leave data/processed
# --------------------------------------------------------------------------------------------

#: What a view beyond quality.json / quarantine.csv shows instead of a free text.
HIDDEN = "[…]"
#: Quarantine reasons whose value is a school's name or code, which the officer needs to see to
#: mend the row (a name typed where a school's name belongs, masked).
SCHOOL_REASONS: frozenset[str] = frozenset(
    {"unmatched_school", "fuzzy_school", "ambiguous_school", "missing_school", "duplicate_school"}
)


def _has_letter(value) -> bool:
    return isinstance(value, str) and any(ch.isalpha() for ch in value)


def hide_quoted(text, quoted) -> str:
    """``text`` with each non-empty string of ``quoted`` replaced by :data:`HIDDEN` (longest
    first, so a quoted text inside another is hidden whole)."""
    if not isinstance(text, str):
        return text
    for q in sorted({q for q in quoted if isinstance(q, str) and q}, key=len, reverse=True):
        text = text.replace(q, HIDDEN)
    return text


def _public_record(rec: dict, field: str) -> dict:
    out = {k: v for k, v in rec.items() if k != "quoted"}
    if rec.get("quoted"):
        out[field] = hide_quoted(rec.get(field), rec["quoted"])
    return out


def public_quality(quality: dict) -> dict:
    """A copy of ``quality.json``'s content fit to leave ``data/processed`` (see the module's
    doc): quoted raw texts of warnings and skipped sheets hidden."""
    out = dict(quality)
    if "warnings" in out:
        out["warnings"] = [_public_record(w, "message") for w in out["warnings"]]
    if "skipped_sheets" in out:
        out["skipped_sheets"] = [_public_record(s, "reason") for s in out["skipped_sheets"]]
    return out


def public_quarantine(q: pd.DataFrame) -> pd.DataFrame:
    """``quarantine.csv``'s rows fit to leave ``data/processed``: a value holding letters
    (free text could be a name; digits and e-mails are masked already) is hidden, in ``value``
    and in ``message``, except the school names of :data:`SCHOOL_REASONS`. Numbers, dates and
    codes stay readable."""
    if q.empty:
        return q
    free = q["value"].map(_has_letter).fillna(False).to_numpy(dtype=bool)
    free = free & ~q["reason"].isin(SCHOOL_REASONS).to_numpy()
    if not free.any():
        return q
    out = q.copy()
    idx = out.index[free]
    pairs = zip(out.loc[idx, "message"], out.loc[idx, "value"], strict=True)
    out.loc[idx, "message"] = [hide_quoted(m, [v]) for m, v in pairs]
    out.loc[idx, "value"] = HIDDEN
    return out
