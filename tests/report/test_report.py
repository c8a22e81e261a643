"""The Word report: settings, template, figures from hand-made metric tables, determinism.

The metric tables below are written as parquet into a temporary ``outputs/<period>/tables``
folder, the way ``analysis.metrics.write_tables`` does, with tiny PNG figures made by
matplotlib; the report is rendered and read back with python-docx.

Primary (Tiểu học): three schools, 600 + 600 + 587 = 1787 staff, 418 + 420 + 410 = 1248
signed, so the sentence must say 1.248/1.787 (đạt 69,8%): the reference's figures, written
with the Vietnamese thousands separator like every other number.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from docx import Document  # noqa: E402
from docx.shared import Length, Mm  # noqa: E402

from analysis import metrics, paths, report
from analysis.core import parallel, text
from analysis.core.fmt import fmt_int, fmt_pct  # noqa: E402
from analysis.report import fontmetrics  # noqa: E402

PERIOD = "2024-04-19"
PREV = "2024-03-22"
REPO_SETTINGS = paths.RAW_DIR / PERIOD / "bao_cao.toml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

TH_SCHOOLS = [
    # code, name, ward, staff, signed, pending, prev staff, prev signed
    ("TH03", "Trường Tiểu học Đức Giang", "Đức Giang", 587, 410, 5, 587, 380),
    ("TH01", "Trường Tiểu học Ái Mộ A", "Bồ Đề", 600, 420, 3, 598, 400),
    ("TH02", "Trường Tiểu học Bồ Đề", "Bồ Đề", 600, 418, 0, 600, 418),
]


def make_tables() -> dict[str, pd.DataFrame]:
    """Metric tables with the contract's columns (docs/ARCHITECTURE.md)."""
    scale = pd.DataFrame(
        {
            "level": ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"],
            "n_schools": [82, 33, 27, 142],
            "n_classes": [1127, 926, 661, 2714],
            "n_pupils": [25915, 34911, 26271, 87097],
            "n_pupils_with_id": [25915, 34911, 26271, 87097],
            "n_pupils_verified": [25000, 34911, 26271, 86182],
        }
    ).astype({c: "Int64" for c in ["n_schools", "n_classes", "n_pupils"]})
    th = pd.DataFrame(
        TH_SCHOOLS,
        columns=[
            "school_code",
            "school_name",
            "ward",
            "n_staff",
            "n_signed",
            "n_pending",
            "sp",
            "gp",
        ],
    )
    by_school = th.assign(level="Tiểu học", basis="list")
    by_school = pd.concat(
        [
            by_school,
            pd.DataFrame(
                [("CS01", "Trường THCS Gia Thụy", "Gia Thụy", 50, 40, 0, 50, 30)],
                columns=th.columns,
            ).assign(level="THCS", basis="counts"),
        ],
        ignore_index=True,
    )
    by_school["coverage"] = by_school["n_signed"] / by_school["n_staff"]
    by_school["rank_in_level"] = (
        by_school.groupby("level")["coverage"].rank(method="first").astype("Int64")
    )
    coverage_by_school = by_school[
        ["school_code", "school_name", "level", "ward", "n_staff", "n_signed", "n_pending",
         "coverage", "basis", "rank_in_level"]
    ]  # fmt: skip
    th_staff, th_signed = int(th["n_staff"].sum()), int(th["n_signed"].sum())
    coverage_by_level = pd.DataFrame(
        {
            "level": ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"],
            "n_schools": [82, 33, 27, 142],
            "n_schools_reporting": [0, 3, 1, 4],
            "n_staff": [0, th_staff, 50, th_staff + 50],
            "n_signed": [0, th_signed, 40, th_signed + 40],
        }
    )
    coverage_by_level["coverage"] = coverage_by_level["n_signed"] / coverage_by_level[
        "n_staff"
    ].where(lambda s: s > 0)
    change = by_school.rename(columns={"sp": "n_staff_prev", "gp": "n_signed_prev"})
    change = change.assign(
        prev_period=PREV,
        coverage_prev=change["n_signed_prev"] / change["n_staff_prev"],
        delta_signed=change["n_signed"] - change["n_signed_prev"],
    )
    change["delta_coverage"] = change["coverage"] - change["coverage_prev"]
    coverage_change = change[
        ["school_code", "school_name", "level", "prev_period", "n_staff_prev", "n_signed_prev",
         "coverage_prev", "n_staff", "n_signed", "coverage", "delta_signed", "delta_coverage"]
    ]  # fmt: skip
    role = pd.DataFrame(
        {
            "level": ["Tiểu học"] * 3,
            "role": ["CBQL", "GV", "NV"],
            "n_staff": [99, 1400, 288],
            "n_signed": [99, 1000, 149],
        }
    )
    role["coverage"] = role["n_signed"] / role["n_staff"]
    provider = pd.DataFrame(
        {
            "level": ["Tiểu học", "Tiểu học"],
            "provider": ["Viettel", "VNPT"],
            "n_signed": [1200, 48],
        }
    )
    provider["share"] = provider["n_signed"] / 1248
    history = pd.DataFrame(
        {
            "period": ["2024-02-23", PREV, PERIOD],
            "level": ["Tiểu học"] * 3,
            "n_staff": [1780, 1785, 1787],
            "n_signed": [1000, 1198, 1248],
        }
    )
    history["coverage"] = history["n_signed"] / history["n_staff"]
    projection = pd.DataFrame(
        {
            "level": ["Tiểu học"],
            "model": ["Hồi quy tuyến tính"],
            "n_points": pd.array([3], dtype="Int64"),
            "date_100": ["2024-09-30"],
            "date_100_low": ["2024-08-15"],
            "date_100_high": ["2024-12-01"],
            "note": ["Theo xu hướng của 3 kỳ, dự kiến đạt 100% vào khoảng 30/9/2024."],
        }
    )
    infra_school = pd.DataFrame(
        {
            "school_code": ["TH01", "TH02"],
            "school_name": ["Trường Tiểu học Ái Mộ A", "Trường Tiểu học Bồ Đề"],
            "level": ["Tiểu học", "Tiểu học"],
            "n_fibre": [2, 1],
            "speed_mbps": [70.0, 150.0],
            "n_computers": pd.array([6, 5], dtype="Int64"),
            "n_pupils": [1200, 900],
            "computers_per_100_pupils": [0.5, 0.555],
            "below_threshold": [False, True],
        }
    )
    infra = pd.DataFrame(
        {
            "n_schools_reporting": [142],
            "n_fibre": [246],
            "speed_min": [70.0],
            "speed_median": [100.0],
            "n_computers": [866],
            "n_schools_below": [3],
        }
    )
    ward = pd.DataFrame(
        {"ward": ["Bồ Đề"], "n_staff": [1200], "n_signed": [838], "coverage": [838 / 1200]}
    )
    return {
        "signing_pace": metrics.signing_pace(coverage_change, PERIOD),
        "scale_by_level": scale,
        "coverage_by_school": coverage_by_school,
        "coverage_by_level": coverage_by_level,
        "coverage_change": coverage_change,
        "coverage_by_role": role,
        "coverage_by_provider": provider,
        "coverage_by_ward": ward,
        "coverage_history": history,
        "projection": projection,
        "infrastructure_by_school": infra_school,
        "infrastructure_summary": infra,
    }


