"""The inspect task `inward/self_prediction` on inspect's mock model with scripted answers (offline).

Three animals_long items, two properties (first_word, starts_with_vowel) → six samples:
    item 0: object "Cat dog"          first_word "cat",  starts_with_vowel "false"
    item 1: object "owl bat"          first_word "owl",  starts_with_vowel "true"
    item 2: object "Sorry, I can't"   non-compliant (refusal:sorry): both samples excluded
Hypothetical answers: item 0 "cat" (right) and "false" (right); item 1 "bat" (wrong) and "True." (right).
By hand: 4 scored, 3 correct → accuracy 0.75. Mode baseline per (task, property): first_word {cat, owl} ties →
"cat" (smallest) → 1/2; starts_with_vowel {false, true} ties → "false" → 1/2; pooled 2/4 = 0.5.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_script import Script

from inward import tasks as T
from inward.errors import UserError
from inward.interop.task import self_prediction
from inward.prompts import DEFAULT

PROPS = "first_word,starts_with_vowel"


def _items() -> list[T.Item]:
    return T.get("animals_long").items("val")[:3]


def _script() -> Script:
    a, b, c = (it.text for it in _items())
    return Script(
        objects={a: "Cat dog", b: "owl bat", c: "Sorry, I can't"},
        hypotheticals={
            (a, "first_word"): "cat",
            (a, "starts_with_vowel"): "false",
            (b, "first_word"): "bat",
            (b, "starts_with_vowel"): "True.",
        },
    )


def _run(tmp_path: Path, model, **roles):  # type: ignore[no-untyped-def]
    task = self_prediction(tasks="animals_long", properties=PROPS, limit=3)
    [log] = inspect_eval(task, model=model, model_roles=roles or None, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    return read_eval_log(log.location)


def test_self_prediction_scores_as_by_hand(tmp_path: Path) -> None:
    script = _script()
    log = _run(tmp_path, script.model())
    metrics = {k: m.value for k, m in log.results.scores[0].metrics.items()}
    assert metrics == {"accuracy": 0.75, "mode_baseline": 0.5, "scored": 4.0}
    values = {s.id.split("/", 1)[1]: s.scores["prediction"].value for s in log.samples}
    a, b, c = (it.id for it in _items())
    assert values == {
        f"{a}/first_word": "C",
        f"{a}/starts_with_vowel": "C",
        f"{b}/first_word": "I",
        f"{b}/starts_with_vowel": "C",
        f"{c}/first_word": "N",
        f"{c}/starts_with_vowel": "N",
    }
    # the object prompt was asked once per item (shared by its properties), hypotheticals only when compliant
    kinds = [k for k, _, _ in script.calls]
    assert kinds.count("object") == 3 and kinds.count("hypothetical") == 4


def test_sample_metadata_has_values_compliance_and_hashes(tmp_path: Path) -> None:
    log = _run(tmp_path, _script().model())
    t = T.get("animals_long")
    by_id = {s.id: s for s in log.samples}
    a, _, c = _items()
    s = by_id[f"animals_long/{a.id}/starts_with_vowel"]
    md = s.metadata
    assert (md["object_raw"], md["object_value"], md["object_compliance"]) == ("Cat dog", "false", None)
    assert (md["hypothetical_raw"], md["hypothetical_answer"], md["hypothetical_compliance"]) == (
        "false",
        "false",
        None,
    )
    assert md["object_template_hash"] == DEFAULT.hash(t)
    assert md["hypothetical_template_hash"] == DEFAULT.hash(t, "starts_with_vowel")
    assert s.scores["prediction"].metadata["correct"] is True
    # the transcript is the hypothetical conversation alone: a fresh conversation, not the object answer's
    assert [m.role for m in s.messages] == ["user", "assistant"]
    assert s.messages[0].text == DEFAULT.hypothetical_messages(t, a, "starts_with_vowel")[-1]["content"]
    excluded = by_id[f"animals_long/{c.id}/first_word"]
    assert excluded.metadata["object_compliance"] == "refusal:sorry"
    assert excluded.scores["prediction"].metadata["scored"] is False


def test_hypothetical_is_asked_in_a_fresh_conversation(tmp_path: Path) -> None:
    script = _script()
    _run(tmp_path, script.model())
    # every call carries one user message: the hypothetical never sees the object-level turn
    assert {n for _, _, n in script.calls} == {1}


def test_cross_form_uses_the_object_role(tmp_path: Path) -> None:
    objects, predictor = _script(), _script()
    log = _run(tmp_path, predictor.model("mockllm/predictor"), object=objects.model("mockllm/behaver"))
    assert {k for k, _, _ in objects.calls} == {"object"} and len(objects.calls) == 3
    assert {k for k, _, _ in predictor.calls} == {"hypothetical"} and len(predictor.calls) == 4
    assert log.eval.model == "mockllm/predictor"
    assert log.eval.model_roles is not None and log.eval.model_roles["object"].model == "mockllm/behaver"
    scored = [s for s in log.samples if s.scores["prediction"].metadata["scored"]]
    assert {s.metadata["object_model"] for s in scored} == {"mockllm/behaver"}
    assert {s.metadata["hypothetical_model"] for s in scored} == {"mockllm/predictor"}
    assert log.results.scores[0].metrics["accuracy"].value == 0.75


def test_task_arguments_select_samples() -> None:
    task = self_prediction(tasks="animals_long,mmlu_non_cot", limit=2, split="train")
    ids = [s.id for s in task.dataset]
    # animals_long: 8 reported properties; mmlu_non_cot: among_a_or_c, among_b_or_d
    assert len(ids) == 2 * 8 + 2 * 2
    assert {s.metadata["split"] for s in task.dataset} == {"train"}
    as_list = self_prediction(tasks=["animals_long"], properties=["first_word"], limit=4)
    assert [s.metadata["property"] for s in as_list.dataset] == ["first_word"] * 4


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"tasks": "no_such_task"}, "no_such_task"),
        ({"tasks": "animals_long", "properties": "among_a_or_c"}, "none of the properties"),
        ({"tasks": "animals_long", "split": "test"}, "split must be train or val"),
    ],
)
def test_bad_task_arguments_are_one_line(kwargs: dict[str, str], needle: str) -> None:
    with pytest.raises(UserError) as e:
        self_prediction(**kwargs)  # type: ignore[arg-type]
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_entry_point_registers_task_and_model_api() -> None:
    from importlib.metadata import entry_points

    from inspect_ai._util.registry import registry_lookup

    [ep] = [e for e in entry_points(group="inspect_ai") if e.name == "inward"]
    ep.load()
    assert registry_lookup("task", "inward/self_prediction") is not None
    assert registry_lookup("modelapi", "inward/inward") is not None
