"""Runs, resumable steps, trained models, and caller-level transactions."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inward.store import ModelRecord, ObjectRow, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as s:
        yield s


def row(item: str) -> ObjectRow:
    return ObjectRow(
        model="m",
        model_id="id-m",
        task="t",
        item_id=item,
        template_hash="h",
        config_key="c",
        split="val",
        item_text=item,
        raw="x",
    )


def test_run_lifecycle_and_resume(store: Store) -> None:
    run = store.start_run("r1", kind="self-training", name="demo", config={"seed": 0, "tasks": ["a"]})
    assert run.status == "running" and run.config == {"seed": 0, "tasks": ["a"]}
    assert run.provenance["inward"] and "packages" in run.provenance
    store.finish_run("r1", "failed")
    failed = store.get_run("r1")
    assert failed is not None and failed.status == "failed" and failed.finished
    resumed = store.start_run("r1", kind="self-training", name="demo", config={"seed": 0, "tasks": ["a"]})
    assert resumed.status == "running" and resumed.created == run.created
    assert len(store.runs()) == 1
    assert store.get_run("nope") is None
    with pytest.raises(KeyError):
        store.finish_run("nope")
    with pytest.raises(ValueError, match="status"):
        store.finish_run("r1", "exploded")  # type: ignore[arg-type]


def test_steps_are_resumable(store: Store) -> None:
    store.start_run("r1", kind="k", name="n", provenance={"fixed": True})
    assert store.step_done("r1", "object:abc") is None
    store.mark_step("r1", "object:abc", "running")
    assert store.step_done("r1", "object:abc") is None
    store.mark_step("r1", "object:abc", "done", {"rows": 12, "path": "x.jsonl"})
    store.mark_step("r1", "object:abc", "done", {"rows": 12, "path": "x.jsonl"})
    done = store.step_done("r1", "object:abc")
    assert done is not None and done["output"] == {"rows": 12, "path": "x.jsonl"} and done["finished"]
    assert len(store.steps(run_id="r1")) == 1
    with pytest.raises(ValueError, match="start_run"):
        store.mark_step("no-such-run", "s", "done")


def test_models_registry(store: Store) -> None:
    m = ModelRecord(
        name="m1-self",
        base_ref="local/qwen2.5-0.5b",
        kind="lora",
        path="runs/x/m1",
        config={"r": 8, "lr": 1e-4},
        status="training",
    )
    store.register_model(m)
    store.register_model(
        ModelRecord(**{**{f: getattr(m, f) for f in m.__dataclass_fields__}, "status": "ready"})
    )
    got = store.get_model("m1-self")
    assert got is not None and got.status == "ready" and got.config == {"r": 8, "lr": 1e-4}
    assert [x.name for x in store.list_models()] == ["m1-self"]
    assert store.get_model("other") is None
    with pytest.raises(ValueError, match="path or a remote_id"):
        store.register_model(ModelRecord(name="x", base_ref="b", kind="lora"))


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    store.start_run("r1", kind="k", name="n", provenance={})
    with pytest.raises(RuntimeError), store.transaction():
        store.put_object_rows([row("a"), row("b")])
        store.mark_step("r1", "s1", "done", {"n": 2})
        raise RuntimeError("crash between writes")
    assert store.object_rows().empty and store.step_done("r1", "s1") is None
    with store.transaction():
        store.put_object_rows([row("a")])
        store.mark_step("r1", "s1", "done", {"n": 1})
    assert len(store.object_rows()) == 1 and store.step_done("r1", "s1") is not None


def test_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction():
        store.put_object_rows([row("outer")])
        with pytest.raises(RuntimeError), store.transaction():
            store.put_object_rows([row("inner")])
            raise RuntimeError
        store.put_object_rows([row("after")])
    assert sorted(store.object_rows().item_id) == ["after", "outer"]


def test_closed_store_refuses_use(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.object_rows()


def test_two_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    with Store.open(tmp_path) as a, Store.open(tmp_path) as b:
        a.put_object_rows([row("x")])
        assert list(b.object_rows().item_id) == ["x"]
        assert b.put_object_rows([row("x"), row("y")]) == 1
        assert len(a.object_rows()) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    # SQLite forbids using a connection in a forked child; the store notices the new pid and reconnects.
    # (Forking while a transaction is open cannot be made safe by anyone: don't.)
    store = Store.open(tmp_path)
    store.put_object_rows([row("parent")])
    parent_conn = store._conn()
    ctx = multiprocessing.get_context("fork")
    reused = ctx.SimpleQueue()

    def child() -> None:
        store.put_object_rows([row("child")])
        reused.put(store._conn() is parent_conn)

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(timeout=20)
    assert proc.exitcode == 0
    assert reused.get() is False
    assert sorted(store.object_rows().item_id) == ["child", "parent"]
    store.close()