def make_records() -> dict[str, pd.DataFrame]:
    """Record signing (hoc_ba) of two primary schools, grades 1 and 2."""
    by_school = pd.DataFrame(
        {
            "school_code": ["TH01", "TH02"],
            "school_name": ["Trường Tiểu học Ái Mộ A", "Trường Tiểu học Bồ Đề"],
            "level": ["Tiểu học", "Tiểu học"],
            "n_records": [1000, 911],
            "n_signed_teacher": [950, 800],
            "n_signed_principal": [900, 300],
        }
    )
    by_grade = pd.DataFrame(
        {
            "level": ["Tiểu học", "Tiểu học"],
            "grade": pd.array([1, 2], dtype="Int64"),
            "n_records": [1000, 911],
            "n_signed_teacher": [900, 850],
            "n_signed_principal": [700, 500],
        }
    )
    by_level = pd.DataFrame(
        {
            "level": ["Tiểu học", "Tổng cộng"],
            "n_records": [1911, 1911],
            "n_signed_teacher": [1750, 1750],
            "n_signed_principal": [1200, 1200],
        }
    )
    out = {}
    for name, df in (("records_by_school", by_school), ("records_by_grade", by_grade),
                     ("records_by_level", by_level)):  # fmt: skip
        out[name] = df.assign(
            rate_teacher=df["n_signed_teacher"] / df["n_records"],
            rate_principal=df["n_signed_principal"] / df["n_records"],
        )
    return out


QUALITY = {
    "period": PERIOD,
    "sample": True,
    "inputs": [
        {
            "source_file": f"{PERIOD}/cbgvnv_th.xlsx",
            "source_sheet": "DS",
            "kind": "cbgvnv",
            "rows_read": 20,
            "kept": 15,
            "quarantined": 2,
            "non_data": {"title": 1, "header": 1, "total": 0, "blank": 1, "footer": 0},
        },
        {
            "source_file": f"{PERIOD}/tonghop.csv",
            "source_sheet": "",
            "kind": "tonghop_cks",
            "rows_read": 10,
            "kept": 8,
            "quarantined": 1,
            "non_data": {"title": 0, "header": 1, "total": 0, "blank": 0, "footer": 0},
        },
    ],
    "repairs": {"legacy_tcvn3": 4, "number_text": 7},
    "duplicates": {"rows_removed": 2, "persons_with_duplicates": 2},
    "left_staff": {"by_status": {"Nghỉ hưu": 3, "Chuyển đi": 2}, "total": 5},
    "total_checks": [{"column": "n_pupils", "ok": True}, {"column": "n_staff", "ok": False}],
    "warnings": [
        {
            "code": "rate_mismatch",
            "file": f"{PERIOD}/tonghop.csv",
            "sheet": "",
            "row": 7,
            "kind": "tonghop_cks",
            "message": "Tỷ lệ ghi 94.7% khác tỷ lệ tính từ số liệu 53/54 = 98.1%.",
        }
    ],
    "skipped_sheets": [
        {"file": f"{PERIOD}/cbgvnv_th.xlsx", "sheet": "DanhMuc", "reason": "Không khớp loại bảng"}
    ],
}
QUARANTINE = pd.DataFrame(
    {
        "source_file": [f"{PERIOD}/cbgvnv_th.xlsx"] * 2 + [f"{PERIOD}/tonghop.csv"],
        "source_sheet": ["DS", "DS", ""],
        "source_row": ["7", "9", "4"],
        "kind": ["cbgvnv", "cbgvnv", "tonghop_cks"],
        "reason": ["school_unmatched", "school_unmatched", "signed_gt_total"],
        "message": ["Không khớp trường", "Không khớp trường", "Số đã ký lớn hơn tổng số"],
        "column": ["Tên trường", "Tên trường", "Số đã có CKS"],
        "value": ["TH Ai Mo C", "TH X", "55"],
    }
)
FIGURES = ("coverage_by_school", "coverage_history")


@functools.cache
def _png_bytes(label: str) -> bytes:
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.bar(["A", "B"], [0.7, 0.5])
    ax.set_title(label)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _png(path: Path, label: str) -> None:
    path.write_bytes(_png_bytes(label))


def make_project(
    root: Path,
    *,
    sample: bool = True,
    period_settings: bool = True,
    tables: dict | None = None,
    figures=FIGURES,
) -> paths.RunConfig:
    """A tmp project: raw (settings, sample mark), processed (quality), outputs (tables, PNGs)."""
    raw = root / "raw"
    (raw / PERIOD).mkdir(parents=True)
    if sample:
        (raw / paths.SAMPLE_MARK_FILE).write_text("Dữ liệu mẫu\n", encoding="utf-8")
    if period_settings:
        shutil.copy(REPO_SETTINGS, raw / PERIOD / "bao_cao.toml")
    cfg = paths.RunConfig(PERIOD, raw, root / "processed", root / "outputs")
    cfg.processed.mkdir(parents=True)
    quality = dict(QUALITY, sample=sample)
    (cfg.processed / "quality.json").write_text(json.dumps(quality, ensure_ascii=False), "utf-8")
    QUARANTINE.to_csv(cfg.processed / "quarantine.csv", index=False)
    cfg.tables.mkdir(parents=True)
    for name, df in (make_tables() if tables is None else tables).items():
        df.to_parquet(cfg.tables / f"{name}.parquet", index=False)
    cfg.figures.mkdir(parents=True)
    for name in figures:
        _png(cfg.figures / f"{name}.png", name)
    return cfg


