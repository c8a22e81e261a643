"""No data text becomes a formula, a hyperlink or a field in a file the suite writes.

Processed tables whose school names, wards and providers start with ``=``, ``+``, ``@``, ``-``
(and a URL) go through the metric tables (Parquet + CSV), the workbook and the Word report;
the files are read back as bytes / XML: the CSV cells carry a leading ``'`` (numbers stay
numbers), the workbook has no ``<f>`` element nor hyperlink and holds the text as text, the
Word report has no field but the template's page numbers.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pytest

from analysis import metrics, report
from analysis.core import exports
from analysis.report.xlsx import write_xlsx
from tests.processed_fixtures import PERIOD, make_processed, metric_tables
from tests.report.test_report import QUALITY, QUARANTINE, make_project, make_tables

DAY = date(2024, 4, 19)

#: Planted names: each a formula (or a link) if a spreadsheet read it as one.
NAMES = {
    "TH01": '=HYPERLINK("http://evil.example/x","Bấm vào")',
    "TH02": "+1+cmd|' /C calc'!A0",
    "CS01": "@SUM(1+1)*cmd|' /C calc'!A0",
    "CS02": "-2+3+cmd|' /C calc'!A0",
    "TH04": "http://evil.example/trường",
}
WARD = "=1+1 Bồ Đề"
PROVIDER = "@Viettel"
PLANTED = [*NAMES.values(), WARD, PROVIDER]


def _planted_processed():
    p = make_processed()
    schools = p.schools.copy()
    schools["school_name"] = schools["school_code"].map(NAMES).fillna(schools["school_name"])
    schools.loc[schools["school_code"] == "TH01", "ward"] = WARD
    staff = p.staff.copy()
    staff["provider"] = staff["provider"].replace({"Viettel": PROVIDER})
    p.schools, p.staff = schools, staff
    return p


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    tables = metric_tables(_planted_processed())
    out = root / "tables"
    metrics.write_tables(tables, out, "coverage", PERIOD, True)
    quality = dict(QUALITY)
    quality["warnings"] = [dict(QUALITY["warnings"][0], message="=1+1 cảnh báo")]
    quarantine = QUARANTINE.assign(value=["=cmd|' /C calc'!A0", "@x", "-1"])
    xlsx = write_xlsx(tables, quality, quarantine, root / "bang_bieu.xlsx", DAY, sample=True)
    return tables, out, xlsx


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),  # a spreadsheet may trim the spaces first
        ("-3", "-3"),  # a plain number is no formula
        ("+84", "+84"),
        ("-1,5%", "-1,5%"),
        ("Trường Tiểu học Ái Mộ A", "Trường Tiểu học Ái Mộ A"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert exports.neutralise(value) == expected


def test_csv_bytes_touches_text_cells_only():
    df = pd.DataFrame(
        {
            "name": pd.array(["=1+1", "Ái Mộ", None], dtype="str"),
            "obj": ["@x", 5, None],
            "delta": [-3, 2, 0],
            "share": [-0.25, 0.5, float("nan")],
            "cat": pd.Categorical(["+x", "y", None]),
        }
    )
    text = exports.csv_bytes(df).decode("utf-8")
    assert text.splitlines() == [
        "name,obj,delta,share,cat",
        "'=1+1,'@x,-3,-0.25,'+x",
        "Ái Mộ,5,2,0.5,y",
        ",,0,,",
    ]
    assert df["name"].iloc[0] == "=1+1"  # the frame itself is not changed
    assert exports.csv_bytes(df, bom=True).startswith(b"\xef\xbb\xbf")


# ------------------------------------------------------------------ metric tables (CSV)


def _cells(path) -> list[str]:
    """Every cell of a CSV file as written (csv module, so quoting is undone)."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_metric_csv_neutralised_parquet_true(planted):
    tables, out, _ = planted
    seen = set()
    for name in tables:
        cells = _cells(out / f"{name}.csv")
        for cell in cells:
            assert not (cell[:1] in "=+@" and cell), (name, cell)
            assert not (cell.startswith("-") and not re.fullmatch(r"-[0-9.e-]+", cell)), cell
        seen |= {v for v in PLANTED if "'" + v in cells}
        # The Parquet copy keeps the true value.
        df = pd.read_parquet(out / f"{name}.parquet")
        for col in df.columns:
            if df[col].dtype == object or isinstance(df[col].dtype, pd.StringDtype):
                assert not df[col].dropna().astype(str).str.startswith("'").any(), (name, col)
    assert seen >= {NAMES["TH01"], NAMES["TH02"], NAMES["CS01"], NAMES["CS02"], PROVIDER}
    school = pd.read_parquet(out / "coverage_by_school.parquet")
    assert set(NAMES.values()) <= set(school["school_name"])


