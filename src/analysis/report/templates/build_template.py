"""Build the default Word template of the report: ``bao_cao_mac_dinh.docx``.

The template is a docxtpl (Jinja) document: the office may open it in Word, change any
sentence, move blocks, and keep the ``{{ ... }}`` / ``{%p ... %}`` / ``{%tr ... %}`` tags
(each tag must stay inside one piece of text with one formatting). This script regenerates
the committed file from scratch, byte for byte:

    .venv/bin/python src/analysis/report/templates/build_template.py

Layout follows Nghị định 30/2020/NĐ-CP (Phụ lục I): A4, margins 20/20/30/15 mm, Times New
Roman, the two-column heading, body 14 pt with a 1,27 cm first-line indent, page numbers in
the header from page 2 on.

Context variables the template uses are documented in ``analysis.report.build_context``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from analysis.report.docx import normalise_zip
from analysis.report.fontmetrics import text_width_cm

HERE = Path(__file__).resolve().parent
TEMPLATE_PATH = HERE / "bao_cao_mac_dinh.docx"

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
TEXT_WIDTH_CM = 16.5  # A4 210 mm - left 30 mm - right 15 mm
# The two-column heading (Nghị định 30/2020, Phụ lục I): every element on one line. Sizes: the
# agency lines and the national title 12 pt (the decree allows 12-13; at 13 pt bold the two
# longest lines, 7,15 cm + 9,57 cm, do not fit side by side in the 16,5 cm text width), the motto
# 13 pt bold, the number 13 pt, the date line 14 pt italic. Column widths come from the lines'
# measured widths (``report.fontmetrics``: Liberation Serif, metric-compatible with Times New
# Roman) and the table spans exactly the text width.
AGENCY_PT = 12
NATIONAL_PT = 12
MOTTO_PT = 13
NUMBER_PT = 13
DATE_PT = 14
HEAD_PAD_CM = 0.1
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
#: The longest lines each column must hold (the units of the data contract, §7).
HEAD_LEFT_LINES = (
    ("UBND THÀNH PHỐ HÀ NỘI", AGENCY_PT, False, False),
    ("UBND QUẬN LONG BIÊN", AGENCY_PT, False, False),
    ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", AGENCY_PT, True, False),
    ("SỞ GIÁO DỤC VÀ ĐÀO TẠO", AGENCY_PT, True, False),
    ("PHÒNG VĂN HÓA - XÃ HỘI", AGENCY_PT, True, False),
    ("Số: …/BC-PGDĐT", NUMBER_PT, False, False),
    ("Số: …/BC-SGDĐT", NUMBER_PT, False, False),
)
HEAD_RIGHT_LINES = (
    (NATIONAL_TITLE, NATIONAL_PT, True, False),
    (MOTTO, MOTTO_PT, True, False),
    ("Long Biên, ngày 24 tháng 12 năm 2024", DATE_PT, False, True),
)


def _need_cm(lines) -> float:
    return max(text_width_cm(text, pt, bold, italic) for text, pt, bold, italic in lines)


def heading_widths() -> tuple[float, float]:
    """(left, right) column widths in cm: each column's longest line plus the cell padding,
    the text width's slack shared out equally; rounded to 0,01 cm."""
    left = _need_cm(HEAD_LEFT_LINES) + 2 * HEAD_PAD_CM
    right = _need_cm(HEAD_RIGHT_LINES) + 2 * HEAD_PAD_CM
    slack = TEXT_WIDTH_CM - left - right
    if slack < 0:
        raise ValueError(f"the heading needs {left + right:.2f} cm > {TEXT_WIDTH_CM} cm")
    left = round(left + slack / 2, 2)
    return left, round(TEXT_WIDTH_CM - left, 2)


HEAD_LEFT_CM, HEAD_RIGHT_CM = heading_widths()
#: The motto's rule is as long as the motto.
MOTTO_WIDTH_CM = round(text_width_cm(MOTTO, MOTTO_PT, bold=True), 2)
#: The rule under the issuing agency: about 2/5 of "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO".
AGENCY_RULE_CM = round(0.4 * text_width_cm("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", AGENCY_PT, True), 1)
SAMPLE_RED = RGBColor(0xC0, 0x00, 0x00)
TEMPLATE_DATE = datetime(2024, 1, 1)

