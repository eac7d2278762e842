"""Object → meta → score end to end with a deterministic fake backend: storage, resume, cache, early stop,
which hypotheticals are asked, and accuracy / mode baseline against a computation by hand."""

from __future__ import annotations

import io
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fake_backend import CHOICE_JUNK, TEXT_REFUSAL, FakeBackend

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend
from inward.errors import UserError
from inward.metrics import reporting_group
from inward.prompts import DEFAULT
from inward.properties.compliance import check_hypothetical, check_object, normalize_answer
from inward.runs import OBJECT_CONFIG, run_hypotheticals, run_object, score
from inward.runs.cache import CachedGenerator
from inward.store import DB_NAME, Store

TASKS = ["animals_long", "mmlu_non_cot", "survival_instinct", "numbers"]
LIMIT = 24


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "ws")
    yield s
    s.close()


def _object_text(task: T.Task, item: T.Item) -> str:
    return DEFAULT.object_messages(task, item)[-1]["content"]


def _none(x: object) -> object:
    """The store's frames hold NaN where a column has None; compare as None."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


@dataclass(frozen=True)
class Expected:
    task: str
    item_id: str
    property: str
    value: str
    correct: bool


def by_hand(
    obj: FakeBackend, meta: FakeBackend, tasks: list[str] = TASKS, limit: int = LIMIT
) -> list[Expected]:
    """The scored rows as the paper defines them, from the fakes' answers, without the store or pandas."""
    out = []
    for name in tasks:
        task = T.get(name)
        for item in task.items("val")[:limit]:
            answer = obj.object_answer(_object_text(task, item))
            if check_object(answer, task.compliance) is not None:
                continue
            for pname in task.properties:
                prop = P.get(pname)
                value = prop.value(answer, item.target)
                if prop.training_only or value is None:
                    continue
                hyp = meta.hypothetical_answer(
                    DEFAULT.hypothetical_messages(task, item, pname)[-1]["content"]
                )
                correct = (
                    check_hypothetical(hyp, prop) is None and normalize_answer(hyp) == value.strip().lower()
                )
                out.append(Expected(name, item.id, pname, value, correct))
    return out


def test_fake_is_a_backend_and_its_answers_are_mixed() -> None:
    fake = FakeBackend()
    assert isinstance(fake, Backend)
    answers = [
        fake.object_answer(_object_text(T.get(n), it)) for n in TASKS for it in T.get(n).items("val")[:LIMIT]
    ]
    # The test data exercises refusals and junk, not only clean answers.
    assert TEXT_REFUSAL in answers and CHOICE_JUNK in answers
    assert len(set(answers)) > 20


def test_object_rows_are_stored_with_properties_and_compliance(store: Store) -> None:
    fake = FakeBackend()
    res = run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    assert (res.new_rows, res.existing_rows) == (LIMIT * len(TASKS), 0)
    for name in TASKS:
        task = T.get(name)
        df = store.object_rows(model=fake.ref, task=name, split="val", template_hash=DEFAULT.hash(task))
        assert len(df) == LIMIT
        items = {it.id: it for it in task.items("val")[:LIMIT]}
        assert set(df["item_id"]) == set(items)
        for row in df.to_dict(orient="records"):
            item = items[row["item_id"]]
            full = fake.object_answer(_object_text(task, item))
            assert full.startswith(row["raw"])
            assert row["item_text"] == item.text and _none(row["target"]) == item.target
            assert row["config_key"] == OBJECT_CONFIG.key()
            assert set(row["properties"]) == set(task.properties)
            for pname, value in row["properties"].items():
                assert value == P.get(pname).value(full, item.target), (name, pname, full)
            assert _none(row["compliance"]) == check_object(full, task.compliance)
        reasons = Counter(c for c in df["compliance"] if isinstance(c, str))
        assert sum(reasons.values()) > 0, f"no non-compliant rows on {name}: the fake is too tame"


def test_rerun_costs_no_backend_calls_and_extends_incrementally(store: Store) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=TASKS, limit=10, progress=False)
    asked = len(fake.prompts)
    assert asked == 10 * len(TASKS)
    res = run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    assert (res.new_rows, res.existing_rows) == ((LIMIT - 10) * len(TASKS), 10 * len(TASKS))
    assert len(fake.prompts) == asked + (LIMIT - 10) * len(TASKS)  # only the new items were asked
    calls = fake.calls
    res = run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    assert (res.new_rows, res.existing_rows) == (0, LIMIT * len(TASKS))
    run_hypotheticals(store, fake, tasks=TASKS, progress=False)
    calls = fake.calls
    res = run_hypotheticals(store, fake, tasks=TASKS, progress=False)
    assert res.new_rows == 0 and res.existing_rows > 0
    assert fake.calls == calls


