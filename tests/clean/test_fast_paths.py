"""The fast paths of the cleaning stage give the results of the plain ways they replace.

Each test states the plain way (as the code read before it was made faster) and checks that the
fast one agrees, on generated and on tricky values."""

from __future__ import annotations

import re
import unicodedata
from hashlib import blake2b

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import ingest
from analysis.clean import checks
from analysis.core import parse, privacy, text
from analysis.ingest import csv as ingest_csv
from analysis.ingest import rows as ingest_rows
from analysis.ingest import table as ingest_table

# Characters that exercise the text repairs: tones (precomposed and combining), the o/u + vowel
# pairs of the old tone placement, white space of all kinds, Excel escapes, controls.
_PIECES = list("aAeEoOuUyYqQ th.&-_x0dD1 ") + [
    *"àáảãạÀÁẢÃẠèéẻẽẹÈÉýỳỷỹỵÝỲỴôơưđĐ",
    *"\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b\u20d0",
    *"\u00a0\u200b\u2028\ufeff\u00ad\t\n\x7f\x0b",
    "  ",
    "_x000D_",
    "_x000a_",
    "_x\u200b000d_",
    "Trường ",
    "Tiểu học ",
    "THCS ",
    "MN ",
    "T.H ",
    "TH&THCS ",
    "hoà",
    "thuỷ",
    "khoẻ",
    "quý",
    "uý",
    "HOÀ",
]
_texts = st.lists(st.sampled_from(_PIECES), max_size=10).map("".join)


# ------------------------------------------------------------------ text


def _clean_text_plain(value):
    t = text._EXCEL_ESCAPE_RE.sub(" ", text.cell_text(value))
    t = unicodedata.normalize("NFC", t.translate(text._TRANSLATE))
    return text._SPACE_RUN_RE.sub(" ", t).strip() or None


def _unify_plain(value: str) -> str:
    t = unicodedata.normalize("NFD", value)
    t = text._OA_OE_RE.sub(r"\1\3\2", t)
    t = text._UY_RE.sub(r"\1\3\2", t)
    return unicodedata.normalize("NFC", t)


def _prefix_plain(rest: str):
    for p, lvl in text._LEVEL_PREFIXES:
        m = re.match(r"^" + re.escape(p).replace(r"\ ", " ") + r"(?: |$)", rest)
        if m:
            return m.end(), lvl
    return None


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_text_fast_paths_agree_with_plain_ways(value):
    assert text.clean_text(value) == _clean_text_plain(value)
    assert text.unify_tone_placement(value) == _unify_plain(value)
    folded = text._fold_keep_positions(value.lower())
    m = text._PREFIX_RE.match(folded)
    got = None if m is None else (m.end(), text._PREFIX_LEVELS[m.lastindex - 1])
    assert got == _prefix_plain(folded)


def test_text_fast_paths_on_other_values():
    for value in [None, float("nan"), pd.NA, 12.0, 3, True, "", "  ", "\u00a0x\u200b"]:
        assert text.clean_text(value) == _clean_text_plain(value)
    assert text._PRINTABLE_UNTOUCHED


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), _texts), max_size=30))
def test_school_keys_frame_is_the_three_series(values):
    s = pd.Series(values, dtype="str")
    frame = text.school_keys_frame(s)
    for col, plain in (
        ("key", text.school_key_series),
        ("ascii", text.school_key_ascii_series),
        ("hint", text.level_hint_series),
    ):
        pd.testing.assert_series_equal(frame[col], plain(s), check_names=False)


def test_map_unique_iterates_text_values_as_str():
    s = pd.Series(["a", None, "b", "a"], dtype="str")
    seen = []
    text.map_unique(s, lambda v: seen.append(type(v)) or v)
    assert seen == [str, str]


# ------------------------------------------------------------------ privacy


def _person_key_plain(ids: pd.Series, key: bytes) -> list:
    key = bytes(key)[:64]
    return [
        None if pd.isna(v) else blake2b(v.encode("utf-8"), key=key, digest_size=8).hexdigest()
        for v in privacy.normalise_staff_id(ids)
    ]