@pytest.fixture
def project(tmp_path) -> paths.RunConfig:
    return make_project(tmp_path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[paths.RunConfig, Path, Document]:
    """One report rendered for the read-only checks (tests must not modify it)."""
    cfg = make_project(tmp_path_factory.mktemp("rendered"))
    path, _ = report.write_docx(cfg)
    return cfg, path, Document(str(path))


def _texts(doc) -> list[str]:
    """Every paragraph text, body and table cells, in order."""
    out = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                out += [p.text for p in cell.paragraphs]
    return out


def _para(doc, startswith: str):
    for p in doc.paragraphs:
        if p.text.startswith(startswith):
            return p
    raise AssertionError(f"no paragraph starting with {startswith!r}")


def _table_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if not cells or cell._tc is not cells[-1][1]:  # merged cells repeat
                cells.append((cell.text, cell._tc))
        rows.append([text for text, _ in cells])
    return rows


# ------------------------------------------------------------------------------ settings


def test_repo_period_settings_hold_reference_wording():
    settings, source, notes = report.load_settings(paths.RAW_DIR, PERIOD)
    assert source == str(paths.RAW_DIR / PERIOD / "bao_cao.toml")
    assert settings["signer_name"] == "Nguyễn Thị Hồng Vân"
    assert settings["recipients"] == ["Sở GDĐT Hà Nội;", "Lưu: VT, (02b)."]
    assert "Kế hoạch số 20/KH-PGDĐT ngày 11/10/2023" in settings["directives"][0]
    assert not [n for n in notes if "không có file" in n]


def test_settings_without_any_file_leave_the_wording_blank_not_bracketed(tmp_path):
    (tmp_path / "2024-06-24").mkdir()
    settings, source, notes = report.load_settings(tmp_path, "2024-06-24")
    assert "mặc định" in source
    assert str(report.DEFAULTS_PATH) in source
    assert notes and "2024-06-24" in notes[0] and "mặc định" in notes[0]
    assert settings["district"] == "Long Biên"
    assert settings["signer_name"] == "" and settings["directives"] == []  # no guess
    assert report.missing_settings(settings) == ["directives", "signer_name"]
    assert set(settings["_sources"].values()) == {report.DEFAULTS_LABEL}
    defaults = report.DEFAULTS_PATH.read_text(encoding="utf-8")
    assert not [line for line in defaults.splitlines() if '"[' in line]  # no bracketed text


def test_settings_carry_forward_from_the_latest_earlier_period(tmp_path):
    """A period without its own file takes each key from the latest earlier file that has
    it, then the district file, then the defaults; the sources say which file served."""
    for period in ("2024-03-22", "2024-04-19", "2024-06-24"):
        (tmp_path / period).mkdir()
    (tmp_path / "bao_cao.toml").write_text('closing = "Chung./."\n', encoding="utf-8")
    (tmp_path / "2024-03-22" / "bao_cao.toml").write_text(
        'signer_name = "Trần Văn A"\ndirectives = ["Tháng 3;"]\n'
        'infrastructure_lines = ["100% tháng 3;"]\n',
        encoding="utf-8",
    )
    shutil.copy(REPO_SETTINGS, tmp_path / "2024-04-19" / "bao_cao.toml")
    settings, source, notes = report.load_settings(tmp_path, "2024-06-24")
    assert source == str(tmp_path / "2024-04-19" / "bao_cao.toml")
    assert settings["signer_name"] == "Nguyễn Thị Hồng Vân"  # the latest earlier file wins
    assert len(settings["infrastructure_lines"]) == 5
    assert settings["closing"].startswith("Phòng Giáo dục")
    assert report.missing_settings(settings) == []
    groups = report.served_by_group(settings)
    assert groups["công tác chỉ đạo"] == "2024-04-19/bao_cao.toml"
    assert groups["người ký"] == "2024-04-19/bao_cao.toml"
    assert groups["trình bày"] == report.DEFAULTS_LABEL
    assert "chưa có file cài đặt riêng" in notes[0] and "2024-04-19/bao_cao.toml" in notes[0]
    # a later period's file never serves an earlier period
    settings, _, _ = report.load_settings(tmp_path, "2024-03-22")
    assert settings["signer_name"] == "Trần Văn A"
    (tmp_path / "2024-04-19" / "bao_cao.toml").write_text('subject = "Riêng"\n', "utf-8")
    settings, _, _ = report.load_settings(tmp_path, "2024-06-24")
    assert settings["signer_name"] == "Trần Văn A"  # key by key: the latest file that has it
    assert settings["closing"] == "Chung./."
    groups = report.served_by_group(settings)
    assert groups["câu kết, nơi nhận"] == f"bao_cao.toml; {report.DEFAULTS_LABEL}"


def test_settings_district_file_then_period_file(tmp_path):
    (tmp_path / "2024-06-24").mkdir()
    (tmp_path / "bao_cao.toml").write_text(
        'signer_name = "Trần Văn A"\nrecipients = ["UBND quận;"]\n', encoding="utf-8"
    )
    settings, source, notes = report.load_settings(tmp_path, "2024-06-24")
    assert settings["signer_name"] == "Trần Văn A"
    assert source == str(tmp_path / "bao_cao.toml")
    assert "chưa có file cài đặt riêng" in notes[0] and "bao_cao.toml" in notes[0]
    assert report.missing_settings(settings) == ["directives"]  # still missing: a draft
    (tmp_path / "2024-06-24" / "bao_cao.toml").write_text(
        'signer_name = "Lê Thị B"\n[figure_captions]\ncoverage_by_level = "Hình riêng"\n',
        encoding="utf-8",
    )
    settings, source, notes = report.load_settings(tmp_path, "2024-06-24")
    assert settings["signer_name"] == "Lê Thị B"
    assert settings["recipients"] == ["UBND quận;"]  # from the district file
    assert settings["figure_captions"]["coverage_by_level"] == "Hình riêng"
    assert "coverage_by_school" in settings["figure_captions"]  # merged with the defaults
    assert source == str(tmp_path / "2024-06-24" / "bao_cao.toml")


def test_settings_errors_name_file_and_key(tmp_path):
    (tmp_path / PERIOD).mkdir()
    path = tmp_path / PERIOD / "bao_cao.toml"
    path.write_text('recipients = "Sở GDĐT Hà Nội;"\n', encoding="utf-8")
    with pytest.raises(report.ReportError, match="recipients") as err:
        report.load_settings(tmp_path, PERIOD)
    assert str(path) in str(err.value)
    path.write_text('signer_name = "thiếu dấu ngoặc\n', encoding="utf-8")
    with pytest.raises(report.ReportError, match="cú pháp TOML"):
        report.load_settings(tmp_path, PERIOD)
    path.write_text('signer_nam = "Gõ sai"\n', encoding="utf-8")
    _, _, notes = report.load_settings(tmp_path, PERIOD)
    assert any("signer_nam" in n and "gõ sai" in n for n in notes)


def test_vn_sort_key_orders_like_a_dictionary():
    names = ["Đức Giang", "Ái Mộ B", "Ái Mộ A", "Dương Xá", "Bồ Đề", "Ân Thi", "Ấp Bắc",
             "Ô Cách", "Giang Biên", "Gia Thụy", "Ngô Quyền", "Ngọc Thụy A", "Đoàn Khuê",
             "Đô thị"]  # fmt: skip
    got = sorted(names, key=text.vn_sort_key)
    assert got == ["Ái Mộ A", "Ái Mộ B", "Ân Thi", "Ấp Bắc", "Bồ Đề", "Dương Xá", "Đoàn Khuê",
                   "Đô thị", "Đức Giang", "Gia Thụy", "Giang Biên", "Ngọc Thụy A", "Ngô Quyền",
                   "Ô Cách"]  # fmt: skip


# ------------------------------------------------------------------------------ document


def test_heading_and_closing_blocks(rendered):
    _, _, doc = rendered
    texts = _texts(doc)
    head = _table_rows(doc.tables[0])
    assert head[0][0] == "UBND QUẬN LONG BIÊN\nPHÒNG GIÁO DỤC VÀ ĐÀO TẠO\n"
    assert head[0][1] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
    assert head[1][0] == "Số: …/BC-PGDĐT"
    assert head[1][1] == "Long Biên, ngày 19 tháng 4 năm 2024"
    date_para = doc.tables[0].cell(1, 1).paragraphs[0]
    assert all(run.italic for run in date_para.runs if run.text)
    agency = doc.tables[0].cell(0, 0).paragraphs[1]
    assert all(run.bold for run in agency.runs) and agency.runs[0].font.size.pt == 12
    national = doc.tables[0].cell(0, 1).paragraphs[0]
    assert all(run.bold for run in national.runs) and national.runs[0].font.size.pt == 12
    motto = doc.tables[0].cell(0, 1).paragraphs[1]
    assert all(run.bold for run in motto.runs) and motto.runs[0].font.size.pt == 13
    rule = doc.tables[0].cell(0, 1).paragraphs[2]  # a drawn rule as long as the motto
    assert rule._p.pPr.find(f"{W}pBdr") is not None
    cell_width = doc.tables[0].columns[1].width.cm - 0.2
    rule_width = cell_width - rule.paragraph_format.left_indent.cm * 2
    assert abs(rule_width - fontmetrics.text_width_cm(motto.text, 13, bold=True)) < 0.05
    title = _para(doc, "BÁO CÁO")
    assert title.text == "BÁO CÁO" and title.runs[0].bold
    assert title.alignment == 1  # centred
    assert "Công tác chuẩn bị triển khai học bạ số cấp Tiểu học" in texts
    assert "- Sở GDĐT Hà Nội;" in texts and "- Lưu: VT, (02b)." in texts
    assert "Nơi nhận:" in texts
    for needle in ("KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Nguyễn Thị Hồng Vân"):
        assert needle in texts
    assert not [t for t in texts if "{{" in t or "{%" in t]  # every tag rendered


def _run_style(paragraph, doc) -> tuple[float, bool, bool]:
    """(size pt, bold, italic) of a paragraph's first text run, styles resolved."""
    run = next(r for r in paragraph.runs if r.text)
    size = run.font.size or paragraph.style.font.size or doc.styles["Normal"].font.size
    return size.pt, bool(run.bold), bool(run.italic)


@pytest.mark.parametrize("agency", ["", "Sở Giáo dục và Đào tạo", "Phòng Văn hóa - Xã hội"])
def test_heading_elements_fit_their_cells_and_the_text_width(tmp_path, agency):
    """Each element of the two-column heading, measured with Times New Roman's metrics
    (Liberation Serif, shipped), fits on one line of its cell; the table fits the text width."""
    cfg = make_project(tmp_path)
    settings, _, _ = report.load_settings(cfg.raw_root, PERIOD)
    if agency:
        settings = dict(settings, issuing_agency=agency, parent_agency="UBND thành phố Hà Nội")
    path, _ = report.write_docx(cfg, settings=settings)
    doc = Document(str(path))
    sec = doc.sections[0]
    text_width = Length(sec.page_width - sec.left_margin - sec.right_margin).cm
    head = doc.tables[0]
    widths = [col.width.cm for col in head.columns]
    assert sum(widths) <= text_width + 0.005
    pad = 2 * 0.1  # the heading table's cell padding (left + right)
    measured = 0
    for row in head.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            for p in cell.paragraphs:
                if not p.text.strip():
                    continue
                size, bold, italic = _run_style(p, doc)
                assert 12 <= size <= 14
                need = fontmetrics.text_width_cm(p.text, size, bold, italic)
                assert need + pad <= width, (p.text, need, width)
                measured += 1
    assert measured == 6


def test_heading_of_the_old_template_is_caught_by_the_measure():
    """The measure fails the old heading: 13 pt bold lines in cells of 7,3 and 9,6 cm."""
    need = fontmetrics.text_width_cm("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13, bold=True)
    assert need + 0.2 > 9.6 - 0.2 and round(need, 2) == 9.57
    assert round(fontmetrics.text_width_cm("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", 13, True), 2) == 7.15


@pytest.mark.skipif(
    fontmetrics.find_font_dir() is None,
    reason="phông Liberation Serif chưa cài (apt-get install fonts-liberation2): bảng độ rộng "
    "đi kèm gói vẫn được dùng, chỉ không đối chiếu được với phông",
)
def test_shipped_widths_are_the_fonts():
    shipped = json.loads(fontmetrics.WIDTHS_PATH.read_text(encoding="utf-8"))
    assert shipped == fontmetrics.extract(fontmetrics.find_font_dir())
    assert set(shipped["styles"]["bold"]) == set(fontmetrics.charset())


def test_body_sentences_are_computed(rendered):
    _, _, doc = rendered
    tables = make_tables()
    th = tables["coverage_by_level"].query("level == 'Tiểu học'").iloc[0]
    expected = f"{fmt_int(th['n_signed'])}/{fmt_int(th['n_staff'])} (đạt {fmt_pct(th['coverage'])})"
    assert expected == "1.248/1.787 (đạt 69,8%)"
    sentence = _para(doc, "- Tính đến")
    assert sentence.text == (
        "- Tính đến 19/4/2024, tổng số CBGVNV: 1.248/1.787 (đạt 69,8%) cán bộ giáo viên, nhân "
        "viên các trường Tiểu học đã được trang bị ký số cá nhân (Phụ lục đính kèm)."
    )
    assert any(r.italic and r.text == "Phụ lục đính kèm" for r in sentence.runs)
    texts = _texts(doc)
    assert "- Số lượng kết nối internet cáp quang: 246." in texts
    assert "- Tốc độ đường truyền: Từ 70 Mbps trở lên." in texts
    assert "- Máy tính phục vụ công tác quản lý: 866." in texts
    assert "Phòng Giáo dục và Đào tạo quận Long Biên xin trân trọng báo cáo./." in texts
    assert any(t.startswith("- Phòng GDĐT ban hành Kế hoạch số 20/KH-PGDĐT") for t in texts)


def _section(texts: list[str], start: str, stop: str) -> list[str]:
    first = texts.index(start)
    return texts[first + 1 : texts.index(stop, first)]


def test_section_two_states_what_the_head_reads_first(rendered):
    """II.3, before the closing and the signature: per level, coverage and its change in
    points, staff still without a signature and where, the schools furthest behind with
    counts, the window's end in words with the signatures a week each lagging school needs,
    certificates expiring."""
    _, _, doc = rendered
    texts = [p.text for p in doc.paragraphs]
    progress = _section(texts, "3. Tiến độ trang bị chữ ký số cá nhân", report_closing(texts))
    assert progress[0] == "Cấp Tiểu học:"
    assert progress[1] == (
        "- Đã có chữ ký số cá nhân: 1.248/1.787 CBGVNV (69,8%), tăng 2,7 điểm % so với kỳ "
        "trước (22/3/2024); còn 539 người chưa có, tại 3/3 trường."
    )  # 1198/1785 = 67,1% on 22/3/2024
    assert progress[2] == (
        "- Các trường thấp nhất: Bồ Đề 418/600 (69,7%), còn 182 người; Đức Giang 410/587 "
        "(69,8%), còn 177 người; Ái Mộ A 420/600 (70,0%), còn 180 người."
    )
    assert progress[3] == (
        "- Theo xu hướng chung của 3 kỳ, toàn cấp đạt 100% vào khoảng 30/9/2024, muộn hơn "
        "hạn 30/6/2024 92 ngày."
    )
    # per school at its pace since 22/3/2024 (4 weeks; 10,3 weeks left): Đức Giang +30 ->
    # 100 left, Ái Mộ A +20 -> 129 left, Bồ Đề +0 -> 182 left; 411 in all
    assert progress[4] == (
        "- Tính theo tốc độ riêng của từng trường từ kỳ trước (22/3/2024), đến 30/6/2024 vẫn "
        "còn khoảng 411 người chưa có, tại 3 trường. Số chữ ký mỗi tuần các trường này cần "
        "để kịp hạn: Bồ Đề cần 18/tuần (hiện 0,0/tuần); Ái Mộ A cần 18/tuần (hiện 5,0/tuần); "
        "Đức Giang cần 18/tuần (hiện 7,5/tuần)."
    )
    assert "Cấp THCS:" in progress and "Cấp Mầm non:" not in progress  # no data: no block
    signature = next(i for i, t in enumerate(_texts(doc)) if t == "Nơi nhận:")
    assert signature > 0
    body = [p._p for p in doc.paragraphs]
    closing = next(p for p in doc.paragraphs if p.text.endswith("xin trân trọng báo cáo./."))
    first = next(p for p in doc.paragraphs if p.text == "3. Tiến độ trang bị chữ ký số cá nhân")
    assert body.index(first._p) < body.index(closing._p)  # before the closing and signature


def report_closing(texts: list[str]) -> str:
    return next(t for t in texts if t.endswith("xin trân trọng báo cáo./."))


def test_section_two_says_when_the_window_is_met_and_expiring_certificates(tmp_path):
    tables = make_tables()
    tables["projection"].loc[0, "date_100"] = "2024-06-20"
    tables["expiring"] = pd.DataFrame(
        {
            "school_code": ["TH01", "TH02"],
            "school_name": ["Trường Tiểu học Ái Mộ A", "Trường Tiểu học Bồ Đề"],
            "level": ["Tiểu học", "Tiểu học"],
            "n_signed": [420, 418],
            "n_expiring_window": [3, 0],
            "n_expiring_days": [3, 1],
        }
    )
    pace = tables["signing_pace"]
    tables["signing_pace"] = pace.assign(on_track=True, left_at_window_end=0)
    cfg = make_project(tmp_path, tables=tables)
    path, _ = report.write_docx(cfg)
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert (
        "- Theo xu hướng chung của 3 kỳ, toàn cấp đạt 100% vào khoảng 20/6/2024, trước hạn "
        "30/6/2024 10 ngày." in texts
    )
    assert (
        "- Tính theo tốc độ riêng của từng trường từ kỳ trước (22/3/2024), mọi trường xong "
        "trước 30/6/2024." in texts
    )
    assert (
        "- 3 chứng thư số của CBGVNV đã có chữ ký số (tại 1 trường) hết hạn trước "
        "30/6/2024: cần gia hạn trước khi ký học bạ." in texts
    )


def test_record_signing_sentence_and_table(tmp_path):
    cfg = make_project(tmp_path, tables=make_tables() | make_records())
    path, _ = report.write_docx(cfg)
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    records = _section(texts, "4. Tiến độ ký số học bạ", report_closing(texts))
    assert records[0] == (
        "- Cấp Tiểu học: đến 19/4/2024, 1.750/1.911 học bạ (91,6%) đã được giáo viên chủ "
        "nhiệm ký số, 1.200 (62,8%) đã được hiệu trưởng duyệt ký; khối thấp nhất: lớp 2 (hiệu "
        "trưởng đã duyệt 54,9%). Các trường hiệu trưởng duyệt ký ít nhất: Bồ Đề 300/911 "
        "(32,9%); Ái Mộ A 900/1.000 (90,0%)."
    )
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Khối lớp")
    assert _table_rows(table) == [
        ["Khối lớp", "Số học bạ", "GVCN đã ký", "Tỷ lệ", "Hiệu trưởng đã duyệt", "Tỷ lệ"],
        ["Tiểu học, lớp 1", "1.000", "900", "90,0%", "700", "70,0%"],
        ["Tiểu học, lớp 2", "911", "850", "93,3%", "500", "54,9%"],
        ["Tổng cộng", "1.911", "1.750", "91,6%", "1.200", "62,8%"],
    ]
    # without hoc_ba data: no sentence, no table
    plain = Document(str(report.write_docx(make_project(tmp_path / "b"))[0]))
    assert "4. Tiến độ ký số học bạ" not in [p.text for p in plain.paragraphs]
    assert not [t for t in plain.tables if t.rows[0].cells[0].text == "Khối lớp"]


def test_numbers_follow_the_tables_not_the_template(tmp_path):
    tables = make_tables()
    tables["infrastructure_summary"].loc[0, ["n_fibre", "speed_min", "n_computers"]] = [
        1250,
        12.5,
        2031,
    ]
    cfg = make_project(tmp_path, tables=tables)
    path, _ = report.write_docx(cfg)
    texts = _texts(Document(str(path)))
    assert "- Số lượng kết nối internet cáp quang: 1.250." in texts
    assert "- Tốc độ đường truyền: Từ 12,5 Mbps trở lên." in texts
    assert "- Máy tính phục vụ công tác quản lý: 2.031." in texts


def test_scale_table_cells(rendered):
    _, _, doc = rendered
    scale = make_tables()["scale_by_level"]
    rows = _table_rows(doc.tables[1])
    assert rows[0] == ["Cấp học", "Số trường", "Số lớp", "Số HS"]
    expected = [
        [r.level, fmt_int(r.n_schools), fmt_int(r.n_classes), fmt_int(r.n_pupils)]
        for r in scale.itertuples()
    ]
    assert rows[1:] == expected
    assert rows[-1] == ["Tổng cộng", "142", "2.714", "87.097"]
    assert rows[1] == ["Mầm non", "82", "1.127", "25.915"]
    total_cells = doc.tables[1].rows[-1].cells
    assert all(run.bold for cell in total_cells for p in cell.paragraphs for run in p.runs)
    assert not any(run.bold for p in doc.tables[1].rows[1].cells[1].paragraphs for run in p.runs)


def test_appendix_table_cells(rendered):
    _, _, doc = rendered
    appendix = [t for t in doc.tables if t.rows[0].cells[0].text == "STT"][0]
    rows = _table_rows(appendix)
    assert rows[0] == ["STT", "Tên trường", "Tổng số CBGVNV", "Số đã có CKS", "Tỷ lệ"]
    th = make_tables()["coverage_by_school"].query("level == 'Tiểu học'")
    by_name = {r.school_name: r for r in th.itertuples()}
    names = [row[1] for row in rows[1:-1]]
    assert names == [
        "Trường Tiểu học Ái Mộ A",
        "Trường Tiểu học Bồ Đề",
        "Trường Tiểu học Đức Giang",
    ]
    for i, row in enumerate(rows[1:-1], start=1):
        r = by_name[row[1]]
        assert row == [str(i), r.school_name, fmt_int(r.n_staff), fmt_int(r.n_signed),
                       fmt_pct(r.coverage)]  # fmt: skip
    assert rows[-1] == ["Tổng cộng", "1.787", "1.248", "69,8%"]
    # the appendix starts on a new page
    heading = _para(doc, "PHỤ LỤC")
    assert heading.paragraph_format.page_break_before


def test_tables_numbered_and_titled_apart_from_the_body(rendered):
    _, _, doc = rendered
    titles = [p for p in doc.paragraphs if p.style.name == "Table Title"]
    assert [p.text.split(".")[0] for p in titles] == [f"Bảng {n}" for n in range(1, 6)]
    assert titles[0].text == "Bảng 1. Quy mô trường, lớp, học sinh theo cấp học"
    assert titles[2].text.startswith("Bảng 3. Biến động tỷ lệ có chữ ký số so với kỳ trước")
    style = doc.styles["Table Title"].paragraph_format
    assert style.alignment == 1 and style.first_line_indent == 0 and style.keep_with_next
    # each title sits right above its table
    for p in titles:
        assert p._p.getnext().tag == f"{W}tbl", p.text


def test_appendix_heading_reference_and_title_breaks(rendered):
    _, _, doc = rendered
    heading = _para(doc, "PHỤ LỤC")
    title = heading._p.getnext()
    lines = [t for t in "".join(
        n.text if n.tag == f"{W}t" else "\n" for n in title.iter(f"{W}t", f"{W}br")
    ).split("\n")]  # fmt: skip
    assert lines == [
        "TỔNG HỢP CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN CÓ",
        "CHỮ KÝ SỐ CÁ NHÂN CÁC TRƯỜNG TIỂU HỌC",
    ]
    assert all(fontmetrics.text_width_cm(line, 14, bold=True) < 16.5 for line in lines)
    assert _para(doc, "(Kèm theo").text == (
        "(Kèm theo Báo cáo số …/BC-PGDĐT ngày 19/4/2024\ncủa Phòng Giáo dục và Đào tạo quận "
        "Long Biên)"
    )  # broken where it reads well, not inside "Đào tạo"
    assert report.title_lines("NGẮN") == "NGẮN"


def test_closing_sentence_keeps_with_the_signature(rendered):
    _, _, doc = rendered
    closing = next(p for p in doc.paragraphs if p.text.endswith("xin trân trọng báo cáo./."))
    assert closing.paragraph_format.keep_with_next
    assert closing._p.getnext().tag == f"{W}tbl"  # the signature block follows
    signature = [t for t in doc.tables if "Nơi nhận:" in t.cell(0, 0).text][0]
    assert signature.rows[0]._tr.trPr.find(f"{W}cantSplit") is not None


def test_extra_appendix_tables_and_figures(rendered):
    _, _, doc = rendered
    texts = _texts(doc)
    change = [t for t in doc.tables if t.rows[0].cells[-1].text == "Số CKS tăng"][0]
    rows = _table_rows(change)
    assert rows[1] == ["1", "Trường Tiểu học Ái Mộ A", "66,9%", "70,0%", "+3,1", "+20"]
    assert rows[2][4:] == ["0,0", "0"]
    role = [t for t in doc.tables if t.rows[0].cells[0].text == "Chức vụ"][0]
    assert _table_rows(role)[1] == ["Cán bộ quản lý (CBQL)", "99", "99", "100,0%"]
    assert any(
        t.startswith("Bảng 3. Biến động tỷ lệ có chữ ký số so với kỳ trước (22/3/2024)")
        for t in texts
    )
    assert not any(t.startswith("- Mục tiêu") for t in texts)  # now in section II.3
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "Hình 1. Tỷ lệ CBGVNV có chữ ký số cá nhân theo trường, tính đến 19/4/2024",
        "Hình 2. Tỷ lệ CBGVNV có chữ ký số cá nhân qua các kỳ báo cáo và dự báo thời điểm đạt "
        "mục tiêu",
    ]
    shapes = doc.inline_shapes
    assert len(shapes) == 2
    assert abs(shapes[0].width - Mm(165)) < Mm(1)  # the text width
    with zipfile.ZipFile(rendered[1]) as zf:
        media = sorted(n for n in zf.namelist() if n.startswith("word/media/"))
    assert len(media) == 2


def test_missing_figures_and_tables_are_reported_not_fatal(tmp_path):
    tables = make_tables()
    del tables["infrastructure_summary"], tables["coverage_change"]
    cfg = make_project(tmp_path, tables=tables, figures=())
    path, content = report.write_docx(cfg)
    doc = Document(str(path))
    texts = _texts(doc)
    assert "- Số lượng kết nối internet cáp quang: –." in texts
    assert not [t for t in doc.tables if t.rows[0].cells[-1].text == "Số CKS tăng"]
    assert not doc.inline_shapes
    assert any("hạ tầng" in n for n in content.notes)
    assert any("Chưa có hình" in n for n in content.notes)


def test_layout_a4_margins_fonts_header(rendered):
    _, path, doc = rendered
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin)] == [20, 20]
    assert [round(x.mm) for x in (sec.left_margin, sec.right_margin)] == [30, 15]
    assert sec.different_first_page_header_footer
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 14
    rfonts = normal.element.rPr.rFonts
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    assert rfonts.get(f"{ns}eastAsia") == "Times New Roman"
    body = doc.styles["Body Text"].paragraph_format
    assert abs(body.first_line_indent.cm - 1.27) < 0.01
    assert body.space_after.pt == 6
    assert 1.15 <= body.line_spacing <= 1.5
    header_xml = sec.header._element.xml
    assert "PAGE" in header_xml and "DỮ LIỆU MẪU" in sec.header.paragraphs[1].text
    assert "PAGE" not in sec.first_page_header._element.xml
    assert sec.first_page_header.paragraphs[0].text == report.SAMPLE_TEXT
    # once on page 1: in its header, not again in the body
    assert report.SAMPLE_TEXT not in [p.text for p in doc.paragraphs]
    props = doc.core_properties
    assert props.author == "Phòng GD&ĐT" and props.revision == 1
    assert props.created.date().isoformat() == PERIOD
    assert props.modified == props.created == props.last_printed


