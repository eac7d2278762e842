"""Training-set builders with a deterministic fake backend: self-prediction pairs (caps, seeds, held-back
val), cross-prediction sets with exactly the self set's composition, and behaviour-shift sets."""

from __future__ import annotations

import importlib.util
import math
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inward import properties as P
from inward import tasks as T
from inward.errors import UserError
from inward.prompts import DEFAULT
from inward.properties.compliance import check_object
from inward.runs import run_object
from inward.store import Store
from inward.training.datasets import build_cross, build_self, build_shift, composition, read_dataset


def _load_fake() -> Any:
    # The fake backend lives with the run tests; load it by path (test folders are not packages).
    path = Path(__file__).resolve().parents[1] / "runs" / "fake_backend.py"
    spec = importlib.util.spec_from_file_location("inward_tests_fake_backend", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FakeBackend = _load_fake().FakeBackend

TRAIN_TASKS = ["countries_long", "wealth_seeking", "arc_challenge_non_cot", "numbers"]
SHIFT_TASKS = ["animals_long", "english_words_long"]
PER_COMBO = 6
ITEMS = 20


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "ws")
    yield s
    s.close()


def _self(store: Store, fake: Any, out: Path, **kw: Any) -> tuple[Path, Path | None]:
    opts: dict[str, Any] = {
        "tasks": TRAIN_TASKS,
        "per_combo": PER_COMBO,
        "items_per_task": ITEMS,
        "val_fraction": 0.2,
        "seed": 0,
        "progress": False,
    }
    return build_self(store, fake, out, **{**opts, **kw})


def _eligible(fake: Any, task: T.Task, prop: str) -> dict[str, str]:
    """item id -> value for the train items whose answer is compliant and defines `prop`."""
    out = {}
    for item in task.items("train")[:ITEMS]:
        answer = fake.object_answer(DEFAULT.object_messages(task, item)[-1]["content"])
        value = P.get(prop).value(answer, item.target)
        if check_object(answer, task.compliance) is None and value is not None:
            out[item.id] = value
    return out


def _by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["inward"]["task"], r["inward"]["item_id"], r["inward"]["property"]): r for r in rows}


def test_build_self_writes_capped_pairs_manifest_and_val(store: Store, tmp_path: Path) -> None:
    fake = FakeBackend()
    train_path, val_path = _self(store, fake, tmp_path / "self.jsonl")
    assert val_path is not None and val_path.name == "self.val.jsonl"
    train, manifest = read_dataset(train_path)
    val, val_manifest = read_dataset(val_path)
    assert manifest["kind"] == "self" and manifest["source_model"] == fake.ref
    assert manifest["rows"] == len(train) and manifest["composition"] == composition(train)
    assert val_manifest["role"] == "validation" and val_manifest["rows"] == len(val)
    assert manifest["template_hashes"]["numbers:is_even"] == DEFAULT.hash(T.get("numbers"), "is_even")
    assert not set(_by_key(train)) & set(_by_key(val))

    both = train + val
    counts = Counter(f"{r['inward']['task']}/{r['inward']['property']}" for r in both)
    for name in TRAIN_TASKS:
        task = T.get(name)
        used: set[str] = set()  # items an earlier property of the task took: each item serves one property
        for prop in task.properties:
            eligible = set(_eligible(fake, task, prop)) - used
            want = min(PER_COMBO, len(eligible))
            assert counts[f"{name}/{prop}"] == want, (name, prop)
            mine = {
                r["inward"]["item_id"]
                for r in both
                if r["inward"]["task"] == name and r["inward"]["property"] == prop
            }
            assert mine <= eligible
            used |= mine
            n_val = sum(1 for r in val if r["inward"]["task"] == name and r["inward"]["property"] == prop)
            assert n_val == round(want * 0.2)
    assert max(counts.values()) == PER_COMBO  # the cap binds somewhere
    assert "arc_challenge_non_cot/identity" in counts  # training-only properties are trained on

    items = {it.id: it for n in TRAIN_TASKS for it in T.get(n).items("train")}
    for row in both:
        meta = row["inward"]
        task, item = T.get(meta["task"]), items[meta["item_id"]]
        msgs = row["messages"]
        assert msgs[:-1] == DEFAULT.hypothetical_messages(task, item, meta["property"])
        assert msgs[-1]["role"] == "assistant"
        assert msgs[-1]["content"] == _eligible(fake, task, meta["property"])[item.id]


