"""The controls end to end on real SmolLM2 at toy sizes: the sibling trains from the target's own base on the
cross set, the in-context predictor really sees its shots, the response-in-context predictor really sees the
answer, the input-only fits never touch a val row, and every number reads back from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TOY: dict[str, Any] = {
    "name": "toyc",
    "models": {"m1": "local/smollm2-135m", "m2": "local/smollm2-135m"},
    "experiments": ["self_training", "input_only", "in_context", "sibling", "response_in_context"],
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": ["animals_long", "survival_instinct"],
    "properties": ["first_word", "second_character", "ethical_stance"],
    "cross_pairs": [["m1", "m2"]],
    "sizes": {"train_items_per_task": 8, "per_combo": 4, "eval_items_per_task": 6},
    "controls": {"in_context_k": [2], "context_items": 6, "seed_sibling": False},
    "training": {"m1": {"batch_size": 4}, "m2": {"batch_size": 4}},
}


@pytest.fixture(scope="module")
def run(smollm2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from inward.experiments.config import ExperimentConfig
    from inward.experiments.runner import run_experiment
    from inward.report import Results

    ws = tmp_path_factory.mktemp("ws-controls")
    run_experiment(ExperimentConfig.model_validate(TOY), ws)
    return {"ws": ws, "results": Results.load(ws / "runs" / "toyc" / "results.json")}


def test_every_control_section_and_its_evidence_rows(run: dict[str, Any]) -> None:
    res = run["results"]
    assert set(res.controls) == {"input_only", "in_context", "sibling", "response_in_context"}
    keys = {r.key for r in res.evidence.rows}
    assert {"sibling:sibling", "in_context:M2 k=2", "input_only:train-split mode"} <= keys
    assert not any(k.startswith("response_in_context") for k in keys)  # a bound, not a claim
    assert all(c.ok for c in res.hygiene if c.check.startswith("no held-out prompt"))
    assert res.controls["input_only"].details["val_rows_seen_by_fits"] == 0
    html = (run["ws"] / "runs" / "toyc" / "report" / "index.html").read_text(encoding="utf-8")
    assert "Controls" in html and "Sibling cross-predictor" in html and "Data hygiene" in html


def test_the_sibling_number_reads_back_from_the_store(run: dict[str, Any]) -> None:
    from inward.report.results import find_row
    from inward.runs.score import scored_table
    from inward.store import Store

    sec = run["results"].controls["sibling"]
    sib = sec.predictors[0]
    assert sib.model.startswith("local/smollm2-135m+adapter=toyc-m1-sibling-")
    store = Store.open(run["ws"])
    df = scored_table(
        store,
        object_model=sec.target_model,
        hypothetical_model=sib.model,
        tasks=TOY["eval_tasks"],
        properties=TOY["properties"],
    )
    self_df = scored_table(
        store,
        object_model=sec.target_model,
        hypothetical_model=sec.target_model,
        tasks=TOY["eval_tasks"],
        properties=TOY["properties"],
    )
    keys = ["task", "item_id", "property"]
    both = df.merge(self_df[keys], on=keys)
    row = find_row(sib.rows)
    assert (row.n, row.k) == (len(both), int(both["correct"].sum()))


def test_shots_and_shown_answers_reach_the_real_model(run: dict[str, Any]) -> None:
    import json
    import sqlite3

    from inward.store import DB_NAME

    res = run["results"]
    ic = res.controls["in_context"].predictors[0]
    assert ic.details["k"] == 2 and ic.details["shots"] > 0
    rc = res.controls["response_in_context"]
    assert [p.claim for p in rc.predictors] == [False] * len(rc.predictors)
    with sqlite3.connect(run["ws"] / DB_NAME) as db:
        requests = [json.loads(r) for (r,) in db.execute("SELECT request FROM calls")]
    texts = [json.dumps(r, ensure_ascii=False) for r in requests]
    # the model was sent prompts with two earlier (hypothetical, value) turns, and prompts showing an answer
    with_shots = [t for t in texts if t.count('"role": "assistant"') == 2]
    shown = [t for t in texts if "Read the response shown" in t]
    n = next(r for r in ic.rows if r.group == "average").n
    assert len(with_shots) >= n // 2 > 0
    assert len(shown) > 0
    for p in rc.predictors:
        row = next(r for r in p.rows if r.group == "average")
        assert row.n == next(r for r in rc.self_rows if r.group == "average").n
