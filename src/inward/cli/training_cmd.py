"""`inward dataset build self|cross|shift`, `inward dataset stats`, `inward train`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from inward.cli._app import AppState, cli, console, split_csv


@cli.group()
def dataset() -> None:
    """Training sets: self-prediction, cross-prediction, behaviour shift (OpenAI chat JSONL + manifest)."""


def _backend(state: AppState, ref: str):  # type: ignore[no-untyped-def]
    from inward.backends import make_backend
    from inward.runs.adapters import adapter_resolver

    store = state.store()
    return store, make_backend(ref, adapter_path=adapter_resolver(store))


@dataset.command("build")
@click.argument("kind", type=click.Choice(["self", "cross", "shift"]))
@click.option("-m", "--model", help="self: whose behaviour; shift: the model to shift (self-distilled rows).")
@click.option(
    "--behaviour-of", help="cross: the model whose behaviour labels the pairs (the self-trained M1)."
)
@click.option(
    "--like",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="cross: M1's self set (composition to copy).",
)
@click.option("--from", "source", help="shift: whose answers to train on.")
@click.option(
    "-t", "--tasks", multiple=True, help="Tasks (default: training tasks; held-out tasks for shift)."
)
@click.option("-p", "--properties", "props", multiple=True, help="self: restrict properties.")
@click.option("--per-combo", default=1000, show_default=True, help="self: pairs per (task, property).")
@click.option("--items-per-task", type=int, help="self: train items run per task (default: --per-combo).")
@click.option("--rows", default=300, show_default=True, help="shift: rows from the source model.")
@click.option(
    "--self-distill", default=0.5, show_default=True, help="shift: share of the model's own answers mixed in."
)
@click.option(
    "--keep-same",
    is_flag=True,
    help="shift: keep source answers that equal the model's own (they shift nothing; skipped by default).",
)
@click.option("--val-fraction", default=0.05, show_default=True)
@click.option("--no-dedup", is_flag=True, help="self: keep repeated (item, property) pairs.")
@click.option("--seed", default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def dataset_build(
    state: AppState,
    kind,
    model,
    behaviour_of,
    like,
    source,
    tasks,
    props,
    per_combo,
    items_per_task,
    rows,
    self_distill,
    keep_same,
    val_fraction,
    no_dedup,
    seed,
    out,
) -> None:  # type: ignore[no-untyped-def]
    """Build a training set from behaviour in the store (running the object level where it is missing)."""
    from inward.training import datasets as D

    if kind == "self":
        if not model:
            raise click.UsageError("self needs -m MODEL")
        store, b = _backend(state, model)
        path, val = D.build_self(
            store,
            b,
            out,
            tasks=split_csv(tasks) or None,
            properties=split_csv(props) or None,
            per_combo=per_combo,
            items_per_task=items_per_task,
            val_fraction=val_fraction,
            dedup=not no_dedup,
            seed=seed,
        )
        console.print(f"wrote {path}" + (f" and {val}" if val else ""))
    elif kind == "cross":
        if not behaviour_of or not like:
            raise click.UsageError("cross needs --behaviour-of M1 and --like M1_SELF_SET.jsonl")
        store, b = _backend(state, behaviour_of)
        console.print(f"wrote {D.build_cross(store, b, like, out)}")
    else:
        if not model or not source:
            raise click.UsageError("shift needs -m MODEL and --from OTHER")
        store, target = _backend(state, model)
        _, src = _backend(state, source)
        path = D.build_shift(
            store,
            target,
            src,
            out,
            tasks=split_csv(tasks) or None,
            n=rows,
            self_distill_fraction=self_distill,
            keep_same=keep_same,
            seed=seed,
        )
        console.print(f"wrote {path}")


@dataset.command("stats")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def dataset_stats(file: Path) -> None:
    """Show a training set's composition and manifest."""
    from inward.training import datasets as D

    rows, manifest = D.read_dataset(file)
    comp = D.composition(rows)
    table = Table("task / property", "rows", title=f"{file.name}: {len(rows)} rows")
    for k, v in comp.items():
        table.add_row(k, str(v))
    console.print(table)
    per_task = manifest.get("per_task")
    if per_task:  # shift sets: where the rows came from, per task
        shift = Table(
            "task",
            "source rows",
            "self rows",
            "skipped: same as target",
            "prompts examined",
            title="shift rows",
        )
        for task, c in per_task.items():
            shift.add_row(
                task, *(str(c.get(k, "")) for k in ("source", "self", "same_as_target", "examined"))
            )
        console.print(shift)
    keys = ("kind", "source_model", "target_model", "per_combo", "self_distill_fraction", "keep_same", "seed")
    for key in (*keys, "template", "sources"):
        if key in manifest:
            console.print(f"{key}: {manifest[key]}")


@cli.command("train")
@click.option(
    "-m",
    "--model",
    "base",
    required=True,
    help="Base model ref (local/NAME or hf/PATH; openai/MODEL with --backend openai).",
)
@click.option(
    "--data", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Chat JSONL."
)
@click.option("--out", "name", required=True, help="Name of the trained model; use it as BASE+adapter=NAME.")
@click.option("--backend", type=click.Choice(["local", "openai"]), default="local", show_default=True)
@click.option("--val-data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--epochs", type=int, default=1, show_default=True)
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--grad-accum", type=int, default=1, show_default=True)
@click.option("--rank", type=int, default=8, show_default=True)
@click.option("--alpha", type=float, default=16, show_default=True)
@click.option("--target-modules", default="q_proj,k_proj,v_proj,o_proj", show_default=True)
@click.option("--checkpoint-every", type=int, default=10, show_default=True)
@click.option("--init-adapter", help="Continue training this adapter (a registered name or a folder).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.pass_obj
def train_cmd(
    state: AppState,
    base,
    data,
    name,
    backend,
    val_data,
    lr,
    epochs,
    batch_size,
    grad_accum,
    rank,
    alpha,
    target_modules,
    checkpoint_every,
    init_adapter,
    seed,
) -> None:  # type: ignore[no-untyped-def]
    """Fine-tune BASE on a chat-JSONL file (LoRA locally, or the OpenAI fine-tuning API). Resumable."""
    store = state.store()
    if backend == "openai":
        from inward.training.openai_ft import OpenAIFineTuner

        rec = OpenAIFineTuner().fit(data, base, None, name=name, out_dir=state.workspace / "models" / name)
        from inward.store import ModelRecord

        store.register_model(ModelRecord(**rec.record_fields()))
        console.print(f"trained {rec.ref}")
        return
    from inward.runs.adapters import train_and_register

    plan = {
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "grad_accum": grad_accum,
        "rank": rank,
        "alpha": alpha,
        "target_modules": tuple(split_csv((target_modules,))),
        "checkpoint_every": checkpoint_every,
    }
    out = train_and_register(
        store,
        name=name,
        base=base,
        data=data,
        plan=plan,
        seed=seed,
        init_adapter=init_adapter,
        val_data=val_data,
    )
    console.print(
        f"trained [bold]{out['ref']}[/bold]: {out['n_train']} examples, {out['steps']} steps, "
        f"{out['examples_per_s']} examples/s, val loss {out['val_loss_before']} → {out['val_loss_after']}"
        + (
            f" (resumed from the step-{out['resumed_from_step']} checkpoint)"
            if out["resumed_from_step"]
            else ""
        )
    )
