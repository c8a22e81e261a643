"""Free text typed beside the data never leaves the cleaning stage (data contract, section 3).

A raw period (real xlsx files) whose staff list has a status with a phone number, a position
holding a name and a phone number, a provider typed as a person's name and phone, an e-mail
in a note column; a school list with a ward and an ownership holding a phone number, a school
name with one; a record whose class name has one; a school name written as a formula. After
``clean.clean_period``: the processed tables hold only the closed vocabularies (or ``Khác``),
no planted name, digit run or e-mail is in any processed file, and the masked forms are in
``quarantine.csv`` / ``quality.json`` only.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from analysis import clean
from analysis.core import parse, privacy

KEY = b"test-key-free-text"
PERIOD = "2024-04-19"

SCHOOLS = [
    # code, name, ownership, ward
    ("01020301", "Trường Tiểu học Thạch Bàn A", "Công lập", "Thạch Bàn"),
    ("01020302", "Trường Tiểu học Ái Mộ", "Cô Lan 0911222334", "Bồ Đề"),
    ("01020303", "Trường Tiểu học Ngọc Lâm", "Tư thục", "Phường Ngọc Lâm LH 0911222333"),
    ("01020304", "Trường Tiểu học Sao Mai 0911222335", "Công lập", "Bồ Đề"),
]
# Personal values and free text that must not reach a processed table.
PHONES = [
    "0912345678",
    "0912000111",
    "0987000111",
    "0987000222",
    "0987654321",
    "0977111222",
    "0988111222",
    "0966777888",
    "0911222333",
    "0911222334",
    "0911222335",
    "0915666777",
    "0915000999",
]
SPACED_PHONE = "0913 444 555"
EMAIL = "lienhe.canbo@truong.edu.vn"
NAMES = ["Nguyễn Văn A", "Trần Thị Bình", "chị Hoa", "anh Dũng", "cô Mai", "Cô Lan"]
FORMULA_SCHOOL = "=cmd|' /C calc'!A0"

STAFF_HEADER = [
    "STT",
    "Mã định danh",
    "Họ và tên",
    "Chức vụ",
    "Vị trí việc làm",
    "Tên trường",
    "Trạng thái CB",
    "Chữ ký số",
    "Nhà cung cấp",
    "Ghi chú",
    "Liên hệ 0915000999",  # a header no kind knows: listed (masked) as an unmapped column
]
TA, AM = "Trường Tiểu học Thạch Bàn A", "Trường Tiểu học Ái Mộ"
STAFF = [
    # id, position, job position (second column), school, status, signature, provider, note
    ("7900000001", "Hiệu trưởng", None, TA, "Đang làm việc", "Đã cấp", "Viettel", None),
    ("7900000002", "Giáo viên", None, TA, "Nghỉ việc (báo qua ĐT 0912345678)", "Có", "VNPT",
     None),
    ("7900000003", "Giáo viên", None, TA, "Liên hệ chị Hoa 0912000111", "Có", "VNPT", None),
    ("7900000004", "Giáo viên - Trần Thị Bình 0987000111", None, AM, "Đang làm việc", "Có",
     "FPT", None),
    ("7900000005", "Trần Thị Bình 0987000222", None, AM, "Đang làm việc", "Có", "FPT", None),
    ("7900000006", "Giáo viên", None, AM, "Đang làm việc", "Có", "Nguyễn Văn A 0987654321",
     f"Gửi lại cho {EMAIL}"),
    ("7900000007", "Kế toán", "Kế toán - anh Dũng 0977111222", AM, "Đang làm việc", "Chưa có",
     None, None),
    ("7900000008", "Giáo viên", None, FORMULA_SCHOOL, "Đang làm việc", "Có", None, None),
    ("7900000009", "Giáo viên", None, "Trường ABC 0966777888", "Đang làm việc", "Có", None,
     None),
    ("7900000010", "Giáo viên", None, TA, "Đang làm việc", "Có", f"SĐT {SPACED_PHONE}", None),
]  # fmt: skip


def _write_xlsx(path: Path, rows: list[list], **more: list[list]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    for name, sheet in {"Sheet1": rows, **more}.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(sheet):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                elif value is not None:
                    ws.write(r, c, value)
    wb.close()


def build_raw(root: Path) -> Path:
    raw = root / "raw"
    folder = raw / PERIOD
    folder.mkdir(parents=True)
    rows = [["Mã trường", "Tên trường", "Cấp học", "Loại hình", "Phường", "Số lớp", "Số học sinh"]]
    rows += [[c, n, "Tiểu học", o, w, 10, 300] for c, n, o, w in SCHOOLS]
    _write_xlsx(folder / "DanhSachTruong.xlsx", rows)
    rows = [STAFF_HEADER]
    for i, (sid, pos, job, school, emp, st, prov, note) in enumerate(STAFF, 1):
        rows.append([i, sid, f"Người {i}", pos, job, school, emp, st, prov, note, "x"])
    # A sheet that is no table: its first cells are quoted in quality.json (masked).
    contacts = [["Liên hệ chị Hoa 0915666777", EMAIL]]
    _write_xlsx(folder / "CBGVNV.xlsx", rows, LienHe=contacts)
    rows = [
        ["Tên trường", "Khối", "Lớp", "Số học sinh", "Số học bạ GVCN đã ký",
         "Số học bạ Hiệu trưởng đã ký"],
        [TA, 5, "5A", 30, 30, 30],
        [TA, 5, "5B - cô Mai 0988111222", 30, 30, 30],
    ]  # fmt: skip
    _write_xlsx(folder / "HocBa.xlsx", rows)
    return raw


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    root = tmp_path_factory.mktemp("free_text")
    raw = build_raw(root)
    result = clean.clean_period(PERIOD, raw, root / "processed", key=KEY, jobs=1)
    return root / "processed" / PERIOD, result


def _texts(folder: Path) -> dict[str, str]:
    """Every processed file as text (Parquet tables through pandas)."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.suffix == ".parquet":
            out[p.name] = pd.read_parquet(p).astype(str).to_csv()
        else:
            out[p.name] = p.read_bytes().decode("utf-8-sig")
    return out


