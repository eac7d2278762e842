"""Hypothetical (meta-level) runs: ask a model about a property of an object-level answer it has not written.

    run_hypotheticals(store, backend, about="local/qwen2.5-0.5b", tasks=["animals_long"], properties=["first_word"])

As in the paper, hypotheticals are asked only for items whose object-level answer (of the model the question is
`about`, default the same model) was compliant and has a defined property value. The answer is stored normalised
(`inward.properties.normalize_answer`) with the hypothetical compliance rule that fired, if any.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend, GenerateConfig
from inward.backends.identity import model_id
from inward.errors import UserError
from inward.prompts import DEFAULT, PromptTemplate
from inward.properties.compliance import check_hypothetical
from inward.runs._models import ModelLike, resolve_model
from inward.runs._progress import progress_bar
from inward.runs.cache import CachedGenerator
from inward.runs.configs import ObjectConfig
from inward.runs.object_level import StepResult, object_table

HYPOTHETICAL_CONFIG = GenerateConfig(temperature=0.0, max_tokens=12)


def no_rows_message(store: Any, ident: Any, tasks: Sequence[str], split: str, ocfg: ObjectConfig) -> str:
    """Why there is nothing to ask about, and the command that fixes it: the object configs that do have rows
    of this model, or how to make rows under the one asked for."""
    task = ",".join(tasks)
    have = [n for n in store.object_configs_of(ident.key, tasks) if n != ocfg.name]
    if have:
        return (
            f"no object-level answers (no stored behaviour) of {ident.label} on {task} under object config {ocfg.name}; it has rows "
            f"under {', '.join(have)}: pass --object-config {have[0]}"
        )
    from inward.runs.configs import object_config_for

    hint = "" if ocfg == object_config_for(ident.label) else f" --object-config {ocfg.name}"
    return (
        f"no object-level answers (no stored behaviour) of {ident.label} on {task} ({split}, object config "
        f"{ocfg.name}); "
        f"run `inward object -m {ident.label} -t {task}{hint}` first"
    )


def hypothetical_requests(
    store: Any,
    about: ModelLike,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None,
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    object_config: ObjectConfig | str | None = None,
    include_training_only: bool = False,
    include_undefined: bool = False,
) -> list[tuple[T.Task, T.Item, str]]:
    """(task, item, property) triples to ask: compliant object rows of `about` with a defined value, under
    `object_config` (None = "auto", as `run_object`). `include_undefined` also asks compliant rows whose
    property is undefined (answer too short), as the paper's code did: paper-code scoring counts them."""
    from inward.runs.configs import object_config_for

    ident = resolve_model(store, about)
    ocfg = object_config_for(ident.label, object_config)
    wanted = {P.get(p).name for p in properties} if properties else None
    out: list[tuple[T.Task, T.Item, str]] = []
    for name in tasks:
        t = T.get(name)
        items = {it.id: it for it in t.items(split)[:limit]}
        obj = object_table(store, ident, tasks=[t.name], split=split, template=template, config=ocfg)
        if obj.empty:
            raise UserError(no_rows_message(store, ident, [t.name], split, ocfg))
        keep = (obj["sample"] == 0) & obj["object_compliance"].isna()
        obj = obj[keep if include_undefined else keep & obj["object_value"].notna()]
        for item_id, prop in zip(obj["item_id"], obj["property"], strict=True):
            p = P.get(prop)
            if (wanted is not None and p.name not in wanted) or (
                p.training_only and not include_training_only and wanted is None
            ):
                continue
            if item_id in items:
                out.append((t, items[item_id], p.name))
    return out


def run_hypotheticals(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    about: ModelLike | None = None,
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    config: GenerateConfig = HYPOTHETICAL_CONFIG,
    object_config: ObjectConfig | str | None = None,
    chunk: int = 64,
    run_id: str | None = None,
    progress: bool = True,
    only: Collection[tuple[str, str, str]] | None = None,
    include_undefined: bool = False,
) -> StepResult:
    """Asks the hypotheticals of `hypothetical_requests`; `only` keeps just those (task, item id, property) keys, e.g.
    the prompts whose behaviour a fine-tune changed, which is all the behaviour-change analysis reads.
    `about` defaults to the answering model itself; `object_config` names whose behaviour rows are asked about."""
    from inward.store import HypotheticalRow

    ident = model_id(backend)
    model = ident.label
    requests = hypothetical_requests(
        store,
        ident if about is None else about,
        tasks=tasks,
        properties=properties,
        split=split,
        limit=limit,
        template=template,
        object_config=object_config,
        include_undefined=include_undefined,
    )
    if only is not None:
        keep = set(only)
        requests = [(t, it, p) for t, it, p in requests if (t.name, it.id, p) in keep]
    gen = CachedGenerator(backend, store)
    done = store.hypothetical_rows(model_id=ident.key, split=split, config_key=config.key())  # type: ignore[attr-defined]
    have = (
        set(zip(done["task"], done["item_id"], done["property"], done["template_hash"], strict=True))
        if len(done)
        else set()
    )
    todo = [(t, it, p) for t, it, p in requests if (t.name, it.id, p, template.hash(t, p)) not in have]
    new = 0
    with progress_bar(disable=not progress) as bar:
        job = bar.add_task("hypothetical", total=len(requests), completed=len(requests) - len(todo))
        for start in range(0, len(todo), chunk):
            batch = todo[start : start + chunk]
            outs = gen.generate([template.hypothetical_messages(t, it, p) for t, it, p in batch], config)
            rows = [
                HypotheticalRow(
                    model=model,
                    model_id=ident.key,
                    task=t.name,
                    item_id=it.id,
                    property=p,
                    template_hash=template.hash(t, p),
                    config_key=config.key(),
                    sample=s,
                    split=split,
                    raw=g.text,
                    answer=P.normalize_answer(g.text),
                    compliance=check_hypothetical(g.text, P.get(p)),
                    finish_reason=g.finish_reason,
                    run_id=run_id,
                )
                for (t, it, p), gens in zip(batch, outs, strict=True)
                for s, g in enumerate(gens)
            ]
            store.put_hypothetical_rows(rows)  # type: ignore[attr-defined]
            new += len(batch)
            bar.update(job, advance=len(batch))
    return StepResult(new_rows=new, existing_rows=len(requests) - len(todo))
