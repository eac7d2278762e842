"""A small hand-made workspace for the store inventory, removal and export tests.

Models (identity key: label, rows):
  k-m1  local/m1                        object: animals val 3, animals train 2, colors val 1; meta: animals val
                                        first_character 2, second_character 1; distributions: animals object 1
  k-m2  local/m2                        object: animals val 2; meta: animals val first_character 1
  k-ad  local/m1+adapter=demo-m1-self-abc123   object: animals val 1
Runs: demo-aaa (name demo, done, 2 steps; wrote m1's first object row), other-bbb (name other, running, 1
step; its config names local/m2). Trained model demo-m1-self-abc123 (folder models/demo-m1-self-abc123 with a
1000-byte file) and its step in the trained-models namespace. Folders runs/demo (a 10-byte results.json and a
5-byte data file) and runs/other (3 bytes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inward.store import DistributionRow, HypotheticalRow, ModelRecord, ObjectRow, Store

ADAPTER = "demo-m1-self-abc123"
TRAINED_SCOPE = "trained-models"


def obj(label: str, key: str, item: str, task: str = "animals", split: str = "val", **kw: Any) -> ObjectRow:
    return ObjectRow(
        model=label,
        model_id=key,
        task=task,
        item_id=item,
        template_hash="tpl-o",
        config_key="cfg-greedy",
        split=split,
        item_text=f"text of {item}",
        raw="Dog.",
        cleaned="dog",
        properties={"first_character": "d", "starts_with_vowel": False},
        **kw,
    )


def meta(label: str, key: str, item: str, prop: str = "first_character", **kw: Any) -> HypotheticalRow:
    return HypotheticalRow(
        model=label,
        model_id=key,
        task="animals",
        item_id=item,
        property=prop,
        template_hash=f"tpl-{prop}",
        config_key="cfg-meta",
        split="val",
        raw="d",
        answer="d",
        **kw,
    )


def build(ws: Path) -> Store:
    store = Store.open(ws)
    store.start_run("demo-aaa", kind="experiment", name="demo", config={"models": {"m1": "local/m1"}})
    store.start_run("other-bbb", kind="experiment", name="other", config={"models": {"m1": "local/m2"}})
    store.start_run(TRAINED_SCOPE, kind="models", name="trained models", config={})
    store.mark_step("demo-aaa", "object m1:1", "done", {"n": 3})
    store.mark_step("demo-aaa", "meta m1:2", "done", {"n": 3})
    store.mark_step("other-bbb", "object m2:3", "running")
    store.mark_step(
        TRAINED_SCOPE, "train m1-self:4", "done", {"name": ADAPTER, "ref": f"local/m1+adapter={ADAPTER}"}
    )
    store.finish_run("demo-aaa")
    m1, m2, ad = "local/m1", "local/m2", f"local/m1+adapter={ADAPTER}"
    store.put_object_rows(
        [
            obj(m1, "k-m1", "a1", run_id="demo-aaa"),
            obj(m1, "k-m1", "a2"),
            obj(m1, "k-m1", "a3"),
            obj(m1, "k-m1", "t1", split="train"),
            obj(m1, "k-m1", "t2", split="train"),
            obj(m1, "k-m1", "c1", task="colors"),
            obj(m2, "k-m2", "a1"),
            obj(m2, "k-m2", "a2", run_id="other-bbb"),
            obj(ad, "k-ad", "a1"),
        ]
    )
    store.put_hypothetical_rows(
        [
            meta(m1, "k-m1", "a1"),
            meta(m1, "k-m1", "a2"),
            meta(m1, "k-m1", "a1", "second_character"),
            meta(m2, "k-m2", "a1"),
        ]
    )
    store.put_distributions(
        [
            DistributionRow(
                model=m1,
                model_id="k-m1",
                task="animals",
                item_id="a1",
                level="object",
                property="first_character",
                template_hash="tpl-o",
                config_key="cfg-dist",
                method="exact",
                probs={"d": 0.75, "c": 0.25},
            )
        ]
    )
    store.put_object_config("cfg-greedy", "greedy", {"temperature": 0})
    folder = ws / "models" / ADAPTER
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"w" * 1000)
    store.register_model(
        ModelRecord(name=ADAPTER, base_ref=m1, kind="lora", path=str(folder), config={"epochs": 1})
    )
    (ws / "runs" / "demo" / "data").mkdir(parents=True)
    (ws / "runs" / "demo" / "results.json").write_bytes(b"0123456789")
    (ws / "runs" / "demo" / "data" / "m1-self.jsonl").write_bytes(b"abcde")
    (ws / "runs" / "other").mkdir(parents=True)
    (ws / "runs" / "other" / "timings.json").write_bytes(b"{}\n")
    return store


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, exactly as stored (for before/after comparisons)."""
    from inward.store._schema import TABLES

    conn = store._conn()
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative path → bytes), the database excluded."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("inward.db")
    }
