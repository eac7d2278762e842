"""Removing a model's rows or a run from the store (`inward store rm MODEL|RUN`): plan, show, then remove.

    plan = store.plan_removal("local/m1")        # a model (key, label, trained name) or a run (id or name)
    print("\\n".join(plan.lines()))               # exactly what will go, and what stays and why
    store.remove(plan)                            # all of it or nothing

A model's removal deletes the behaviour rows stored under its identity (object-level, hypothetical,
distributions) and nothing else: other identities' rows, the call cache (keyed by label and weights
fingerprint, so a label's calls cannot be told apart by identity) and trained-model files stay.

A run's removal deletes its run records and steps, its folder `<workspace>/runs/<name>` once no record of that
name is left, and the trained models that only it owns (registered as `<name>-...`, named in no other run's
config): their record, their step in the shared trained-models namespace, their folder under
`<workspace>/models/` and the behaviour rows stored under their identity. Rows the run wrote for other models
are kept (rows are shared by content; other runs and commands read them); only their run link is cleared.

Atomicity: every delete runs in one transaction, and the count each one removes must equal the plan's (else
the store changed meanwhile and nothing is removed). Folders are first renamed to `.<name>.removing` beside
themselves, inside the transaction; an exception renames them back and rolls back, and a process killed
before the commit leaves such a folder whose record still exists: `recover()` (run by every removal and
summary) puts it back. After the commit the renamed folders are deleted.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inward.errors import UserError
from inward.store._inventory import (
    BEHAVIOUR_TABLES,
    TRAINED_SCOPE,
    find_model,
    folder_bytes,
    keys_of_trained,
    owner_run_name,
    parse_label,
)

if TYPE_CHECKING:
    from inward.store._store import Store

TRASH_SUFFIX = ".removing"
TABLE_WORDS = {
    "object_rows": "object-level rows",
    "hypothetical_rows": "hypothetical rows",
    "distributions": "distributions",
    "steps": "steps",
    "runs": "run records",
    "models": "trained-model records",
}


@dataclass(frozen=True)
class Delete:
    """One `DELETE FROM table WHERE ...` of a plan and how many rows it must remove."""

    table: str
    where: str
    params: tuple[Any, ...]
    rows: int


@dataclass(frozen=True)
class Removal:
    """What `remove()` will delete: rows per table, folders, and notes on what is kept and why."""

    target: str
    """What was asked for, in words (`model 3f9a… (local/m1)`, `run demo (2 records)`)."""
    deletes: tuple[Delete, ...]
    folders: tuple[Path, ...]
    kept: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    """Things to check before saying yes (a run still marked running)."""

    @property
    def rows(self) -> dict[str, int]:
        """Rows removed per table."""
        out: dict[str, int] = {}
        for d in self.deletes:
            out[d.table] = out.get(d.table, 0) + d.rows
        return out

    @property
    def empty(self) -> bool:
        return not self.folders and not any(self.rows.values())

    def lines(self) -> list[str]:
        """The plan in words, one line per table or folder, then what stays."""
        out = [f"remove {self.target}:"]
        for table, n in self.rows.items():
            if n:
                out.append(f"  - {table}: {n} {TABLE_WORDS.get(table, table)}")
        for folder in self.folders:
            out.append(f"  - folder {folder} ({_size(folder_bytes(folder))})")
        if self.empty:
            out.append("  (nothing to remove)")
        out.extend(f"  kept: {k}" for k in self.kept)
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n} B"


def _count(conn: sqlite3.Connection, table: str, where: str, params: tuple[Any, ...]) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0])


def _plan(conn: sqlite3.Connection, table: str, where: str, params: tuple[Any, ...]) -> Delete:
    return Delete(table, where, params, _count(conn, table, where, params))


def _model_deletes(conn: sqlite3.Connection, key: str) -> list[Delete]:
    return [_plan(conn, t, "model_id = ?", (key,)) for t in BEHAVIOUR_TABLES]


def plan_model_removal(store: Store, model: str) -> Removal:
    """The removal of one model's behaviour rows (`model`: anything `find_model` accepts)."""
    key = find_model(store, model)
    conn = store._conn()
    labels = sorted(
        {
            r[0]
            for t in BEHAVIOUR_TABLES
            for r in conn.execute(f"SELECT DISTINCT model FROM {t} WHERE model_id = ?", (key,))
        }
    )
    kept = []
    for label in labels:
        _, _, adapter = parse_label(label)
        if adapter is not None and store.get_model(adapter) is not None:
            kept.append(f"trained model {adapter} (its record and files; `inward store rm RUN` removes them)")
    if labels:
        n_calls = _count(conn, "calls", f"model IN ({', '.join('?' * len(labels))})", tuple(labels))
        if n_calls:
            kept.append(f"{n_calls} cached calls under {', '.join(labels)} (the call cache, shared by label)")
    return Removal(
        target=f"model {key} ({', '.join(labels)})",
        deletes=tuple(_model_deletes(conn, key)),
        folders=(),
        kept=tuple(kept),
    )