def test_no_sample_mark_for_real_data(tmp_path):
    cfg = make_project(tmp_path, sample=False)
    path, _ = report.write_docx(cfg)
    doc = Document(str(path))
    assert "DỮ LIỆU MẪU" not in "\n".join(_texts(doc))
    assert "DỮ LIỆU MẪU" not in doc.sections[0].header._element.xml
    first = doc.element.body[0]
    assert first.tag.endswith("}tbl")  # the heading table comes first


def test_period_without_settings_is_a_draft_with_dots(tmp_path):
    cfg = make_project(tmp_path, period_settings=False)
    result = report.build_report(cfg)
    assert "mặc định" in result.settings_source
    assert any("không có file cài đặt" in n for n in result.notes)
    assert result.draft and any("DỰ THẢO" in n and "directives" in n for n in result.notes)
    assert "(DỰ THẢO)" in result.summary() and "công tác chỉ đạo:" in result.summary()
    doc = Document(str(result.docx))
    texts = _texts(doc)
    blob = "\n".join(texts)
    assert "[" not in blob and "bao_cao.toml" not in blob and "directives" not in blob
    assert report.DRAFT_DOTS in texts  # the signer's name, left as in a draft
    section_one = texts[texts.index("I. CÔNG TÁC CHỈ ĐẠO") + 1]
    assert section_one == "- " + report.DRAFT_DOTS * 2
    assert texts[0] == "DỰ THẢO"  # above the heading, and at the top of every later page
    assert doc.sections[0].header.paragraphs[1].text.startswith("DỰ THẢO")
    assert result.xlsx.is_file()
    record = json.loads((cfg.tables / report.SETTINGS_JSON).read_text(encoding="utf-8"))
    assert record["draft"] and record["missing"] == ["directives", "signer_name"]
    assert record["groups"]["người ký"] == report.DEFAULTS_LABEL
    from analysis.batch import manifest

    line = manifest.report_settings_line(cfg.out)
    assert line.startswith("DỰ THẢO (chưa có directives, signer_name)")
    assert "mặc định của phần mềm: " in line and "người ký" in line