def test_metric_csv_negative_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"school_name": ["-x", "A"], "delta_signed": [-5, 3], "d": [-0.1, 0.2]})
    metrics.write_tables({"a_table": df}, tmp_path)
    lines = (tmp_path / "a_table.csv").read_text(encoding="utf-8").splitlines()
    assert "'-x,-5,-0.1" in lines[1]


# ------------------------------------------------------------------ workbook


def _sheet_xml(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {
            n: z.read(n).decode("utf-8")
            for n in z.namelist()
            if n.startswith("xl/worksheets/") and n.endswith(".xml")
        }


def test_workbook_has_no_formula_nor_hyperlink(planted):
    _, _, xlsx = planted
    sheets = _sheet_xml(xlsx)
    assert sheets
    for name, xml in sheets.items():
        assert "<f>" not in xml and "<f " not in xml, name
        assert "<hyperlink" not in xml, name
    with zipfile.ZipFile(xlsx) as z:
        names = z.namelist()
        assert not any("externalLink" in n for n in names)
        rels = [z.read(n).decode() for n in names if n.endswith(".rels")]
        assert not any("hyperlink" in r for r in rels)
    wb = openpyxl.load_workbook(xlsx)
    texts = {
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    for value in [*NAMES.values(), WARD, PROVIDER, "=1+1 cảnh báo"]:
        assert value in texts, value  # the text itself, as text
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)


def test_workbook_formula_check_fails_with_the_default_options(tmp_path, monkeypatch):
    """The check above can fail: xlsxwriter's default turns ``=...`` into a formula."""
    import xlsxwriter

    real = xlsxwriter.Workbook

    def default_options(path, options=None):
        options = dict(options or {})
        options.pop("strings_to_formulas", None)
        return real(path, options)

    monkeypatch.setattr("analysis.report.xlsx.xlsxwriter.Workbook", default_options)
    tables = make_tables()
    tables["coverage_by_school"] = tables["coverage_by_school"].assign(school_name="=1+1")
    path = write_xlsx(tables, QUALITY, QUARANTINE, tmp_path / "b.xlsx", DAY, sample=False)
    assert any("<f>" in xml for xml in _sheet_xml(path).values())


# ------------------------------------------------------------------ Word report


def test_word_report_has_no_field_from_data(tmp_path):
    tables = make_tables()
    school = tables["coverage_by_school"].copy()
    school.loc[0, "school_name"] = '=HYPERLINK("http://evil.example")'
    school.loc[1, "school_name"] = "{ PAGE } @SUM(1)"
    tables["coverage_by_school"] = school
    tables["coverage_by_provider"] = tables["coverage_by_provider"].assign(provider="=cmd")
    cfg = make_project(tmp_path, tables=tables)
    path, _ = report.write_docx(cfg)
    with zipfile.ZipFile(path) as z:
        xml = "".join(
            z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/") and ".xml" in n
        )
    instr = [t.strip() for t in re.findall(r"<w:instrText[^>]*>([^<]*)<", xml)]
    assert set(instr) <= {"PAGE", "NUMPAGES"}, instr
    assert "<w:fldSimple" not in xml and "<w:hyperlink" not in xml
    from docx import Document

    doc = Document(io.BytesIO(path.read_bytes()))
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "{ PAGE } @SUM(1)" in cells