# Successors of w:pBdr inside w:pPr (schema order), so the border lands where Word expects it.
_PBDR_SUCCESSORS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


# Successors inside w:tblPr (schema order) of the elements added by hand.
_TBLPR_AFTER_CELLMAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
_TBLPR_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", *_TBLPR_AFTER_CELLMAR)


# --------------------------------------------------------------------------- XML helpers


def _set_fonts(rpr) -> None:
    """Times New Roman for every script (ascii, hAnsi, eastAsia, cs), no theme fonts."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _style_font(style, size: float, bold: bool | None = None, italic: bool | None = None):
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(style.element.get_or_add_rPr())


def _fmt(
    paragraph,
    *,
    align=None,
    before: float = 0,
    after: float = 0,
    indent: float | None = 0,
    single: bool = True,
    keep_next: bool = False,
):
    pf = paragraph.paragraph_format
    if align is not None:
        pf.alignment = align
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if indent is not None:
        pf.first_line_indent = Cm(indent)
    if single:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if keep_next:
        pf.keep_with_next = True
    return paragraph


def _run(paragraph, text: str, size: float | None = None, bold=None, italic=None, color=None):
    run = paragraph.add_run(text)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    if color is not None:
        run.font.color.rgb = color
    return run


def _border(paragraph, side: str = "bottom", size_eighths: int = 6) -> None:
    """A single line on one side of a paragraph (spans the paragraph between its indents)."""
    ppr = paragraph._p.get_or_add_pPr()
    pbdr = ppr.find(qn("w:pBdr"))
    if pbdr is None:
        pbdr = OxmlElement("w:pBdr")
        ppr.insert_element_before(pbdr, *_PBDR_SUCCESSORS)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), "000000")
    pbdr.append(line)


def _rule(container, width_cm: float, box_cm: float, gap_pt: float = 1):
    """A short centred horizontal rule: an empty 2 pt paragraph with a top border."""
    p = container.add_paragraph()
    side = max((box_cm - width_cm) / 2, 0)
    pf = p.paragraph_format
    pf.left_indent = Cm(side)
    pf.right_indent = Cm(side)
    pf.first_line_indent = Cm(0)
    pf.space_before = Pt(gap_pt)
    pf.space_after = Pt(0)
    pf.line_spacing = Pt(2)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    _border(p, "top")
    _run(p, "", size=2)
    return p


def _cell_padding(table, cm: float) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(cm / 2.54 * 1440)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.insert_element_before(margins, *_TBLPR_AFTER_CELLMAR)


def _no_borders(table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.insert_element_before(borders, *_TBLPR_AFTER_BORDERS)


def _widths(table, widths_cm: list[float]) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, width in enumerate(widths_cm):
        table.columns[i].width = Cm(width)
        for cell in table.columns[i].cells:
            cell.width = Cm(width)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    trpr.append(el)


def _cant_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def _keep_together(table) -> None:
    """A short table on one page: every row's paragraphs keep with the next row (Word and
    LibreOffice then move the table whole rather than split it)."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def _cell_text(cell, text: str, *, bold=None, italic=None, align=WD_ALIGN_PARAGRAPH.CENTER):
    p = cell.paragraphs[0]
    p.style = "Table Text"
    p.alignment = align
    _run(p, text, bold=bold, italic=italic)
    return p


def _field(paragraph, instr: str, placeholder: str = "2") -> None:
    """A complex field (PAGE): begin, instruction, separate, cached result, end."""

    def fld(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    fld("begin")
    run = paragraph.add_run()
    instr_el = OxmlElement("w:instrText")
    instr_el.set(qn("xml:space"), "preserve")
    instr_el.text = f" {instr} "
    run._r.append(instr_el)
    fld("separate")
    paragraph.add_run(placeholder)
    fld("end")


# ------------------------------------------------------------------------------ styles


def _setup_styles(doc) -> None:
    """The document defaults, then the paragraph styles the template uses."""
    styles = doc.styles
    _doc_defaults(styles)
    _body_styles(styles)
    _table_styles(styles)
    caption = styles["Caption"]
    caption.base_style = styles["Normal"]
    _style_font(caption, TABLE_PT, bold=False, italic=True)
    caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.paragraph_format.space_before = Pt(3)
    caption.paragraph_format.space_after = Pt(12)
    for name in ("Header", "Footer"):
        _style_font(styles[name], TABLE_PT)
        styles[name].paragraph_format.space_after = Pt(0)
        styles[name].paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    grid = styles["Table Grid"]
    _set_fonts(grid.element.get_or_add_rPr())


def _doc_defaults(styles) -> None:
    # Document defaults: Times New Roman everywhere (incl. East Asian), 14 pt, Vietnamese.
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr)
    rpr.find(qn("w:sz")).set(qn("w:val"), str(BODY_PT * 2))
    rpr.find(qn("w:szCs")).set(qn("w:val"), str(BODY_PT * 2))
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "120")  # 6 pt
    spacing.set(qn("w:line"), "276")  # 1,15 lines
    spacing.set(qn("w:lineRule"), "auto")


