"""`inward object | hypothetical | score`: behaviour, hypotheticals and self/cross-prediction accuracy."""

from __future__ import annotations

import copy
import json

import click

from inward.cli._app import AppState, check_model, cli, console, split_csv

_TASKS = click.option(
    "-t",
    "--tasks",
    "tasks",
    multiple=True,
    help="Tasks (comma-separated or repeated); default: all held-out tasks.",
)
_SPLIT = click.option("--split", type=click.Choice(["train", "val"]), default="val", show_default=True)
_LIMIT = click.option("--limit", type=click.IntRange(min=1), help="At most this many items per task.")
_TEMPLATE = click.option("--template", default="inward-v1", show_default=True, help="Prompt template family.")
_OBJECT_CONFIG = click.option(
    "--object-config",
    "object_config",
    default="auto",
    show_default=True,
    help="Whose behaviour rows: the object config name `inward object` printed (e.g. greedy, "
    "greedy,max_tokens=100, t=1,samples=5,seed=1); auto = greedy, with mode_of=5 for API models.",
)


def _task_names(tasks: tuple[str, ...]) -> list[str]:
    from inward import tasks as T

    names = split_csv(tasks)
    return [T.get(n).name for n in names] if names else list(T.HELD_OUT_TASKS)


def _model(state: AppState, model: str, batch_size: int | None, device: str | None):  # type: ignore[no-untyped-def]
    from inward import get_model

    opts = {k: v for k, v in {"batch_size": batch_size, "device": device}.items() if v is not None}
    return get_model(model, workspace=state.api_workspace(), **opts)


def _object_config(model: str, name: str | None, samples: int, temperature, max_tokens, seed: int, mode_of):  # type: ignore[no-untyped-def]
    """`--object-config NAME`, else the decoding flags, else "auto" for `model`."""
    from inward.runs.configs import GREEDY, ObjectConfig, decoded_config, object_config_for

    flags = (
        samples != 1 or temperature is not None or max_tokens is not None or seed != 0 or mode_of is not None
    )
    if name not in (None, "auto"):
        if flags:
            raise click.UsageError("give --object-config or the decoding flags, not both")
        return ObjectConfig.parse(name)
    if not flags:
        return object_config_for(model)
    t = temperature if temperature is not None else (1.0 if samples > 1 else 0.0)
    return decoded_config(
        model,
        temperature=t,
        max_tokens=max_tokens or GREEDY.max_tokens,
        samples=samples,
        seed=seed,
        mode_of=mode_of,
    )


def _config(base, samples: int, temperature: float | None, max_tokens: int | None, seed: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    t = temperature if temperature is not None else (1.0 if samples > 1 else base.temperature)
    return replace(base, n=samples, temperature=t, max_tokens=max_tokens or base.max_tokens, seed=seed)


def _engine_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--batch-size", type=click.IntRange(min=1), help="Local backend batch size.")(f)
    f = click.option("--device", help="Local backend device: cpu, cuda, auto.")(f)
    f = click.option(
        "--samples",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Samples per prompt (distribution runs).",
    )(f)
    f = click.option(
        "--temperature",
        type=click.FloatRange(min=0),
        help="Sampling temperature (default 0, or 1 with --samples>1).",
    )(f)
    f = click.option("--max-tokens", type=click.IntRange(min=1), help="Answer token cap.")(f)
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
@click.option(
    "--mode-of",
    type=click.IntRange(min=1),
    help="Ask each prompt N times at temperature 0 and keep the most common answer (the paper's API "
    "control; default 5 for API models, 1 for local ones).",
)
@click.option("--object-config", "object_config", help="A named object config instead of the decoding flags.")
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
    mode_of,
    object_config,
    batch_size,
    device,
    samples,
    temperature,
    max_tokens,
    seed,
    exact,
) -> None:  # type: ignore[no-untyped-def]
    """Run the object-level task prompts and store the model's behaviour (under the printed object config)."""
    from inward import object_level

    names = _task_names(tasks)
    cfg = _object_config(model, object_config, samples, temperature, max_tokens, seed, mode_of)
    res = object_level(
        _model(state, model, batch_size, device),
        tasks=names,
        split=split,
        limit=limit,
        template=template,
        config=cfg,
        early_stop=not no_early_stop,
        exact=exact,
    )
    console.print(
        f"object-level: {res.new_rows} new, {res.existing_rows} already stored under object config "
        f"'{cfg.name}' → {state.workspace}"
    )