def _run_names(store: Store) -> set[str]:
    names = {r[0] for r in store._conn().execute("SELECT name FROM runs WHERE run_id != ?", (TRAINED_SCOPE,))}
    runs_dir = store.path.parent / "runs"
    if runs_dir.is_dir():
        names |= {p.name for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return names


def plan_run_removal(store: Store, run: str) -> Removal:
    """The removal of a run (`run`: a run id, a run name meaning every record of that name, or the name of a
    folder under `<workspace>/runs/` that has no record left)."""
    if run == TRAINED_SCOPE:
        raise UserError(
            f"{TRAINED_SCOPE!r} is the trained-models namespace every run shares; remove the run that "
            "trained a model instead"
        )
    conn = store._conn()
    ws = store.path.parent
    by_id = [r[0] for r in conn.execute("SELECT name FROM runs WHERE run_id = ?", (run,))]
    if by_id:
        ids, name = [run], by_id[0]
    else:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT run_id FROM runs WHERE name = ? AND run_id != ?", (run, TRAINED_SCOPE)
            )
        ]
        name = run
        if not ids and not (ws / "runs" / run).is_dir():
            raise UserError(f"no run {run!r} in the store at {ws}; `inward store ls` lists them")
    marks = ", ".join("?" * len(ids))
    deletes: list[Delete] = []
    kept: list[str] = []
    if ids:
        deletes += [
            _plan(conn, "steps", f"run_id IN ({marks})", tuple(ids)),
            _plan(conn, "runs", f"run_id IN ({marks})", tuple(ids)),
        ]
    rest = [
        (rid, n, cfg)
        for rid, n, cfg in conn.execute(
            "SELECT run_id, name, config FROM runs WHERE run_id != ?", (TRAINED_SCOPE,)
        )
        if rid not in ids
    ]
    left_of_name = [rid for rid, n, _ in rest if n == name]
    running = (
        [
            r[0]
            for r in conn.execute(
                f"SELECT run_id FROM runs WHERE run_id IN ({marks}) AND status = 'running'", tuple(ids)
            )
        ]
        if ids
        else []
    )
    folders: list[Path] = []
    removed_keys: set[str] = set()
    folder = ws / "runs" / name
    if left_of_name:
        kept.append(
            f"folder {folder}: {len(left_of_name)} other run(s) of this name use it ({', '.join(left_of_name)})"
        )
    else:
        if folder.is_dir():
            folders.append(folder)
        others = [(rid, cfg) for rid, _, cfg in rest]
        deletes += _trained_deletes(store, name, others, folders, kept, removed_keys)
    if ids:
        written = sum(
            int(n)
            for t in ("object_rows", "hypothetical_rows")
            for key, n in conn.execute(
                f"SELECT model_id, COUNT(*) FROM {t} WHERE run_id IN ({marks}) GROUP BY model_id", tuple(ids)
            )
            if key not in removed_keys
        )
        if written:
            kept.append(
                f"{written} behaviour rows it wrote for models it does not own (rows are shared by content; "
                "`inward store rm MODEL` removes a model's); their link to the run is cleared"
            )
    target = f"run {name}" + (f" ({', '.join(ids)})" if ids else " (folder only)")
    warnings = tuple(
        f"run {rid} is marked running: if it is still going, stop it first (else it was killed, and this is fine)"
        for rid in running
    )
    return Removal(
        target=target, deletes=tuple(deletes), folders=tuple(folders), kept=tuple(kept), warnings=warnings
    )


