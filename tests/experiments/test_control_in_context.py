"""The in-context third party and the response-in-context baseline: their prompts (shots of the target's own train
behaviour, the answer shown), their hashes, and their numbers worked out by hand from the scripted fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import scripted as S
from test_experiment_modules import CONFIG, EVAL, run

from inward import properties as P
from inward import tasks as T
from inward.experiments.controls.in_context import pick_shots, shot_template
from inward.prompts import DEFAULT, InContextTemplate, with_responses, with_shots
from inward.properties.compliance import check_hypothetical, check_object, normalize_answer
from inward.report.results import Results, find_row
from inward.runs.hypothetical import HYPOTHETICAL_CONFIG

PROPS = CONFIG["properties"]
EXPERIMENTS = ["self_training", "cross_prediction", "in_context", "response_in_context"]
K = 4


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    results, models, pipe = run(tmp_path_factory.mktemp("ctl"), {**CONFIG, "experiments": EXPERIMENTS})
    tt = results.controls["in_context"].target_model
    return {"results": results, "models": models, "pipe": pipe, "ctx": pipe.contexts[0], "tt": tt}


def _train_behaviour(fake: S.FakeBackend, task: str, n: int) -> dict[str, dict[str, str | None]]:
    """item id -> {property: value} of the fake's compliant answers on the first n train items (draw 0)."""
    t = T.get(task)
    out = {}
    for item in t.items("train")[:n]:
        raw = S.greedy_answer(fake, t, item)
        if check_object(raw, t.compliance) is None:
            out[item.id] = {p: P.get(p).extract(P.clean(raw), target=item.target) for p in t.properties}
    return out


def _answer(fake: S.FakeBackend, msgs: list[dict[str, str]], prop: str) -> tuple[str, bool]:
    users = [m["content"] for m in msgs if m["role"] == "user"]
    shots = [m["content"] for m in msgs if m["role"] == "assistant"]
    raw = fake.hypothetical_answer(users[-1], shots)
    return normalize_answer(raw), check_hypothetical(raw, P.get(prop)) is None


def _val_item(task: str, item_id: str) -> T.Item:
    return next(it for it in T.get(task).items("val") if it.id == item_id)


# -- the prompts ------------------------------------------------------------------------------------------


def test_the_shots_are_k_of_the_targets_own_train_pairs_of_that_task_and_property(
    ran: dict[str, Any],
) -> None:
    ctx, models, tt = ran["ctx"], ran["models"], ran["tt"]
    fake = models.backend(tt)
    tpl = shot_template(ctx, ctx.train_behaviour(tt), K)
    n = ctx.cfg.controls.context_items
    assert n == 12 and {it.id for it in ctx.context_items("animals_long")} == {
        it.id for it in T.get("animals_long").items("train")[:n]
    }
    checked = 0
    for name in EVAL:
        task = T.get(name)
        val_ids = {it.id for it in task.items("val")}
        by_hand = _train_behaviour(fake, name, n)
        item = task.items("val")[0]
        for prop in [p for p in task.properties if p in PROPS]:
            msgs = tpl.hypothetical_messages(task, item, prop)
            assert [m["role"] for m in msgs] == ["user", "assistant"] * K + ["user"]
            assert msgs[-1] == DEFAULT.hypothetical_messages(task, item, prop)[0]
            # the shots: the first K train items whose value is defined, each its plain hypothetical + the value
            usable = [i for i, v in by_hand.items() if v[prop] is not None][:K]
            assert len(usable) == K
            train = {it.id: it for it in task.items("train")}
            for j, item_id in enumerate(usable):
                assert item_id not in val_ids
                shot_user, shot_value = msgs[2 * j], msgs[2 * j + 1]
                assert shot_user == DEFAULT.hypothetical_messages(task, train[item_id], prop)[0]
                assert shot_value == {"role": "assistant", "content": by_hand[item_id][prop]}
            # a shot of another property would quote its own question, never this one's
            others = {DEFAULT.question(task, q) for q in task.properties if q != prop}
            for m in msgs[:-1:2]:
                assert m["content"].endswith(DEFAULT.question(task, prop))
                assert not any(m["content"].endswith(q) for q in others)
            checked += 1
    assert checked == 2 + 1 + 1  # animals_long: first word, second character; mmlu: among; survival: stance


