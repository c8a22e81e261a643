"""Level words bind a school match, and code widths come from the codes stored as text.

Real files written here (a school list by openpyxl with some codes as number cells and some as
text, staff lists as CSV and xlsx), cleaned by ``clean.clean_period``; the processed tables,
the quarantine and its messages are checked.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis import clean
from analysis.clean import match

KEY = b"test-key-for-level-matching"
P = "2024-05-10"
SCHOOL_HEADER = ["STT", "Mã trường", "Tên trường", "Cấp học", "Phường", "Số lớp", "Số học sinh"]
# code as written (int: a number cell that lost its leading zero; str: a text cell), name, level.
# 6 of the 11 codes are numbers: the most common length (7) is NOT the width (8).
SCHOOLS = [
    ("01010101", "Trường Mầm non Sao Mai", "Mầm non"),
    (1010102, "Trường Mầm non Hoa Sen", "Mầm non"),
    (1020103, "Trường Tiểu học Hoa Sen", "Tiểu học"),
    ("01020104", "Trường Tiểu học Ngọc Lâm", "Tiểu học"),
    (1030105, "Trường THCS Ngọc Lâm", "THCS"),
    ("01020106", "Trường Tiểu học Thạch Bàn A", "Tiểu học"),
    (1020107, "Trường Tiểu học Thạch Bàn B", "Tiểu học"),
    ("01020108", "Trường Tiểu học Ái Mộ A", "Tiểu học"),
    (1020109, "Trường Tiểu học Ái Mộ B", "Tiểu học"),
    ("01010110", "Trường Mầm non Đoàn Kết", "Mầm non"),  # two preschools of one name
    (1010111, "Trường Mầm non Đoàn Kết", "Mầm non"),
]
CODES = [str(c).zfill(8) for c, _, _ in SCHOOLS]
SAO_MAI_MN = "Trường Mầm non Sao Mai (Mầm non, 01010101)"
# Staff CSV: row number -> (school name as written, expected school code or quarantine reason).
CSV_ROWS = {
    2: ("Trường Tiểu học Sao Mai", "unmatched_school"),
    3: ("TH Sao Mai", "unmatched_school"),
    4: ("Tiểu học Sao Mai", "unmatched_school"),
    5: ("THCS Sao Mai", "unmatched_school"),
    6: ("Trường THPT Sao Mai", "unmatched_school"),
    7: ("Trung tâm GDNN-GDTX Sao Mai", "unmatched_school"),
    8: ("Trường MN Sao Mai", "01010101"),
    9: ("Mầm non Sao Mai", "01010101"),
    10: ("Mẫu giáo Sao Mai", "01010101"),
    11: ("Nhà trẻ Sao Mai", "01010101"),
    12: ("Sao Mai", "01010101"),  # no level word, one school of that name: matched
    13: ("Hoa Sen", "ambiguous_school"),  # no level word, two levels, mixed file
    14: ("Tiểu học Hoa Sen", "01020103"),
    15: ("THCS Hoa Sen", "unmatched_school"),
    16: ("Mầm non Đoàn Kết", "ambiguous_school"),  # two preschools of that name
    17: ("TH Đoàn Kết", "unmatched_school"),
    18: ("Trường Tiểu học Thạch Bàn", "fuzzy_school"),  # near-twins: suggested, never merged
    19: ("THCS Thạch Bàn A", "unmatched_school"),
    20: ("THCS Ngọc Lâm", "01030105"),
    21: ("Trường Tiểu học Ái Mộ B", "01020109"),
    22: ("TH Gia Quất", "01020104"),  # alias (the alias names the same level)
    23: ("THCS Gia Quất", "unmatched_school"),  # the alias is a primary school's
    24: ("Tiểu học Sao Mai cũ", "01010101"),  # the alias says so explicitly: it wins
}
# Staff workbook with codes only: a number cell that lost its zero, a text cell.
XLSX_CODES = {2: (1020106, "01020106"), 3: ("01030105", "01030105"), 4: (1010111, "01010111")}


def _staff_id(i: int) -> str:
    return f"79{i:08d}"


def write_school_list(path: Path, schools, header=SCHOOL_HEADER) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách trường"
    ws.append(["DANH SÁCH TRƯỜNG"])
    ws.append(header)
    for i, (code, name, level) in enumerate(schools, 1):
        ws.append([i, code, name, level, "Bồ Đề", 10, 300])
    wb.save(path)


def write_staff_csv(path: Path, rows: dict[int, tuple[str, str]]) -> None:
    lines = ["Mã CB;Họ tên;Chức vụ;Tên trường;Chữ ký số;Trạng thái CB"]
    for r, (school, _) in rows.items():
        lines.append(f"{_staff_id(r)};Người Thứ {r};Giáo viên;{school};Đã cấp;Đang làm việc")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_staff_xlsx(path: Path, rows: list[tuple], header: list[str]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CBGVNV"
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    wb.save(path)


def build_raw(root: Path) -> Path:
    raw = root / "raw"
    (raw / P).mkdir(parents=True)
    (raw / "school_aliases.csv").write_text(
        "alias,school_code,note\n"
        "Trường Tiểu học Gia Quất,01020104,tên cũ\n"
        "Trường Tiểu học Sao Mai cũ,01010101,ghi nhầm cấp trong file cũ\n",
        encoding="utf-8",
    )
    write_school_list(raw / P / "DanhSachTruong.xlsx", SCHOOLS)
    write_staff_csv(raw / P / "cbgvnv_ten_truong.csv", CSV_ROWS)
    write_staff_xlsx(
        raw / P / "cbgvnv_ma_truong.xlsx",
        [
            (_staff_id(100 + r), f"Người Mã {r}", "Giáo viên", code, "Chưa cấp", "Đang làm việc")
            for r, (code, _) in XLSX_CODES.items()
        ],
        ["Mã CB", "Họ tên", "Chức vụ", "Mã trường", "Chữ ký số", "Trạng thái CB"],
    )
    return raw


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels")
    raw = build_raw(root)
    return clean.clean_period(P, raw, root / "processed", key=KEY, jobs=1)


def _quarantined(result, file: str, row: int) -> pd.Series:
    q = result.quarantine
    hit = q[(q["source_file"] == f"{P}/{file}") & (q["source_row"] == row)]
    assert len(hit) == 1, (file, row)
    return hit.iloc[0]


def test_school_list_codes_padded_to_the_width_of_the_text_codes(cleaned):
    schools = cleaned.tables["schools"]
    assert sorted(schools["school_code"]) == sorted(CODES)
    assert (schools["school_code"].str.len() == 8).all()
    assert cleaned.quality["warnings"] == []
    # Read back from the written Parquet file, not only the in-memory result.
    written = pd.read_parquet(cleaned.out_dir / "schools.parquet")
    assert set(written["school_code"]) == set(CODES)


def test_each_named_row_lands_in_the_school_of_its_level_or_is_refused(cleaned):
    staff = pd.read_parquet(cleaned.out_dir / "staff.parquet")
    csv_staff = staff[staff["source_file"] == f"{P}/cbgvnv_ten_truong.csv"]
    landed = dict(zip(csv_staff["source_row"], csv_staff["school_code"], strict=True))
    levels = dict(zip(csv_staff["source_row"], csv_staff["level"], strict=True))
    for row, (name, expected) in CSV_ROWS.items():
        if expected.isdigit():
            assert landed.get(row) == expected, (row, name)
        else:
            assert row not in landed, (row, name, landed.get(row))
            assert _quarantined(cleaned, "cbgvnv_ten_truong.csv", row)["reason"] == expected
    # Nothing stating another level was counted in the preschool.
    assert {levels[r] for r in (8, 9, 10, 11, 12, 24)} == {"Mầm non"}
    assert levels[14] == "Tiểu học" and levels[20] == "THCS"


def test_codes_that_lost_their_zeros_match_the_list(cleaned):
    staff = pd.read_parquet(cleaned.out_dir / "staff.parquet")
    x = staff[staff["source_file"] == f"{P}/cbgvnv_ma_truong.xlsx"]
    assert dict(zip(x["source_row"], x["school_code"], strict=True)) == {
        r: code for r, (_, code) in XLSX_CODES.items()
    }


@pytest.mark.parametrize(
    ("row", "level"),
    [(2, "Tiểu học"), (3, "Tiểu học"), (4, "Tiểu học"), (5, "THCS"), (6, "THPT"), (7, "GDTX")],
)
def test_level_mismatch_message_names_the_level_and_the_namesake(cleaned, row, level):
    msg = _quarantined(cleaned, "cbgvnv_ten_truong.csv", row)["message"]
    assert f"ghi cấp {level}" in msg
    assert f"không có trường {level} nào tên như vậy" in msg
    assert SAO_MAI_MN in msg
    assert "school_aliases.csv" in msg


def test_ambiguous_messages_list_exactly_the_schools_sharing_the_key(cleaned):
    u = cleaned.unmatched_schools.set_index("school_name_raw")
    # No level word, two levels: both, with level and code, and nothing else.
    assert u.loc["Hoa Sen", "candidate_codes"] == "01010102;01020103"
    msg = _quarantined(cleaned, "cbgvnv_ten_truong.csv", 13)["message"]
    assert "Trường Mầm non Hoa Sen (Mầm non, 01010102)" in msg
    assert "Trường Tiểu học Hoa Sen (Tiểu học, 01020103)" in msg
    assert "nhiều cấp học" in msg
    # A level word and two schools of that level and name: those two only.
    assert u.loc["Mầm non Đoàn Kết", "candidate_codes"] == "01010110;01010111"
    msg = _quarantined(cleaned, "cbgvnv_ten_truong.csv", 16)["message"]
    assert "2 trường Mầm non cùng tên" in msg and "01010110" in msg and "01010111" in msg
    # The wrong level: the namesakes are listed as schools of another level, not as a choice.
    assert u.loc["TH Đoàn Kết", "reason"] == "unmatched_school"
    assert u.loc["TH Đoàn Kết", "candidate_codes"] == "01010110;01010111"
    assert u.loc["THCS Hoa Sen", "candidate_codes"] == "01010102;01020103"


def test_suggestions_put_the_stated_level_first_and_twins_stay_apart(cleaned):
    u = cleaned.unmatched_schools.set_index("school_name_raw")
    codes = u.loc["Trường Tiểu học Thạch Bàn", "candidate_codes"].split(";")
    assert codes[:2] == ["01020106", "01020107"]  # both twins, neither applied
    assert u.loc["THCS Thạch Bàn A", "candidate_codes"] == "01020106"
    msg = _quarantined(cleaned, "cbgvnv_ten_truong.csv", 19)["message"]
    assert "Trường Tiểu học Thạch Bàn A (Tiểu học, 01020106)" in msg and "ghi cấp THCS" in msg
    assert "01020107" not in msg
    # The alias of a primary school is not applied to a THCS name, and says why.
    msg = _quarantined(cleaned, "cbgvnv_ten_truong.csv", 23)["message"]
    assert "ghi cấp THCS" in msg and "Trường Tiểu học Ngọc Lâm (Tiểu học, 01020104)" in msg


def test_all_numeric_list_takes_the_width_from_the_other_files(tmp_path):
    raw = tmp_path / "raw"
    (raw / P).mkdir(parents=True)
    numeric = [(int(c), n, lv) for c, (_, n, lv) in zip(CODES, SCHOOLS, strict=True)]
    write_school_list(raw / P / "DanhSachTruong.xlsx", numeric)
    write_staff_xlsx(
        raw / P / "cbgvnv.xlsx",
        [(_staff_id(1), "A", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc")],
        ["Mã CB", "Họ tên", "Chức vụ", "Mã trường", "Chữ ký số", "Trạng thái CB"],
    )
    r = clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)
    assert sorted(r.tables["schools"]["school_code"]) == sorted(CODES)
    assert r.tables["staff"]["school_code"].tolist() == ["01020104"]


def test_all_numeric_list_without_any_text_code_is_kept_and_said(tmp_path):
    raw = tmp_path / "raw"
    (raw / P).mkdir(parents=True)
    numeric = [(int(c), n, lv) for c, (_, n, lv) in zip(CODES, SCHOOLS, strict=True)]
    write_school_list(raw / P / "DanhSachTruong.xlsx", numeric)
    write_staff_csv(raw / P / "cbgvnv.csv", {2: ("TH Ngọc Lâm", "")})
    r = clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)
    assert sorted(r.tables["schools"]["school_code"]) == sorted(str(int(c)) for c in CODES)
    (w,) = [w for w in r.quality["warnings"] if w["code"] == "code_width_unknown"]
    assert w["kind"] == "truong" and w["file"] == f"{P}/DanhSachTruong.xlsx" and w["row"] == 3
    assert "11 dòng được lưu dạng số" in w["message"] and "Text" in w["message"]


def test_staff_ids_padded_to_the_width_of_the_ids_stored_as_text(tmp_path):
    """3 of 5 ids are numbers (9 digits, zero lost), 2 are text (10 digits): one person is
    listed once as text and once as a number, and is counted once."""
    raw = tmp_path / "raw"
    (raw / P).mkdir(parents=True)
    write_school_list(raw / P / "DanhSachTruong.xlsx", SCHOOLS)
    header = ["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Chữ ký số", "Trạng thái CB"]
    rows = [
        ("0123456789", "A", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc"),
        (123456789, "A", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc"),  # the same
        (123456788, "B", "Giáo viên", "01020104", "Chưa cấp", "Đang làm việc"),
        (123456787, "C", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc"),
        ("0223456789", "D", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc"),
    ]
    write_staff_xlsx(raw / P / "cbgvnv.xlsx", rows, header)
    r = clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)
    staff = r.tables["staff"]
    assert len(staff) == 4 and staff["person_key"].is_unique
    assert int(r.tables["signature_by_school"]["n_staff"].sum()) == 4


def test_code_width_rule():
    obj = lambda values: pd.Series(values, dtype=object)  # noqa: E731
    # Text codes decide, however few; numbers never do.
    assert match.code_width(obj([1020301, 1020302, 1020303, "01020304"])) == 8
    assert match.code_width(obj([1020301, 1020302])) == 0
    assert match.code_width(obj([1020301]), obj(["01020304"])) == 8
    # The first source with a text code wins; a stray long text code does not decide.
    assert match.code_width(obj(["01020304", "01020305", "010203066"]), obj(["1"])) == 8
    assert match.code_width(None, obj([]), obj(["abc", 5])) == 0
    # Text as the readers leave it: Excel's leading ', spaces; a CSV column (all text).
    assert match.code_width(obj(["'01020304", 1020301, " 0102 0305 "])) == 8
    assert match.code_width(pd.Series(["01020304", "1020301", "01020305"], dtype="str")) == 8


def test_staff_ids_all_numbers_of_two_lengths_are_kept_and_said(tmp_path):
    raw = tmp_path / "raw"
    (raw / P).mkdir(parents=True)
    write_school_list(raw / P / "DanhSachTruong.xlsx", SCHOOLS)
    header = ["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Chữ ký số", "Trạng thái CB"]
    rows = [
        (123456789, "A", "Giáo viên", "01020104", "Đã cấp", "Đang làm việc"),
        (1123456789, "B", "Giáo viên", "01020104", "Chưa cấp", "Đang làm việc"),
    ]
    write_staff_xlsx(raw / P / "cbgvnv.xlsx", rows, header)
    r = clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)
    assert len(r.tables["staff"]) == 2
    (w,) = [w for w in r.quality["warnings"] if w["code"] == "code_width_unknown"]
    assert w["kind"] == "cbgvnv" and w["row"] == 2 and "Mã định danh ở 2 dòng" in w["message"]
    assert "123456789" not in w["message"]
