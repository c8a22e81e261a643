"""Check the Word report the way a reader sees it: LibreOffice -> PDF -> text and page images.

    python -m analysis check-pdf 2024-04-19            # or scripts/check_pdf.sh 2024-04-19
    python -m analysis check-pdf --docx path/to/bao_cao.docx --pages-dir /tmp/trang

Steps: ``libreoffice --headless --convert-to pdf`` (a private profile folder, so it runs beside
an open LibreOffice), ``pdftoppm -png -r 60`` for page images, ``pdftotext`` for the text.
Checks: every figure written in the report's tables (cells holding a digit) and the headline
sentence's numbers are still in the PDF text, each element of the two-column heading prints on
one line (pdftotext -layout), and the page count is plausible. Needs the
Debian packages ``libreoffice-writer-nogui`` and ``poppler-utils``; not part of the default
test run (pytest marker ``libreoffice``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document

TOOLS = ("libreoffice", "pdftoppm", "pdftotext", "pdfinfo")


class PdfCheckError(RuntimeError):
    """A missing tool or a failed conversion (Vietnamese message)."""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _run(cmd: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.CalledProcessError as exc:
        raise PdfCheckError(
            f"Lệnh {' '.join(cmd[:3])} … thất bại (mã {exc.returncode}): {exc.stderr.strip()}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PdfCheckError(f"Lệnh {cmd[0]} chạy quá {timeout} giây.") from exc


def convert_to_pdf(docx: Path | str, out_dir: Path | str) -> Path:
    """``libreoffice --headless --convert-to pdf`` with a throw-away user profile."""
    docx, out_dir = Path(docx).resolve(), Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo_profile_") as profile:
        _run(
            [
                "libreoffice",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(docx),
            ]
        )
    pdf = out_dir / (docx.stem + ".pdf")
    if not pdf.is_file():
        raise PdfCheckError(f"LibreOffice không tạo được {pdf} từ {docx}.")
    return pdf


def render_pages(pdf: Path | str, pages_dir: Path | str, dpi: int = 60) -> list[Path]:
    """Page images ``<pages_dir>/trang-1.png`` ... (``pdftoppm -png -r <dpi>``)."""
    pages_dir = Path(pages_dir)
    pages_dir.mkdir(parents=True, exist_ok=True)
    for old in pages_dir.glob("trang-*.png"):
        old.unlink()
    _run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(pages_dir / "trang")])
    return sorted(pages_dir.glob("trang-*.png"), key=lambda p: int(p.stem.split("-")[-1]))


def pdf_text(pdf: Path | str) -> str:
    return _run(["pdftotext", "-layout", str(pdf), "-"]).stdout


def page_count(pdf: Path | str) -> int:
    info = _run(["pdfinfo", str(pdf)]).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, flags=re.MULTILINE)
    if not match:
        raise PdfCheckError(f"Không đọc được số trang của {pdf}.")
    return int(match.group(1))


def expected_figures(docx: Path | str) -> list[str]:
    """Every distinct number written in the report's tables (cells like '87.097', '69,8%',
    '+3,1'), plus the 'n/N (đạt x%)' of the headline sentence."""
    doc = Document(str(docx))
    found = set()
    number = re.compile(r"^[+−-]?\d[\d.,]*%?$")
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                text = cell.text.strip()
                if number.match(text):
                    found.add(text)
    for p in doc.paragraphs:
        found.update(re.findall(r"\d[\d.]*/\d[\d.]* \(đạt [\d,]+%\)", p.text))
    return sorted(found)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def heading_lines(docx: Path | str) -> list[str]:
    """Every element of the two-column heading (the first table): each must print on one line."""
    doc = Document(str(docx))
    if not doc.tables:
        return []
    lines = []
    for row in doc.tables[0].rows:
        for cell in row.cells:
            lines += [p.text.strip() for p in cell.paragraphs if p.text.strip()]
    return list(dict.fromkeys(lines))


def wrapped_lines(expected: list[str], text: str) -> list[str]:
    """The ``expected`` lines that no line of ``text`` (pdftotext -layout) holds whole."""
    printed = [_squash(line) for line in text.splitlines()]
    return [want for want in expected if not any(_squash(want) in line for line in printed)]


def plausible_pages(docx: Path | str) -> tuple[int, int]:
    """A generous page range: body + appendix rows (about 25 a page) + one per figure."""
    doc = Document(str(docx))
    rows = sum(len(t.rows) for t in doc.tables)
    figures = len(doc.inline_shapes)
    return 2, 3 + rows // 20 + figures


@dataclass
class PdfCheck:
    pdf: Path
    pages: int
    page_images: list[Path]
    missing: list[str] = field(default_factory=list)
    page_range: tuple[int, int] = (0, 0)
    wrapped: list[str] = field(default_factory=list)  # heading elements broken over lines

    @property
    def ok(self) -> bool:
        low, high = self.page_range
        return not self.missing and not self.wrapped and low <= self.pages <= high

    def summary(self) -> str:
        lines = [
            f"PDF: {self.pdf} ({self.pages} trang; hợp lý: {self.page_range[0]}–"
            f"{self.page_range[1]})",
            f"Ảnh các trang: {', '.join(str(p) for p in self.page_images)}",
        ]
        if self.missing:
            lines.append(f"THIẾU trong PDF: {', '.join(self.missing)}")
        if self.wrapped:
            lines.append(f"Đầu văn bản bị xuống dòng: {'; '.join(self.wrapped)}")
        lines.append("Kết quả: ĐẠT" if self.ok else "Kết quả: KHÔNG ĐẠT")
        return "\n".join(lines)


def check_docx(docx: Path | str, work_dir: Path | str, dpi: int = 60) -> PdfCheck:
    """Convert, render and check one report."""
    missing = missing_tools()
    if missing:
        raise PdfCheckError(
            f"Thiếu công cụ {', '.join(missing)}. Cài bằng: apt-get install -y "
            "--no-install-recommends libreoffice-writer-nogui poppler-utils fonts-liberation"
        )
    work_dir = Path(work_dir)
    pdf = convert_to_pdf(docx, work_dir)
    layout = pdf_text(pdf)
    text = _squash(layout)
    images = render_pages(pdf, work_dir / "trang", dpi=dpi)
    lost = [value for value in expected_figures(docx) if _squash(value) not in text]
    wrapped = wrapped_lines(heading_lines(docx), layout)
    return PdfCheck(pdf, page_count(pdf), images, lost, plausible_pages(docx), wrapped)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis check-pdf`` without the stops wrapper (options: ``analysis.cli``)."""
    from analysis import cli

    return cli.run_command("check-pdf", argv)


def command(args) -> int:
    """Convert a period's report (or ``--docx``) to PDF, check it and print the summary."""
    from analysis import paths

    if args.docx:
        docx = Path(args.docx)
    else:
        output_root = Path(args.output_dir) if args.output_dir else paths.OUTPUTS_DIR
        period = args.period or paths.latest_period(paths.RAW_DIR)
        docx = output_root / period / f"bao_cao_{period}.docx"
    if not docx.is_file():
        print(
            f"Lỗi: chưa có báo cáo {docx}. Chạy notebook 90_report (python -m analysis run) trước.",
            file=sys.stderr,
        )
        return 1
    work = (
        Path(args.pages_dir)
        if args.pages_dir
        else Path(tempfile.gettempdir()) / (f"kiem_tra_pdf_{docx.stem}")
    )
    try:
        result = check_docx(docx, work, dpi=args.dpi)
    except PdfCheckError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.ok else 1
