"""What a workspace's store holds: its models, runs, row counts and sizes on disk (`inward store ls | show`).

    from inward.store import Store
    with Store.open("ws") as store:
        s = store.summary()                      # StoreSummary: models, trained, runs, tables, sizes
        m = store.model_summary("local/m1")      # ModelSummary: identity, rows by task/split/property, runs

A *model* here is one identity (`model_id`, the content key behaviour rows are keyed by, see
`inward.backends.identity`) with the ref strings (labels) its rows were written under. `find_model` accepts an
identity key, a unique prefix of one, a label or a trained model's registered name.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from inward.errors import UserError
from inward.store._rows import ModelRecord

if TYPE_CHECKING:
    from inward.store._store import Store

BEHAVIOUR_TABLES = ("object_rows", "hypothetical_rows", "distributions")  # the tables keyed by model identity
TRAINED_SCOPE = "trained-models"  # the run record whose steps every run's trained models share
MIN_PREFIX = 4  # shortest identity-key prefix `find_model` accepts
ModelKind = Literal["base", "adapter", "legacy"]


@dataclass(frozen=True)
class ModelEntry:
    """One model identity in the store."""

    key: str
    """The identity key behaviour rows are stored under (`legacy:<label>` for rows written before identities)."""
    labels: tuple[str, ...]
    """The ref strings its rows were written under, sorted."""
    kind: ModelKind
    """`adapter` when a label names an adapter (`...+adapter=X`), `legacy` for pre-identity rows, else `base`."""
    base: str | None
    """The base model ref of an adapter (None for a base model)."""
    adapter: str | None
    """The adapter name or path (None for a base model)."""
    rows: Mapping[str, int]
    """Rows per behaviour table (`object_rows`, `hypothetical_rows`, `distributions`)."""

    @property
    def label(self) -> str:
        return self.labels[0] if self.labels else self.key


@dataclass(frozen=True)
class RunEntry:
    """One run record (see `Store.start_run`) and its folder under `<workspace>/runs/`, if it has one."""

    run_id: str
    name: str
    kind: str
    status: str
    created: str
    finished: str | None
    steps: int
    folder: Path | None
    """`<workspace>/runs/<name>` when it exists (runs of one name share it)."""
    folder_bytes: int


@dataclass(frozen=True)
class StoreSummary:
    """Everything `inward store ls` prints."""

    workspace: Path
    models: tuple[ModelEntry, ...]
    trained: tuple[ModelRecord, ...]
    """Registered trained models (adapters, hosted fine-tunes)."""
    runs: tuple[RunEntry, ...]
    """Experiment runs, oldest first (the shared trained-models record is left out)."""
    tables: Mapping[str, int]
    """Rows per store table."""
    sizes: Mapping[str, int]
    """Bytes on disk: `database` (inward.db with its WAL), `runs/`, `models/`, `total`."""
    table_bytes: Mapping[str, int] | None = None
    """Bytes per table with its indexes, when SQLite can tell (the dbstat table); else None."""
    orphan_folders: tuple[Path, ...] = ()
    """Folders under `<workspace>/runs/` that no run record names (copied in, or left by hand)."""


@dataclass(frozen=True)
class ModelSummary:
    """Everything `inward store show MODEL` prints."""

    entry: ModelEntry
    registered: ModelRecord | None
    """The trained-model record its adapter resolves to, if any."""
    counts: tuple[Mapping[str, Any], ...]
    """Rows per (table, task, split, property, template_hash, config_key, config): `property` is None for object
    rows, `split` None for distributions (which are split-free); `config` is the object config's name when
    known; `rows` the count."""
    runs: tuple[RunEntry, ...]
    """Runs that wrote its rows or name one of its labels in their config."""
    calls: int
    """Cached model calls under its labels (the call cache is keyed by label and weights fingerprint)."""


def folder_bytes(path: Path) -> int:
    """Bytes of every file under `path` (0 when it is missing); links are not followed."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass  # a file removed while we walk
    return total


def parse_label(label: str) -> tuple[ModelKind, str | None, str | None]:
    """(kind, base ref, adapter) of a stored label; labels that are not refs count as base models."""
    from inward.refs import ModelRef

    if label.startswith("legacy:"):
        return "legacy", None, None
    try:
        ref = ModelRef.parse(label)
    except UserError:
        return "base", None, None
    if ref.adapter is None:
        return "base", None, None
    return "adapter", str(ref.base), ref.adapter


def _labels_by_key(store: Store, where: str = "", params: tuple[Any, ...] = ()) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    conn = store._conn()
    for table in BEHAVIOUR_TABLES:
        sql = f"SELECT DISTINCT model_id, model FROM {table} {where}"
        for key, label in conn.execute(sql, params):
            out.setdefault(key, set()).add(label)
    return out


