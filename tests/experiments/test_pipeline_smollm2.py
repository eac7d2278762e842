"""`inward run` end to end on real SmolLM2 (as M1 and M2) at toy sizes: all four experiments, the report, and
an interrupted-and-resumed run that must give a byte-identical results.json.

The interruption is raised inside a pipeline step (the step is marked running, never done), which is what a
Ctrl-C does; `scripts/check_resume.py` does the same with SIGKILL at random moments in a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TOY = {
    "name": "toy",
    "models": {"m1": "local/smollm2-135m", "m2": "local/smollm2-135m"},
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": ["animals_long", "survival_instinct"],
    "properties": ["first_word", "second_character", "ethical_stance"],
    "sizes": {
        "train_items_per_task": 8,
        "per_combo": 6,
        "eval_items_per_task": 8,
        "calibration_items": 4,
        "shift_rows": 8,
    },
    "calibration": [{"task": "animals_long", "property": "second_character"}],
    "training": {
        "m1": {"checkpoint_every": 1, "batch_size": 4},
        "m2": {"checkpoint_every": 1, "batch_size": 4},
        "shift": {"checkpoint_every": 1, "batch_size": 4},
    },
}


class Interrupt(KeyboardInterrupt):
    pass


@pytest.fixture(scope="module")
def uninterrupted(smollm2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inward.experiments.config import ExperimentConfig
    from inward.experiments.runner import run_experiment

    ws = tmp_path_factory.mktemp("ws-a")
    run_experiment(ExperimentConfig.model_validate(TOY), ws)
    return ws / "runs" / "toy"


def test_all_four_experiments_and_the_report(uninterrupted: Path) -> None:
    from inward.report import Results

    results = Results.load(uninterrupted / "results.json")
    assert results.self_training is not None
    assert results.cross_prediction is not None
    assert results.calibration is not None
    assert results.behaviour_change is not None
    answers = {a.task: a for a in results.behaviour_change.answers or []}
    assert {t: a.shifted for t, a in answers.items()} == {
        "animals_long": True,
        "survival_instinct": True,
        "colors_long": False,
        "wealth_seeking": False,
    }
    assert all(a.n == 8 for a in answers.values())
    html = (uninterrupted / "report" / "index.html").read_text(encoding="utf-8")
    assert "toy" in html and "<img" in html
    for png in (uninterrupted / "report").glob("*.png"):
        assert png.stat().st_size > 1000
    prov = results.run.provenance
    assert prov.get("packages") or prov.get("versions"), prov.keys()
    timings = json.loads((uninterrupted / "timings.json").read_text())
    assert timings["calls"] == 1 and timings["wall_s"] > 0
    assert timings["training"], "training wall time and examples/s are recorded"


@pytest.mark.parametrize("stop_at", [5])
def test_interrupted_run_resumes_to_identical_results(
    uninterrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_at: int
) -> None:
    from inward.experiments.config import ExperimentConfig
    from inward.experiments.context import Steps
    from inward.experiments.runner import run_experiment

    cfg = ExperimentConfig.model_validate(TOY)
    ws = tmp_path / "ws-b"
    real_step = Steps.run
    started: list[str] = []

    def step(self: Steps, name: str, inputs: dict, fn, **kw):  # type: ignore[no-untyped-def]
        def wrapped():  # type: ignore[no-untyped-def]
            started.append(name)
            if len(started) == stop_at:
                raise Interrupt(name)
            return fn()

        return real_step(self, name, inputs, wrapped, **kw)

    monkeypatch.setattr(Steps, "run", step)
    with pytest.raises(Interrupt):
        run_experiment(cfg, ws)
    first_call = list(started)
    started.clear()
    monkeypatch.setattr(Steps, "run", real_step)
    run_experiment(cfg, ws)

    run_dir = ws / "runs" / "toy"
    assert (run_dir / "results.json").read_bytes() == (uninterrupted / "results.json").read_bytes()
    timings = json.loads((run_dir / "timings.json").read_text())
    assert timings["calls"] == 2, "the wall time adds up both calls"
    assert len(first_call) == stop_at