_ids = st.lists(
    st.one_of(st.none(), st.text(alphabet="0123456789 .aBđ\u00a0\u200b", max_size=12)),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_ids, st.sampled_from([b"k", b"k" * 32, bytes(range(70))]))
def test_person_key_is_the_keyed_hash_of_each_id(ids, key):
    got = privacy.person_key(pd.Series(ids, dtype=object), key)
    assert got.dtype == "str" and got.name == "person_key"
    assert [None if pd.isna(v) else v for v in got] == _person_key_plain(
        pd.Series(ids, dtype=object), key
    )


def test_normalise_staff_id_spaces_pattern_runs_in_pyarrow():
    # A pattern with \u escapes would be run by Python's re, one row at a time.
    assert "\\u" not in privacy._SPACES
    ids = pd.Series(["01 23\u00a0\u200b", "\ufeff7.0", "x\t\ny"], dtype="str")
    assert privacy.normalise_staff_id(ids).tolist() == ["0123", "7", "XY"]


_keys = st.lists(
    st.one_of(
        st.integers(0, 2**64 - 1).map(lambda i: f"{i:016x}"),
        st.integers(0, 3).map(lambda i: f"{i:016x}"),  # repeats
        st.sampled_from(["k1", "ABCDEF0123456789", "0123456789abcdeg", None]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(_keys)
def test_has_repeated_keys_is_duplicated_any(keys):
    for s in (pd.Series(keys, dtype="str"), pd.Series(keys, dtype=object)):
        assert privacy.has_repeated_keys(s) == bool(s.duplicated().any())
    if len(keys) > 2:  # several pyarrow chunks, and a slice
        s = pd.concat([pd.Series(keys[:2], dtype="str"), pd.Series(keys[2:], dtype="str")])
        assert privacy.has_repeated_keys(s) == bool(s.duplicated().any())
        assert privacy.has_repeated_keys(s.iloc[1:]) == bool(s.iloc[1:].duplicated().any())


def test_keys_as_numbers_spell_the_keys():
    s = pd.Series([f"{i:016x}" for i in (5, 2**64 - 1, 0)], dtype="str")
    assert privacy._keys_as_numbers(s).tolist() == [5, 2**64 - 1, 0]


# ------------------------------------------------------------------ parse


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _texts, st.sampled_from(["0102", " 0102 ", "'7", "1.5"]))))
def test_parse_code_memo_and_pad_code(values):
    s = pd.Series(values, dtype=object)
    parse._code_text.cache_clear()
    first = parse.parse_code(s)
    again = parse.parse_code(s)  # from the memo
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_series_equal(a, b)
    code = first[0]
    plain = code.astype("str")
    digits = plain.str.fullmatch(r"\d+").fillna(False).astype(bool)
    short = digits & (plain.str.len() < 6).fillna(False).astype(bool)
    pd.testing.assert_series_equal(parse.pad_code(code, 6), plain.where(~short, plain.str.zfill(6)))


# ------------------------------------------------------------------ ingest


def test_is_utf8_is_a_strict_decode():
    samples = [b"", b"abc", "Trường".encode(), b"\xc3", b"\x80", b"\xff", b"\xc0\xaf"]
    samples += [b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xf4\x8f\xbf\xbf"]
    samples += [b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xef\xbf\xbf", b"a\x00b"]
    samples += [bytes([a, b]) for a in range(0xC0, 0x100, 3) for b in range(0x70, 0xD0, 5)]
    for b in samples:
        try:
            b.decode("utf-8")
            ok = True
        except UnicodeDecodeError:
            ok = False
        assert ingest_csv._is_utf8(b) == ok, b


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_is_utf8_on_any_bytes(raw):
    try:
        raw.decode("utf-8")
        ok = True
    except UnicodeDecodeError:
        ok = False
    assert ingest_csv._is_utf8(raw) == ok


_labelish = st.lists(
    st.sampled_from(["Tổng", "cộng", "NG", "nG", "ng", "_x000D_", "1", "d", "Ñ", " ", "ŋ"]),
    max_size=6,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _labelish, _texts), max_size=20))
