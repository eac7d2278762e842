"""The workspace store: one SQLite database (`<workspace>/inward.db`) holding the model-call cache, behaviour
snapshots (object-level and hypothetical answers, distributions), runs with their resumable steps, and trained
models.

    from inward.store import Store, ObjectRow
    with Store.open() as store:             # --workspace, else $INWARD_WORKSPACE, else ./inward-workspace
        with store.transaction():           # optional: batch several writes into one transaction
            store.put_object_rows(rows)     # idempotent: re-putting a natural key keeps the first row
            store.mark_step(run_id, key, "done", {"n": len(rows)})
        df = store.object_rows(model="local/qwen2.5-0.5b", task="animals")

Writes are idempotent on each table's natural key, so re-running a crashed step never duplicates a row: the
data tables (calls, object_rows, meta_rows, distributions) keep the first write; runs, steps and models are
upserted. Every write runs in a transaction (`BEGIN IMMEDIATE`: concurrent writers queue on the busy
timeout instead of failing). Each thread gets its own connection; several processes may share the database
(WAL mode). A forked child reconnects on first use; do not fork while a transaction is open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from inward.errors import UserError
from inward.paths import workspace_dir
from inward.store._codec import dumps, find_secret, loads, now
from inward.store._rows import (
    CallRow,
    DistributionRow,
    MetaRow,
    ModelRecord,
    ObjectRow,
    RunRecord,
    RunStatus,
    StepStatus,
    check_choice,
)
from inward.store._schema import SCHEMA_VERSION, TABLES, TableSpec, migrate, user_version
from inward.store.provenance import provenance as current_provenance

if TYPE_CHECKING:
    import pandas as pd

DB_NAME = "inward.db"
BUSY_TIMEOUT_S = 60.0
LOOKUP_CHUNK = 500  # keys per IN (...) query; well under SQLite's bound-parameter limit

Filter = str | int | Sequence[str] | None


class _ThreadConn:
    """One thread's connection and how deep it is in nested transactions."""

    __slots__ = ("__weakref__", "conn", "depth")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.depth = 0


