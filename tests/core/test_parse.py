"""Value parsers: numbers, percentages, dates, status, role, provider, employment, ownership,
level, codes, totals."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.fmt import fmt_int, fmt_num
from analysis.core.parse import (
    EXPECTED_FORMAT,
    OTHER,
    POSITIONS,
    PROVIDERS,
    SPEED_UNITS,
    is_total_label,
    or_other,
    pad_code,
    parse_code,
    parse_date_vn,
    parse_employment,
    parse_float_vn,
    parse_int_vn,
    parse_level,
    parse_ownership,
    parse_percent,
    parse_provider,
    parse_role,
    parse_status,
    range_mask,
)

BAD = "BAD"
MISSING = None


def run_table(parser, cases, **kwargs):
    """Run a parser on a column of inputs; compare with (expected value | MISSING | BAD)."""
    inputs = pd.Series([c[0] for c in cases], dtype=object)
    values, bad = parser(inputs, **kwargs)
    assert list(values.index) == list(inputs.index)
    assert bad.dtype == bool
    for i, (raw, expected) in enumerate(cases):
        if expected == BAD:
            assert bad[i], f"{raw!r} should be bad"
            assert pd.isna(values[i])
        elif expected is MISSING:
            assert not bad[i], f"{raw!r} is empty, not bad"
            assert pd.isna(values[i]), f"{raw!r} should be missing"
        else:
            assert not bad[i], f"{raw!r} should parse"
            got = values[i]
            if isinstance(expected, float):
                assert math.isclose(got, expected, rel_tol=1e-12), (raw, got)
            else:
                assert got == expected, (raw, got)
    return values, bad


# ------------------------------------------------------------------ integers

INT_CASES = [
    ("1.127", 1127),
    ("25.915", 25915),
    ("1.234.567", 1234567),
    ("12.000", 12000),
    ("1,127", 1127),  # the only whole-number reading
    ("1,234,567", 1234567),
    (1127.0, 1127),
    (1127, 1127),
    (np.int64(42), 42),
    (np.float64(42.0), 42),
    ("1127", 1127),
    (" 1 127 ", 1127),
    ("1\u00a0127", 1127),
    ("1\u202f127", 1127),
    ("12,0", 12),
    ("12.0", 12),
    ("1.234,0", 1234),
    ("0", 0),
    ("-5", -5),  # returned; range_mask refuses it
    ("+7", 7),
    ("12.5", BAD),
    ("12,5", BAD),
    (12.5, BAD),
    ("abc", BAD),
    ("12 lớp", BAD),
    ("1.12", BAD),
    (True, BAD),
    (float("inf"), BAD),
    (date(2024, 1, 1), BAD),
    ("", MISSING),
    ("   ", MISSING),
    ("-", MISSING),
    ("–", MISSING),
    (None, MISSING),
    (np.nan, MISSING),
]


def test_parse_int_vn_table():
    values, _ = run_table(parse_int_vn, INT_CASES)
    assert values.dtype == "Int64"


def test_range_mask():
    values, _ = parse_int_vn(pd.Series(["-5", "3", None, "120"]))
    assert range_mask(values, low=0).tolist() == [True, False, False, False]
    assert range_mask(values, low=0, high=100).tolist() == [True, False, False, True]
    pct, _ = parse_percent(pd.Series(["101,5%", "99,9%"]))
    assert range_mask(pct, 0, 100).tolist() == [True, False]


# ------------------------------------------------------------------ floats

FLOAT_CASES = [
    ("69,8", 69.8),
    ("1.234,5", 1234.5),
    ("1,234.5", 1234.5),
    ("1.127", 1127.0),
    ("0.698", 0.698),
    ("100.5", 100.5),
    ("1,127", 1.127),  # a single comma is the decimal mark here
    ("1,234,567", 1234567.0),
    ("70 Mbps", 70.0),
    ("100Mbps", 100.0),
    ("69,8%", 69.8),
    (" 2\u00a0500,75 ", 2500.75),
    (1.5, 1.5),
    (3, 3.0),
    ("−2,5", -2.5),  # U+2212 minus
    ("abc", BAD),
    ("1.2.3", BAD),
    ("12 (dự kiến)", BAD),
    ("1,2,3", BAD),
    (",5", BAD),
    (float("nan"), MISSING),
    ("", MISSING),
    ("—", MISSING),
]


def test_parse_float_vn_table():
    values, _ = run_table(parse_float_vn, FLOAT_CASES)
    assert values.dtype == "float64"


def test_parse_float_vn_units():
    cases = [
        ("70 Mbps", 70.0),
        ("100Mb/s", 100.0),
        ("1 Gbps", 1000.0),
        ("150", 150.0),
        (80, 80.0),
        ("5 lớp", BAD),
        ("70 Mbps 2", BAD),
    ]
    run_table(parse_float_vn, cases, units=SPEED_UNITS)


# ------------------------------------------------------------------ percentages


def test_parse_percent_table():
    cases = [
        ("69,8%", 69.8),
        ("69,8 %", 69.8),
        ("69,8", 69.8),
        ("100%", 100.0),
        (69.8, 69.8),
        ("0,698", 0.698),  # text is never rescaled
        ("abc%", BAD),
        ("70 Mbps", BAD),
        ("", MISSING),
    ]
    run_table(parse_percent, cases)


def test_parse_percent_ratio_cells():
    s = pd.Series([0.698, 1, 0, "69,8%", "0,5", 85.0], dtype=object)
    values, bad = parse_percent(s, ratio_if_le_1=True)
    assert values.tolist() == [69.8, 100.0, 0.0, 69.8, 0.5, 85.0]
    assert not bad.any()
    plain, _ = parse_percent(s)
    assert plain.tolist()[:3] == [0.698, 1.0, 0.0]


def test_parse_percent_auto():
    ratios, _ = parse_percent(pd.Series([0.698, 0.5, 1.0]), ratio_if_le_1="auto")
    assert ratios.tolist() == [69.8, 50.0, 100.0]
    percents, _ = parse_percent(pd.Series([0.5, 69.8, 100.0]), ratio_if_le_1="auto")
    assert percents.tolist() == [0.5, 69.8, 100.0]


# ------------------------------------------------------------------ dates

APRIL_5 = pd.Timestamp("2024-04-05")
DATE_CASES = [
    ("05/04/2024", APRIL_5),  # day first, always
    ("5/4/2024", APRIL_5),
    ("05-04-2024", APRIL_5),
    ("05.04.2024", APRIL_5),
    ("05/04/24", APRIL_5),
    ("2024-04-05", APRIL_5),
    ("2024/04/05", APRIL_5),
    ("2024-04-05 00:00:00", APRIL_5),
    ("20240405", APRIL_5),
    ("ngày 05 tháng 4 năm 2024", APRIL_5),
    ("Ngày 5 tháng 04 năm 2024", APRIL_5),
    (45387, APRIL_5),  # Excel serial
    (45387.75, APRIL_5),
    ("45387", APRIL_5),
    (date(2024, 4, 5), APRIL_5),
    (datetime(2024, 4, 5, 13, 30), APRIL_5),
    (pd.Timestamp("2024-04-05 08:00"), APRIL_5),
    (np.datetime64("2024-04-05"), APRIL_5),
    ("13/12/1985", pd.Timestamp("1985-12-13")),
    ("31/02/2024", BAD),
    ("05/13/2024", BAD),  # no month 13: never read month first
    ("2024-13-01", BAD),
    ("abc", BAD),
    (12, BAD),  # far outside the serial range
    (1e9, BAD),
    (True, BAD),
    ("", MISSING),
    (None, MISSING),
    (pd.NaT, MISSING),
]


def test_parse_date_vn_table():
    values, _ = run_table(parse_date_vn, DATE_CASES)
    assert values.dtype == "datetime64[s]"
    assert (values.dropna() == values.dropna().dt.normalize()).all()


# ------------------------------------------------------------------ status


STATUS_CASES = [
    # value, signed, pending, bad
    ("Đã cấp", True, False, False),
    ("Đã có", True, False, False),
    ("Có", True, False, False),
    ("có", True, False, False),
    ("x", True, False, False),
    ("X", True, False, False),
    (1, True, False, False),
    (1.0, True, False, False),
    ("1", True, False, False),
    ("TRUE", True, False, False),
    ("Đã có CKS", True, False, False),
    ("Đã có chữ ký số", True, False, False),
    ("✓", True, False, False),
    ("Chưa cấp", False, False, False),
    ("Chưa có", False, False, False),
    ("Không", False, False, False),
    ("", False, False, False),
    (None, False, False, False),
    (0, False, False, False),
    ("FALSE", False, False, False),
    ("Đang chờ", False, True, False),
    ("Đang chờ cấp", False, True, False),
    ("Đang đăng ký", False, True, False),
    ("đang đăng ký", False, True, False),
    ("Có lẽ", False, False, True),
    ("abc", False, False, True),
    (2, False, False, True),
]


def test_parse_status_table():
    s = pd.Series([c[0] for c in STATUS_CASES], dtype=object)
    signed, pending, bad = parse_status(s)
    assert signed.dtype == pending.dtype == bad.dtype == bool
    for i, (raw, exp_signed, exp_pending, exp_bad) in enumerate(STATUS_CASES):
        assert (signed[i], pending[i], bad[i]) == (exp_signed, exp_pending, exp_bad), raw


def test_parse_status_true_bool_cells():
    signed, pending, bad = parse_status(pd.Series([True, False, None], dtype=object))
    assert signed.tolist() == [True, False, False]
    assert not pending.any() and not bad.any()


# ------------------------------------------------------------------ role

ROLE_CASES = [
    ("Hiệu trưởng", "CBQL", "Hiệu trưởng"),
    ("HIỆU TRƯỞNG", "CBQL", "Hiệu trưởng"),
    ("HT", "CBQL", "Hiệu trưởng"),
    ("Phó hiệu trưởng", "CBQL", "Phó hiệu trưởng"),
    ("P. Hiệu trưởng", "CBQL", "Phó hiệu trưởng"),
    ("PHT", "CBQL", "Phó hiệu trưởng"),
    ("Giáo viên", "GV", "Giáo viên"),
    ("GV", "GV", "Giáo viên"),
    ("Giáo viên Tiếng Anh", "GV", "Giáo viên"),
    ("Tổng phụ trách", "GV", "Tổng phụ trách Đội"),
    ("Tổng phụ trách Đội", "GV", "Tổng phụ trách Đội"),
    ("Giáo viên kiêm văn thư", "GV", "Giáo viên"),
    ("Nhân viên", "NV", "Nhân viên"),
    ("NV", "NV", "Nhân viên"),
    ("Kế toán", "NV", "Kế toán"),
    ("Nhân viên kế toán", "NV", "Kế toán"),
    ("Văn thư", "NV", "Văn thư"),
    ("Y tế", "NV", "Y tế"),
    ("Thư viện", "NV", "Thư viện"),
    ("Thiết bị", "NV", "Thiết bị"),
    ("Bảo vệ", "NV", "Bảo vệ"),
    ("Phục vụ", "NV", "Phục vụ"),
    ("Thủ quỹ", "NV", "Thủ quỹ"),
    ("IT", "NV", "Công nghệ thông tin"),
    ("CNTT", "NV", "Công nghệ thông tin"),
]


def test_parse_role_table():
    s = pd.Series([c[0] for c in ROLE_CASES] + ["Bếp trưởng", "", None])
    role, title, bad = parse_role(s)
    n = len(ROLE_CASES)
    for i, (raw, exp_role, exp_title) in enumerate(ROLE_CASES):
        assert (role[i], title[i], bad[i]) == (exp_role, exp_title, False), raw
    assert bad[n] and pd.isna(role[n]) and title[n] == OTHER  # never the raw text
    assert not bad[n + 1] and pd.isna(role[n + 1]) and pd.isna(title[n + 1])
    assert not bad[n + 2] and pd.isna(role[n + 2])
    assert set(role.dropna()) <= {"CBQL", "GV", "NV"}
    assert set(title.dropna()) <= {*POSITIONS, OTHER}


# ------------------------------------------------------------------ provider


def test_parse_provider_table():
    cases = [
        ("Viettel", "Viettel"),
        ("viettel-ca", "Viettel"),
        ("Viettel CA", "Viettel"),
        ("VNPT", "VNPT"),
        ("VNPT-CA", "VNPT"),
        ("VNPT CA", "VNPT"),
        ("vnpt smartca", "VNPT"),
        ("FPT-CA", "FPT"),
        ("BKAV-CA", "BKAV"),
        ("MISA eSign", "MISA"),
        ("VGCA", "VGCA"),
        ("vgca", "VGCA"),
        ("Ban Cơ yếu", "VGCA"),
        ("Ban Cơ yếu Chính phủ", "VGCA"),
        ("Newtel-CA", "Newtel"),
        ("  Safe\u00a0CA ", "SafeCA"),
        ("CMC-CA", "CMC"),
        ("Nacencomm", "Nacencomm"),
        ("CA2", "Nacencomm"),
        ("EFY-CA", "EFY"),
        ("SmartCA", "VNPT"),
        ("Không", MISSING),
        ("", MISSING),
        (None, MISSING),
    ]
    values, bad = run_table(parse_provider, cases)
    assert not bad.any()
    assert set(values.dropna()) <= set(PROVIDERS)


def test_parse_provider_free_text_is_other():
    """A name and a phone typed as the provider never come out: "Khác", marked bad."""
    raw = ["Nguyễn Văn A 0987654321", "anh Tuấn (0912 345 678)", "x@y.vn", "???"]
    values, bad = parse_provider(pd.Series(raw))
    assert values.isna().all() and bad.all()
    assert or_other(values, bad).tolist() == [OTHER] * len(raw)


def test_parse_employment_by_leading_words():
    cases = [
        ("Đang làm việc", "Đang làm việc"),
        ("đang  làm việc", "Đang làm việc"),
        ("Nghỉ hưu", "Nghỉ hưu"),
        ("Đã nghỉ hưu", "Nghỉ hưu"),
        ("Chuyển đi", "Chuyển đi"),
        ("Chuyển công tác", "Chuyển đi"),
        ("Nghỉ việc", "Nghỉ việc"),
        ("Nghỉ việc (báo qua ĐT 0912345678)", "Nghỉ việc"),
        ("Thôi việc", "Nghỉ việc"),
        ("Nghỉ thai sản", "Nghỉ thai sản"),
        ("Đang nghỉ thai sản", "Nghỉ thai sản"),
        ("Tạm nghỉ", "Tạm nghỉ"),
        ("Nghỉ ốm", "Tạm nghỉ"),
        ("Đi học", "Đi học"),
        ("", MISSING),
        (None, MISSING),
    ]
    values, bad = run_table(parse_employment, cases)
    assert not bad.any()
    free = ["Nguyễn Văn A 0912345678", "Nghỉ", "liên hệ a@b.vn"]
    values, bad = parse_employment(pd.Series(free))
    assert or_other(values, bad).tolist() == [OTHER] * 3 and bad.all()


def test_parse_ownership():
    raw = ["Công lập", "Tư thục", "Ngoài công lập", "Dân lập", "công lập tự chủ", None, "A 0912"]
    values, bad = parse_ownership(pd.Series(raw, dtype=object))
    assert values.tolist()[:5] == ["Công lập", "Tư thục", "Tư thục", "Dân lập", "Công lập"]
    assert pd.isna(values[5]) and not bad[5]
    assert pd.isna(values[6]) and bad[6] and or_other(values, bad)[6] == OTHER


# ------------------------------------------------------------------ level


def test_parse_level_table():
    cases = [
        ("Mầm non", "Mầm non"),
        ("MN", "Mầm non"),
        ("mầm  non", "Mầm non"),
        ("Nhà trẻ", "Mầm non"),
        ("Mẫu giáo", "Mầm non"),
        ("Tiểu học", "Tiểu học"),
        ("TH", "Tiểu học"),
        ("TIỂU HỌC", "Tiểu học"),
        ("Cấp 1", "Tiểu học"),
        ("THCS", "THCS"),
        ("Trung học cơ sở", "THCS"),
        ("Cấp THCS", "THCS"),
        ("THPT", "THPT"),  # a level since issue 14 (data contract §8)
        ("Trung học phổ thông", "THPT"),
        ("Trung tâm GDNN-GDTX", "GDTX"),
        ("TH&THCS", "Trường nhiều cấp học"),
        ("Liên cấp", "Trường nhiều cấp học"),
        ("Đại học", BAD),
        ("abc", BAD),
        (2, BAD),
        ("", MISSING),
    ]
    run_table(parse_level, cases)


# ------------------------------------------------------------------ codes


def test_parse_code_table():
    cases = [
        (1020301.0, "1020301"),
        (1020301, "1020301"),
        (np.int64(7912345678), "7912345678"),
        (" 01020301 ", "01020301"),
        ("0102 0301", "01020301"),
        ("'01020301", "01020301"),
        ("AB-12", "AB-12"),
        ("Không có", BAD),
        ("mã?", BAD),
        (12.5, BAD),
        ("", MISSING),
        (None, MISSING),
    ]
    values, _ = run_table(parse_code, cases)
    assert values.dtype == "str"


def test_pad_code():
    codes, _ = parse_code(pd.Series([1020301.0, "01020302", "AB", None, "123456789"], dtype=object))
    padded = pad_code(codes, 8)
    assert padded.tolist()[:3] == ["01020301", "01020302", "AB"]
    assert pd.isna(padded[3])
    assert padded[4] == "123456789"
    assert pad_code("7", 3) == "007"
    assert pad_code("A7", 3) == "A7"


# ------------------------------------------------------------------ totals


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Tổng cộng", True),
        ("Tổng", True),
        ("Cộng", True),
        ("TỔNG CỘNG", True),
        ("Tổng số", True),
        ("Tổng cộng:", True),
        ("Cộng Mầm non", True),
        ("Tổng cộng toàn quận", True),
        ("Tổng số CBGVNV", False),
        ("Tổng số học sinh", False),
        ("Cộng hòa xã hội chủ nghĩa Việt Nam", False),
        ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", False),
        ("Trường Tiểu học Ái Mộ A", False),
        ("", False),
        (None, False),
        (12, False),
    ],
)
def test_is_total_label(label, expected):
    assert is_total_label(label) is expected


def test_is_total_label_series():
    s = pd.Series(["Trường TH Ái Mộ", "Tổng cộng", None, "Cộng"], index=[3, 4, 5, 6])
    out = is_total_label(s)
    assert out.tolist() == [False, True, False, True]
    assert list(out.index) == [3, 4, 5, 6]


# ------------------------------------------------------------------ real files


def test_parsers_on_excel_cells_read_back(tmp_path):
    """Numeric, text, date and percentage-formatted cells written by openpyxl, read by
    calamine, as the ingest stage reads them."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CKS"
    ws.append(["Mã trường", "Tổng số", "Tỷ lệ (%)", "Ngày cấp", "Chữ ký số"])
    ws.append([1020301, "1.127", 0.698, date(2024, 4, 5), "Đã cấp"])
    ws.append(["01020302", 25915, 0.5, "05/04/2024", "x"])
    ws.append([1020303, "25.915", 1, 45387, "Chưa có"])
    ws.append([1020304, "12,5", None, "31/02/2024", "Đang chờ"])
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].number_format = "0.0%"
    path = tmp_path / "cks.xlsx"
    wb.save(path)

    frame = pd.read_excel(path, sheet_name="CKS", engine="calamine", dtype=object)
    codes, bad_code = parse_code(frame["Mã trường"])
    assert pad_code(codes, 8).tolist() == ["01020301", "01020302", "01020303", "01020304"]
    assert not bad_code.any()
    totals, bad_total = parse_int_vn(frame["Tổng số"])
    assert totals.tolist()[:3] == [1127, 25915, 25915]
    assert bad_total.tolist() == [False, False, False, True]
    rates, _ = parse_percent(frame["Tỷ lệ (%)"], ratio_if_le_1="auto")
    assert rates.tolist()[:3] == [69.8, 50.0, 100.0] and pd.isna(rates[3])
    days, bad_day = parse_date_vn(frame["Ngày cấp"])
    assert days.tolist()[:3] == [APRIL_5] * 3
    assert bad_day.tolist() == [False, False, False, True]
    signed, pending, bad_status = parse_status(frame["Chữ ký số"])
    assert signed.tolist() == [True, True, False, False]
    assert pending.tolist() == [False, False, False, True]
    assert not bad_status.any()


