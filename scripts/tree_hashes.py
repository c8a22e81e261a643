"""Hash every file of an output and a processed tree, to show a change left them byte-identical.

    python scripts/tree_hashes.py OUT_DIR [PROCESSED_DIR ...] > hashes.txt
    diff before.txt after.txt

One line a file: its sha256 and its path relative to the tree given. ``manifest.json`` files
are left out (they carry the commit and the timings), and so are ``_logs`` and ``_cache``
folders; every artefact a manifest lists is hashed here as a file. Used when restructuring the
code: the outputs of every sample period must not change.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

SKIP_NAMES = {"manifest.json"}
SKIP_DIRS = {"_logs", "_cache"}


def tree_hashes(root: Path) -> list[str]:
    lines = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or path.name in SKIP_NAMES or SKIP_DIRS & set(rel.parts):
            continue
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {root.name}/{rel}")
    return lines


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("\n".join(tree_hashes(Path(arg))))