def test_total_prefilters_agree_with_plain_ways(values):
    s = pd.Series(values, dtype="str")
    ng = s.str.contains("ng", case=False, regex=False).fillna(False).to_numpy(dtype=bool)
    assert (ingest_rows._holds_ng(s) == ng).all()
    t = s.str.replace(ingest_rows._EXCEL_ESCAPE, " ", regex=True)
    start = t.str.contains(ingest_rows._TOTAL_START, regex=True).fillna(False)
    other = t.str.contains(ingest_rows._NOT_IN_TOTAL, regex=True).fillna(True)
    assert (ingest_rows._may_be_total(s) == (start & ~other).to_numpy(dtype=bool)).all()


def test_take_rows_is_a_boolean_selection():
    frame = pd.DataFrame({"a": range(6)}, index=pd.RangeIndex(1, 7, name="source_row"))
    for mask in ([0, 1, 1, 1, 0, 0], [1, 0, 1, 0, 0, 1], [0] * 6, [1] * 6):
        m = np.array(mask, dtype=bool)
        pd.testing.assert_frame_equal(ingest_table._take_rows(frame, m), frame[m])


_STAFF_HEADER = (
    "Mã định danh,Họ và tên,Số điện thoại,Chức vụ,Mã trường,Tên trường,Chữ ký số,Ghi chú\n"
)


def _staff_csv(path, n):
    lines = ["DANH SÁCH CÁN BỘ", _STAFF_HEADER.rstrip("\n"), "(1),(2),(3),(4),(5),(6),(7),(8)"]
    for i in range(n):
        name = ["Trần Hồng Giang", "Nguyễn Thị An", "Tổng Văn Cộng", "Cộng"][i % 4]
        school = ["TH Ái Mộ A", "Tr\u01b0\u1eddng  THCS Ngọc Lâm", "MN Hoa Sen\u00a0"][i % 3]
        note = f"ghi chú {i}" if i % 5 else ""
        lines.append(f"{1000 + i},{name},09{i:08d},Giáo viên,0102,{school},Đã cấp,{note}")
    lines.append(",,,,,,,")
    lines.append("Tổng cộng,,,,,,,")
    lines.append("Ngày 19 tháng 4 năm 2024,,,,,,,")
    path.write_text("\n".join(lines) + "\n", "utf-8")


@pytest.mark.parametrize("n", [5, 600])
def test_columns_read_in_place_give_the_same_table(tmp_path, monkeypatch, n):
    """A column is either factorised or read in place (one slot per row) after a guess from
    its first rows; the table read is the same either way."""
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    path = folder / "cbgvnv.csv"
    _staff_csv(path, n)
    tables = {}
    for guess in (True, False):
        ingest.clear_cache()
        monkeypatch.setattr(ingest_rows, "_nearly_distinct", lambda col, g=guess: g)
        (tables[guess],) = ingest.read_file(path, tmp_path)
    ingest.clear_cache()
    a, b = tables[True], tables[False]
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.totals, b.totals)
    assert a.row_classes == b.row_classes and a.repairs == b.repairs
    # "Cộng" as a name is a total label (first text cell), as is the last row but one.
    assert a.row_classes["total"] == n // 4 + 1 and a.row_classes["footer"] == 1
    assert a.repairs["whitespace"] > 0


# ------------------------------------------------------------------ clean helpers


def test_type_mask_and_level_of_agree_with_plain_ways():
    import datetime

    s = pd.Series(["x", None, 1.0, 2, True, datetime.date(2024, 1, 1), "x"], dtype=object)
    for pred in (lambda v: isinstance(v, str), lambda v: isinstance(v, int | float)):
        plain = text.map_unique(s, pred, dtype=None).astype("boolean").fillna(False).astype(bool)
        pd.testing.assert_series_equal(checks._type_mask(s, pred), plain)
    schools = pd.DataFrame({"school_code": ["a", "b"], "level": ["Mầm non", "THCS"]}, dtype="str")
    codes = pd.Series(["a", None, "b", "z", "a"], dtype="str", name="c")
    plain = codes.map(pd.Series(schools["level"].to_numpy(), index=schools["school_code"]))
    pd.testing.assert_series_equal(checks._level_of(codes, schools), plain)
    missing = checks._missing_text(pd.RangeIndex(3))
    pd.testing.assert_series_equal(missing, pd.Series(None, index=pd.RangeIndex(3), dtype="str"))
