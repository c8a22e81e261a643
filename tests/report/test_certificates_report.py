"""The certificate tables (issue 15): the school's own certificate (con dấu số), the type of
signature per provider and the providers' certificates matching no staff row; in the metric
tables, the report and the workbook only when the period has the data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from analysis import metrics
from analysis.core import schemas, vocab
from analysis.metrics.unit import _narrow
from tests.processed_fixtures import PERIOD, make_processed

BO_DE, LONG_BIEN = "Phường Bồ Đề", "Phường Long Biên"


def _institution_certificates() -> pd.DataFrame:
    # TH01 and CS02 hold an active certificate; TH02's has expired; the others have none
    df = pd.DataFrame(
        {
            "school_code": ["CS02", "TH01", "TH02"],
            "level": ["THCS", "Tiểu học", "Tiểu học"],
            "ready": [True, True, False],
            "expires_on": pd.to_datetime(["2026-01-01", "2025-12-31", "2024-01-31"]),
            "n_certificates": [1, 2, 1],
            "source_file": f"{PERIOD}/chu_ky_so_to_chuc.xlsx",
            "source_sheet": "Sheet1",
            "source_row": [2, 3, 4],
        }
    )
    return schemas.conform("institution_certificates", df)


def _quality() -> dict:
    return {
        "period": PERIOD,
        "sample": True,
        "certificates": {
            "lists": True,
            "certificates_read": 12,
            "certificates_kept": 12,
            "matched": 9,
            "by_provider": {"VNPT": 4, "Viettel": 8},
            "unmatched_certificate": {
                "total": 3,
                "by_provider": {"VNPT": 1, "Viettel": 2},
                "by_school": {"TH01": 1},
                "by_provider_school": {"VNPT": {"": 1}, "Viettel": {"": 1, "TH01": 1}},
            },
        },
    }


def with_certificates(institutions: bool = True, lists: bool = True) -> metrics.Processed:
    """The fixtures' tables plus communes, the schools' own certificates and a staff list
    joined to the providers' lists (by hand, see the expected numbers in the tests)."""
    p = make_processed()
    schools = p.schools.copy()
    commune = {"TH01": BO_DE, "TH02": BO_DE, "CS01": LONG_BIEN, "CS02": LONG_BIEN}
    schools["commune"] = schools["school_code"].map(commune).astype(schools["commune"].dtype)
    p = replace(p, schools=schools)
    if institutions:
        p = replace(p, institution_certificates=_institution_certificates())
    if lists:
        staff = p.staff.copy()
        ca = [0, 1, 2, 3, 4, 5, 7, 10, 11, 12]  # 7: unsigned, 10: left (not counted)
        staff.loc[ca, "signature_source"] = "ca"
        staff.loc[[0, 1, 2, 3, 11], "cert_type"] = "token"
        staff.loc[[4, 5, 10], "cert_type"] = "remote"
        p = replace(p, staff=schemas.conform("staff", staff), quality=_quality())
    return p


def test_institution_readiness_by_level_and_commune():
    t = metrics.certificate_tables(with_certificates())
    got = t["institution_readiness"]
    rows = [tuple(r) for r in got[["level", "commune", "n_schools", "n_ready"]].to_numpy()]
    T, A = vocab.TOTAL, metrics.ALL
    assert rows == [
        ("Mầm non", A, 1, 0),
        ("Tiểu học", A, 4, 1),
        ("THCS", A, 2, 1),
        (A, BO_DE, 2, 1),
        (A, LONG_BIEN, 2, 1),
        (A, metrics.NO_COMMUNE, 3, 0),
        (T, T, 7, 2),
    ]
    assert got["share"].tolist() == pytest.approx([0, 0.25, 0.5, 0.5, 0.5, 0, 2 / 7])
    without = t["schools_without_seal"]
    assert without["school_code"].tolist() == ["MN01", "TH02", "TH03", "TH04", "CS01"]
    assert without["commune"].tolist() == ["", BO_DE, "", "", LONG_BIEN]


