"""Object-level rows, hypothetical (meta) rows, distributions: idempotent writes, filters, JSON."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inward.store import DistributionRow, HypotheticalRow, ObjectRow, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as s:
        yield s


def obj(item: str = "i1", **kw: Any) -> ObjectRow:
    base: dict[str, Any] = dict(
        model="local/m1",
        model_id="id-m1",
        task="animals",
        item_id=item,
        template_hash="t1",
        config_key="greedy",
        split="val",
        item_text=f"text {item}",
        raw="Dog.",
        cleaned="dog",
        properties={"first_character": "d", "starts_with_vowel": False, "second_character": None},
        finish_reason="stop",
    )
    base.update(kw)
    return ObjectRow(**base)


def meta(item: str = "i1", **kw: Any) -> HypotheticalRow:
    base: dict[str, Any] = dict(
        model="local/m1",
        model_id="id-m1",
        task="animals",
        item_id=item,
        property="first_character",
        template_hash="h1",
        config_key="greedy",
        split="val",
        raw=" D",
        answer="d",
    )
    base.update(kw)
    return HypotheticalRow(**base)


def test_object_rows_put_twice_no_duplicates_first_write_wins(store: Store) -> None:
    rows = [obj(f"i{k}") for k in range(5)]
    assert store.put_object_rows(rows) == 5
    assert store.put_object_rows(rows) == 0
    # Same natural key, different content: kept as first written (a re-run must not rewrite history).
    assert store.put_object_rows([obj("i0", raw="Cat.")]) == 0
    # A different sample or config is a different row.
    assert store.put_object_rows([obj("i0", sample=1), obj("i0", config_key="t1.0")]) == 2
    df = store.object_rows()
    assert len(df) == 7
    assert (
        df.loc[(df.item_id == "i0") & (df["sample"] == 0) & (df.config_key == "greedy"), "raw"].item()
        == "Dog."
    )


def test_object_rows_filters_and_decoded_json(store: Store) -> None:
    store.put_object_rows(
        [
            obj("a", split="train"),
            obj("b", task="colors", compliance="refusal"),
            obj("c", model="local/m2", model_id="id-m2", template_hash="t2"),
        ]
    )
    assert list(store.object_rows(task="colors").item_id) == ["b"]
    assert list(store.object_rows(split="train").item_id) == ["a"]
    assert sorted(store.object_rows(task=["animals", "colors"], model="local/m1").item_id) == ["a", "b"]
    assert list(store.object_rows(template_hash="t2").model) == ["local/m2"]
    assert store.object_rows(config_key="nope").empty
    rec = store.object_rows(task="colors").to_dict("records")[0]
    assert rec["properties"] == {"first_character": "d", "starts_with_vowel": False, "second_character": None}
    assert rec["compliance"] == "refusal"
    assert rec["created"]  # filled in by the store


def test_empty_frames_have_the_columns(store: Store) -> None:
    df = store.hypothetical_rows()
    assert df.empty
    assert {"model", "property", "answer", "compliance", "run_id"} <= set(df.columns)


def test_hypothetical_rows_idempotent_and_filtered(store: Store) -> None:
    rows = [meta("i1"), meta("i1", property="starts_with_vowel", answer="false"), meta("i2")]
    assert store.put_hypothetical_rows(rows) == 3
    assert store.put_hypothetical_rows([*rows, meta("i1", answer="x")]) == 0
    assert len(store.hypothetical_rows(property="first_character")) == 2
    assert list(store.hypothetical_rows(property="starts_with_vowel").answer) == ["false"]


def test_distributions_round_trip(store: Store) -> None:
    d = DistributionRow(
        model="local/m1",
        model_id="id-m1",
        task="animals",
        item_id="i1",
        level="object",
        property="first_character",
        template_hash="t1",
        config_key="k1",
        method="exact",
        probs={"d": 0.7, "c": 0.25, "é": 0.04},
        covered=0.99,
        forward_tokens=123,
    )
    assert store.put_distributions([d, d]) == 1
    rec = store.distributions(level="object").to_dict("records")[0]
    assert rec["probs"] == {"d": 0.7, "c": 0.25, "é": 0.04}
    assert rec["covered"] == 0.99 and rec["forward_tokens"] == 123
    assert pd.isna(rec["n_samples"])
    assert store.distributions(level="hypothetical").empty
    with pytest.raises(ValueError, match="level"):
        dataclasses.replace(d, level="hyper")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_json_floats_are_refused(store: Store, bad: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        store.put_object_rows([obj(properties={"p": bad})])
    assert store.object_rows().empty


def test_unknown_run_id_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ValueError, match="start_run"):
        store.put_object_rows([obj(run_id="nope")])
    store.start_run("r1", kind="object", name="x")
    assert store.put_object_rows([obj(run_id="r1")]) == 1
    assert list(store.object_rows(run_id="r1").item_id) == ["i1"]


def test_export_every_table(store: Store) -> None:
    store.put_object_rows([obj()])
    store.put_hypothetical_rows([meta()])
    for table in store.tables():
        df = store.export(table)
        assert list(df.columns)  # every table exports, even when empty
    assert store.export("object_rows").to_dict("records")[0]["properties"]["first_character"] == "d"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store.open(tmp_path_factory.mktemp("roundtrip")) as s:
        yield s


@settings(max_examples=40, deadline=None)
@given(props=st.dictionaries(st.text(min_size=1, max_size=12), json_values, max_size=5), raw=st.text())
def test_json_and_text_round_trip(shared_store: Store, props: dict[str, Any], raw: str) -> None:
    task = uuid.uuid4().hex  # a fresh natural key per example
    shared_store.put_object_rows([obj(task=task, properties=props, raw=raw)])
    rec = shared_store.object_rows(task=task).to_dict("records")[0]
    assert rec["properties"] == props
    assert rec["raw"] == raw
