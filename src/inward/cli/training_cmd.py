"""`inward dataset build self|cross|shift`, `inward dataset stats`, `inward train`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from inward.cli._app import AppState, check_model, cli, console, split_csv
from inward.errors import UserError

_COUNT = click.IntRange(min=1)
_FRACTION = click.FloatRange(min=0, max=1, max_open=True)
_POSITIVE = click.FloatRange(min=0, min_open=True)


@cli.group()
def dataset() -> None:
    """Training sets: self-prediction, cross-prediction, behaviour shift (OpenAI chat JSONL + manifest)."""


def _backend(state: AppState, ref: str):  # type: ignore[no-untyped-def]
    from inward.backends import make_backend
    from inward.runs.adapters import adapter_resolver

    store = state.store()
    return store, make_backend(ref, adapter_path=adapter_resolver(store))


def _check_names(tasks: tuple[str, ...], props: tuple[str, ...]) -> None:
    """Unknown task or property names fail before any backend is built."""
    from inward import properties as P
    from inward import tasks as T

    for name in split_csv(tasks):
        T.get(name)
    for name in split_csv(props):
        P.get(name)


def _check_out(out: Path) -> None:
    """The output file's folder must be (or become) a folder: found now, not after the models have run."""
    for parent in out.resolve().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"cannot write {out}: {parent} is not a folder; pick another -o/--out")
            return