def _body_styles(styles) -> None:
    """Normal, and Body Text: justified, first line indented 1,27 cm."""
    normal = styles["Normal"]
    _style_font(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15

    body = styles["Body Text"]
    _style_font(body, BODY_PT)
    body.base_style = normal
    body.paragraph_format.first_line_indent = Cm(1.27)
    body.paragraph_format.space_after = Pt(6)
    body.paragraph_format.line_spacing = 1.15
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _table_styles(styles) -> None:
    """Table Text (inside cells) and Table Title ("Bảng n. ..." above a table)."""
    normal = styles["Normal"]
    table_text = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    _style_font(table_text, TABLE_PT)
    table_text.paragraph_format.space_before = Pt(2)
    table_text.paragraph_format.space_after = Pt(2)
    table_text.paragraph_format.first_line_indent = Cm(0)
    table_text.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE

    # "Bảng n. ..." above a table: centred, bold, kept with the table (not the justified,
    # indented body style, which splits a title's last word onto a line of its own).
    table_title = styles.add_style("Table Title", WD_STYLE_TYPE.PARAGRAPH)
    table_title.base_style = normal
    _style_font(table_title, TABLE_PT, bold=True)
    table_title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table_title.paragraph_format.first_line_indent = Cm(0)
    table_title.paragraph_format.space_before = Pt(6)
    table_title.paragraph_format.space_after = Pt(4)
    table_title.paragraph_format.keep_with_next = True
    table_title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _body(doc, text: str = "", *, bold=None, italic=None, keep_next=False):
    p = doc.add_paragraph(style="Body Text")
    if keep_next:
        p.paragraph_format.keep_with_next = True
    if text:
        _run(p, text, bold=bold, italic=italic)
    return p


def _table_title(doc, number: str, title: str):
    """'Bảng {{ number }}. title' above a table (style Table Title, kept with the table)."""
    p = doc.add_paragraph(style="Table Title")
    _run(p, "Bảng {{ " + number + " }}. " + title)
    return p


def _var(name: str) -> str:
    """A docxtpl variable tag: ``{{ name }}``."""
    return "{{ " + name + " }}"


def _tag(container, tag: str):
    """A paragraph holding only a docxtpl block tag ({%p ... %}); removed when rendering."""
    p = container.add_paragraph(style="Normal")
    _fmt(p, after=0)
    _run(p, tag)
    return p


LEFT, CENTER = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER


def _loop_table(
    doc, heads, widths, loop, lead, keys, total="", *, total_label="name", repeat=True, keep=False
):
    """A table of the template's one shape: a bold header row (repeated on every page with
    ``repeat``), the row loop ``{%tr for row in <loop> %}`` whose row never breaks across pages
    (its ``lead`` cells: ``(text, align)``, then ``row.<key>`` for each of ``keys``, centred),
    then with ``total`` (a context variable) a bold "Tổng cộng" row of ``<total>.<key>``: its
    label in the last lead cell, left-aligned, or (``total_label="merge"``) over all lead cells,
    centred. ``keep``: the whole table kept on one page."""
    table = doc.add_table(rows=5 if total else 4, cols=len(heads))
    table.style = doc.styles["Table Grid"]
    _widths(table, widths)
    for i, head in enumerate(heads):
        _cell_text(table.cell(0, i), head, bold=True)
    if repeat:
        _repeat_header(table.rows[0])
    _cell_text(table.cell(1, 0), "{%tr for row in " + loop + " %}")
    for i, (text, align) in enumerate(lead):
        _cell_text(table.cell(2, i), text, align=align)
    for i, key in enumerate(keys, start=len(lead)):
        _cell_text(table.cell(2, i), _var("row." + key))
    _cell_text(table.cell(3, 0), "{%tr endfor %}")
    _cant_split(table.rows[2])  # a row never breaks across pages
    if total:
        if total_label == "merge":
            label = table.cell(4, 0).merge(table.cell(4, len(lead) - 1))
            _cell_text(label, "Tổng cộng", bold=True)
        else:
            _cell_text(table.cell(4, len(lead) - 1), "Tổng cộng", bold=True, align=LEFT)
        for i, key in enumerate(keys, start=len(lead)):
            _cell_text(table.cell(4, i), _var(total + "." + key), bold=True)
    if keep:
        _keep_together(table)
    return table


def _optional_table(doc, shown: str, number: str, title: str, **table) -> None:
    """An appendix table shown only when the context's ``shown`` is set: its title (12 pt
    above) and the table (``_loop_table``'s arguments)."""
    _tag(doc, "{%p if " + shown + " %}")
    p = _table_title(doc, number, title)
    p.paragraph_format.space_before = Pt(12)
    _loop_table(doc, **table)
    _tag(doc, "{%p endif %}")


# ---------------------------------------------------------------------------- sections


def _heading_block(doc) -> None:
    """The draft mark, the two-column heading (agencies, national title, number, date line),
    then "BÁO CÁO" and the subject over a short rule."""
    _draft_mark(doc)
    _heading_table(doc)
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=18, keep_next=True)
    _run(p, "BÁO CÁO", size=14, bold=True)
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)
    _run(p, "{{ subject }}", size=14, bold=True)
    rule = _rule(doc, 3.0, TEXT_WIDTH_CM, gap_pt=4)
    rule.paragraph_format.space_after = Pt(12)


