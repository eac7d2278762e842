"""Run an experiment file end to end: pipeline → results.json → report → markdown summary."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from inward.experiments.config import ExperimentConfig
from inward.experiments.pipeline import Pipeline


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def run_experiment(cfg: ExperimentConfig, workspace: Path, *, console: Any = None, extra_timings: dict[str, float] | None = None) -> Path:
    """Returns the report folder. Timings go to timings.json, not results.json, so that results.json of an
    interrupted-and-resumed run is byte-identical to an uninterrupted one."""
    t0 = time.perf_counter()
    pipe = Pipeline(cfg, workspace, console=console)
    results = pipe.run()
    timings = {**(extra_timings or {}), **pipe.timings, "wall_s": round(time.perf_counter() - t0, 1)}
    run_dir = pipe.run_dir
    results.save(run_dir / "results.json")
    write_json_atomic(run_dir / "timings.json", timings)
    pipe.store.finish_run(pipe.run_id)
    return render(run_dir, console=console)


def render(run_dir: Path, *, console: Any = None) -> Path:
    """(Re)write the report of a finished run from its results.json; prints the markdown summary."""
    from inward.report import Results, markdown_summary, write_report

    results = Results.load(run_dir / "results.json")
    index = write_report(results, run_dir / "report")
    if console is not None:
        from rich.markdown import Markdown

        console.print(Markdown(markdown_summary(results)))
        console.print(f"report: {index}")
    return index
