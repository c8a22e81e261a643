"""CSV-like text files: encoding (:func:`decode_bytes`), line ends, delimiter, and the readers
(pyarrow fast path, pandas C engine) of :func:`_probe_csv`."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.ingest.cells import _repair_cells
from analysis.ingest.files import _CONTROL_RE, _HEAD_BYTES, _NOT_BLANK_BYTE, SNIFF_BYTES, _folder_of
from analysis.ingest.headers import HeaderInfo, find_header
from analysis.ingest.model import (
    HEADER_SEARCH_ROWS,
    LEGACY_SAMPLE_ROWS,
    MAX_HEADER_ROWS,
    IngestError,
    SkippedSheet,
)
from analysis.ingest.probe import _Probe, _probe_grid


class UnknownEncoding(ValueError):
    """Bytes that are not text in an encoding the suite reads (UTF-8, UTF-16, Windows-1258).
    ``detail`` says what was seen (Vietnamese, for the message)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _line_of(raw: bytes, pos: int) -> int:
    """The 1-based line of byte ``pos`` (CR, LF or CRLF end a line)."""
    before = raw[:pos]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


def _decode_strict(raw: bytes, codec: str, what: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnknownEncoding(
            f"tệp được đánh dấu là {what} nhưng có byte sai ở dòng {_line_of(raw, exc.start)}"
        ) from exc


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a CSV file: UTF-8 with BOM, UTF-16 (BOM, or NUL-rich without), UTF-8, else
    Windows-1258 (then NFC: cp1258 yields combining tone marks). Returns (text, encoding).

    Raises :class:`UnknownEncoding` for bytes that are none of these: a BOM whose encoding
    does not decode, UTF-8 with damaged or foreign bytes among many well-formed sequences
    (read as Windows-1258 it would be silent mojibake), bytes that Windows-1258 leaves
    undefined, or control characters (not text)."""
    if raw.startswith(codecs.BOM_UTF8):
        text_data, encoding = _decode_strict(raw[3:], "utf-8", "UTF-8"), "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text_data, encoding = _decode_strict(raw, "utf-16", "UTF-16"), "utf-16"
    elif raw[:4000] and raw[:4000].count(b"\x00") > len(raw[:4000]) // 4:
        head = raw[:4000]
        le = head[1::2].count(b"\x00") >= head[0::2].count(b"\x00")
        encoding = "utf-16-le" if le else "utf-16-be"
        text_data = _decode_strict(raw, encoding, "UTF-16")
    else:
        try:
            text_data, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            valid = sum(len(m) for m in _UTF8_SEQ.findall(raw))
            high = len(raw.translate(None, bytes(range(128))))  # bytes >= 0x80
            if valid >= 10 and valid >= 3 * (high - valid):
                raise UnknownEncoding(
                    "tệp gần như là UTF-8 nhưng có byte sai hoặc lẫn bảng mã khác ở dòng "
                    f"{_line_of(raw, exc.start)}"
                ) from exc
            try:
                text_data = raw.decode("cp1258")
            except UnicodeDecodeError as exc2:
                raise UnknownEncoding(
                    "tệp không phải UTF-8, UTF-16 hay Windows-1258: có byte không thuộc các bảng "
                    f"mã này ở dòng {_line_of(raw, exc2.start)}"
                ) from exc2
            text_data, encoding = unicodedata.normalize("NFC", text_data), "cp1258"
    controls = _CONTROL_RE.findall(text_data[:SNIFF_BYTES])
    if len(controls) > len(text_data[:SNIFF_BYTES]) // 100:
        raise UnknownEncoding("tệp có nhiều ký tự điều khiển, không phải văn bản")
    return text_data, encoding


def _normalise_newlines(data: bytes) -> bytes:
    """CR alone (Excel for Mac "CSV (Macintosh)") and CRLF as LF, so that every reader (the
    csv module, pandas, pyarrow) sees the same lines: one line end is one line, whatever its
    kind, mixed or not. A line break inside a quoted field stays one (as LF)."""
    if b"\r" not in data:
        return data
    data = data.replace(b"\r\n", b"\n")  # Windows: the usual case, one pass
    return data.replace(b"\r", b"\n") if b"\r" in data else data


def _split_lines(sample: str, delim: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delim)
    rows = []
    for i, row in enumerate(reader):
        if i >= limit:
            break
        rows.append(row)
    return rows


def _pick_delimiter(sample: str) -> tuple[str, list[list[str]], HeaderInfo | None]:
    """The delimiter among ``,`` ``;`` tab whose split gives the best header (then the most
    consistent field count)."""
    best = None
    for delim in (",", ";", "\t"):
        # The choice looks at the first 60 lines only; the winner's lines are split in full
        # below (the legacy sample).
        rows = _split_lines(sample, delim, 60)
        window = [[c for c in r] for r in rows[: HEADER_SEARCH_ROWS + MAX_HEADER_ROWS - 1]]
        info = find_header([_repair_cells(r, None) for r in window])
        widths = [len(r) for r in rows[:60] if len(r) > 1]
        mode = max(set(widths), key=lambda w: (widths.count(w), w)) if widths else 1
        consistency = widths.count(mode) if widths else 0
        rank = (
            info is not None and info.kind is not None,
            info.score if info else 0,
            consistency,
            mode,
        )
        if best is None or rank > best[0]:
            best = (rank, delim, info)
    assert best is not None
    rank, delim, info = best
    return delim, _split_lines(sample, delim, max(LEGACY_SAMPLE_ROWS, 60)), info


def _read_csv_c(data: bytes, delim: str, width: int) -> pd.DataFrame:
    """Every line of a (UTF-8) CSV as text, ragged lines padded with ``""`` (pandas C engine)."""
    kw = dict(
        sep=delim,
        header=None,
        index_col=False,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
        encoding="utf-8",
        encoding_errors="replace",
    )
    try:
        return pd.read_csv(io.BytesIO(data), names=range(max(width, 1)), **kw)
    except pd.errors.ParserError:
        text_data = data.decode("utf-8", errors="replace")
        width = max(
            (len(r) for r in csv.reader(io.StringIO(text_data), delimiter=delim)), default=1
        )
        return pd.read_csv(io.BytesIO(data), names=range(max(width, 1)), **kw)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _read_csv_arrow(data: bytes, delim: str, skip: int, width: int) -> pd.DataFrame | None:
    """Fast path (pyarrow, multi-threaded) for a rectangular CSV: every line below the first
    ``skip`` ones has the same number of fields, no blank line, no line break inside a field.
    Returns ``None`` when that does not hold (or the bytes are not UTF-8): use the C engine."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(skip_rows=skip, autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, invalid_row_handler=on_invalid, ignore_empty_lines=True
            ),
            convert_options=pacsv.ConvertOptions(
                # every column as text ("001" keeps its zeros); names f0, f1... are pyarrow's
                column_types={f"f{i}": pa.string() for i in range(width + 64)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    if invalid:
        return None
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows != n_lines - skip:
        return None  # blank lines or line breaks inside fields: positions would shift
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return None  # more columns than announced: let the C engine read it
    frame = table.to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=float("nan"))}.get
    )
    frame.columns = range(frame.shape[1])
    return frame


