"""The report stage: the Word report (docxtpl template) and the Excel workbook (xlsxwriter).

Inputs are the metric tables and figures of a period (``outputs/<period>/tables``,
``outputs/<period>/figures``), ``quality.json`` / ``quarantine.csv`` of the processed folder,
and the report settings (``bao_cao.toml``, carried forward from earlier periods, over the
package defaults). A setting of the office's own missing everywhere is left as dots and the
document is marked ``DỰ THẢO`` on every page.

Modules:

- ``settings``: ``load_settings`` (the layered ``bao_cao.toml``, type-checked, with the file
  of every key), ``target_ratio``, ``settings_summary``, ``report_settings.json``;
- ``context``: ``build_context``, the template's context, one function per section
  (``status``: the computed sentences of section II; ``wording``: placeholders, numbers in
  running text, titles, the unit's name);
- ``build``: ``build_report`` (tables -> context -> .docx + .xlsx), ``write_docx``,
  ``write_workbook``, ``report_unit``;
- ``docx`` (rendering with deterministic bytes), ``xlsx`` (the workbook; its sheets in
  ``templates/sheets.toml``), ``pdf_check``, ``fontmetrics``, ``templates/build_template.py``.

Public API::

    load_settings(raw_root, period) -> (settings, source, notes)
    build_context(tables, settings, period, sample, figures_dir=None) -> ReportContent
    build_report(cfg, settings=None, template=None) -> ReportResult   # .docx + .xlsx
    write_docx(cfg, ...), write_workbook(cfg, ...)
    main(argv) -> int, command(args) -> int                            # python -m analysis report
"""

from __future__ import annotations

from analysis import cli, paths
from analysis.report.build import (
    DEFAULT_TEMPLATE,
    ReportResult,
    build_report,
    read_metric_tables,
    read_quality,
    report_unit,
    write_docx,
    write_workbook,
)
from analysis.report.context import ReportContent, build_context
from analysis.report.docx import TemplateError
from analysis.report.settings import (
    DEFAULTS_LABEL,
    DEFAULTS_PATH,
    DRAFT_DOTS,
    DRAFT_MARK,
    SETTINGS_FILE,
    SETTINGS_JSON,
    ReportError,
    load_settings,
    missing_settings,
    served_by_group,
    settings_summary,
    target_ratio,
)
from analysis.report.wording import title_lines
from analysis.report.xlsx import SAMPLE_TEXT

__all__ = [
    "command",
    "DEFAULTS_LABEL",
    "DEFAULTS_PATH",
    "DEFAULT_TEMPLATE",
    "DRAFT_DOTS",
    "DRAFT_MARK",
    "SAMPLE_TEXT",
    "SETTINGS_FILE",
    "SETTINGS_JSON",
    "ReportContent",
    "ReportError",
    "ReportResult",
    "TemplateError",
    "build_context",
    "build_report",
    "load_settings",
    "main",
    "missing_settings",
    "read_metric_tables",
    "read_quality",
    "report_unit",
    "served_by_group",
    "settings_summary",
    "target_ratio",
    "title_lines",
    "write_docx",
    "write_workbook",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis report`` without the stops wrapper (the options: ``analysis.cli``)."""
    return cli.run_command("report", argv)


def command(args) -> int:
    """Write the Word report and the workbook of one period from its metric tables."""
    from analysis.core.units import UnitChoiceError

    try:
        cfg = paths.RunConfig.from_params(
            args.period, args.raw_dir, args.processed_dir, args.output_dir
        )
        settings, source, notes = load_settings(
            cfg.raw_root, cfg.period, unit=report_unit(cfg, args.unit)
        )
        result = build_report(
            cfg, settings, template=args.template or None, source=source, notes=notes
        )
    except (
        ReportError,
        TemplateError,
        UnitChoiceError,
        paths.PeriodError,
        FileNotFoundError,
    ) as exc:
        return cli.error(exc)
    print(result.summary())
    return 0
