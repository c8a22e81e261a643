"""nbval over the notebooks (``pytest --nbval-lax --nbval-current-env notebooks/``).

The notebooks form a chain: 10_clean writes data/processed/<period>, the later ones read it.
They therefore run in name order, and under pytest-xdist in one group on one worker
(``--dist loadgroup``; with ``--dist loadfile`` keep ``-n 0`` for this folder).
Each runs with its default parameters: the latest sample period, the repository's folders.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    notebook_items = [item for item in items if item.path.suffix == ".ipynb"]
    if not notebook_items:
        return
    for item in notebook_items:
        item.add_marker(pytest.mark.xdist_group("notebooks"))
    # Stable sort: notebooks by file name, cells in their own order; other items stay first.
    others = [item for item in items if not item.path.suffix == ".ipynb"]
    notebook_items.sort(key=lambda item: item.path.name)
    items[:] = others + notebook_items
