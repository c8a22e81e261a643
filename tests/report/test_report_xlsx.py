"""The Excel workbook, read back with openpyxl: numbers as numbers, formats, frozen header,
filters, title row and sample mark, the quality sheet, and a byte-identical rerun."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from analysis.report import xlsx as report_xlsx
from analysis.report.xlsx import HEADER_ROW, INT_FORMAT, PCT_FORMAT, SAMPLE_TEXT, write_xlsx
from tests.report.test_report import PERIOD, QUALITY, QUARANTINE, make_records, make_tables

DAY = date(2024, 4, 19)
FIRST_DATA = HEADER_ROW + 2  # openpyxl rows are 1-based


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / f"bang_bieu_{PERIOD}.xlsx"
    write_xlsx(make_tables(), QUALITY, QUARANTINE, path, DAY, sample=True, district="Long Biên")
    return path, openpyxl.load_workbook(path)


def _header(ws) -> list[str]:
    return [c.value for c in ws[HEADER_ROW + 1] if c.value is not None]


def _column(ws, header: str) -> list:
    col = _header(ws).index(header) + 1
    return [ws.cell(row=r, column=col) for r in range(FIRST_DATA, ws.max_row + 1)]


def test_sheet_names(workbook):
    _, wb = workbook
    assert wb.sheetnames == [
        "Quy mô",
        "Phụ lục CKS",
        "Theo cấp học",
        "Theo chức vụ",
        "Theo nhà cung cấp",
        "Theo phường",
        "Hạ tầng",
        "Thay đổi so với kỳ trước",
        "Qua các kỳ",
        "Dự báo",
        "Tiến độ đến 30-6",
        "Chất lượng dữ liệu",
    ]  # no expiring certificates, no record signing: no empty sheet for them


def test_record_signing_and_expiring_sheets_when_there_is_data(tmp_path):
    tables = make_tables() | make_records()
    tables["expiring"] = pd.DataFrame(
        {
            "school_code": ["TH01"],
            "school_name": ["Trường Tiểu học Ái Mộ A"],
            "level": ["Tiểu học"],
            "n_signed": [420],
            "n_expiring_window": [3],
            "n_expiring_days": [5],
        }
    )
    path = tmp_path / "hoc_ba.xlsx"
    write_xlsx(tables, QUALITY, QUARANTINE, path, DAY, sample=True)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-5:] == [
        "Tiến độ đến 30-6", "Chứng thư hết hạn", "Ký số học bạ", "Học bạ theo khối",
        "Chất lượng dữ liệu",
    ]  # fmt: skip
    ws = wb["Ký số học bạ"]
    assert [c.value for c in _column(ws, "Tên trường")] == [
        "Trường Tiểu học Ái Mộ A", "Trường Tiểu học Bồ Đề",
    ]  # fmt: skip
    assert [c.value for c in _column(ws, "Số học bạ")] == [1000, 911]
    rate = _column(ws, "Tỷ lệ hiệu trưởng đã duyệt")
    assert rate[1].value == pytest.approx(300 / 911) and rate[1].number_format == PCT_FORMAT
    grades = wb["Học bạ theo khối"]
    assert [c.value for c in _column(grades, "Khối lớp")] == [1, 2]
    assert [c.value for c in _column(wb["Chứng thư hết hạn"], "Hết hạn trước 30/6")] == [3]
    pace = wb["Tiến độ đến 30-6"]
    assert [c.value for c in _column(pace, "Kịp hạn")] == ["Không", "Không", "Không", "Có"]


def test_every_sheet_has_title_mark_frozen_header_and_filter(workbook):
    _, wb = workbook
    for ws in wb.worksheets:
        title = ws["A1"].value
        assert "số liệu tính đến 19/4/2024" in title and title.endswith("Dữ liệu mẫu"), ws.title
        assert ws["A1"].font.b
        assert ws["A2"].value == SAMPLE_TEXT
        assert ws.freeze_panes == f"A{HEADER_ROW + 2}", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{HEADER_ROW + 1}:")
        assert all(c.font.b for c in ws[HEADER_ROW + 1] if c.value is not None)
        assert ws.column_dimensions["A"].width > 5


def test_scale_sheet_values_are_numbers_with_formats(workbook):
    _, wb = workbook
    ws = wb["Quy mô"]
    assert _header(ws)[:4] == ["Cấp học", "Số trường", "Số lớp", "Số học sinh"]
    scale = make_tables()["scale_by_level"]
    rows = [[c.value for c in row[:4]] for row in ws.iter_rows(min_row=FIRST_DATA)]
    assert rows == scale.iloc[:, :4].astype(object).values.tolist()
    pupils = _column(ws, "Số học sinh")
    assert [c.value for c in pupils] == [25915, 34911, 26271, 87097]
    assert all(isinstance(c.value, int) and c.number_format == INT_FORMAT for c in pupils)
    total = list(ws.iter_rows(min_row=ws.max_row))[0]
    assert total[0].value == "Tổng cộng" and all(c.font.b for c in total)
    assert not ws.cell(row=FIRST_DATA, column=2).font.b
    # the filter covers the level rows, not "Tổng cộng": a sort never moves it
    assert ws.auto_filter.ref == f"A{HEADER_ROW + 1}:F{HEADER_ROW + 4}"
    assert ws.max_row == HEADER_ROW + 5


def test_coverage_sheet_ratios_with_percent_format(workbook):
    _, wb = workbook
    ws = wb["Phụ lục CKS"]
    names = [c.value for c in _column(ws, "Tên trường")]
    # level order then Vietnamese name order, STT restarting per level
    assert names == [
        "Trường Tiểu học Ái Mộ A",
        "Trường Tiểu học Bồ Đề",
        "Trường Tiểu học Đức Giang",
        "Trường THCS Gia Thụy",
        "Cộng Tiểu học",
        "Cộng THCS",
        "Tổng cộng",
    ]  # the total rows after the schools, outside the filter
    assert [c.value for c in _column(ws, "STT")] == [1, 2, 3, 1, None, None, None]
    coverage = _column(ws, "Tỷ lệ")
    assert coverage[0].value == pytest.approx(420 / 600)
    assert coverage[-1].value == pytest.approx((1248 + 40) / (1787 + 50))
    assert coverage[-3].value == pytest.approx(1248 / 1787)
    assert all(c.number_format == PCT_FORMAT for c in coverage)
    assert [c.value for c in _column(ws, "Tổng số CBGVNV")] == [600, 600, 587, 50, 1787, 50,
                                                               1837]  # fmt: skip
    assert all(c.font.b for c in _column(ws, "Tổng số CBGVNV")[-3:])
    assert ws.auto_filter.ref.endswith(f"{HEADER_ROW + 1 + 4}")  # 4 schools, no total
    assert [c.value for c in _column(ws, "Nguồn số liệu")][3] == "Bảng tổng hợp"
    by_level = wb["Theo cấp học"]
    th = [row for row in by_level.iter_rows(min_row=FIRST_DATA, values_only=True)][1]
    assert th[0] == "Tiểu học" and th[3:5] == (1787, 1248)
    assert th[5] == pytest.approx(1248 / 1787)
    mn = [row for row in by_level.iter_rows(min_row=FIRST_DATA, values_only=True)][0]
    assert mn[5] is None  # no data is a blank cell, not 0 and not "nan"


def test_every_sheet_prints_a4_landscape_one_page_wide_with_repeated_header(workbook):
    path, wb = workbook
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # 1 page wide (absent = 1, the OOXML default), as many down as needed (0)
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title
        assert ws.print_title_rows == f"${HEADER_ROW + 1}:${HEADER_ROW + 1}", ws.title
        area = ws.print_area
        assert area and area.startswith(f"'{ws.title}'!$A$1:"), (ws.title, area)
        # the title is merged over the table's width and wrapped: never cut on paper
        merged = [str(r) for r in ws.merged_cells.ranges if str(r).startswith("A1:")]
        last_col = area.split(":")[-1].split("$")[1]
        assert merged == [f"A1:{last_col}1"], (ws.title, merged, area)
        assert ws["A1"].alignment.wrap_text
        assert ws.row_dimensions[1].height >= 18  # a line of 14 pt at least


def test_change_in_points_is_a_number_of_points(workbook):
    _, wb = workbook
    change = wb["Thay đổi so với kỳ trước"]
    cells = _column(change, "Thay đổi tỷ lệ (điểm %)")
    assert cells[0].value == pytest.approx((420 / 600 - 400 / 598) * 100)  # +3,1 points
    assert cells[0].number_format == report_xlsx.POINTS_FORMAT
    assert "%" not in cells[0].number_format


def test_labels_dates_and_signed_changes(workbook):
    _, wb = workbook
    roles = [c.value for c in _column(wb["Theo chức vụ"], "Nhóm chức vụ")]
    assert roles == ["Cán bộ quản lý", "Giáo viên", "Nhân viên"]
    change = wb["Thay đổi so với kỳ trước"]
    prev = _column(change, "Kỳ trước")[0]
    assert prev.value == datetime(2024, 3, 22) and prev.number_format == "dd/mm/yyyy"
    assert [c.value for c in _column(change, "Tăng thêm (người)")] == [20, 0, 30, 10]
    infra = wb["Hạ tầng"]
    assert [c.value for c in _column(infra, "Dưới ngưỡng")] == ["Không", "Có"]
    speed = _column(infra, "Tốc độ đường truyền (Mbps)")
    assert speed[0].value == 70 and speed[0].number_format == "#,##0.0"
    proj = wb["Dự báo"]
    assert _column(proj, "Dự kiến đạt 100%")[0].value == datetime(2024, 9, 30)


def test_quality_sheet(workbook):
    _, wb = workbook
    ws = wb["Chất lượng dữ liệu"]
    rows = list(ws.iter_rows(min_row=FIRST_DATA, values_only=True))
    assert rows[0][:6] == (f"{PERIOD}/cbgvnv_th.xlsx", "DS", "cbgvnv", 20, 15, 2)
    assert rows[0][6:11] == (1, 1, 0, 1, 0)
    assert rows[0][11] == "Đúng"  # 20 read = 15 kept + 2 quarantined + 3 non-data
    flat = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "Số dòng bị cách ly theo lý do" in flat
    reasons = [r for r in ws.iter_rows(values_only=True) if r[1] == "school_unmatched"]
    assert reasons == [("cbgvnv", "school_unmatched", 2) + (None,) * (len(reasons[0]) - 3)]
    assert "TH Ai Mo C" not in flat  # offending values stay in quarantine.csv
    warning = [r for r in ws.iter_rows(values_only=True) if r[3] == "rate_mismatch"]
    assert warning[0][:5] == (f"{PERIOD}/tonghop.csv", None, 7, "rate_mismatch",
                              QUALITY["warnings"][0]["message"])  # fmt: skip
    assert [r[:3] for r in ws.iter_rows(values_only=True) if r[1] == "DanhMuc"] == [
        (f"{PERIOD}/cbgvnv_th.xlsx", "DanhMuc", "Không khớp loại bảng")
    ]
    extras = {r[0].strip(): r[3] for r in ws.iter_rows(values_only=True) if r[0] and r[3]}
    assert extras["Số dòng trùng người đã gộp"] == 2
    assert extras["Số CBGVNV không còn làm việc (loại khỏi mẫu số)"] == 5
    assert extras["Số dòng tổng cộng đã đối chiếu với tổng tính lại"] == 2
    assert extras["trong đó không khớp"] == 1


def test_empty_and_missing_tables(tmp_path):
    tables = make_tables()
    del tables["coverage_change"]
    tables["coverage_by_role"] = tables["coverage_by_role"].iloc[0:0]
    path = tmp_path / "b.xlsx"
    write_xlsx(tables, {}, None, path, DAY, sample=False)
    wb = openpyxl.load_workbook(path)
    for name in ("Thay đổi so với kỳ trước", "Theo chức vụ"):
        ws = wb[name]
        assert ws.cell(row=FIRST_DATA, column=1).value == "Chưa có số liệu cho kỳ này."
        assert "Dữ liệu mẫu" not in ws["A1"].value and ws["A2"].value is None
    quality = wb["Chất lượng dữ liệu"]
    assert quality.cell(row=FIRST_DATA, column=1).value == "Chưa có số liệu cho kỳ này."


def test_rerun_is_byte_identical(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for path in (a, b):
        write_xlsx(make_tables(), QUALITY, QUARANTINE, path, DAY, sample=True)
    assert a.read_bytes() == b.read_bytes()
    wb = openpyxl.load_workbook(a)
    assert wb.properties.created == datetime(2024, 4, 19)


def test_accounting_table_balances():
    df = report_xlsx.accounting_table(QUALITY)
    assert df["balanced"].tolist() == [True, True]
    broken = dict(QUALITY["inputs"][0], kept=14)
    assert report_xlsx.accounting_table({"inputs": [broken]})["balanced"].tolist() == [False]
    mapping = {"x.xlsx|S": {"kind": "truong", "rows_read": 3, "kept": 3, "quarantined": 0}}
    as_map = report_xlsx.accounting_table({"inputs": mapping})
    assert as_map.loc[0, "source_file"] == "x.xlsx|S" and bool(as_map.loc[0, "balanced"])
    assert pd.api.types.is_bool_dtype(as_map["balanced"])


@pytest.mark.libreoffice
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice/poppler chưa cài (apt-get install libreoffice-calc-nogui poppler-utils)",
)
def test_printed_workbook_keeps_titles_and_is_one_page_wide(workbook, tmp_path):
    """LibreOffice prints the workbook: every sheet's title whole, every column on the page
    (the last header of each sheet is in the text of the page its title is on)."""
    import subprocess

    path, wb = workbook
    profile = tmp_path / "profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "pdf", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / (path.stem + ".pdf")
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    squash = [" ".join(page.split()) for page in pages]
    for ws in wb.worksheets:
        title = " ".join(str(ws["A1"].value).split())
        on = [i for i, page in enumerate(squash) if title in page]
        assert on, f"{ws.title}: title cut or missing"
        last_header = [c.value for c in ws[HEADER_ROW + 1] if c.value is not None][-1]
        assert any(w in squash[on[0]] for w in str(last_header).split()), ws.title


def test_no_total_row_inside_any_filter_range(tmp_path):
    """A sort or a filter never moves or hides a total: every row saying "Tổng cộng" (per
    role, per provider, per period too, even where the table interleaves them) lies below the
    autofilter range, in bold."""
    from openpyxl.utils import range_boundaries

    tables = make_tables()
    tables["coverage_by_role"] = pd.DataFrame(
        {
            "level": ["Tiểu học", "Tổng cộng", "Tiểu học", "Tổng cộng"],
            "role": ["CBQL", "CBQL", "GV", "GV"],
            "n_staff": [10, 12, 100, 130],
            "n_signed": [9, 10, 60, 70],
            "coverage": [0.9, 10 / 12, 0.6, 70 / 130],
        }
    )
    tables["coverage_by_ward"] = pd.DataFrame(
        {
            "ward": ["Bồ Đề", "Tổng cộng", "Ái Mộ"],
            "n_staff": [10, 30, 20],
            "n_signed": [5, 20, 15],
            "coverage": [0.5, 20 / 30, 0.75],
        }
    )
    path = tmp_path / "totals.xlsx"
    write_xlsx(tables, QUALITY, QUARANTINE, path, DAY, sample=True)
    wb = openpyxl.load_workbook(path)
    roles = wb["Theo chức vụ"]
    assert [c.value for c in _column(roles, "Cấp học")] == [
        "Tiểu học", "Tiểu học", "Tổng cộng", "Tổng cộng"
    ]  # fmt: skip
    seen = 0
    for ws in wb.worksheets:
        if ws.title == "Chất lượng dữ liệu":
            continue
        _, top, _, bottom = range_boundaries(ws.auto_filter.ref)
        for row in ws.iter_rows(min_row=top + 1, max_row=ws.max_row):
            texts = [c for c in row if isinstance(c.value, str)]
            if any(c.value == "Tổng cộng" or c.value.startswith("Cộng ") for c in texts):
                seen += 1
                assert row[0].row > bottom, (ws.title, row[0].row, ws.auto_filter.ref)
                assert any(c.font.b for c in texts), (ws.title, row[0].row)
    assert seen >= 5