def _draft_mark(doc) -> None:
    # A draft (a setting of the office's own is missing) says so above the heading, boxed.
    _tag(doc, "{%p if draft %}")
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.RIGHT, after=6)
    run = _run(p, "{{ draft_mark }}", size=13, bold=True)
    box = OxmlElement("w:bdr")  # a box around the word (after w:sz in w:rPr, schema order)
    for attr, value in (("val", "single"), ("sz", "8"), ("space", "2"), ("color", "000000")):
        box.set(qn(f"w:{attr}"), value)
    run._r.get_or_add_rPr().append(box)
    _tag(doc, "{%p endif %}")


def _heading_table(doc) -> None:
    table = doc.add_table(rows=2, cols=2)
    _no_borders(table)
    _cell_padding(table, HEAD_PAD_CM)
    _widths(table, [HEAD_LEFT_CM, HEAD_RIGHT_CM])
    left, right = table.cell(0, 0), table.cell(0, 1)

    p = left.paragraphs[0]
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, "{{ parent_agency|upper }}", size=AGENCY_PT)
    p = left.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, "{{ issuing_agency|upper }}", size=AGENCY_PT, bold=True)
    _rule(left, AGENCY_RULE_CM, HEAD_LEFT_CM - 2 * HEAD_PAD_CM)

    p = right.paragraphs[0]
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, NATIONAL_TITLE, size=NATIONAL_PT, bold=True)
    p = right.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, MOTTO, size=MOTTO_PT, bold=True)
    _rule(right, MOTTO_WIDTH_CM, HEAD_RIGHT_CM - 2 * HEAD_PAD_CM)  # as long as the motto
    _number_cell(table.cell(1, 0))
    p = table.cell(1, 1).paragraphs[0]
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=6)
    _run(p, "{{ date_line }}", size=DATE_PT, italic=True)


def _number_cell(cell) -> None:
    # The number by the report's unit ("Số: …/BC-SGDĐT", "…/BC-VHXH"); a district's is written
    # as plain text, so its report keeps the bytes it had before units existed.
    p = cell.paragraphs[0]
    _fmt(p, after=0)
    _run(p, "{%p if number_custom %}")
    p = cell.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=6)
    _run(p, "{{ number }}", size=NUMBER_PT)
    _tag(cell, "{%p else %}")
    p = cell.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=6)
    _run(p, "Số: …/BC-PGDĐT", size=NUMBER_PT)
    _tag(cell, "{%p endif %}")


