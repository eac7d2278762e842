"""The workspace store: one SQLite database per workspace for the call cache, behaviour, runs and models.

    from inward.store import Store, ObjectRow, provenance
    with Store.open("my-workspace") as store:       # creates/migrates my-workspace/inward.db
        store.put_object_rows([ObjectRow(...)])     # idempotent on the natural key
        df = store.object_rows(task="animals")      # a pandas DataFrame, JSON columns decoded
        store.summary(); store.model_summary("local/m1")          # what it holds (`inward store ls | show`)
        store.remove(store.plan_removal("local/m1"))               # all or nothing (`inward store rm`)
        export.export_table(store, "object", "rows.parquet")       # CSV / Parquet / datasets (`inward export`)

See `_store.Store` for the methods and `_rows` for the row types.
"""

from __future__ import annotations

from inward.store import export
from inward.store._codec import find_secret
from inward.store._inventory import ModelEntry, ModelSummary, RunEntry, StoreSummary
from inward.store._remove import Removal
from inward.store._rows import (
    CallRow,
    DistributionRow,
    HypotheticalRow,
    Level,
    ModelRecord,
    ObjectRow,
    RunRecord,
    RunStatus,
    StepStatus,
)
from inward.store._schema import SCHEMA_VERSION
from inward.store._store import DB_NAME, Store
from inward.store.provenance import provenance

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "CallRow",
    "DistributionRow",
    "HypotheticalRow",
    "Level",
    "ModelEntry",
    "ModelRecord",
    "ModelSummary",
    "ObjectRow",
    "Removal",
    "RunEntry",
    "RunRecord",
    "RunStatus",
    "StepStatus",
    "Store",
    "StoreSummary",
    "export",
    "find_secret",
    "provenance",
]
