"""TCVN3 / VNI-Windows tables, detection and repair."""

from __future__ import annotations

import gzip
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.legacy import (
    decode_tcvn3,
    decode_vni,
    detect_legacy,
    detect_legacy_columns,
    encode_tcvn3,
    encode_vni,
    repair_legacy,
    vietnamese_letters,
)

LETTERS = vietnamese_letters()
LOWER = [ch for ch in LETTERS if ch.islower()]
UPPER = [ch for ch in LETTERS if ch.isupper()]


def test_letter_inventory():
    assert len(LETTERS) == 134
    assert len(set(LETTERS)) == 134
    assert len(LOWER) == len(UPPER) == 67
    assert all(unicodedata.is_normalized("NFC", ch) and len(ch) == 1 for ch in LETTERS)
    assert "đ" in LOWER and "Đ" in UPPER and "ự" in LOWER and "Ỵ" in UPPER


# ------------------------------------------------------------------ character round trips


@pytest.mark.parametrize("letter", LETTERS)
def test_tcvn3_letter_round_trip(letter):
    encoded = encode_tcvn3(letter)
    assert encoded != letter or letter == "ý"  # 0xFD is 'ý' in both
    assert all(0x20 < ord(ch) <= 0xFF for ch in encoded)  # cp1252-representable bytes
    encoded.encode("cp1252")
    assert decode_tcvn3(encoded) == letter
    assert decode_tcvn3(encoded, smart_case=False) == letter
    # Inside a word, in both cases of the surrounding letters' ordinary use.
    word = "x" + letter + "n"
    assert decode_tcvn3(encode_tcvn3(word)) == word


@pytest.mark.parametrize("letter", LETTERS)
def test_vni_letter_round_trip(letter):
    encoded = encode_vni(letter)
    assert encoded != letter or letter in "íìÍÌ"  # VNI keeps these four as they are
    assert 1 <= len(encoded) <= 2
    encoded.encode("cp1252")
    assert decode_vni(encoded) == letter
    word = "Tr" + letter + "ng"
    assert decode_vni(encode_vni(word)) == word


def test_tcvn3_lower_case_codes_are_single_bytes_and_distinct():
    codes = [encode_tcvn3(ch) for ch in LOWER]
    assert all(len(c) == 1 for c in codes)
    assert len(set(codes)) == len(codes)


def test_tcvn3_upper_case_uses_base_plus_combining_mark():
    assert encode_tcvn3("Á") == "A\xb3"
    assert encode_tcvn3("Ự") == "\xa6\xb4"
    assert encode_tcvn3("Ơ") == "\xa5"
    assert encode_tcvn3("Đ") == "\xa7"
    # .VnTimeH style reuses the lower-case codes.
    assert encode_tcvn3("Á", upper="lower") == encode_tcvn3("á") == "\xb8"


CHARMAP = Path("/usr/share/i18n/charmaps/TCVN5712-1.gz")


@pytest.mark.skipif(not CHARMAP.is_file(), reason="glibc TCVN5712-1 charmap not installed")
def test_tcvn3_table_agrees_with_glibc_charmap():
    """An independent oracle: the glibc charmap of TCVN 5712:1993."""
    byte_of = {}
    with gzip.open(CHARMAP, "rt", encoding="ascii", errors="replace") as fh:
        for line in fh:
            m = re.match(r"<U([0-9A-F]{4})>\s+/x([0-9a-f]{2})\s", line)
            if m:
                byte_of[chr(int(m.group(1), 16))] = int(m.group(2), 16)
    for letter in LOWER + ["Ă", "Â", "Ê", "Ô", "Ơ", "Ư", "Đ"]:
        assert [ord(c) for c in encode_tcvn3(letter)] == [byte_of[letter]], letter
    for mark, tone in zip("\xb0\xb1\xb2\xb3\xb4", "\u0300\u0309\u0303\u0301\u0323", strict=True):
        assert byte_of[tone] == ord(mark)
    # Every VN1 capital in 0xA0-0xFF decodes to what the charmap says.
    for letter, byte in byte_of.items():
        if byte >= 0xA0 and letter.isupper() and letter in LETTERS:
            assert decode_tcvn3(chr(byte), smart_case=False) == letter


# ------------------------------------------------------------------ real-world samples

