"""Command line: ``python -m analysis <command>`` (also installed as ``hocbaso``).

One argument parser for every command, defined here (``build_parser``); what a command does is
its stage's ``command(args) -> int``, imported only when that command runs, so a broken stage
never blocks the others and ``--help`` imports no stage:

- ``sample``: write the synthetic sample data set (``analysis.sample``)
- ``clean``:  clean one period's raw exports (``analysis.clean``)
- ``report``: write the Word report and Excel tables of one period (``analysis.report``)
- ``check-pdf``: the report as PDF by LibreOffice, checked (``analysis.report.pdf_check``)
- ``run``:    run the notebooks of one or more periods through papermill (``analysis.batch``)

Every command runs under ``analysis.core.stops``: Ctrl+C (exit 130), SIGTERM (exit 143) and an
unexpected error (exit 3) end it with one Vietnamese line, the details in its log file. A
stage's ``main(argv)`` (``analysis.batch.main``...) is ``run_command(<name>, argv)``: the same
parser and action without the stops wrapper (tests and scripts call it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from analysis.core import stops

PROG = "python -m analysis"
UNITS = ("province", "commune", "district")


class _HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix or "Cách dùng: ")


class ArgumentParser(argparse.ArgumentParser):
    """A parser whose help and errors are Vietnamese (exit code 2, before anything runs)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tùy chọn"
        self.add_argument("-h", "--help", action="help", help="in hướng dẫn này rồi thoát")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"Tham số không hợp lệ: {message}\n")


def _folders(parser: argparse.ArgumentParser, *, output: bool, default: str | None = "") -> None:
    """The folder options every stage shares (``paths.RunConfig`` resolves them)."""
    parser.add_argument(
        "--raw-dir", default=default, help="thư mục dữ liệu thô (mặc định data/raw)"
    )
    parser.add_argument(
        "--processed-dir",
        default=default,
        help="thư mục dữ liệu đã làm sạch (mặc định data/processed)",
    )
    if output:
        parser.add_argument(
            "--output-dir", default=default, help="thư mục kết quả (mặc định outputs)"
        )


def _one_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", default="", help="kỳ báo cáo YYYY-MM-DD (mặc định: mới nhất)")


def _sample(parser: argparse.ArgumentParser) -> None:
    from analysis import paths

    parser.add_argument(
        "--out", default=str(paths.RAW_DIR), help="thư mục đích (mặc định data/raw)"
    )
    parser.add_argument("--seed", type=int, default=None, help="hạt giống ngẫu nhiên")
    parser.add_argument("--planted", default=None, help="đường dẫn sample_planted.json")
    parser.add_argument(
        "--large", type=int, default=None, metavar="N",
        help="sinh bộ dữ liệu lớn N dòng CBGVNV (đo hiệu năng)",
    )  # fmt: skip
    parser.add_argument(
        "--province", default=None, metavar="DIR",
        help="sinh một tỉnh cỡ Hà Nội (126 xã, ~2.954 trường, ~140.000 CBGVNV) vào DIR "
        "(đo hiệu năng; không ghi vào data/raw)",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=("csv", "xlsx"), default=None,
        help="định dạng của bộ dữ liệu lớn (mặc định csv) hoặc của tỉnh (mặc định xlsx)",
    )  # fmt: skip
    parser.add_argument(
        "--no-reform", action="store_true",
        help="không sinh năm học 2025-2026 (các kỳ sau 1/7/2025)",
    )  # fmt: skip


def _clean(parser: argparse.ArgumentParser) -> None:
    _one_period(parser)
    _folders(parser, output=False)


def _report(parser: argparse.ArgumentParser) -> None:
    _one_period(parser)
    _folders(parser, output=True)
    parser.add_argument("--template", default="", help="mẫu Word riêng (.docx)")
    parser.add_argument(
        "--unit", default="", choices=["", *UNITS],
        help="đơn vị báo cáo (mặc định: suy ra từ dữ liệu)",
    )  # fmt: skip