def test_signature_type_and_unmatched():
    t = metrics.certificate_tables(with_certificates())
    got = t["signature_type_by_provider"]
    assert [tuple(r) for r in got.to_numpy()] == [
        ("Viettel", "token", 4),
        ("Viettel", "remote", 1),
        ("VNPT", "token", 1),
        ("VNPT", "remote", 1),
        ("VNPT", "unknown", 1),
    ]
    un = t["unmatched_certificates"]
    assert [tuple(r) for r in un.to_numpy()] == [
        ("Viettel", "TH01", 1),
        ("Viettel", "(không rõ)", 1),
        ("VNPT", "(không rõ)", 1),
    ]
    by = t["certificates_by_provider"]
    assert [tuple(r) for r in by.to_numpy()] == [
        ("Viettel", 8, 6, 2),
        ("VNPT", 4, 3, 1),
        (vocab.TOTAL, 12, 9, 3),
    ]


def test_no_certificate_data_no_tables(tmp_path):
    p = make_processed()
    assert metrics.certificate_tables(p) == {}
    tables = metrics.compute_coverage(p, PERIOD)
    assert not set(tables) & set(metrics.OPTIONAL_TABLES["coverage"])
    # only lists: no institution tables (an empty table is no data, not "no school ready")
    only_lists = metrics.certificate_tables(with_certificates(institutions=False))
    assert sorted(only_lists) == [
        "certificates_by_provider",
        "signature_type_by_provider",
        "unmatched_certificates",
    ]
    only_inst = metrics.certificate_tables(with_certificates(lists=False))
    assert sorted(only_inst) == ["institution_readiness", "schools_without_seal"]


def test_written_by_coverage_and_stale_copy_removed(tmp_path):
    tables = metrics.compute_coverage(with_certificates(), PERIOD)
    metrics.write_tables(tables, tmp_path, "coverage", PERIOD, True)
    for name in metrics.OPTIONAL_TABLES["coverage"]:
        assert (tmp_path / f"{name}.parquet").is_file()
    back = metrics.read_table(tmp_path, "institution_readiness")
    assert back["n_ready"].tolist()[-1] == 2
    # a later run of the same period without these data leaves no stale copy
    metrics.write_tables(metrics.compute_coverage(make_processed(), PERIOD), tmp_path, "coverage")
    for name in metrics.OPTIONAL_TABLES["coverage"]:
        assert not (tmp_path / f"{name}.parquet").exists()
        assert not (tmp_path / f"{name}.csv").exists()


def test_load_processed_reads_institution_certificates(tmp_path):
    from tests.processed_fixtures import write_processed

    write_processed(tmp_path)
    assert metrics.load_processed(tmp_path).institution_certificates.empty
    _institution_certificates().to_parquet(tmp_path / "institution_certificates.parquet")
    p = metrics.load_processed(tmp_path)
    assert p.institution_certificates["school_code"].tolist() == ["CS02", "TH01", "TH02"]
    assert isinstance(p.institution_certificates["expires_on"].iloc[0], pd.Timestamp | date)


# ------------------------------------------------------------------------------ report


def _report_tables(**kw) -> dict[str, pd.DataFrame]:
    from tests.report.test_report import make_tables

    return make_tables() | metrics.certificate_tables(with_certificates(**kw))


SEAL_LINE = (
    "- 2/7 trường (28,6%) đã có chữ ký số của cơ quan (con dấu số) còn hiệu lực tính đến "
    "19/4/2024; còn 5 trường chưa có: Trường Mầm non Hoa Sen, Trường Tiểu học Ái Mộ B, "
    "Trường Tiểu học Thạch Bàn A, Trường Tiểu học Thạch Bàn B, Trường THCS Gia Thụy."
)
MATCH_LINE = (
    "- Danh sách thuê bao của các nhà cung cấp có 12 chứng thư số: 9 khớp với CBGVNV (theo số "
    "CCCD), 3 không khớp CBGVNV nào (Viettel: 6 khớp, 2 không khớp; VNPT: 3 khớp, 1 không khớp)."
)
TYPE_LINE = (
    "- Loại chữ ký số của CBGVNV đã có chữ ký số theo danh sách thuê bao: Viettel: 4 USB Token, "
    "1 ký số từ xa; VNPT: 1 USB Token, 1 ký số từ xa, 1 chưa rõ loại."
)


