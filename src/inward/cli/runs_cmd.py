"""`inward object | meta | score`: behaviour, hypotheticals and self/cross-prediction accuracy."""

from __future__ import annotations

import json

import click

from inward.cli._app import AppState, cli, console, split_csv

_TASKS = click.option(
    "-t",
    "--tasks",
    "tasks",
    multiple=True,
    help="Tasks (comma-separated or repeated); default: all held-out tasks.",
)
_SPLIT = click.option("--split", type=click.Choice(["train", "val"]), default="val", show_default=True)
_LIMIT = click.option("--limit", type=int, help="At most this many items per task.")
_TEMPLATE = click.option("--template", default="inward-v1", show_default=True, help="Prompt template family.")


def _task_names(tasks: tuple[str, ...]) -> list[str]:
    from inward import tasks as T

    names = split_csv(tasks)
    return [T.get(n).name for n in names] if names else list(T.HELD_OUT_TASKS)


def _backend(state: AppState, model: str, batch_size: int | None, device: str | None):  # type: ignore[no-untyped-def]
    from inward.backends import make_backend
    from inward.runs.adapters import adapter_resolver

    store = state.store()
    opts = {k: v for k, v in {"batch_size": batch_size, "device": device}.items() if v is not None}
    return store, make_backend(model, adapter_path=adapter_resolver(store), **opts)


def _config(base, samples: int, temperature: float | None, max_tokens: int | None, seed: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    t = temperature if temperature is not None else (1.0 if samples > 1 else base.temperature)
    return replace(base, n=samples, temperature=t, max_tokens=max_tokens or base.max_tokens, seed=seed)


def _engine_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--batch-size", type=int, help="Local backend batch size.")(f)
    f = click.option("--device", help="Local backend device: cpu, cuda, auto.")(f)
    f = click.option(
        "--samples", default=1, show_default=True, help="Samples per prompt (distribution runs)."
    )(f)
    f = click.option(
        "--temperature", type=float, help="Sampling temperature (default 0, or 1 with --samples>1)."
    )(f)
    f = click.option("--max-tokens", type=int, help="Answer token cap.")(f)
    f = click.option("--seed", default=0, show_default=True)(f)
    f = click.option(
        "--exact", is_flag=True, help="Also compute exact answer distributions (local backend)."
    )(f)
    return f


@cli.command("object")
@click.option("-m", "--model", required=True, help="Model ref, e.g. local/qwen2.5-0.5b.")
@_TASKS
@_SPLIT
@_LIMIT
@_TEMPLATE
@click.option(
    "--no-early-stop", is_flag=True, help="Generate whole answers even when the properties are fixed."
)
@_engine_options
@click.pass_obj
def object_cmd(
    state: AppState,
    model: str,
    tasks,
    split,
    limit,
    template,
    no_early_stop,
    batch_size,
    device,
    samples,
    temperature,
    max_tokens,
    seed,
    exact,
) -> None:  # type: ignore[no-untyped-def]
    """Run the object-level task prompts and store the model's behaviour."""
    from inward import prompts as PR
    from inward.runs import OBJECT_CONFIG, run_object, run_object_distributions

    store, backend = _backend(state, model, batch_size, device)
    names = _task_names(tasks)
    tpl = PR.get(template)
    cfg = _config(OBJECT_CONFIG, samples, temperature, max_tokens, seed)
    res = run_object(
        store,
        backend,
        tasks=names,
        split=split,
        limit=limit,
        template=tpl,
        config=cfg,
        early_stop=not no_early_stop,
    )
    console.print(f"object-level: {res.new_rows} new, {res.existing_rows} already stored → {state.workspace}")
    if exact:
        n = run_object_distributions(store, backend, tasks=names, split=split, limit=limit, template=tpl)
        console.print(f"exact distributions: {n} new")


@cli.command("meta")
@click.option("-m", "--model", required=True, help="The model answering the hypotheticals.")
@click.option(
    "--about", help="Whose object-level behaviour the questions are about (default: the same model)."
)
@_TASKS
@click.option(
    "-p",
    "--properties",
    "props",
    multiple=True,
    help="Properties (default: every non-training property of each task).",
)
@_SPLIT
@_LIMIT
@_TEMPLATE
@_engine_options
@click.pass_obj
def meta_cmd(
    state: AppState,
    model,
    about,
    tasks,
    props,
    split,
    limit,
    template,
    batch_size,
    device,
    samples,
    temperature,
    max_tokens,
    seed,
    exact,
) -> None:  # type: ignore[no-untyped-def]
    """Ask hypothetical questions (only for items whose object-level answer was compliant)."""
    from inward import prompts as PR
    from inward.runs import META_CONFIG, run_meta, run_meta_distributions

    store, backend = _backend(state, model, batch_size, device)
    names = _task_names(tasks)
    tpl = PR.get(template)
    cfg = _config(META_CONFIG, samples, temperature, max_tokens, seed)
    res = run_meta(
        store,
        backend,
        tasks=names,
        properties=split_csv(props) or None,
        about=about,
        split=split,
        limit=limit,
        template=tpl,
        config=cfg,
    )
    console.print(f"hypothetical: {res.new_rows} new, {res.existing_rows} already stored → {state.workspace}")
    if exact:
        n = run_meta_distributions(
            store,
            backend,
            tasks=names,
            properties=split_csv(props) or None,
            about=about,
            split=split,
            limit=limit,
            template=tpl,
        )
        console.print(f"exact distributions: {n} new")


@cli.command("score")
@click.option("--object", "object_model", required=True, help="Whose behaviour is the ground truth.")
@click.option("--meta", "meta_model", required=True, help="Whose hypothetical answers are scored.")
@_TASKS
@click.option("-p", "--properties", "props", multiple=True)
@_SPLIT
@_TEMPLATE
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def score_cmd(state: AppState, object_model, meta_model, tasks, props, split, template, as_json) -> None:  # type: ignore[no-untyped-def]
    """Accuracy of META's hypotheticals against OBJECT's behaviour, per property and micro-averaged."""
    from inward import prompts as PR
    from inward.runs import score

    res = score(
        state.store(),
        object_model=object_model,
        meta_model=meta_model,
        tasks=_task_names(tasks),
        properties=split_csv(props) or None,
        split=split,
        template=PR.get(template),
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2, default=str))
    else:
        res.print(console)


@cli.command("demo")
@click.option("--quick", is_flag=True, help="A first look in under 5 minutes.")
@click.option("--profile", type=click.Choice(["cpu", "paper"]), default="cpu", show_default=True)
@click.pass_obj
def demo_cmd(state: AppState, quick: bool, profile: str) -> None:
    """Run all four experiments offline on the bundled models and write the report."""
    from inward.experiments.demo import run_demo

    run_demo(state.workspace, quick=quick, profile=profile, console=console)
