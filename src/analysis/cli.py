"""Command line: ``python -m analysis <command>`` (also installed as ``hocbaso``).

Commands are looked up lazily so a broken stage never blocks the others:

- ``sample``: write the synthetic sample data set (``analysis.sample``)
- ``clean``:  clean one period's raw exports (``analysis.clean``)
- ``report``: write the Word report and Excel tables of one period (``analysis.report``)
- ``check-pdf``: the report as PDF by LibreOffice, checked (``analysis.report.pdf_check``)
- ``run``:    run the notebooks of one or more periods through papermill (``analysis.batch``)

Every command runs under ``analysis.stops``: Ctrl+C (exit 130), SIGTERM (exit 143) and an
unexpected error (exit 3) end it with one Vietnamese line, the details in its log file.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from analysis.core import stops

COMMANDS = {
    "sample": ("analysis.sample", "Sinh bộ dữ liệu mẫu (tổng hợp) vào data/raw/"),
    "clean": ("analysis.clean", "Làm sạch dữ liệu thô của một kỳ báo cáo"),
    "report": ("analysis.report", "Viết báo cáo Word và bảng biểu Excel của một kỳ"),
    "check-pdf": (
        "analysis.report.pdf_check",
        "Chuyển báo cáo sang PDF bằng LibreOffice và kiểm tra",
    ),
    "run": ("analysis.batch", "Chạy toàn bộ notebook cho một hay nhiều kỳ (papermill)"),
}


class ArgumentParser(argparse.ArgumentParser):
    """A command's parser whose errors are Vietnamese (exit code 2, before anything runs)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"Tham số không hợp lệ: {message}\n")


def _usage() -> str:
    lines = ["Cách dùng: python -m analysis <lệnh> [tham số]", "", "Lệnh:"]
    lines += [f"  {name:<8} {desc}" for name, (_, desc) in COMMANDS.items()]
    lines += ["", "Xem tham số của một lệnh: python -m analysis <lệnh> --help"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    exiting = argv is None  # the program's entry point: the process ends when this returns
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"Lệnh không rõ: {name}\n\n{_usage()}", file=sys.stderr)
        return 2
    command = COMMANDS[name][0]
    return stops.run(name, lambda args: importlib.import_module(command).main(args), rest, exiting)


if __name__ == "__main__":
    sys.exit(main())
