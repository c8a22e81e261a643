"""The sheet XML looked at before calamine reads it (analysis.ingest.xlsx_scan): the size a sheet
declares (too small, or one stray cell at XFD1048576) and formulas saved without a value.

The workbooks are hand-built zips (the minimal xlsx parts) or written by openpyxl, which saves
formulas with no cached value. Reading a stray cell far off the table runs in a subprocess
with a memory limit: without the scan, calamine asks for 512 GB and aborts the process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from analysis import clean, ingest
from analysis.ingest import xlsx_scan

KEY = b"test-key-for-xlsx-scan"
PERIOD = "2024-04-19"
SRC = str(Path(__file__).resolve().parents[2] / "src")

# ------------------------------------------------------------------------------------------
# hand-built workbooks

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _cell(ref: str, value) -> str:
    """A cell element: str (inline string), int/float, or ("=", formula, cached) with cached
    None (no <v>), "" (an empty <v/>) or a value (a str is saved as t="str")."""
    if isinstance(value, tuple):
        _, formula, cached = value
        f = f"<f>{escape(formula)}</f>"
        if cached is None:
            return f'<c r="{ref}">{f}</c>'
        if isinstance(cached, str):
            return f'<c r="{ref}" t="str">{f}<v>{escape(cached)}</v></c>'
        return f'<c r="{ref}">{f}<v>{cached}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _sheet_xml(cells: dict[tuple[int, int], object], dimension: str | None) -> str:
    """``cells``: 0-based (row, col) -> value."""
    rows: dict[int, list[str]] = {}
    for (r, c), v in sorted(cells.items()):
        rows.setdefault(r, []).append(_cell(xlsx_scan.cell_ref(r, c), v))
    body = "".join(f'<row r="{r + 1}">{"".join(cs)}</row>' for r, cs in sorted(rows.items()))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
        f"{dim}<sheetData>{body}</sheetData></worksheet>"
    )


def write_package(path: Path, sheets: dict[str, str]) -> Path:
    """A minimal .xlsx: content types, rels, workbook, its rels and the sheets' XML."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    sheet_els = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(sheets, 1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_R}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{_CT}.sheet.main+xml"/>{overrides}</Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_NS}" xmlns:r="{_R}">'
            f"<sheets>{sheet_els}</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">{rels}'
            "</Relationships>",
        )
        for i, xml in enumerate(sheets.values(), 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", xml)
    return path


SCHOOL_HEADER = ["STT", "Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh"]


def school_cells(n: int, first_row: int = 1) -> dict[tuple[int, int], object]:
    """A title row, the header (row 2), ``n`` schools (rows 3..)."""
    cells: dict[tuple[int, int], object] = {(0, 0): "DANH SÁCH TRƯỜNG"}
    for c, h in enumerate(SCHOOL_HEADER):
        cells[(first_row, c)] = h
    for i in range(n):
        r = first_row + 1 + i
        for c, v in enumerate(
            [i + 1, f"0102{i:04d}", f"Trường Tiểu học Số {i + 1}", "TH", 10, 300]
        ):
            cells[(r, c)] = v
    return cells


def _far_workbook(path: Path, dimension: str | None = "A1:F4") -> Path:
    cells = school_cells(10)
    cells[(1048575, 16383)] = "ghi chú lạc 0912345678"
    return write_package(path, {"Danh sách": _sheet_xml(cells, dimension)})


def _far_workbook_openpyxl(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    for (r, c), v in school_cells(10).items():
        ws.cell(r + 1, c + 1, v)
    ws["XFD1048576"] = "ghi chú lạc 0912345678"
    wb.save(path)
    return path


_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from analysis import clean, ingest
raw = sys.argv[1]
(t,) = ingest.read_file(raw + "/2024-04-19/truong.xlsx", raw)
r = clean.clean_period("2024-04-19", raw, sys.argv[2], key=b"k", jobs=1)
print(json.dumps({"rows_read": t.rows_read, "data": len(t.data), "classes": t.row_classes,
                  "warnings": r.quality["warnings"], "inputs": r.quality["inputs"]}))
"""


@pytest.mark.parametrize("writer", [_far_workbook, _far_workbook_openpyxl])
def test_far_stray_cell_is_reported_never_allocated(tmp_path, writer):
    raw = tmp_path / "raw"
    (raw / PERIOD).mkdir(parents=True)
    writer(raw / PERIOD / "truong.xlsx")
    env = {**os.environ, "PYTHONPATH": SRC, "RUST_BACKTRACE": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(raw), str(tmp_path / "processed")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rows_read"] == 12 and out["data"] == 10
    assert out["classes"] == {
        "data": 10,
        "title": 1,
        "header": 1,
        "blank": 0,
        "footer": 0,
        "total": 0,
    }
    (inp,) = out["inputs"]
    assert inp["balanced"] and inp["kept"] == 10 and inp["rows_read"] == 12
    far = [w for w in out["warnings"] if w["code"] == "far_cells"]
    assert len(far) == 1 and far[0]["row"] == 1048576
    msg = far[0]["message"]
    assert "XFD1048576" in msg and "A1:F12" in msg
    assert "ghi chú lạc" in msg and "0912345678" not in msg  # the value, phone masked


def test_scan_finds_the_far_cell_and_rewrites_only_that(tmp_path):
    path = _far_workbook(tmp_path / "far.xlsx", dimension=None)
    scan = xlsx_scan.scan_workbook(path)
    s = scan.sheets["Danh sách"]
    assert (s.rows, s.cols, s.extent) == (12, 6, "A1:F12")
    assert [(c.ref, c.text) for c in s.far] == [("XFD1048576", "ghi chú lạc 09********")]
    assert scan.data is not None
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(io.BytesIO(scan.data)) as w:
        assert sorted(z.namelist()) == sorted(w.namelist())
        old = z.read("xl/worksheets/sheet1.xml")
        new = w.read("xl/worksheets/sheet1.xml")
    assert b"XFD1048576" in old and b"XFD1048576" not in new
    assert new.count(b"<c ") == old.count(b"<c ") - 1


def test_too_many_far_cells_is_one_message_naming_the_sheet(tmp_path):
    cells = school_cells(5)
    for i in range(xlsx_scan.MAX_FAR_CELLS + 1):
        cells[(900_000 + i * 100, 16000)] = i
    folder = tmp_path / PERIOD
    folder.mkdir()
    path = write_package(folder / "scattered.xlsx", {"DS": _sheet_xml(cells, None)})
    with pytest.raises(ingest.IngestError) as err:
        ingest.read_file(path, tmp_path)
    msg = err.value.message
    assert "scattered.xlsx" in msg and "“DS”" in msg
    assert xlsx_scan.cell_ref(900_000, 16000) in msg and "xoá" in msg
    assert f"{xlsx_scan.MAX_FAR_CELLS + 1} ô" in msg


def test_declared_dimension_smaller_than_the_rows_reads_every_row(tmp_path):
    folder = tmp_path / PERIOD
    folder.mkdir()
    path = write_package(folder / "csdl.xlsx", {"CSDL": _sheet_xml(school_cells(500), "A1:C4")})
    (t,) = ingest.read_file(path, tmp_path)
    assert t.rows_read == 502 and len(t.data) == 500
    assert t.data.index[-1] == 502 and t.data["school_name"].iloc[-1] == "Trường Tiểu học Số 500"
    assert t.sheet_warnings == []


def test_declared_dimension_too_small_and_a_far_cell_still_reads_every_row(tmp_path):
    cells = school_cells(500)
    cells[(200_000, 3)] = "lạc"
    folder = tmp_path / PERIOD
    folder.mkdir()
    path = write_package(folder / "csdl.xlsx", {"CSDL": _sheet_xml(cells, "A1:C4")})
    (t,) = ingest.read_file(path, tmp_path)
    assert t.rows_read == 502 and len(t.data) == 500
    assert [w["code"] for w in t.sheet_warnings] == ["far_cells"]
    assert "D200001" in t.sheet_warnings[0]["message"]


def test_a_sheet_without_an_empty_band_is_never_cut(tmp_path, monkeypatch):
    # A long header (40 columns) over short rows (2 cells): sparse, so looked at cell by
    # cell, but no empty band of rows or columns: read whole, nothing far.
    monkeypatch.setattr(xlsx_scan, "SMALL_CELLS", 100)
    cells = {(0, c): f"Cột {c}" for c in range(40)}
    cells.update({(r, c): r for r in range(1, 301) for c in (0, 1)})
    path = write_package(tmp_path / "wide.xlsx", {"S": _sheet_xml(cells, None)})
    looked = []
    monkeypatch.setattr(xlsx_scan, "_cut_region", lambda *a: looked.append(1) or cut(*a))
    scan = xlsx_scan.scan_workbook(path)
    assert looked and scan.data is None
    assert scan.sheets["S"].far == [] and scan.sheets["S"].extent == "A1:AN301"


cut = xlsx_scan._cut_region


def test_namespace_prefixed_sheet_is_scanned(tmp_path, monkeypatch):
    xml = (
        _sheet_xml({(0, 0): 1, (0, 1): ("=", "A1", None), (2000, 16383): "x"}, "A1:B1")
        .replace("<worksheet xmlns=", "<x:worksheet xmlns:x=")
        .replace("</worksheet>", "</x:worksheet>")
    )
    for tag in ("dimension", "sheetData", "row", "c", "v", "f", "is", "t"):
        xml = xml.replace(f"<{tag}>", f"<x:{tag}>").replace(f"<{tag} ", f"<x:{tag} ")
        xml = xml.replace(f"</{tag}>", f"</x:{tag}>")
    path = write_package(tmp_path / "prefixed.xlsx", {"S": xml})
    monkeypatch.setattr(xlsx_scan, "SMALL_CELLS", 1000)
    s = xlsx_scan.scan_workbook(path).sheets["S"]
    assert s.declared == "A1:B1" and s.formulas == [(0, 1)]
    assert [(c.ref, c.text) for c in s.far] == [("XFD2001", "x")]


def test_single_quotes_and_line_breaks_in_the_sheet_xml(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_scan, "SMALL_CELLS", 1000)
    cells = school_cells(3)
    cells[(2, 5)] = ("=", "E3*30", None)
    cells[(5000, 300)] = "x"
    xml = _sheet_xml(cells, "A1:F5").replace('"', "'").replace("><", ">\n  <")
    path = write_package(tmp_path / "pretty.xlsx", {"S": xml})
    s = xlsx_scan.scan_workbook(path).sheets["S"]
    assert s.declared == "A1:F5" and s.extent == "A1:F5" and s.formulas == [(2, 5)]
    assert [(c.ref, c.text) for c in s.far] == [("KO5001", "x")]


# ------------------------------------------------------------------------------------------
# formulas


def test_formula_cells_with_and_without_a_cached_value(tmp_path):
    cells = {
        (0, 0): 1,
        (0, 1): ("=", "A1+1", 2),  # cached number
        (0, 2): ("=", 'IF(A1,"Đã cấp","")', "Đã cấp"),  # cached text
        (0, 3): ("=", "A1*2", None),  # no <v>
    }
    xml = _sheet_xml(cells, None)
    # an empty <v/> on a number formula: no value (openpyxl writes these); on a text formula:
    # the empty text Excel saved
    xml = xml.replace(
        "</row>",
        '<c r="E1"><f>A1*3</f><v/></c><c r="F1" t="str"><f>""</f><v></v></c></row>',
    )
    # a shared formula's child without a value
    xml = xml.replace(
        "</sheetData>",
        '<row r="2"><c r="A2"><f t="shared" ref="A2:B2" si="0">A1</f><v>1</v></c>'
        '<c r="B2"><f t="shared" si="0"/></c></row></sheetData>',
    )
    path = write_package(tmp_path / "f.xlsx", {"S": xml})
    s = xlsx_scan.scan_workbook(path).sheets["S"]
    assert [xlsx_scan.cell_ref(r, c) for r, c in s.formulas] == ["D1", "E1", "B2"]


def _school_list_with_formulas(path: Path) -> None:
    """openpyxl: 6 schools, the pupils of rows 5 and 7 and the whole of row 9 as formulas
    (no cached value), a total row of SUM formulas (row 10)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Trường"
    ws.append(["DANH SÁCH TRƯỜNG"])
    ws.append(SCHOOL_HEADER)
    for i in range(6):
        ws.append([i + 1, f"0102{i:04d}", f"Trường Tiểu học Số {i + 1}", "TH", 10, 300])
    ws["F5"] = "=E5*30"
    ws["F7"] = "=E7*30"
    ws.append(["=A8+1", '="01020006"', '="Trường Tiểu học Số 7"', '="TH"', "=E8", "=F8"])
    ws.append([None, None, "Tổng cộng", None, "=SUM(E3:E9)", "=SUM(F3:F9)"])
    wb.save(path)


def test_openpyxl_formulas_are_refused_naming_the_cell_and_the_accounting_balances(tmp_path):
    raw = tmp_path / "raw"
    (raw / PERIOD).mkdir(parents=True)
    _school_list_with_formulas(raw / PERIOD / "truong.xlsx")
    r = clean.clean_period(PERIOD, raw, tmp_path / "processed", key=KEY, jobs=1)
    q = r.quarantine.set_index("source_row")
    assert sorted(q.index) == [5, 7, 9]
    assert set(q["reason"]) == {"formula_no_value"}
    assert q.loc[5, "message"] == (
        f"Tệp “{PERIOD}/truong.xlsx”, trang “Trường”, dòng 5: "
        + xlsx_scan.FORMULA_MESSAGE.format(ref="F5")
    )
    assert "ô F7:" in q.loc[7, "message"] and q.loc[7, "column"] == "Số học sinh"
    assert "ô A9:" not in q.loc[9, "message"]  # STT is not read: the first cell read is named
    assert "ô B9:" in q.loc[9, "message"]
    kept = sorted(r.tables["schools"]["school_code"])
    assert kept == ["01020000", "01020001", "01020003", "01020005"]
    (inp,) = r.quality["inputs"]
    assert inp["rows_read"] == 10 and inp["kept"] == 4 and inp["quarantined"] == 3
    assert inp["non_data"] == {"title": 1, "header": 1, "blank": 0, "footer": 0, "total": 1}
    assert inp["balanced"]
    assert r.quality["quarantine"]["by_reason"] == {"formula_no_value": 3}
    # The total row's SUMs hold no value: said, and no total check pretends to have run.
    unread, w = [w for w in r.quality["warnings"] if w["code"] == "formula_no_value"]
    assert w["row"] == 10 and "dòng tổng" in w["message"] and "E10, F10" in w["message"]
    assert unread["row"] == 9 and "cột không được dùng: A9;" in unread["message"]
    assert r.quality["total_checks"] == []
    saved = json.loads((tmp_path / "processed" / PERIOD / "quality.json").read_text("utf-8"))
    assert saved["quarantine"]["by_reason"] == {"formula_no_value": 3}


def test_cached_formula_values_are_used(tmp_path):
    cells = school_cells(3)
    cells[(2, 5)] = ("=", "E3*30", 300)
    cells[(3, 2)] = ("=", '"Trường Tiểu học Số 2"', "Trường Tiểu học Số 2")
    folder = tmp_path / PERIOD
    folder.mkdir()
    path = write_package(folder / "t.xlsx", {"S": _sheet_xml(cells, None)})
    (t,) = ingest.read_file(path, tmp_path)
    assert t.unread_cells == {} and t.sheet_warnings == []
    assert (
        t.data.loc[3, "n_pupils"] == 300 and t.data.loc[4, "school_name"] == "Trường Tiểu học Số 2"
    )


def test_formula_in_an_unread_column_or_the_header_is_a_warning(tmp_path):
    cells = school_cells(3)
    cells[(1, 6)] = ("=", '"Ghi chú"', None)  # header cell of an unread column
    cells[(2, 7)] = ("=", "E3*2", None)  # a data row, a column not read
    folder = tmp_path / PERIOD
    folder.mkdir()
    path = write_package(folder / "t.xlsx", {"S": _sheet_xml(cells, None)})
    (t,) = ingest.read_file(path, tmp_path)
    assert t.unread_cells == {} and len(t.data) == 3
    codes = [(w["code"], w["row"]) for w in t.sheet_warnings]
    assert codes == [("formula_no_value", 2), ("formula_no_value", 3)]
    assert "G2" in t.sheet_warnings[0]["message"] and "tên cột" in t.sheet_warnings[0]["message"]
    assert "H3" in t.sheet_warnings[1]["message"]


def test_error_values_are_refused_naming_the_cell_never_read_as_blank(tmp_path):
    cells = school_cells(4)
    cells[(3, 5)] = "ERR:#N/A"  # a data row, pupils: refused
    cells[(4, 6)] = "ERR:#REF!"  # a data row, a column not read: a warning
    xml = _sheet_xml(cells, None)
    xml = xml.replace(
        '<c r="F4" t="inlineStr"><is><t>ERR:#N/A</t></is></c>',
        '<c r="F4" t="e"><f>VLOOKUP(B4,Nguon!A:B,2,0)</f><v>#N/A</v></c>',
    ).replace(
        '<c r="G5" t="inlineStr"><is><t>ERR:#REF!</t></is></c>', '<c r="G5" t="e"><v>#REF!</v></c>'
    )
    raw = tmp_path / "raw"
    (raw / PERIOD).mkdir(parents=True)
    write_package(raw / PERIOD / "truong.xlsx", {"Trường": xml})
    scan = xlsx_scan.scan_workbook(raw / PERIOD / "truong.xlsx").sheets["Trường"]
    assert scan.errors == [(3, 5, "#N/A"), (4, 6, "#REF!")] and scan.formulas == []
    r = clean.clean_period(PERIOD, raw, tmp_path / "processed", key=KEY, jobs=1)
    (row,) = r.quarantine.to_dict("records")
    assert row["source_row"] == 4 and row["reason"] == "formula_error"
    assert row["message"].endswith(xlsx_scan.ERROR_MESSAGE.format(ref="F4", error="#N/A"))
    assert len(r.tables["schools"]) == 3
    (w,) = [w for w in r.quality["warnings"] if w["code"] == "formula_error"]
    assert w["row"] == 5 and "G5 #REF!" in w["message"]
    (inp,) = r.quality["inputs"]
    assert inp["balanced"] and (inp["kept"], inp["quarantined"]) == (3, 1)


def test_staff_statuses_computed_by_formula_are_refused_not_counted_unsigned(tmp_path):
    # The case of the issue: "Đã cấp" computed by =IF(...) in a file written by a script.
    raw = tmp_path / "raw"
    (raw / PERIOD).mkdir(parents=True)
    write_package(raw / PERIOD / "truong.xlsx", {"DS": _sheet_xml(school_cells(2), None)})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "CBGVNV"
    ws.append(["STT", "Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Trạng thái CB",
               "Chữ ký số", "Ngày cấp"])  # fmt: skip
    for i in range(4):
        ws.append([i + 1, f"79{i:08d}", f"Người {i}", "Giáo viên", f"0102{i % 2:04d}",
                   "Đang làm việc", "Đã cấp", "01/09/2023"])  # fmt: skip
    ws["G3"] = '=IF(H3<>"","Đã cấp","Chưa cấp")'
    ws["G5"] = '=IF(H5<>"","Đã cấp","Chưa cấp")'
    wb.save(raw / PERIOD / "cbgvnv.xlsx")
    r = clean.clean_period(PERIOD, raw, tmp_path / "processed", key=KEY, jobs=1)
    q = r.quarantine[r.quarantine["kind"] == "cbgvnv"]
    assert list(q["source_row"]) == [3, 5] and set(q["reason"]) == {"formula_no_value"}
    assert "ô G3:" in q["message"].iat[0] and q["column"].iat[0] == "Chữ ký số"
    assert len(r.tables["staff"]) == 2 and r.tables["staff"]["signed"].all()
    staff_in = [i for i in r.quality["inputs"] if i["kind"] == "cbgvnv"]
    assert staff_in[0]["balanced"] and staff_in[0]["quarantined"] == 2
