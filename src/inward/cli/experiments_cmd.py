"""`inward run EXPERIMENT.yaml` and `inward report RUN`."""

from __future__ import annotations

from pathlib import Path

import click

from inward.cli._app import AppState, cli, console


@cli.command("run")
@click.argument("experiment", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def run_cmd(state: AppState, experiment: Path) -> None:
    """Run the experiments of a YAML file; re-running after an interruption continues where it stopped."""
    from inward.experiments.config import load_config
    from inward.experiments.runner import run_experiment

    cfg = load_config(experiment)
    run_experiment(cfg, state.ensure_workspace(), console=console)


@cli.command("report")
@click.argument("run", type=str)
@click.pass_obj
def report_cmd(state: AppState, run: str) -> None:
    """(Re)write the HTML report of RUN (a run name in the workspace, or a folder with results.json)."""
    from inward.errors import UserError
    from inward.experiments.runner import render

    run_dir = Path(run) if Path(run, "results.json").is_file() else state.workspace / "runs" / run
    if not (run_dir / "results.json").is_file():
        raise UserError(
            f"no results.json for run {run!r} (looked in {run_dir}); run `inward run EXPERIMENT.yaml` first"
        )
    render(run_dir, console=console)
