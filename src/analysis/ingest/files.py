"""The files of a period folder and their real types: :func:`scan_folder` / :func:`list_files`
(what is read, what is not and why) and :func:`sniff` (a file's type from its bytes, not its
extension)."""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

from analysis.ingest.model import (
    EXTENSIONS,
    PROJECT_FILES,
    SYSTEM_FILES,
    SYSTEM_FOLDERS,
    UnreadFile,
    _cap,
    _rel,
)


def _is_ignored(name: str) -> bool:
    """Lock files (``~$``), hidden (dot) files and system files: never data, never listed."""
    return name.startswith(("~$", ".")) or name.lower() in SYSTEM_FILES


#: Why a file of another type is not read (by extension; the default names the types read).
_UNREAD_REASONS = {
    ".pdf": "tệp PDF, không đọc được số liệu từ PDF: nếu đây là số liệu cần dùng, hãy lấy tệp "
    "Excel hoặc CSV gốc chép vào thư mục",
    ".doc": "tệp Word, không phải bảng tính: nếu trong đó có bảng số liệu cần dùng, hãy chép "
    "bảng sang Excel và lưu dạng .xlsx",
    ".xlsb": "sổ làm việc nhị phân (.xlsb): hãy mở bằng Excel và lưu lại dạng .xlsx",
    ".numbers": "tệp Numbers: hãy xuất ra dạng Excel (.xlsx)",
    ".zip": "tệp nén: hãy giải nén vào thư mục kỳ báo cáo (tệp trong thư mục con cũng được đọc)",
}
_UNREAD_REASONS[".docx"] = _UNREAD_REASONS[".doc"]
for _ext in (".rar", ".7z", ".gz", ".tar"):
    _UNREAD_REASONS[_ext] = _UNREAD_REASONS[".zip"]


def _unread_reason(name: str) -> str:
    suffix = Path(name).suffix.lower()
    found = _UNREAD_REASONS.get(suffix)
    if found is not None:
        return _cap(found) + "."
    return (
        f"Loại tệp {suffix or '(không có đuôi)'} không phải bảng tính: chỉ đọc .xlsx, .xlsm, "
        ".xls, .ods, .csv, .txt."
    )


def scan_folder(
    folder: Path | str, raw_root: Path | str | None = None
) -> tuple[list[Path], list[UnreadFile]]:
    """The files of a period folder and its sub-folders: (the files to read, the files not
    read with their reason). Sorted by path inside the folder; lock files, hidden files and
    folders, system files and the suite's own files are left out of both."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], []
    root = Path(raw_root) if raw_root is not None else folder.parent
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SYSTEM_FOLDERS]
        here = Path(dirpath)
        for name in filenames:
            path = here / name
            if _is_ignored(name) or not path.is_file():
                continue
            if here == folder and name.lower() in PROJECT_FILES:
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    found.sort(key=lambda item: item[0])
    files = [p for _, p in found if p.suffix.lower() in EXTENSIONS]
    unread = [
        UnreadFile(_rel(p, root), _unread_reason(p.name))
        for _, p in found
        if p.suffix.lower() not in EXTENSIONS
    ]
    return files, unread


def list_files(folder: Path | str) -> list[Path]:
    """The files to read of a period folder, sub-folders included (see :func:`scan_folder`):
    the one listing used for reading, prefetching and every cache key over raw files."""
    return scan_folder(folder)[0]


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
#: Bytes looked at to tell a file's real type (:func:`sniff`).
SNIFF_BYTES = 1 << 16
#: What a file named with an extension is expected to hold (:func:`sniff` types).
_EXPECTED = {
    ".xlsx": ("xlsx",),
    ".xlsm": ("xlsx",),
    ".xls": ("ole", "html"),  # BIFF, or an HTML table: what web exports produce
    ".ods": ("ods",),
    ".csv": ("text",),
    ".txt": ("text",),
}
#: How a type is named in messages, and the extension it should have.
_TYPE_NAMES = {
    "xlsx": ("tệp Excel (.xlsx)", ".xlsx"),
    "xlsb": ("sổ làm việc nhị phân Excel (.xlsb)", ".xlsb"),
    "ods": ("bảng tính OpenDocument (.ods)", ".ods"),
    "ole": ("tệp Excel 97-2003 (.xls)", ".xls"),
    "html": ("bảng HTML (trang web)", ".xls"),
    "text": ("văn bản CSV", ".csv"),
    "docx": ("tệp Word (.docx)", ".docx"),
    "zip": ("tệp nén (.zip)", ".zip"),
    "pdf": ("tệp PDF", ".pdf"),
    "xml": ("tệp XML (có thể là “Bảng tính XML 2003” của Excel)", ".xml"),
}
_MARKUP_START = ("<!doctype html", "<html", "<table", "<meta", "<head", "<body", "<style", "<title")
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f]")


def _head_text(head: bytes) -> str:
    """The first bytes of a file as text, enough to look for markup and control characters:
    UTF-8 and UTF-16 (BOM, or NUL-rich) decoded, anything else byte for byte (latin-1)."""
    if head.startswith(codecs.BOM_UTF8):
        return head[3:].decode("utf-8", errors="ignore")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    if head.count(b"\x00") > len(head) // 4:
        le = head[1::2].count(b"\x00") >= head[0::2].count(b"\x00")
        return head.decode("utf-16-le" if le else "utf-16-be", errors="ignore")
    return head.decode("latin-1")


def _sniff_bytes(head: bytes) -> str:
    """:func:`sniff` on the first bytes only (a zip is ``"zip"``, not refined)."""
    if not _NOT_BLANK_BYTE.search(head):
        return "empty"
    if head.startswith((_ZIP_MAGIC, b"PK\x05\x06")):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    txt = _head_text(head)
    start = txt.lstrip("\ufeff \t\r\n\x00").lower()[:4096]
    if start.startswith("<?xml"):
        return "html" if ("<html" in start or "<table" in start) else "xml"
    if start.startswith(_MARKUP_START) or (start.startswith("<!--") and "<table" in txt.lower()):
        return "html"
    if len(_CONTROL_RE.findall(txt)) > len(txt) // 100:
        return "binary"
    return "text"


def sniff(path: Path | str) -> str:
    """The real type of a file, from its bytes (the extension only decides what is a
    candidate for reading, :data:`EXTENSIONS`): ``"empty"`` (no byte but white space),
    ``"xlsx"``, ``"xlsb"``, ``"ods"``, ``"docx"``, ``"zip"`` (another archive),
    ``"broken_zip"``, ``"ole"`` (a compound file: ``.xls``, or an encrypted ``.xlsx``),
    ``"pdf"``, ``"html"``, ``"xml"``, ``"binary"`` (no text) or ``"text"`` (CSV-like)."""
    import zipfile

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    found = _sniff_bytes(head)
    if found != "zip":
        return found
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError):
        return "broken_zip"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if any(n.startswith("word/") for n in names):
        return "docx"
    return "zip"


def _folder_of(rel: str) -> str:
    folder = Path(rel).parent.as_posix()
    return f"thư mục “{folder}”" if folder not in ("", ".") else "thư mục dữ liệu"


_HEAD_BYTES = 1 << 20
# A byte other than white space, NUL or a BOM byte: a file without one holds no data.
_NOT_BLANK_BYTE = re.compile(b"[^ \t\r\n\x00\xef\xbb\xbf\xff\xfe]")
