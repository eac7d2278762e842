"""What stored behaviour is keyed by: the model's identity, the object config, the distribution request.

One test per defect of issue 13 items 1–5 and 7; each fails on the code before it (keyed by the ref string,
by the default object config only, by the backend-reported method, with raw property aliases).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_backend import SEPARATOR, FakeBackend

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Distribution, GenerateConfig, Generation
from inward.backends.identity import ModelId, model_id
from inward.prompts import DEFAULT
from inward.runs import ObjectConfig, object_config_for, run_hypotheticals, run_object, score
from inward.runs.distributions import distribution_config, run_object_distributions
from inward.runs.object_level import object_table
from inward.runs.score import load_hypotheticals
from inward.store import Store

REF = "local/x+adapter=m1-self"  # the same name before and after "retraining"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "ws")
    yield s
    s.close()


def _values(store: Store, model: Any, task: str = "animals_long") -> dict[str, Any]:
    df = object_table(store, model, tasks=[task])
    return dict(zip(df["item_id"] + "/" + df["property"], df["object_value"], strict=True))


# -- item 1: behaviour keyed by content, not by a name ----------------------------------------------------


def test_a_retrained_adapter_under_a_reused_name_gets_new_answers(store: Store) -> None:
    old, new = FakeBackend(REF, salt="weights-1"), FakeBackend(REF, salt="weights-2")
    assert str(old.ref) == str(new.ref) and model_id(old) != model_id(new)
    first = run_object(store, old, tasks=["animals_long"], limit=12, progress=False)
    second = run_object(store, new, tasks=["animals_long"], limit=12, progress=False)
    assert (first.new_rows, second.new_rows) == (12, 12)  # before: 0 new, the old adapter's rows reused
    assert old.calls == new.calls == 1
    got_old, got_new = _values(store, old), _values(store, new)
    assert got_old != got_new
    task = T.get("animals_long")
    for item in task.items("val")[:12]:
        raw = new.object_answer(DEFAULT.object_messages(task, item)[-1]["content"])
        assert got_new[f"{item.id}/first_word"] == P.get("first_word").extract(P.clean(raw))


def test_scores_read_each_models_own_rows_even_under_one_label(store: Store) -> None:
    old, new = FakeBackend(REF, salt="weights-1"), FakeBackend(REF, salt="weights-2")
    for fake in (old, new):
        run_object(store, fake, tasks=["animals_long"], limit=20, progress=False)
        run_hypotheticals(store, fake, tasks=["animals_long"], limit=20, progress=False)
    a = score(store, object_model=old, hypothetical_model=old, tasks=["animals_long"]).table
    b = score(store, object_model=new, hypothetical_model=new, tasks=["animals_long"]).table
    assert a.to_dict("records") != b.to_dict("records")
    meta = store.hypothetical_rows(model=REF)
    assert set(meta["model_id"]) == {model_id(old).key, model_id(new).key}  # one label, two identities


def test_identify_digests_adapter_weights_not_the_name(tmp_path: Path, monkeypatch: Any) -> None:
    from inward.backends.registry import identify

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (base / "inward-model.json").write_text('{"source_sha256": "abc", "dtype": "float32"}')
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    import numpy as np
    from safetensors.numpy import save_file

    weights = adapter / "adapter_model.safetensors"
    save_file({"lora_A": np.ones((2, 2), dtype=np.float32)}, str(weights))
    ref = f"hf/{base}+adapter={adapter}"
    first = identify(ref)
    save_file({"lora_A": np.full((2, 2), 2.0, dtype=np.float32)}, str(weights))  # retrained: same name
    second = identify(ref)
    assert first.label == second.label == ref and first.key != second.key
    # The local backend reports the same identity parts without loading anything twice.
    from inward.backends.identity import identity_key, local_identity

    assert second.key == identity_key(local_identity(base, adapter))


def test_api_identity_is_model_and_server() -> None:
    from inward.backends.registry import identify

    a = identify("openai-compatible/m@http://127.0.0.1:8000/v1")
    b = identify("openai-compatible/m@http://127.0.0.1:8001/v1")
    c = identify("openai-compatible/m@http://127.0.0.1:8000/v1?api_key=secret")
    assert a.key != b.key and a.key == c.key  # credentials never enter the identity


# -- item 2: decoding settings are part of the identity, consistently -------------------------------------


def test_a_greedy_seed_is_not_part_of_the_key() -> None:
    assert ObjectConfig(seed=1).key() == ObjectConfig().key() and ObjectConfig(seed=1).name == "greedy"
    assert GenerateConfig(seed=3).key() == GenerateConfig().key()
    sampled = ObjectConfig(temperature=1.0, samples=5, seed=1)
    assert sampled.key() != ObjectConfig(temperature=1.0, samples=5).key()
    assert ObjectConfig.parse(sampled.name) == sampled and sampled.name == "t=1,samples=5,seed=1"


def test_a_non_default_object_config_flows_to_hypotheticals_and_scores(store: Store) -> None:
    fake = FakeBackend("fake/alpha")
    cfg = ObjectConfig(max_tokens=100)
    run_object(store, fake, tasks=["animals_long"], limit=10, config=cfg, progress=False)
    with pytest.raises(Exception, match=r"greedy,max_tokens=100|object config greedy"):
        run_hypotheticals(
            store, fake, tasks=["animals_long"], limit=10, progress=False
        )  # the default config: none
    res = run_hypotheticals(
        store, fake, tasks=["animals_long"], limit=10, object_config=cfg.name, progress=False
    )
    assert res.new_rows > 0
    sc = score(
        store, object_model=fake, hypothetical_model=fake, tasks=["animals_long"], object_config=cfg.name
    )
    assert sc.provenance["object_config"] == "greedy,max_tokens=100" and len(sc.scored) > 0


def test_distributions_are_keyed_by_every_setting(store: Store) -> None:
    fake = FakeBackend("fake/alpha")
    kw: dict[str, Any] = {"tasks": ["animals_long"], "properties": ["first_word"], "limit": 5}
    assert (
        run_object_distributions(
            store, fake, **kw, config=distribution_config("object", "sampled", samples=3)
        )
        == 5
    )
    assert (
        run_object_distributions(
            store, fake, **kw, config=distribution_config("object", "sampled", samples=3)
        )
        == 0
    )
    # before: any of these changes returned the rows of the first request
    for change in ({"samples": 4}, {"seed": 1}, {"max_tokens": 8}):
        cfg = distribution_config("object", "sampled", **{"samples": 3, **change})
        assert run_object_distributions(store, fake, **kw, config=cfg) == 5, change
    assert (
        run_object_distributions(
            store, fake, **kw, config=distribution_config("object", "exact", coverage=0.9)
        )
        == 5
    )


# -- item 3: property aliases never drop results ----------------------------------------------------------


def test_an_alias_scores_the_same_rows_as_the_canonical_name(store: Store) -> None:
    fake = FakeBackend("fake/alpha")
    run_object(store, fake, tasks=["mmlu_non_cot"], limit=30, progress=False)
    run_hypotheticals(store, fake, tasks=["mmlu_non_cot"], limit=30, progress=False)
    canonical = score(
        store, object_model=fake, hypothetical_model=fake, tasks=["mmlu_non_cot"], properties=["among_a_or_c"]
    )
    alias = score(
        store,
        object_model=fake,
        hypothetical_model=fake,
        tasks=["mmlu_non_cot"],
        properties=["is_either_a_or_c"],
    )
    assert len(alias.scored) == len(canonical.scored) > 0  # before: the alias found no rows
    assert len(load_hypotheticals(store, fake, tasks=["mmlu_non_cot"], properties=["is_either_a_or_c"])) > 0


# -- item 4: API distributions resume and are used --------------------------------------------------------


class LogprobFake(FakeBackend):
    """Reports its distributions as "logprobs" with 7 fallback samples, as an HTTP backend may."""

    def __init__(self) -> None:
        super().__init__("fake/api")
        self.distribution_calls = 0

    def distribution(self, prompts: Any, resolve: Any, **kw: Any) -> list[Distribution]:
        self.distribution_calls += len(prompts)
        out = super().distribution(prompts, resolve, **kw)
        return [Distribution(probs=d.probs, covered=0.9, method="logprobs", n_samples=7) for d in out]


def test_distributions_the_backend_computed_another_way_are_found_again(store: Store) -> None:
    fake = LogprobFake()
    kw: dict[str, Any] = {"tasks": ["animals_long"], "properties": ["first_word"], "limit": 4}
    assert run_object_distributions(store, fake, **kw) == 4
    assert run_object_distributions(store, fake, **kw) == 0  # before: 4 again, paid requests re-sent
    assert fake.distribution_calls == 4
    df = store.distributions(model_id=model_id(fake).key)
    assert set(df["method"]) == {"logprobs"} and set(df["n_samples"]) == {7}


# -- item 7: the paper's API control, mode of N -----------------------------------------------------------


class NoisyFake(FakeBackend):
    """Answers differently from sample to sample: `scripts[i]` lists the texts of the samples of prompt i."""

    def __init__(self, scripts: list[list[str]]) -> None:
        super().__init__("fake/noisy")
        self.scripts = scripts
        self.asked: list[int] = []

    def generate(self, prompts: Any, config: GenerateConfig, stop_when: Any = None) -> list[list[Generation]]:
        self.asked.append(config.n)
        return [
            [
                Generation(text=t, finish_reason="stop")
                for t in self.scripts[i % len(self.scripts)][: config.n]
            ]
            for i, _ in enumerate(prompts)
        ]


def test_mode_of_n_keeps_the_most_common_answer_and_drops_prompts_without_one(store: Store) -> None:
    scripts = [
        ["cat dog", "cow pig", "cat dog", "cat dog!", "eel"],  # mode "cat dog" (3 of 5; "cat dog!" differs)
        ["a", "b", "c", "d", "e"],  # all differ: no mode, dropped
        ["ox", "ox", "yak", "yak", "ant"],  # a 2-2 tie: the earliest, "ox"
    ]
    fake = NoisyFake(scripts)
    cfg = ObjectConfig(mode_of=5)
    run_object(store, fake, tasks=["animals_long"], limit=3, config=cfg, early_stop=False, progress=False)
    assert fake.asked == [5]
    rows = store.object_rows(config_key=cfg.key()).sort_values("item_id")
    order = [it.id for it in T.get("animals_long").items("val")[:3]]
    by_id = {r["item_id"]: r for r in rows.to_dict("records")}
    assert [by_id[i]["raw"] for i in order] == ["cat dog", "a", "ox"]
    assert [by_id[i]["compliance"] for i in order][1] == "no_mode"
    assert (
        by_id[order[0]]["compliance"] is None
        or by_id[order[0]]["compliance"] != by_id[order[0]]["compliance"]
    )  # None or NaN


def test_api_models_default_to_the_mode_of_five() -> None:
    assert object_config_for("openai/gpt-4o-mini").mode_of == 5
    assert object_config_for("anthropic/claude-3-5-sonnet-20240620").name == "greedy,mode_of=5"
    assert object_config_for("local/qwen2.5-0.5b").name == "greedy"
    assert object_config_for("openai/gpt-4o-mini", "greedy").mode_of == 1  # a named choice wins


def test_model_ids_are_labels_for_people(store: Store) -> None:
    fake = FakeBackend("fake/alpha")
    ident = model_id(fake)
    assert isinstance(ident, ModelId) and str(ident) == "fake/alpha" and len(ident.key) == 16
    assert SEPARATOR  # the fake's hypothetical prompts are recognised by it
