"""Export the store's tables and training sets to CSV, Parquet or a Hugging Face `datasets` folder.

    from inward.store import Store, export
    with Store.open("ws") as store:
        export.export_table(store, "object", "m1.parquet", model="local/m1", task="animals_long")
        export.export_table(store, "scored", "self.csv", model="local/m1")           # m1 predicting m1
        export.export_table(store, "scored", "cross", format="datasets", model="local/m1", hypothetical_model="local/m2")
    export.export_training("runs/demo/data/m1-self.jsonl", "m1-self", format="datasets")

Tables: `object` (object-level rows), `hypothetical` (alias `meta`: hypothetical rows), `distributions`, `scored`
(object-level behaviour joined with hypothetical answers and marked, the table `inward score` computes) and
`training` (a chat-JSONL file `inward dataset build` wrote). Filters: model (anything
`inward.store.find_model` accepts), task, split.

Cells holding mappings or lists (properties, probs, a training row's `inward` metadata) are written as JSON
text, and so is a column mixing value types (say booleans and strings), so that every format holds the same
table; a training set's `messages` stay a list of {role, content} in Parquet and `datasets` (what chat
trainers read) and are JSON text in CSV. `tabular(df, format)` is exactly what is written.

A partial export never replaces a good one: each is written beside its target under a temporary name, then
renamed over it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from inward.errors import MissingExtraError, UserError
from inward.store._codec import dumps

if TYPE_CHECKING:
    import pandas as pd

    from inward.store._store import Store

ExportFormat = Literal["csv", "parquet", "datasets"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
STORE_TABLES = {
    "object": "object_rows",
    "hypothetical": "hypothetical_rows",
    "distributions": "distributions",
}
TABLES = (*STORE_TABLES, "scored", "training")
ALIASES = {
    "meta": "hypothetical",
    "object_rows": "object",
    "hypothetical_rows": "hypothetical",
    "object-level": "object",
}
NATIVE_LISTS = frozenset({"messages"})  # kept nested in Parquet/datasets (chat trainers read them so)
_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
Filter = str | Sequence[str] | None


@dataclass(frozen=True)
class Exported:
    """Where an export went and what it holds."""

    path: Path
    format: ExportFormat
    table: str
    rows: int
    columns: tuple[str, ...]


def table_name(table: str) -> str:
    """The canonical name of an export table (aliases such as `meta` resolved); UserError for an unknown one."""
    name = ALIASES.get(table, table)
    if name not in TABLES:
        raise UserError(f"unknown table {table!r}; choose one of: {', '.join(TABLES)} (or the alias meta)")
    return name


def format_for(out: str | Path, format: str | None = None) -> ExportFormat:
    """`format` when given, else the one `out`'s suffix names (.csv, .parquet); UserError when neither says."""
    if format is not None:
        if format not in FORMATS:
            raise UserError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
        return format  # type: ignore[return-value]
    found = _SUFFIX.get(Path(out).suffix.lower())
    if found is None:
        raise UserError(
            f"cannot tell the format of {out}; name it .csv or .parquet, or pass --format {'|'.join(FORMATS)}"
        )
    return found  # type: ignore[return-value]


def _as_list(value: Filter) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def table_frame(
    store: Store,
    table: str,
    *,
    model: str | None = None,
    task: Filter = None,
    split: Filter = None,
    hypothetical_model: str | None = None,
    object_config: str | None = None,
    template: str = "inward-v1",
) -> pd.DataFrame:
    """The rows of `table` (not `training`: see `training_frame`) matching the filters, as stored.

    `scored` needs `model` (whose behaviour is the ground truth) and scores `hypothetical_model`'s answers
    (default: the same model, self-prediction) on `split` (default val) under `object_config` (default auto)
    and `template`; `task` defaults to every task the model has object-level rows on."""
    from inward.store._inventory import find_model

    name = table_name(table)
    if name == "training":
        raise UserError("the training table is a file: export it with `inward export training --data FILE`")
    key = find_model(store, model) if model is not None else None
    tasks, splits = _as_list(task), _as_list(split)
    if name == "scored":
        return _scored(store, key, tasks, splits, hypothetical_model, object_config, template)
    if name == "distributions":
        if splits:
            raise UserError("distributions have no split; drop --split")
        df = store.distributions(model_id=key, task=tasks)
    elif name == "object":
        df = store.object_rows(model_id=key, task=tasks, split=splits)
    else:
        df = store.hypothetical_rows(model_id=key, task=tasks, split=splits)
    if df.empty:
        raise UserError(
            f"no {name} rows match {_filters(model, tasks, splits)}; `inward store ls` lists what there is"
        )
    return df


def _filters(model: str | None, tasks: list[str] | None, splits: list[str] | None) -> str:
    parts = [f"{k}={v}" for k, v in (("model", model), ("task", tasks), ("split", splits)) if v]
    return ", ".join(parts) if parts else "(no filter)"


