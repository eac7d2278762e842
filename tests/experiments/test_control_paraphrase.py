"""The paraphrase-robustness control: three rewordings of every hypothetical question, the same object level, and
the self-vs-cross verdict per wording, checked against a hand computation from the scripted fakes' answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import scripted as S

from inward import prompts as PR
from inward import properties as P
from inward import tasks as T
from inward.experiments.config import ExperimentConfig
from inward.experiments.pipeline import Pipeline
from inward.prompts import DEFAULT, PromptTemplate
from inward.properties.compliance import check_hypothetical, normalize_answer
from inward.report.results import Results, find_row

PARAPHRASES = ("inward-v1-p1", "inward-v1-p2", "inward-v1-p3")
PAIRS = [(name, prop) for name in T.names() for prop in T.get(name).properties]
EVAL = ["animals_long", "mmlu_non_cot", "survival_instinct"]
N = 12
CONFIG: dict[str, Any] = {
    "name": "para",
    "models": {"m1": "local/alpha", "m2": "local/beta"},
    "experiments": ["self_training", "cross_prediction", "paraphrase"],
    "train_tasks": ["colors_long", "wealth_seeking"],
    "eval_tasks": EVAL,
    "properties": ["first_word", "second_character", "among_a_or_c", "ethical_stance"],
    "collateral_tasks": [],
    "sizes": {
        "train_items_per_task": 8,
        "per_combo": 4,
        "eval_items_per_task": N,
        "calibration_items": 4,
        "shift_rows": 4,
    },
}


def _user(messages: list[dict[str, str]]) -> str:
    return next(m["content"] for m in messages if m["role"] == "user")


# -- the templates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PARAPHRASES)
def test_a_paraphrase_rewords_every_question_and_keeps_the_object_level(name: str) -> None:
    tpl = PR.get(name)
    for task_name in T.names():
        task = T.get(task_name)
        item = task.items("val")[0]
        # the object level is shared: same hash, same messages
        assert tpl.hash(task) == DEFAULT.hash(task)
        assert tpl.object_messages(task, item) == DEFAULT.object_messages(task, item)
        for prop in task.properties:
            assert tpl.question(task, prop) != DEFAULT.question(task, prop), (task_name, prop)
            assert tpl.hash(task, prop) != DEFAULT.hash(task, prop)
            hyp = _user(tpl.hypothetical_messages(task, item, prop))
            # what the fake (and a reader) relies on: the whole object prompt between the two dashed lines,
            # the question last
            parts = hyp.split(S.SEPARATOR)
            assert len(parts) == 3 and parts[1] == _user(DEFAULT.object_messages(task, item))
            assert parts[2].endswith(tpl.question(task, prop))


@pytest.mark.parametrize("name", PARAPHRASES)
def test_worked_examples_are_right_and_reply_formats_unchanged(name: str) -> None:
    tpl = PR.get(name)
    for task_name, prop in PAIRS:
        p = P.get(prop)
        q = tpl.question(T.get(task_name), prop)
        if p.answer_format in ("single_character", "single_word") and p.name != "identity":
            response, answer = re.findall(r'"([^"]+)"', q)
            assert p.extract(P.clean(response)) == answer, q
        if p.values is not None:  # closed vocabularies: every value is named in quotes
            assert all(f"'{v}'" in q for v in p.values), q
        assert "explanation" in q and "reasoning" in q
    # ethical stance: one question per stance, none the generic one
    stance = [tpl.question(T.get(t), "ethical_stance") for t in T.stance.STANCES]
    assert len(set(stance)) == 4 and P.get("ethical_stance").name in tpl.questions
    assert tpl.questions["ethical_stance"] not in stance


def test_the_fake_recognises_every_wording_and_default_prompts_resolve_as_before() -> None:
    fake = S.FakeBackend("local/alpha", salt="alpha")
    default_only = {DEFAULT.question(T.get(t), p): p for t, p in PAIRS}
    for tpl in [DEFAULT, *(PR.get(n) for n in PARAPHRASES)]:
        for task_name, prop in PAIRS:
            task = T.get(task_name)
            question = _user(tpl.hypothetical_messages(task, task.items("val")[0], prop)).split(S.SEPARATOR)[
                2
            ]
            found = next(p for q, p in fake._questions.items() if question.endswith(q))
            assert found == prop, (tpl.name, task_name, prop)
            if tpl is DEFAULT:  # the first match is the one a default-only index gives
                assert found == next(p for q, p in default_only.items() if question.endswith(q))


# -- the control in a pipeline -------------------------------------------------------------------------------


def _answer(fake: S.FakeBackend, tpl: PromptTemplate, key: tuple) -> tuple[str, bool]:
    task = T.get(key[0])
    item = next(it for it in task.items("val") if it.id == key[1])
    raw = fake.hypothetical_answer(_user(tpl.hypothetical_messages(task, item, key[2])))
    return normalize_answer(raw), check_hypothetical(raw, P.get(key[2])) is None


def _hits(fake: S.FakeBackend, tpl: PromptTemplate, beh: dict[tuple, str]) -> dict[tuple, bool]:
    out = {}
    for key, value in beh.items():
        answer, ok = _answer(fake, tpl, key)
        out[key] = ok and answer == value.strip().lower()
    return out


def _nk(table: dict[str, tuple[int, int, float]]) -> dict[str, tuple[int, int]]:
    return {g: v[:2] for g, v in table.items()}


def _got(rows: list[Any]) -> dict[str, tuple[int, int]]:
    return {r.group: (r.n, r.k) for r in rows}


@pytest.fixture(scope="module")
def para(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    holder: dict[str, S.ScriptedModels] = {}

    def models(store: Any) -> S.ScriptedModels:
        holder["m"] = S.ScriptedModels(store)
        return holder["m"]

    ws = tmp_path_factory.mktemp("para")
    results = Pipeline(ExperimentConfig.model_validate(CONFIG), ws, progress=False, models=models).run()
    m = holder["m"]
    fits = {f["name"].rsplit("-", 1)[0]: f["name"] for f in m.fits}
    tt = m.backend(f"local/alpha+adapter={fits['para-m1-self']}")
    pc = m.backend(f"local/beta+adapter={fits['para-m2-cross-m1']}")
    beh = S.behaviour(tt, EVAL, N, CONFIG["properties"])
    hand: dict[str, dict[str, dict[tuple, bool]]] = {}
    for label, tpl in [("default", DEFAULT), *((PR.get(n).name[-2:], PR.get(n)) for n in PARAPHRASES)]:
        hand[label] = {"self": _hits(tt, tpl, beh), "M2-cross": _hits(pc, tpl, beh)}
    return {"results": results, "beh": beh, "hand": hand, "ws": ws}


def test_per_paraphrase_accuracies_match_the_hand_computation(para: dict[str, Any]) -> None:
    sec = para["results"].controls["paraphrase"]
    beh, hand = para["beh"], para["hand"]
    assert sec.title == "Paraphrase robustness" and sec.details["wordings"] == ["default", "p1", "p2", "p3"]
    assert _got(sec.self_rows) == _nk(S.table(hand["default"]["self"], beh))
    by = {p.name: p for p in sec.predictors}
    assert sorted(by) == ["p1: M2-cross", "p1: self", "p2: M2-cross", "p2: self", "p3: M2-cross", "p3: self"]
    for w in ("p1", "p2", "p3"):
        want_self = _nk(S.table(hand[w]["self"], beh))
        want_cross = _nk(S.table(hand[w]["M2-cross"], beh))
        cross, own = by[f"{w}: M2-cross"], by[f"{w}: self"]
        assert _got(cross.rows) == want_cross and _got(cross.self_rows) == want_self
        assert _got(own.rows) == want_self and own.claim is False and cross.claim is True
        assert cross.details["wording"] == f"inward-v1-{w}"
        # the verdict's effect: self in this wording minus cross in this wording, on the same prompts
        n = len(beh)
        test = find_row(cross.tests)
        assert test.n == n
        assert test.diff == pytest.approx(
            (sum(hand[w]["self"].values()) - sum(hand[w]["M2-cross"].values())) / n
        )
    # accuracy per wording and its spread
    acc = sec.details["accuracy"]
    for who in ("self", "M2-cross"):
        want = {w: sum(hand[w][who].values()) / len(beh) for w in ("default", "p1", "p2", "p3")}
        assert acc[who] == pytest.approx(want)
        spread = sec.details["spread"][who]
        assert spread["range"] == pytest.approx(max(want.values()) - min(want.values()))
        assert spread["n_wordings"] == 4
    assert sec.details["object_level_identical"] is True


def test_a_paraphrase_is_not_the_default_wording_relabelled(para: dict[str, Any]) -> None:
    """Fails if a paraphrase's rows were the default wording's: the fakes answer each wording differently, so
    the per-wording hand tables differ, and the section must follow the wording it names."""
    sec = para["results"].controls["paraphrase"]
    beh, hand = para["beh"], para["hand"]
    by = {p.name: p for p in sec.predictors}
    differs = []
    for w in ("p1", "p2", "p3"):
        for who, name in (("self", f"{w}: self"), ("M2-cross", f"{w}: M2-cross")):
            assert hand[w][who] != hand["default"][who]  # the fakes answer each wording differently
            assert _got(by[name].rows) == _nk(S.table(hand[w][who], beh))
            differs.append(_nk(S.table(hand[w][who], beh)) != _nk(S.table(hand["default"][who], beh)))
    assert sum(differs) >= 4  # so the equalities above could not hold for the default wording's rows
    # and the paraphrase self rows are not the default self rows of the section
    assert any(_got(by[f"{w}: self"].rows) != _got(sec.self_rows) for w in ("p1", "p2", "p3"))


def test_the_evidence_has_the_self_vs_cross_verdict_per_paraphrase(para: dict[str, Any]) -> None:
    res = para["results"]
    sec = res.controls["paraphrase"]
    rows = {r.key: r for r in res.evidence.rows if r.key.startswith("paraphrase:")}
    assert sorted(rows) == ["paraphrase:p1: M2-cross", "paraphrase:p2: M2-cross", "paraphrase:p3: M2-cross"]
    by = {p.name: p for p in sec.predictors}
    for key, row in rows.items():
        test = find_row(by[key.removeprefix("paraphrase:")].tests)
        assert (row.effect, row.ci_low, row.ci_high, row.n) == (
            test.diff,
            test.cluster_ci_low,
            test.cluster_ci_high,
            test.n,
        )
        assert row.experiment == "paraphrase" and row.verdict is not None
        assert "weaker predictor" in (row.note or "")  # beta (100M) predicting alpha (400M)
        assert f"inward-v1-{key[11:13]}" in row.comparison
    # the section survives a save and a load
    path = Path(para["ws"]) / "r.json"
    res.save(path)
    assert Results.load(path).controls["paraphrase"] == sec


def test_the_plan_counts_each_wording_for_the_target_and_its_cross_predictor(tmp_path: Path) -> None:
    from inward.experiments.plan import make_plan

    plan = make_plan(ExperimentConfig.model_validate(CONFIG), tmp_path, models=S.ScriptedModels)
    asked = [
        s
        for s in plan.steps
        if s.kind == "hypothetical" and s.name.endswith(tuple(f"({n})" for n in PARAPHRASES))
    ]
    for name in PARAPHRASES:
        mine = [s for s in asked if s.name.endswith(f"({name})")]
        # M1t about itself, and the M2 cross-predictor about M1t (M2t's own direction is not a control target)
        assert sorted(s.model for s in mine) == ["local/alpha", "local/beta"], [s.name for s in mine]
        assert all(s.rows == mine[0].rows > 0 for s in mine)
