"""Leak scan of the whole batch (issue 12): canaries planted in the sample's raw files.

The sample raw folder is copied to a temporary folder; in period 2024-04-19 two staff lists are
rewritten (a UTF-8 CSV with pandas, an xlsx with openpyxl) with fictional canary values in the
personal columns (name, phone, e-mail) and in the free-text columns (employment status,
position, provider, signature status, a note column). The batch runs for that period, then EVERY
file it wrote (processed tables, quarantine, quality, cache, executed notebooks, figures as SVG
and PNG, the Word report and the workbook unzipped, tables, manifest, logs) is scanned:

- the personal-column canaries and the e-mail: nowhere;
- the phone numbers: no run of 6 or more digits taken from them, anywhere;
- the free-text name: only in ``quarantine.csv`` / ``quality.json`` (where raw free text may
  be shown, masked);
- provider texts that look like formulas never become one in the workbook, and are neutralised
  (a leading ') in the CSV files meant for people.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis import batch, paths
from analysis.core import privacy

pytestmark = pytest.mark.slow

PERIOD = "2024-04-19"
CSV_FILE = "THCS_NgocLam_CBGVNV.csv"
XLSX_FILE = "THCS_PhucLoi_CBGVNV.xlsx"

CANARY_NAME = "Canary Nguyễn Thị Mẫu"  # typed in free-text columns
CANARY_PHONE = "0900111222"
CANARY_EMAIL = "canary.mau@example.invalid"
CANARY_PERSONAL_NAME = "Canary Họ Tên Riêng"  # in the personal columns
CANARY_PERSONAL_PHONE = "0900333444"
PHONES = (CANARY_PHONE, CANARY_PERSONAL_PHONE)
FREE = f"{CANARY_NAME} {CANARY_PHONE}"
# provider texts that look like formulas (no provider's name in them)
FORMULAS = ("=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "=1+2", "-2+3+cmd|' /C calc'!A0")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_missing = [f for f in (CSV_FILE, XLSX_FILE) if not (paths.RAW_DIR / PERIOD / f).is_file()]
if _missing or not (paths.NOTEBOOKS_DIR / "10_clean.ipynb").is_file():
    pytestmark = [
        pytest.mark.slow,
        pytest.mark.skip(reason=f"sample data or notebooks missing: {_missing}"),
    ]


def plant_csv(path: Path) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[0, "Họ tên"] = CANARY_PERSONAL_NAME
    df.loc[0, "Điện thoại"] = CANARY_PERSONAL_PHONE
    df.loc[0, "Email"] = CANARY_EMAIL
    df.loc[1, "Trạng thái"] = f"Nghỉ phép, liên hệ {FREE}"
    df.loc[2, "Vị trí việc làm"] = f"Giáo viên (nhờ {CANARY_NAME}, {CANARY_PHONE})"
    df.loc[3, "Đơn vị cung cấp"] = f"Mua qua {CANARY_NAME} ĐT {CANARY_PHONE}"
    df.loc[4, "Vị trí việc làm"] = FREE
    df.loc[5, "Trạng thái chữ ký số"] = f"Đã cấp - hỏi {FREE}"
    df["Ghi chú"] = ""
    df.loc[6, "Ghi chú"] = f"Gọi {FREE} hoặc {CANARY_EMAIL}"
    df.loc[7, "Đơn vị cung cấp"] = FORMULAS[0]
    df.loc[8, "Đơn vị cung cấp"] = FORMULAS[1]
    df.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def plant_xlsx(path: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]

    def nfc(v) -> str:
        return unicodedata.normalize("NFC", str(v)).strip()

    header_row = next(
        r for r in range(1, 21) if any(nfc(c.value) == "Mã định danh" for c in ws[r] if c.value)
    )
    col = {nfc(c.value): c.column for c in ws[header_row] if c.value}
    note = ws.max_column + 1
    ws.cell(header_row, note, "Ghi chú")
    first = header_row + 1
    ws.cell(first, col["Nhà cung cấp"], f"Mua qua {CANARY_NAME} ĐT {CANARY_PHONE}")
    ws.cell(first + 1, col["Trạng thái CB"], f"Nghỉ phép, liên hệ {FREE}")
    ws.cell(first + 2, col["Chức vụ"], f"Giáo viên (nhờ {CANARY_NAME}, {CANARY_PHONE})")
    ws.cell(first + 3, note, f"Gọi {FREE} hoặc {CANARY_EMAIL}")
    ws.cell(first + 4, col["Họ và tên"], CANARY_PERSONAL_NAME)
    ws.cell(first + 5, col["Chức vụ"], FREE)
    for i, text_ in enumerate(FORMULAS[2:]):
        cell = ws.cell(first + 6 + i, col["Nhà cung cấp"], text_)
        cell.data_type = "s"  # text in the raw file, as a person typed it
    wb.save(path)


def file_texts(path: Path) -> list[str]:
    """Everything a person or a program could read from one file."""
    data = path.read_bytes()
    out = [data.decode("utf-8", "replace")]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                out.append(name)
                out.append(zf.read(name).decode("utf-8", "replace"))
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
        out.append(table.astype(str).to_csv())
        out.append(json.dumps(table.attrs, ensure_ascii=False, default=str))
    if path.suffix in (".json", ".ipynb"):
        try:
            out.append(json.dumps(json.loads(data), ensure_ascii=False))
        except ValueError:
            pass
    return out


def phone_runs(text_: str) -> set[str]:
    """Digit runs of 6 or more that are taken from a canary phone."""
    return {run for run in re.findall(r"\d{6,}", text_) if any(run in phone for phone in PHONES)}


@pytest.fixture(scope="module")
def leak_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaks")
    raw = root / "raw"
    shutil.copytree(paths.RAW_DIR, raw)
    plant_csv(raw / PERIOD / CSV_FILE)
    plant_xlsx(raw / PERIOD / XLSX_FILE)
    mp = pytest.MonkeyPatch()
    mp.setenv(privacy.KEY_ENV, (b"e2e-leak-scan-key").hex())
    try:
        code = batch.main(
            [
                "--raw-dir",
                str(raw),
                "--processed-dir",
                str(root / "processed"),
                "--output-dir",
                str(root / "outputs"),
                "--period",
                PERIOD,
                "--quiet",
            ]
        )
    finally:
        mp.undo()
    return code, root


def test_canaries_were_planted_and_read(leak_run):
    code, root = leak_run
    assert code == 0
    for name in (CSV_FILE, XLSX_FILE):
        blob = "\n".join(file_texts(root / "raw" / PERIOD / name))
        assert CANARY_NAME in blob or "Canary" in blob, name
    quality = json.loads((root / "processed" / PERIOD / "quality.json").read_text(encoding="utf-8"))
    read = {i["file"] for i in quality["inputs"]}
    assert f"{PERIOD}/{CSV_FILE}" in read and f"{PERIOD}/{XLSX_FILE}" in read


def test_no_canary_in_any_output_file(leak_run):
    code, root = leak_run
    assert code == 0
    files = [
        p for d in ("processed", "outputs") for p in sorted((root / d).rglob("*")) if p.is_file()
    ]
    suffixes = {p.suffix for p in files}
    assert {".parquet", ".docx", ".xlsx", ".ipynb", ".svg", ".png", ".json", ".csv"} <= suffixes
    assert len(files) > 30
    masked_only = {
        root / "processed" / PERIOD / "quarantine.csv",
        root / "processed" / PERIOD / "quality.json",
    }
    leaks = []
    seen_readable = False
    for p in files:
        rel = p.relative_to(root).as_posix()
        for t in file_texts(p):
            seen_readable = seen_readable or "Tiểu học" in t
            for never in (CANARY_PERSONAL_NAME, CANARY_EMAIL, "canary.mau@", *PHONES):
                if never in t:
                    leaks.append((rel, never))
            for run in sorted(phone_runs(t)):
                leaks.append((rel, f"digits {run}"))
            if p not in masked_only and "Canary" in t:
                i = t.index("Canary")
                leaks.append((rel, t[max(0, i - 40) : i + 60]))
    assert seen_readable  # the scan read real text
    assert not leaks, {"files": sorted({r for r, _ in leaks}), "first": sorted(set(leaks))[:12]}


def _is_number(text_: str) -> bool:
    try:
        float(text_.replace(",", "."))
    except ValueError:
        return False
    return True


def test_no_data_value_becomes_a_formula(leak_run):
    """Provider texts starting with = @ - (planted above) reach tables and the workbook: the
    workbook holds no formula at all (the suite writes none), and no text cell of a CSV meant
    for people (quarantine.csv, outputs/**/tables) starts with = + - @ tab or CR (a leading
    ' neutralises it)."""
    import csv

    code, root = leak_run
    assert code == 0
    out = root / "outputs" / PERIOD
    books = sorted(out.rglob("*.xlsx"))
    assert books
    formulas = []
    for book in books:
        with zipfile.ZipFile(book) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/"):
                    found = re.findall(r"<f[ >][^<]*", zf.read(name).decode("utf-8"))
                    formulas += [(book.name, name, f) for f in found]
    assert not formulas, formulas[:10]
    csvs = [root / "processed" / PERIOD / "quarantine.csv", *sorted(out.rglob("tables/*.csv"))]
    bad = []
    for path in csvs:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                bad += [
                    (path.name, c)
                    for c in row
                    if c.startswith(FORMULA_START) and not _is_number(c.strip())
                ]
    assert not bad, bad[:10]
