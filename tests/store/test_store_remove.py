"""Store.plan_removal() / remove(): exactly the planned rows go, never another model's, all or nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workspace_rows as W

from inward.errors import UserError
from inward.store import Store, _remove
from inward.store._inventory import owner_run_name


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with W.build(tmp_path / "ws") as s:
        yield s


def _others(store: Store, key: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the behaviour tables not under `key`, as stored."""
    conn = store._conn()
    return {
        t: conn.execute(f"SELECT * FROM {t} WHERE model_id != ? ORDER BY rowid", (key,)).fetchall()
        for t in ("object_rows", "hypothetical_rows", "distributions")
    }


def test_remove_model_deletes_its_rows_and_leaves_every_other_row_byte_identical(store: Store) -> None:
    before, everything = _others(store, "k-m1"), W.dump(store)
    plan = store.plan_removal("local/m1")
    assert plan.rows == {"object_rows": 6, "hypothetical_rows": 3, "distributions": 1} and plan.folders == ()
    assert store.remove(plan) == {"object_rows": 6, "hypothetical_rows": 3, "distributions": 1}
    assert _others(store, "k-m1") == before
    after = W.dump(store)
    for t in ("calls", "runs", "steps", "models", "object_configs"):
        assert after[t] == everything[t]
    assert [m.key for m in store.summary().models] == ["k-ad", "k-m2"]


def test_remove_model_lines_say_what_goes_and_what_stays(store: Store) -> None:
    lines = store.plan_removal(W.ADAPTER).lines()
    assert lines[0] == f"remove model k-ad (local/m1+adapter={W.ADAPTER}):"
    assert "  - object_rows: 1 object-level rows" in lines
    assert any(line.startswith(f"  kept: trained model {W.ADAPTER}") for line in lines)


