"""The database layer under `Store`: connections, transactions, migrations on open, generic row reads/writes.

    db = Database(path)                 # creates/migrates the file; WAL, foreign keys, busy timeout
    with db.transaction():              # BEGIN IMMEDIATE … COMMIT; nested blocks are savepoints
        db._insert(TABLES["runs"], [record], upsert=True)

Each thread gets its own connection (closed when the thread ends, or at `close()`); a forked child reconnects
on first use. Do not fork while a transaction is open: SQLite cannot make that safe.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from inward.errors import UserError
from inward.store._codec import dumps, loads, now
from inward.store._schema import TABLES, TableSpec, migrate, user_version

if TYPE_CHECKING:
    import pandas as pd

BUSY_TIMEOUT_S = 60.0

Filter = str | int | Sequence[str] | None  # a column value, or a list of accepted values
_D = TypeVar("_D", bound="Database")


class _ThreadConn:
    """One thread's connection and how deep it is in nested transactions."""

    __slots__ = ("__weakref__", "conn", "depth")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.depth = 0


def _set_wal(conn: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL needs an exclusive lock, and SQLite answers "database is locked" at once
    # (no busy handler) while another connection of a first open holds its lock: retry within the timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Database:
    """A SQLite file at the current schema, one connection per thread, generic typed reads and writes."""

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

    # -- connections and transactions ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. check_same_thread=False only so that close()
        # can close every thread's connection; each connection is still used by one thread only.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            user_version(conn)  # fails here, clearly, when the file is not a SQLite database
            _set_wal(conn)
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

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            closers, self._closers = self._closers, []
        for close in closers:
            close()

    def __enter__(self: _D) -> _D:
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