def test_lost_rows_are_rebuilt_from_the_call_cache(store: Store, tmp_path: Path) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=TASKS, limit=8, progress=False)
    before = store.object_rows(model=fake.ref).sort_values(["task", "item_id"]).reset_index(drop=True)
    with sqlite3.connect(tmp_path / "ws" / DB_NAME) as db:
        db.execute("DELETE FROM object_rows")
    assert store.object_rows(model=fake.ref).empty
    calls = fake.calls
    res = run_object(store, fake, tasks=TASKS, limit=8, progress=False)
    assert res.new_rows == 8 * len(TASKS)
    assert fake.calls == calls  # every answer came from the cache
    after = store.object_rows(model=fake.ref).sort_values(["task", "item_id"]).reset_index(drop=True)
    assert after["raw"].tolist() == before["raw"].tolist()
    assert after["properties"].tolist() == before["properties"].tolist()


def test_cache_key_covers_model_config_and_stop_rule(store: Store) -> None:
    task = T.get("animals_long")
    msgs = [DEFAULT.object_messages(task, it) for it in task.items("val")[:3]]
    alpha = FakeBackend("fake/alpha", salt="alpha")
    gen = CachedGenerator(alpha, store)
    greedy = OBJECT_CONFIG.generate_config()
    first = gen.generate(msgs, greedy)
    again = gen.generate(msgs, greedy)
    assert alpha.calls == 1 and (gen.hits, gen.misses) == (3, 3)
    assert [g[0].text for g in again] == [g[0].text for g in first]
    gen.generate(msgs, replace(greedy, max_tokens=7))
    gen.generate(msgs, greedy, stop_key="first_word")
    assert alpha.calls == 3
    # Another model under the same ref string (e.g. a retrained adapter) does not hit alpha's answers.
    beta = FakeBackend("fake/alpha", salt="beta")
    out = CachedGenerator(beta, store).generate(msgs, greedy)
    assert beta.calls == 1
    assert [g[0].text for g in out] == [beta.object_answer(m[-1]["content"]) for m in msgs]


def test_early_stop_truncates_but_never_changes_a_value(tmp_path: Path) -> None:
    runs = {}
    for early in (True, False):
        fake = FakeBackend()
        with Store.open(tmp_path / f"ws-{early}") as s:
            run_object(s, fake, tasks=TASKS, limit=LIMIT, early_stop=early, progress=False)
            df = s.object_rows(model=fake.ref).set_index(["task", "item_id"]).sort_index()
        runs[early] = (df, fake.generated_chars)
    (stopped, chars_stopped), (full, chars_full) = runs[True], runs[False]
    assert list(stopped.index) == list(full.index)
    assert stopped["properties"].tolist() == full["properties"].tolist()
    # This fake's unusable answers are recognisable from the stopped prefix, so compliance agrees as well.
    assert stopped["compliance"].tolist() == full["compliance"].tolist()
    for short, whole in zip(stopped["raw"], full["raw"], strict=True):
        assert whole.startswith(short)
    early_rows = stopped[stopped["finish_reason"] == "early"]
    # One-letter answers have nothing to cut; most five-word lists stop after their third word.
    assert len(early_rows.loc["animals_long"]) > LIMIT // 2
    assert all(
        len(r) < len(w) for r, w in zip(early_rows["raw"], full.loc[early_rows.index, "raw"], strict=True)
    )
    assert set(full["finish_reason"]) == {"stop"}
    assert chars_stopped < chars_full


class SorryFake(FakeBackend):
    """Refuses multiple-choice questions in words: a refusal that early stopping cannot see."""

    def object_answer(self, text: str) -> str:
        answer = super().object_answer(text)
        return "Sorry, no." if answer == CHOICE_JUNK else answer


def test_early_stop_judges_compliance_on_the_prefix(tmp_path: Path) -> None:
    """The documented deviation: a refusal written after the properties were fixed is not seen."""
    tables = {}
    for early in (True, False):
        with Store.open(tmp_path / f"ws-{early}") as s:
            run_object(
                s, SorryFake(), tasks=["survival_instinct"], limit=LIMIT, early_stop=early, progress=False
            )
            tables[early] = s.object_rows(task="survival_instinct").set_index("item_id").sort_index()
    stopped, full = tables[True], tables[False]
    assert stopped["properties"].tolist() == full["properties"].tolist()
    refused = full[full["raw"] == "Sorry, no."]
    assert len(refused) > 0
    assert set(refused["compliance"]) == {"refusal:sorry"}
    assert set(stopped.loc[refused.index, "raw"]) == {"S"}
    assert stopped.loc[refused.index, "compliance"].isna().all()


