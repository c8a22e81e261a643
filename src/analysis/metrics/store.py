"""All file writing and reading of the metric tables: ``write_tables`` (parquet and CSV,
atomically through ``analysis.core.io``), the headline parts and their merge under a lock,
``read_table``.

Headline numbers: notebook 20 writes ``headline_coverage.json``, notebook 30
``headline_scale.json``; each then (re)writes ``headline.json`` = the merge of the parts present
(their keys never overlap), so the order of the runs does not matter. The batch runs 20 and 30
side by side: the merge holds a lock on the ``tables`` folder (POSIX ``flock``), so the last
merge always sees both parts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from analysis.core import exports, io
from analysis.metrics.columns import (
    COVERAGE_TABLES,
    DISTRICT_TABLES,
    OPTIONAL_TABLES,
    TABLE_COLUMNS,
)
from analysis.metrics.headline import headline


def _write_json(data: dict, path: Path) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    io.write_bytes(path, text.encode("utf-8"))


def read_headline(tables_dir: Path | str) -> dict:
    """Merge the headline parts (``headline_*.json``) present in ``tables_dir``."""
    merged: dict = {}
    for path in sorted(Path(tables_dir).glob("headline_*.json")):
        merged |= json.loads(path.read_text(encoding="utf-8"))
    return {key: merged[key] for key in sorted(merged)}


def write_headline(part: str, data: dict, tables_dir: Path | str) -> Path:
    """Write ``headline_<part>.json`` then ``headline.json`` = the merge of every part present."""
    tables_dir = Path(tables_dir)
    tables_dir.mkdir(parents=True, exist_ok=True)
    _write_json(data, tables_dir / f"headline_{part}.json")
    path = tables_dir / "headline.json"
    # Notebooks 20 and 30 may run at the same time (analysis.batch). Each part is written
    # before its merge, and merges are serialised, so the last merge sees every part.
    with _locked(tables_dir):
        _write_json(read_headline(tables_dir), path)
    return path


@contextmanager
def _locked(folder: Path):
    """An exclusive advisory lock on ``folder`` itself for the duration of the block (no lock
    file is left among the artefacts; a no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows (the batch's IPC kernels are POSIX too)
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_stale(out_dir: Path, part: str, tables: Mapping[str, pd.DataFrame]) -> None:
    """Remove the files of the part's district and optional tables absent from ``tables``: a
    district table of an earlier many-district run must not outlive a one-district run."""
    for name in DISTRICT_TABLES.get(part, ()) + OPTIONAL_TABLES.get(part, ()):
        if name not in tables:
            for suffix in (".parquet", ".csv"):
                (out_dir / f"{name}{suffix}").unlink(missing_ok=True)


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path | str,
    headline_part: str | None = None,
    period: str | None = None,
    sample: bool | None = None,
) -> dict[str, Path]:
    """Write ``<name>.parquet`` and ``<name>.csv`` (UTF-8) per table, in a stable column order.

    With ``headline_part`` also write that headline part and the merged ``headline.json``, and
    remove the files of that part's district tables (``DISTRICT_TABLES``) absent from ``tables``
    (left by an earlier many-district run into the same folder). Returns name -> parquet path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in sorted(tables):
        df = tables[name]
        if name in TABLE_COLUMNS:
            df = df[TABLE_COLUMNS[name]]
        df = df.reset_index(drop=True)
        parquet = out_dir / f"{name}.parquet"
        with io.atomic_path(parquet) as tmp:
            df.to_parquet(tmp, index=False)
        # The CSV copy is for people: formula-like text gets a leading ' (``exports``).
        io.write_bytes(out_dir / f"{name}.csv", exports.csv_bytes(df))
        written[name] = parquet
    if headline_part:
        _remove_stale(out_dir, headline_part, tables)
        write_headline(headline_part, headline(tables, period, sample), out_dir)
    return written


def read_table(tables_dir: Path | str, name: str) -> pd.DataFrame:
    """Read one metric table written by ``write_tables`` (for the report stage)."""
    path = Path(tables_dir) / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"Chưa có bảng {name} tại {path}. Hãy chạy notebook "
            f"{'20_coverage' if name in COVERAGE_TABLES else '30_scale_infrastructure'} "
            "của kỳ này trước (python -m analysis run)."
        )
    return pd.read_parquet(path)


def read_tables(tables_dir: Path | str, names: Iterable[str] | None = None) -> dict:
    """Every metric table present in ``tables_dir`` (or the given names)."""
    tables_dir = Path(tables_dir)
    names = sorted(names) if names is not None else sorted(TABLE_COLUMNS)
    return {n: read_table(tables_dir, n) for n in names if (tables_dir / f"{n}.parquet").is_file()}