def test_build_self_is_reproducible_and_seeded(store: Store, tmp_path: Path) -> None:
    fake = FakeBackend()
    a, _ = _self(store, fake, tmp_path / "a.jsonl")
    calls = fake.calls
    b, _ = _self(store, fake, tmp_path / "b.jsonl")
    assert fake.calls == calls  # the behaviour is reused from the store
    assert a.read_text() == b.read_text()
    c, _ = _self(store, fake, tmp_path / "c.jsonl", seed=1)
    rows_a, _ = read_dataset(a)
    rows_c, _ = read_dataset(c)
    assert composition(rows_a) == composition(rows_c)
    assert [r["inward"] for r in rows_a] != [r["inward"] for r in rows_c]


def test_build_self_property_filter_and_empty_result(store: Store, tmp_path: Path) -> None:
    fake = FakeBackend()
    path, _ = _self(store, fake, tmp_path / "first.jsonl", properties=["first_character"], val_fraction=0.0)
    rows, manifest = read_dataset(path)
    assert {r["inward"]["property"] for r in rows} == {"first_character"}
    assert manifest["properties"] == ["first_character"]
    with pytest.raises(UserError, match="nothing to train on"):
        _self(store, fake, tmp_path / "none.jsonl", tasks=["numbers"], properties=["first_word"])


def test_build_cross_matches_the_self_composition_exactly(store: Store, tmp_path: Path) -> None:
    alpha = FakeBackend("fake/alpha", salt="alpha")
    beta = FakeBackend("fake/beta", salt="beta")
    self_path, _ = _self(store, alpha, tmp_path / "self.jsonl")
    cross_path = build_cross(store, beta, like=self_path, out=tmp_path / "cross.jsonl", progress=False)
    self_rows, _ = read_dataset(self_path)
    cross_rows, manifest = read_dataset(cross_path)
    assert len(cross_rows) == len(self_rows)
    assert composition(cross_rows) == composition(self_rows)
    assert manifest["kind"] == "cross" and manifest["source_model"] == "fake/beta"

    # The labels are beta's behaviour, not alpha's, on the same prompts wherever beta's answer was usable.
    self_keys = set(_by_key(self_rows))
    items = {it.id: it for n in TRAIN_TASKS for it in T.get(n).items("train")}
    differs = 0
    for key, row in _by_key(cross_rows).items():
        task, item = T.get(key[0]), items[key[1]]
        assert row["messages"][-1]["content"] == _eligible(beta, task, key[2])[item.id]
        differs += row["messages"][-1]["content"] != _eligible(alpha, task, key[2]).get(item.id)
    assert differs > 0
    shared = len(self_keys & set(_by_key(cross_rows)))
    assert shared > len(self_rows) // 2


def test_build_cross_refuses_when_the_other_model_has_too_few_answers(store: Store, tmp_path: Path) -> None:
    class Refuser(FakeBackend):  # type: ignore[misc,valid-type]
        def object_answer(self, text: str) -> str:
            return "**" if "single digit" in text else super().object_answer(text)

    self_path, _ = _self(store, FakeBackend(), tmp_path / "self.jsonl")
    with pytest.raises(UserError, match="too few compliant answers"):
        build_cross(
            store, Refuser("fake/refuser", salt="r"), like=self_path, out=tmp_path / "x.jsonl", progress=False
        )


