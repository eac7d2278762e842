"""`inward inspect ...`: inspect_ai eval logs to and from the store."""

from __future__ import annotations

from inward.cli._app import cli


@cli.group("inspect")
def inspect_group() -> None:
    """Exchange rows with inspect_ai: export stored rows as an .eval log, import a log as behaviour."""
