"""Logs both ways: stored rows → inspect .eval log → read back equal; an inspect log → stored behaviour rows.

Store (scripted mock, animals_long, 3 items): objects "Cat dog", "owl bat", "Sorry, I can't" (refusal);
hypotheticals first_word "cat" (right), "bat" (wrong); the refusal is never asked. By hand: 2 hypothetical
samples, accuracy 1/2, mode baseline: first_word {cat, owl} ties → "cat" → 1/2.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalLog,
    EvalSample,
    EvalSpec,
    read_eval_log,
    read_eval_log_sample_summaries,
    write_eval_log,
)
from inspect_script import Script

from inward import prompts
from inward import tasks as T
from inward.backends import make_backend
from inward.backends.registry import identify
from inward.cli import main
from inward.errors import UserError
from inward.interop.logs import export_log, import_log
from inward.interop.task import self_prediction
from inward.runs import run_hypotheticals, run_object, score
from inward.store import Store

REF = "inspect/mockllm/model"


def _items() -> list[T.Item]:
    return T.get("animals_long").items("val")[:3]


def _script() -> Script:
    a, b, c = (it.text for it in _items())
    return Script(
        objects={a: "Cat dog", b: "owl bat", c: "Sorry, I can't"},
        hypotheticals={(a, "first_word"): "cat", (b, "first_word"): "bat"},
    )


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    backend = make_backend(REF, model_args={"custom_outputs": _script()})
    with Store.open(tmp_path / "ws") as st:
        run_object(st, backend, tasks=["animals_long"], limit=3, progress=False)
        run_hypotheticals(st, backend, tasks=["animals_long"], properties=["first_word"], progress=False)
        yield st


def test_export_hypothetical_log_round_trips(store: Store, tmp_path: Path) -> None:
    got = export_log(store, REF, tmp_path / "hyp.eval")
    assert (got.level, got.samples) == ("hypothetical", 2)
    log = read_eval_log(str(got.path))
    assert log.status == "success" and log.eval.model == "mockllm/model"
    meta = store.hypothetical_rows(model_id=identify(REF).key)
    obj = store.object_rows(model_id=identify(REF).key).set_index("item_id")
    assert len(log.samples) == len(meta) == 2
    inward_score = score(store, object_model=REF, hypothetical_model=REF, tasks=["animals_long"])
    avg = inward_score.table.set_index("group").loc["average"]
    metrics = {k: m.value for k, m in log.results.scores[0].metrics.items()}
    assert metrics == {"accuracy": avg["acc"], "mode_baseline": avg["baseline"], "scored": 2.0}
    assert metrics["accuracy"] == 0.5 and metrics["mode_baseline"] == 0.5
    stored = {(r["item_id"], r["property"]): r for r in meta.to_dict(orient="records")}
    correct = {
        (r["item_id"], r["property"]): r["correct"] for r in inward_score.scored.to_dict(orient="records")
    }
    for s in log.samples:
        md = s.metadata
        key = (md["item_id"], md["property"])
        assert md["hypothetical_raw"] == stored[key]["raw"] == s.output.completion == s.messages[-1].text
        assert md["hypothetical_answer"] == stored[key]["answer"]
        assert md["object_raw"] == obj.loc[md["item_id"], "raw"]
        assert md["object_value"] == obj.loc[md["item_id"], "properties"]["first_word"]
        assert s.scores["prediction"].value == ("C" if correct[key] else "I")


def test_export_object_log_and_view_loader(store: Store, tmp_path: Path) -> None:
    from inspect_ai._view.common import get_log_file, get_logs

    got = export_log(store, REF, tmp_path / "logs" / "obj.eval", level="object")
    assert (got.level, got.samples) == ("object", 3)
    log = read_eval_log(str(got.path))
    raws = {s.metadata["item_id"]: s.output.completion for s in log.samples}
    assert raws == {
        it.id: raw for it, raw in zip(_items(), ["Cat dog", "owl bat", "Sorry, I can't"], strict=True)
    }
    assert {s.id: s.scores["compliance"].value for s in log.samples}[f"animals_long/{_items()[2].id}"] == "I"
    assert log.results.scores[0].metrics["compliance"].value == pytest.approx(2 / 3)
    # what `inspect view` does to list and open a log
    listing = asyncio.run(get_logs(str(tmp_path / "logs"), False, {}))
    assert listing is not None and [Path(f.name).name for f in listing.files] == ["obj.eval"]
    payload = asyncio.run(get_log_file(str(got.path), None))
    assert b'"inward/object_level"' in payload.contents
    assert len(read_eval_log_sample_summaries(str(got.path))) == 3


def test_cross_export_records_object_role(store: Store, tmp_path: Path) -> None:
    other = make_backend("inspect/mockllm/other", model_args={"custom_outputs": _script()})
    run_hypotheticals(
        store, other, about=REF, tasks=["animals_long"], properties=["first_word"], progress=False
    )
    log = read_eval_log(str(export_log(store, "inspect/mockllm/other", tmp_path / "x.eval", about=REF).path))
    assert log.eval.model == "mockllm/other" and log.eval.model_roles["object"].model == "mockllm/model"
    assert log.results.scores[0].metrics["accuracy"].value == 0.5


def test_import_task_log_as_behaviour(tmp_path: Path) -> None:
    task = self_prediction(tasks="animals_long", properties="first_word,starts_with_vowel", limit=3)
    [log] = inspect_eval(task, model=_script().model(), log_dir=str(tmp_path / "logs"), display="none")
    with Store.open(tmp_path / "ws") as st:
        got = import_log(st, log.location)
        assert (got.model, got.new_rows, got.existing_rows) == (REF, 3, 0)
        assert import_log(st, log.location).new_rows == 0  # idempotent
        rows = st.object_rows(model_id=identify(REF).key).set_index("item_id")
        answers = {
            s.metadata["item_id"]: s.metadata["object_raw"] for s in read_eval_log(log.location).samples
        }
        assert rows["raw"].to_dict() == answers
        a, b, c = _items()
        assert rows.loc[a.id, "properties"]["first_word"] == "cat"
        assert rows.loc[b.id, "properties"]["starts_with_vowel"] == "true"
        assert rows.loc[c.id, "compliance"] == "refusal:sorry"
        # the imported behaviour is what `inward meta` and `inward score` read
        predictor = make_backend("inspect/mockllm/other", model_args={"custom_outputs": _script()})
        run_hypotheticals(
            st, predictor, about=REF, tasks=["animals_long"], properties=["first_word"], progress=False
        )
        res = score(st, object_model=REF, hypothetical_model="inspect/mockllm/other", tasks=["animals_long"])
        assert res.table.set_index("group").loc["average", "acc"] == 0.5


def test_import_under_another_model_name(store: Store, tmp_path: Path) -> None:
    path = export_log(store, REF, tmp_path / "obj.eval", level="object").path
    with Store.open(tmp_path / "ws2") as st:
        got = import_log(st, path, model="inspect/mockllm/renamed")
        assert got.new_rows == 3
        assert len(st.object_rows(model_id=identify("inspect/mockllm/renamed").key)) == 3


def _log_without_inward_metadata(path: Path) -> Path:
    spec = EvalSpec(
        created="2026-01-01T00:00:00+00:00",
        task="other",
        dataset=EvalDataset(),
        model="mockllm/model",
        config=EvalConfig(),
    )
    log = EvalLog(eval=spec, status="success", samples=[EvalSample(id=1, epoch=1, input="hello", target="x")])
    write_eval_log(log, str(path), format="eval")
    return path


def test_bad_logs_are_one_line(store: Store, tmp_path: Path) -> None:
    (tmp_path / "junk.eval").write_text("not a zip")
    cases = [
        (tmp_path / "missing.eval", "no inspect log at"),
        (tmp_path / "junk.eval", "is not a readable inspect log"),
        (_log_without_inward_metadata(tmp_path / "foreign.eval"), "no inward task/item_id metadata"),
    ]
    for path, needle in cases:
        with pytest.raises(UserError) as e:
            import_log(store, path)
        assert needle in str(e.value) and "\n" not in str(e.value)
    # answers to other wording are not inward's behaviour under this template
    obj = export_log(store, REF, tmp_path / "obj.eval", level="object").path
    other = prompts.PromptTemplate(
        name="other-wording", wrapper=prompts.DEFAULT.wrapper, instructions={"animals_long": "Go on: {item}"}
    )
    with pytest.raises(UserError, match="not template"):
        import_log(store, obj, template=other)
    with pytest.raises(UserError, match=r"must end in \.eval"):
        export_log(store, REF, tmp_path / "x.json")
    with pytest.raises(UserError, match="no stored"):
        export_log(store, "inspect/mockllm/nobody", tmp_path / "y.eval")


def test_cli_export_and_import(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    main(
        [
            "--workspace",
            ws,
            "inspect",
            "export-log",
            "-m",
            REF,
            "--level",
            "object",
            "-o",
            str(tmp_path / "c.eval"),
        ]
    )
    assert "object log: 3 samples" in capsys.readouterr().out
    main(["--workspace", str(tmp_path / "ws3"), "inspect", "import-log", str(tmp_path / "c.eval")])
    assert "imported 3 new behaviour rows of inspect/mockllm/model" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--workspace", ws, "inspect", "import-log", str(tmp_path / "nope.eval")])
    assert e.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: no inspect log at")