@pytest.mark.parametrize("fraction", [0.25, 0.5])
def test_build_shift_mixes_source_and_self_rows(store: Store, tmp_path: Path, fraction: float) -> None:
    target = FakeBackend("fake/target", salt="target")
    source = FakeBackend("fake/source", salt="source")
    n = 12
    path = build_shift(
        store,
        target,
        source,
        tmp_path / "shift.jsonl",
        tasks=SHIFT_TASKS,
        n=n,
        self_distill_fraction=fraction,
        seed=3,
        progress=False,
    )
    rows, manifest = read_dataset(path)
    per_task = math.ceil(n / len(SHIFT_TASKS))
    n_self = round(per_task * fraction / (1 - fraction))
    by_source = Counter(r["inward"]["source"] for r in rows)
    assert by_source == {"source": per_task * len(SHIFT_TASKS), "self": n_self * len(SHIFT_TASKS)}
    assert by_source["self"] / len(rows) == pytest.approx(fraction)
    assert manifest["sources"] == dict(by_source) and manifest["kind"] == "shift"
    # Each model answers only the prompts it is needed for: the target the source's usable ones (to compare)
    # and its own, never more than one doubling here.
    for task in SHIFT_TASKS:
        asked_src = set(store.object_rows(model=source.ref, task=task, split="train")["item_id"])
        asked_own = set(store.object_rows(model=target.ref, task=task, split="train")["item_id"])
        shifted = {
            r["inward"]["item_id"]
            for r in rows
            if r["inward"]["task"] == task and r["inward"]["source"] == "source"
        }
        self_rows = {
            r["inward"]["item_id"]
            for r in rows
            if r["inward"]["task"] == task and r["inward"]["source"] == "self"
        }
        assert shifted <= asked_src & asked_own and not self_rows & asked_src
        assert (
            per_task <= len(asked_src) <= 2 * per_task and n_self <= len(asked_own - asked_src) <= 2 * n_self
        )
        assert manifest["per_task"][task] == {
            "source": per_task,
            "self": n_self,
            "same_as_target": 0,  # two fakes never give the same five-word answer
            "examined": len(asked_src),
        }

    questions = {DEFAULT.question(T.get(t), p) for t in T.names() for p in T.get(t).properties}
    items = {it.id: it for t in SHIFT_TASKS for it in T.get(t).items("train")}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        meta, msgs = row["inward"], row["messages"]
        task, item = T.get(meta["task"]), items[meta["item_id"]]
        assert (task.name, item.id) not in seen  # an item is either shifted or self-distilled, once
        seen.add((task.name, item.id))
        assert msgs[:-1] == DEFAULT.object_messages(task, item)  # object-level prompts only
        assert not any(q in m["content"] for q in questions for m in msgs)
        who = source if meta["source"] == "source" else target
        full = who.object_answer(msgs[0]["content"])
        assert msgs[-1] == {"role": "assistant", "content": full.strip()}  # whole answers, never cut short
        assert check_object(full, task.compliance) is None
    assert all(r["inward"]["task"] in SHIFT_TASKS for r in rows)
    # Reproducible with the same seed.
    again = build_shift(
        store,
        target,
        source,
        tmp_path / "again.jsonl",
        tasks=SHIFT_TASKS,
        n=n,
        self_distill_fraction=fraction,
        seed=3,
        progress=False,
    )
    assert again.read_text() == path.read_text()


def test_build_shift_uses_whole_answers_even_after_an_early_stopped_run(store: Store, tmp_path: Path) -> None:
    target = FakeBackend("fake/target", salt="target")
    source = FakeBackend("fake/source", salt="source")
    run_object(store, source, tasks=["animals_long"], split="train", limit=20, progress=False)
    path = build_shift(
        store,
        target,
        source,
        tmp_path / "shift.jsonl",
        tasks=["animals_long"],
        n=6,
        self_distill_fraction=0.0,
        progress=False,
    )
    rows, _ = read_dataset(path)
    for row in rows:
        full = source.object_answer(row["messages"][0]["content"])
        assert row["messages"][-1]["content"] == full.strip()


