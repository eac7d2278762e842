"""Run an experiment file end to end: pipeline → results.json → report → markdown summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inward.experiments.config import ExperimentConfig
from inward.experiments.pipeline import Pipeline


def run_experiment(
    cfg: ExperimentConfig,
    workspace: Path,
    *,
    console: Any = None,
    extra_timings: dict[str, float] | None = None,
    models: Any = None,
) -> Path:
    """Returns the report folder. Timings go to timings.json, not results.json, so that results.json of an
    interrupted-and-resumed run is byte-identical to an uninterrupted one. `models`: see `Pipeline`."""
    pipe = Pipeline(cfg, workspace, console=console, models=models)
    results = pipe.run()
    run_dir = pipe.run_dir
    results.save(run_dir / "results.json")
    pipe.save_timings(extra_timings)
    pipe.store.finish_run(pipe.run_id)
    return render(run_dir, console=console)


def run_dir_timings(run_dir: Path) -> dict[str, Any]:
    p = run_dir / "timings.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def with_timings(results: Any, timings: dict[str, Any]) -> Any:
    """Wall-clock figures (kept out of results.json) put back into the training stats for the report."""
    training = timings.get("training", {})

    def fill(stats: Any, ref: str | None) -> None:
        adapter = ref.rpartition("+adapter=")[2] if ref and "+adapter=" in ref else None
        if stats is not None and adapter in training:
            stats.wall_s = training[adapter]["wall_s"]
            stats.examples_per_s = training[adapter]["examples_per_s"]

    if results.self_training:
        for m in results.self_training.models:
            fill(m.train, m.trained_model)
    if results.cross_prediction:
        for t in results.cross_prediction.targets:
            for c in t.cross:
                fill(c.train, c.model)
    if results.behaviour_change:
        fill(results.behaviour_change.train, results.behaviour_change.new_ref)
    if "wall_s" in timings:
        results.run.wall_s = timings["wall_s"]
        est = timings.get("steps_s", {}).get("estimated_s")
        if est:
            results.run.notes.append(
                f"Estimated before the run from per-row costs measured on this machine: {est / 60:.0f} min; "
                f"took {timings['wall_s'] / 60:.0f} min."
            )
        if timings.get("calls", 1) > 1:
            results.run.notes.append(
                f"Run in {timings['calls']} calls (resumed after an interruption, or run again): the wall time "
                "is the sum over them (a killed call counts up to its last finished step)."
            )
    return results


def render(run_dir: Path, *, console: Any = None) -> Path:
    """(Re)write the report of a finished run from its results.json; prints the markdown summary."""
    from inward.report import Results, markdown_summary, write_report

    results = with_timings(Results.load(run_dir / "results.json"), run_dir_timings(run_dir))
    index = write_report(results, run_dir / "report")
    if console is not None:
        from rich.markdown import Markdown

        console.print(Markdown(markdown_summary(results)))
        console.print(f"report: {index}")
    return index
