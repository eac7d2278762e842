"""An experiment whose models are on Together trains through `TogetherFineTuner` (fake Together exchanges) and
evaluates the refs it returns (scripted backends), with headline numbers checked against a hand computation.

The pipeline runs for real (datasets, steps, store, analyses) over tests/experiments/scripted.py's fakes; only
the trainer differs: the one `LocalModels` picks for a Together ref, talking to `FakeTogether`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scripted as S
from test_together_ft import KEY, URL, FakeTogether

from inward.experiments.config import ExperimentConfig
from inward.experiments.models import LocalModels, training_config
from inward.experiments.pipeline import Pipeline
from inward.training.together_ft import TogetherFineTuner

M1 = f"openai-compatible/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference@{URL}"
M2 = f"openai-compatible/Qwen/Qwen2.5-7B-Instruct@{URL}"
EVAL = ["animals_long", "mmlu_non_cot"]
PROPS = ["first_word", "second_character", "among_a_or_c"]
N_EVAL = 20

CONFIG: dict[str, Any] = {
    "name": "hosted",
    "models": {"m1": M1, "m2": M2},
    "experiments": ["self_training", "cross_prediction"],
    "cross_pairs": [["m1", "m2"]],
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": EVAL,
    "properties": PROPS,
    "sizes": {"train_items_per_task": 16, "per_combo": 6, "eval_items_per_task": N_EVAL},
    "training": {"m2": {"epochs": 2}},
}


class TogetherScripted(S.ScriptedModels):
    """Scripted answers for every ref; training by the trainer `LocalModels` picks, over fake exchanges."""

    def __init__(self, store: Any, server: FakeTogether) -> None:
        super().__init__(store)
        self.server = server

    def trainer(self, base: str, *, progress: bool = True) -> Any:
        picked = LocalModels(self.store).trainer(base)
        assert isinstance(picked, TogetherFineTuner)
        return TogetherFineTuner(self.server.client(), sleep=lambda s: None)

    def train_config(self, kind: str, plan: Any, seed: int) -> Any:
        return training_config(kind, plan, seed)


def test_an_experiment_on_together_models_trains_there_and_evaluates_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    server = FakeTogether(["pending", "running", "completed"])
    holder: dict[str, TogetherScripted] = {}

    def models(store: Any) -> TogetherScripted:
        holder["m"] = TogetherScripted(store, server)
        return holder["m"]

    ws = tmp_path / "ws"
    results = Pipeline(ExperimentConfig.model_validate(CONFIG), ws, progress=False, models=models).run()
    access = holder["m"]

    # Two paid jobs, one per trained model: M1 on its own behaviour, M2 on self-trained M1's.
    creates = [body for method, path, body in server.requests if (method, path) == ("POST", "/fine-tunes")]
    assert [c["model"] for c in creates] == [
        "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
        "Qwen/Qwen2.5-7B-Instruct",
    ]
    assert [c["n_epochs"] for c in creates] == [1, 2]  # the file's m2 setting; the recipe elsewhere
    assert all(c["learning_rate"] == 2e-5 and c["batch_size"] == 16 for c in creates)
    assert all(c["training_type"]["lora_r"] == 32 for c in creates)
    outputs = [j["model_output_name"] for j in server.jobs.values()]
    m1t, m2c = (f"openai-compatible/{o}@{URL}" for o in outputs)

    # The uploaded rows are the pipeline's self-prediction set (messages only).
    form = next(body for method, path, body in server.requests if path == "/files/upload")
    uploaded = [json.loads(line) for line in form["file"].decode().splitlines()]
    data = sorted((ws / "runs").rglob("m1-self.jsonl"))[0]
    assert uploaded == [{"messages": json.loads(line)["messages"]} for line in data.read_text().splitlines()]

    # The trained models were asked through the refs the trainer returned; headline numbers by hand.
    st = results.self_training.models[0]
    assert st.model == M1 and st.trained_model == m1t
    fake = {"m1": access.backend(M1), "m1t": access.backend(m1t), "m2c": access.backend(m2c)}
    beh = {k: S.behaviour(f, EVAL, N_EVAL, PROPS) for k, f in fake.items()}
    both = sorted(set(beh["m1"]) & set(beh["m1t"]))
    rows = {r.group: (r.n, r.k) for r in st.trained}
    want = S.prediction_table(beh["m1t"], fake["m1t"], both)
    assert rows == {g: (n, k) for g, (n, k, _) in want.items()}
    untrained = S.prediction_table(beh["m1"], fake["m1"], both)
    assert {r.group: (r.n, r.k) for r in st.untrained} == {g: (n, k) for g, (n, k, _) in untrained.items()}
    cp = results.cross_prediction.targets[0]
    cross = S.prediction_table(beh["m1t"], fake["m2c"], sorted(beh["m1t"]))
    assert cp.cross[0].model == m2c
    assert {r.group: (r.n, r.k) for r in cp.cross[0].rows} == {g: (n, k) for g, (n, k, _) in cross.items()}

    # Registered as hosted models; the key is in no file of the workspace.
    from inward.store import Store

    with Store.open(ws) as store:
        recs = [store.get_model(n) for n in (m for m in _model_names(ws))]
    assert {r.kind for r in recs if r} == {"together-ft"} and {r.remote_id for r in recs if r} == set(outputs)
    for p in ws.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p

    # A second run of the same file trains nothing new: the finished jobs answer from their state files.
    n = len(server.requests)
    Pipeline(ExperimentConfig.model_validate(CONFIG), ws, progress=False, models=models).run()
    assert not [r for r in server.requests[n:] if r[0] == "POST"]


def _model_names(ws: Path) -> list[str]:
    return sorted(p.name for p in (ws / "models").iterdir() if p.is_dir())


def test_behaviour_change_on_together_continues_the_self_trained_fine_tune(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hosted fine-tunes have no adapter: the shifted model MC is the self-trained M1 trained further on the
    shift set (`from_checkpoint` = M1's output name), and the experiment evaluates the ref that job returns."""
    monkeypatch.setenv("TOGETHER_API_KEY", KEY)
    server = FakeTogether(["completed"])
    cfg = {
        **CONFIG,
        "experiments": ["behaviour_change"],
        "sizes": {**CONFIG["sizes"], "shift_rows": 8},
    }
    results = Pipeline(
        ExperimentConfig.model_validate(cfg),
        tmp_path / "ws",
        progress=False,
        models=lambda store: TogetherScripted(store, server),
    ).run()
    creates = [body for method, path, body in server.requests if (method, path) == ("POST", "/fine-tunes")]
    jobs = list(server.jobs.values())
    assert len(creates) == 2 and creates[0]["model"] == "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
    assert creates[1]["from_checkpoint"] == jobs[0]["model_output_name"] and "model" not in creates[1]
    assert creates[1]["learning_rate"] == 5e-4 and creates[1]["batch_size"] == 4  # the file's shift setting
    shift_rows = sorted((tmp_path / "ws" / "runs").rglob("m1-shift.jsonl"))[0].read_text().splitlines()
    uploads = [body for method, path, body in server.requests if path == "/files/upload"]
    assert [json.loads(line) for line in uploads[1]["file"].decode().splitlines()] == [
        {"messages": json.loads(line)["messages"]} for line in shift_rows
    ]
    bc = results.behaviour_change
    assert bc is not None
    m1t, mc = (f"openai-compatible/{j['model_output_name']}@{URL}" for j in jobs)
    assert bc.new_ref == mc and m1t != mc and bc.rows and bc.train is not None
    # MC's answers were asked of the ref the continued job returned (the scripted backend of that ref)
    from inward.store import Store

    with Store.open(tmp_path / "ws") as store:
        assert store.get_model(_model_names(tmp_path / "ws")[-1]).remote_id == jobs[1]["model_output_name"]