def _probe_csv(
    path: Path, rel: str, folder: str, raw: bytes | None = None
) -> list[_Probe | SkippedSheet]:
    """The one sheet (named ``""``) of a CSV-like text file (``.csv``, Excel's "Unicode Text"
    ``.txt``, or text under another name): encoding, line ends, delimiter, header."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(rel, "", f"Không mở được tệp “{rel}”.", code="corrupt") from exc
    if not _NOT_BLANK_BYTE.search(raw):  # as ``not raw.strip(...)``, without a copy
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}” rỗng, không có dữ liệu. Hãy xuất lại tệp từ phần mềm hoặc xoá tệp "
            f"khỏi {_folder_of(rel)} rồi chạy lại.",
            code="empty",
        )
    try:
        data, encoding = _to_utf8(raw)
    except UnknownEncoding as exc:
        raise IngestError(
            rel,
            "",
            f"Tệp “{rel}”: không nhận ra bảng mã ký tự ({exc.detail}). Hãy mở tệp bằng Excel "
            "hoặc Notepad và lưu lại dạng “CSV UTF-8” (Lưu thành > CSV UTF-8 (phân cách bằng "
            "dấu phẩy)) rồi chạy lại.",
            code="encoding",
        ) from exc
    del raw
    data = _normalise_newlines(data)
    head_text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(
        data[:_HEAD_BYTES], final=len(data) <= _HEAD_BYTES
    )
    head_text = head_text[: _nth_line_end(head_text, max(LEGACY_SAMPLE_ROWS, 60))]
    delim, head_rows, _ = _pick_delimiter(head_text)
    width = max((len(r) for r in head_rows), default=1)

    def load(n_top: int, data=data, delim=delim, width=width, head_rows=head_rows):
        fast = _read_csv_arrow(data, delim, n_top, width)
        if fast is not None and all(len(r) <= fast.shape[1] for r in head_rows[:n_top]):
            if n_top == 0:
                return fast
            w = fast.shape[1]
            top = pd.DataFrame(
                [list(r) + [""] * (w - len(r)) for r in head_rows[:n_top]],
                columns=range(w),
                dtype="str",
            )
            return pd.concat([top, fast], ignore_index=True)
        return _read_csv_c(data, delim, width)

    probe = _probe_grid(rel, "", folder, encoding, head_rows, None, load)
    return [probe]


def _nth_line_end(text_data: str, n: int) -> int:
    cut = 0
    for _ in range(n):
        nxt = text_data.find("\n", cut)
        if nxt < 0:
            return len(text_data)
        cut = nxt + 1
    return cut


def _is_utf8(raw: bytes) -> bool:
    """Whether ``raw.decode("utf-8")`` would succeed, checked by pyarrow's UTF-8 validation
    (well-formed UTF-8 as the Unicode standard defines it, like Python's strict decoder:
    tested to agree on every sequence of up to 3 bytes and on mixed text) without building
    a str of the whole file."""
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    one = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        one.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _to_utf8(raw: bytes) -> tuple[bytes, str]:
    """The CSV bytes as UTF-8 (no BOM) and the encoding found (see :func:`decode_bytes`).

    Valid UTF-8 input is passed through as it is (validated, not decoded)."""
    if raw.startswith(codecs.BOM_UTF8) and _is_utf8(raw[len(codecs.BOM_UTF8) :]):
        return raw[len(codecs.BOM_UTF8) :], "utf-8-sig"
    head = raw[:_HEAD_BYTES]
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        head and head.count(b"\x00") > len(head) // 4
    )
    if not utf16 and _is_utf8(raw):
        return raw, "utf-8"
    text_data, encoding = decode_bytes(raw)
    return text_data.encode("utf-8"), encoding