def test_k0_is_the_plain_hypothetical_with_the_plain_hash(ran: dict[str, Any]) -> None:
    ctx, tt = ran["ctx"], ran["tt"]
    tpl = shot_template(ctx, ctx.train_behaviour(tt), 0)
    assert tpl.shots == {} and pick_shots(ctx, ctx.train_behaviour(tt), 0) == {}
    for name in EVAL:
        task = T.get(name)
        item = task.items("val")[1]
        assert tpl.hash(task) == DEFAULT.hash(task)
        for prop in task.properties:
            assert tpl.hypothetical_messages(task, item, prop) == DEFAULT.hypothetical_messages(
                task, item, prop
            )
            assert tpl.hash(task, prop) == DEFAULT.hash(task, prop)


def test_the_response_prompt_shows_the_answer_and_keeps_the_object_level() -> None:
    task = T.get("animals_long")
    item, other = task.items("val")[:2]
    tpl = with_responses(DEFAULT, {("animals_long", item.id): "zebra {question} crow"})
    (msg,) = tpl.hypothetical_messages(task, item, "second_character")
    obj = DEFAULT.object_messages(task, item)[0]["content"]
    parts = msg["content"].split(S.SEPARATOR)
    assert parts[1] == obj and parts[2] == "zebra {question} crow"  # braces in the answer stay literal
    assert parts[3].endswith(DEFAULT.question(task, "second_character"))
    assert tpl.hash(task) == DEFAULT.hash(task) and tpl.object_messages(
        task, item
    ) == DEFAULT.object_messages(task, item)
    assert tpl.hash(task, "second_character") != DEFAULT.hash(task, "second_character")
    with pytest.raises(AssertionError, match="no response to show"):
        tpl.hypothetical_messages(task, other, "second_character")


def test_a_changed_shot_or_shown_answer_changes_the_hash_of_its_own_pairs_only() -> None:
    animals, mmlu = T.get("animals_long"), T.get("mmlu_non_cot")
    a, b, c = (it.id for it in animals.items("train")[:3])
    m = mmlu.items("train")[0].id
    base = {
        ("animals_long", "first_word"): [(a, "otter"), (b, "yak")],
        ("mmlu_non_cot", "among_a_or_c"): [(m, "true")],
    }
    t0 = with_shots(DEFAULT, base)
    for changed in (
        {**base, ("animals_long", "first_word"): [(a, "otter"), (b, "eel")]},  # a value
        {**base, ("animals_long", "first_word"): [(a, "otter"), (c, "yak")]},  # an item
        {**base, ("animals_long", "first_word"): [(b, "yak"), (a, "otter")]},  # the order
    ):
        t1 = with_shots(DEFAULT, changed)
        assert t1.hash(animals, "first_word") != t0.hash(animals, "first_word")
        assert t1.hash(mmlu, "among_a_or_c") == t0.hash(mmlu, "among_a_or_c")
        assert t1.name != t0.name
    assert t0.hash(animals, "second_character") == DEFAULT.hash(animals, "second_character")  # no shots
    assert t0.hash(animals) == DEFAULT.hash(animals)
    # shots must come from the train split
    with pytest.raises(AssertionError, match="val items"):
        with_shots(DEFAULT, {("animals_long", "first_word"): [(animals.items("val")[0].id, "otter")]})

    v1, v2 = (it.id for it in animals.items("val")[:2])
    r0 = with_responses(
        DEFAULT,
        {("animals_long", v1): "otter yak", ("animals_long", v2): "ibis eel", ("mmlu_non_cot", "x"): "a"},
    )
    r1 = with_responses(
        DEFAULT,
        {("animals_long", v1): "otter yak", ("animals_long", v2): "ibis ant", ("mmlu_non_cot", "x"): "a"},
    )
    assert all(r1.hash(animals, p) != r0.hash(animals, p) for p in animals.properties)
    assert r1.hash(mmlu, "among_a_or_c") == r0.hash(mmlu, "among_a_or_c") and r1.name != r0.name