def test_report_with_its_settings_is_not_a_draft(project):
    result = report.build_report(project)
    assert not result.draft
    doc = Document(str(result.docx))
    assert "DỰ THẢO" not in "\n".join(_texts(doc))
    assert "DỰ THẢO" not in doc.sections[0].header.paragraphs[1].text
    record = json.loads((project.tables / report.SETTINGS_JSON).read_text(encoding="utf-8"))
    assert record["groups"]["công tác chỉ đạo"] == f"{PERIOD}/bao_cao.toml"
    assert record["keys"]["signer_name"] == f"{PERIOD}/bao_cao.toml"


def test_template_edit_changes_report_without_code(tmp_path, project):
    edited = tmp_path / "mau_rieng.docx"
    doc = Document(str(report.DEFAULT_TEMPLATE))
    para = next(p for p in doc.paragraphs if p.text == "II. ĐÁNH GIÁ HIỆN TRẠNG")
    for run in para.runs[1:]:
        run.text = ""
    para.runs[0].text = "II. THỰC TRẠNG CHUẨN BỊ TẠI {{ district|upper }}"
    doc.save(edited)
    # through the template= argument
    path, _ = report.write_docx(project, template=edited, out_path=tmp_path / "a.docx")
    assert "II. THỰC TRẠNG CHUẨN BỊ TẠI LONG BIÊN" in _texts(Document(str(path)))
    # through the settings file (path relative to the settings file)
    shutil.copy(edited, project.raw / "mau_rieng.docx")
    settings_file = project.raw / "bao_cao.toml"
    settings_file.write_text(
        settings_file.read_text(encoding="utf-8") + '\ntemplate = "mau_rieng.docx"\n',
        encoding="utf-8",
    )
    result = report.build_report(project)
    texts = _texts(Document(str(result.docx)))
    assert "II. THỰC TRẠNG CHUẨN BỊ TẠI LONG BIÊN" in texts
    assert "II. ĐÁNH GIÁ HIỆN TRẠNG" not in texts


