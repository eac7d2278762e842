"""Object-level runs: ask a model the task prompts and store its behaviour with every applicable property.

    from inward.runs import run_object
    run_object(store, backend, tasks=["animals_long"], split="val", limit=100)

Rows already in the store (same model, task, item, template hash and decoding config) are skipped, so an
interrupted run resumes where it stopped. Generation stops per row as soon as every property of the task is
determined by the answer so far (`early_stop=True`); greedy decoding makes the prefix identical to the full answer's
prefix, so property values do not change. Compliance is then judged on that prefix (documented deviation: a refusal
written after the properties were fixed is not seen).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend, GenerateConfig, StopWhen
from inward.prompts import DEFAULT, PromptTemplate
from inward.properties.compliance import check_object
from inward.runs._progress import progress_bar
from inward.runs.cache import CachedGenerator

OBJECT_CONFIG = GenerateConfig(temperature=0.0, max_tokens=48)


def _stop_rule(props: Sequence[P.Property], target: str | None) -> StopWhen:
    def stop(raw: str) -> bool:
        cleaned = P.clean(raw)
        return all(p.determined(cleaned, False, target=target) for p in props)

    return stop


def config_key(config: GenerateConfig) -> str:
    return config.key()


@dataclass
class StepResult:
    new_rows: int
    existing_rows: int


def run_object(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str | T.Task],
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = OBJECT_CONFIG,
    early_stop: bool = True,
    chunk: int = 64,
    run_id: str | None = None,
    progress: bool = True,
    item_ids: Collection[str] | None = None,
) -> StepResult:
    """Answers the first `limit` items of each task's `split` (only those in `item_ids` when given) and stores
    them; rows already stored are skipped. `early_stop=False` wants whole answers: early-stopped rows are redone."""
    from inward.store import ObjectRow

    gen = CachedGenerator(backend, store)
    model = str(backend.ref)
    wanted = None if item_ids is None else set(item_ids)
    new = existing = 0
    with progress_bar(disable=not progress) as bar:
        for t in [T.get(x) if isinstance(x, str) else x for x in tasks]:
            items = t.items(split)[:limit]
            if wanted is not None:
                items = [it for it in items if it.id in wanted]
            thash = template.hash(t)
            done = store.object_rows(
                model=model, task=t.name, split=split, template_hash=thash, config_key=config.key()
            )  # type: ignore[attr-defined]
            if len(done) and not early_stop:  # whole answers wanted: an early-stopped row does not count
                done = done[done["finish_reason"] != "early"]
            have = set(zip(done["item_id"], done["sample"], strict=True)) if len(done) else set()
            todo = [it for it in items if any((it.id, s) not in have for s in range(config.n))]
            existing += len(items) - len(todo)
            props = [P.get(p) for p in t.properties]
            stop_key = ",".join(sorted(p.name for p in props)) if early_stop else None
            job = bar.add_task(f"object {t.name}", total=len(items), completed=len(items) - len(todo))
            for start in range(0, len(todo), chunk):
                batch = todo[start : start + chunk]
                msgs = [template.object_messages(t, it) for it in batch]
                stops = [_stop_rule(props, it.target) for it in batch] if early_stop else None
                outs = gen.generate(msgs, config, stops, stop_key=stop_key)
                rows = []
                for it, gens in zip(batch, outs, strict=True):
                    for s, g in enumerate(gens):
                        cleaned = P.clean(g.text)
                        rows.append(
                            ObjectRow(
                                model=model,
                                task=t.name,
                                item_id=it.id,
                                template_hash=thash,
                                config_key=config.key(),
                                sample=s,
                                split=split,
                                item_text=it.text,
                                target=it.target,
                                raw=g.text,
                                cleaned=cleaned,
                                compliance=check_object(g.text, t.compliance),
                                properties={p.name: p.extract(cleaned, target=it.target) for p in props},
                                finish_reason=g.finish_reason,
                                run_id=run_id,
                            )
                        )
                store.put_object_rows(rows, replace=not early_stop)  # type: ignore[attr-defined]
                new += len(batch)
                bar.update(job, advance=len(batch))
    return StepResult(new_rows=new, existing_rows=existing)


def object_table(
    store: Any,
    model: str,
    *,
    tasks: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = OBJECT_CONFIG,
) -> pd.DataFrame:
    """The stored behaviour of `model` in long form: one row per (task, item, property) with its value."""
    frames = []
    for name in tasks or T.names():
        t = T.get(name)
        df = store.object_rows(
            model=model, task=t.name, split=split, template_hash=template.hash(t), config_key=config.key()
        )  # type: ignore[attr-defined]
        if len(df):
            frames.append(df)
    if not frames:
        return pd.DataFrame(
            columns=["task", "item_id", "sample", "property", "object_value", "object_compliance"]
        )
    df = pd.concat(frames, ignore_index=True)
    long = df[["task", "item_id", "sample", "compliance", "properties", "raw"]].copy()
    long["property"] = long["properties"].map(lambda d: list(d.keys()))
    long = long.explode("property", ignore_index=True).dropna(subset=["property"])
    long["object_value"] = [d.get(p) for d, p in zip(long["properties"], long["property"], strict=True)]
    return long.drop(columns=["properties"]).rename(
        columns={"compliance": "object_compliance", "raw": "object_raw"}
    )