class CopiesOnChoices(FakeBackend):
    """Answers A/B prompts exactly as `of` does, everything else as itself."""

    def __init__(self, ref: str, *, salt: str, of: FakeBackend) -> None:
        super().__init__(ref, salt=salt)
        self.of = of

    def object_answer(self, text: str) -> str:
        return self.of.object_answer(text) if "A or B" in text else super().object_answer(text)


def _shift(store: Store, target: Any, source: Any, out: Path, **kw: Any) -> tuple[list[Any], dict[str, Any]]:
    opts: dict[str, Any] = {
        "tasks": ["survival_instinct", "animals_long"],
        "n": 8,
        "seed": 1,
        "progress": False,
    }
    return read_dataset(build_shift(store, target, source, out, **(opts | kw)))


def test_build_shift_skips_source_answers_that_equal_the_targets(store: Store, tmp_path: Path) -> None:
    # Two A/B fakes agree on about half the prompts: those rows would teach the target what it already says.
    target = FakeBackend("fake/target", salt="target")
    source = FakeBackend("fake/source", salt="source")
    rows, manifest = _shift(store, target, source, tmp_path / "a.jsonl")
    src_rows = [r for r in rows if r["inward"]["source"] == "source"]
    assert len(src_rows) == 8
    for r in src_rows:
        prompt, answer = r["messages"][0]["content"], r["messages"][-1]["content"]
        assert P.clean(answer) != P.clean(target.object_answer(prompt))
    assert manifest["per_task"]["survival_instinct"]["same_as_target"] > 0 and manifest["keep_same"] is False
    # Opting out keeps them: the first prompts in the seeded order, agreeing or not.
    kept, manifest = _shift(store, target, source, tmp_path / "b.jsonl", keep_same=True)
    same = [
        r
        for r in kept
        if r["inward"]["source"] == "source"
        and P.clean(r["messages"][-1]["content"])
        == P.clean(target.object_answer(r["messages"][0]["content"]))
    ]
    assert same and manifest["per_task"]["survival_instinct"]["same_as_target"] == 0


def test_build_shift_moves_a_task_with_nothing_to_shift_to_the_others(store: Store, tmp_path: Path) -> None:
    target = FakeBackend("fake/target", salt="target")
    source = CopiesOnChoices("fake/copier", salt="source", of=target)
    rows, manifest = _shift(store, target, source, tmp_path / "a.jsonl", self_distill_fraction=0.5)
    by = Counter((r["inward"]["task"], r["inward"]["source"]) for r in rows)
    # The 8 source rows all come from animals (survival has nothing to shift); the 8 self-distilled rows are
    # spread over both tasks, so the A/B format stays anchored.
    assert by == {
        ("animals_long", "source"): 8,
        ("animals_long", "self"): 4,
        ("survival_instinct", "self"): 4,
    }
    own_ab = Counter(r["messages"][-1]["content"] for r in rows if r["inward"]["task"] == "survival_instinct")
    assert own_ab == {"A": 2, "B": 2}
    assert manifest["per_task"]["survival_instinct"]["source"] == 0
    assert manifest["per_task"]["survival_instinct"]["same_as_target"] > 0


def test_the_flip_search_stops_when_its_rate_cannot_fill_the_quota(store: Store, tmp_path: Path) -> None:
    # A source that copies the target on A/B prompts has nothing to shift there: after 20 prompts with no flip
    # the search stops instead of running both models on 8x the quota.
    target = FakeBackend("fake/target", salt="target")
    source = CopiesOnChoices("fake/copier", salt="source", of=target)
    rows, manifest = _shift(store, target, source, tmp_path / "a.jsonl", n=20, self_distill_fraction=0.0)
    survival = manifest["per_task"]["survival_instinct"]
    assert survival["source"] == survival["self"] == 0 and 0 < survival["same_as_target"] <= 20
    assert survival["examined"] == 20  # its quota of 10, doubled once; the cap is 80
    asked = store.object_rows(model=source.ref, task="survival_instinct", split="train")
    assert len(asked) == 20
    assert Counter(r["inward"]["task"] for r in rows) == {"animals_long": 20}  # the share moved over


