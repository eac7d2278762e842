"""Fast behaviour tests of `inward object | meta | score | dataset build | run` on scripted models.

The bundled refs are kept (so the commands' own checks pass) but every backend, identity and training is a
fake from tests/experiments/scripted.py: nothing is installed or loaded, and every number printed can be
worked out by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import scripted as S

from inward.cli import main

M1, M2 = "local/qwen2.5-0.5b", "local/smollm2-135m"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`cli(*args)` → (exit code, stdout, stderr) in a fresh workspace, with scripted models."""
    import inward.backends
    import inward.backends.registry
    import inward.experiments.pipeline

    holder: dict[str, S.ScriptedModels] = {}

    def access(store: Any, options: Any = None) -> S.ScriptedModels:
        holder["models"] = S.ScriptedModels(store)
        return holder["models"]

    plain = S.ScriptedModels(None)
    monkeypatch.setattr(inward.backends, "make_backend", lambda ref, **kw: plain.backend(str(ref)))
    monkeypatch.setattr(inward.backends.registry, "identify", lambda ref, **kw: plain.identify(str(ref)))
    monkeypatch.setattr(inward.experiments.pipeline, "LocalModels", access)
    ws = tmp_path / "ws"

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(["--workspace", str(ws), *args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    run.models = holder  # type: ignore[attr-defined]
    run.workspace = ws  # type: ignore[attr-defined]
    return run


def _hand_score(model: str, task: str, limit: int, props: list[str]) -> dict[str, tuple[int, int]]:
    fake = S.ScriptedModels(None).backend(model)
    obj = S.behaviour(fake, [task], limit, props)
    table = S.prediction_table(obj, fake, sorted(obj))
    return {g: (n, k) for g, (n, k, _) in table.items()}


def test_object_hypothetical_score_give_the_hand_computed_accuracy(cli: Any) -> None:
    code, out, _ = cli("object", "-m", M1, "-t", "animals_long", "--limit", "12")
    assert code == 0 and "12 new" in out and "object config 'greedy'" in out
    assert cli("hypothetical", "-m", M1, "-t", "animals_long", "--limit", "12")[0] == 0
    code, out, _ = cli("score", "--object", M1, "--hypothetical", M1, "-t", "animals_long", "--json")
    assert code == 0
    res = json.loads(out)
    got = {r["group"]: (r["n"], r["k"]) for r in res["accuracy"]}
    props = ["first_character", "second_character", "third_character", "first_and_second_character"]
    props += ["first_word", "second_word", "third_word", "starts_with_vowel"]
    assert got == _hand_score(M1, "animals_long", 12, props)
    assert res["provenance"]["object_config"] == "greedy" and len(res["provenance"]["object_model_id"]) == 16


def test_a_greedy_seed_lands_in_the_default_config(cli: Any) -> None:
    code, out, _ = cli("object", "-m", M1, "-t", "animals_long", "--limit", "6", "--seed", "1")
    assert code == 0 and "object config 'greedy'" in out  # before: a key no later command looked up
    code, out, _ = cli("hypothetical", "-m", M1, "-t", "animals_long", "--limit", "6")
    assert code == 0 and "hypothetical: 0 new" not in out


def test_non_default_decoding_is_a_named_config_later_commands_take(cli: Any) -> None:
    code, out, _ = cli("object", "-m", M1, "-t", "animals_long", "--limit", "6", "--max-tokens", "100")
    assert code == 0 and "'greedy,max_tokens=100'" in out
    code, _, err = cli("hypothetical", "-m", M1, "-t", "animals_long", "--limit", "6")
    assert code == 2 and "--object-config greedy,max_tokens=100" in err and len(err.strip().splitlines()) == 1
    args = ["-t", "animals_long", "--object-config", "greedy,max_tokens=100"]
    assert cli("hypothetical", "-m", M1, "--limit", "6", *args)[0] == 0
    code, out, _ = cli("score", "--object", M1, "--hypothetical", M1, *args, "--json")
    assert code == 0 and json.loads(out)["rows"] > 0


def test_score_by_an_alias_keeps_the_group(cli: Any) -> None:
    cli("object", "-m", M1, "-t", "mmlu_non_cot", "--limit", "20")
    cli("hypothetical", "-m", M1, "-t", "mmlu_non_cot", "--limit", "20", "-p", "is_either_a_or_c")
    code, out, _ = cli(
        "score",
        "--object",
        M1,
        "--hypothetical",
        M1,
        "-t",
        "mmlu_non_cot",
        "-p",
        "is_either_a_or_c",
        "--json",
    )
    assert code == 0
    got = {r["group"]: (r["n"], r["k"]) for r in json.loads(out)["accuracy"]}
    assert got == _hand_score(M1, "mmlu_non_cot", 20, ["among_a_or_c"])  # before: no rows, "run meta first"


def test_cross_prediction_scores_m2_against_m1s_behaviour(cli: Any) -> None:
    cli("object", "-m", M1, "-t", "survival_instinct", "--limit", "16")
    cli("hypothetical", "-m", M2, "--about", M1, "-t", "survival_instinct", "--limit", "16")
    code, out, _ = cli("score", "--object", M1, "--hypothetical", M2, "-t", "survival_instinct", "--json")
    assert code == 0
    fakes = S.ScriptedModels(None)
    obj = S.behaviour(fakes.backend(M1), ["survival_instinct"], 16, ["ethical_stance"])
    want = S.prediction_table(obj, fakes.backend(M2), sorted(obj))
    got = {r["group"]: (r["n"], r["k"]) for r in json.loads(out)["accuracy"]}
    assert got == {g: (n, k) for g, (n, k, _) in want.items()}


def test_dataset_build_self_records_the_behaviour_it_used(cli: Any, tmp_path: Path) -> None:
    out_file = tmp_path / "self.jsonl"
    code, _, err = cli(
        "dataset", "build", "self", "-m", M1, "-t", "colors_long", "-p", "first_word",
        "--per-combo", "5", "--items-per-task", "12", "-o", str(out_file),
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    manifest = (
        json.loads(out_file.with_name(out_file.name + ".manifest.json").read_text())
        if (out_file.with_name(out_file.name + ".manifest.json").is_file())
        else None
    )
    fake = S.ScriptedModels(None).backend(M1)
    import inward.tasks as T
    from inward import properties as P
    from inward.properties.compliance import check_object

    task = T.get("colors_long")
    usable = 0
    for item in task.items("train")[:12]:
        raw = S.greedy_answer(fake, task, item)
        usable += (
            check_object(raw, task.compliance) is None
            and P.get("first_word").extract(P.clean(raw)) is not None
        )
    assert 0 < len(rows) <= 5 and len(rows) == min(5, usable) - round(min(5, usable) * 0.05)
    if manifest is not None:
        assert manifest["object_config"] == "greedy" and manifest["source_model"] == M1


def test_inward_run_writes_the_hand_computed_results(cli: Any, tmp_path: Path) -> None:
    from test_pipeline_scripted import CONFIG, actual, assert_same, expected

    from inward.report import Results

    cfg = {**CONFIG, "models": {"m1": M1, "m2": M2}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code, _, err = cli("run", str(path))
    assert code == 0, err
    results = Results.load(cli.workspace / "runs" / "scripted" / "results.json")
    want, got = expected(cli.models["models"], M1, M2), actual(results)
    for part in ("untrained", "trained", "self", "cross"):
        assert_same(got[part], want[part])
    assert got["change"] == want["change"]
    assert results.run.provenance["scoring_rules"]["name"] == "default"


def test_plan_prints_rows_detectable_effects_and_runs_nothing(cli: Any, tmp_path: Path) -> None:
    from test_pipeline_scripted import CONFIG

    cfg = {**CONFIG, "models": {"m1": M1, "m2": M2}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code, out, err = cli("plan", str(path), "--no-measure", "--seeds", "0,1")
    assert code == 0, err
    assert "plan for scripted: seeds [0, 1]" in out
    assert "M1 self vs M2 cross" in out and "M2 self vs M1 cross" in out
    assert "detectable" in out and "paper 17.0 pp" in out
    assert not (cli.workspace / "runs" / "scripted" / "results.json").exists()
    # the same from `run --dry-run`
    code, out2, err = cli("run", str(path), "--dry-run")
    assert code == 0, err
    assert "M2 self vs M1 cross" in out2 and "inward plan FILE` measures them" in out2


@pytest.mark.parametrize("bad", ["x", "1,1", ",", "0;1"])
def test_bad_seeds_are_one_clear_line(cli: Any, tmp_path: Path, bad: str) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("name: s\n")
    code, _, err = cli("plan", str(path), "--no-measure", "--seeds", bad)
    assert code == 2
    assert "--seeds" in err and "e.g. --seeds 0,1,2" in err


def test_meta_and_hypothetical_are_one_command(cli: Any) -> None:
    """`meta` and `--meta` are the old names of `hypothetical` and `--hypothetical`: same rows, same score."""
    cli("object", "-m", M1, "-t", "animals_long", "--limit", "8")
    code, out, _ = cli("meta", "-m", M1, "-t", "animals_long", "--limit", "8")
    assert code == 0 and "new" in out
    code, out, _ = cli("hypothetical", "-m", M1, "-t", "animals_long", "--limit", "8")
    assert code == 0 and "hypothetical: 0 new" in out  # the alias stored exactly these rows
    new = json.loads(cli("score", "--object", M1, "--hypothetical", M1, "-t", "animals_long", "--json")[1])
    old = json.loads(cli("score", "--object", M1, "--meta", M1, "-t", "animals_long", "--json")[1])
    assert new["accuracy"] == old["accuracy"] and new["rows"] > 0