def test_parsers_on_semicolon_csv(tmp_path):
    path = tmp_path / "ha_tang.csv"
    path.write_text(
        "Mã trường;Số đường truyền;Tốc độ (Mbps);Số máy tính\n"
        "01020301;2;70 Mbps;1.127\n"
        "01020302;1;100,5;25\n"
        "01020303;;1 Gbps;-\n",
        encoding="utf-8-sig",
    )
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    codes, _ = parse_code(frame["Mã trường"])
    assert codes.tolist() == ["01020301", "01020302", "01020303"]
    lines, bad_lines = parse_int_vn(frame["Số đường truyền"])
    assert lines.tolist()[:2] == [2, 1] and pd.isna(lines[2]) and not bad_lines.any()
    speed, bad_speed = parse_float_vn(frame["Tốc độ (Mbps)"], units=SPEED_UNITS)
    assert speed.tolist() == [70.0, 100.5, 1000.0] and not bad_speed.any()
    computers, _ = parse_int_vn(frame["Số máy tính"])
    assert computers.tolist()[:2] == [1127, 25] and pd.isna(computers[2])


def test_expected_format_messages_are_vietnamese():
    assert set(EXPECTED_FORMAT) >= {"int", "float", "percent", "date", "status", "role", "code"}
    assert "ngày/tháng/năm" in EXPECTED_FORMAT["date"]