def _section_directives(doc) -> None:
    _body(doc, "I. CÔNG TÁC CHỈ ĐẠO", bold=True, keep_next=True)
    _tag(doc, "{%p for line in directives %}")
    _body(doc, "- {{ line }}")
    _tag(doc, "{%p endfor %}")


def _scale_table(doc) -> None:
    _loop_table(
        doc, ["Cấp học", "Số trường", "Số lớp", "Số HS"], [5.0, 3.5, 3.5, 4.0], "scale",
        [("{{ row.level }}", LEFT)], ["n_schools", "n_classes", "n_pupils"], "scale_total",
        keep=True,
    )  # fmt: skip


def _section_status(doc) -> None:
    _body(doc, "II. ĐÁNH GIÁ HIỆN TRẠNG", bold=True, keep_next=True)
    _body(doc, "1. Quy mô trường, lớp:", bold=True, keep_next=True)
    _table_title(doc, "table_no.scale", "Quy mô trường, lớp, học sinh theo cấp học")
    _scale_table(doc)
    p = _body(doc, "2. Về hạ tầng thông tin và cơ sở vật chất", bold=True, keep_next=True)
    p.paragraph_format.space_before = Pt(6)
    _body(doc, "a) Hạ tầng thông tin", bold=True, keep_next=True)
    _tag(doc, "{%p if infrastructure_intro %}")
    _body(doc, "{{ infrastructure_intro }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for line in infrastructure_lines %}")
    _body(doc, "- {{ line }}")
    _tag(doc, "{%p endfor %}")
    p = _body(
        doc,
        "- Tính đến {{ as_of }}, tổng số CBGVNV: {{ sig.n_signed }}/{{ sig.n_staff }}"
        " (đạt {{ sig.coverage }}) cán bộ giáo viên, nhân viên các trường {{ level }} đã được"
        " trang bị ký số cá nhân (",
    )
    _run(p, "Phụ lục đính kèm", italic=True)
    _run(p, ").")
    _body(doc, "b) Cơ sở vật chất", bold=True, keep_next=True)
    _body(doc, "- Số lượng kết nối internet cáp quang: {{ infra.n_fibre }}.")
    _body(doc, "- Tốc độ đường truyền: Từ {{ infra.speed_min }} Mbps trở lên.")
    _body(doc, "- Máy tính phục vụ công tác quản lý: {{ infra.n_computers }}.")
    _section_progress(doc)
    _section_communes(doc)
    _section_records(doc)
    _section_certificates(doc)
    # The closing sentence stays on the page of the signature block (keep with next).
    p = _body(doc, "{{ closing }}", keep_next=True)
    p.paragraph_format.space_before = Pt(6)


def _section_records(doc) -> None:
    """II.4: record signing (``records`` of the context), a sentence per level and a table by
    grade, only when the period has ``hoc_ba`` data."""
    _tag(doc, "{%p if records %}")
    p = _body(doc, "4. Tiến độ ký số học bạ", bold=True, keep_next=True)
    p.paragraph_format.space_before = Pt(6)
    _tag(doc, "{%p for line in records.lines %}")
    _body(doc, "- {{ line }}")
    _tag(doc, "{%p endfor %}")
    _table_title(doc, "table_no.records", "Tiến độ ký số học bạ theo khối lớp")
    heads = ["Khối lớp", "Số học bạ", "GVCN đã ký", "Tỷ lệ", "Hiệu trưởng đã duyệt", "Tỷ lệ"]
    keys = ["n_records", "n_signed_teacher", "rate_teacher", "n_signed_principal",
            "rate_principal"]  # fmt: skip
    _loop_table(
        doc, heads, [4.1, 2.4, 2.5, 2.3, 2.7, 2.5], "records.rows",
        [("{{ row.label }}", LEFT)], keys, "records.total", keep=True,
    )  # fmt: skip
    _tag(doc, "{%p endif %}")


