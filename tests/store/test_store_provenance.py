"""Provenance records: versions from metadata (no imports), git revision when in a checkout, JSON-ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import inward
from inward.store import provenance
from inward.store.provenance import TRACKED_PACKAGES, git_revision

SRC = Path(__file__).resolve().parents[2] / "src"


def test_record_fields_and_extra() -> None:
    rec = provenance(seed=3, models=["local/m1"])
    assert rec["inward"] == inward.__version__
    assert rec["python"].count(".") == 2 and rec["platform"]
    assert set(rec["packages"]) == set(TRACKED_PACKAGES)
    assert rec["seed"] == 3 and rec["models"] == ["local/m1"]
    assert json.loads(json.dumps(rec)) == rec


def test_git_revision_in_and_outside_a_checkout(tmp_path: Path) -> None:
    assert git_revision(tmp_path) is None  # not a repository: no error
    repo_root = SRC.parent
    inside = subprocess.run(
        ["git", "-C", str(repo_root), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if inside.returncode == 0:
        rev = git_revision(repo_root)
        assert rev is not None and rev["revision"] == inside.stdout.strip()
        assert isinstance(rev["dirty"], bool)


def test_versions_are_read_without_importing_the_libraries() -> None:
    code = (
        "import sys; from inward.store import provenance; provenance(); "
        "libs = ('torch', 'transformers', 'peft', 'openai', 'anthropic'); "
        "print(sorted(m for m in libs if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