def _is_seal_table(table) -> bool:
    return [c.text for c in table.rows[0].cells][2:3] == ["Đã có CKS cơ quan"]


HEADING = "4. Chữ ký số của cơ quan và danh sách thuê bao chữ ký số"


def test_report_sentences_and_table(tmp_path):
    from docx import Document

    from analysis import report
    from tests.report.test_report import _table_rows, make_project

    cfg = make_project(tmp_path, tables=_report_tables())
    doc = Document(str(report.write_docx(cfg)[0]))
    texts = [p.text for p in doc.paragraphs]
    at = texts.index(HEADING)
    assert texts[at + 1 : at + 4] == [SEAL_LINE, MATCH_LINE, TYPE_LINE]
    assert any("Chữ ký số của cơ quan (con dấu số) theo cấp học" in t for t in texts)
    table = next(t for t in doc.tables if _is_seal_table(t))
    assert _table_rows(table) == [
        ["Cấp học", "Số trường", "Đã có CKS cơ quan", "Chưa có", "Tỷ lệ"],
        ["Mầm non", "1", "0", "1", "0,0%"],
        ["Tiểu học", "4", "1", "3", "25,0%"],
        ["THCS", "2", "1", "1", "50,0%"],
        ["Tổng cộng", "7", "2", "5", "28,6%"],
    ]


def test_report_lists_only_no_seal_table(tmp_path):
    from docx import Document

    from analysis import report
    from tests.report.test_report import make_project

    cfg = make_project(tmp_path, tables=_report_tables(institutions=False))
    doc = Document(str(report.write_docx(cfg)[0]))
    texts = [p.text for p in doc.paragraphs]
    at = texts.index(HEADING)
    assert texts[at + 1 : at + 3] == [MATCH_LINE, TYPE_LINE]
    assert not any("con dấu số" in t for t in texts)
    assert not [t for t in doc.tables if _is_seal_table(t)]


def test_report_without_certificate_data_says_nothing(tmp_path):
    from docx import Document

    from analysis import report
    from tests.report.test_report import make_project, make_tables

    doc = Document(str(report.write_docx(make_project(tmp_path, tables=make_tables()))[0]))
    texts = [p.text for p in doc.paragraphs]
    assert HEADING not in texts
    assert not any("con dấu số" in t or "thuê bao" in t for t in texts)
    assert not [t for t in doc.tables if _is_seal_table(t)]


# ------------------------------------------------------------------------------ workbook

CERT_SHEETS = [
    "Chữ ký số cơ quan",
    "Trường chưa có CKS cơ quan",
    "Loại chữ ký số",
    "Chứng thư không khớp",
]


def _values(ws) -> list[list]:
    from analysis.report.xlsx import HEADER_ROW

    rows = ws.iter_rows(min_row=HEADER_ROW + 1, max_row=ws.max_row, values_only=True)
    return [[v for v in row if v is not None] for row in rows]


