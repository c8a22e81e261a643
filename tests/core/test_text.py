"""Text normalisation: clean_text, fold, tone placement, school keys."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.text import (
    clean_text,
    clean_text_series,
    fold,
    fold_series,
    level_hint,
    level_hint_series,
    map_unique,
    nfc,
    school_key,
    school_key_ascii,
    school_key_series,
    stated_levels,
    stated_levels_series,
    strip_diacritics,
    unify_tone_placement,
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# ------------------------------------------------------------------ clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Trường  Tiểu   học ", "Trường Tiểu học"),
        ("Tên\u00a0trường", "Tên trường"),  # NBSP
        ("Mã\u200btrường\ufeff", "Mãtrường"),  # zero-width removed, not spaced
        ("\ufeffMã trường", "Mã trường"),  # BOM left by a CSV export
        ("Số\nlớp", "Số lớp"),
        ("Số\r\nhọc\tsinh", "Số học sinh"),
        ("Số_x000D_lớp", "Số lớp"),  # Excel's escaped line break
        ("A\u2009B\u202fC\u3000D", "A B C D"),
        (nfd("Đức Giang"), "Đức Giang"),
        ("Tr\xadêng", "Tr\xadêng"),  # soft hyphen kept: TCVN3 'ư'
        (12.0, "12"),
        (12.5, "12.5"),
        (7, "7"),
    ],
)
def test_clean_text(raw, expected):
    out = clean_text(raw)
    assert out == expected
    assert unicodedata.is_normalized("NFC", out)


@pytest.mark.parametrize("empty", ["", "   ", "\u00a0", "\u200b", "\n\t", None, np.nan, pd.NA])
def test_clean_text_empty_is_none(empty):
    assert clean_text(empty) is None
    assert fold(empty) is None


def test_nfc():
    assert nfc(nfd("Thụy")) == "Thụy"
    assert len(nfc(nfd("Thụy"))) == 4
    assert nfc(None) is None
    assert nfc(5) == 5


# ------------------------------------------------------------------ fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Số\nlớp", "so lop"),
        ("Tỷ lệ (%)", "ty le"),
        ("Mã định danh", "ma dinh danh"),
        ("MÃ ĐỊNH DANH", "ma dinh danh"),
        ("Số HS đã xác thực (CSDL dân cư)", "so hs da xac thuc csdl dan cu"),
        ("Tốc độ đường truyền (Mbps):", "toc do duong truyen mbps"),
        ("Họ  và\u00a0tên", "ho va ten"),
        ("Đã có CKS", "da co cks"),
        ("STT.", "stt"),
        ("Ngày cấp", "ngay cap"),
        ("Trạng thái CB", "trang thai cb"),
        ("(%)", None),
    ],
)
def test_fold(raw, expected):
    assert fold(raw) == expected
    assert fold(nfd(raw)) == expected


def test_strip_diacritics():
    assert strip_diacritics("Trường Đức ượ ỷ") == "Truong Duc uo y"


# ------------------------------------------------------------------ tone placement


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("Hoà Bình", "Hòa Bình"),
        ("HOÀ", "HÒA"),
        ("thuỷ", "thủy"),
        ("Gia Thuỵ", "Gia Thụy"),
        ("khoẻ", "khỏe"),
        ("uý", "úy"),
        ("tuỳ ý", "tùy ý"),
        ("Thuý Hằng", "Thúy Hằng"),
        ("loà xoà", "lòa xòa"),
        ("hoạ", "họa"),
    ],
)
def test_unify_tone_placement_old_to_new(old, new):
    assert unify_tone_placement(old) == new
    assert unify_tone_placement(new) == new
    assert unify_tone_placement(nfd(old)) == new


@pytest.mark.parametrize(
    "word", ["quý", "quỳnh", "hoàng", "thuyền", "khuya", "ngoẻo", "hoạt", "xoắn", "Quý"]
)
def test_unify_tone_placement_leaves_others(word):
    assert unify_tone_placement(word) == word


def test_unify_tone_placement_missing():
    assert unify_tone_placement(None) is None


# ------------------------------------------------------------------ school keys

AI_MO_A_FORMS = [
    "Trường Tiểu học Ái Mộ A",
    "TH Ái Mộ A",
    "Tiểu học Ái Mộ A",
    "TRƯỜNG TH ÁI MỘ A",
    "T.H Ái Mộ A",
    "Trường TH Ái Mộ A ",
    "trường tiểu học  ái\u00a0mộ a",
    nfd("Trường Tiểu học Ái Mộ A"),
]


@pytest.mark.parametrize("form", AI_MO_A_FORMS)
def test_school_key_forms(form):
    assert school_key(form) == "ái mộ a"
    assert school_key_ascii(form) == "ai mo a"
    assert level_hint(form) == "Tiểu học"


@pytest.mark.parametrize(
    ("name", "key", "level"),
    [
        ("Trường Mầm non Hoa Sữa", "hoa sữa", "Mầm non"),
        ("Trường MN Hoa Sữa", "hoa sữa", "Mầm non"),
        ("MN Hoa Sữa", "hoa sữa", "Mầm non"),
        ("Mẫu giáo Hoa Mai", "hoa mai", "Mầm non"),
        ("Trường Mẫu giáo Hoa Mai", "hoa mai", "Mầm non"),
        ("Nhà trẻ Hoa Hồng", "hoa hồng", "Mầm non"),
        ("Trường THCS Gia Thụy", "gia thụy", "THCS"),
        ("Trường Trung học cơ sở Gia Thuỵ", "gia thụy", "THCS"),
        ("THCS Thượng Thanh", "thượng thanh", "THCS"),
        ("Trường TH&THCS Đoàn Kết", "đoàn kết", None),
        ("Trường Tiểu học và THCS Đoàn Kết", "đoàn kết", None),
        ("Trường Tiểu học Thạch Bàn", "thạch bàn", "Tiểu học"),  # 'th' is not a prefix here
        ("Trường Tiểu học Số 1 Hoà Bình", "số 1 hòa bình", "Tiểu học"),
        ("Trường Mầm non tư thục Hoa Sen", "tư thục hoa sen", "Mầm non"),
        ("ai mo", "ai mo", None),
        ("Ái Mộ", "ái mộ", None),
    ],
)
def test_school_key_and_level(name, key, level):
    assert school_key(name) == key
    assert level_hint(name) == level


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Trường Tiểu học Thạch Bàn A", "Trường Tiểu học Thạch Bàn B"),
        ("TH Ái Mộ A", "TH Ái Mộ B"),
        ("Trường Mầm non Ái Mộ", "Trường Mầm non Ái Mộ A"),
        ("THCS Ái Mộ", "THCS Ai Mo"),
    ],
)
def test_near_twins_get_different_keys(a, b):
    assert school_key(a) != school_key(b)


def test_ascii_key_is_weaker():
    assert school_key("THCS Ái Mộ") != school_key("ai mo")
    assert school_key_ascii("THCS Ái Mộ") == school_key_ascii("ai mo") == "ai mo"


@pytest.mark.parametrize(
    ("name", "key", "levels"),
    [
        ("Trường Tiểu học Sao Mai", "sao mai", ("Tiểu học",)),
        ("TH Sao Mai", "sao mai", ("Tiểu học",)),
        ("Trường MN Sao Mai", "sao mai", ("Mầm non",)),
        ("Nhà trẻ Sao Mai", "sao mai", ("Mầm non",)),
        ("THCS Sao Mai", "sao mai", ("THCS",)),
        ("Trường THPT Sao Mai", "sao mai", ("THPT",)),
        ("Trường Trung học phổ thông Sao Mai", "sao mai", ("THPT",)),
        ("Trung tâm GDNN-GDTX Sao Mai", "sao mai", ("GDTX",)),
        ("Trung tâm Giáo dục thường xuyên Sao Mai", "sao mai", ("GDTX",)),
        ("Trường TH&THCS Sao Mai", "sao mai", ("Tiểu học", "THCS")),
        ("Trường THCS&THPT Sao Mai", "sao mai", ("THCS", "THPT")),
        ("Trường Liên cấp Sao Mai", "sao mai", None),
        ("Trường Sao Mai", "sao mai", None),
        ("Sao Mai", "sao mai", None),
    ],
)
def test_stated_levels(name, key, levels):
    assert school_key(name) == key
    assert stated_levels(name) == levels
    assert level_hint(name) == (levels[0] if levels and len(levels) == 1 else None)
    got = stated_levels_series(pd.Series([name])).iloc[0]
    assert (None if pd.isna(got) else got) == ("|".join(levels) if levels else None)


def test_school_key_of_a_bare_type_keeps_it():
    assert school_key("Trường Tiểu học") == "trường tiểu học"
    assert school_key(None) is None
    assert school_key("   ") is None


# ------------------------------------------------------------------ series versions


def test_series_versions_work_per_unique_value_and_keep_index():
    s = pd.Series(
        ["Số\nlớp", None, "Số\nlớp", "Tỷ lệ (%)", nfd("Số lớp")],
        index=[5, 6, 7, 8, 9],
        name="header",
        dtype="str",
    )
    folded = fold_series(s)
    assert list(folded.index) == [5, 6, 7, 8, 9]
    assert folded.name == "header"
    assert folded.dtype == "str"
    assert folded[5] == folded[7] == folded[9] == "so lop"
    assert pd.isna(folded[6])
    assert folded[8] == "ty le"
    cleaned = clean_text_series(s)
    assert cleaned[5] == "Số lớp" and cleaned[9] == "Số lớp"


def test_map_unique_calls_once_per_distinct_value():
    calls = []

    def spy(value):
        calls.append(value)
        return str(value).upper()

    s = pd.Series(["a", "b", "a", None, "b", "a"] * 1000)
    out = map_unique(s, spy)
    assert sorted(calls) == ["a", "b"]
    assert out.iloc[:6].tolist()[:3] == ["A", "B", "A"]
    assert out.isna().sum() == 1000


def test_school_key_series_and_level_hint_series():
    s = pd.Series(["TH Ái Mộ A", "Trường Tiểu học Ái Mộ A", "MN Gia Thuỵ", None, 101])
    keys = school_key_series(s)
    assert keys.tolist()[:3] == ["ái mộ a", "ái mộ a", "gia thụy"]
    assert pd.isna(keys[3])
    assert keys[4] == "101"
    levels = level_hint_series(s)
    assert levels.tolist()[:3] == ["Tiểu học", "Tiểu học", "Mầm non"]


def test_clean_text_series_on_real_csv(tmp_path):
    """Strings read back from a UTF-8-with-BOM CSV carry NBSP, zero-width and NFD text."""
    path = tmp_path / "truong.csv"
    rows = ["Tên\u00a0trường", nfd("Trường Tiểu học Đức Giang"), "THCS\u200b Ái  Mộ"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    s = pd.read_csv(path, header=None, dtype=str)[0]
    assert clean_text_series(s).tolist() == [
        "Tên trường",
        "Trường Tiểu học Đức Giang",
        "THCS Ái Mộ",
    ]
    assert school_key_series(s).tolist()[1:] == ["đức giang", "ái mộ"]


# ------------------------------------------------------------------ properties

any_text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf"),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_property_clean_text_idempotent_and_nfc(text):
    once = clean_text(text)
    assert clean_text(once) == once
    if once is not None:
        assert once == once.strip() and "  " not in once and "\n" not in once
        assert unicodedata.is_normalized("NFC", once)
    assert clean_text(unicodedata.normalize("NFD", text)) == clean_text(
        unicodedata.normalize("NFC", text)
    )


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_property_fold_idempotent(text):
    once = fold(text)
    assert fold(once) == once
    if once is not None:
        assert once == once.lower()
        assert all(ch.isalnum() or ch == " " for ch in once)
    assert fold(unicodedata.normalize("NFD", text)) == fold(unicodedata.normalize("NFC", text))


VIET = "aăâeêioôơuưyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵđbchkmnt "


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=VIET + VIET.upper(), max_size=30))
def test_property_school_key_nfc_nfd_and_tone_placement(text):
    key = school_key(text)
    assert school_key(unicodedata.normalize("NFD", text)) == key
    assert unify_tone_placement(unify_tone_placement(text)) == unify_tone_placement(text)
    if key is not None:
        assert key == key.lower() == key.strip()
        assert all(ch.isalnum() or ch == " " for ch in key)
        assert unicodedata.is_normalized("NFC", key)
        assert unify_tone_placement(key) == key