@cli.command("hypothetical")
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
@_OBJECT_CONFIG
@click.option(
    "--paper-code",
    is_flag=True,
    help="Also ask about compliant answers whose property is undefined (paper-code scoring counts them).",
)
@_engine_options
@click.pass_obj
def hypothetical_cmd(
    state: AppState,
    model,
    about,
    tasks,
    props,
    split,
    limit,
    template,
    object_config,
    paper_code,
    batch_size,
    device,
    samples,
    temperature,
    max_tokens,
    seed,
    exact,
) -> None:  # type: ignore[no-untyped-def]
    """Ask hypothetical questions (only for items whose object-level answer was compliant). The decoding
    flags set the hypothetical answers' decoding; --object-config names whose behaviour they are about.
    `inward meta` is the same command (its old name)."""
    from inward import hypothetical
    from inward.runs import HYPOTHETICAL_CONFIG

    names = _task_names(tasks)
    if about is not None:  # checked before the backend: a bad --about must not cost a model load
        check_model(state.store(), about)
    res = hypothetical(
        _model(state, model, batch_size, device),
        about=about,
        tasks=names,
        properties=split_csv(props) or None,
        split=split,
        limit=limit,
        template=template,
        object_config=object_config,
        paper_code=paper_code,
        exact=exact,
        config=_config(HYPOTHETICAL_CONFIG, samples, temperature, max_tokens, seed),
    )
    console.print(f"hypothetical: {res.new_rows} new, {res.existing_rows} already stored → {state.workspace}")


_hypothetical_alias = copy.copy(hypothetical_cmd)
_hypothetical_alias.hidden = True
cli.add_command(_hypothetical_alias, "meta")


@cli.command("score")
@click.option("--object", "object_model", required=True, help="Whose behaviour is the ground truth.")
@click.option(
    "--hypothetical",
    "--meta",
    "hypothetical_model",
    required=True,
    help="Whose hypothetical answers are scored (--meta: the old name).",
)
@_TASKS
@click.option("-p", "--properties", "props", multiple=True)
@_SPLIT
@_TEMPLATE
@_OBJECT_CONFIG
@click.option(
    "--paper-code",
    is_flag=True,
    help="Score as the paper's official code did where inward deliberately differs (docs/paper-code.md).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def score_cmd(
    state: AppState,
    object_model,
    hypothetical_model,
    tasks,
    props,
    split,
    template,
    object_config,
    paper_code,
    as_json,
) -> None:  # type: ignore[no-untyped-def]
    """Accuracy of HYPOTHETICAL's predictions of OBJECT's behaviour, per property and micro-averaged."""
    from inward import score

    res = score(
        object=object_model,
        hypothetical=hypothetical_model,
        tasks=_task_names(tasks),
        properties=split_csv(props) or None,
        split=split,
        template=template,
        object_config=object_config,
        paper_code=paper_code,
        workspace=state.api_workspace(),
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2, default=str))
    else:
        res.print(console)


@cli.command("demo")
@click.option("--quick", is_flag=True, help="A first look in under 5 minutes.")
@click.option(
    "--profile",
    type=click.Choice(["cpu", "controls", "paper"]),
    default="cpu",
    show_default=True,
    help="cpu: the four experiments and the cheap controls; controls: also every training-heavy control "
    "(reuses what `inward demo` computed); paper: the paper's sizes, for a GPU.",
)
@click.option(
    "--seeds", "seeds_opt", default=None, help="Training seeds, e.g. 0,1,2 (default: the profile's)."
)
@click.option(
    "--plan", "plan_only", is_flag=True, help="Print the plan (rows, detectable effects, time) and stop."
)
@click.pass_obj
def demo_cmd(state: AppState, quick: bool, profile: str, seeds_opt: str | None, plan_only: bool) -> None:
    """Run the paper's four experiments and the controls offline on the bundled models; write the report."""
    from inward import demo
    from inward.cli.experiments_cmd import parse_seeds
    from inward.experiments.demo import run_demo

    seeds = parse_seeds(seeds_opt)
    if plan_only:
        run_demo(
            state.ensure_workspace(),
            quick=quick,
            profile=profile,
            console=console,
            seeds=seeds,
            plan_only=True,
        )
        return
    demo(profile, quick=quick, seeds=seeds, workspace=state.api_workspace(), console=console)