def _trained_deletes(
    store: Store,
    name: str,
    others: list[tuple[str, str]],
    folders: list[Path],
    kept: list[str],
    removed_keys: set[str],
) -> list[Delete]:
    """Deletes for the trained models run `name` owns and no other run names; adds their folders, and the
    identity keys whose rows go to `removed_keys`."""
    conn = store._conn()
    names = _run_names(store)
    out: list[Delete] = []
    steps = [
        (key, json.loads(output) if output else {})
        for key, output in conn.execute(
            "SELECT step_key, output FROM steps WHERE run_id = ?", (TRAINED_SCOPE,)
        )
    ]
    # What each other run names: its config and its steps (keys and outputs).
    used = [
        (
            rid,
            cfg
            + "".join(
                f"{k} {o or ''}"
                for k, o in conn.execute("SELECT step_key, output FROM steps WHERE run_id = ?", (rid,))
            ),
        )
        for rid, cfg in others
    ]
    for rec in store.list_models():
        if owner_run_name(rec.name, names) != name:
            continue
        users = [rid for rid, text in used if rec.name in text]
        if users:
            kept.append(
                f"trained model {rec.name}: run(s) {', '.join(users)} name it in their config or steps"
            )
            continue
        out.append(_plan(conn, "models", "name = ?", (rec.name,)))
        step_keys = tuple(k for k, o in steps if isinstance(o, dict) and o.get("name") == rec.name)
        if step_keys:
            out.append(
                _plan(
                    conn,
                    "steps",
                    f"run_id = ? AND step_key IN ({', '.join('?' * len(step_keys))})",
                    (TRAINED_SCOPE, *step_keys),
                )
            )
        for key in keys_of_trained(store, rec.name):
            if key not in removed_keys:
                removed_keys.add(key)
                out += _model_deletes(conn, key)
        ws = store.path.parent.resolve()
        for path in {
            (ws / "models" / rec.name),
            *([Path(rec.path).expanduser().resolve()] if rec.path else []),
        }:
            if not path.is_dir() or path in folders:
                continue
            if path.is_relative_to(ws):
                folders.append(path)
            else:
                kept.append(
                    f"folder {path} of trained model {rec.name}: outside the workspace, left as it is"
                )
    return out


def plan_removal(store: Store, target: str) -> Removal:
    """A run's removal when `target` names a run (id, name or folder), else a model's (see `find_model`)."""
    conn = store._conn()
    is_run = (
        conn.execute(
            "SELECT 1 FROM runs WHERE (run_id = ? OR name = ?) AND run_id != ?",
            (target, target, TRAINED_SCOPE),
        ).fetchone()
        is not None
        or (store.path.parent / "runs" / target).is_dir()
    )
    return plan_run_removal(store, target) if is_run else plan_model_removal(store, target)


def _trash(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}{TRASH_SUFFIX}")


def _to_trash(folder: Path) -> Path:
    """Rename `folder` out of the way (atomic, same parent); returns the new path."""
    trash = _trash(folder)
    if trash.exists():
        shutil.rmtree(trash)
    folder.rename(trash)
    return trash


def _delete(conn: sqlite3.Connection, d: Delete) -> int:
    return conn.execute(f"DELETE FROM {d.table} WHERE {d.where}", d.params).rowcount


def recover(store: Store) -> list[Path]:
    """Finish or undo removals a killed process left: a `.<name>.removing` folder whose run (under runs/) or
    trained model (under models/) still has a record is put back, any other is deleted. Returns the folders
    put back."""
    ws = store.path.parent
    conn = store._conn()
    restored = []
    for sub, sql in (
        ("runs", "SELECT 1 FROM runs WHERE name = ?"),
        ("models", "SELECT 1 FROM models WHERE name = ?"),
    ):
        parent = ws / sub
        if not parent.is_dir():
            continue
        for trash in parent.glob(f".*{TRASH_SUFFIX}"):
            name = trash.name[1 : -len(TRASH_SUFFIX)]
            if conn.execute(sql, (name,)).fetchone() is not None and not (parent / name).exists():
                trash.rename(parent / name)
                restored.append(parent / name)
            else:
                shutil.rmtree(trash, ignore_errors=True)
    return restored


def remove(store: Store, plan: Removal) -> Mapping[str, int]:
    """Carry out `plan` (from `plan_removal`) all or nothing; returns rows removed per table.

    A UserError, with nothing removed, when the store no longer matches the plan (plan again)."""
    recover(store)
    conn = store._conn()
    moved: list[tuple[Path, Path]] = []
    try:
        with store.transaction():
            for d in plan.deletes:
                n = _delete(conn, d)
                if n != d.rows:
                    raise UserError(
                        f"the store changed since the removal was planned ({d.table}: {n} rows, not {d.rows}); "
                        "nothing was removed, run the command again"
                    )
            for folder in plan.folders:
                if folder.exists():
                    moved.append((folder, _to_trash(folder)))
    except BaseException:
        for folder, trash in reversed(moved):
            if trash.exists() and not folder.exists():
                trash.rename(folder)
        raise
    for _, trash in moved:
        shutil.rmtree(trash, ignore_errors=True)
    return plan.rows


__all__ = ["Delete", "Removal", "plan_model_removal", "plan_removal", "plan_run_removal", "recover", "remove"]