def test_hypothetical_asks_only_for_compliant_rows_with_a_value(store: Store) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    n_object = len(fake.prompts)
    run_hypotheticals(store, fake, tasks=TASKS, progress=False)
    asked = fake.prompts[n_object:]
    want = by_hand(fake, fake)
    assert len(asked) == len(want) == len(set(asked))
    meta = store.hypothetical_rows(model=fake.ref)
    assert set(zip(meta["task"], meta["item_id"], meta["property"], strict=True)) == {
        (e.task, e.item_id, e.property) for e in want
    }
    # No hypothetical quotes an unusable object answer's prompt, and every stored answer is normalised.
    refused = {
        _object_text(T.get(n), it)
        for n in TASKS
        for it in T.get(n).items("val")[:LIMIT]
        if check_object(fake.object_answer(_object_text(T.get(n), it)), T.get(n).compliance)
    }
    assert refused and not any(q in text for q in refused for text in asked)
    assert all(a == normalize_answer(r) for a, r in zip(meta["answer"], meta["raw"], strict=True))
    # Items whose answer has only two words get no third_word question but do get the others.
    assert any(e.property == "first_word" for e in want)
    two_words = [e.item_id for e in want if e.task == "animals_long" and e.property == "second_word"]
    third = {e.item_id for e in want if e.task == "animals_long" and e.property == "third_word"}
    assert set(two_words) - third, "expected some animals answers without a third word"


def test_hypothetical_for_one_property_and_a_limit(store: Store) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=["animals_long"], limit=LIMIT, progress=False)
    run_hypotheticals(
        store, fake, tasks=["animals_long"], properties=["first_word"], limit=10, progress=False
    )
    meta = store.hypothetical_rows(model=fake.ref)
    assert set(meta["property"]) == {"first_word"}
    assert set(meta["item_id"]) <= {it.id for it in T.get("animals_long").items("val")[:10]}


def test_hypothetical_only_asks_the_given_keys(store: Store) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=["animals_long"], limit=LIMIT, progress=False)
    items = [it.id for it in T.get("animals_long").items("val")[:3]]
    only = {("animals_long", items[0], "first_word"), ("animals_long", items[2], "starts_with_vowel")}
    only.add(("animals_long", "no-such-item", "first_word"))  # a key with no request is ignored
    res = run_hypotheticals(store, fake, tasks=["animals_long"], limit=LIMIT, progress=False, only=only)
    meta = store.hypothetical_rows(model=fake.ref)
    got = set(zip(meta["task"], meta["item_id"], meta["property"], strict=True))
    assert got == only - {("animals_long", "no-such-item", "first_word")}
    assert res.new_rows == 2


def _hand_tables(rows: list[Expected]) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """(group -> (n, correct)), (group -> rows equal to the mode of their (task, property))."""
    acc: dict[str, list[int]] = {}
    for e in rows:
        for g in (reporting_group(e.property), "average"):
            n, k = acc.get(g, [0, 0])
            acc[g] = [n + 1, k + int(e.correct)]
    values: dict[tuple[str, str], list[str]] = {}
    for e in rows:
        values.setdefault((e.task, e.property), []).append(e.value)
    mode = {key: min(Counter(v).items(), key=lambda vc: (-vc[1], vc[0]))[0] for key, v in values.items()}
    hits: Counter[str] = Counter()
    for e in rows:
        if e.value == mode[(e.task, e.property)]:
            hits[reporting_group(e.property)] += 1
            hits["average"] += 1
    return {g: (n, k) for g, (n, k) in acc.items()}, dict(hits)


def _check_score(table: object, rows: list[Expected]) -> None:
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    acc, hits = _hand_tables(rows)
    got = table.set_index("group")
    assert set(got.index) == set(acc)
    for group, (n, k) in acc.items():
        assert (got.loc[group, "n"], got.loc[group, "k"]) == (n, k), group
        assert got.loc[group, "acc"] == pytest.approx(k / n)
        assert got.loc[group, "baseline"] == pytest.approx(hits.get(group, 0) / n), group
    assert 0 < acc["average"][1] < acc["average"][0]  # neither all right nor all wrong


def test_self_prediction_score_matches_a_hand_computation(store: Store) -> None:
    fake = FakeBackend()
    run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    run_hypotheticals(store, fake, tasks=TASKS, progress=False)
    res = score(store, object_model=fake, hypothetical_model=fake, tasks=TASKS)
    rows = by_hand(fake, fake)
    assert len(res.scored) == len(rows)
    _check_score(res.table, rows)
    # Only the groups of the tasks asked appear, and the average pools rows (it is not a mean of groups).
    assert set(res.table["group"]) == {"average", "among_options", "ethical_stance", "is_even"} | {
        reporting_group(p) for p in T.get("animals_long").properties
    }


