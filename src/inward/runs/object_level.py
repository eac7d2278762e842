"""Object-level runs: ask a model the task prompts and store its behaviour with every applicable property.

    from inward.runs import run_object
    run_object(store, backend, tasks=["animals_long"], split="val", limit=100)

Rows are keyed by the model's identity (weights and adapter digests, or API model and server; the ref string is
kept as a label), the task, item, template hash and the object config (`inward.runs.configs.ObjectConfig`).
Rows already in the store under that key are skipped, so an interrupted run resumes where it stopped, and a
retrained adapter under a reused name is asked afresh. Generation stops per row as soon as every property of the task is
determined by the answer so far (`early_stop=True`); greedy decoding makes the prefix identical to the full answer's
prefix, so property values do not change. Compliance is then judged on that prefix (documented deviation: a refusal
written after the properties were fixed is not seen).

With `mode_of` = N > 1 (the paper's control for API models, SPEC §7) each prompt is asked N times at temperature 0
and the stored answer is the most common one by its first 40 characters (ties: the earliest sample); a prompt
whose N answers all differ is stored with compliance "no_mode", so it is excluded like any non-compliant answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend, Generation, StopWhen
from inward.backends.identity import model_id
from inward.prompts import DEFAULT, PromptTemplate
from inward.properties.compliance import check_object
from inward.runs._models import ModelLike, resolve_model
from inward.runs._progress import progress_bar
from inward.runs.cache import CachedGenerator
from inward.runs.configs import GREEDY, MODE_PREFIX_CHARS, NO_MODE, ObjectConfig, object_config_for

OBJECT_CONFIG = GREEDY


def _stop_rule(props: Sequence[P.Property], target: str | None) -> StopWhen:
    def stop(raw: str) -> bool:
        cleaned = P.clean(raw)
        return all(p.determined(cleaned, False, target=target) for p in props)

    return stop


def mode_answer(gens: Sequence[Generation]) -> tuple[Generation, bool]:
    """The generation whose first 40 characters are the most common (earliest on ties), and whether a mode
    exists at all (False when there are several answers and all differ)."""
    heads = [g.text[:MODE_PREFIX_CHARS] for g in gens]
    head, count = Counter(heads).most_common(1)[0]  # most_common keeps first-seen order among ties
    return gens[heads.index(head)], count > 1 or len(gens) == 1


@dataclass
class StepResult:
    new_rows: int
    existing_rows: int
    config: str = ""  # the name of the object config the rows are stored under (object runs)


def run_object(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str | T.Task],
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    config: ObjectConfig | str | None = None,
    early_stop: bool = True,
    chunk: int = 64,
    run_id: str | None = None,
    progress: bool = True,
    item_ids: Collection[str] | None = None,
) -> StepResult:
    """Answers the first `limit` items of each task's `split` (only those in `item_ids` when given) and stores
    them; rows already stored are skipped. `early_stop=False` wants whole answers: early-stopped rows are redone.
    `config`: an `ObjectConfig` or its name; None = "auto" (greedy, with mode_of=5 for API models)."""
    from inward.store import ObjectRow

    gen = CachedGenerator(backend, store)
    ident = model_id(backend)
    model = ident.label
    cfg = object_config_for(model, config)
    gcfg = cfg.generate_config()
    store.put_object_config(cfg.key(), cfg.name, cfg.as_dict())  # type: ignore[attr-defined]
    wanted = None if item_ids is None else set(item_ids)
    new = existing = 0
    with progress_bar(disable=not progress) as bar:
        for t in [T.get(x) if isinstance(x, str) else x for x in tasks]:
            items = t.items(split)[:limit]
            if wanted is not None:
                items = [it for it in items if it.id in wanted]
            thash = template.hash(t)
            done = store.object_rows(
                model_id=ident.key, task=t.name, split=split, template_hash=thash, config_key=cfg.key()
            )  # type: ignore[attr-defined]
            if len(done) and not early_stop:  # whole answers wanted: an early-stopped row does not count
                done = done[done["finish_reason"] != "early"]
            have = set(zip(done["item_id"], done["sample"], strict=True)) if len(done) else set()
            todo = [it for it in items if any((it.id, s) not in have for s in range(cfg.samples))]
            existing += len(items) - len(todo)
            props = [P.get(p) for p in t.properties]
            stop_key = ",".join(sorted(p.name for p in props)) if early_stop else None
            job = bar.add_task(f"object {t.name}", total=len(items), completed=len(items) - len(todo))
            for start in range(0, len(todo), chunk):
                batch = todo[start : start + chunk]
                msgs = [template.object_messages(t, it) for it in batch]
                stops = [_stop_rule(props, it.target) for it in batch] if early_stop else None
                outs = gen.generate(msgs, gcfg, stops, stop_key=stop_key)
                rows = []
                for it, gens in zip(batch, outs, strict=True):
                    has_mode = True
                    if cfg.mode_of > 1:
                        mode, has_mode = mode_answer(gens)
                        gens = [mode]
                    for s, g in enumerate(gens):
                        cleaned = P.clean(g.text)
                        rows.append(
                            ObjectRow(
                                model=model,
                                model_id=ident.key,
                                task=t.name,
                                item_id=it.id,
                                template_hash=thash,
                                config_key=cfg.key(),
                                sample=s,
                                split=split,
                                item_text=it.text,
                                target=it.target,
                                raw=g.text,
                                cleaned=cleaned,
                                compliance=check_object(g.text, t.compliance) if has_mode else NO_MODE,
                                properties={p.name: p.extract(cleaned, target=it.target) for p in props},
                                finish_reason=g.finish_reason,
                                run_id=run_id,
                            )
                        )
                store.put_object_rows(rows, replace=not early_stop)  # type: ignore[attr-defined]
                new += len(batch)
                bar.update(job, advance=len(batch))
    return StepResult(new_rows=new, existing_rows=existing, config=cfg.name)


def rederive(df: pd.DataFrame, task: T.Task) -> pd.DataFrame:
    """Stored object rows with compliance and property values derived again from the raw answer by the
    current rules, so a number never rests on the rules of the inward version that generated the answer (a
    "no_mode" verdict of a mode-of-N run is kept: it is about the samples, not the text)."""
    if df.empty:
        return df
    props = [P.get(p) for p in task.properties]
    df = df.copy()
    df["compliance"] = [
        NO_MODE if c == NO_MODE else check_object(raw, task.compliance)
        for raw, c in zip(df["raw"], df["compliance"], strict=True)
    ]
    values: list[Any] = [
        {p.name: p.extract(P.clean(raw), target=target if isinstance(target, str) else None) for p in props}
        for raw, target in zip(df["raw"], df["target"], strict=True)
    ]
    df["properties"] = pd.Series(values, index=df.index, dtype=object)
    return df


def object_table(
    store: Any,
    model: ModelLike,
    *,
    tasks: Sequence[str] | None = None,
    split: str = "val",
    template: PromptTemplate = DEFAULT,
    config: ObjectConfig | str | None = None,
) -> pd.DataFrame:
    """The stored behaviour of `model` in long form: one row per (task, item, property) with its value."""
    ident = resolve_model(store, model)
    cfg = object_config_for(ident.label, config)
    frames = []
    for name in tasks or T.names():
        t = T.get(name)
        df = store.object_rows(
            model_id=ident.key, task=t.name, split=split, template_hash=template.hash(t), config_key=cfg.key()
        )  # type: ignore[attr-defined]
        if len(df):
            frames.append(rederive(df, t))
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
