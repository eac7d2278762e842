"""What produced an artifact: versions, platform, git revision, time. Stored with every run and model.

    from inward.store import provenance
    record = provenance(seed=0, models=["local/qwen2.5-0.5b"])   # extra keys are merged in

Library versions come from installed package metadata (`importlib.metadata`), so recording them never imports
torch. The git revision is that of the checkout `inward` runs from (an editable install); None otherwise.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import inward

TRACKED_PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "trl",
    "openai",
    "anthropic",
    "numpy",
    "pandas",
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git binary, or it hung
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=8)
def git_revision(path: Path | None = None) -> dict[str, Any] | None:
    """{"revision": sha, "dirty": bool} of the checkout holding `path` (default: inward's source), or None.

    `dirty` counts modified tracked files only; untracked files do not change what the code does.
    """
    where = path or Path(inward.__file__).resolve().parent
    if not where.is_dir():
        return None
    sha = _git(["rev-parse", "HEAD"], where)
    if not sha:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return {"revision": sha, "dirty": bool(status)}


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    """Installed versions of the libraries that change results (None = not installed)."""
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(**extra: Any) -> dict[str, Any]:
    """A JSON-ready record of the software and machine producing an artifact now; merges in `extra`."""
    git = git_revision()
    record: dict[str, Any] = {
        "inward": inward.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": dict(git) if git else None,  # copies: the cached dict must not be mutated by callers
        "packages": dict(package_versions()),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    record.update(extra)
    return record