def test_broken_template_tag_gives_clear_message(tmp_path, project):
    broken = tmp_path / "hong.docx"
    doc = Document(str(report.DEFAULT_TEMPLATE))
    # the office deleted the paragraph that closes a loop
    endfor = next(p for p in doc.paragraphs if p.text == "{%p endfor %}")
    endfor._p.getparent().remove(endfor._p)
    doc.save(broken)
    with pytest.raises(report.TemplateError, match="hong.docx"):
        report.write_docx(project, template=broken, out_path=tmp_path / "x.docx")
    with pytest.raises(report.TemplateError, match="Không tìm thấy mẫu"):
        report.write_docx(
            project, template=tmp_path / "khong_co.docx", out_path=tmp_path / "y.docx"
        )


def test_rerun_is_byte_identical(project, tmp_path):
    first = report.build_report(project)
    docx_bytes, xlsx_bytes = first.docx.read_bytes(), first.xlsx.read_bytes()
    second = report.build_report(project)
    assert second.docx.read_bytes() == docx_bytes
    assert second.xlsx.read_bytes() == xlsx_bytes
    assert first.docx.stat().st_mode & 0o044 == 0o044  # readable by others, like any output
    assert sorted(p.name for p in project.out.iterdir() if p.is_file()) == [
        f"bang_bieu_{PERIOD}.xlsx",
        f"bao_cao_{PERIOD}.docx",
    ]  # no temporary files left behind
    with zipfile.ZipFile(first.docx) as zf:
        infos = zf.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.skipif(not parallel.can_fork(), reason="workers are forked (Linux)")