def test_workbook_sheets(tmp_path):
    import openpyxl
    from openpyxl.utils import range_boundaries

    from analysis.report.xlsx import write_xlsx
    from tests.report.test_report import QUALITY, QUARANTINE

    path = tmp_path / "cks.xlsx"
    write_xlsx(_report_tables(), QUALITY, QUARANTINE, path, date(2024, 4, 19), sample=True)
    wb = openpyxl.load_workbook(path)
    assert [n for n in wb.sheetnames if n in CERT_SHEETS] == CERT_SHEETS
    ready = wb["Chữ ký số cơ quan"]
    assert _values(ready) == [
        ["Cấp học", "Xã/phường", "Số trường", "Số trường có CKS cơ quan", "Tỷ lệ"],
        ["Mầm non", "Tất cả", 1, 0, 0],
        ["Tiểu học", "Tất cả", 4, 1, 0.25],
        ["THCS", "Tất cả", 2, 1, 0.5],
        ["Tất cả", BO_DE, 2, 1, 0.5],
        ["Tất cả", LONG_BIEN, 2, 1, 0.5],
        ["Tất cả", metrics.NO_COMMUNE, 3, 0, 0],
        ["Tổng cộng", "Tổng cộng", 7, 2, pytest.approx(2 / 7)],
    ]
    _, _, _, bottom = range_boundaries(ready.auto_filter.ref)
    assert ready.max_row == bottom + 1 and ready.cell(ready.max_row, 1).font.b  # total outside
    without = _values(wb["Trường chưa có CKS cơ quan"])
    assert [r[1] for r in without[1:]] == ["MN01", "TH02", "TH03", "TH04", "CS01"]
    assert _values(wb["Loại chữ ký số"])[1:] == [
        ["Viettel", "USB Token", 4],
        ["Viettel", "Ký số từ xa", 1],
        ["VNPT", "USB Token", 1],
        ["VNPT", "Ký số từ xa", 1],
        ["VNPT", "Chưa rõ loại", 1],
    ]
    assert _values(wb["Chứng thư không khớp"])[1:] == [
        ["Viettel", "TH01", 1],
        ["Viettel", "(không rõ)", 1],
        ["VNPT", "(không rõ)", 1],
    ]
    # without these data: none of the sheets
    plain = tmp_path / "plain.xlsx"
    from tests.report.test_report import make_tables

    write_xlsx(make_tables(), QUALITY, QUARANTINE, plain, date(2024, 4, 19), sample=True)
    assert not set(openpyxl.load_workbook(plain).sheetnames) & set(CERT_SHEETS)


# ------------------------------------------------------------------------------ figure


def test_signature_type_figure_only_with_the_lists(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from analysis import figures

    tables = metrics.certificate_tables(with_certificates())
    fig = figures.render("coverage_signature_type", tables, PERIOD)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    # Viettel (row 0): 4 token + 1 remote; VNPT (row 1): 1 token, 1 remote, 1 unknown
    got = sorted((round(b.get_y() + b.get_height() / 2), b.get_x(), b.get_width()) for b in bars)
    assert got == [(0, 0, 4), (0, 4, 1), (1, 0, 1), (1, 1, 1), (1, 2, 1)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "USB Token", "Ký số từ xa", "Chưa rõ loại",
    ]  # fmt: skip
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Viettel", "VNPT"]
    plt.close(fig)
    out = tmp_path / "figures"
    saved = figures.publish("coverage_signature_type", tables, out, PERIOD)
    assert saved is not None and (out / "coverage_signature_type.png").is_file()
    # a period without the lists: not drawn, the stale copy removed
    plain = metrics.compute_coverage(make_processed(), PERIOD)
    assert figures.publish("coverage_signature_type", plain, out, PERIOD) is None
    assert not (out / "coverage_signature_type.png").exists()
    assert "coverage_signature_type" not in figures.make_all(plain, PERIOD, out, False)


def test_a_communes_report_keeps_only_its_schools_unmatched_certificates():
    """quality.json counts the providers' lists of the whole run: a commune's own report (a
    narrowed Processed) shows the unmatched certificates of its schools only, and not the run's
    totals per provider, which would be another unit's figures."""
    p = with_certificates()
    whole = metrics.certificate_tables(p)
    assert "certificates_by_provider" in whole and len(whole["unmatched_certificates"]) == 3
    keep = p.schools["school_code"].isin(["TH01"])
    one = metrics.certificate_tables(_narrow(p, keep, "Phường Bồ Đề"))
    assert "certificates_by_provider" not in one
    assert [tuple(r) for r in one["unmatched_certificates"].to_numpy()] == [("Viettel", "TH01", 1)]
    keep = p.schools["school_code"].isin(["TH02"])
    other = metrics.certificate_tables(_narrow(p, keep, "Phường Đức Giang"))
    assert other["unmatched_certificates"].empty