def _section_certificates(doc) -> None:
    """II.4/5: the school's own certificate (con dấu số: a sentence and a table by level) and
    the providers' lists (matched / not matched certificates, the type of signature), only when
    the period has them (``certificates`` of the context)."""
    _tag(doc, "{%p if certificates %}")
    p = _body(
        doc,
        "{{ certificates.number }}. Chữ ký số của cơ quan và danh sách thuê bao chữ ký số",
        bold=True,
        keep_next=True,
    )
    p.paragraph_format.space_before = Pt(6)
    _tag(doc, "{%p if certificates.seal_line %}")
    _body(doc, "- {{ certificates.seal_line }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for line in certificates.ca_lines %}")
    _body(doc, "- {{ line }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if certificates.rows %}")
    _table_title(doc, "table_no.seal", "Chữ ký số của cơ quan (con dấu số) theo cấp học")
    _loop_table(
        doc, ["Cấp học", "Số trường", "Đã có CKS cơ quan", "Chưa có", "Tỷ lệ"],
        [5.0, 2.8, 3.2, 2.8, 2.7], "certificates.rows", [("{{ row.level }}", LEFT)],
        ["n_schools", "n_ready", "n_without", "share"], "certificates.total", keep=True,
    )  # fmt: skip
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")


def _section_communes(doc) -> None:
    """A province's report: coverage by commune (``by_commune`` of the context: lowest first,
    with the staff still without a signature), only when the table exists."""
    _tag(doc, "{%p if by_commune %}")
    _body(doc, "- {{ by_commune_line }}")
    _table_title(doc, "table_no.commune", "{{ commune_title }}")
    heads = ["STT", "Xã/phường", "Số trường có số liệu", "Tổng số CBGVNV", "Số đã có CKS",
             "Tỷ lệ", "Số chưa có CKS"]  # fmt: skip
    _loop_table(
        doc, heads, [1.1, 4.4, 2.3, 2.3, 2.1, 2.0, 2.3], "by_commune",
        [("{{ row.stt }}", CENTER), ("{{ row.commune }}", LEFT)],
        ["n_schools_reporting", "n_staff", "n_signed", "coverage", "n_missing"],
        "by_commune_total",
    )  # fmt: skip
    _tag(doc, "{%p endif %}")


def _section_progress(doc) -> None:
    """II.3: what the head reads first, computed per level (``status`` of the context)."""
    _tag(doc, "{%p if status %}")
    p = _body(doc, "3. Tiến độ trang bị chữ ký số cá nhân", bold=True, keep_next=True)
    p.paragraph_format.space_before = Pt(6)
    _tag(doc, "{%p for block in status %}")
    _body(doc, "{{ block.heading }}:", italic=True, keep_next=True)
    _tag(doc, "{%p for line in block.lines %}")
    _body(doc, "- {{ line }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")


def _signature_block(doc) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [7.5, TEXT_WIDTH_CM - 7.5])
    _cant_split(table.rows[0])
    left, right = table.cell(0, 0), table.cell(0, 1)

    p = left.paragraphs[0]
    _fmt(p, before=6)
    _run(p, "Nơi nhận:", size=12, bold=True, italic=True)
    _tag(left, "{%p for item in recipients %}")
    p = left.add_paragraph()
    _fmt(p)
    _run(p, "- {{ item }}", size=11)
    _tag(left, "{%p endfor %}")

    p = right.paragraphs[0]
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=6)
    _run(p, "{{ signer_mode|upper }}", size=14, bold=True)
    p = right.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, "{{ signer_title|upper }}", size=14, bold=True)
    for _ in range(4):  # room for the signature and the seal
        p = right.add_paragraph()
        _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    p = right.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=12)
    _run(p, "{{ signer_name }}", size=14, bold=True)


def _appendix_coverage(doc) -> None:
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)
    p.paragraph_format.page_break_before = True
    _run(p, "PHỤ LỤC", bold=True)
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)
    _run(p, "{{ appendix_title }}", bold=True)
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, after=6, keep_next=True)
    _run(p, "{{ appendix_ref }}", italic=True)
    _table_title(doc, "table_no.appendix", "Chữ ký số cá nhân theo trường, đến {{ as_of }}")

    _loop_table(
        doc, ["STT", "Tên trường", "Tổng số CBGVNV", "Số đã có CKS", "Tỷ lệ"],
        [1.3, 7.2, 2.8, 2.7, 2.5], "appendix",
        [("{{ row.stt }}", CENTER), ("{{ row.school_name }}", LEFT)],
        ["n_staff", "n_signed", "coverage"], "appendix_total", total_label="merge",
    )  # fmt: skip


