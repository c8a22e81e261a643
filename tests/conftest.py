"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis import paths
from analysis.core import privacy

#: The tests key people with a fixed key of their own (kernels and forked workers inherit it),
#: never with the key in the user's ~/.config: on a fresh machine the first run would create
#: that key and print its notice into one executed notebook and not the next.
TEST_PSEUDONYM_KEY = "7e57" * 16


def pytest_configure(config):
    os.environ.setdefault(privacy.KEY_ENV, TEST_PSEUDONYM_KEY)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return paths.ROOT


@pytest.fixture(scope="session")
def sample_raw_dir() -> Path:
    """The committed sample data set (read-only)."""
    return paths.RAW_DIR