def test_closed_vocabularies_only(cleaned):
    folder, _ = cleaned
    staff = pd.read_parquet(folder / "staff.parquet")
    assert set(staff["status"].dropna()) <= set(parse.EMPLOYMENT_STATUSES)
    assert set(staff["provider"].dropna()) <= {*parse.PROVIDERS, parse.OTHER}
    assert set(staff["position"].dropna()) <= set(parse.POSITIONS)
    by_school = staff.set_index("source_row")
    assert by_school.loc[3, "status"] == "Nghỉ việc"  # read from its leading words
    assert not by_school.loc[3, "active"]
    assert by_school.loc[4, "status"] == parse.OTHER and not by_school.loc[4, "active"]
    assert by_school.loc[5, "position"] == "Giáo viên"
    assert by_school.loc[7, "provider"] == parse.OTHER
    assert by_school.loc[11, "provider"] == parse.OTHER
    schools = pd.read_parquet(folder / "schools.parquet").set_index("school_code")
    assert set(schools["ownership"].dropna()) <= set(parse.OWNERSHIPS)
    assert schools.loc["01020302", "ownership"] == parse.OTHER
    assert schools.loc["01020303", "ward"] == parse.OTHER
    assert "01020304" not in schools.index  # a school name with a phone number: refused
    records = pd.read_parquet(folder / "records.parquet")
    assert records["class_name"].tolist() == ["5A"]


def test_no_planted_value_in_any_processed_file(cleaned):
    folder, _ = cleaned
    texts = _texts(folder)
    assert set(texts) >= {"staff.parquet", "schools.parquet", "quality.json", "quarantine.csv"}
    for name, text in texts.items():
        for phone in [*PHONES, SPACED_PHONE]:
            assert phone not in text, (name, phone)
        assert EMAIL not in text and "@truong.edu.vn" not in text, name
    tables = {n: t for n, t in texts.items() if n.endswith(".parquet")}
    for name, text in tables.items():
        for person in NAMES:
            assert person not in text, (name, person)
        assert "*" not in text, name  # no masked form in a table: those are for the reports


