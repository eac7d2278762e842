"""Where things live on disk: the workspace (store, runs, adapters) and the user cache (converted model weights)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

WORKSPACE_ENV = "INWARD_WORKSPACE"
CACHE_ENV = "INWARD_CACHE_DIR"
PAPER_DATA_ENV = "INWARD_PAPER_DATA"
DEFAULT_WORKSPACE = "inward-workspace"


def workspace_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The workspace: `--workspace`, else $INWARD_WORKSPACE, else ./inward-workspace."""
    p = Path(override or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)
    return p.expanduser().resolve()


def cache_dir() -> Path:
    """The user cache for converted model folders: $INWARD_CACHE_DIR, else the platform's user cache dir."""
    p = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("inward"))
    p = p.expanduser()
    p.mkdir(parents=True, exist_ok=True)
    return p
