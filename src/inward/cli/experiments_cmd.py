"""`inward run EXPERIMENT.yaml` and `inward report RUN`."""

from __future__ import annotations

from pathlib import Path

import click

from inward.cli._app import AppState, cli, console


def parse_seeds(value: str | None) -> tuple[int, ...] | None:
    """`--seeds 0,1,2` (or `0 1 2`) as a tuple; a clear line for anything else."""
    if value is None:
        return None
    parts = [p for p in value.replace(",", " ").split() if p]
    try:
        seeds = tuple(int(p) for p in parts)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give whole numbers, e.g. --seeds 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"{value!r}: give one or more different seeds, e.g. --seeds 0,1,2")
    return seeds


SEEDS_HELP = "Training seeds, e.g. 0,1,2 (overrides the file's seeds)."


def with_seeds(cfg: object, seeds: tuple[int, ...] | None) -> object:
    from inward.experiments.config import ExperimentConfig

    assert isinstance(cfg, ExperimentConfig)
    return (
        cfg
        if seeds is None
        else ExperimentConfig.model_validate({**cfg.model_dump(exclude_unset=True), "seeds": list(seeds)})
    )


@cli.command("run")
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seeds", "seeds_opt", default=None, help=SEEDS_HELP)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (rows, detectable effects; time from costs already measured) and stop; "
    "`inward plan` also measures.",
)
@click.pass_obj
def run_cmd(state: AppState, experiment: Path, seeds_opt: str | None, dry_run: bool) -> None:
    """Run the experiments of a YAML file; re-running after an interruption continues where it stopped."""
    from inward import run
    from inward.experiments.config import load_config

    cfg = with_seeds(load_config(experiment), parse_seeds(seeds_opt))
    if dry_run:
        print_plan(cfg, state.ensure_workspace(), measure=False)
        return
    run(cfg, workspace=state.api_workspace(), console=console)


def print_plan(
    cfg: object,
    workspace: Path,
    *,
    measure: bool,
    gpu: str | None = None,
    gpus: int = 1,
    params: float | None = None,
) -> None:
    from inward.experiments.plan import format_plan, make_plan, measured_costs

    plan = make_plan(cfg, workspace)  # type: ignore[arg-type]
    refs = sorted({s.model for s in plan.steps if s.model})
    costs = measured_costs(refs, measure=measure and gpu is None, console=console)
    for line in format_plan(plan, costs if costs else None):
        console.print(line, markup=False, highlight=False)
    if gpu is not None:
        from inward.experiments.scale import scale_for_plan

        for line in scale_for_plan(plan, gpu=gpu, gpus=gpus, params=params).text():
            console.print(line, markup=False, highlight=False)
    elif not costs:
        console.print(
            "no per-row costs measured on this machine yet: `inward plan FILE` measures them (once)"
        )


@cli.command("plan")
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seeds", "seeds_opt", default=None, help=SEEDS_HELP)
@click.option(
    "--measure/--no-measure",
    default=True,
    show_default=True,
    help="Measure per-row costs on this machine if not cached (about a minute per model, once).",
)
@click.option(
    "--gpu",
    type=click.Choice(["a100", "h100", "h200"]),
    default=None,
    help="Also estimate GPU-hours and storage on this card (from FLOPs and bandwidth; no local measuring).",
)
@click.option("--gpus", type=click.IntRange(min=1), default=1, show_default=True, help="Cards for --gpu.")
@click.option(
    "--params",
    type=float,
    default=None,
    help="Parameter count (e.g. 8e9) of models whose folder has no config.json, for --gpu.",
)
@click.pass_obj
def plan_cmd(
    state: AppState,
    experiment: Path,
    seeds_opt: str | None,
    measure: bool,
    gpu: str | None,
    gpus: int,
    params: float | None,
) -> None:
    """Before anything runs: rows per comparison, the effect each can detect, and the wall time here
    (with --gpu: GPU-hours and storage at scale instead)."""
    from inward.experiments.config import load_config

    cfg = with_seeds(load_config(experiment), parse_seeds(seeds_opt))
    print_plan(cfg, state.ensure_workspace(), measure=measure, gpu=gpu, gpus=gpus, params=params)


@cli.command("report")
@click.argument("run", type=str)
@click.pass_obj
def report_cmd(state: AppState, run: str) -> None:
    """(Re)write the HTML report of RUN (a run name in the workspace, or a folder with results.json)."""
    from inward import render_report

    render_report(run, workspace=state.workspace, console=console)
