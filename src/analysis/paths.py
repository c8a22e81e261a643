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
import shutil
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
TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"

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


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: alive as far as we can tell
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


#: Temporary names of the atomic writes: ``.tmp-<name>-<pid>`` (being written) and
#: ``.old-<name>-<pid>`` (the previous version, aside while the new one is renamed in).
_LEFTOVER_RE = re.compile(r"^\.(tmp|old)-(.+)-(\d+)$")
#: A cache entry being written: ``.<stem>.<pid>.tmp<suffix>`` (``analysis.core.io``).
_CACHE_TMP_RE = re.compile(r"^\..+\.(\d+)\.tmp(\.[A-Za-z0-9]+)?$")


def remove_leftovers(root: Path | str, name: str | None = None) -> list[str]:
    """Undo what a process that died mid-write (killed, power cut) left in ``root``:
    ``.tmp-<name>-<pid>`` is removed; ``.old-<name>-<pid>`` is renamed back to ``<name>`` when
    that is missing (the process died between the two renames of a swap: the previous
    version comes back), else removed; ``.<file>.<pid>.tmp`` cache files under ``_cache/``
    are removed. Only for processes that are gone; ``name``: only that folder's leftovers.
    Returns the names handled."""
    root = Path(root)
    if not root.is_dir():
        return []
    done = []
    for child in sorted(root.iterdir()):
        match = _LEFTOVER_RE.match(child.name)
        if not match or (name is not None and match.group(2) != name):
            continue
        if pid_alive(int(match.group(3))):
            continue
        target = root / match.group(2)
        if match.group(1) == "old" and not target.exists():
            os.replace(child, target)
        elif child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        done.append(child.name)
    cache_dir = root / "_cache"
    if cache_dir.is_dir():
        for path in sorted(cache_dir.rglob(".*.tmp")):
            match = _CACHE_TMP_RE.match(path.name)
            if match and path.is_file() and not pid_alive(int(match.group(1))):
                path.unlink(missing_ok=True)
                done.append(path.relative_to(root).as_posix())
    return done


@dataclass(frozen=True)
class RunConfig:
    """The folders of one period's run, resolved from the notebooks' parameters."""

    period: str
    raw_root: Path
    processed_root: Path
    output_root: Path
    #: The folder of this run's outputs when it is not ``<output_root>/<period>``: one
    #: commune's report of a fan-out, ``<output_root>/<period>/xa/<slug>`` (``batch.fanout``).
    out_dir: Path | None = None

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
        return self.out_dir if self.out_dir is not None else self.output_root / self.period

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