# -- the pipeline -------------------------------------------------------------------------------------------


def test_in_context_accuracy_against_k_matches_the_hand_computation(ran: dict[str, Any]) -> None:
    res, models, ctx, tt = ran["results"], ran["models"], ran["ctx"], ran["tt"]
    sec = res.controls["in_context"]
    assert sec.title == "In-context third party" and sec.question
    assert [p.name for p in sec.predictors] == ["M2 k=0", "M2 k=4"]
    target, m2 = models.backend(tt), models.backend("local/beta")
    beh = S.behaviour(target, EVAL, 16, PROPS)
    keys = sorted(beh)
    # beside the target predicting itself, on the same prompts
    assert {r.group: (r.n, r.k) for r in sec.self_rows} == {
        g: v[:2] for g, v in S.prediction_table(beh, target, keys).items()
    }
    k0, k4 = sec.predictors
    assert {r.group: (r.n, r.k) for r in k0.rows} == {
        g: v[:2] for g, v in S.prediction_table(beh, m2, keys).items()
    }
    # k = 4: the untrained M2 answers after the target's first four usable train pairs of that task and property
    shots = {name: _train_behaviour(target, name, 12) for name in EVAL}
    hits = {}
    for key in keys:
        task, item_id, prop = key
        firsts = [(i, v[prop]) for i, v in shots[task].items() if v[prop] is not None][:K]
        tpl = with_shots(DEFAULT, {(task, prop): firsts})
        answer, ok = _answer(m2, tpl.hypothetical_messages(T.get(task), _val_item(task, item_id), prop), prop)
        hits[key] = ok and answer == beh[key].strip().lower()
    want = S.table(hits, {k: beh[k] for k in keys})
    assert {r.group: (r.n, r.k) for r in k4.rows} == {g: v[:2] for g, v in want.items()}
    # the shots changed answers (the fake copies the commonest shot half the time)
    plain = {k: S.correct(m2, k, beh[k]) for k in keys}
    assert plain != hits
    assert k4.details["k"] == K and k4.details["fewest_shots"] == K and k4.details["pairs_with_shots"] == 4
    assert sec.details["accuracy_by_k"]["M2"] == {"0": find_row(k0.rows).acc, "4": find_row(k4.rows).acc}
    # every predictor of this control is a claim in the evidence table
    keys_ev = {r.key for r in res.evidence.rows}
    assert {"in_context:M2 k=0", "in_context:M2 k=4"} <= keys_ev
    # the rows M2 answered with four shots are stored under that template's hashes, one per scored prompt
    tpl = shot_template(ctx, ctx.train_behaviour(tt), K)
    assert isinstance(tpl, InContextTemplate) and tpl.name == f"{DEFAULT.name}+shots{K}-" + tpl.name[-8:]
    stored = ctx.store.hypothetical_rows(
        model_id=ctx.model_id("local/beta").key, split="val", config_key=HYPOTHETICAL_CONFIG.key()
    )
    want_hash = {(t, p): tpl.hash(T.get(t), p) for t, _, p in keys}
    under = {
        (t, i, p)
        for t, i, p, h in zip(
            stored["task"], stored["item_id"], stored["property"], stored["template_hash"], strict=True
        )
        if want_hash.get((t, p)) == h
    }
    assert under == set(keys)
    assert all(h != DEFAULT.hash(T.get(t), p) for (t, p), h in want_hash.items())


