"""Shared fixtures for the task tests: where the paper's data lives (skip when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "paper-data"


def paper_data_dir() -> Path | None:
    env = os.environ.get("INWARD_PAPER_DATA")
    path = Path(env) if env else _DEFAULT
    if (path / "datasets").is_dir():
        return path.resolve()
    if path.is_dir() and any(path.glob("train_*.jsonl")):
        return path.resolve().parent
    return None


@pytest.fixture(scope="session")
def paper_data() -> Path:
    """The paper-data folder (with datasets/ and release/); the test is skipped when it is absent."""
    path = paper_data_dir()
    if path is None:
        pytest.skip("the paper's data is not available (../shared/paper-data or INWARD_PAPER_DATA)")
    return path
