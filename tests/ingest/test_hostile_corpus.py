"""The hostile-file corpus (tests/hostile/, README there): files as other programs write them.

Each test copies fixtures into a temporary raw period with the district's school list, runs the
real cleaning (``analysis.clean.clean_period``) and checks what must come out, written from the
data contract (../shared/spec/data-contract.md) and counted by hand from the fixture's source
(tests/hostile/make_corpus.py), never by calling the suite's own helpers: the counts, the row
accounting read back from quality.json (rows read = kept + quarantined + non-data), the
quarantine reasons read back from quarantine.csv, or the one Vietnamese message naming the file.

One test (or one parametrised family) per defect class, so that a failure names its class.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from analysis import clean
from analysis.ingest import IngestError

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
P = "2025-03-14"
KEY = b"hostile-corpus-test-key"
SRC = Path(__file__).resolve().parents[2] / "src"

# -- the fictional district, as typed in make_corpus.py (counted by hand) -------------------

S_MN_HOA_SEN, S_TH_HOA_SEN, S_TH_SAO_MAI = "01010001", "01020001", "01020002"
S_THCS_SAO_MAI, S_MN_BINH_MINH, S_THCS_DOAN_KET = "01030001", "01010002", "01030002"
SCHOOL_CODES = {S_MN_HOA_SEN, S_TH_HOA_SEN, S_TH_SAO_MAI, S_THCS_SAO_MAI, S_MN_BINH_MINH,
                S_THCS_DOAN_KET}  # fmt: skip
SCHOOL_LEVELS = {
    S_MN_HOA_SEN: "Mầm non",
    S_TH_HOA_SEN: "Tiểu học",
    S_TH_SAO_MAI: "Tiểu học",
    S_THCS_SAO_MAI: "THCS",
    S_MN_BINH_MINH: "Mầm non",
    S_THCS_DOAN_KET: "THCS",
}
SCHOOL_NAMES = {
    S_MN_HOA_SEN: "Trường Mầm non Hoa Sen",
    S_TH_HOA_SEN: "Trường Tiểu học Hoa Sen",
    S_TH_SAO_MAI: "Trường Tiểu học Sao Mai",
    S_THCS_SAO_MAI: "Trường THCS Sao Mai",
    S_MN_BINH_MINH: "Trường Mầm non Bình Minh",
    S_THCS_DOAN_KET: "Trường THCS Đoàn Kết",
}
N_CLASSES, N_PUPILS = 8 + 20 + 15 + 18 + 6 + 12, 240 + 700 + 520 + 690 + 180 + 450  # 79, 2780
# The school list: rows 1-2 title, 3 blank, 4 header, 5-10 schools, 11 total, 12 blank,
# 13 footer.
SCHOOL_ROWS_READ, SCHOOL_KEPT = 13, 6

# The staff list (20 people; title row 1, header row 2, person n on row n + 2, row 23 blank,
# row 24 footer): rows 12, 16, 17, 20 of the list are refused.
STAFF_ROWS_READ, STAFF_DATA = 24, 20
STAFF_QUARANTINE = {14: "bad_status", 18: "bad_date", 19: "missing_id", 22: "expiry_before_issue"}
STAFF_KEPT = STAFF_DATA - len(STAFF_QUARANTINE)  # 16 (two of them left: 11 Nghỉ hưu, 18 Chuyển đi)
STAFF_LEFT = {"Nghỉ hưu": 1, "Chuyển đi": 1}
# active staff per school: (staff, signed, pending)
STAFF_BY_SCHOOL = {
    S_MN_HOA_SEN: (3, 2, 0),  # people 1, 2, 3 (1 and 3 signed)
    S_TH_HOA_SEN: (5, 3, 1),  # 4, 5, 6, 7, 8 (4, 5, 8 signed; 7 pending)
    S_TH_SAO_MAI: (3, 2, 0),  # 9, 10, 19 (9, 19 signed; 11 left, 12 refused)
    S_THCS_SAO_MAI: (3, 2, 0),  # 13, 14, 15 (13, 14 signed; 16, 17 refused, 18 left)
}
STAFF_ACTIVE, STAFF_SIGNED = 14, 9
# the per-school counts: Bình Minh 10/4, Đoàn Kết 25/20; Hoa Sen MN 3/3 (the list wins)
COUNTS_BY_SCHOOL = {S_MN_BINH_MINH: (10, 4), S_THCS_DOAN_KET: (25, 20)}

STAFF_PERSONAL = [f"Người Thử Nghiệm Số {i:02d}" for i in range(1, 21)] + [
    f"09003334{i:02d}" for i in range(1, 21)
]

CANARY_NAME = "Canary Nguyễn Thị Mẫu"
CANARY_PHONE = "0900111222"
CANARY_EMAIL = "canary.mau@example.invalid"
CANARY_PERSONAL_NAME = "Canary Họ Tên Riêng"
CANARY_PERSONAL_PHONE = "0900333444"

PROVIDERS = {"Viettel", "VNPT", "FPT", "BKAV", "MISA", "VGCA"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# -- helpers (independent of the suite) --------------------------------------------------------


def fold(s: str) -> str:
    """lower case, no diacritics, single spaces (đ -> d)."""
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.lower().split())


def make_raw(tmp_path: Path, files: dict[str, Path], school_list: bool = True) -> Path:
    """``raw/<P>/`` with the district's school list (xlsx by LibreOffice) and ``files``
    (name inside the period folder -> fixture)."""
    raw = tmp_path / "raw"
    period = raw / P
    period.mkdir(parents=True)
    if school_list:
        shutil.copy(HOSTILE / "district" / "xlsx" / "DanhSachTruong.xlsx", period)
    for rel, src in files.items():
        dst = period / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    return raw


def run_clean(raw: Path, tmp_path: Path):
    return clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)


def quality_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "processed" / P / "quality.json").read_text(encoding="utf-8"))


def quarantine_of(tmp_path: Path) -> pd.DataFrame:
    return pd.read_csv(
        tmp_path / "processed" / P / "quarantine.csv",
        encoding="utf-8-sig",
        dtype=str,
        keep_default_na=False,
    )


def table_of(tmp_path: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "processed" / P / f"{name}.parquet")


def input_of(quality: dict, file_end: str) -> dict:
    hits = [i for i in quality["inputs"] if i["file"].endswith(file_end)]
    assert len(hits) == 1, (file_end, [i["file"] for i in quality["inputs"]])
    return hits[0]


def assert_balanced(quality: dict) -> None:
    """rows read = kept + quarantined + non-data, recomputed here for every input sheet."""
    for i in quality["inputs"]:
        nd = sum(i["non_data"].values())
        assert i["rows_read"] == i["kept"] + i["quarantined"] + nd, i


def reasons_at(tmp_path: Path, file_end: str) -> dict[int, str]:
    q = quarantine_of(tmp_path)
    q = q[q["source_file"].str.endswith(file_end)]
    return {int(r): reason for r, reason in zip(q["source_row"], q["reason"], strict=True)}


def by_school(tmp_path: Path) -> dict[str, tuple]:
    sbs = table_of(tmp_path, "signature_by_school")
    return {
        r.school_code: (int(r.n_staff), int(r.n_signed), int(r.n_pending), r.basis)
        for r in sbs.itertuples()
    }


def assert_district_schools(tmp_path: Path) -> None:
    s = table_of(tmp_path, "schools").set_index("school_code")
    assert set(s.index) == SCHOOL_CODES
    assert s["level"].to_dict() == SCHOOL_LEVELS
    assert s["school_name"].to_dict() == SCHOOL_NAMES
    assert int(s["n_classes"].sum()) == N_CLASSES and int(s["n_pupils"].sum()) == N_PUPILS


def assert_district_staff(tmp_path: Path, staff_file_end: str) -> None:
    """The 20-person staff list, whatever program wrote it."""
    q = quality_of(tmp_path)
    assert_balanced(q)
    st = input_of(q, staff_file_end)
    assert st["kind"] == "cbgvnv"
    assert (st["rows_read"], st["kept"], st["quarantined"]) == (
        STAFF_ROWS_READ,
        STAFF_KEPT,
        len(STAFF_QUARANTINE),
    )
    assert reasons_at(tmp_path, staff_file_end) == STAFF_QUARANTINE
    staff = table_of(tmp_path, "staff")
    staff = staff[staff["source_file"].str.endswith(staff_file_end)]
    assert len(staff) == STAFF_KEPT
    assert int(staff["active"].sum()) == STAFF_ACTIVE
    assert int((staff["signed"] & staff["active"]).sum()) == STAFF_SIGNED
    assert q["left_staff"]["by_status"] == STAFF_LEFT
    got = by_school(tmp_path)
    for code, (n, signed, pending) in STAFF_BY_SCHOOL.items():
        assert got[code] == (n, signed, pending, "list"), code


def all_output_text(processed: Path) -> dict[str, str]:
    """Every file written under the processed folder, as text (parquet read as a table)."""
    out = {}
    for p in sorted(processed.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(processed).as_posix()
        raw = p.read_bytes()
        text_ = raw.decode("utf-8", "replace")
        if p.suffix == ".parquet":
            text_ += "\n" + pd.read_parquet(p).astype(str).to_csv()
        out[rel] = text_
    return out


def windows(digits: str, n: int = 6) -> list[str]:
    return [digits[i : i + n] for i in range(len(digits) - n + 1)]


def soffice_or_skip() -> str:
    exe = shutil.which("soffice")
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return exe


# -- 0. the corpus itself ---------------------------------------------------------------------


def test_corpus_files_small_and_made_without_the_sample_generator():
    files = [p for p in HOSTILE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > 30
    assert all(p.stat().st_size < 50_000 for p in files), [
        p for p in files if p.stat().st_size >= 50_000
    ]
    src = (HOSTILE / "make_corpus.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+analysis", src, re.M)
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for p in files:
        if p.parent.name != "sources" and p.name not in ("README.md", "make_corpus.py"):
            assert p.name in readme, p.name


# -- 1. the district as LibreOffice saves it: xlsx, ods, xls ---------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "xls"])
def test_district_saved_by_libreoffice(tmp_path, fmt):
    d = HOSTILE / "district" / fmt
    raw = make_raw(
        tmp_path,
        {p.name: p for p in sorted(d.iterdir())},
        school_list=False,
    )
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    sch = input_of(q, f"DanhSachTruong.{fmt}")
    assert (sch["rows_read"], sch["kept"], sch["quarantined"]) == (SCHOOL_ROWS_READ, SCHOOL_KEPT, 0)
    assert_district_schools(tmp_path)
    # the total row (a formula with its cached value) is checked against the sum, and agrees
    checks = {c["column"]: c["ok"] for c in q["total_checks"] if c["kind"] == "truong"}
    assert checks.get("n_classes") is True and checks.get("n_pupils") is True
    assert_district_staff(tmp_path, f"CBGVNV.{fmt}")
    cnt = input_of(q, f"TongHopCKS.{fmt}")
    assert (cnt["rows_read"], cnt["kept"], cnt["quarantined"]) == (6, 3, 0)
    got = by_school(tmp_path)
    for code, (n, signed) in COUNTS_BY_SCHOOL.items():
        assert got[code] == (n, signed, 0, "counts"), code
    assert got[S_MN_HOA_SEN][3] == "list"  # the list wins over the count row
    assert "list_and_counts" in {w["code"] for w in q["warnings"]}
    assert len(got) == 6
    blob = "\n".join(all_output_text(tmp_path / "processed").values())
    for value in STAFF_PERSONAL:
        assert value not in blob, value


# -- 2. the staff list as text: CR, mixed endings, UTF-16 "Unicode Text", cp1258 with ';' ---


@pytest.mark.parametrize(
    "name",
    [
        "CBGVNV_mac_cr.csv",
        "CBGVNV_mixed_endings.csv",
        "CBGVNV_unicode_text.txt",
        "CBGVNV_cp1258_semicolon.csv",
    ],
)
def test_staff_list_as_text(tmp_path, name):
    raw = make_raw(tmp_path, {name: HOSTILE / "staff_text" / name})
    run_clean(raw, tmp_path)
    assert_district_schools(tmp_path)
    assert_district_staff(tmp_path, name)
    staff = table_of(tmp_path, "staff")
    # the text was decoded right (no mojibake, no replacement character)
    assert "Phó hiệu trưởng" in set(staff["position"]) or "Tổng phụ trách Đội" in set(
        staff["position"]
    )
    assert not staff.astype(str).apply(lambda c: c.str.contains("\ufffd")).any().any()


def test_quoted_fields_with_line_breaks(tmp_path):
    """A note typed with Alt+Enter: quoted CR, LF, CRLF inside fields (rows below shift by the
    line breaks: only the figures are checked, not the row numbers)."""
    name = "CBGVNV_quoted_line_breaks.csv"
    raw = make_raw(tmp_path, {name: HOSTILE / "staff_text" / name})
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    st = input_of(q, name)
    assert (st["kept"], st["quarantined"]) == (STAFF_KEPT, len(STAFF_QUARANTINE))
    assert sorted(reasons_at(tmp_path, name).values()) == sorted(STAFF_QUARANTINE.values())
    got = by_school(tmp_path)
    for code, (n, signed, pending) in STAFF_BY_SCHOOL.items():
        assert got[code] == (n, signed, pending, "list"), code


# -- 3. an HTML table saved as .xls (web exports) ---------------------------------------------


@pytest.mark.parametrize("name", ["CBGVNV_web_export.xls", "CBGVNV_web_export_bom_meta.xls"])
def test_html_table_saved_as_xls(tmp_path, name):
    raw = make_raw(tmp_path, {name: HOSTILE / "html_xls" / name})
    run_clean(raw, tmp_path)
    assert_district_staff(tmp_path, name)


# -- 4. a late file in a sub-folder belongs to the period ----------------------------------------


def test_file_in_subfolder_belongs_to_the_period(tmp_path):
    late = "Gửi bổ sung/TH_SaoMai_bo_sung.csv"
    raw = make_raw(
        tmp_path,
        {
            "CBGVNV.xlsx": HOSTILE / "district" / "xlsx" / "CBGVNV.xlsx",
            late: HOSTILE / "subfolder" / late,
        },
    )
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    rec = input_of(q, late)
    assert rec["file"] == f"{P}/{late}"  # source_file keeps the sub-path
    assert (rec["rows_read"], rec["kept"], rec["quarantined"]) == (3, 2, 0)
    staff = table_of(tmp_path, "staff")
    assert sorted(staff.loc[staff["source_file"] == f"{P}/{late}", "source_row"]) == [2, 3]
    # Sao Mai TH: 3 (the list) + 2 (the late file), 2 + 1 signed
    assert by_school(tmp_path)[S_TH_SAO_MAI] == (5, 3, 0, "list")


# -- 5. formulas saved without a value ----------------------------------------------------------


def test_formula_without_cached_value_is_refused_naming_the_cell(tmp_path):
    name = "CKS_cong_thuc.xlsx"
    raw = make_raw(tmp_path, {name: HOSTILE / "formulas" / name})
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    # rows 4, 5, 7: 'Chữ ký số' (column F) is =IF(...) with no saved value
    assert reasons_at(tmp_path, name) == {4: "formula_no_value", 5: "formula_no_value",
                                          7: "formula_no_value"}  # fmt: skip
    qq = quarantine_of(tmp_path)
    for row in (4, 5, 7):
        msg = qq.loc[qq["source_row"] == str(row), "message"].iat[0]
        assert f"F{row}" in msg, msg
    assert by_school(tmp_path)[S_TH_SAO_MAI] == (3, 2, 0, "list")  # rows 3, 6, 8


# -- 6. a sheet's declared size: a stray cell at XFD1048576; A1:C4 holding 300 rows ------------

_STRAY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    limit = 4 * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from analysis import clean
    raw, out, period = sys.argv[1:4]
    r = clean.clean_period(period, raw, out, key=b"stray", jobs=1)
    staff = r.tables["staff"]
    print(json.dumps({"inputs": r.quality["inputs"], "staff": len(staff),
                      "signed": int(staff["signed"].sum())}))
    """
)


