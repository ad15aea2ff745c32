"""Shared pytest fixtures.

The LEAN sample data lives beside the checkout in ``../shared/lean-data`` (its licence forbids copying
it into this repository). ``LEAN_DATA_DIR`` overrides the location; tests that need it skip cleanly
when it is absent.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _lean_data_dir() -> Path:
    override = os.environ.get("LEAN_DATA_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "lean-data"


@pytest.fixture(scope="session")
def lean_data_dir() -> Path:
    """The LEAN-format sample data folder, or skip the test when it is not there."""
    path = _lean_data_dir()
    if not path.is_dir():
        pytest.skip(f"LEAN sample data not found at {path} (set LEAN_DATA_DIR)")
    return path


def _lean_regression_dir() -> Path:
    override = os.environ.get("LEAN_REGRESSION_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "lean-regression"


@pytest.fixture(scope="session")
def lean_regression_dir() -> Path:
    """LEAN's own option algorithms with their expected statistics (``expected.json``), or skip the test.

    They live beside the checkout in ``../shared/lean-regression`` (Apache-2.0 files that stay out of this
    repository); ``LEAN_REGRESSION_DIR`` overrides the location."""
    path = _lean_regression_dir()
    if not (path / "expected.json").is_file():
        pytest.skip(f"LEAN regression algorithms not found at {path} (set LEAN_REGRESSION_DIR)")
    return path
