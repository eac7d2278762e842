"""`inward store ...` and `inward export ...`: look into, prune and export the workspace's store.

    inward store ls                          # models, trained models, runs, rows per table, sizes on disk
    inward store show local/qwen2.5-0.5b     # one model: identity, rows by task/split/property/template/config
    inward store rm demo                     # a run (id or name) or a model; prints the plan, asks first
    inward export object -m local/qwen2.5-0.5b -o m1.parquet
    inward export training --data runs/demo/data/m1-self.jsonl -o m1-self --format datasets

The work is done by `Store.summary()`, `Store.model_summary()`, `Store.plan_removal()`/`Store.remove()` and
`inward.store.export`; these commands parse, call them and print.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from inward.cli._app import AppState, cli, console, split_csv


def human_bytes(n: int) -> str:
    """1536 → '1.5 KB'."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


@cli.group("store")
def store_group() -> None:
    """List, show and remove what the workspace's store holds."""


@store_group.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def ls_cmd(state: AppState, as_json: bool) -> None:
    """The workspace's models, trained models, runs, rows per table and sizes on disk."""
    from inward.store._inventory import folder_bytes

    with state.store() as store:
        s = store.summary()
    if as_json:
        click.echo(json.dumps(_jsonable(asdict(s)), indent=2))
        return
    console.print(f"store {s.workspace / 'inward.db'}")
    t = Table(title="models (behaviour by identity)")
    t.add_column("label", overflow="fold")  # folded, never cut: labels are what `store show` takes
    for col in ("identity key", "kind", "object", "hypothetical", "distributions"):
        t.add_column(col, justify="right" if col in ("object", "hypothetical", "distributions") else "left")
    for m in s.models:
        kind = m.kind
        label = "\n".join(m.labels)
        t.add_row(
            label,
            m.key,
            kind,
            str(m.rows["object_rows"]),
            str(m.rows["hypothetical_rows"]),
            str(m.rows["distributions"]),
        )
    console.print(t if s.models else "models: none")
    if s.trained:
        t = Table(title="trained models")
        for col in ("name", "base", "kind", "status", "where"):
            t.add_column(col)
        for r in s.trained:
            t.add_row(r.name, r.base_ref, r.kind, r.status, r.path or r.remote_id or "")
        console.print(t)
    if s.runs:
        t = Table(title="runs")
        for col in ("name", "run id", "kind", "status", "started", "finished", "steps", "folder"):
            t.add_column(col, justify="right" if col in ("steps", "folder") else "left")
        for r in s.runs:
            folder = human_bytes(r.folder_bytes) if r.folder is not None else "-"
            t.add_row(
                r.name,
                r.run_id,
                r.kind,
                r.status,
                r.created[:19],
                (r.finished or "")[:19],
                str(r.steps),
                folder,
            )
        console.print(t)
    else:
        console.print("runs: none")
    for folder in s.orphan_folders:
        console.print(
            f"run folder without a record: {folder} ({human_bytes(folder_bytes(folder))}); "
            f"`inward store rm {folder.name}` removes it",
            markup=False,
        )
    t = Table(title="tables")
    t.add_column("table")
    t.add_column("rows", justify="right")
    if s.table_bytes is not None:
        t.add_column("size", justify="right")
    for name, n in s.tables.items():
        size = [human_bytes(s.table_bytes.get(name, 0))] if s.table_bytes is not None else []
        t.add_row(name, str(n), *size)
    console.print(t)
    sz = s.sizes
    console.print(
        f"on disk: database {human_bytes(sz['database'])}, runs/ {human_bytes(sz['runs'])}, "
        f"models/ {human_bytes(sz['models'])}; workspace {human_bytes(sz['total'])}"
    )