def test_parsers_work_once_per_unique_value_on_large_columns():
    s = pd.Series(["1.127", "25.915", None, "abc"] * 50_000)
    values, bad = parse_int_vn(s)
    assert len(values) == 200_000
    assert int(values.sum()) == (1127 + 25915) * 50_000
    assert int(bad.sum()) == 50_000


# ------------------------------------------------------------------ properties

anything = st.one_of(
    st.text(max_size=25),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(anything, max_size=8))
def test_property_parsers_never_raise(values):
    s = pd.Series(values, dtype=object)
    for parser in (
        parse_int_vn,
        parse_float_vn,
        parse_percent,
        parse_date_vn,
        parse_provider,
        parse_level,
        parse_code,
    ):
        out, bad = parser(s)
        assert len(out) == len(s) == len(bad)
        assert not (bad & out.notna()).any()  # a bad value never also has a value
    parse_percent(s, ratio_if_le_1="auto")
    parse_float_vn(s, units=SPEED_UNITS)
    signed, pending, bad = parse_status(s)
    assert not (signed & pending).any()
    role, title, bad = parse_role(s)
    assert set(role.dropna()) <= {"CBQL", "GV", "NV"}
    assert len(is_total_label(s)) == len(s)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_property_int_round_trip_through_vietnamese_format(n):
    text = fmt_int(n)
    values, bad = parse_int_vn(pd.Series([text, n, float(n) if n < 2**53 else n]))
    assert values.tolist() == [n, n, n]
    assert not bad.any()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_property_float_round_trip_through_vietnamese_format(whole, cents):
    x = whole + cents / 100
    text = fmt_num(x, 2)  # '1.234,57'
    values, bad = parse_float_vn(pd.Series([text, text + "%"]))
    assert not bad.any()
    assert values.tolist() == pytest.approx([x, x], rel=1e-12, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2100, 12, 31)))
def test_property_dates_day_first(day):
    forms = [
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        day.isoformat(),
        (day - date(1899, 12, 30)).days,
        day,
    ]
    values, bad = parse_date_vn(pd.Series(forms, dtype=object))
    assert not bad.any()
    assert set(values) == {pd.Timestamp(day)}
