"""Rendering the Word report from its docxtpl template, with deterministic bytes.

``render_docx`` fills a template with a context of ready-formatted strings (built by
``analysis.report.build_context``), inserts the figures as inline images, sets the core
properties from the period's date (never the clock) and rewrites the zip with fixed member
timestamps and order, so a rerun on the same inputs gives the same bytes.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from analysis.core import io

#: Fixed timestamp of every zip member (the earliest a zip can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
AUTHOR = "Phòng GD&ĐT"
FIGURE_WIDTH_MM = 165  # the text width (A4 210 mm - 30 - 15)
FIGURE_MAX_HEIGHT_MM = 240  # the text height (297 - 20 - 20) less the caption


def png_size(path: Path | str) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk; (0, 0) if not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return (0, 0)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def figure_size(path: Path | str) -> dict:
    """The text width (16,5 cm), or less when the figure would be taller than 24 cm."""
    width, height = png_size(path)
    if width and height and height / width * FIGURE_WIDTH_MM > FIGURE_MAX_HEIGHT_MM:
        return {"height": Mm(FIGURE_MAX_HEIGHT_MM)}
    return {"width": Mm(FIGURE_WIDTH_MM)}


class TemplateError(ValueError):
    """A template that cannot be rendered (a broken tag, a missing file)."""


def _member_order(names: list[str]) -> list[str]:
    """[Content_Types].xml first (as Word writes it), then _rels, then the rest sorted."""
    first = [n for n in ("[Content_Types].xml", "_rels/.rels") if n in names]
    return first + sorted(n for n in names if n not in first)


def normalise_zip(path: Path | str) -> None:
    """Rewrite an OOXML zip with fixed timestamps, attributes and member order."""
    path = Path(path)
    with zipfile.ZipFile(path) as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    with io.atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in _member_order(list(members)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, members[name], compresslevel=6)


def set_core_properties(document, day: date, title: str, subject: str = "") -> None:
    """Core properties from the period's date: no clock, no user name of the machine."""
    stamp = datetime(day.year, day.month, day.day)
    props = document.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.title = title
    props.subject = subject
    props.comments = ""
    props.keywords = "học bạ số; chữ ký số"
    props.category = "Báo cáo"
    props.revision = 1
    props.created = stamp
    props.modified = stamp
    props.last_printed = stamp


def render_docx(
    template: Path | str,
    context: dict,
    figures: list[dict],
    out_path: Path | str,
    day: date,
    title: str,
) -> Path:
    """Render ``template`` with ``context`` into ``out_path``.

    ``figures``: ``[{"path": Path, "caption": str, "number": int}]``; each becomes
    ``{"image": InlineImage, "caption", "number"}`` in ``context["figures"]``.
    """
    template = Path(template)
    out_path = Path(out_path)
    if not template.is_file():
        raise TemplateError(
            f"Không tìm thấy mẫu báo cáo {template}. Kiểm tra khóa 'template' trong "
            "bao_cao.toml hoặc tạo lại mẫu mặc định: "
            "python src/analysis/report/templates/build_template.py"
        )
    tpl = DocxTemplate(str(template))
    ctx = dict(context)
    ctx["figures"] = [
        {
            "image": InlineImage(tpl, str(fig["path"]), **figure_size(fig["path"])),
            "caption": fig["caption"],
            "number": fig["number"],
        }
        for fig in figures
    ]
    try:
        tpl.render(ctx, autoescape=True)
    except Exception as exc:  # jinja2 errors carry the template line
        raise TemplateError(
            f"Mẫu báo cáo {template.name} có thẻ không hợp lệ ({exc}). Mở mẫu trong Word, "
            "kiểm tra các thẻ {{ ... }} và {%p ... %} (mỗi thẻ phải nằm trọn trong một đoạn "
            "cùng định dạng), hoặc dùng lại mẫu mặc định."
        ) from exc
    set_core_properties(tpl.docx, day, title, context.get("subject", ""))
    with io.atomic_path(out_path) as tmp:
        tpl.save(tmp)
        normalise_zip(tmp)
    return out_path