def test_workbook_written_by_a_worker_is_the_same_and_its_failure_is_raised_here(
    project, tmp_path, monkeypatch
):
    """With a second process the workbook is written by a forked worker while the Word
    report is rendered: same bytes as one process; a worker's failure is raised here."""
    monkeypatch.setenv(parallel.ENV_JOBS, "1")
    one = report.build_report(project)
    expected = one.docx.read_bytes(), one.xlsx.read_bytes()
    started = []
    real = parallel.Pending.__init__

    def spy(self, fn, groups, args=()):
        started.append((fn.__name__, len(groups)))
        real(self, fn, groups, args)

    monkeypatch.setattr(parallel.Pending, "__init__", spy)
    monkeypatch.setenv(parallel.ENV_JOBS, "2")
    two = report.build_report(project)
    assert started == [("_workbook_job", 1)]
    assert (two.docx.read_bytes(), two.xlsx.read_bytes()) == expected

    def broken(*args, **kwargs):
        raise report.ReportError("Bảng thiếu cột n_staff")

    monkeypatch.setattr(report.build, "write_xlsx", broken)
    with pytest.raises(report.ReportError, match="thiếu cột n_staff"):
        report.build_report(project)
    assert not list(project.out.glob("*.tmp*"))


def test_template_builder_is_reproducible(tmp_path):
    from analysis.report.templates import build_template

    out = build_template.build(tmp_path / "mau.docx")
    assert out.read_bytes() == report.DEFAULT_TEMPLATE.read_bytes()