def _read_set(file: Path, *, need_ids: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A training set's rows and manifest, validated: a bad row or manifest is one clear UserError."""
    from inward.training.chat_data import load_chat_jsonl
    from inward.training.datasets import manifest_path

    keys = ("task", "property", "item_id") if need_ids else ("task", "property")
    rows: list[dict[str, Any]] = []
    for i, ex in enumerate(load_chat_jsonl(file), start=1):
        tags = ex.extra.get("inward")
        if (tags is None and need_ids) or (
            tags is not None
            and not (isinstance(tags, dict) and all(isinstance(tags.get(k), str) for k in keys))
        ):
            raise UserError(
                f'{file}: example {i}: "inward" must be an object with {", ".join(keys)} '
                "(as `inward dataset build` writes); rebuild the set"
            )
        rows.append(ex.to_json())
    mp = manifest_path(file)
    if not mp.is_file():
        return rows, {}
    try:
        manifest = json.loads(mp.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{mp} is not valid JSON ({e}); rebuild the set or delete the manifest") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{mp} is not a JSON object; rebuild the set or delete the manifest")
    return rows, manifest


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
@click.option(
    "--per-combo", type=_COUNT, default=1000, show_default=True, help="self: pairs per (task, property)."
)
@click.option("--items-per-task", type=_COUNT, help="self: train items run per task (default: --per-combo).")
@click.option(
    "--rows", type=_COUNT, default=300, show_default=True, help="shift: rows from the source model."
)
@click.option(
    "--self-distill",
    type=_FRACTION,
    default=0.5,
    show_default=True,
    help="shift: share of the model's own answers mixed in.",
)
@click.option(
    "--keep-same",
    is_flag=True,
    help="shift: keep source answers that equal the model's own (they shift nothing; skipped by default).",
)
@click.option("--val-fraction", type=_FRACTION, default=0.05, show_default=True)
@click.option("--no-dedup", is_flag=True, help="self: keep repeated (item, property) pairs.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--object-config",
    "object_config",
    default="auto",
    show_default=True,
    help="self/cross: the object config the behaviour is read (or run) under, as `inward object` names it.",
)
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
    object_config,
    out,
) -> None:  # type: ignore[no-untyped-def]
    """Build a training set from behaviour in the store (running the object level where it is missing)."""
    from inward.training import datasets as D

    # Every check runs before the first backend is built (building one may install and load a model).
    _check_names(tasks, props)
    _check_out(out)
    if kind == "self":
        if not model:
            raise click.UsageError("self needs -m MODEL")
        check_model(state.store(), model)
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
            object_config=object_config,
        )
        console.print(f"wrote {path}" + (f" and {val}" if val else ""))
    elif kind == "cross":
        if not behaviour_of or not like:
            raise click.UsageError("cross needs --behaviour-of M1 and --like M1_SELF_SET.jsonl")
        _read_set(like, need_ids=True)
        check_model(state.store(), behaviour_of)
        store, b = _backend(state, behaviour_of)
        console.print(f"wrote {D.build_cross(store, b, like, out, object_config=object_config)}")
    else:
        if not model or not source:
            raise click.UsageError("shift needs -m MODEL and --from OTHER")
        check_model(state.store(), model)
        check_model(state.store(), source)
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

    rows, manifest = _read_set(file)
    comp = D.composition(rows)
    table = Table("task / property", "rows", title=f"{file.name}: {len(rows)} rows")
    for k, v in comp.items():
        table.add_row(k, str(v))
    console.print(table)
    per_task = manifest.get("per_task")
    if isinstance(per_task, dict) and per_task:  # shift sets: where the rows came from, per task
        shift = Table(
            "task",
            "source rows",
            "self rows",
            "skipped: same as target",
            "prompts examined",
            title="shift rows",
        )
        for task, c in per_task.items():
            c = c if isinstance(c, dict) else {}
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
    help="Base model ref (local/NAME or hf/PATH; openai/MODEL with --backend openai; "
    "openai-compatible/MODEL@https://api.together.xyz/v1 with --backend together).",
)
@click.option(
    "--data", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Chat JSONL."
)
@click.option("--out", "name", required=True, help="Name of the trained model; use it as BASE+adapter=NAME.")
@click.option(
    "--backend",
    type=click.Choice(["local", "openai", "together"]),
    default="local",
    show_default=True,
    help="together: a Together LoRA job (the paper's hosted recipe unless --lr/--epochs/--batch-size/"
    "--rank/--alpha are given).",
)
@click.option("--val-data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lr", type=_POSITIVE, default=1e-3, show_default=True)
@click.option("--epochs", type=_COUNT, default=1, show_default=True)
@click.option("--batch-size", type=_COUNT, default=8, show_default=True)
@click.option("--grad-accum", type=_COUNT, default=1, show_default=True)
@click.option("--rank", type=_COUNT, default=8, show_default=True)
@click.option("--alpha", type=_POSITIVE, default=16, show_default=True)
@click.option("--target-modules", default="q_proj,k_proj,v_proj,o_proj", show_default=True)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Save a resumable checkpoint every N optimizer steps (0: never).",
)
@click.option("--init-adapter", help="Continue training this adapter (a registered name or a folder).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--accelerate-config",
    help="Train under `accelerate launch`: ddp, fsdp, zero3 (shipped with inward) or an accelerate YAML path.",
)
@click.option(
    "--num-processes", type=_COUNT, help="Processes for --accelerate-config (default: one per visible GPU)."
)
@click.option(
    "--quantize",
    type=click.Choice(["4bit"]),
    help="QLoRA: load the base in 4-bit NF4 (bitsandbytes, CUDA); the adapter trains on top.",
)
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
    accelerate_config,
    num_processes,
    quantize,
) -> None:  # type: ignore[no-untyped-def]
    """Fine-tune BASE on a chat-JSONL file (LoRA locally, the OpenAI fine-tuning API, or Together). Resumable."""
    from inward.runs.adapters import check_trained_name

    check_trained_name(name)
    if not split_csv((target_modules,)):
        raise click.BadParameter(
            "name at least one layer, e.g. q_proj,v_proj", param_hint="'--target-modules'"
        )
    store = state.store()
    scale = {"accelerate_config": accelerate_config, "num_processes": num_processes, "quantize": quantize}
    scale = {k: v for k, v in scale.items() if v is not None}
    if scale and backend != "local":
        raise click.UsageError("--accelerate-config, --num-processes and --quantize are for --backend local")
    if backend == "together":
        from click.core import ParameterSource

        from inward.store import ModelRecord
        from inward.training.together_ft import TogetherFineTuner, TogetherFTConfig

        ctx = click.get_current_context()
        names = {"lr": "learning_rate", "epochs": "n_epochs", "batch_size": "batch_size", "rank": "lora_r"}
        given = {
            f: ctx.params[o]
            for o, f in names.items()
            if ctx.get_parameter_source(o) is ParameterSource.COMMANDLINE
        }
        if ctx.get_parameter_source("alpha") is ParameterSource.COMMANDLINE:
            given["lora_alpha"] = int(alpha)
        cfg = TogetherFTConfig(**given, seed=seed)
        rec = TogetherFineTuner().fit(
            data, base, cfg, name=name, out_dir=state.workspace / "models" / name, val_data=val_data
        )
        store.register_model(ModelRecord(**rec.record_fields()))
        console.print(f"trained {rec.ref}")
        return
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
        **scale,
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
