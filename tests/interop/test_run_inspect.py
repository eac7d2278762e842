"""`inward run` end to end with inspect models (mockllm, offline): the untrained experiment trains nothing,
so it runs on any model inward can ask."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from inspect_ai.model._providers.mockllm import MockLLM

from inward import properties as P
from inward import tasks as T
from inward.cli import main
from inward.properties.compliance import check_hypothetical, check_object

M1, M2 = "inspect/mockllm/model", "inspect/mockllm/other"
N = 3


def test_inward_run_with_inspect_models(tmp_path: Path) -> None:
    cfg = {
        "name": "inspect-untrained",
        "models": {"m1": M1, "m2": M2},
        "experiments": ["untrained"],
        "eval_tasks": ["animals_long"],
        "properties": ["first_word", "starts_with_vowel"],
        "sizes": {"eval_items_per_task": N},
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    ws = tmp_path / "ws"
    try:
        main(["--workspace", str(ws), "run", str(path)])
    except SystemExit as e:
        assert e.code in (0, None)
    results = json.loads((ws / "runs" / "inspect-untrained" / "results.json").read_text())
    section = results["other"]["untrained"]
    # By hand: every mock answer is mockllm's default text, for the object level and the hypotheticals alike.
    text = MockLLM.default_output
    task = T.get("animals_long")
    assert check_object(text, task.compliance) is None
    clean = P.clean(text)
    values = {p: P.get(p).extract(clean) for p in ("first_word", "starts_with_vowel")}
    wanted = [p for p, v in values.items() if v is not None]
    right = sum(
        check_hypothetical(text, P.get(p)) is None and P.normalize_answer(text) == values[p].strip().lower()
        for p in wanted
    )
    for m in section["models"]:
        avg = next(r for r in m["rows"] if r["group"] == "average")
        assert avg["n"] == N * len(wanted)
        assert avg["k"] == N * right
    assert {(p["target"], p["predictor"]) for p in section["pairs"]} == {(M1, M2), (M2, M1)}
    keys = {r["key"] for r in results["evidence"]["rows"]}
    assert f"untrained:{M1}:{M2}" in keys
    assert results["run"]["provenance"]
