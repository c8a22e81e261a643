"""One file to its sheets: the reader picked from the file's bytes (:func:`_probe_by_content`),
look-alike sheets refused, a ``.txt`` note listed as not read (:func:`_probe_file`)."""

from __future__ import annotations

from pathlib import Path

from analysis.ingest import contract as K
from analysis.ingest.csv import _probe_csv
from analysis.ingest.excel import _excel_error, _probe_excel
from analysis.ingest.files import _EXPECTED, _TYPE_NAMES, _folder_of, _unread_reason, sniff
from analysis.ingest.html import _probe_html
from analysis.ingest.model import EXTENSIONS, IngestError, SkippedSheet, UnreadFile, _rel
from analysis.ingest.probe import _check_probe, _Probe

#: The readers, by the :func:`sniff` type of a file.
_WORKBOOK_TYPES = ("xlsx", "xlsb", "ods", "ole")
_TEXT_SUFFIXES = (".csv", ".txt")


def _read_note(rel: str, suffix: str, real: str) -> str:
    name, ext = _TYPE_NAMES[real]
    return (
        f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {name}: đã đọc theo nội dung của "
        f"tệp. Nên lưu lại tệp với đúng đuôi ({ext}) cho khỏi nhầm."
    )


def _probe_by_content(path: Path, rel: str, folder: str) -> list[_Probe | SkippedSheet]:
    """Pick the reader from the file's bytes (:func:`sniff`), not its extension; a file read
    as another type than its extension says carries a ``read_note``."""
    suffix = path.suffix.lower()
    try:
        real = sniff(path)
    except OSError as exc:
        raise IngestError(rel, "", f"Không mở được tệp “{rel}”.", code="corrupt") from exc
    textual = suffix in _TEXT_SUFFIXES
    if real in _WORKBOOK_TYPES:
        items = _probe_excel(path, rel, folder, by_content=real not in _EXPECTED[suffix])
    elif real == "broken_zip" and suffix in (".xlsx", ".xlsm", ".ods"):
        # A zip Python's zipfile cannot list: calamine has the last word (and its failure,
        # the "corrupt" message).
        items = _probe_excel(path, rel, folder)
        real = _EXPECTED[suffix][0]
    elif real == "html":
        items = _probe_html(path, rel, folder)
    elif real == "text" or (textual and real in ("empty", "binary")):
        items = _probe_text(path, rel, folder, real)
    elif real in ("docx", "zip", "pdf", "xml") and textual:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {_TYPE_NAMES[real][0]}, "
            "không phải bảng tính đọc được. Hãy lưu (hoặc xuất) lại dạng .xlsx hoặc CSV, "
            f"hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="wrong_type",
        )
    else:  # empty, another type, a broken zip or binary under an Excel name
        raise _excel_error(rel, path, None, real)
    if real not in _EXPECTED[suffix]:
        note = _read_note(rel, suffix, real)
        for item in items:
            if isinstance(item, _Probe):
                item.read_note = note
    return items


def _probe_text(path: Path, rel: str, folder: str, real: str) -> list[_Probe | SkippedSheet]:
    """A file whose bytes are text (or a ``.csv``/``.txt`` that is empty or binary, for its
    message) read as a CSV; under an Excel name, the message says what it really is."""
    suffix = path.suffix.lower()
    if real == "binary":
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}”: không nhận ra bảng mã ký tự (tệp có nhiều ký tự điều khiển, "
            "không phải văn bản). Hãy mở tệp bằng Excel và lưu lại dạng “CSV UTF-8” hoặc "
            f".xlsx, hoặc xoá tệp khỏi {_folder_of(rel)}, rồi chạy lại.",
            code="encoding",
        )
    try:
        return _probe_csv(path, rel, folder)
    except IngestError as exc:
        if suffix in _TEXT_SUFFIXES:
            raise
        raise IngestError(
            rel,
            exc.sheet,
            f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là văn bản (CSV), không phải "
            f"tệp Excel. {exc.message}",
            code=exc.code,
        ) from exc


#: A ``.txt`` file that fails to read for one of these reasons is listed as not read (it may
#: be a note, not a table); any other failure stops the run as for a ``.csv``.
_TXT_UNREAD = {
    "empty": "Tệp văn bản rỗng: không đọc.",
    "encoding": "Tệp văn bản có bảng mã ký tự không nhận ra (không phải UTF-8, UTF-16 hay "
    "Windows-1258): không đọc.",
    "no_kind": "Tệp văn bản không có dòng tiêu đề của một loại bảng đã biết (không phải bảng "
    "“Unicode Text” xuất từ Excel): không đọc.",
    "wrong_type": "Tệp văn bản không phải bảng tính: không đọc.",
}


def _probe_file(path: Path, raw_root: Path | None) -> list[_Probe | SkippedSheet | UnreadFile]:
    path = Path(path)
    rel = _rel(path, raw_root)
    if path.suffix.lower() not in EXTENSIONS:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” không đọc được: {_unread_reason(path.name)} Hãy lưu lại tệp dạng "
            ".xlsx hoặc .csv.",
            code="wrong_type",
        )
    try:
        return _probe_checked(path, rel)
    except IngestError as exc:
        if path.suffix.lower() == ".txt" and exc.code in _TXT_UNREAD:
            return [UnreadFile(rel, _TXT_UNREAD[exc.code])]
        raise


def _probe_checked(path: Path, rel: str) -> list[_Probe | SkippedSheet]:
    # The period folder: the first part of the path under the raw root (a file may sit in a
    # sub-folder of it).
    folder = rel.split("/", 1)[0] if "/" in rel else path.parent.name
    items = _probe_by_content(path, rel, folder)
    # Refuse look-alike sheets missing a required column; collect the skipped ones.
    out: list[_Probe | SkippedSheet] = []
    for item in items:
        if isinstance(item, _Probe):
            skipped = _check_probe(item)
            out.append(item if skipped is None else skipped)
        else:
            out.append(item)
    if not any(isinstance(i, _Probe) for i in out):
        note = next((i.read_note for i in items if isinstance(i, _Probe) and i.read_note), "")
        parts = []
        for s in out:
            assert isinstance(s, SkippedSheet)
            shown = ", ".join(f"“{h}”" for h in s.headers_seen[:10]) or "(trống)"
            parts.append(f"trang “{s.sheet}”: {shown}" if s.sheet else shown)
        kinds_txt = "; ".join(
            f"{K.KIND_TITLES[k]} (cần {', '.join(K.KIND_SPECS[k].missing_headers([]))})"
            for k in K.KINDS
        )
        raise IngestError(
            rel,
            "",
            f"{note + ' ' if note else ''}"
            f"Tệp “{rel}”: không có trang nào có dòng tiêu đề của một loại bảng đã biết. "
            f"Tiêu đề thấy được: {' | '.join(parts) or '(không có)'}. Các loại bảng nhận được: "
            f"{kinds_txt}. Hãy sửa dòng tiêu đề theo mẫu hoặc chuyển tệp này ra khỏi thư mục "
            "dữ liệu rồi chạy lại.",
            code="no_kind",
        )
    return out
