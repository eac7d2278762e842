"""The store's schema and its migrations.

The schema version is SQLite's `PRAGMA user_version`. `MIGRATIONS[i]` takes a database from version i to i+1;
`migrate()` applies the missing ones in order, each in its own transaction together with the version bump, so
a crash leaves the database at a whole version. To change the schema, append a migration; never edit one
that was released.

`TABLES` describes each table for the generic read/write code: its columns (= the row dataclass's fields), its
natural key and its JSON columns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from inward.errors import UserError
from inward.store._rows import CallRow, DistributionRow, HypotheticalRow, ModelRecord, ObjectRow, RunRecord

Migration = Callable[[sqlite3.Connection], None]

_V1_TABLES = [
    """CREATE TABLE calls (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        created TEXT NOT NULL
    )""",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        config TEXT NOT NULL,
        provenance TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        created TEXT NOT NULL,
        finished TEXT
    )""",
    """CREATE TABLE steps (
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        step_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        output TEXT,
        created TEXT NOT NULL,
        finished TEXT,
        PRIMARY KEY (run_id, step_key)
    )""",
    """CREATE TABLE object_rows (
        model TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        sample INTEGER NOT NULL,
        split TEXT NOT NULL,
        item_text TEXT NOT NULL,
        target TEXT,
        raw TEXT NOT NULL,
        cleaned TEXT,
        compliance TEXT,
        properties TEXT NOT NULL,
        finish_reason TEXT,
        run_id TEXT REFERENCES runs (run_id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (model, task, item_id, template_hash, config_key, sample)
    )""",
    """CREATE TABLE meta_rows (
        model TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        property TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        sample INTEGER NOT NULL,
        split TEXT NOT NULL,
        raw TEXT NOT NULL,
        answer TEXT,
        compliance TEXT,
        finish_reason TEXT,
        run_id TEXT REFERENCES runs (run_id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (model, task, item_id, property, template_hash, config_key, sample)
    )""",
    """CREATE TABLE distributions (
        model TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('object', 'meta')),
        property TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        method TEXT NOT NULL,
        probs TEXT NOT NULL,
        covered REAL,
        forward_tokens INTEGER,
        n_samples INTEGER,
        created TEXT NOT NULL,
        PRIMARY KEY (model, task, item_id, level, property, template_hash, method)
    )""",
    """CREATE TABLE models (
        name TEXT PRIMARY KEY,
        base_ref TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT,
        remote_id TEXT,
        config TEXT NOT NULL,
        provenance TEXT NOT NULL,
        status TEXT NOT NULL,
        created TEXT NOT NULL
    )""",
]

# Lookups that do not start with `model` (the leading key column), and the child side of the run foreign keys
# (deleting a run scans these otherwise).
_V2_INDEXES = [
    "CREATE INDEX calls_by_model ON calls (model)",
    "CREATE INDEX object_rows_by_task ON object_rows (task, split)",
    "CREATE INDEX object_rows_by_run ON object_rows (run_id)",
    "CREATE INDEX meta_rows_by_task ON meta_rows (task, property)",
    "CREATE INDEX meta_rows_by_run ON meta_rows (run_id)",
    "CREATE INDEX distributions_by_task ON distributions (task, level, property)",
]


# v3: behaviour is keyed by the model's content identity (`model_id`), not its ref string (`model`, now a label),
# and distributions by their requested settings (`config_key`), not by the method the backend reported. Rows
# written before v3 cannot be traced to weights: they are kept under `model_id = 'legacy:' || model` (and
# `config_key = 'legacy:' || method`), which no model's identity ever equals, so they are never read as anyone's
# behaviour. Re-running a command re-derives its rows from the call cache (keyed by the model fingerprint all
# along) at no model cost when the weights are unchanged.
_V3_BEHAVIOUR = [
    "ALTER TABLE object_rows RENAME TO object_rows_v2",
    "ALTER TABLE meta_rows RENAME TO meta_rows_v2",
    "ALTER TABLE distributions RENAME TO distributions_v2",
    """CREATE TABLE object_rows (
        model TEXT NOT NULL,
        model_id TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        sample INTEGER NOT NULL,
        split TEXT NOT NULL,
        item_text TEXT NOT NULL,
        target TEXT,
        raw TEXT NOT NULL,
        cleaned TEXT,
        compliance TEXT,
        properties TEXT NOT NULL,
        finish_reason TEXT,
        run_id TEXT REFERENCES runs (run_id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (model_id, task, item_id, template_hash, config_key, sample)
    )""",
    """CREATE TABLE meta_rows (
        model TEXT NOT NULL,
        model_id TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        property TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        sample INTEGER NOT NULL,
        split TEXT NOT NULL,
        raw TEXT NOT NULL,
        answer TEXT,
        compliance TEXT,
        finish_reason TEXT,
        run_id TEXT REFERENCES runs (run_id) ON DELETE SET NULL,
        created TEXT NOT NULL,
        PRIMARY KEY (model_id, task, item_id, property, template_hash, config_key, sample)
    )""",
    """CREATE TABLE distributions (
        model TEXT NOT NULL,
        model_id TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('object', 'meta')),
        property TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        method TEXT NOT NULL,
        probs TEXT NOT NULL,
        covered REAL,
        forward_tokens INTEGER,
        n_samples INTEGER,
        created TEXT NOT NULL,
        PRIMARY KEY (model_id, task, item_id, level, property, template_hash, config_key)
    )""",
    """INSERT INTO object_rows SELECT model, 'legacy:' || model, task, item_id, template_hash, config_key, sample,
        split, item_text, target, raw, cleaned, compliance, properties, finish_reason, run_id, created
        FROM object_rows_v2""",
    """INSERT INTO meta_rows SELECT model, 'legacy:' || model, task, item_id, property, template_hash,
        config_key, sample, split, raw, answer, compliance, finish_reason, run_id, created FROM meta_rows_v2""",
    """INSERT INTO distributions SELECT model, 'legacy:' || model, task, item_id, level, property,
        template_hash, 'legacy:' || method, method, probs, covered, forward_tokens, n_samples, created
        FROM distributions_v2""",
    "DROP TABLE object_rows_v2",
    "DROP TABLE meta_rows_v2",
    "DROP TABLE distributions_v2",
    *_V2_INDEXES[1:],
    "CREATE INDEX object_rows_by_label ON object_rows (model)",
    "CREATE INDEX meta_rows_by_label ON meta_rows (model)",
    "CREATE INDEX distributions_by_label ON distributions (model)",
]

