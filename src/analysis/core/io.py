"""Writing files and folders so that a reader never sees half of one.

Every file the suite writes goes through ``atomic_path`` / ``write_bytes`` (a hidden sibling
``.<stem>.<pid>.tmp<suffix>``, renamed over the target when complete), and every folder of
outputs through ``staging_dir`` + ``swap_in`` (built as ``.tmp-<name>-<pid>``, the previous
version renamed aside as ``.old-<name>-<pid>`` for the instant of the swap). A process killed
outright leaves at most those names, which ``paths.remove_leftovers`` undoes on the next run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from analysis.core import stops


def temp_path(path: Path) -> Path:
    """A hidden sibling for an atomic write (created with the usual permissions, unlike
    ``mkstemp``'s 0600; the process id keeps two writers of the same file apart)."""
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on any error it is
    removed and ``path`` keeps its previous content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def staging_dir(final: Path) -> Path:
    """An empty ``.tmp-<name>-<pid>`` folder beside ``final`` to build its new version in."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def swap_in(new: Path, final: Path) -> None:
    """Replace the folder ``final`` by ``new``: rename old aside, rename new in, delete old.

    No signal comes between the two renames (``stops.deferred``); a process killed there
    leaves ``.old-<name>-<pid>``, which the next run renames back (``paths.remove_leftovers``).
    """
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    if old.exists():
        shutil.rmtree(old)
    moved = False
    with stops.deferred():
        if final.exists():
            final.rename(old)
            moved = True
        try:
            new.rename(final)
        except OSError:
            if moved:
                old.rename(final)
            raise
    if moved:
        shutil.rmtree(old, ignore_errors=True)
