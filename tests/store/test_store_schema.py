"""Schema versions: fresh databases, migrating old versions, refusing newer ones, atomic migrations."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inward.errors import UserError
from inward.store import DB_NAME, SCHEMA_VERSION, Store
from inward.store._schema import MIGRATIONS, TABLES, migrate, user_version


def _indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
    return {r[0] for r in rows}


def test_fresh_store_is_current_wal_with_foreign_keys(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        assert store.path == (tmp_path / "ws" / DB_NAME).resolve()
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        conn = store._conn()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert set(store.tables()) == {
            "calls",
            "object_rows",
            "hypothetical_rows",
            "distributions",
            "runs",
            "steps",
            "models",
            "object_configs",
        }


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INWARD_WORKSPACE", str(tmp_path / "envws"))
    with Store.open() as store:
        assert store.path == (tmp_path / "envws" / DB_NAME).resolve()
    assert store.path.exists()


def test_row_types_match_table_columns(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        conn = store._conn()
        for name, spec in TABLES.items():
            cols = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({name})"))
            assert sorted(cols) == sorted(spec.columns), name  # inserts name their columns; order is free
            pk = [
                r[1] for r in sorted(conn.execute(f"PRAGMA table_info({name})"), key=lambda r: r[5]) if r[5]
            ]
            assert tuple(pk) == spec.key, name


def test_v0_database_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    sqlite3.connect(db).close()  # an empty file: version 0
    with Store.open(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.export("calls").empty
    assert "object_rows_by_task" in _indexes(db)


def test_v1_database_with_data_is_migrated_and_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, MIGRATIONS[:1]) == 0
    assert user_version(conn) == 1
    conn.execute(
        "INSERT INTO object_rows VALUES ('m', 't', 'i', 'h', 'c', 0, 'val', 'text', NULL, 'Raw', 'raw', "
        "NULL, '{\"p\":\"r\"}', 'stop', NULL, '2024-01-01T00:00:00+00:00')"
    )
    conn.close()
    assert "object_rows_by_task" not in _indexes(db)

    with Store.open(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        df = store.object_rows()
    assert "object_rows_by_task" in _indexes(db)
    assert df.to_dict("records")[0]["properties"] == {"p": "r"}
    assert len(df) == 1


def test_v2_behaviour_migrates_to_legacy_identities_that_no_model_reads(tmp_path: Path) -> None:
    """v3 keys behaviour by model identity. A row written under a ref string cannot be traced to weights, so
    it keeps its data under 'legacy:<ref>', which no identity (16 hex digits) can equal; nothing is lost."""
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, MIGRATIONS[:2]) == 0
    conn.execute(
        "INSERT INTO object_rows VALUES ('local/m+adapter=a', 't', 'i', 'h', 'c', 0, 'val', 'text', NULL, "
        "'Raw', 'raw', NULL, '{\"p\":\"r\"}', 'stop', NULL, '2024-01-01T00:00:00+00:00')"
    )
    conn.execute(
        "INSERT INTO meta_rows VALUES ('local/m', 't', 'i', 'p', 'h', 'c', 0, 'val', 'R', 'r', NULL, 'stop', "
        "NULL, '2024-01-01T00:00:00+00:00')"
    )
    conn.execute(
        "INSERT INTO distributions VALUES ('local/m', 't', 'i', 'object', 'p', 'h', 'logprobs', '{\"r\": 1.0}', "
        "0.9, 3, 0, '2024-01-01T00:00:00+00:00')"
    )
    conn.close()
    with Store.open(tmp_path) as store:
        obj, hyp, dist = store.object_rows(), store.hypothetical_rows(), store.distributions()
        assert list(obj["model_id"]) == ["legacy:local/m+adapter=a"] and list(obj["model"]) == [
            "local/m+adapter=a"
        ]
        assert list(hyp["model_id"]) == ["legacy:local/m"] and list(hyp["answer"]) == ["r"]
        assert list(dist["config_key"]) == ["legacy:logprobs"] and list(dist["method"]) == ["logprobs"]
        assert store.object_rows(model_id="0123456789abcdef").empty
    assert "object_rows_by_task" in _indexes(db) and "object_rows_by_label" in _indexes(db)


def test_v4_meta_rows_and_meta_level_become_hypothetical(tmp_path: Path) -> None:
    """v5 renames `meta_rows` to `hypothetical_rows` and the distribution level 'meta' to 'hypothetical'; every
    row and column value is kept, and the old names are gone."""
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, MIGRATIONS[:4]) == 0
    conn.execute(
        "INSERT INTO meta_rows VALUES ('local/m', 'k1', 't', 'i', 'p', 'h', 'c', 0, 'val', 'R', 'r', 'ok', 'stop', "
        "NULL, '2024-01-01T00:00:00+00:00')"
    )
    for level in ("object", "meta"):
        conn.execute(
            "INSERT INTO distributions VALUES ('local/m', 'k1', 't', 'i', ?, 'p', 'h', 'c', 'exact', "
            "'{\"r\": 0.75}', 0.9, 3, 0, '2024-01-01T00:00:00+00:00')",
            (level,),
        )
    conn.close()
    with Store.open(tmp_path) as store:
        hyp = store.hypothetical_rows(model_id="k1")
        assert hyp[["task", "answer", "compliance"]].to_dict("records") == [
            {"task": "t", "answer": "r", "compliance": "ok"}
        ]
        dist = store.distributions(model_id="k1")
        assert sorted(dist["level"]) == ["hypothetical", "object"]
        assert store.distributions(model_id="k1", level="hypothetical")["probs"].tolist() == [{"r": 0.75}]
    names = _indexes(db) | {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "hypothetical_rows_by_task" in names and not any("meta" in n for n in names)


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    with Store.open(tmp_path):
        pass
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserError, match="newer than this inward"):
        Store.open(tmp_path)
    with sqlite3.connect(db) as conn:  # and left untouched
        assert user_version(conn) == SCHEMA_VERSION + 1


def test_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="not a usable inward database"):
        Store.open(tmp_path)


def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)

    def half_then_fail(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE extra (x INTEGER)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        migrate(conn, db, [*MIGRATIONS, half_then_fail])
    # The earlier migrations committed; the failing one left no trace and no version bump.
    assert user_version(conn) == len(MIGRATIONS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "extra" not in tables and "object_rows" in tables
    conn.close()


def test_reopening_does_not_remigrate(tmp_path: Path) -> None:
    calls: list[int] = []

    def count(c: sqlite3.Connection) -> None:
        calls.append(1)

    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db, isolation_level=None)
    for _ in range(3):
        migrate(conn, db, [*MIGRATIONS, count])
    assert calls == [1]
    conn.close()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    # Separate Store objects = separate connections, as separate processes would have.
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: Store.open(tmp_path), range(4)))
    try:
        assert {s.schema_version for s in stores} == {SCHEMA_VERSION}
    finally:
        for s in stores:
            s.close()