@store_group.command("show")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def show_cmd(state: AppState, model: str, as_json: bool) -> None:
    """One MODEL (identity key or prefix, label, or trained model name): rows by task, split, property,
    template hash and config, its provenance and the runs that used it."""
    with state.store() as store:
        m = store.model_summary(model)
    if as_json:
        click.echo(json.dumps(_jsonable(asdict(m)), indent=2))
        return
    e = m.entry
    console.print(f"model {e.key}")
    console.print(f"  labels: {', '.join(e.labels)}")
    console.print(
        f"  kind: {e.kind}" + (f" (adapter {e.adapter} on {e.base})" if e.kind == "adapter" else "")
    )
    rows = ", ".join(f"{n} {t}" for t, n in e.rows.items())
    console.print(f"  rows: {rows}; cached calls under its labels: {m.calls}")
    if m.registered is not None:
        r = m.registered
        console.print(
            f"  trained model {r.name}: {r.kind} on {r.base_ref}, {r.status}, at {r.path or r.remote_id}"
        )
        prov = ", ".join(f"{k}={v}" for k, v in sorted(r.provenance.items()) if not isinstance(v, dict))
        if prov:
            console.print(f"  provenance: {prov}")
        if r.config:
            console.print(f"  training config: {json.dumps(dict(r.config), sort_keys=True, default=str)}")
    t = Table(title="rows")
    for col in ("table", "task", "split/level", "property", "template", "config", "rows"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for c in m.counts:
        config = c["config"] or c["config_key"]
        t.add_row(
            c["table"], c["task"], c["split"] or c["level"] or "", c["property"] or "", c["template_hash"],
            config, str(c["rows"]),
        )  # fmt: skip
    console.print(t)
    if m.runs:
        console.print("used by runs: " + ", ".join(f"{r.name} ({r.run_id}, {r.status})" for r in m.runs))
    else:
        console.print("used by runs: none (written by commands outside runs)")


@store_group.command("rm")
@click.argument("target")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--kind",
    type=click.Choice(["auto", "run", "model"]),
    default="auto",
    show_default=True,
    help="Whether TARGET is a run or a model (auto: a run when one has that id or name).",
)
@click.pass_obj
def rm_cmd(state: AppState, target: str, yes: bool, kind: str) -> None:
    """Remove a RUN (id or name: its records, folder and the trained models only it owns) or a MODEL's
    behaviour rows (never another model's). Prints exactly what will go, then asks."""
    from inward.store import _remove

    with state.store() as store:
        if kind == "run":
            plan = _remove.plan_run_removal(store, target)
        elif kind == "model":
            plan = _remove.plan_model_removal(store, target)
        else:
            plan = store.plan_removal(target)
        for line in plan.lines():
            console.print(line, markup=False)
        if plan.empty:
            return
        if not yes and not click.confirm("remove all of this?", default=False):
            console.print("nothing removed")
            return
        removed = store.remove(plan)
    total = sum(removed.values())
    parts = ", ".join(f"{n} {table}" for table, n in removed.items() if n)
    console.print(
        f"removed {total} rows"
        + (f" ({parts})" if parts else "")
        + (f" and {len(plan.folders)} folder(s)" if plan.folders else "")
    )


@cli.command("export")
@click.argument("table")
@click.option(
    "-o", "--out", "out", required=True, type=click.Path(path_type=Path), help="File or folder to write."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "datasets"]),
    help="Default: from OUT's suffix (.csv, .parquet); datasets writes a Dataset.save_to_disk folder.",
)
@click.option(
    "-m", "--model", help="Only this model's rows (key, label or trained name); scored: the object model."
)
@click.option("-t", "--tasks", "tasks", multiple=True, help="Only these tasks (comma-separated or repeated).")
@click.option("--split", "splits", multiple=True, help="Only these splits (scored: one, default val).")
@click.option(
    "--hypothetical-model", "--meta-model", "hyp", help="scored: whose hypotheticals (default MODEL)."
)
@click.option("--object-config", "object_config", help="scored: the object config (default auto).")
@click.option("--template", default="inward-v1", show_default=True, help="scored: the prompt template.")
@click.option("--data", type=click.Path(path_type=Path), help="training: the chat-JSONL file to export.")
@click.pass_obj
def export_cmd(
    state: AppState,
    table: str,
    out: Path,
    fmt: str | None,
    model: str | None,
    tasks: tuple[str, ...],
    splits: tuple[str, ...],
    hyp: str | None,
    object_config: str | None,
    template: str,
    data: Path | None,
) -> None:
    """Export TABLE to CSV, Parquet or a Hugging Face datasets folder. TABLE: object, hypothetical (meta),
    distributions, scored (behaviour joined with hypotheticals, as `inward score` computes) or training."""
    from inward.errors import UserError
    from inward.store import export

    name = export.table_name(table)
    if name == "training":
        if data is None:
            raise UserError(
                "the training table is a file: pass --data FILE.jsonl (from `inward dataset build`)"
            )
        res = export.export_training(data, out, format=fmt)
    else:
        if data is not None:
            raise UserError(f"--data is for the training table, not {name}")
        with state.store() as store:
            res = export.export_table(
                store,
                name,
                out,
                format=fmt,
                model=model,
                task=split_csv(tasks) or None,
                split=split_csv(splits) or None,
                hypothetical_model=hyp,
                object_config=object_config,
                template=template,
            )
    console.print(
        f"exported {res.rows} {res.table} rows ({len(res.columns)} columns) as {res.format} to {res.path}"
    )
