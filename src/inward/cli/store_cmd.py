"""`inward store ...` and `inward export ...`: look into, prune and export the workspace's store."""

from __future__ import annotations

from inward.cli._app import cli


@cli.group("store")
def store_group() -> None:
    """List, show and remove what the workspace's store holds."""
