"""Catalogue commands: tasks, properties, prompts, data checks. Nothing here calls a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from inward.cli._app import AppState, cli, console
from inward.errors import UserError


@cli.group()
def tasks() -> None:
    """Object-level task families."""


@tasks.command("list")
@click.option(
    "--role", type=click.Choice(["train", "held_out", "shift_only"]), help="Only tasks of this role."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tasks_list(role: str | None, as_json: bool) -> None:
    """List tasks with their role, item counts per split and properties."""
    from inward import tasks as T

    rows: list[dict[str, Any]] = []
    for name in T.names():
        t = T.get(name)
        if role and t.role != role:
            continue
        rows.append(
            {
                "task": t.name,
                "role": t.role,
                "train": len(t.items("train")),
                "val": len(t.items("val")),
                "properties": list(t.properties),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("task", "role", "train", "val", "properties")
    for r in rows:
        table.add_row(r["task"], r["role"], str(r["train"]), str(r["val"]), ", ".join(r["properties"]))
    console.print(table)


@tasks.command("show")
@click.argument("task")
@click.option("--split", type=click.Choice(["train", "val"]), default="val", show_default=True)
@click.option(
    "-n", "--limit", type=click.IntRange(min=0), default=3, show_default=True, help="Items to show."
)
def tasks_show(task: str, split: str, limit: int) -> None:
    """Show a task's definition and a few items."""
    from inward import tasks as T

    t = T.get(task)
    items = t.items(split)  # type: ignore[arg-type]
    # markup=False: item ids such as "[abc123…]" and item text would otherwise be read as rich markup tags.
    console.print(f"[bold]{escape(t.name)}[/bold] — role {t.role}; {escape(t.description)}")
    console.print(f"instruction: {t.instruction!r}", markup=False)
    console.print(f"properties:  {', '.join(t.properties)}")
    console.print(f"compliance:  {', '.join(t.compliance)}")
    console.print(f"items:       train {len(t.items('train'))}, val {len(t.items('val'))}")
    for it in items[:limit]:
        target = f"  target={it.target!r}" if it.target else ""
        console.print(f"- [{it.id}] {it.text!r}{target}", markup=False)


@cli.group()
def properties() -> None:
    """Behaviour properties of object-level answers."""


@properties.command("list")
def properties_list() -> None:
    """List properties: reporting group, answer format, values."""
    from inward import properties as P

    table = Table("property", "group", "label", "answer format", "values", "notes")
    for name in P.names():
        p = P.get(name)
        notes = ", ".join(
            x for x, on in (("needs target", p.needs_target), ("training only", p.training_only)) if on
        )
        values = "/".join(p.values) if p.values else "open"
        table.add_row(p.name, p.group, p.label, p.answer_format, values, notes)
    console.print(table)


@cli.group()
def prompts() -> None:
    """Prompt templates."""


@prompts.command("show")
@click.argument("task")
@click.option("-p", "--property", "prop", help="Also render the hypothetical prompt for this property.")
@click.option("--template", default="inward-v1", show_default=True, help="Prompt template family.")
@click.option(
    "--release",
    type=click.Path(exists=True, path_type=Path),
    help="Derive the template from paper release files.",
)
@click.option("--split", type=click.Choice(["train", "val"]), default="val", show_default=True)
@click.option(
    "--index", type=click.IntRange(min=0), default=0, show_default=True, help="Which item to render."
)
def prompts_show(
    task: str, prop: str | None, template: str, release: Path | None, split: str, index: int
) -> None:
    """Render an example object-level (and hypothetical) prompt for a task."""
    from inward import prompts as PR
    from inward import tasks as T

    t = T.get(task)
    tpl = _template(template, release)
    items = t.items(split)  # type: ignore[arg-type]
    if not items:
        raise click.ClickException(f"task {task} has no {split} items")
    item = items[index % len(items)]
    # escape: "[name hash]" would otherwise be read as a rich markup tag and vanish.
    console.rule(escape(f"object-level  [{tpl.name} {tpl.hash(t)}]"))
    # soft_wrap: print each prompt exactly as sent, never re-wrapped to the terminal width.
    for m in tpl.object_messages(t, item):
        console.print(f"{m['role']}:", m["content"], markup=False, soft_wrap=True)
    for p in [prop] if prop else []:
        console.rule(escape(f"hypothetical: {p}  [{tpl.name} {tpl.hash(t, p)}]"))
        for m in tpl.hypothetical_messages(t, item, p):
            console.print(f"{m['role']}:", m["content"], markup=False, soft_wrap=True)
    del PR


def _template(name: str, release: Path | None):  # type: ignore[no-untyped-def]
    from inward import prompts as PR

    if release is None:
        return PR.get(name)
    from inward.tasks.paper import load_release

    rows, problems = load_release(release)
    for p in problems:
        console.print(f"[yellow]skipped[/yellow] {p}")
    if not rows and problems:
        raise UserError(
            f"no usable rows in {release}: all {len(problems)} were skipped (first: {problems[0]}); "
            "fix them or pass another --release"
        )
    return PR.template_from_release(rows)


@cli.group()
def data() -> None:
    """The paper's data files."""


@data.command("check")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def data_check(state: AppState, directory: Path) -> None:
    """Validate a folder of train_<name>.jsonl / val_<name>.jsonl files; report bad rows by line number."""
    from inward.tasks.paper import check_dir

    report = check_dir(directory)
    console.print(report.render(), markup=False)
    if not report.ok:
        # The report above lists every problem; stderr gets the one line that says what to do.
        errors = sum(p.severity == "error" for p in report.all_problems())
        click.echo(
            f"error: {errors} problem(s) in {report.directory}; fix what is listed above and re-run", err=True
        )
        raise SystemExit(1)