def _check_pdf(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("period", nargs="?", default="", help="kỳ báo cáo YYYY-MM-DD")
    parser.add_argument("--output-dir", default="", help="thư mục outputs (mặc định outputs/)")
    parser.add_argument("--docx", default="", help="kiểm tra trực tiếp một file .docx")
    parser.add_argument("--pages-dir", default="", help="nơi ghi PDF và ảnh trang (mặc định /tmp)")
    parser.add_argument("--dpi", type=int, default=60)


def _run(parser: argparse.ArgumentParser) -> None:
    """The options of ``run``: periods, folders, parallelism, timeout, unit, fan-out."""
    parser.add_argument(
        "--period", action="append", metavar="YYYY-MM-DD",
        help="kỳ báo cáo (có thể lặp lại); mặc định: kỳ mới nhất trong thư mục dữ liệu thô",
    )  # fmt: skip
    parser.add_argument("--all", action="store_true", help="chạy mọi kỳ có trong dữ liệu thô")
    _folders(parser, output=True, default=None)
    parser.add_argument("--notebooks-dir", help="thư mục notebook (mặc định notebooks)")
    parser.add_argument(
        "--prepare-only", action="store_true",
        help="chỉ ghi các notebook đã điền tham số vào <output-dir>/_prepared/<kỳ>/, không chạy",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=int, help="số kỳ chạy song song (mặc định: số lõi CPU, tối đa số kỳ)"
    )
    parser.add_argument(
        "--notebook-jobs", type=int,
        help="số notebook cùng bước (20-89) chạy song song trong một kỳ, và số tiến trình "
        "của bước làm sạch (mặc định: số lõi CPU chia cho số kỳ chạy song song)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=int, default=600, help="giới hạn thời gian mỗi ô, giây (mặc định 600)"
    )
    parser.add_argument(
        "--hide-code", action="store_true", help="ẩn mã trong notebook đã chạy (report mode)"
    )
    parser.add_argument(
        "--no-prewarm", action="store_true",
        help="không khởi động trước kernel của notebook kế tiếp (chậm hơn, để đo)",
    )  # fmt: skip
    parser.add_argument(
        "--unit", choices=list(UNITS),
        help="đơn vị báo cáo: province (Sở GD&ĐT), commune (UBND xã/phường), district (quận/"
        "huyện, các kỳ trước 1/7/2025); mặc định: suy ra từ dữ liệu",
    )  # fmt: skip
    parser.add_argument(
        "--per-commune", action="store_true",
        help="ngoài báo cáo của đơn vị, viết thêm một báo cáo cho mỗi xã/phường trong "
        "<output-dir>/<kỳ>/xa/<tên-xã>/",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="chỉ in lỗi và tóm tắt")


#: name -> (stage module with ``command(args)``, one-line description, the options).
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "sample": (
        "analysis.sample",
        "Sinh bộ dữ liệu mẫu (tổng hợp) quận Long Biên 2023-2024 và khu vực Long Biên năm học "
        "2025-2026 (sau 1/7/2025) vào data/raw/",
        _sample,
    ),
    "clean": (
        "analysis.clean",
        "Làm sạch dữ liệu thô của một kỳ báo cáo vào data/processed/<kỳ>/",
        _clean,
    ),
    "report": (
        "analysis.report",
        "Viết báo cáo Word và bảng biểu Excel của một kỳ từ các bảng chỉ số",
        _report,
    ),
    "check-pdf": (
        "analysis.report.pdf_check",
        "Chuyển báo cáo Word sang PDF bằng LibreOffice và kiểm tra số liệu, số trang",
        _check_pdf,
    ),
    "run": (
        "analysis.batch",
        "Chạy các notebook NN_*.ipynb theo thứ tự cho một hay nhiều kỳ báo cáo (papermill); "
        "kết quả ở <output-dir>/<kỳ>/ kèm manifest.json",
        _run,
    ),
}


def build_parser() -> ArgumentParser:
    """The one parser: a sub-command per entry of ``COMMANDS``."""
    parser = ArgumentParser(prog=PROG, description="Học bạ số: báo cáo sẵn sàng theo kỳ.")
    sub = parser.add_subparsers(dest="command", metavar="<lệnh>", title="lệnh")
    for name, (_module, description, options) in COMMANDS.items():
        options(sub.add_parser(name, help=description, description=description + "."))
    return parser


def command_parser(name: str) -> ArgumentParser:
    """The sub-parser of one command (its ``--help`` shows ``python -m analysis <name>``)."""
    parser = ArgumentParser(prog=f"{PROG} {name}", description=COMMANDS[name][1] + ".")
    COMMANDS[name][2](parser)
    return parser


def run_command(name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv`` for the command ``name`` and run its stage's ``command(args)``."""
    try:
        args = command_parser(name).parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help (0) or a bad option (2, message already printed)
        return int(exc.code or 0)
    return importlib.import_module(COMMANDS[name][0]).command(args)


def error(exc: BaseException, code: int = 1) -> int:
    """One of the suite's own errors (its message is Vietnamese and says what to do)."""
    print(f"Lỗi: {exc}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    exiting = argv is None  # the program's entry point: the process ends when this returns
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        build_parser().print_help()
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"Lệnh không rõ: {name}\n", file=sys.stderr)
        build_parser().print_help(sys.stderr)
        return 2
    return stops.run(name, lambda args: run_command(name, args), rest, exiting)


if __name__ == "__main__":
    sys.exit(main())
