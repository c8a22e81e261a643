"""The configuration of a batch run: its folders and options, checked before any kernel starts.

``make_config`` resolves and checks the folders (``BatchError`` with a Vietnamese message,
exit code 2), ``resolve_periods`` the periods; ``BatchConfig`` is what every period of the run
shares, ``PeriodResult`` what a period reports back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from analysis import paths

NOTEBOOK_RE = re.compile(r"^\d{2}_.+\.ipynb$")
KERNEL_NAME = "python3"
ENGINE_NAME = "hocbaso"
FAILED_DIR = "_failed"
PREPARED_DIR = "_prepared"

#: The suite's own errors: their message is Vietnamese and says what to do; shown as it is
#: (a failed notebook, a failed commune's report).
OWN_ERRORS = frozenset(
    {
        "IngestError",
        "CleanError",
        "PeriodError",
        "ReportError",
        "PrivacyError",
        "MetricError",
        "UnitError",
        "CrosswalkError",
        "UnitChoiceError",
        "TemplateError",
    }
)


class BatchError(Exception):
    """Bad parameters: a Vietnamese message for the user, exit code 2."""


@dataclass(frozen=True)
class BatchConfig:
    """Folders and options shared by every period of one batch."""

    raw_root: Path
    processed_root: Path
    output_root: Path
    notebooks_dir: Path
    timeout: int = 600
    quiet: bool = False
    progress_bar: bool = False
    prewarm: bool = True
    hide_code: bool = False
    #: Notebooks of one stage run at the same time (see ``notebook_stages``); also the
    #: processes a notebook's cleaning may use (``ANALYSIS_JOBS`` in its kernel).
    notebook_jobs: int = 2
    #: Kernels a period leaves are kept for the next period this process runs (set by
    #: ``run_periods`` when a process runs several periods; ``shutdown_idle_kernels`` ends them).
    keep_kernels: bool = False
    #: The report's unit ("" = from the data; "province", "commune", "district"): the
    #: notebooks' ``unit`` parameter.
    unit: str = ""
    #: After the period's own report, one report per commune in ``<period>/xa/<slug>/``
    #: (``analysis.batch.fanout``).
    per_commune: bool = False


@dataclass
class NotebookRun:
    name: str
    seconds: float
    ok: bool


@dataclass
class PeriodResult:
    period: str
    ok: bool
    notebooks: list[NotebookRun] = field(default_factory=list)
    message: str | None = None
    failed_notebook: str | None = None
    seconds: float = 0.0
    #: --per-commune: reports written, and the message of every commune that failed.
    n_units: int = 0
    unit_failures: list[str] = field(default_factory=list)


def _say(cfg: BatchConfig, text: str) -> None:
    """A progress line on standard output, unless ``--quiet``."""
    if not cfg.quiet:
        print(text, flush=True)


def _seconds(value: float) -> str:
    """Seconds as the messages show them: one decimal, a decimal comma."""
    return f"{value:.1f}".replace(".", ",")


# --------------------------------------------------------------------------- validation


def find_notebooks(notebooks_dir: Path | str) -> list[Path]:
    """The notebooks a run executes: ``NN_*.ipynb`` in name order."""
    folder = Path(notebooks_dir)
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and NOTEBOOK_RE.match(p.name)),
        key=lambda p: p.name,
    )


def _resolve_dir(value: str | Path | None, default: Path) -> Path:
    return Path(value).expanduser().resolve() if value else default.resolve()


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _check_inputs(raw_root: Path, nb_dir: Path) -> None:
    """The raw folder and the notebooks folder exist, the latter with ``NN_*.ipynb``."""
    if not raw_root.is_dir():
        raise BatchError(
            f"Thư mục dữ liệu thô {raw_root} không tồn tại. Hãy kiểm tra tham số --raw-dir "
            "(thư mục chứa các thư mục kỳ báo cáo dạng YYYY-MM-DD)."
        )
    if not nb_dir.is_dir():
        raise BatchError(
            f"Thư mục notebook {nb_dir} không tồn tại. Hãy kiểm tra tham số --notebooks-dir."
        )
    if not find_notebooks(nb_dir):
        raise BatchError(
            f"Thư mục {nb_dir} không có notebook nào dạng NN_ten.ipynb (ví dụ 10_clean.ipynb)."
        )


def _check_written_folder(label: str, option: str, folder: Path, raw_root: Path) -> None:
    """A folder the run writes: not a file, neither inside nor around the raw folder."""
    if folder.exists() and not folder.is_dir():
        raise BatchError(
            f"Thư mục {label} {folder} là một file, không phải thư mục. "
            f"Hãy chọn một thư mục khác cho {option}."
        )
    if _inside(folder, raw_root) or _inside(raw_root, folder):
        raise BatchError(
            f"Thư mục {label} {folder} không được nằm trong (hoặc chứa) thư mục dữ liệu "
            f"thô {raw_root}: dữ liệu thô chỉ được đọc. Hãy chọn thư mục khác cho {option}."
        )


def make_config(
    raw_dir: str | Path | None = None,
    processed_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    **options,
) -> BatchConfig:
    """Resolve and check the folders; raises ``BatchError`` with a Vietnamese message."""
    raw_root = _resolve_dir(raw_dir, paths.RAW_DIR)
    processed_root = _resolve_dir(processed_dir, paths.PROCESSED_DIR)
    output_root = _resolve_dir(output_dir, paths.OUTPUTS_DIR)
    nb_dir = _resolve_dir(notebooks_dir, paths.NOTEBOOKS_DIR)
    _check_inputs(raw_root, nb_dir)
    _check_written_folder("dữ liệu đã làm sạch", "--processed-dir", processed_root, raw_root)
    _check_written_folder("kết quả", "--output-dir", output_root, raw_root)
    return BatchConfig(raw_root, processed_root, output_root, nb_dir, **options)


def resolve_periods(raw_root: Path, periods: list[str] | None, all_periods: bool) -> list[str]:
    """The periods to run, sorted and unique; raises ``BatchError`` for a bad one."""
    available = paths.list_periods(raw_root)
    if all_periods and periods:
        raise BatchError("Chỉ dùng một trong hai: --all hoặc --period, không dùng cả hai.")
    if not available:
        raise BatchError(
            f"Không tìm thấy kỳ báo cáo nào trong {raw_root}: cần các thư mục dạng YYYY-MM-DD "
            "chứa file xuất dữ liệu (.xlsx, .xls, .csv)."
        )
    if all_periods:
        return available
    if not periods:
        return [available[-1]]
    chosen = sorted(set(periods))
    for period in chosen:
        try:
            paths.parse_period(period)
        except paths.PeriodError as exc:
            raise BatchError(str(exc)) from None
        if not (raw_root / period).is_dir():
            raise BatchError(
                f"Kỳ báo cáo {period} không có thư mục dữ liệu thô {raw_root / period}. "
                f"Các kỳ có sẵn: {', '.join(available)}."
            )
    return chosen