def _entry(store: Store, key: str, labels: set[str]) -> ModelEntry:
    conn = store._conn()
    rows = {
        t: int(conn.execute(f"SELECT COUNT(*) FROM {t} WHERE model_id = ?", (key,)).fetchone()[0])
        for t in BEHAVIOUR_TABLES
    }
    ordered = tuple(sorted(labels))
    kind: ModelKind = "legacy" if key.startswith("legacy:") else "base"
    base = adapter = None
    for label in ordered:
        k, b, a = parse_label(label)
        if k == "adapter":
            kind, base, adapter = k, b, a
            break
    return ModelEntry(key=key, labels=ordered, kind=kind, base=base, adapter=adapter, rows=rows)


def models(store: Store) -> list[ModelEntry]:
    """Every model identity with behaviour rows, sorted by first label."""
    entries = [_entry(store, key, labels) for key, labels in _labels_by_key(store).items()]
    return sorted(entries, key=lambda e: (e.label, e.key))


def runs(store: Store) -> list[RunEntry]:
    """Every run record but the shared trained-models one, oldest first."""
    runs_dir = store.path.parent / "runs"
    out = []
    sql = (
        "SELECT r.run_id, r.name, r.kind, r.status, r.created, r.finished, "
        "(SELECT COUNT(*) FROM steps s WHERE s.run_id = r.run_id) FROM runs r WHERE r.run_id != ? "
        "ORDER BY r.created, r.run_id"
    )
    for run_id, name, kind, status, created, finished, n_steps in store._conn().execute(
        sql, (TRAINED_SCOPE,)
    ):
        folder = runs_dir / name
        has = folder.is_dir()
        out.append(
            RunEntry(
                run_id=run_id,
                name=name,
                kind=kind,
                status=status,
                created=created,
                finished=finished,
                steps=int(n_steps),
                folder=folder if has else None,
                folder_bytes=folder_bytes(folder) if has else 0,
            )
        )
    return out


def table_counts(store: Store) -> dict[str, int]:
    from inward.store._schema import TABLES

    conn = store._conn()
    return {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}


def table_bytes(store: Store) -> dict[str, int] | None:
    """Bytes per table, its indexes included (SQLite's dbstat table); None when this SQLite lacks it."""
    from inward.store._schema import TABLES

    conn = store._conn()
    try:
        pages = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return None
    owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE tbl_name IS NOT NULL"))
    out = dict.fromkeys(TABLES, 0)
    for name, size in pages:
        table = owner.get(name)
        if table in out:
            out[table] += int(size)
    return out


def summary(store: Store) -> StoreSummary:
    """The store at a glance: models, trained models, runs, rows per table and sizes on disk."""
    ws = store.path.parent
    db = sum(folder_bytes(store.path.with_name(store.path.name + s)) for s in ("", "-wal", "-shm"))
    sizes = {"database": db, "runs": folder_bytes(ws / "runs"), "models": folder_bytes(ws / "models")}
    sizes["total"] = folder_bytes(ws)
    entries = runs(store)
    named = {r.name for r in entries}
    runs_dir = ws / "runs"
    orphans = (
        sorted(
            p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in named
        )
        if runs_dir.is_dir()
        else []
    )
    return StoreSummary(
        workspace=ws,
        models=tuple(models(store)),
        trained=tuple(store.list_models()),
        runs=tuple(entries),
        tables=table_counts(store),
        sizes=sizes,
        table_bytes=table_bytes(store),
        orphan_folders=tuple(orphans),
    )


def _registered_name(store: Store, adapter: str | None) -> ModelRecord | None:
    if adapter is None:
        return None
    rec = store.get_model(adapter)
    if rec is not None:
        return rec
    # An adapter given as a folder: the record whose path it is.
    for r in store.list_models():
        if r.path and Path(r.path).expanduser().resolve() == Path(adapter).expanduser().resolve():
            return r
    return None


def keys_of_trained(store: Store, name: str) -> list[str]:
    """Identity keys whose labels name the trained model `name` as their adapter (by name or folder)."""
    rec = store.get_model(name)
    folder = Path(rec.path).expanduser().resolve() if rec and rec.path else None
    keys = []
    for key, labels in _labels_by_key(store).items():
        for label in labels:
            _, _, adapter = parse_label(label)
            if adapter is not None and (
                adapter == name or (folder is not None and Path(adapter).expanduser().resolve() == folder)
            ):
                keys.append(key)
                break
    return sorted(keys)