# v4: names of the object configs rows were stored under (config_key is a digest), so a command that finds no
# rows under one config can say which ones exist.
_V4_OBJECT_CONFIGS = [
    """CREATE TABLE object_configs (
        config_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        settings TEXT NOT NULL,
        created TEXT NOT NULL
    )""",
]

# v5: one word for one thing. The hypothetical answers' table is `hypothetical_rows` (was `meta_rows`) and a
# distribution's level is 'object' or 'hypothetical' (was 'meta'); the rows themselves are unchanged.
_V5_HYPOTHETICAL = [
    "ALTER TABLE meta_rows RENAME TO hypothetical_rows",
    "DROP INDEX meta_rows_by_task",
    "DROP INDEX meta_rows_by_run",
    "DROP INDEX meta_rows_by_label",
    "CREATE INDEX hypothetical_rows_by_task ON hypothetical_rows (task, property)",
    "CREATE INDEX hypothetical_rows_by_run ON hypothetical_rows (run_id)",
    "CREATE INDEX hypothetical_rows_by_label ON hypothetical_rows (model)",
    "ALTER TABLE distributions RENAME TO distributions_v4",
    """CREATE TABLE distributions (
        model TEXT NOT NULL,
        model_id TEXT NOT NULL,
        task TEXT NOT NULL,
        item_id TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('object', 'hypothetical')),
        property TEXT NOT NULL,
        template_hash TEXT NOT NULL,
        config_key TEXT NOT NULL,
        method TEXT NOT NULL,
        probs TEXT NOT NULL,
        covered REAL,
        forward_tokens INTEGER,
        n_samples INTEGER,
        created TEXT NOT NULL,
        PRIMARY KEY (model_id, task, item_id, level, property, template_hash, config_key)
    )""",
    """INSERT INTO distributions SELECT model, model_id, task, item_id,
        CASE level WHEN 'meta' THEN 'hypothetical' ELSE level END, property, template_hash, config_key, method,
        probs, covered, forward_tokens, n_samples, created FROM distributions_v4""",
    "DROP TABLE distributions_v4",
    "CREATE INDEX distributions_by_task ON distributions (task, level, property)",
    "CREATE INDEX distributions_by_label ON distributions (model)",
]


def _run_all(statements: Sequence[str]) -> Migration:
    # conn.executescript() would COMMIT first and break the one-transaction-per-migration rule.
    def apply(conn: sqlite3.Connection) -> None:
        for sql in statements:
            conn.execute(sql)

    return apply


MIGRATIONS: list[Migration] = [
    _run_all(_V1_TABLES),
    _run_all(_V2_INDEXES),
    _run_all(_V3_BEHAVIOUR),
    _run_all(_V4_OBJECT_CONFIGS),
    _run_all(_V5_HYPOTHETICAL),
]
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(found: int, supported: int, path: Path) -> None:
    if found > supported:
        raise UserError(
            f"{path} has store schema version {found}, newer than this inward understands ({supported}); "
            "upgrade inward (pip install -U inward) or use another --workspace"
        )


def migrate(conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database on `conn` (autocommit mode) to version len(migrations); returns the version found.

    Safe against several processes opening a fresh database at once: the version is re-read after taking the
    write lock, so each migration runs exactly once.
    """
    found = user_version(conn)
    _refuse_newer(found, len(migrations), path)
    version = found
    while version < len(migrations):
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            _refuse_newer(version, len(migrations), path)
            if version < len(migrations):
                migrations[version](conn)
                version += 1
                conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return found


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    json: frozenset[str]


def _spec(name: str, row_type: type, key: tuple[str, ...], json: set[str]) -> TableSpec:
    return TableSpec(name, tuple(f.name for f in fields(row_type)), key, frozenset(json))


TABLES: dict[str, TableSpec] = {
    "calls": _spec("calls", CallRow, ("key",), {"request", "response"}),
    "object_rows": _spec(
        "object_rows",
        ObjectRow,
        ("model_id", "task", "item_id", "template_hash", "config_key", "sample"),
        {"properties"},
    ),
    "hypothetical_rows": _spec(
        "hypothetical_rows",
        HypotheticalRow,
        ("model_id", "task", "item_id", "property", "template_hash", "config_key", "sample"),
        set(),
    ),
    "distributions": _spec(
        "distributions",
        DistributionRow,
        ("model_id", "task", "item_id", "level", "property", "template_hash", "config_key"),
        {"probs"},
    ),
    "runs": _spec("runs", RunRecord, ("run_id",), {"config", "provenance"}),
    "steps": TableSpec(
        "steps",
        ("run_id", "step_key", "status", "output", "created", "finished"),
        ("run_id", "step_key"),
        frozenset({"output"}),
    ),
    "models": _spec("models", ModelRecord, ("name",), {"config", "provenance"}),
    "object_configs": TableSpec(
        "object_configs",
        ("config_key", "name", "settings", "created"),
        ("config_key",),
        frozenset({"settings"}),
    ),
}
