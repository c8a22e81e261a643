"""Reading one period's processed tables (``data/processed/<period>/``): the kinds and their columns
come from ``analysis.core.schemas`` (``FILES``/``COLUMNS``), with which cleaning writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core import schemas


@dataclass
class Processed:
    """The processed tables of one period (absent kinds are empty frames with their columns)."""

    schools: pd.DataFrame
    staff: pd.DataFrame
    signature_counts: pd.DataFrame
    signature_by_school: pd.DataFrame
    history: pd.DataFrame
    infrastructure: pd.DataFrame
    records: pd.DataFrame
    quality: dict = field(default_factory=dict)
    #: The district the tables were narrowed to by ``select_unit`` ("" = every district).
    unit: str = ""
    #: One row per school and level it teaches (``school_levels.parquet``); empty: made from
    #: ``schools`` (``school_levels``).
    school_levels: pd.DataFrame = field(default_factory=lambda: schemas.empty("school_levels"))
    #: The school's own certificate (``institution_certificates.parquet``); empty: the period
    #: has no such data (not "no school ready").
    institution_certificates: pd.DataFrame = field(
        default_factory=lambda: schemas.empty("institution_certificates")
    )

    @property
    def sample(self) -> bool:
        return bool(self.quality.get("sample", False))


def load_processed(processed_dir: Path | str) -> Processed:
    """Read ``<processed_dir>/*.parquet`` and ``quality.json`` of one period.

    A kind whose file is absent becomes an empty frame with its columns; a folder that does
    not exist at all is an error with a message saying which command makes it.
    """
    processed_dir = Path(processed_dir)
    if not processed_dir.is_dir():
        raise FileNotFoundError(
            f"Chưa có dữ liệu đã làm sạch tại {processed_dir}. Hãy chạy bước làm sạch trước: "
            f"python -m analysis clean --period {processed_dir.name}"
        )
    tables = {}
    for kind, name in schemas.FILES.items():
        path = processed_dir / name
        tables[kind] = pd.read_parquet(path) if path.is_file() else schemas.empty(kind)
    quality_path = processed_dir / "quality.json"
    quality = json.loads(quality_path.read_text(encoding="utf-8")) if quality_path.is_file() else {}
    return Processed(**tables, quality=quality)
