"""Workbooks (xlsx, xlsm, xls, ods) read with python-calamine (:func:`_probe_excel`), after the
sheet XML scan of :mod:`analysis.ingest.xlsx_scan`; the messages of an Excel file that cannot be
read."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd

from analysis.ingest import xlsx_scan
from analysis.ingest.files import _TYPE_NAMES, _folder_of, sniff
from analysis.ingest.model import (
    HEADER_SEARCH_ROWS,
    HIDDEN_SHEET_REASON,
    LEGACY_SAMPLE_ROWS,
    MAX_HEADER_ROWS,
    IngestError,
    SkippedSheet,
    _cap,
    _where,
)
from analysis.ingest.probe import _Probe, _probe_grid

log = logging.getLogger(__name__)


def _is_encrypted_ooxml(path: Path) -> bool:
    """A compound file holding an "EncryptionInfo" stream: a password-protected .xlsx (under
    any name)."""
    try:
        with open(path, "rb") as fh:
            return "EncryptionInfo".encode("utf-16-le") in fh.read(1 << 20)
    except OSError:
        return False


def _excel_error(
    rel: str, path: Path, exc: Exception | None, real: str | None = None
) -> IngestError:
    """The message for an Excel-named file that cannot be read (``real``: its :func:`sniff`
    type when known). Vietnamese only: the library's own text stays in the chained
    exception (the log), not in the message."""
    import python_calamine as pc

    if real is None:
        try:
            real = sniff(path)
        except OSError:
            real = "binary"
    where = _folder_of(rel)
    suffix = path.suffix.lower() or "(không có)"
    code = "corrupt"
    if real == "empty":
        code = "empty"
        msg = (
            f"Tệp “{rel}” rỗng, không có dữ liệu. Hãy xuất lại tệp từ phần mềm "
            f"hoặc xoá tệp khỏi {where} rồi chạy lại."
        )
    elif isinstance(exc, pc.PasswordError) or (
        real == "ole" and (path.suffix.lower() in (".xlsx", ".xlsm") or _is_encrypted_ooxml(path))
    ):
        code = "password"
        msg = (
            f"Tệp “{rel}” được đặt mật khẩu (mã hoá) nên không đọc được. Hãy mở tệp bằng "
            "Excel, gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hoá bằng mật khẩu: "
            "để trống), lưu lại rồi chạy lại."
        )
    elif real in ("docx", "zip", "pdf", "xml"):
        code = "wrong_type"
        msg = (
            f"Tệp “{rel}” có đuôi {suffix} nhưng thực chất là {_TYPE_NAMES[real][0]}, không "
            "phải bảng tính đọc được. Hãy mở bằng phần mềm tạo ra nó và lưu (hoặc xuất) lại "
            f"dạng .xlsx, hoặc xoá tệp khỏi {where}, rồi chạy lại."
        )
    else:
        msg = (
            f"Không đọc được tệp “{rel}”: tệp bị hỏng hoặc không phải tệp Excel. "
            "Hãy mở tệp bằng Excel và lưu lại dạng .xlsx (hoặc xuất lại từ phần mềm), "
            f"hoặc xoá tệp khỏi {where}, rồi chạy lại."
        )
    if exc is not None:
        log.info("%s: %s: %s", rel, type(exc).__name__, exc)
    return IngestError(rel, "", msg, code=code)


def _probe_excel(
    path: Path, rel: str, folder: str, by_content: bool = False
) -> list[_Probe | SkippedSheet]:
    """The sheets of a workbook (xlsx, xls, ods: python-calamine). ``by_content``: the
    extension does not say the file's type, which calamine then finds from the bytes."""
    import python_calamine as pc

    wb, metas, scan = _open_workbook(path, rel, by_content)
    out: list[_Probe | SkippedSheet] = []
    for meta in metas:
        name = meta.name
        if str(meta.typ) != str(pc.SheetTypeEnum.WorkSheet):
            out.append(SkippedSheet(rel, name, "Không phải trang dữ liệu (biểu đồ/macro).", []))
        elif str(meta.visible) != str(pc.SheetVisibleEnum.Visible):
            # A hidden sheet is what the sender chose not to show (last year's rows, a template):
            # never counted without a word; listed, and read once the user unhides it.
            out.append(SkippedSheet(rel, name, HIDDEN_SHEET_REASON, []))
        else:
            sheet_scan = scan.sheets.get(name) if scan is not None else None
            out.append(_probe_sheet(wb, name, rel, folder, sheet_scan))
    return out


def _open_workbook(path: Path, rel: str, by_content: bool):
    """(the calamine workbook, its sheets' metadata, the XML scan or ``None``); a file that
    cannot be opened raises its :class:`IngestError`."""
    import python_calamine as pc

    try:
        if path.stat().st_size == 0:
            raise _excel_error(rel, path, None)
        scan = _scan_xlsx(path, rel)
        if scan is not None and scan.data is not None:  # far cells taken out
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(scan.data))
        elif by_content:
            with open(path, "rb") as fh:
                wb = pc.CalamineWorkbook.from_filelike(fh)
        else:
            wb = pc.CalamineWorkbook.from_path(str(path))
        return wb, wb.sheets_metadata, scan
    except IngestError:
        raise
    except Exception as exc:  # calamine raises several error types
        raise _excel_error(rel, path, exc) from exc


def _probe_sheet(
    wb, name: str, rel: str, folder: str, sheet_scan: xlsx_scan.SheetScan | None
) -> _Probe:
    """One visible worksheet: its cells (trailing empty rows trimmed, padded to the formulas
    saved without a value), merges, legacy encoding and header."""
    try:
        sheet = wb.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        try:
            merges = sheet.merged_cell_ranges
        except Exception:  # not available for every format
            merges = None
    except Exception as exc:
        log.info("%s [%s]: %s: %s", rel, name, type(exc).__name__, exc)
        raise IngestError(
            rel,
            name,
            f"Không đọc được {_where(rel, name)}: trang tính bị hỏng. Hãy mở tệp "
            "bằng Excel, lưu lại dạng .xlsx rồi chạy lại.",
            code="corrupt",
        ) from exc
    # Trim trailing all-empty rows (calamine stops at the used range; be safe), then
    # reach the formulas saved without a value (calamine stops at the last value).
    while rows and all(v == "" or v is None for v in rows[-1]):
        rows.pop()
    rows = xlsx_scan.pad_rows(rows, sheet_scan)

    def load(_n_top: int, rows=rows):
        width = max((len(r) for r in rows), default=0)
        return pd.DataFrame(rows, columns=range(width), dtype=object)

    head = rows[: max(LEGACY_SAMPLE_ROWS, HEADER_SEARCH_ROWS + MAX_HEADER_ROWS)]
    probe = _probe_grid(rel, name, folder, None, head, list(merges or []), load)
    probe.xlsx = sheet_scan
    return probe


def _scan_xlsx(path: Path, rel: str) -> xlsx_scan.WorkbookScan | None:
    """``xlsx_scan.scan_workbook`` of an .xlsx/.xlsm file before calamine opens it (``None``
    for another format, or a package the scan does not understand: calamine decides)."""
    with open(path, "rb") as fh:  # by the bytes: an .xlsx renamed .xls is scanned too
        if fh.read(4) != b"PK\x03\x04":
            return None
    try:
        return xlsx_scan.scan_workbook(path)
    except xlsx_scan.FarCellsError as exc:
        where = _cap(_where(rel, exc.sheet))
        raise IngestError(rel, exc.sheet, f"{where}: {exc.message}") from None