def test_masked_raw_text_only_in_quarantine_and_quality(cleaned):
    folder, result = cleaned
    quality = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    messages = [w["message"] for w in quality["warnings"] if w["code"] == "free_text_other"]
    joined = "\n".join(messages)
    assert "Liên hệ chị Hoa 09********" in joined  # status -> Khác
    assert "Nguyễn Văn A 09********" in joined  # provider -> Khác
    assert "SĐT 09** *** ***" in joined
    assert "Cô Lan 09********" in joined  # ownership -> Khác
    assert "Phường Ngọc Lâm LH 09********" in joined  # ward -> Khác
    unmapped = [c for i in quality["inputs"] for c in i["unmapped_columns"]]
    assert "Liên hệ 09********" in unmapped
    skipped = [s["reason"] for s in quality["skipped_sheets"] if s["sheet"] == "LienHe"]
    assert len(skipped) == 1 and "09********" in skipped[0] and "***@***" in skipped[0]
    rows = {(w["file"], w["row"]) for w in quality["warnings"] if w["code"] == "free_text_other"}
    assert (f"{PERIOD}/CBGVNV.xlsx", 4) in rows and (f"{PERIOD}/CBGVNV.xlsx", 7) in rows
    assert quality["repairs"]["status_other"] == 1 and quality["repairs"]["provider_other"] == 2
    assert quality["left_staff"]["by_status"] == {"Khác": 1, "Nghỉ việc": 1}
    q = result.quarantine.set_index(["source_file", "source_row"])
    bad_role = q.loc[(f"{PERIOD}/CBGVNV.xlsx", 6)]
    assert bad_role["reason"] == "bad_role" and bad_role["value"] == "Trần Thị Bình 09********"
    assert "09********" in bad_role["message"]
    unmatched = q.loc[(f"{PERIOD}/CBGVNV.xlsx", 10)]
    assert unmatched["value"] == "Trường ABC 09********"
    assert "09********" in unmatched["message"] and "0966777888" not in unmatched["message"]
    school = q.loc[(f"{PERIOD}/DanhSachTruong.xlsx", 5)]
    assert school["reason"] == "contact_in_text"
    assert school["value"] == "Trường Tiểu học Sao Mai 09********"
    klass = q.loc[(f"{PERIOD}/HocBa.xlsx", 3)]
    assert klass["reason"] == "contact_in_text" and klass["value"] == "5B - cô Mai 09********"
    # The notebook's view of unmatched schools shows masked names too.
    assert "Trường ABC 09********" in set(result.unmatched()["Tên trường"])


def test_quarantine_csv_neutralises_formula_text(cleaned):
    folder, result = cleaned
    with open(folder / "quarantine.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    values = [r["value"] for r in rows]
    assert "'" + FORMULA_SCHOOL in values  # a leading ' : text, never a formula
    for r in rows:
        for cell in r.values():
            assert not cell or cell[0] not in "=+@", cell
    # The table in memory keeps the true value.
    assert FORMULA_SCHOOL in set(result.quarantine["value"])


def test_school_codes_in_messages_are_not_masked(cleaned):
    """The list's codes (8 digits) stay readable in messages; only raw text is masked."""
    assert privacy.mask_contacts("Trường A (01020301)", keep={"01020301"}) == "Trường A (01020301)"
    assert privacy.mask_contacts("ĐT 0912345678") == "ĐT 09********"
    assert privacy.mask_contacts("thư cho a.b@c.vn nhé") == "thư cho ***@*** nhé"
    assert privacy.mask_contacts("ngày 05/04/2024, 1.127 HS") == "ngày 05/04/2024, 1.127 HS"
    assert privacy.mask_contacts("0912-345-678, 05-04-2024") == "09**-***-***, 05-04-2024"
    assert privacy.mask_contacts("+84 912 345 678") == "+84 *** *** ***"
    assert not privacy.contains_contact("2024-04-05 lúc 12345")