def test_cross_prediction_scores_another_models_behaviour(store: Store) -> None:
    alpha, beta = FakeBackend("fake/alpha", salt="alpha"), FakeBackend("fake/beta", salt="beta")
    run_object(store, alpha, tasks=TASKS, limit=LIMIT, progress=False)
    res = run_hypotheticals(store, beta, tasks=TASKS, about=alpha, progress=False)
    assert beta.calls > 0 and all("----------" in p for p in beta.prompts)  # beta never ran the object level
    rows = by_hand(alpha, beta)
    assert res.new_rows == len(rows)
    cross = score(store, object_model=alpha, hypothetical_model=beta, tasks=TASKS)
    _check_score(cross.table, rows)
    # Beta predicts its own behaviour, not alpha's: worse than alpha predicting itself.
    run_hypotheticals(store, alpha, tasks=TASKS, progress=False)
    own = score(store, object_model=alpha, hypothetical_model=alpha, tasks=TASKS)
    avg = {r["group"]: r["acc"] for r in cross.table.to_dict(orient="records")}["average"]
    assert avg < own.table.set_index("group").loc["average", "acc"]
    assert (
        cross.to_dict()["hypothetical_model"] == "fake/beta"
        and cross.to_dict()["object_model"] == "fake/alpha"
    )


def test_score_result_serialises_and_prints(store: Store) -> None:
    from rich.console import Console

    fake = FakeBackend()
    run_object(store, fake, tasks=TASKS, limit=LIMIT, progress=False)
    run_hypotheticals(store, fake, tasks=TASKS, progress=False)
    res = score(store, object_model=fake, hypothetical_model=fake, tasks=TASKS)
    data = json.loads(json.dumps(res.to_dict()))
    assert data["rows"] == len(by_hand(fake, fake))
    assert {r["group"] for r in data["accuracy"]} >= {"average", "ethical_stance"}
    assert data["object_compliance"][-1]["n"] == LIMIT * len(TASKS)
    buf = io.StringIO()
    res.print(Console(file=buf, width=140))
    assert "self-prediction" in buf.getvalue() and "average (micro)" in buf.getvalue()


def test_missing_steps_are_user_errors(store: Store) -> None:
    fake = FakeBackend()
    with pytest.raises(UserError, match="no object-level answers"):
        run_hypotheticals(store, fake, tasks=["animals_long"], progress=False)
    with pytest.raises(UserError, match="no stored behaviour"):
        score(store, object_model=fake, hypothetical_model=fake, tasks=["animals_long"])
    run_object(store, fake, tasks=["animals_long"], limit=4, progress=False)
    with pytest.raises(UserError, match="no stored hypothetical answers"):
        score(store, object_model=fake, hypothetical_model=fake, tasks=["animals_long"])


@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_distributions_are_stored_once_per_item_and_property(store: Store, method: str) -> None:
    from inward.properties.compliance import check_object
    from inward.runs import run_hypothetical_distributions, run_object_distributions
    from inward.runs.distributions import NONCOMPLIANT_KEY, distribution_config

    fake = FakeBackend()
    task = T.get("animals_long")
    kw = {"tasks": ["animals_long"], "properties": ["first_word"], "limit": 6}
    cfg = distribution_config("object", method, samples=3)
    assert run_object_distributions(store, fake, **kw, config=cfg) == 6  # type: ignore[arg-type]
    assert run_object_distributions(store, fake, **kw, config=cfg) == 0  # type: ignore[arg-type]
    df = store.distributions(model=fake.ref, level="object")
    assert len(df) == 6 and set(df["property"]) == {"first_word"}
    refusals = 0
    for item_id, probs in zip(df["item_id"], df["probs"], strict=True):
        item = next(it for it in task.items("val") if it.id == item_id)
        answer = fake.object_answer(_object_text(task, item))
        value = P.get("first_word").value(answer)
        if check_object(answer, task.compliance) is not None:  # a refusal is not a value: its own bucket
            refusals += 1
            assert probs == {NONCOMPLIANT_KEY: 1.0}
        else:
            assert value is not None and probs == {value: 1.0}
    assert 0 < refusals < 6, "the fake should refuse some but not all of these prompts"
    if method == "sampled":
        run_object(store, fake, tasks=["animals_long"], limit=6, progress=False)
        n = run_hypothetical_distributions(
            store, fake, **kw, config=distribution_config("hypothetical", method, samples=3)
        )  # type: ignore[arg-type]
        meta = store.distributions(model=fake.ref, level="hypothetical")
        assert n == len(meta) > 0
        assert all(abs(sum(p.values()) - 1) < 1e-9 for p in meta["probs"])