def test_no_personal_data_in_outputs(project):
    result = report.build_report(project)
    blob = ""
    for path in (result.docx, result.xlsx):
        with zipfile.ZipFile(path) as zf:
            blob += "".join(zf.read(n).decode("utf-8", "ignore") for n in zf.namelist())
    # the quarantine's offending values are not copied into the report
    assert "TH Ai Mo C" not in blob


def test_main_cli(project, capsys):
    argv = [
        "--period", PERIOD,
        "--raw-dir", str(project.raw_root),
        "--processed-dir", str(project.processed_root),
        "--output-dir", str(project.output_root),
    ]  # fmt: skip
    assert report.main(argv) == 0
    out = capsys.readouterr().out
    assert "1.248/1.787 (đạt 69,8%)" in out
    assert (project.out / f"bao_cao_{PERIOD}.docx").is_file()


def test_tall_figure_is_capped_by_height(tmp_path):
    from analysis.report import docx as report_docx

    fig, ax = plt.subplots(figsize=(2, 6), dpi=20)
    ax.barh(range(30), range(30))
    tall = tmp_path / "tall.png"
    fig.savefig(tall)
    plt.close(fig)
    assert report_docx.png_size(tall) == (40, 120)
    assert report_docx.figure_size(tall) == {"height": Mm(report_docx.FIGURE_MAX_HEIGHT_MM)}
    wide = tmp_path / "wide.png"
    wide.write_bytes(_png_bytes("wide"))
    assert report_docx.figure_size(wide) == {"width": Mm(report_docx.FIGURE_WIDTH_MM)}


@pytest.mark.libreoffice
@pytest.mark.skipif(
    shutil.which("libreoffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice/poppler chưa cài (apt-get install libreoffice-writer-nogui poppler-utils)",
)
def test_pdf_keeps_the_figures(tmp_path):
    from analysis.report import pdf_check as report_pdf

    cfg = make_project(tmp_path)
    result = report.build_report(cfg)
    check = report_pdf.check_docx(result.docx, tmp_path / "pdf")
    expected = report_pdf.expected_figures(result.docx)
    assert "87.097" in expected and "1.248/1.787 (đạt 69,8%)" in expected and "69,8%" in expected
    assert check.missing == [], check.summary()
    assert check.wrapped == [], check.summary()  # each heading element on one PDF line
    assert "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO" in report_pdf.heading_lines(result.docx)
    assert check.ok and 2 <= check.pages <= check.page_range[1]
    assert len(check.page_images) == check.pages
    from analysis.report.docx import png_size

    width, height = png_size(check.page_images[0])
    assert 400 < width < 600 and height > width  # an A4 page at 60 dpi


def test_settings_text_is_escaped_not_parsed(tmp_path):
    cfg = make_project(tmp_path)
    settings, _, _ = report.load_settings(cfg.raw_root, PERIOD)
    settings = dict(settings, signer_name="Trần & Con <b>", recipients=["UBND quận {{ x }};"])
    path, _ = report.write_docx(cfg, settings=settings)
    texts = _texts(Document(str(path)))
    assert "Trần & Con <b>" in texts
    assert "- UBND quận {{ x }};" in texts  # an office's text is never run as a template


def test_coverage_target_has_one_source(tmp_path):
    """Notebook 20's target comes from bao_cao.toml (carried forward like every setting),
    unless the notebook is given an explicit number."""
    for period in ("2024-04-19", "2024-06-24"):
        (tmp_path / period).mkdir()
    assert report.target_ratio(tmp_path, "2024-06-24") == 1.0  # the package default
    (tmp_path / "2024-04-19" / "bao_cao.toml").write_text("target_pct = 95\n", "utf-8")
    assert report.target_ratio(tmp_path, "2024-06-24") == 0.95  # carried forward
    assert report.target_ratio(tmp_path, "2024-06-24", 90) == 0.9
    with pytest.raises(report.ReportError, match="target_pct"):
        report.target_ratio(tmp_path, "2024-06-24", "một trăm")
    with pytest.raises(report.ReportError, match="khoảng"):
        report.target_ratio(tmp_path, "2024-06-24", 120)
    notebook = json.loads((paths.NOTEBOOKS_DIR / "20_coverage.ipynb").read_text("utf-8"))
    params = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert 'target_pct = ""' in "".join(params["source"])  # no second number to keep in step


def test_short_tables_are_kept_on_one_page(tmp_path):
    cfg = make_project(tmp_path, tables=make_tables() | make_records())
    doc = Document(str(report.write_docx(cfg)[0]))
    for first in ("Cấp học", "Khối lớp"):
        table = next(t for t in doc.tables if t.rows[0].cells[0].text == first)
        for row in table.rows[:-1]:
            assert all(p.paragraph_format.keep_with_next for p in row.cells[0].paragraphs)
        assert not table.rows[-1].cells[0].paragraphs[0].paragraph_format.keep_with_next
