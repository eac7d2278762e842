"""The workspace store: one SQLite database (`<workspace>/inward.db`) holding the model-call cache, behaviour
snapshots (object-level and hypothetical answers, distributions), runs with their resumable steps, and trained
models.

    from inward.store import Store, ObjectRow
    with Store.open() as store:             # --workspace, else $INWARD_WORKSPACE, else ./inward-workspace
        with store.transaction():           # optional: batch several writes into one transaction
            store.put_object_rows(rows)     # idempotent: re-putting a natural key keeps the first row
            store.mark_step(run_id, key, "done", {"n": len(rows)})
        df = store.object_rows(model_id=ident.key, task="animals")   # behaviour is keyed by model identity

Writes are idempotent on each table's natural key, so re-running a crashed step never duplicates a row: the
data tables (calls, object_rows, hypothetical_rows, distributions) keep the first write; runs, steps and models are
upserted. Every write runs in a transaction (`BEGIN IMMEDIATE`: concurrent writers queue on the busy
timeout instead of failing). Each thread gets its own connection; several processes may share the database
(WAL mode). The connection handling lives in `_db.Database`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inward.paths import workspace_dir
from inward.store import _inventory, _remove
from inward.store._codec import find_secret, now
from inward.store._db import Database, Filter
from inward.store._inventory import ModelSummary, StoreSummary
from inward.store._remove import Removal
from inward.store._rows import (
    CallRow,
    DistributionRow,
    HypotheticalRow,
    ModelRecord,
    ObjectRow,
    RunRecord,
    RunStatus,
    StepStatus,
    check_choice,
)
from inward.store._schema import TABLES
from inward.store.provenance import provenance as current_provenance

if TYPE_CHECKING:
    import pandas as pd

DB_NAME = "inward.db"
LOOKUP_CHUNK = 500  # keys per IN (...) query; well under SQLite's bound-parameter limit


class Store(Database):
    """The workspace database. Open it with `Store.open(workspace)`; use as a context manager or `close()`."""

    @classmethod
    def open(cls, workspace: Path | str | None = None) -> Store:
        """Open (creating and migrating as needed) `<workspace>/inward.db`; workspace as in `inward.paths`."""
        ws = workspace_dir(workspace)
        ws.mkdir(parents=True, exist_ok=True)
        return cls(ws / DB_NAME)

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

    # -- behaviour: object-level rows, hypothetical rows, distributions -------------------------------

    def put_object_rows(self, rows: Sequence[ObjectRow], *, replace: bool = False) -> int:
        """Store object-level answers (one transaction); existing natural keys are kept unless `replace`
        (used to swap an early-stopped answer for the whole one). Returns # added or changed."""
        return self._insert(TABLES["object_rows"], [self._record(r) for r in rows], upsert=replace)

    def put_hypothetical_rows(self, rows: Sequence[HypotheticalRow]) -> int:
        """Store hypothetical answers (one transaction); existing natural keys are kept. Returns # added."""
        return self._insert(TABLES["hypothetical_rows"], [self._record(r) for r in rows])

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
        model_id: Filter = None,
        run_id: Filter = None,
    ) -> pd.DataFrame:
        """Object-level rows matching every given filter (a value or a list); `properties` decoded. `model` is
        the ref label; filter by `model_id` (the content identity) to read one model's behaviour."""
        return self._frame(
            "object_rows",
            model=model,
            model_id=model_id,
            task=task,
            split=split,
            template_hash=template_hash,
            config_key=config_key,
            run_id=run_id,
        )

    def hypothetical_rows(
        self,
        model: Filter = None,
        task: Filter = None,
        split: Filter = None,
        template_hash: Filter = None,
        config_key: Filter = None,
        *,
        model_id: Filter = None,
        property: Filter = None,
        run_id: Filter = None,
    ) -> pd.DataFrame:
        """Hypothetical-answer rows matching every given filter (a value or a list of values)."""
        return self._frame(
            "hypothetical_rows",
            model=model,
            model_id=model_id,
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
        *,
        model_id: Filter = None,
        config_key: Filter = None,
    ) -> pd.DataFrame:
        """Distributions matching every given filter; `probs` as dicts. `config_key` is the requested settings,
        `method` the one the backend used."""
        return self._frame(
            "distributions",
            model=model,
            model_id=model_id,
            config_key=config_key,
            task=task,
            level=level,
            property=property,
            template_hash=template_hash,
            method=method,
        )

    def put_object_config(self, config_key: str, name: str, settings: Mapping[str, Any]) -> None:
        """Remember the name of an object config (idempotent)."""
        self._insert(
            TABLES["object_configs"],
            [{"config_key": config_key, "name": name, "settings": dict(settings), "created": None}],
        )

    def object_configs_of(self, model_id: str, tasks: Sequence[str] | None = None) -> list[str]:
        """Names of the object configs `model_id` has rows under (on any of `tasks`), sorted."""
        where, params = "o.model_id = ?", [model_id]
        if tasks:
            where += f" AND o.task IN ({', '.join('?' * len(tasks))})"
            params += list(tasks)
        rows = (
            self._conn()
            .execute(
                "SELECT DISTINCT COALESCE(c.name, o.config_key) FROM object_rows o LEFT JOIN object_configs c "
                f"ON c.config_key = o.config_key WHERE {where}",
                params,
            )
            .fetchall()
        )
        return sorted(r[0] for r in rows)

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

    # -- what the store holds, and removing from it (`inward store ls | show | rm`) ------------------------

    def summary(self) -> StoreSummary:
        """Models, trained models, runs, rows per table and sizes on disk (see `inward.store._inventory`)."""
        _remove.recover(self)
        return _inventory.summary(self)

    def model_summary(self, model: str) -> ModelSummary:
        """One model (identity key, unique key prefix, label or trained model name): rows, provenance, runs."""
        return _inventory.model_summary(self, model)

    def find_model(self, model: str) -> str:
        """The identity key `model` names (a key, unique key prefix, label or trained model name)."""
        return _inventory.find_model(self, model)

    def plan_removal(self, target: str) -> Removal:
        """What removing `target` (a run id or name, else a model) would delete; nothing is removed."""
        return _remove.plan_removal(self, target)

    def remove(self, plan: Removal) -> Mapping[str, int]:
        """Carry out a removal plan all or nothing (see `inward.store._remove`); rows removed per table."""
        return _remove.remove(self, plan)

    def remove_model(self, model: str) -> Mapping[str, int]:
        """Remove one model's behaviour rows (never another identity's); rows removed per table."""
        return _remove.remove(self, _remove.plan_model_removal(self, model))

    def remove_run(self, run: str) -> Mapping[str, int]:
        """Remove a run, its folder and the trained models only it owns; rows removed per table."""
        return _remove.remove(self, _remove.plan_run_removal(self, run))


__all__ = ["DB_NAME", "LOOKUP_CHUNK", "Store"]