TCVN3_SAMPLES = [
    ("Tr\xadêng TiÓu häc", "Trường Tiểu học"),
    ("Phßng Gi¸o dôc vµ §µo t¹o", "Phòng Giáo dục và Đào tạo"),
    ("Ngäc L©m", "Ngọc Lâm"),
    ("§øc Giang", "Đức Giang"),
    ("Hä vµ tªn", "Họ và tên"),
    ("Ch÷ ký sè", "Chữ ký số"),
    ("TR¦êNG TIÓU HäC ¸I Mé A", "TRƯỜNG TIỂU HỌC ÁI MỘ A"),  # .VnTimeH capitals
    ("PHßNG GI¸O DôC Vµ §µO T¹O", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"),
]
VNI_SAMPLES = [
    ("Tröôøng Tieåu hoïc", "Trường Tiểu học"),
    ("Phoøng Giaùo duïc vaø Ñaøo taïo", "Phòng Giáo dục và Đào tạo"),
    ("Ngoïc Laâm", "Ngọc Lâm"),
    ("Ñöùc Giang", "Đức Giang"),
    ("TRÖÔØNG TIEÅU HOÏC", "TRƯỜNG TIỂU HỌC"),
    ("Nguyeãn Thò Thuûy", "Nguyễn Thị Thủy"),
]


@pytest.mark.parametrize(("raw", "expected"), TCVN3_SAMPLES)
def test_tcvn3_real_world_samples(raw, expected):
    assert decode_tcvn3(raw) == expected
    assert detect_legacy(raw) == "tcvn3"
    assert repair_legacy(raw) == (expected, "tcvn3")


@pytest.mark.parametrize(("raw", "expected"), VNI_SAMPLES)
def test_vni_real_world_samples(raw, expected):
    assert decode_vni(raw) == expected
    assert detect_legacy(raw) == "vni"
    assert repair_legacy(raw) == (expected, "vni")


def test_decoders_leave_ascii_and_other_values_alone():
    for text in ["THCS Ngọc Lâm", "abc 123", "", "25°C"]:
        assert decode_vni(text) == text
    assert decode_tcvn3("25°C") == "25°C"  # a mark byte after a digit is not a tone
    assert decode_tcvn3(None) is None
    assert decode_vni(12) == 12


# ------------------------------------------------------------------ detection

SENTENCES = [
    "Trường Tiểu học Ái Mộ A",
    "Trường Mầm non Hoa Sữa",
    "Phòng Giáo dục và Đào tạo quận Long Biên",
    "Danh sách cán bộ, giáo viên, nhân viên",
    "Số học sinh đã xác thực",
    "Nguyễn Thị Thủy, Phó hiệu trưởng",
    "Đã cấp chữ ký số Viettel",
    "Chưa có chữ ký số",
    "Tổng số cán bộ giáo viên nhân viên",
    "Số đường truyền cáp quang",
    "Trường Trung học cơ sở Thượng Thanh",
    "Người lập biểu ký tên",
]

ORDINARY = [
    "Đức Giang",
    "Trường Tiểu học Ngọc Lâm",
    "TRƯỜNG THCS ÁI MỘ",
    "Hà",
    "Có",
    "Lê Hà",
    "Hoà Bình",
    "Mã trường",
    "Tỷ lệ (%)",
    "Số\nlớp",
    "Hello world",
    "THCS",
    "MN",
    "1.127",
    "69,8%",
    "2024-04-19",
    "05/04/2024",
    "0123456789",
    "nguyenvana@gmail.com",
    "le.thi.ha@hanoiedu.vn",
    "café",
    "Müller",
    "25°C",
    "x",
    "",
    "–",
    "“Trường” – “lớp”",
    "Cà phê · trà",
    "© Phòng GD",
    "Mã số: 12 ± 1",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_detect_none_on_ordinary_text(text):
    assert detect_legacy(text) is None
    assert detect_legacy(unicodedata.normalize("NFD", text)) is None
    assert repair_legacy(text) == (text, None)


def test_detect_none_on_non_strings():
    assert detect_legacy(None) is None
    assert detect_legacy(12.5) is None
    assert detect_legacy(float("nan")) is None


@pytest.mark.parametrize("sentence", SENTENCES)
def test_detect_kind_on_encoded_sentences(sentence):
    for variant in (sentence, sentence.upper()):
        assert detect_legacy(encode_tcvn3(variant)) == "tcvn3"
        assert detect_legacy(encode_tcvn3(variant, upper="lower")) == "tcvn3"
        assert detect_legacy(encode_vni(variant)) == "vni"
        assert repair_legacy(encode_tcvn3(variant)) == (variant, "tcvn3")
        assert repair_legacy(encode_vni(variant)) == (variant, "vni")
    # .VnTimeH capitals are read back as capitals.
    assert decode_tcvn3(encode_tcvn3(sentence.upper(), upper="lower")) == sentence.upper()


# ------------------------------------------------------------------ properties

VIET_TEXT_ALPHABET = "".join(LETTERS) + "abcdefghiklmnopqrstuvxyABCDGHKLMNPQRSTVX "
viet_text = st.text(alphabet=VIET_TEXT_ALPHABET, max_size=40)
viet_lower_words = st.lists(
    st.text(alphabet="".join(LOWER) + "bcdghklmnpqrstvx", min_size=1, max_size=7),
    min_size=1,
    max_size=6,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(viet_text)
def test_property_round_trip_any_case(text):
    assert decode_vni(encode_vni(text)) == text
    assert decode_tcvn3(encode_tcvn3(text), smart_case=False) == text


@settings(max_examples=300, deadline=None)
@given(viet_lower_words, st.sampled_from(["lower", "title", "upper"]))
def test_property_round_trip_natural_case(text, case):
    text = getattr(text, case)()
    assert decode_tcvn3(encode_tcvn3(text)) == text
    assert decode_vni(encode_vni(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_property_never_raises_and_unicode_beyond_latin1_is_never_legacy(text):
    kind = detect_legacy(text)
    repaired, found = repair_legacy(text)
    assert found == kind
    if any(ord(ch) > 0xFF for ch in text) and not any(
        ch in "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ" for ch in text
    ):
        assert kind is None and repaired == text
    decode_tcvn3(text)
    decode_vni(text)


# ------------------------------------------------------------------ sheets
# How ingest uses the module: the sheet's encoding by majority of its distinct text cells
# (``detect_legacy_columns``), then each text cell repaired with it (``repair_legacy``).


def _repair_sheet(frame: pd.DataFrame):
    """(the frame with its text cells repaired, the sheet's legacy kind, cells changed)."""
    kind = detect_legacy_columns(frame[c] for c in frame.columns)
    if kind is None:
        return frame.copy(), None, 0
    changed = 0

    def repair(value):
        nonlocal changed
        if not isinstance(value, str):
            return value
        repaired, found = repair_legacy(value, kind)
        changed += found is not None and repaired != value
        return repaired

    return frame.map(repair), kind, changed


def test_sheet_majority_resolves_ambiguous_short_cells():
    frame = pd.DataFrame(
        {
            "ho_ten": ["NguyÔn V¨n An", "TrÇn ThÞ B×nh", "Lª ThÞ Hµ"],
            "chu_ky": ["Cã", "Ch\xada cã", "Cã"],
            "ma": [101, 102, 103],
        }
    )
    assert detect_legacy("Cã") is None  # ambiguous on its own
    assert detect_legacy_columns(frame[c] for c in frame.columns) == "tcvn3"
    repaired, kind, n = _repair_sheet(frame)
    assert kind == "tcvn3"
    assert list(repaired["chu_ky"]) == ["Có", "Chưa có", "Có"]
    assert list(repaired["ho_ten"]) == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Thị Hà"]
    assert list(repaired["ma"]) == [101, 102, 103]
    assert n == 6


def test_frame_of_ordinary_unicode_is_left_alone():
    frame = pd.DataFrame({"a": ["Trường Tiểu học Ái Mộ A", "Có", "Hà"], "b": [1, 2, 3]})
    assert detect_legacy_columns(frame[c] for c in frame.columns) is None
    repaired, kind, n = _repair_sheet(frame)
    assert kind is None and n == 0
    pd.testing.assert_frame_equal(repaired, frame)


def test_excel_file_with_tcvn3_cells(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DS"
    ws.append([encode_tcvn3("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", upper="lower")])
    ws.append([encode_tcvn3("Mã trường"), encode_tcvn3("Tên trường"), encode_tcvn3("Số lớp")])
    ws.append(["01020301", encode_tcvn3("Trường Tiểu học Đức Giang"), 12])
    ws.append(["01020302", encode_tcvn3("Trường Mầm non Hoa Sữa"), 9])
    path = tmp_path / "truong_tcvn3.xlsx"
    wb.save(path)

    frame = pd.read_excel(path, sheet_name="DS", header=None, engine="calamine", dtype=object)
    assert detect_legacy_columns(frame[c] for c in frame.columns) == "tcvn3"
    repaired, kind, _ = _repair_sheet(frame)
    assert kind == "tcvn3"
    assert repaired.iloc[0, 0] == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"
    assert list(repaired.iloc[1, :3]) == ["Mã trường", "Tên trường", "Số lớp"]
    assert repaired.iloc[2, 1] == "Trường Tiểu học Đức Giang"
    assert repaired.iloc[3, 1] == "Trường Mầm non Hoa Sữa"
    assert repaired.iloc[2, 0] == "01020301"


def test_csv_file_with_vni_bytes(tmp_path):
    rows = [
        ("Mã trường", "Tên trường", "Chữ ký số"),
        ("01020301", "Trường THCS Thượng Thanh", "Đã cấp"),
        ("01020302", "Trường Tiểu học Ngọc Thụy", "Chưa có"),
    ]
    body = "\r\n".join(";".join(encode_vni(c) for c in row) for row in rows) + "\r\n"
    path = tmp_path / "cks_vni.csv"
    path.write_bytes(body.encode("cp1252"))  # the bytes a VNI font user's file holds

    frame = pd.read_csv(path, sep=";", encoding="cp1252", header=None, dtype=str)
    repaired, kind, n = _repair_sheet(frame)
    assert kind == "vni"
    assert n == 7  # every cell but the two codes
    assert [tuple(r) for r in repaired.itertuples(index=False)] == rows


def test_csv_file_with_tcvn3_bytes(tmp_path):
    text = "Họ và tên,Chức vụ\nNguyễn Văn Đức,Hiệu trưởng\nLê Thị Hà,Giáo viên\n"
    path = tmp_path / "cbgvnv_tcvn3.csv"
    path.write_bytes(encode_tcvn3(text).encode("cp1252"))
    frame = pd.read_csv(path, encoding="cp1252", header=None, dtype=str)
    repaired, kind, _ = _repair_sheet(frame)
    assert kind == "tcvn3"
    assert repaired.iloc[1, 0] == "Nguyễn Văn Đức"
    assert repaired.iloc[2, 1] == "Giáo viên"