def _scored(
    store: Store,
    key: str | None,
    tasks: list[str] | None,
    splits: list[str] | None,
    hypothetical_model: str | None,
    object_config: str | None,
    template: str,
) -> pd.DataFrame:
    # Lazily: scoring lives in the runs layer, above the store.
    from inward import prompts as PR
    from inward import tasks as T
    from inward.backends.identity import ModelId
    from inward.runs.score import scored_table
    from inward.store._inventory import find_model, model_summary

    if key is None:
        raise UserError("the scored table needs --model (whose behaviour is the ground truth)")
    if splits is not None and len(splits) != 1:
        raise UserError("the scored table is of one split; pass one --split")
    split = splits[0] if splits else "val"
    obj = model_summary(store, key).entry
    hyp = (
        obj
        if hypothetical_model is None
        else model_summary(store, find_model(store, hypothetical_model)).entry
    )
    if tasks is None:
        tasks = sorted(
            {
                c["task"]
                for c in model_summary(store, key).counts
                if c["table"] == "object_rows" and c["split"] == split
            }
        )
        tasks = [t for t in tasks if t in set(T.names())]  # tasks this session can render prompts of
    if not tasks:
        raise UserError(f"{obj.label} has no object-level rows on split {split!r}; run `inward object` first")
    df = scored_table(
        store,
        object_model=ModelId(obj.key, obj.label),
        hypothetical_model=ModelId(hyp.key, hyp.label),
        tasks=tasks,
        split=split,
        template=PR.get(template),
        object_config=object_config,
    )
    if df.empty:
        raise UserError(
            f"no scored rows: {hyp.label}'s hypotheticals match none of {obj.label}'s answers on {', '.join(tasks)}"
        )
    return df.assign(
        object_model=obj.label,
        object_model_id=obj.key,
        hypothetical_model=hyp.label,
        hypothetical_model_id=hyp.key,
    )


def training_frame(data: str | Path) -> pd.DataFrame:
    """A chat-JSONL training set (`inward dataset build`'s output) as a table: `messages` and its other keys."""
    import pandas as pd

    from inward.training.datasets import read_dataset

    rows, _ = read_dataset(data)
    if not rows:
        raise UserError(f"{data} holds no rows; build it again with `inward dataset build`")
    return pd.DataFrame(rows)


def _cell_type(v: Any) -> type | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return type(v)


def tabular(df: pd.DataFrame, format: ExportFormat) -> pd.DataFrame:
    """`df` as it is written in `format`: mappings, lists and mixed-type columns as JSON text (see the module)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        values = list(out[col])
        types = {t for t in map(_cell_type, values) if t is not None}
        nested = bool(types & {dict, list, tuple}) or any(isinstance(v, dict) for v in values)
        if col in NATIVE_LISTS and format != "csv" and types <= {list}:
            continue
        if nested or len(types) > 1:
            out[col] = [None if _cell_type(v) is None else dumps(v) for v in values]
    return out


def _replace(tmp: Path, out: Path) -> None:
    if tmp.is_dir() and out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def _check_target(out: Path, format: ExportFormat) -> None:
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"cannot write {out}: {parent} is a file, not a folder; choose another path")
            break
    if format == "datasets":
        if out.is_file():
            raise UserError(f"{out} is a file; a datasets export is a folder: choose another path")
        if out.is_dir() and any(out.iterdir()) and not (out / "dataset_info.json").is_file():
            raise UserError(f"{out} is a folder that is not a saved dataset; choose a new path")
    elif out.is_dir():
        raise UserError(f"{out} is a folder; name a {format} file")


def write_frame(df: pd.DataFrame, out: str | Path, format: ExportFormat, *, table: str = "") -> Exported:
    """Write `df` (through `tabular`) to `out` in `format`, atomically; returns what was written."""
    out = Path(out).expanduser()
    _check_target(out, format)
    data = tabular(df, format)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if format == "csv":
            data.to_csv(tmp, index=False)
        elif format == "parquet":
            _need("pyarrow", "Parquet export")
            data.to_parquet(tmp, index=False)
        else:
            _need("datasets", "datasets export")
            import datasets

            if tmp.exists():
                shutil.rmtree(tmp)
            quiet = datasets.are_progress_bars_disabled()
            datasets.disable_progress_bars()  # our one line says what was written
            try:
                datasets.Dataset.from_pandas(data, preserve_index=False).save_to_disk(str(tmp))
            finally:
                if not quiet:
                    datasets.enable_progress_bars()
        _replace(tmp, out)
    except OSError as e:
        raise UserError(f"cannot write {out} ({e.strerror or e}); choose a path you can write") from None
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return Exported(
        path=out, format=format, table=table, rows=len(data), columns=tuple(map(str, data.columns))
    )


def _need(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(what, "all")


def export_table(
    store: Store,
    table: str,
    out: str | Path,
    *,
    format: str | None = None,
    model: str | None = None,
    task: Filter = None,
    split: Filter = None,
    hypothetical_model: str | None = None,
    object_config: str | None = None,
    template: str = "inward-v1",
) -> Exported:
    """Export a store table (see `table_frame`) to `out`; the format from `format`, else `out`'s suffix."""
    fmt = format_for(out, format)
    df = table_frame(
        store,
        table,
        model=model,
        task=task,
        split=split,
        hypothetical_model=hypothetical_model,
        object_config=object_config,
        template=template,
    )
    return write_frame(df, out, fmt, table=table_name(table))


def export_training(data: str | Path, out: str | Path, *, format: str | None = None) -> Exported:
    """Export a chat-JSONL training set to `out` (CSV, Parquet or a `datasets` folder)."""
    fmt = format_for(out, format)
    return write_frame(training_frame(data), out, fmt, table="training")


def read_export(path: str | Path, format: ExportFormat) -> pd.DataFrame:
    """Read an export back (CSV cells as text, None as empty); for checks and round trips."""
    import pandas as pd

    if format == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if format == "parquet":
        return pd.read_parquet(path)
    from datasets import load_from_disk

    ds = load_from_disk(str(path))
    return ds.to_pandas()  # type: ignore[union-attr,return-value]


__all__ = [
    "ALIASES",
    "FORMATS",
    "TABLES",
    "ExportFormat",
    "Exported",
    "export_table",
    "export_training",
    "format_for",
    "read_export",
    "table_frame",
    "table_name",
    "tabular",
    "training_frame",
    "write_frame",
]