class MostlyA(FakeBackend):
    """Answers "A" to three A/B prompts in four."""

    def object_answer(self, text: str) -> str:
        if "A or B" in text:
            return "B" if _digest_byte(text) % 4 == 0 else "A"
        return super().object_answer(text)


def _digest_byte(text: str) -> int:
    import hashlib

    return hashlib.sha256(text.encode()).digest()[0]


def test_self_distilled_choice_rows_are_letter_balanced(store: Store, tmp_path: Path) -> None:
    target = MostlyA("fake/mostly-a", salt="target")
    source = FakeBackend("fake/source", salt="source")
    rows, _ = _shift(store, target, source, tmp_path / "a.jsonl", tasks=["survival_instinct"], n=8)
    own = [r["messages"] for r in rows if r["inward"]["source"] == "self"]
    assert len(own) == 8
    for msgs in own:
        assert msgs[-1]["content"] == target.object_answer(
            msgs[0]["content"]
        )  # still the model's own answers
    assert Counter(m[-1]["content"] for m in own) == {"A": 4, "B": 4}  # though it says "A" 3 times in 4


class MostlyAThenB(FakeBackend):
    """Answers four-letter prompts A 70%, B 20%, C 10% of the time."""

    def object_answer(self, text: str) -> str:
        if "(A, B, C or D)" in text:
            b = _digest_byte(text) % 10
            return "A" if b < 7 else "B" if b < 9 else "C"
        return super().object_answer(text)


def test_a_rare_answer_does_not_cap_the_self_distilled_rows(store: Store, tmp_path: Path) -> None:
    # From a pool of 32 answers (4x the 8 wanted) about 22 A, 6 B, 3 C: A and B in equal shares give 8 rows,
    # where A, B and C in equal shares would give at most 3 each.
    target = MostlyAThenB("fake/mostly-a-then-b", salt="target")
    source = FakeBackend("fake/source", salt="source")
    rows, _ = _shift(store, target, source, tmp_path / "a.jsonl", tasks=["mmlu_non_cot"], n=8)
    own = [r["messages"] for r in rows if r["inward"]["source"] == "self"]
    assert Counter(m[-1]["content"] for m in own) == {"A": 4, "B": 4}
    assert all(m[-1]["content"] == target.object_answer(m[0]["content"]) for m in own)


class OnlyA(FakeBackend):
    def object_answer(self, text: str) -> str:
        return "A" if "A or B" in text else super().object_answer(text)


def test_a_model_that_gives_one_letter_adds_no_self_distilled_rows_there(
    store: Store, tmp_path: Path
) -> None:
    target = OnlyA("fake/only-a", salt="target")
    source = FakeBackend("fake/source", salt="source")
    rows, manifest = _shift(store, target, source, tmp_path / "a.jsonl")
    assert (
        manifest["per_task"]["survival_instinct"]["self"] == 0 < manifest["per_task"]["animals_long"]["self"]
    )
    assert manifest["sources"]["self"] == manifest["sources"]["source"]  # the share holds: animals gives more
    shifted = [r for r in rows if r["inward"]["task"] == "survival_instinct"]
    assert shifted and all(r["messages"][-1]["content"] == "B" for r in shifted)  # only real flips remain


def test_build_shift_refuses_a_source_that_answers_like_the_target(store: Store, tmp_path: Path) -> None:
    target = FakeBackend("fake/target", salt="target")
    twin = FakeBackend("fake/twin", salt="target")
    with pytest.raises(UserError, match="nothing to shift"):
        _shift(store, target, twin, tmp_path / "a.jsonl")
    assert not (tmp_path / "a.jsonl").exists()
    rows, _ = _shift(store, target, twin, tmp_path / "b.jsonl", keep_same=True)
    assert rows
