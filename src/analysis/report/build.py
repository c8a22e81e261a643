"""The period's report: load the tables, make the context, render the .docx and the .xlsx.

``build_report`` writes ``bao_cao_<period>.docx`` (``write_docx``: ``build_context`` then
``docx.render_docx``) and ``bang_bieu_<period>.xlsx`` (``write_workbook``: ``xlsx.write_xlsx``,
in a forked worker meanwhile when a second process is allowed), records the settings' sources
(``report_settings.json``) and returns a ``ReportResult`` for the notebook to print.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.core import parallel, vocab
from analysis.report.context import ReportContent, build_context
from analysis.report.docx import render_docx
from analysis.report.settings import (
    DRAFT_MARK,
    load_settings,
    served_by_group,
    write_settings_record,
)
from analysis.report.wording import unit_label
from analysis.report.xlsx import write_xlsx

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = paths.TEMPLATES_DIR / "bao_cao_mac_dinh.docx"


def read_metric_tables(tables_dir: Path | str) -> dict[str, pd.DataFrame]:
    """Every metric table present in ``tables_dir`` (absent ones are simply left out)."""
    from analysis import metrics

    return metrics.read_tables(tables_dir)


def read_quality(processed_dir: Path | str) -> tuple[dict, pd.DataFrame | None]:
    """``quality.json`` (or ``{}``) and ``quarantine.csv`` (or None) of a processed folder."""
    processed_dir = Path(processed_dir)
    quality_path = processed_dir / "quality.json"
    quality = {}
    if quality_path.is_file():
        quality = json.loads(quality_path.read_text(encoding="utf-8"))
    quarantine_path = processed_dir / "quarantine.csv"
    quarantine = None
    if quarantine_path.is_file():
        quarantine = pd.read_csv(quarantine_path, dtype=str, keep_default_na=False)
    return quality, quarantine


@dataclass
class ReportResult:
    docx: Path
    xlsx: Path
    settings_source: str
    notes: list[str] = field(default_factory=list)
    headline: str = ""
    scale: pd.DataFrame | None = None  # the report's scale table, as printed
    appendix: pd.DataFrame | None = None  # the appendix table, as printed
    draft: bool = False  # a required setting is missing: the document is marked DỰ THẢO
    served: dict = field(default_factory=dict)  # settings group -> file(s) that served it

    def summary(self) -> str:
        lines = [
            f"Báo cáo Word:  {self.docx}" + (f" ({DRAFT_MARK})" if self.draft else ""),
            f"Bảng biểu Excel: {self.xlsx}",
            f"Cài đặt lời văn: {self.settings_source}",
            *(f"  {group}: {files}" for group, files in self.served.items()),
            f"Câu chính: {self.headline}",
        ]
        lines += [f"Lưu ý: {note}" for note in self.notes]
        return "\n".join(lines)


def report_unit(cfg: paths.RunConfig, chosen: str = ""):
    """The report's unit (``units.Unit``): ``chosen`` ("province", "commune", "district"), else
    what the period's school list says (``units.infer_unit``: before 1/7/2025 the district;
    after, one commune or the province)."""
    from analysis.core import units

    path = cfg.processed / "schools.parquet"
    columns = ["province", "commune", "district"]
    schools = pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=columns)
    for col in columns:
        if col not in schools.columns:
            schools[col] = pd.Series(dtype="str")
    return units.infer_unit(schools, cfg.period, chosen)


def docx_path(cfg: paths.RunConfig) -> Path:
    return cfg.out / f"bao_cao_{cfg.period}.docx"


def xlsx_path(cfg: paths.RunConfig) -> Path:
    return cfg.out / f"bang_bieu_{cfg.period}.xlsx"


def _is_sample(cfg: paths.RunConfig, quality: Mapping) -> bool:
    return bool(quality.get("sample", False)) or cfg.sample


def choose_template(settings: Mapping, template: Path | str | None = None) -> Path:
    """The ``template=`` argument, else the settings' ``template``, else the default."""
    if template:
        return Path(template)
    if settings.get("template"):
        return Path(settings["template"])
    return DEFAULT_TEMPLATE


