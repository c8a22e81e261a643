"""A small on-disk cache of derived tables, in ``<processed_root>/_cache/``.

Used by the cleaning stage for

- the signature history: the per-school signature counts of every earlier folder, recomputed
  with this period's school list, are the same from one run to the next as long as nothing
  they depend on changed. One parquet file per folder (``_cache/history/2024-03-22.parquet``)
  carries the key it was computed for in its schema metadata;
- the kinds of the sheets of each raw file (``_cache/kinds/<digest of the file>.json``), so
  that ``ingest.read_period`` does not probe an earlier folder's file whose kinds a newer folder
  already serves.

A lookup with another key is a miss, and the entry is overwritten.

What a key must cover is the caller's business (``clean.history._plan_history``: the bytes of
every raw file in the folders up to that one, the school list, the alias file and the code of
the cleaning modules, ``code_fingerprint``). Entries hold no personal data
(``privacy.assert_no_personal`` runs on every store), are written atomically, and a damaged or
unreadable entry is a miss.
Deleting ``_cache`` is always safe: the next run recomputes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from pathlib import Path

import pandas as pd

from analysis.core import io, privacy

log = logging.getLogger(__name__)

CACHE_DIR = "_cache"
_KEY = b"hocbaso_cache_key"
#: The subpackages whose code decides what cleaning produces (with ``paths``).
_CLEANING_PACKAGES = ("core", "ingest", "clean")
#: What a cleaning package is made of: its code and the data files beside it.
DATA_SUFFIXES = (".py", ".toml", ".csv", ".json")


@cache
def code_fingerprint() -> str:
    """A digest of the source of the cleaning stages (and of their vocabulary files): any
    change to them is a cache miss."""
    digest = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parents[1]
    sources = [package / "paths.py"]
    for name in _CLEANING_PACKAGES:
        # The code, and the data files it reads (vocabularies, aliases, the default crosswalk).
        for suffix in DATA_SUFFIXES:
            sources += sorted((package / name).rglob(f"*{suffix}"))
    for source in sources:
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def file_digest(path: Path) -> bytes:
    """BLAKE2b of a file's bytes (read in blocks: national exports can be large)."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def frame_digest(df: pd.DataFrame) -> bytes:
    """A digest of a frame's columns, dtypes and values (row order included)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr([(c, str(t)) for c, t in df.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.digest()


def _path(processed_root: Path, name: str, suffix: str = ".parquet") -> Path:
    return Path(processed_root) / CACHE_DIR / f"{name}{suffix}"


def load_json(processed_root: Path | str | None, name: str, key: str):
    """The JSON entry ``name`` (``_cache/<name>.json``) if it was stored with ``key``."""
    if processed_root is None:
        return None
    path = _path(Path(processed_root), name, ".json")
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # a damaged entry is only a miss
        log.warning("Bỏ qua bộ nhớ đệm hỏng %s: %s", path, exc)
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    return entry.get("value")


def store_json(processed_root: Path | str | None, name: str, key: str, value) -> None:
    """Write the JSON entry ``name`` for ``key`` (atomically; a failure is only logged).
    Only for facts about files (kinds of their sheets), never for their content."""
    if processed_root is None:
        return
    path = _path(Path(processed_root), name, ".json")
    try:
        io.write_bytes(path, json.dumps({"key": key, "value": value}, sort_keys=True).encode())
    except OSError as exc:
        log.warning("Không ghi được bộ nhớ đệm %s: %s", path, exc)


def load(processed_root: Path | str | None, name: str, key: str) -> pd.DataFrame | None:
    """The entry ``name`` if it was stored with ``key``, else None."""
    if processed_root is None:
        return None
    path = _path(Path(processed_root), name)
    if not path.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        if (table.schema.metadata or {}).get(_KEY) != key.encode():
            return None
        return table.to_pandas()
    except Exception as exc:  # a damaged entry is only a miss
        log.warning("Bỏ qua bộ nhớ đệm hỏng %s: %s", path, exc)
        return None


def store(processed_root: Path | str | None, name: str, key: str, df: pd.DataFrame) -> None:
    """Write the entry ``name`` for ``key`` (atomically; a failure to write is only logged)."""
    if processed_root is None:
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    privacy.assert_no_personal(df, f"{CACHE_DIR}/{name}")
    path = _path(Path(processed_root), name)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KEY: key})
        with io.atomic_path(path) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    except OSError as exc:  # a read-only or full disk: the run goes on without the cache
        log.warning("Không ghi được bộ nhớ đệm %s: %s", path, exc)
