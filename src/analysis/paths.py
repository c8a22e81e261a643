"""Where things live.

The project root is found from this file's own location (``src/analysis/paths.py``), never
from the current working directory, so a notebook behaves the same under JupyterLab,
papermill (any cwd) and nbval (the notebook's folder as cwd).

An office keeps its real exports outside the repository: every function takes explicit
folders, and ``RunConfig.from_params`` maps the notebooks' empty-string defaults to the
repository's own folders.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _find_root() -> Path:
    override = os.environ.get("HOCBASO_ROOT")
    if override:
        return Path(override).resolve()
    for candidate in PACKAGE_DIR.parents:
        if (candidate / "pyproject.toml").is_file() and (candidate / "notebooks").is_dir():
            return candidate
    # Installed as a plain package (not editable): fall back to the working directory.
    return Path.cwd().resolve()


ROOT = _find_root()
NOTEBOOKS_DIR = ROOT / "notebooks"
DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
OUTPUTS_DIR = ROOT / "outputs"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

PERIOD_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A file at the top of a raw folder that marks its contents as synthetic sample data.
SAMPLE_MARK_FILE = "DU_LIEU_MAU.txt"
SAMPLE_LABEL = "Dữ liệu mẫu"


class PeriodError(ValueError):
    """A period that is not a date, or that has no raw data."""


def parse_period(text: str) -> date:
    """``"2024-04-19"`` -> ``date(2024, 4, 19)``, with a Vietnamese message otherwise."""
    if not isinstance(text, str) or not PERIOD_RE.match(text):
        raise PeriodError(
            f"Kỳ báo cáo '{text}' không hợp lệ: cần dạng YYYY-MM-DD, ví dụ 2024-04-19."
        )
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(
            f"Kỳ báo cáo '{text}' không phải một ngày có thật (tháng 01-12, ngày có trong tháng)."
        ) from exc


def list_periods(raw_dir: Path | str = RAW_DIR) -> list[str]:
    """Every period folder (``YYYY-MM-DD``) under ``raw_dir``, oldest first."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    out = []
    for child in raw_dir.iterdir():
        if child.is_dir() and PERIOD_RE.match(child.name):
            try:
                date.fromisoformat(child.name)
            except ValueError:
                continue
            out.append(child.name)
    return sorted(out)


def latest_period(raw_dir: Path | str = RAW_DIR) -> str:
    periods = list_periods(raw_dir)
    if not periods:
        raise PeriodError(
            f"Không tìm thấy kỳ báo cáo nào trong {raw_dir}: cần các thư mục dạng YYYY-MM-DD "
            "chứa file xuất dữ liệu (.xlsx, .xls, .csv)."
        )
    return periods[-1]


def is_sample(raw_dir: Path | str = RAW_DIR) -> bool:
    """True when the raw folder holds the synthetic sample data set."""
    return (Path(raw_dir) / SAMPLE_MARK_FILE).is_file()


@dataclass(frozen=True)
class RunConfig:
    """The folders of one period's run, resolved from the notebooks' parameters."""

    period: str
    raw_root: Path
    processed_root: Path
    output_root: Path

    @property
    def period_date(self) -> date:
        return parse_period(self.period)

    @property
    def raw(self) -> Path:
        """This period's own raw folder (carry-forward may read earlier ones too)."""
        return self.raw_root / self.period

    @property
    def processed(self) -> Path:
        return self.processed_root / self.period

    @property
    def out(self) -> Path:
        return self.output_root / self.period

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @property
    def tables(self) -> Path:
        return self.out / "tables"

    @property
    def sample(self) -> bool:
        return is_sample(self.raw_root)

    @classmethod
    def from_params(
        cls,
        period: str = "",
        raw_dir: str | Path = "",
        processed_dir: str | Path = "",
        output_dir: str | Path = "",
    ) -> RunConfig:
        raw_root = Path(raw_dir).expanduser().resolve() if str(raw_dir) else RAW_DIR
        processed_root = (
            Path(processed_dir).expanduser().resolve() if str(processed_dir) else PROCESSED_DIR
        )
        output_root = Path(output_dir).expanduser().resolve() if str(output_dir) else OUTPUTS_DIR
        if not raw_root.is_dir():
            raise PeriodError(f"Thư mục dữ liệu thô {raw_root} không tồn tại.")
        period = period or latest_period(raw_root)
        parse_period(period)
        return cls(period, raw_root, processed_root, output_root)