def write_docx(
    cfg: paths.RunConfig,
    settings: Mapping | None = None,
    template: Path | str | None = None,
    out_path: Path | str | None = None,
) -> tuple[Path, ReportContent]:
    """Render the Word report of ``cfg.period``; returns its path and the content used."""
    if settings is None:
        settings, _, _ = load_settings(cfg.raw_root, cfg.period)
    tables = read_metric_tables(cfg.tables)
    quality, _ = read_quality(cfg.processed)
    content = build_context(tables, settings, cfg.period, _is_sample(cfg, quality), cfg.figures)
    title = content.context["subject"] or "Báo cáo"
    path = render_docx(
        choose_template(settings, template),
        content.context,
        content.figures,
        out_path or docx_path(cfg),
        cfg.period_date,
        f"Báo cáo {title}",
    )
    return path, content


def write_workbook(
    cfg: paths.RunConfig, out_path: Path | str | None = None, settings: Mapping | None = None
) -> Path:
    """Write the formatted Excel workbook of ``cfg.period``."""
    tables = read_metric_tables(cfg.tables)
    quality, quarantine = read_quality(cfg.processed)
    district = (settings or {}).get("district", "")
    return write_xlsx(
        tables,
        quality,
        quarantine,
        out_path or xlsx_path(cfg),
        cfg.period_date,
        _is_sample(cfg, quality),
        district=district,
        unit_label=unit_label(settings or {}),
    )


def _workbook_job(cfg: paths.RunConfig, settings: Mapping) -> Path:
    return write_workbook(cfg, settings=settings)


def build_report(
    cfg: paths.RunConfig,
    settings: Mapping | None = None,
    template: Path | str | None = None,
    source: str | None = None,
    notes: list[str] | None = None,
) -> ReportResult:
    """The period's report: ``bao_cao_<period>.docx`` and ``bang_bieu_<period>.xlsx``.

    Settings are loaded when not given. Every note (settings fallbacks, missing tables or
    figures) is logged as a warning and returned for the notebook to print.
    """
    if settings is None:
        settings, source, notes = load_settings(cfg.raw_root, cfg.period, unit=report_unit(cfg))
    notes = list(notes or [])
    docx, xlsx, content = _write_outputs(cfg, settings, template)
    notes += content.notes
    write_settings_record(settings, cfg.tables)
    for note in notes:
        log.warning(note)
    scale, appendix = _printed_tables(content.context)
    return ReportResult(
        docx,
        xlsx,
        source or "(cài đặt truyền vào)",
        notes,
        content.headline,
        scale,
        appendix,
        draft=content.context["draft"],
        served=served_by_group(settings),
    )


def _write_outputs(cfg: paths.RunConfig, settings: Mapping, template) -> tuple:
    """The Word report and the workbook: ``(docx, xlsx, content)``.

    The two are independent: with a second process allowed (``analysis.core.parallel``), the
    workbook is written by a forked worker meanwhile. A worker that fails leaves the workbook
    to this process, which then raises the error itself."""
    pending = parallel.start(_workbook_job, [[cfg]] if parallel.jobs() > 1 else [], (settings,))
    try:
        docx, content = write_docx(cfg, settings, template)
    finally:
        done = pending.results()
    xlsx = done[0][0] if done else None
    if not isinstance(xlsx, Path):
        xlsx = write_workbook(cfg, settings=settings)
    return docx, xlsx, content


def _printed_tables(ctx: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report's scale and appendix tables as printed, for the notebook to show."""
    scale = pd.DataFrame([*ctx["scale"], {"level": vocab.TOTAL, **ctx["scale_total"]}])
    scale = scale.rename(
        columns={"level": "Cấp học", "n_schools": "Số trường", "n_classes": "Số lớp",
                 "n_pupils": "Số HS"}
    )  # fmt: skip
    appendix = pd.DataFrame(
        [*ctx["appendix"], {"stt": "", "school_name": vocab.TOTAL, **ctx["appendix_total"]}]
    ).rename(
        columns={"stt": "STT", "school_name": "Tên trường", "n_staff": "Tổng số CBGVNV",
                 "n_signed": "Số đã có CKS", "coverage": "Tỷ lệ"}
    )  # fmt: skip
    return scale, appendix
