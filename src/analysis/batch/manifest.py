"""The run manifest of one period: ``outputs/<period>/manifest.json``.

What a reviewer needs to trust (and repeat) a period's figures: the parameters, every raw
file the run could read with its SHA-256, the folder that served each table kind, every
artefact with its SHA-256 and size, the package versions, the code's git commit, the row
accounting, the headline numbers and which file served each group of report settings
(``report_settings``). Timings live under their own top-level key
(``timings``) so that two manifests of the same inputs compare equal once it is dropped.

Light imports only: the batch imports this module before any kernel starts.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from analysis import paths
from analysis.core import privacy

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

#: Distributions whose versions are recorded (distribution names, as pip knows them).
PACKAGES: tuple[str, ...] = (
    "pandas",
    "numpy",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbclient",
    "ipykernel",
    "python-docx",
    "docxtpl",
    "xlsxwriter",
    "python-calamine",
    "pandera",
    "rapidfuzz",
    "babel",
)

#: Keys of ``quality.json`` that are not row accounting (they go elsewhere in the manifest).
#: Written by the report (``analysis.report.SETTINGS_JSON``): which file served each group of
#: report settings, and whether the report is a draft.
REPORT_SETTINGS = "report_settings.json"
_QUALITY_NOT_ACCOUNTING = frozenset({"period", "sample", "served"})


def sha256_file(path: Path | str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def hash_tree(root: Path | str, exclude: Iterable[str] = ()) -> list[dict]:
    """Every regular file under ``root`` (recursively), sorted by its relative POSIX path:
    ``[{"path", "sha256", "size"}]``. ``exclude`` holds relative paths to leave out."""
    root = Path(root)
    skip = set(exclude)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root).as_posix()
        if rel in skip or not path.is_file():
            continue
        out.append({"path": rel, "sha256": sha256_file(path), "size": path.stat().st_size})
    return out


def input_files(raw_root: Path | str, period: str) -> list[dict]:
    """The raw files a run of ``period`` could read: the files at the top of the raw folder
    (alias table, sample mark) and every file of every period folder ``<= period``
    (carry-forward). Paths are relative to the raw root, e.g. ``2024-04-19/cbgvnv.xlsx``."""
    raw_root = Path(raw_root)
    out = [
        {"path": p.name, "sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(raw_root.iterdir(), key=lambda p: p.name)
        if p.is_file()
    ]
    for folder in paths.list_periods(raw_root):
        if folder <= period:
            for item in hash_tree(raw_root / folder):
                out.append({**item, "path": f"{folder}/{item['path']}"})
    return out


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(paths.ROOT), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_info() -> dict:
    """``{"commit": sha | None, "dirty": bool | None}`` of the code that ran.

    ``--no-optional-locks`` keeps ``git status`` from refreshing the index (read-only)."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain")
    return {"commit": head.strip(), "dirty": None if status is None else bool(status.strip())}


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def build_manifest(
    *,
    period: str,
    parameters: Mapping,
    raw_root: Path,
    processed_root: Path,
    period_dir: Path,
    timings: Mapping,
    units: list[dict] | None = None,
) -> dict:
    """The manifest of a finished period whose outputs sit in ``period_dir`` (the temporary
    folder during a run; paths inside the manifest are relative, so it moves with it)."""
    quality = _read_json(Path(processed_root) / period / "quality.json")
    headline = _read_json(period_dir / "tables" / "headline.json")
    report_settings = _read_json(period_dir / "tables" / REPORT_SETTINGS)
    return {
        "manifest_version": MANIFEST_VERSION,
        "period": period,
        "sample": bool(quality["sample"]) if quality else paths.is_sample(raw_root),
        "parameters": dict(parameters),
        "inputs": {
            "raw_root": str(raw_root),
            "files": input_files(raw_root, period),
            "served": quality.get("served") if quality else None,
        },
        "processed": {
            "folder": str(Path(processed_root) / period),
            "files": hash_tree(Path(processed_root) / period),
        },
        "artefacts": hash_tree(period_dir, exclude=[MANIFEST_NAME]),
        "accounting": (
            {
                k: v
                for k, v in privacy.public_quality(quality).items()
                if k not in _QUALITY_NOT_ACCOUNTING
            }
            if quality
            else None
        ),
        "headline": headline,
        "report_settings": report_settings,
        "packages": package_versions(),
        "code": git_info(),
        "timings": dict(timings),
        # --per-commune: every unit (the data's, then each commune) and its artefacts
        **({"units": units} if units is not None else {}),
    }


def report_settings_line(period_dir: Path | str) -> str:
    """What the batch's summary line says of a period's report settings: the file of each
    group of settings and, for a draft, what is missing ('' when the report did not run)."""
    data = _read_json(Path(period_dir) / "tables" / REPORT_SETTINGS)
    if not data:
        return ""
    period = Path(period_dir).name
    by_file: dict[str, list[str]] = {}
    for group, files in data.get("groups", {}).items():
        for label in files.split("; "):
            by_file.setdefault(label, []).append(group)
    parts = []
    for label, groups in by_file.items():
        folder = label.split("/")[0]
        earlier = "/" in label and folder[:1].isdigit() and folder != period
        parts.append(f"{label}{' (kỳ trước)' if earlier else ''}: {', '.join(groups)}")
    line = "lời văn từ " + "; ".join(parts)
    if data.get("draft"):
        line = f"DỰ THẢO (chưa có {', '.join(data.get('missing', []))}); " + line
    return line


def dumps(data: Mapping) -> str:
    """Deterministic JSON: sorted keys, indent 2, UTF-8 text (no \\u escapes), final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_manifest(data: Mapping, period_dir: Path) -> Path:
    path = Path(period_dir) / MANIFEST_NAME
    path.write_text(dumps(data), encoding="utf-8")
    return path