def find_model(store: Store, text: str) -> str:
    """The identity key `text` names: a key, a unique key prefix, a label, or a registered trained model's name.

    A UserError when it names nothing in the store, or several identities (then it lists their keys)."""
    by_key = _labels_by_key(store)
    if text in by_key:
        return text
    hits = sorted(k for k, labels in by_key.items() if text in labels)
    how = "label"
    if not hits and store.get_model(text) is not None:
        hits, how = keys_of_trained(store, text), "trained model"
        if not hits:
            raise UserError(
                f"trained model {text!r} has no stored rows in {store.path.parent}; `inward store ls` lists "
                "the models that do"
            )
    if not hits and len(text) >= MIN_PREFIX:
        hits, how = sorted(k for k in by_key if k.startswith(text)), "key prefix"
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UserError(
            f"{how} {text!r} names {len(hits)} model identities ({', '.join(hits)}); pass one of these keys"
        )
    raise UserError(f"no model {text!r} in the store at {store.path.parent}; `inward store ls` lists them")


def _runs_using(store: Store, key: str, labels: tuple[str, ...]) -> list[RunEntry]:
    conn = store._conn()
    ids = {
        r[0]
        for t in ("object_rows", "hypothetical_rows")
        for r in conn.execute(
            f"SELECT DISTINCT run_id FROM {t} WHERE model_id = ? AND run_id IS NOT NULL", (key,)
        )
    }
    # Pipeline steps do not stamp their rows with the run: a run used the model when its config or a step's
    # output names one of its labels (as a JSON string), or a step's name has a label as one of its words
    # ("evaluate <label> about <label>").
    quoted = [json.dumps(label) for label in labels]
    for run_id, config in conn.execute("SELECT run_id, config FROM runs"):
        if any(q in config for q in quoted):
            ids.add(run_id)
    for run_id, step_key, output in conn.execute("SELECT run_id, step_key, output FROM steps"):
        words = step_key.rpartition(":")[0].split()
        if any(label in words for label in labels) or any(q in (output or "") for q in quoted):
            ids.add(run_id)
    # A trained model belongs to the runs of the name it was trained under (`<run>-<label>-<digest>`).
    entries = runs(store)
    adapters = {a for a in (parse_label(label)[2] for label in labels) if a is not None}
    names = {r.name for r in entries}
    owners = {owner_run_name(Path(a).name, names) for a in adapters}
    return [r for r in entries if r.run_id in ids or r.name in owners]


def owner_run_name(model_name: str, run_names: set[str]) -> str | None:
    """The run name a pipeline-trained model (`<run>-<label>-<digest>`) belongs to: the longest that prefixes it."""
    owners = [n for n in run_names if model_name.startswith(f"{n}-")]
    return max(owners, key=len) if owners else None


def model_summary(store: Store, model: str) -> ModelSummary:
    """One model (anything `find_model` accepts): identity, rows by task/split/property/template/config, the
    trained-model record it resolves to, the runs that used it and its cached calls."""
    key = find_model(store, model)
    entry = _entry(store, key, _labels_by_key(store).get(key, set()))
    conn = store._conn()
    names = dict(conn.execute("SELECT config_key, name FROM object_configs"))
    queries = {
        "object_rows": "SELECT task, split, NULL, template_hash, config_key, COUNT(*) FROM object_rows",
        "hypothetical_rows": "SELECT task, split, property, template_hash, config_key, COUNT(*) FROM hypothetical_rows",
        "distributions": "SELECT task, level, property, template_hash, config_key, COUNT(*) FROM distributions",
    }
    counts: list[dict[str, Any]] = []
    for table, select in queries.items():
        sql = f"{select} WHERE model_id = ? GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        for task, split, prop, template_hash, config_key, n in conn.execute(sql, (key,)):
            counts.append(
                {
                    "table": table,
                    "task": task,
                    "split": None if table == "distributions" else split,
                    "level": split if table == "distributions" else None,
                    "property": prop,
                    "template_hash": template_hash,
                    "config_key": config_key,
                    "config": names.get(config_key),
                    "rows": int(n),
                }
            )
    placeholders = ", ".join("?" * len(entry.labels))
    n_calls = (
        int(
            conn.execute(
                f"SELECT COUNT(*) FROM calls WHERE model IN ({placeholders})", entry.labels
            ).fetchone()[0]
        )
        if entry.labels
        else 0
    )
    return ModelSummary(
        entry=entry,
        registered=_registered_name(store, entry.adapter),
        counts=tuple(counts),
        runs=tuple(_runs_using(store, key, entry.labels)),
        calls=n_calls,
    )


__all__ = [
    "BEHAVIOUR_TABLES",
    "ModelEntry",
    "ModelSummary",
    "RunEntry",
    "StoreSummary",
    "find_model",
    "folder_bytes",
    "model_summary",
    "models",
    "runs",
    "summary",
]