def test_an_exception_mid_removal_leaves_the_store_unchanged(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = W.dump(store)
    real, calls = _remove._delete, []

    def failing(conn: Any, d: _remove.Delete) -> int:
        calls.append(d.table)
        if len(calls) == 2:  # after the object rows went, inside the transaction
            raise KeyboardInterrupt
        return real(conn, d)

    monkeypatch.setattr(_remove, "_delete", failing)
    with pytest.raises(KeyboardInterrupt):
        store.remove(store.plan_removal("local/m1"))
    assert calls == ["object_rows", "hypothetical_rows"] and W.dump(store) == before


def test_a_failed_folder_move_puts_folders_back_and_rolls_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = store.path.parent
    before, disk = W.dump(store), W.files(ws)
    plan = store.plan_removal("demo")
    assert len(plan.folders) == 2
    real, moved = _remove._to_trash, []

    def failing(folder: Path) -> Path:
        if moved:
            raise OSError("disk gone")
        moved.append(folder)
        return real(folder)

    monkeypatch.setattr(_remove, "_to_trash", failing)
    with pytest.raises(OSError, match="disk gone"):
        store.remove(plan)
    assert W.dump(store) == before and W.files(ws) == disk
    assert not list(ws.rglob(f"*{_remove.TRASH_SUFFIX}"))


def test_recover_puts_back_a_folder_a_killed_removal_left(store: Store) -> None:
    ws = store.path.parent
    disk = W.files(ws)
    (ws / "runs" / "demo").rename(ws / "runs" / f".demo{_remove.TRASH_SUFFIX}")  # killed before the commit
    (ws / "runs" / f".gone{_remove.TRASH_SUFFIX}").mkdir()  # killed after the commit: no record named gone
    assert _remove.recover(store) == [ws / "runs" / "demo"]
    assert W.files(ws) == disk and not (ws / "runs" / f".gone{_remove.TRASH_SUFFIX}").exists()


def test_a_store_changed_since_the_plan_removes_nothing(store: Store) -> None:
    plan = store.plan_removal("local/m1")
    store.put_object_rows([W.obj("local/m1", "k-m1", "late")])
    before = W.dump(store)
    with pytest.raises(UserError, match=r"changed since the removal was planned.*run the command again"):
        store.remove(plan)
    assert W.dump(store) == before


def test_remove_run_takes_its_records_folder_and_only_trained_model(store: Store) -> None:
    ws = store.path.parent
    plan = store.plan_removal("demo")
    assert plan.rows == {
        "steps": 3,
        "runs": 1,
        "models": 1,
        "object_rows": 1,
        "hypothetical_rows": 0,
        "distributions": 0,
    }
    assert set(plan.folders) == {ws / "runs" / "demo", ws / "models" / W.ADAPTER}
    others = _others(store, "k-ad")
    store.remove(plan)
    assert store.get_run("demo-aaa") is None and store.get_model(W.ADAPTER) is None
    assert not (ws / "runs" / "demo").exists() and not (ws / "models" / W.ADAPTER).exists()
    assert store.step_done(W.TRAINED_SCOPE, "train m1-self:4") is None  # a later run retrains it
    # m1's rows stay (only their link to the run is cleared); the other run and its folder are untouched.
    after = _others(store, "k-ad")
    assert len(after["object_rows"]) == len(others["object_rows"]) == 8
    link = store._conn().execute("SELECT run_id FROM object_rows WHERE model_id = 'k-m1' AND item_id = 'a1'")
    assert link.fetchone() == (None,)
    assert (
        store.get_run("other-bbb") is not None
        and (ws / "runs" / "other" / "timings.json").read_bytes() == b"{}\n"
    )


def test_remove_run_keeps_what_another_run_uses(store: Store) -> None:
    ws = store.path.parent
    store.start_run("late-ccc", kind="experiment", name="late", config={"m": f"local/m1+adapter={W.ADAPTER}"})
    store.start_run("demo-ddd", kind="experiment", name="demo", config={})
    by_id = store.plan_removal("demo-aaa")  # another record of the name still uses the folder
    assert by_id.folders == () and by_id.rows == {"steps": 2, "runs": 1}
    assert any("other run(s) of this name use it (demo-ddd)" in k for k in by_id.kept)
    by_name = store.plan_removal("demo")  # both records; the trained model is named by run late
    assert by_name.folders == (ws / "runs" / "demo",) and by_name.rows == {"steps": 2, "runs": 2}
    assert any(k.startswith(f"trained model {W.ADAPTER}: run(s) late-ccc") for k in by_name.kept)


def test_a_trained_model_another_run_evaluated_is_kept(store: Store) -> None:
    store.start_run("late-ccc", kind="experiment", name="late", config={})
    store.mark_step("late-ccc", f"evaluate local/m1+adapter={W.ADAPTER} about local/m1:9", "done", {})
    plan = store.plan_removal("demo")
    assert "models" not in plan.rows and "object_rows" not in plan.rows  # no record, no adapter rows
    assert store.path.parent / "models" / W.ADAPTER not in plan.folders
    assert any(k.startswith(f"trained model {W.ADAPTER}: run(s) late-ccc") for k in plan.kept)


def test_a_trained_model_belongs_to_the_longest_run_name_prefixing_it(store: Store) -> None:
    store.start_run("demo-x-eee", kind="experiment", name="demo-x", config={})
    assert owner_run_name("demo-x-m1-self-abc123", {"demo", "demo-x"}) == "demo-x"
    assert owner_run_name(W.ADAPTER, {"demo", "demo-x"}) == "demo"
    assert owner_run_name("solo-m1", {"demo"}) is None


def test_bad_targets_give_one_clear_line(store: Store) -> None:
    with pytest.raises(UserError, match=r"no model 'nothing'.*store ls"):
        store.plan_removal("nothing")
    with pytest.raises(UserError, match=r"no run 'nothing'.*store ls"):
        _remove.plan_run_removal(store, "nothing")
    with pytest.raises(UserError, match="namespace every run shares"):
        _remove.plan_run_removal(store, W.TRAINED_SCOPE)


def test_removing_a_running_run_warns_and_an_outside_adapter_folder_stays(
    store: Store, tmp_path: Path
) -> None:
    from inward.store import ModelRecord

    outside = tmp_path / "elsewhere" / "demo-m1-other-123456"
    outside.mkdir(parents=True)
    store.register_model(ModelRecord(name=outside.name, base_ref="local/m1", kind="lora", path=str(outside)))
    store.put_run(store.get_run("demo-aaa").__class__(run_id="demo-aaa", kind="experiment", name="demo"))
    plan = store.plan_removal("demo")
    assert any(w.startswith("run demo-aaa is marked running") for w in plan.warnings)
    assert outside not in plan.folders and any(f"folder {outside}" in k for k in plan.kept)
    assert plan.rows["models"] == 2
    store.remove(plan)
    assert outside.is_dir() and store.get_model(outside.name) is None