def test_stray_cell_at_xfd1048576_in_a_memory_limited_process(tmp_path):
    """Never opened in this process: a regression (allocating the declared 16384 x 1048576
    grid) must fail this test, not take the machine down."""
    name = "CBGVNV_stray_XFD1048576.xlsx"
    raw = make_raw(tmp_path, {name: HOSTILE / "xlsx_dimension" / name})
    env = {**os.environ, "PYTHONPATH": str(SRC), "ANALYSIS_JOBS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _STRAY_SCRIPT, str(raw), str(tmp_path / "processed"), P],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rec = next(i for i in res["inputs"] if i["file"].endswith(name))
    assert (rec["kept"], rec["quarantined"]) == (6, 0)
    nd = sum(rec["non_data"].values())
    assert rec["rows_read"] == rec["kept"] + rec["quarantined"] + nd
    assert res["staff"] == 6 and res["signed"] == 3


def test_declared_dimension_smaller_than_the_data(tmp_path):
    name = "CBGVNV_dimension_A1_C4.xlsx"
    raw = make_raw(tmp_path, {name: HOSTILE / "xlsx_dimension" / name})
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    rec = input_of(q, name)
    assert (rec["rows_read"], rec["kept"], rec["quarantined"]) == (301, 300, 0)
    got = by_school(tmp_path)
    # odd rows: Hoa Sen TH (text code), even rows: Sao Mai THCS (number code); 1 in 3 signed
    assert got[S_TH_HOA_SEN][:2] == (150, 50) and got[S_THCS_SAO_MAI][:2] == (150, 50)


# -- 7. bad files: one Vietnamese message naming the file, saying what is wrong -----------------

_ENGLISH = re.compile(r"Traceback|\b\w+(Error|Exception)\b|\bline \d+\b|codec")


def _stop_message(tmp_path: Path, name: str) -> str:
    raw = make_raw(tmp_path, {name: HOSTILE / "bad_files" / name})
    with pytest.raises((IngestError, clean.CleanError)) as exc:
        run_clean(raw, tmp_path)
    msg = str(exc.value)
    assert name in msg, msg
    assert not (tmp_path / "processed" / P).exists()  # nothing half-written
    return msg


def test_header_beyond_row_20_has_its_own_message(tmp_path):
    name = "CBGVNV_header_row25.csv"
    msg = _stop_message(tmp_path, name)
    said = msg.replace(f"{P}/{name}", "").replace(name, "").replace(P, "")
    assert re.search(r"(?<!\d)20(?!\d)", said) and "tieu de" in fold(said), msg
    assert not _ENGLISH.search(msg), msg


def test_csv_named_xlsx_is_read_by_its_content_and_said(tmp_path):
    """A CSV renamed .xlsx (an officer's rename): its rows are read by what the bytes are, and
    quality.json says, in its own Vietnamese message naming the file, that it is a CSV."""
    name = "CBGVNV_csv_named.xlsx"
    raw = make_raw(tmp_path, {name: HOSTILE / "bad_files" / name})
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    rec = input_of(q, name)
    assert rec["kind"] == "cbgvnv" and rec["kept"] + rec["quarantined"] >= 1
    (w,) = [w for w in q["warnings"] if w.get("code") == "read_by_content"]
    assert name in w["file"] and "csv" in w["message"].lower(), w
    assert not _ENGLISH.search(w["message"]), w


def test_unknown_encoding_has_its_own_message(tmp_path):
    msg = _stop_message(tmp_path, "CBGVNV_utf32.csv")
    f = fold(msg)
    assert "ma hoa" in f or "bang ma" in f, msg
    assert not _ENGLISH.search(msg), msg


# -- 8. text that looks like a formula ---------------------------------------------------------


def test_formula_like_text_neutralised_in_quarantine_csv(tmp_path):
    name = "CBGVNV_injection.csv"
    raw = make_raw(tmp_path, {name: HOSTILE / "injection" / name})
    run_clean(raw, tmp_path)
    assert_balanced(quality_of(tmp_path))
    data = (tmp_path / "processed" / P / "quarantine.csv").read_text(encoding="utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(data)) for c in row]
    assert any("HYPERLINK" in c for c in cells)  # the school name was refused and shown
    starting = [c for c in cells if c.startswith(FORMULA_START)]
    assert not starting, starting
    assert any(c.startswith("'=HYPERLINK") for c in cells), [c for c in cells if "HYPER" in c]
    # providers: only the providers' list (or Khác) leaves the cleaning stage
    staff = table_of(tmp_path, "staff")
    assert set(staff["provider"].dropna()) <= PROVIDERS | {"Khác"}


# -- 9. free text holding a name, a phone number, an e-mail ------------------------------------


@pytest.mark.parametrize("name", ["CBGVNV_free_text.csv", "CBGVNV_free_text.xlsx"])
def test_free_text_becomes_khac_and_never_leaks(tmp_path, name):
    raw = make_raw(tmp_path, {name: HOSTILE / "free_text" / name})
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_balanced(q)
    rec = input_of(q, name)
    assert rec["rows_read"] == 8 and rec["kept"] + rec["quarantined"] == 6
    staff = table_of(tmp_path, "staff").set_index("source_row")
    # row 3: status with a name and a phone (not "Đang làm việc": out of the denominator)
    # ("Nghỉ phép, ..." is read by its leading words as the closed status "Tạm nghỉ")
    assert staff.loc[3, "status"] in ("Khác", "Tạm nghỉ") and not staff.loc[3, "active"]
    # row 4: a role word with a name and a phone beside it
    assert staff.loc[4, "position"] == "Giáo viên" and staff.loc[4, "role"] == "GV"
    # row 5: a provider that is not on the providers' list
    assert staff.loc[5, "provider"] == "Khác" and staff.loc[5, "signed"]
    # row 6: the note column (not kept); row 8: an ordinary row
    assert 6 in staff.index
    assert staff.loc[8, "provider"] == "MISA" and staff.loc[8, "position"] == "Hiệu trưởng"
    if 7 in staff.index:  # a position that is only a name and a phone: Khác, or refused
        assert staff.loc[7, "position"] == "Khác"
    for col in ("status", "provider", "position"):
        assert not staff[col].dropna().str.contains(r"\d{6}|Canary|@", regex=True).any(), col
    texts = all_output_text(tmp_path / "processed")
    assert texts
    for rel, t in texts.items():
        for never in (CANARY_PERSONAL_NAME, CANARY_PERSONAL_PHONE, CANARY_EMAIL, "canary.mau@"):
            assert never not in t, (rel, never)
        for w in windows(CANARY_PHONE):
            assert w not in t, (rel, w)
        if rel.endswith(("quarantine.csv", "quality.json")):
            continue  # the free text may be shown there, masked
        assert "Canary" not in t and "Mẫu" not in t, rel


# -- 10. codes: the width comes from the codes stored as text ---------------------------------


def test_code_width_from_text_cells_not_the_most_common_length(tmp_path):
    raw = make_raw(
        tmp_path,
        {
            "DanhSachTruong_ma_so.xlsx": HOSTILE / "code_width" / "DanhSachTruong_ma_so.xlsx",
            "CBGVNV_theo_ma.csv": HOSTILE / "code_width" / "CBGVNV_theo_ma.csv",
        },
        school_list=False,
    )
    run_clean(raw, tmp_path)
    assert set(table_of(tmp_path, "schools")["school_code"]) == SCHOOL_CODES
    staff = table_of(tmp_path, "staff").set_index("source_row")
    assert staff["school_code"].to_dict() == {
        2: S_TH_HOA_SEN,
        3: S_THCS_DOAN_KET,
        4: S_MN_BINH_MINH,
        5: S_TH_SAO_MAI,
    }


# -- 11. a level written in the name binds the match -----------------------------------------


def test_level_in_school_name_binds_the_match(tmp_path):
    name = "CBGVNV_cap_hoc_trong_ten.csv"
    raw = make_raw(tmp_path, {name: HOSTILE / "level_binding" / name})
    run_clean(raw, tmp_path)
    assert_balanced(quality_of(tmp_path))
    staff = table_of(tmp_path, "staff").set_index("source_row")
    assert staff["school_code"].to_dict() == {
        2: S_TH_HOA_SEN,
        3: S_MN_HOA_SEN,
        4: S_TH_HOA_SEN,
        8: S_THCS_SAO_MAI,
    }
    assert reasons_at(tmp_path, name) == {
        5: "unmatched_school",
        6: "unmatched_school",
        7: "unmatched_school",
    }
    qq = quarantine_of(tmp_path)
    wanted = {5: "Tiểu học", 6: "THCS", 7: "Mầm non"}
    for row, level in wanted.items():
        msg = qq.loc[qq["source_row"] == str(row), "message"].iat[0]
        named = sorted((msg.find(n), code) for code, n in SCHOOL_NAMES.items() if n in msg)
        levels = [SCHOOL_LEVELS[code] for _, code in named]
        if level in levels:  # candidates of the right level come before the others
            assert levels[: levels.count(level)] == [level] * levels.count(level), (row, msg)
        assert level in msg, (row, msg)  # the message says which level the name states


# -- 12. files that are not read: listed; lock and system files: ignored --------------------------


def _mentions(obj, needle: str) -> list:
    """The dicts/lists of ``obj`` (JSON) holding a string that contains ``needle``."""
    found = []
    if isinstance(obj, dict):
        if any(isinstance(v, str) and needle in v for v in obj.values()):
            found.append(obj)
        for v in obj.values():
            found += _mentions(v, needle)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, str) and needle in v:
                found.append(obj)
            else:
                found += _mentions(v, needle)
    return found


def test_unread_files_listed_and_lock_and_system_files_ignored(tmp_path):
    files = {p.name: p for p in (HOSTILE / "district" / "xlsx").iterdir()}
    files.update({p.name: p for p in (HOSTILE / "not_read").iterdir()})
    raw = make_raw(tmp_path, files, school_list=False)
    run_clean(raw, tmp_path)
    q = quality_of(tmp_path)
    assert_district_staff(tmp_path, "CBGVNV.xlsx")
    for listed in ("huong_dan.pdf", "bien_ban.docx"):
        hits = [h for h in _mentions(q, listed) if h not in q["inputs"]]
        assert hits, f"{listed} is not listed in quality.json"
        # with a reason: some other non-empty text beside the name
        h = hits[0]
        values = h.values() if isinstance(h, dict) else h
        assert any(isinstance(v, str) and v and listed not in v for v in values), h
    for ignored in ("~$lock.xlsx", ".DS_Store", "Thumbs.db"):
        assert not _mentions(q, ignored), ignored


# -- 13. LibreOffice itself (regenerates the files from the sources) ----------------------------


def _convert(src: Path, fmt: str, outdir: Path) -> Path:
    exe = soffice_or_skip()
    profile = outdir.parent / "lo-profile"
    subprocess.run(
        [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    out = outdir / f"{src.stem}.{fmt.split(':')[0]}"
    assert out.is_file()
    return out


@pytest.mark.libreoffice
def test_libreoffice_converts_the_sources_again(tmp_path):
    """The committed district files are what LibreOffice makes of sources/*.fods today: the
    school list to xlsx, the staff list to a ';' UTF-8 CSV (the StarCalc text filter)."""
    soffice_or_skip()
    conv = tmp_path / "conv"
    school = _convert(HOSTILE / "sources" / "DanhSachTruong.fods", "xlsx", conv)
    staff = _convert(
        HOSTILE / "sources" / "CBGVNV.fods", "csv:Text - txt - csv (StarCalc):59,34,76,1", conv
    )
    work = tmp_path / "w"
    work.mkdir()
    raw = make_raw(work, {school.name: school, staff.name: staff}, school_list=False)
    run_clean(raw, work)
    assert_district_schools(work)
    assert_district_staff(work, staff.name)