class Store:
    """The workspace database. Open it with `Store.open(workspace)`; use as a context manager or `close()`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._closers: list[weakref.finalize[[], _ThreadConn]] = []
        self._closed = False
        self._pid = os.getpid()
        try:
            migrate(self._conn(), self.path)
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, workspace: Path | str | None = None) -> Store:
        """Open (creating and migrating as needed) `<workspace>/inward.db`; workspace as in `inward.paths`."""
        ws = workspace_dir(workspace)
        ws.mkdir(parents=True, exist_ok=True)
        return cls(ws / DB_NAME)

    # -- connections and transactions ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False only so that close()
        # can close every thread's connection; each connection is still used by one thread only.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            user_version(conn)  # fails here, clearly, when the file is not a SQLite database
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a killed process never corrupts the database or loses a committed transaction.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise UserError(
                f"{self.path} is not a usable inward database ({e}); move it away or use another --workspace"
            ) from e
        return conn

    def _conn(self) -> sqlite3.Connection:
        return self._thread().conn

    def _thread(self) -> _ThreadConn:
        if self._closed:
            raise RuntimeError(f"store {self.path} is closed")
        if self._pid != os.getpid():
            # A forked child must not use its parent's connections (SQLite forbids it): start afresh.
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._local = threading.local()
            self._closers = []
        state: _ThreadConn | None = getattr(self._local, "state", None)
        if state is None:
            state = _ThreadConn(self._connect())
            # The connection closes when its thread ends (the thread-local state is dropped) or at close().
            closer = weakref.finalize(state, state.conn.close)
            with self._lock:
                self._closers = [c for c in self._closers if c.alive]
                self._closers.append(closer)
            self._local.state = state
        return state

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction on this thread; nested use becomes a savepoint.

        On an exception everything written inside the block is rolled back and the exception propagates.
        """
        state = self._thread()
        conn, depth = state.conn, state.depth
        conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
        state.depth = depth + 1
        try:
            yield
        except BaseException:
            if depth == 0:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO sp{depth}")
                conn.execute(f"RELEASE sp{depth}")
            raise
        else:
            try:
                conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")
            except BaseException:
                if depth == 0 and conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            state.depth = depth

    def close(self) -> None:
        with self._lock:
            self._closed = True
            closers, self._closers = self._closers, []
        for close in closers:
            close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        return user_version(self._conn())

    # -- generic read/write ----------------------------------------------------------------------------------

    def _insert(self, spec: TableSpec, records: Sequence[Mapping[str, Any]], *, upsert: bool = False) -> int:
        """Insert records (column → Python value); returns how many rows were inserted or changed."""
        if not records:
            return 0
        cols = spec.columns
        if upsert:
            updated = [c for c in cols if c not in spec.key and c != "created"]
            action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updated)
        else:
            action = "DO NOTHING"
        sql = (
            f"INSERT INTO {spec.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(spec.key)}) {action}"
        )
        stamp = now()

        def param(col: str, value: Any) -> Any:
            if value is None:
                return stamp if col == "created" else None
            return dumps(value) if col in spec.json else value

        params = [tuple(param(c, r[c]) for c in cols) for r in records]
        with self.transaction():
            conn = self._conn()
            before = conn.total_changes
            try:
                conn.executemany(sql, params)
            except sqlite3.IntegrityError as e:
                if "FOREIGN KEY" in str(e):
                    raise ValueError(
                        f"{spec.name}: a row names a run_id missing from `runs`; call store.start_run() first"
                    ) from e
                raise
            return conn.total_changes - before

    def _select(self, spec: TableSpec, filters: Mapping[str, Filter]) -> list[dict[str, Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for col, value in filters.items():
            if value is None:
                continue
            if isinstance(value, str | int):
                clauses.append(f"{col} = ?")
                params.append(value)
            else:
                values = list(value)
                clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {', '.join(spec.columns)} FROM {spec.name}{where} ORDER BY {', '.join(spec.key)}"
        rows = self._conn().execute(sql, params).fetchall()
        return [
            {c: (loads(v) if c in spec.json else v) for c, v in zip(spec.columns, row, strict=True)}
            for row in rows
        ]

    def _frame(self, table: str, **filters: Filter) -> pd.DataFrame:
        import pandas as pd  # lazily: the CLI should not pay for pandas unless it reads tables

        spec = TABLES[table]
        return pd.DataFrame(self._select(spec, filters), columns=list(spec.columns))

    @staticmethod
    def _record(row: Any) -> dict[str, Any]:
        return {name: getattr(row, name) for name in row.__dataclass_fields__}

    def tables(self) -> list[str]:
        """Names of the tables `export()` accepts."""
        return list(TABLES)

    def export(self, table: str) -> pd.DataFrame:
        """A whole table as a DataFrame, JSON columns decoded, ordered by its natural key."""
        if table not in TABLES:
            raise UserError(f"unknown table {table!r}; choose one of: {', '.join(TABLES)}")
        return self._frame(table)

    # -- calls: the model-call cache -------------------------------------------------------------------------

    def put_calls(self, rows: Sequence[CallRow]) -> int:
        """Cache calls (one transaction); a key already present keeps its first response. Returns # added."""
        for row in rows:
            secret = find_secret(row.request)
            if secret:
                raise ValueError(
                    f"refusing to store a credential in the call cache ({secret}); strip it first"
                )
        return self._insert(TABLES["calls"], [self._record(r) for r in rows])

    def get_calls(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached calls by key (missing keys are absent); each value has the CallRow fields, JSON decoded."""
        spec = TABLES["calls"]
        unique = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(unique), LOOKUP_CHUNK):
            for rec in self._select(spec, {"key": unique[i : i + LOOKUP_CHUNK]}):
                found[rec["key"]] = rec
        return found

    def usage(self, model: str | None = None) -> dict[str, Any]:
        """Totals over cached calls (of one model, or all): calls, tokens, known cost, calls with no cost."""
        where, params = ("WHERE model = ?", [model]) if model is not None else ("", [])
        n, prompt, completion, cost, n_costed = (
            self._conn()
            .execute(
                "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
                f"COALESCE(SUM(cost_usd), 0.0), COUNT(cost_usd) FROM calls {where}",
                params,
            )
            .fetchone()
        )
        return {
            "calls": n,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cost_usd": float(cost),
            "calls_without_cost": n - n_costed,
        }

    # -- behaviour: object-level rows, hypothetical (meta) rows, distributions -------------------------------

    def put_object_rows(self, rows: Sequence[ObjectRow]) -> int:
        """Store object-level answers (one transaction); existing natural keys are kept. Returns # added."""
        return self._insert(TABLES["object_rows"], [self._record(r) for r in rows])

    def put_meta_rows(self, rows: Sequence[MetaRow]) -> int:
        """Store hypothetical answers (one transaction); existing natural keys are kept. Returns # added."""
        return self._insert(TABLES["meta_rows"], [self._record(r) for r in rows])

    def put_distributions(self, rows: Sequence[DistributionRow]) -> int:
        """Store distributions (one transaction); existing natural keys are kept. Returns # added."""
        return self._insert(TABLES["distributions"], [self._record(r) for r in rows])

    def object_rows(
        self,
        model: Filter = None,
        task: Filter = None,
        split: Filter = None,
        template_hash: Filter = None,
        config_key: Filter = None,
        *,
        run_id: Filter = None,
    ) -> pd.DataFrame:
        """Object-level rows matching every given filter (a value or a list); `properties` decoded."""
        return self._frame(
            "object_rows",
            model=model,
            task=task,
            split=split,
            template_hash=template_hash,
            config_key=config_key,
            run_id=run_id,
        )

    def meta_rows(
        self,
        model: Filter = None,
        task: Filter = None,
        split: Filter = None,
        template_hash: Filter = None,
        config_key: Filter = None,
        *,
        property: Filter = None,
        run_id: Filter = None,
    ) -> pd.DataFrame:
        """Hypothetical-answer rows matching every given filter (a value or a list of values)."""
        return self._frame(
            "meta_rows",
            model=model,
            task=task,
            split=split,
            template_hash=template_hash,
            config_key=config_key,
            property=property,
            run_id=run_id,
        )

    def distributions(
        self,
        model: Filter = None,
        task: Filter = None,
        level: Filter = None,
        property: Filter = None,
        template_hash: Filter = None,
        method: Filter = None,
    ) -> pd.DataFrame:
        """Distributions matching every given filter; `probs` as dicts."""
        return self._frame(
            "distributions",
            model=model,
            task=task,
            level=level,
            property=property,
            template_hash=template_hash,
            method=method,
        )

    # -- runs and their resumable steps ----------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        *,
        kind: str,
        name: str,
        config: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Create the run, or mark an existing one running again (resume); keeps its original `created`.

        `provenance` defaults to `inward.store.provenance()` taken now.
        """
        record = RunRecord(
            run_id=run_id,
            kind=kind,
            name=name,
            config=dict(config or {}),
            provenance=dict(provenance if provenance is not None else current_provenance()),
        )
        self.put_run(record)
        got = self.get_run(run_id)
        assert got is not None
        return got

    def put_run(self, run: RunRecord) -> None:
        """Insert or update a run record (upsert on run_id; `created` of an existing run is kept)."""
        self._insert(TABLES["runs"], [self._record(run)], upsert=True)

    def finish_run(self, run_id: str, status: RunStatus = "done") -> None:
        """Mark a run finished ("done" or "failed") now; KeyError if there is no such run."""
        check_choice(status, RunStatus, "run status")
        with self.transaction():
            cur = self._conn().execute(
                "UPDATE runs SET status = ?, finished = ? WHERE run_id = ?", (status, now(), run_id)
            )
        if cur.rowcount == 0:
            raise KeyError(f"no run {run_id!r} in {self.path}")

    def get_run(self, run_id: str) -> RunRecord | None:
        recs = self._select(TABLES["runs"], {"run_id": run_id})
        return RunRecord(**recs[0]) if recs else None

    def runs(self, kind: Filter = None, status: Filter = None) -> pd.DataFrame:
        return self._frame("runs", kind=kind, status=status)

    def mark_step(
        self, run_id: str, step_key: str, status: StepStatus, output: Mapping[str, Any] | None = None
    ) -> None:
        """Record a step's status (and output, when done). The run must exist (see `start_run`)."""
        check_choice(status, StepStatus, "step status")
        record = {
            "run_id": run_id,
            "step_key": step_key,
            "status": status,
            "output": None if output is None else dict(output),
            "created": None,
            "finished": None if status == "running" else now(),
        }
        self._insert(TABLES["steps"], [record], upsert=True)

    def step_done(self, run_id: str, step_key: str) -> dict[str, Any] | None:
        """The step's record (run_id, step_key, status, output, created, finished) if done, else None."""
        recs = self._select(TABLES["steps"], {"run_id": run_id, "step_key": step_key})
        return recs[0] if recs and recs[0]["status"] == "done" else None

    def steps(self, run_id: Filter = None, status: Filter = None) -> pd.DataFrame:
        return self._frame("steps", run_id=run_id, status=status)

    # -- trained models --------------------------------------------------------------------------------------

    def register_model(self, model: ModelRecord) -> None:
        """Insert or update a trained model by name (upsert; `created` of an existing record is kept)."""
        if model.path is None and model.remote_id is None:
            raise ValueError(f"model {model.name!r} needs a local path or a remote_id")
        self._insert(TABLES["models"], [self._record(model)], upsert=True)

    def get_model(self, name: str) -> ModelRecord | None:
        recs = self._select(TABLES["models"], {"name": name})
        return ModelRecord(**recs[0]) if recs else None

    def list_models(self) -> list[ModelRecord]:
        return [ModelRecord(**r) for r in self._select(TABLES["models"], {})]


__all__ = ["BUSY_TIMEOUT_S", "DB_NAME", "SCHEMA_VERSION", "Store"]