def _appendix_change(doc) -> None:
    _optional_table(
        doc, "change", "table_no.change", "{{ change_title }}",
        heads=["STT", "Tên trường", "Tỷ lệ kỳ trước", "Tỷ lệ kỳ này", "Tăng (điểm %)",
               "Số CKS tăng"],
        widths=[1.4, 6.8, 2.1, 2.1, 1.9, 1.9], loop="change",
        lead=[("{{ row.stt }}", CENTER), ("{{ row.school_name }}", LEFT)],
        keys=["coverage_prev", "coverage", "delta_coverage", "delta_signed"],
    )  # fmt: skip


def _appendix_breakdowns(doc) -> None:
    _optional_table(
        doc, "by_role", "table_no.role", "{{ role_title }}",
        heads=["Chức vụ", "Tổng số", "Số đã có CKS", "Tỷ lệ"], widths=[6.0, 3.5, 3.5, 3.0],
        loop="by_role", lead=[("{{ row.role }}", LEFT)], keys=["n_staff", "n_signed", "coverage"],
        repeat=False,
    )  # fmt: skip
    _optional_table(
        doc, "by_provider", "table_no.provider", "{{ provider_title }}",
        heads=["Nhà cung cấp", "Số đã có CKS", "Tỷ trọng"], widths=[7.0, 4.5, 4.5],
        loop="by_provider", lead=[("{{ row.provider }}", LEFT)], keys=["n_signed", "share"],
        repeat=False,
    )  # fmt: skip


def _appendix_figures(doc) -> None:
    _tag(doc, "{%p if figures %}")
    p = _body(doc, "{{ figures_title }}", bold=True, keep_next=True)
    p.paragraph_format.space_before = Pt(12)
    _tag(doc, "{%p for fig in figures %}")
    p = doc.add_paragraph()
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, keep_next=True)
    _run(p, "{{ fig.image }}")
    p = doc.add_paragraph(style="Caption")
    _run(p, "Hình {{ fig.number }}. {{ fig.caption }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")


def _headers(section) -> None:
    section.different_first_page_header_footer = True
    # First page: no page number, only the sample mark when it applies.
    first = section.first_page_header.paragraphs[0]
    _fmt(first, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(first, "{% if sample %}{{ sample_mark }}{% endif %}", size=10, bold=True, color=SAMPLE_RED)
    # Later pages: the page number centred in the top margin (and the sample mark).
    header = section.header
    p = header.paragraphs[0]
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _field(p, "PAGE")
    for run in p.runs:
        run.font.size = Pt(13)
    p = header.add_paragraph(style="Header")
    _fmt(p, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(p, "{% if draft %}{{ draft_mark }}{% endif %}", size=10, bold=True)
    _run(p, "{% if draft and sample %} · {% endif %}", size=10, bold=True)
    _run(p, "{% if sample %}{{ sample_mark }}{% endif %}", size=10, bold=True, color=SAMPLE_RED)


def build(path: Path = TEMPLATE_PATH) -> Path:
    """Write the default template to ``path`` (deterministic bytes) and return the path."""

    doc = Document()
    _setup_styles(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(8), Mm(8)
    _headers(section)

    # python-docx starts with one empty paragraph: drop it so the document opens on the heading.
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)

    _heading_block(doc)
    _section_directives(doc)
    _section_status(doc)
    _signature_block(doc)
    _appendix_coverage(doc)
    _appendix_change(doc)
    _appendix_breakdowns(doc)
    _appendix_figures(doc)

    props = doc.core_properties
    props.title = "Báo cáo công tác chuẩn bị triển khai học bạ số"
    props.author = "Phòng GD&ĐT"
    props.last_modified_by = "Phòng GD&ĐT"
    props.comments = (
        "Mẫu báo cáo (docxtpl): sửa lời văn trong Word, giữ nguyên các thẻ trong ngoặc nhọn."
    )
    props.revision = 1
    props.created = props.modified = props.last_printed = TEMPLATE_DATE
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    normalise_zip(path)
    return path


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_PATH)
    print(f"Đã ghi mẫu báo cáo: {out}")
