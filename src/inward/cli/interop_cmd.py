"""`inward inspect ...`: inspect_ai eval logs to and from the store.

inward inspect export-log -m MODEL [--about MODEL] -o run.eval     stored rows as an inspect log (`inspect view`)
inward inspect import-log LOG [-m MODEL]                            a log's object-level answers as behaviour

The inspect task itself runs under inspect: `inspect eval inward/self_prediction --model ...`.
"""

from __future__ import annotations

from pathlib import Path

import click

from inward.cli._app import AppState, cli, console, split_csv


@cli.group("inspect")
def inspect_group() -> None:
    """Exchange rows with inspect_ai: export stored rows as an .eval log, import a log as behaviour."""


@inspect_group.command("export-log")
@click.option("-m", "--model", required=True, help="Whose rows: the model that answered (an inward ref).")
@click.option(
    "--about", help="For hypothetical logs: whose behaviour the answers are about (default: itself)."
)
@click.option(
    "-t", "--tasks", "tasks", multiple=True, help="Tasks (comma-separated); default: all it has rows for."
)
@click.option(
    "-p", "--properties", "properties", multiple=True, help="Properties (comma-separated); default: all."
)
@click.option("--split", type=click.Choice(["train", "val"]), default="val", show_default=True)
@click.option("--template", default="inward-v1", show_default=True, help="Prompt template family.")
@click.option(
    "--object-config", "object_config", default="auto", show_default=True, help="Whose behaviour rows."
)
@click.option(
    "--level",
    type=click.Choice(["auto", "object", "hypothetical"]),
    default="auto",
    show_default=True,
    help="Hypothetical answers (scored) or object-level rows; auto: hypothetical when there are any.",
)
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .eval file."
)
@click.pass_obj
def export_log_cmd(
    state: AppState,
    model: str,
    about: str | None,
    tasks: tuple[str, ...],
    properties: tuple[str, ...],
    split: str,
    template: str,
    object_config: str,
    level: str,
    out: Path,
) -> None:
    """Write MODEL's stored rows as an inspect .eval log (open it with `inspect view`)."""
    from inward import prompts
    from inward.interop.logs import export_log

    with state.store() as store:
        got = export_log(
            store,
            model,
            out,
            about=about,
            tasks=split_csv(tasks) or None,
            properties=split_csv(properties) or None,
            split=split,
            template=prompts.get(template),
            object_config=object_config,
            level=level,  # type: ignore[arg-type]
        )
    console.print(
        f"{got.level} log: {got.samples} samples → {got.path}  (inspect view --log-dir {got.path.parent})"
    )


@inspect_group.command("import-log")
@click.argument("log", type=click.Path(path_type=Path))
@click.option("-m", "--model", help="Store the answers as this model's (default: the log's object model).")
@click.option("--template", default="inward-v1", show_default=True, help="The prompts' template family.")
@click.option(
    "--object-config", "object_config", default="auto", show_default=True, help="Store under this config."
)
@click.pass_obj
def import_log_cmd(state: AppState, log: Path, model: str | None, template: str, object_config: str) -> None:
    """Store the object-level answers of an inspect LOG as a model's behaviour (for `inward hypothetical`/`score`)."""
    from inward import prompts
    from inward.interop.logs import import_log

    with state.store() as store:
        got = import_log(store, log, model=model, template=prompts.get(template), object_config=object_config)
    console.print(
        f"imported {got.new_rows} new behaviour rows of {got.model} ({got.existing_rows} already stored), "
        f"run {got.run_id} → {state.workspace}"
    )
