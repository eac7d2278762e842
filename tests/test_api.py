"""The public Python API on scripted models: the example script's numbers by hand, results objects, errors."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "experiments"))
import scripted as S

import inward
from inward import properties as P
from inward import tasks as T

M1, M2 = "local/qwen2.5-0.5b", "local/smollm2-135m"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "notebook.py"


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scripted backends behind every model ref, and a fresh workspace as the default one."""
    import inward.backends
    import inward.backends.registry
    import inward.experiments.pipeline

    plain = S.ScriptedModels(None)
    monkeypatch.setattr(inward.backends, "make_backend", lambda ref, **kw: plain.backend(str(ref)))
    monkeypatch.setattr(inward.backends.registry, "identify", lambda ref, **kw: plain.identify(str(ref)))
    monkeypatch.setattr(
        inward.experiments.pipeline, "LocalModels", lambda store, options=None: S.ScriptedModels(store)
    )
    ws = tmp_path / "ws"
    monkeypatch.setenv("INWARD_WORKSPACE", str(ws))
    return ws


def _props(task: str) -> list[str]:
    return [p for p in T.get(task).properties if not P.get(p).training_only]


def _hand(
    object_model: str, hypothetical_model: str, tasks: list[str], n: int
) -> dict[str, tuple[int, int, float]]:
    fakes = S.ScriptedModels(None)
    obj: dict[tuple, str] = {}
    for t in tasks:
        obj |= S.behaviour(fakes.backend(object_model), [t], n, _props(t))
    return S.prediction_table(obj, fakes.backend(hypothetical_model), sorted(obj))


def test_the_example_prints_the_hand_computed_self_and_cross_accuracy(
    fakes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INWARD_EXAMPLE_ITEMS", "8")
    monkeypatch.setenv("INWARD_M1", M1)
    monkeypatch.setenv("INWARD_M2", M2)
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    tasks = ["animals_long", "mmlu_non_cot"]
    for meta, kind in ((M1, "self-prediction"), (M2, "cross-prediction")):
        n, k, base = _hand(M1, meta, tasks, 8)["average"]
        line = next(x for x in out.splitlines() if x.startswith(f"{kind}: {meta} predicting {M1}"))
        assert f"({n} rows)" in line
        avg = next(x for x in out.splitlines() if x.strip().startswith("average (micro)") and x in out)
        assert avg  # the averages are printed
        assert f"average (micro): {100 * k / n:.1f}%" in out
        assert f"mode baseline {100 * base:.1f}%" in out
    # The user code of the example (no docstring, comments or blank lines) stays under 20 lines.
    src = EXAMPLE.read_text().split('"""', 2)[2]
    code = [x for x in src.splitlines() if x.strip() and not x.strip().startswith("#")]
    assert len(code) < 20


def test_score_table_and_behaviour_follow_the_stored_rows(fakes: Path) -> None:
    m1, m2 = inward.get_model(M1), inward.get_model(M2)
    beh = inward.object_level(m1, tasks="animals_long", limit=6)
    assert beh.new_rows == 6 and set(beh.table["item_id"]) == {
        it.id for it in T.get("animals_long").items("val")[:6]
    }
    again = inward.object_level(m1, tasks=["animals_long"], limit=6)
    assert again.new_rows == 0 and again.existing_rows == 6  # stored once, shared with the CLI's store
    answers = beh.table.drop_duplicates(["task", "item_id"])
    n_ok, n_values = int(answers["object_compliance"].isna().sum()), len(beh.table)
    assert f"6 object-level answers ({n_ok} compliant; {n_values} property values)" in again.summary()
    assert "0 new, 6 already stored" in again.summary() and "<table" in again._repr_html_()
    hyp = inward.hypothetical(m2, about=m1, tasks="animals_long", limit=6)
    assert hyp.about == M1 and hyp.new_rows == len(hyp.table) > 0
    assert f"{M2} about {M1}: {len(hyp)} hypothetical answers" in hyp.summary()
    res = inward.score(object=m1, hypothetical=m2, tasks=["animals_long"])
    want = _hand(M1, M2, ["animals_long"], 6)
    got = {r["group"]: (r["n"], r["k"]) for r in res.table.to_dict(orient="records")}
    assert got == {g: (n, k) for g, (n, k, _) in want.items()}
    html = res._repr_html_()
    assert "<table" in html and "cross-prediction" in html


def test_run_returns_results_and_load_reads_them_back(fakes: Path) -> None:
    from test_pipeline_scripted import CONFIG

    results = inward.run({**CONFIG, "models": {"m1": M1, "m2": M2}})
    assert results.run.name == "scripted"
    table = results.table
    assert len(table) == len(results.evidence.rows) > 0 and {"claim", "effect", "verdict"} <= set(
        table.columns
    )
    back = inward.load("scripted")
    assert back.model_dump() == results.model_dump()
    assert "scripted" in inward.workspace().runs()
    assert inward.render_report("scripted").name == "index.html"
    assert "verdict" in results.summary().lower()


def test_plan_prints_like_the_cli(fakes: Path) -> None:
    from test_pipeline_scripted import CONFIG

    p = inward.plan({**CONFIG, "models": {"m1": M1, "m2": M2}}, measure=False)
    text = str(p)
    assert text.startswith("plan for scripted") and "M2 self vs M1 cross" in text


def test_bad_input_is_one_clear_line(fakes: Path) -> None:
    with pytest.raises(inward.UserError, match=r"no results.json for run 'nosuch'.*runs there: none yet"):
        inward.load("nosuch")
    with pytest.raises(inward.UserError, match="bad model ref"):
        inward.get_model("qwen")
    with pytest.raises(inward.UserError, match="unknown task"):
        inward.object_level(inward.get_model(M1), tasks=["no_such_task"])
    with pytest.raises(inward.UserError, match="give an experiment"):
        inward.run(42)
    with pytest.raises(inward.UserError, match="unknown training options"):
        inward.train(M1, "x.jsonl", "m1-x", learning_rate=1)


def test_one_workspace_object_per_folder(tmp_path: Path) -> None:
    a = inward.workspace(tmp_path / "w")
    assert inward.workspace(str(tmp_path / "w")) is a
    assert re.search(r"Workspace\('.*w'\)", repr(a))


def test_the_public_names_are_exported() -> None:
    for name in inward.__all__:
        assert hasattr(inward, name), name
    assert callable(inward.score) and callable(inward.hypothetical) and callable(inward.object_level)
