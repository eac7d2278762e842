"""The root click group and options shared by every command."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from inward.errors import UserError
from inward.paths import PAPER_DATA_ENV, WORKSPACE_ENV, workspace_dir

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)


@dataclass
class AppState:
    workspace: Path
    paper_data: Path | None

    def store(self):  # type: ignore[no-untyped-def]
        return self.api_workspace().store

    def api_workspace(self):  # type: ignore[no-untyped-def]
        """The Python API's `inward.Workspace` of this folder (one store per folder, shared with the API)."""
        from inward import workspace

        self.ensure_workspace()
        return workspace(self.workspace)

    def ensure_workspace(self) -> Path:
        """The workspace folder, created if needed; a UserError when it cannot be (a file in the way, no
        permission), before any model is loaded."""
        try:
            self.workspace.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(
                f"cannot use workspace {self.workspace} ({e.strerror or e}); pass --workspace DIR "
                f"(or set {WORKSPACE_ENV}) to a folder you can write"
            ) from None
        return self.workspace


@click.group(context_settings=CONTEXT)
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=WORKSPACE_ENV,
    help=f"Workspace folder holding the store (default ./inward-workspace; env {WORKSPACE_ENV}).",
)
@click.option(
    "--paper-data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar=PAPER_DATA_ENV,
    help=f"The paper's data folder (datasets/ of train_/val_ jsonl files); adds paper:<task> tasks (env {PAPER_DATA_ENV}).",
)
@click.version_option(package_name="inward")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, paper_data: Path | None) -> None:
    """Measure and train introspection in language models (Binder et al. 2024, "Looking Inward")."""
    if paper_data is not None:
        from inward.tasks.paper import register_paper_tasks

        register_paper_tasks(paper_data)
    ctx.obj = AppState(workspace=workspace_dir(workspace), paper_data=paper_data)


def split_csv(values: tuple[str, ...]) -> list[str]:
    """Accept `-t a,b -t c` as well as repeated flags."""
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def check_model(store: Any, ref: str) -> str:
    """Check a model ref before any backend is built: its syntax, the bundled name and the adapter (registered
    name or folder). A mistake is a UserError here, before weights are installed or loaded."""
    from inward import models
    from inward.refs import ModelRef
    from inward.runs.adapters import adapter_resolver, check_adapter_folder

    r = ModelRef.parse(ref)
    if r.provider == "local":
        models.get(r.name)
    if r.adapter is not None and r.provider in ("local", "hf"):
        folder = Path(r.adapter).expanduser()
        if folder.exists():
            check_adapter_folder(folder)
        else:
            adapter_resolver(store)(r.adapter)
    return ref
