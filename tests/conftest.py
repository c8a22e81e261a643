"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import paths


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return paths.ROOT


@pytest.fixture(scope="session")
def sample_raw_dir() -> Path:
    """The committed sample data set (read-only)."""
    return paths.RAW_DIR
