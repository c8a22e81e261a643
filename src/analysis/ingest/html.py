"""HTML tables saved as ``.xls`` (web exports): encoding, tables and their merged cells
(:func:`_probe_html`)."""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.ingest.csv import UnknownEncoding, decode_bytes
from analysis.ingest.files import SNIFF_BYTES, _folder_of
from analysis.ingest.model import (
    HEADER_SEARCH_ROWS,
    LEGACY_SAMPLE_ROWS,
    MAX_HEADER_ROWS,
    IngestError,
    SkippedSheet,
)
from analysis.ingest.probe import _Probe, _probe_grid

log = logging.getLogger(__name__)


_CHARSET_RE = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _decode_html(raw: bytes) -> tuple[str, str]:
    """An HTML file as text: a BOM, else the ``<meta charset>`` it declares, else as a CSV
    (:func:`decode_bytes`). Returns (text, encoding)."""
    if not raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found = _CHARSET_RE.search(raw[:SNIFF_BYTES])
        if found is not None:
            try:
                name = codecs.lookup(found.group(1).decode("ascii")).name
                text_data = raw.decode(name)
            except (LookupError, UnicodeDecodeError):
                pass
            else:
                return unicodedata.normalize("NFC", text_data), name
    return decode_bytes(raw)


def _span(cell, name: str) -> int:
    """A cell's ``colspan``/``rowspan`` (1 when missing or unreadable; at most 1000)."""
    try:
        return max(1, min(int(cell.get(name, "1")), 1000))
    except ValueError:
        return 1


def _html_grids(
    text_data: str,
) -> list[tuple[list[list[str]], list[tuple[tuple[int, int], tuple[int, int]]]]]:
    """The tables of an HTML document (those holding no other table: a page's layout table
    around the data is left), each as rows of cell texts and merged ranges (``colspan``/
    ``rowspan``: the text in the top-left cell, ``""`` in the others, as Excel reads them)."""
    import lxml.html

    doc = lxml.html.document_fromstring(_XML_DECL_RE.sub("", text_data, count=1))
    out = []
    for table in doc.iter("table"):
        if next(table.iterdescendants("table"), None) is not None:
            continue
        rows: list[list[str]] = []
        merges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        carry: dict[int, set[int]] = {}  # row -> columns covered by a rowspan from above
        for r, tr in enumerate(table.iter("tr")):
            covered = carry.pop(r, set())
            values: dict[int, str] = {}
            c = 0
            for cell in tr:
                if not isinstance(cell.tag, str) or cell.tag.lower() not in ("td", "th"):
                    continue
                while c in covered:
                    c += 1
                for br in cell.iter("br"):
                    br.tail = "\n" + (br.tail or "")
                cs, rs = _span(cell, "colspan"), _span(cell, "rowspan")
                if cs > 1 or rs > 1:
                    merges.append(((r, c), (r + rs - 1, c + cs - 1)))
                values[c] = cell.text_content()
                for dr in range(1, rs):
                    carry.setdefault(r + dr, set()).update(range(c, c + cs))
                c += cs
            width = max(c, max(covered, default=-1) + 1)
            rows.append([values.get(j, "") for j in range(width)])
        while rows and all(v.strip() == "" for v in rows[-1]):
            rows.pop()
        if rows:
            out.append((rows, merges))
    return out


def _probe_html(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    """The tables of an HTML file (an ``.xls`` web export): one sheet per table, named ``""``
    when there is one, ``"Bảng 1"``, ``"Bảng 2"``... otherwise. Cells are text (as in a CSV:
    codes keep their leading zeros)."""
    try:
        raw = path.read_bytes()
        text_data, encoding = _decode_html(raw)
        grids = _html_grids(text_data)
    except UnknownEncoding as exc:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” (trang web HTML): không nhận ra bảng mã ký tự ({exc.detail}). Hãy mở "
            "tệp bằng Excel và lưu lại dạng .xlsx rồi chạy lại.",
            code="encoding",
        ) from exc
    except Exception as exc:  # lxml's parser errors, OSError
        log.info("%s: %s: %s", rel, type(exc).__name__, exc)
        raise IngestError(
            rel,
            "",
            f"Không đọc được tệp “{rel}”: trang web (HTML) bị hỏng. Hãy mở tệp bằng Excel và "
            f"lưu lại dạng .xlsx, hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="corrupt",
        ) from exc
    if not grids:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” là trang web (HTML) nhưng không có bảng nào. Hãy xuất lại dữ liệu "
            f"dạng Excel (.xlsx), hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="wrong_type",
        )
    out: list[_Probe | SkippedSheet] = []
    for i, (rows, merges) in enumerate(grids):
        sheet = "" if len(grids) == 1 else f"Bảng {i + 1}"

        def load(_n_top: int, rows=rows):
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame(
                [r + [""] * (width - len(r)) for r in rows], columns=range(width), dtype=object
            )

        head = rows[: max(LEGACY_SAMPLE_ROWS, HEADER_SEARCH_ROWS + MAX_HEADER_ROWS)]
        out.append(_probe_grid(rel, sheet, folder, encoding, head, merges, load))
    return out
