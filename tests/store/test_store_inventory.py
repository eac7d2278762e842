"""Store.summary() / model_summary() / find_model() on a hand-made workspace: every count by hand."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workspace_rows as W

from inward.errors import UserError
from inward.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with W.build(tmp_path / "ws") as s:
        yield s


def test_summary_counts_models_runs_tables_and_sizes(store: Store) -> None:
    s = store.summary()
    got = {m.key: (m.labels, m.kind, dict(m.rows)) for m in s.models}
    assert got == {
        "k-m1": (("local/m1",), "base", {"object_rows": 6, "hypothetical_rows": 3, "distributions": 1}),
        "k-m2": (("local/m2",), "base", {"object_rows": 2, "hypothetical_rows": 1, "distributions": 0}),
        "k-ad": (
            (f"local/m1+adapter={W.ADAPTER}",),
            "adapter",
            {"object_rows": 1, "hypothetical_rows": 0, "distributions": 0},
        ),
    }
    ad = next(m for m in s.models if m.key == "k-ad")
    assert (ad.base, ad.adapter) == ("local/m1", W.ADAPTER)
    assert [(r.run_id, r.name, r.status, r.steps, r.folder_bytes) for r in s.runs] == [
        ("demo-aaa", "demo", "done", 2, 15),  # 10-byte results.json + 5-byte data file
        ("other-bbb", "other", "running", 1, 3),
    ]  # the shared trained-models record is not a run
    assert dict(s.tables) == {
        "calls": 0,
        "object_rows": 9,
        "hypothetical_rows": 4,
        "distributions": 1,
        "runs": 3,
        "steps": 4,
        "models": 1,
        "object_configs": 1,
    }
    assert [r.name for r in s.trained] == [W.ADAPTER]
    assert s.sizes["runs"] == 18 and s.sizes["models"] == 1000
    db = sum(p.stat().st_size for p in store.path.parent.glob("inward.db*"))
    assert s.sizes["database"] == db and s.sizes["total"] == db + 18 + 1000
    if s.table_bytes is not None:  # dbstat: every table has at least one page
        assert all(s.table_bytes[t] >= 1 for t in s.tables)


def test_model_summary_counts_by_task_split_property_template_and_config(store: Store) -> None:
    m = store.model_summary("local/m1")
    got = {
        (
            c["table"],
            c["task"],
            c["split"] or c["level"],
            c["property"],
            c["template_hash"],
            c["config"] or c["config_key"],
        ): c["rows"]
        for c in m.counts
    }
    assert got == {
        ("object_rows", "animals", "train", None, "tpl-o", "greedy"): 2,
        ("object_rows", "animals", "val", None, "tpl-o", "greedy"): 3,
        ("object_rows", "colors", "val", None, "tpl-o", "greedy"): 1,
        ("hypothetical_rows", "animals", "val", "first_character", "tpl-first_character", "cfg-meta"): 2,
        ("hypothetical_rows", "animals", "val", "second_character", "tpl-second_character", "cfg-meta"): 1,
        ("distributions", "animals", "object", "first_character", "tpl-o", "cfg-dist"): 1,
    }
    assert [r.run_id for r in m.runs] == ["demo-aaa"]  # wrote its row and names it in its config
    assert m.registered is None and m.calls == 0


def test_model_summary_of_a_trained_adapter_shows_its_record(store: Store) -> None:
    m = store.model_summary(W.ADAPTER)  # by its registered name
    assert m.entry.key == "k-ad" and m.registered is not None and m.registered.config == {"epochs": 1}
    assert sum(c["rows"] for c in m.counts) == 1
    assert [r.run_id for r in m.runs] == ["demo-aaa"]  # trained under run demo's name
    store.start_run("late-ccc", kind="experiment", name="late", config={})
    ad = f"local/m1+adapter={W.ADAPTER}"
    store.mark_step("late-ccc", f"evaluate {ad} about {ad}:9", "done", {})
    assert [r.run_id for r in store.model_summary(W.ADAPTER).runs] == ["demo-aaa", "late-ccc"]
    # the base's label inside the adapter's is not the base model being used
    assert [r.run_id for r in store.model_summary("local/m1").runs] == ["demo-aaa"]


def test_find_model_takes_keys_prefixes_labels_and_trained_names(store: Store) -> None:
    assert store.find_model("k-m2") == "k-m2"
    assert store.find_model("local/m2") == "k-m2"
    assert store.find_model(W.ADAPTER) == "k-ad"
    store.put_object_rows([W.obj("local/m3", "3f9a0001beef", "a1"), W.obj("local/m4", "3f9a0002beef", "a1")])
    assert store.find_model("3f9a0001") == "3f9a0001beef"  # a unique prefix


def test_find_model_refuses_short_and_ambiguous_prefixes(store: Store) -> None:
    store.put_object_rows([W.obj("local/m3", "3f9a0001beef", "a1"), W.obj("local/m4", "3f9a0002beef", "a1")])
    with pytest.raises(UserError, match="key prefix '3f9a000' names 2 model identities"):
        store.find_model("3f9a000")
    with pytest.raises(UserError, match="no model '3f9'"):
        store.find_model("3f9")  # under 4 characters: not taken as a prefix


def test_find_model_refuses_unknown_and_ambiguous_names(store: Store) -> None:
    with pytest.raises(UserError, match=r"no model 'local/nope'.*store ls"):
        store.find_model("local/nope")
    # A label whose rows sit under two identities (an adapter retrained under its old name).
    store.put_object_rows([W.obj("local/m2", "k-m2-new", "a9")])
    with pytest.raises(UserError, match=r"label 'local/m2' names 2 model identities \(k-m2, k-m2-new\)"):
        store.find_model("local/m2")


def test_a_run_folder_without_a_record_is_listed_and_removable(store: Store) -> None:
    ws = store.path.parent
    (ws / "runs" / "copied").mkdir()
    (ws / "runs" / "copied" / "results.json").write_bytes(b"1234")
    assert store.summary().orphan_folders == (ws / "runs" / "copied",)
    plan = store.plan_removal("copied")
    assert plan.folders == (ws / "runs" / "copied",) and plan.rows == {}
    store.remove(plan)
    assert not (ws / "runs" / "copied").exists() and store.summary().orphan_folders == ()