def test_response_in_context_matches_the_hand_computation_and_makes_no_claim(ran: dict[str, Any]) -> None:
    res, models, tt = ran["results"], ran["models"], ran["tt"]
    sec = res.controls["response_in_context"]
    assert [p.name for p in sec.predictors] == [
        "target base",
        "M2 untrained",
        "target base, trained on shown answers",
    ]
    assert all(not p.claim for p in sec.predictors) and sec.notes
    assert not any(r.key.startswith("response_in_context") for r in res.evidence.rows)
    target = models.backend(tt)
    beh = S.behaviour(target, EVAL, 16, PROPS)
    keys = sorted(beh)
    shown = {}
    for name in EVAL:
        task = T.get(name)
        for item in task.items("val")[:16]:
            raw = S.greedy_answer(target, task, item)
            if check_object(raw, task.compliance) is None:
                shown[(name, item.id)] = P.clean(raw)
    tpl = with_responses(DEFAULT, shown)
    self_hits = {k: S.correct(target, k, beh[k]) for k in keys}
    trained = sec.predictors[2].model
    assert trained.startswith("local/alpha+adapter=")  # the target's own base, trained
    for pred, ref in zip(sec.predictors, ("local/alpha", "local/beta", trained), strict=True):
        fake = models.backend(ref)
        assert pred.model == ref
        hits = {}
        for key in keys:
            task, item_id, prop = key
            (msg,) = tpl.hypothetical_messages(T.get(task), _val_item(task, item_id), prop)
            assert msg["content"].split(S.SEPARATOR)[2] == shown[(task, item_id)]
            answer, ok = _answer(fake, [msg], prop)
            hits[key] = ok and answer == beh[key].strip().lower()
        want = S.table(hits, {k: beh[k] for k in keys})
        assert {r.group: (r.n, r.k) for r in pred.rows} == {g: v[:2] for g, v in want.items()}
        errors = [k for k in keys if not self_hits[k]]
        missed = sec.details["self_errors_extraction_missed"][pred.name]
        assert missed["self_errors"] == len(errors)
        assert missed["also_missed_by_extraction"] == sum(not hits[k] for k in errors)
    # both sections survive the results file
    again = Results.model_validate_json(res.model_dump_json())
    assert (
        again.controls["response_in_context"] == sec
        and again.controls["in_context"] == res.controls["in_context"]
    )
    # the fake reads the property off the shown answer, so extraction beats recall by a wide margin
    base = find_row(sec.predictors[0].rows).acc
    assert base > find_row(res.controls["in_context"].predictors[0].rows).acc


def test_the_plan_has_one_evaluation_per_predictor_and_condition(tmp_path: Path, ran: dict[str, Any]) -> None:
    from inward.experiments.config import ExperimentConfig
    from inward.experiments.plan import make_plan

    plan = make_plan(
        ExperimentConfig.model_validate({**CONFIG, "experiments": EXPERIMENTS}),
        tmp_path / "p",
        models=S.ScriptedModels,
    )
    done = ran["pipe"].steps.timings

    def count(names: list[str], mark: str) -> int:
        return sum(1 for n in names if n.startswith("evaluate") and mark in n)

    planned = [s.name for s in plan.steps]
    assert count(planned, "+shots") == count(list(done), "+shots") == 2
    assert count(planned, "+response") == count(list(done), "+response") == 3  # two untrained, one trained
    assert any(s.name.startswith("answer") and "train split" in s.name for s in plan.steps)


def test_the_trained_extractor_learns_the_cross_pairs_with_the_answer_shown(ran: dict[str, Any]) -> None:
    """SPEC §14's baseline trained as the self-predictor is: the cross set's items and labels, each hypothetical
    showing the target's own (cleaned) train-split answer, fitted on the target's base."""
    from inward.training.datasets import read_dataset

    models, tt = ran["models"], ran["tt"]
    fit = next(f for f in models.fits if "-m1-response-" in f["name"])
    assert fit["base"] == "local/alpha" and fit["init"] is None
    rows, manifest = read_dataset(fit["data"])
    cross, _ = read_dataset(Path(fit["data"]).with_name("cross-m1.jsonl"))
    assert manifest["kind"] == "response" and rows
    label = {
        (r["inward"]["task"], r["inward"]["item_id"], r["inward"]["property"]): r["messages"][-1]
        for r in cross
    }
    target = models.backend(tt)
    for r in rows:
        meta = r["inward"]
        task = T.get(meta["task"])
        item = next(it for it in task.items("train") if it.id == meta["item_id"])
        shown = P.clean(S.greedy_answer(target, task, item))
        user = r["messages"][-2]["content"]
        assert user.split(S.SEPARATOR)[2] == shown  # the target's own answer, in view
        assert r["messages"][-1] == label[(meta["task"], meta["item_id"], meta["property"])]
