"""Training-set builders: self-prediction, cross-prediction and behaviour-shift data (SPEC §8, §9, §12).

    build_self(store, backend, out="m1-self.jsonl", per_combo=1000)            # M's own behaviour → pairs
    build_cross(store, backend_m1, like="m1-self.jsonl", out="m2-cross.jsonl")  # same composition, M1's labels
    build_shift(store, target_backend, source_backend, out="shift.jsonl")      # prompts → another model's answers

One on-disk format for every trainer: OpenAI chat JSONL (`{"messages": [...]}`), each row carrying an `inward` key
with its (task, item_id, property) so compositions can be checked, plus a sidecar manifest `<file>.manifest.json`
(source model, tasks, properties, counts, seeds, template hashes, provenance). Files are written atomically.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from inward import properties as P
from inward import tasks as T
from inward.backends.base import Backend
from inward.backends.identity import ModelId, model_id
from inward.errors import UserError
from inward.prompts import DEFAULT, PromptTemplate
from inward.runs.configs import ObjectConfig, object_config_for
from inward.runs.object_level import run_object
from inward.runs.score import compliant_rows, load_object

Row = dict[str, Any]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def write_dataset(rows: Sequence[Row], path: str | Path, manifest: dict[str, Any]) -> Path:
    """Write rows as chat JSONL plus the manifest (with the composition computed from the rows)."""
    from inward.store import provenance

    path = Path(path)
    manifest = {**manifest, "rows": len(rows), "composition": composition(rows), "provenance": provenance()}
    _atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    _atomic_write(manifest_path(path), json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
    return path


def read_dataset(path: str | Path) -> tuple[list[Row], dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no dataset file {path}; build one with `inward dataset build`")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    mp = manifest_path(path)
    manifest = json.loads(mp.read_text(encoding="utf-8")) if mp.is_file() else {}
    return rows, manifest


def composition(rows: Sequence[Row]) -> dict[str, int]:
    """Rows per "task/property" (for shift rows, per "task/object")."""
    c = Counter(f"{r['inward']['task']}/{r['inward']['property']}" for r in rows if "inward" in r)
    return dict(sorted(c.items()))


def _pair_row(
    template: PromptTemplate, task: T.Task, item: T.Item, prop: str, value: str, source: str
) -> Row:
    msgs = template.hypothetical_messages(task, item, prop)
    return {
        "messages": [*msgs, {"role": "assistant", "content": value}],
        "inward": {"task": task.name, "item_id": item.id, "property": prop, "source": source, "kind": "self"},
    }


def _behaviour(
    store: Any, model: ModelId, tasks: Sequence[str], template: PromptTemplate, config: ObjectConfig
) -> dict[tuple[str, str], dict[str, Any]]:
    """(task, item_id) -> {property: value} for compliant object rows of `model` on the train split."""
    df = compliant_rows(
        load_object(store, model, tasks=tasks, split="train", template=template, config=config)
    )
    return dict(
        zip(
            zip(df.get("task", []), df.get("item_id", []), strict=True), df.get("properties", []), strict=True
        )
    )


def train_items(task: T.Task, limit: int | None, draw: int = 0) -> list[T.Item]:
    """Draw `draw` of `limit` train items of `task`: the `draw`-th window of `limit` items in the split's order
    (draw 0 = the first `limit`), disjoint from the other draws while the split has room, else a seeded sample."""
    t_items = task.items("train")
    if limit is None:
        return t_items
    start = draw * limit
    if start + limit <= len(t_items):
        return t_items[start : start + limit]
    if draw == 0:
        return t_items[:limit]
    return random.Random(f"draw:{draw}:{task.name}").sample(t_items, min(limit, len(t_items)))


def _answer_train_items(
    store: Any,
    backend: Backend,
    tasks: Sequence[str],
    limit: int | None,
    draw: int,
    template: PromptTemplate,
    config: ObjectConfig,
    progress: bool,
) -> None:
    """The object level on `train_items(task, limit, draw)` of each task (stored rows are reused)."""
    for name in tasks:
        ids = [it.id for it in train_items(T.get(name), limit, draw)]
        run_object(
            store,
            backend,
            tasks=[name],
            split="train",
            limit=None,
            template=template,
            config=config,
            progress=progress,
            item_ids=ids,
        )


def build_self(
    store: Any,
    backend: Backend,
    out: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    properties: Sequence[str] | None = None,
    per_combo: int = 1000,
    items_per_task: int | None = None,
    val_fraction: float = 0.05,
    dedup: bool = True,
    seed: int = 0,
    template: PromptTemplate = DEFAULT,
    progress: bool = True,
    object_config: ObjectConfig | str | None = None,
    draw: int = 0,
) -> tuple[Path, Path | None]:
    """Self-prediction pairs from `backend`'s own behaviour on the train split of the training tasks.

    Runs (or reuses from the store) the object level, keeps compliant rows with a defined value, and caps each
    (task, property) combination at `per_combo` pairs chosen by a seeded shuffle. A `val_fraction` of the pairs
    of every combination is held back into `<out>.val.jsonl`. Returns (train file, val file or None).
    `object_config` (None = "auto") is the behaviour the pairs are built from; the manifest records it.
    `draw` picks which `items_per_task` train items of each task are used (`train_items`): independent draws
    for independent training seeds. `dedup` (default) uses each item in one property's pairs only, so no input
    string is shared between properties (the paper's code later deduplicated strings across properties: with
    an `identity`-like property a model can memorise a string and read every other property off it); a
    combination then draws from the items the earlier ones left, and is smaller when they run out.
    """
    names = list(tasks or T.TRAINING_TASKS)
    model = model_id(backend)
    ocfg = object_config_for(model.label, object_config)
    limit = items_per_task if items_per_task is not None else per_combo
    _answer_train_items(store, backend, names, limit, draw, template, ocfg, progress)
    return _build_pairs(
        store,
        model,
        ocfg,
        out,
        tasks=names,
        properties=properties,
        per_combo=per_combo,
        limit=limit,
        val_fraction=val_fraction,
        dedup=dedup,
        seed=seed,
        template=template,
        kind="self",
        draw=draw,
    )


def _build_pairs(
    store: Any,
    model: ModelId,
    config: ObjectConfig,
    out: str | Path,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None,
    per_combo: int,
    limit: int | None,
    val_fraction: float,
    dedup: bool,
    seed: int,
    template: PromptTemplate,
    kind: str,
    like: dict[str, list[str]] | None = None,
    draw: int = 0,
) -> tuple[Path, Path | None]:
    wanted = {P.get(p).name for p in properties} if properties else None
    beh = _behaviour(store, model, tasks, template, config)
    rng = random.Random(f"{seed}:{kind}")
    train: list[Row] = []
    val: list[Row] = []
    hashes: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for name in tasks:
        t = T.get(name)
        items = train_items(t, limit, draw)
        for pname in t.properties:
            p = P.get(pname)
            if wanted is not None and p.name not in wanted:
                continue
            pool = [
                it for it in items if (t.name, it.id) in beh and beh[(t.name, it.id)].get(p.name) is not None
            ]
            rng.shuffle(pool)
            if dedup and like is None:  # each input string in one property's pairs only (see build_self)
                pool = [it for it in pool if (t.name, it.id) not in seen]
            if like is not None:  # cross: the same items first, then fill up to the same count
                ids = like.get(f"{t.name}/{p.name}", [])
                order = {i: k for k, i in enumerate(ids)}
                taken: set[str] = set()
                if dedup:  # fillers avoid items another property uses or will use, while others remain
                    taken = {
                        i
                        for key, v in like.items()
                        if key.startswith(f"{t.name}/") and key != f"{t.name}/{p.name}"
                        for i in v
                    } | {i for task, i in seen if task == t.name}
                pool.sort(key=lambda it: order.get(it.id, len(order) + int(it.id in taken)))
                chosen = pool[: len(ids)]
            else:
                chosen = pool[:per_combo]
            if dedup:
                seen.update((t.name, it.id) for it in chosen)
            hashes[f"{t.name}:{p.name}"] = template.hash(t, p.name)
            rows = [
                _pair_row(template, t, it, p.name, str(beh[(t.name, it.id)][p.name]), model.label)
                for it in chosen
            ]
            n_val = round(len(rows) * val_fraction) if like is None else 0
            val.extend(rows[:n_val])
            train.extend(rows[n_val:])
    if not train:
        raise UserError(f"no compliant behaviour of {model} on {', '.join(tasks)}; nothing to train on")
    rng.shuffle(train)
    out = Path(out)
    manifest = {
        "kind": kind,
        "source_model": model.label,
        "source_model_id": model.key,
        "object_config": config.name,
        "tasks": list(tasks),
        "properties": sorted(wanted) if wanted else None,
        "per_combo": per_combo,
        "items_per_task": limit,
        "draw": draw,
        "seed": seed,
        "dedup": "across properties" if dedup else False,
        "val_fraction": val_fraction,
        "template": template.name,
        "template_hashes": hashes,
    }
    write_dataset(train, out, manifest)
    val_path = None
    if val:
        val_path = out.with_name(out.stem + ".val.jsonl")
        write_dataset(val, val_path, {**manifest, "role": "validation"})
    return out, val_path


def subset(src: str | Path, out: str | Path, share: float, *, seed: int = 0) -> Path:
    """`share` of the rows of every (task, property) combination of `src` (at least one each, chosen by a
    seeded shuffle), written to `out` with a manifest that names the source file and share."""
    rows, manifest = read_dataset(src)
    by: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by[f"{r['inward']['task']}/{r['inward']['property']}"].append(r)
    rng = random.Random(f"{seed}:subset:{share}")
    kept: list[Row] = []
    for key in sorted(by):
        group = list(by[key])
        rng.shuffle(group)
        kept.extend(group[: max(1, round(len(group) * share))])
    rng.shuffle(kept)
    return write_dataset(kept, out, {**manifest, "subset_of": str(src), "share": share, "subset_seed": seed})


def build_cross(
    store: Any,
    backend: Backend,
    like: str | Path,
    out: str | Path,
    *,
    template: PromptTemplate = DEFAULT,
    progress: bool = True,
    object_config: ObjectConfig | str | None = None,
) -> Path:
    """Pairs from `backend`'s (M1's) behaviour with the same (task, property) composition and size as `like`.

    The same items as `like` are used where M1's answer is compliant; other train items of the combination fill
    any gap, so every combination has exactly as many rows as in `like` whenever M1 has enough compliant answers.
    """
    rows, manifest = read_dataset(like)
    ids: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        ids[f"{r['inward']['task']}/{r['inward']['property']}"].append(r["inward"]["item_id"])
    tasks = list(manifest.get("tasks") or sorted({k.split("/")[0] for k in ids}))
    limit = manifest.get("items_per_task")
    draw = int(manifest.get("draw", 0))
    model = model_id(backend)
    ocfg = object_config_for(model.label, object_config)
    _answer_train_items(store, backend, tasks, limit, draw, template, ocfg, progress)
    path, _ = _build_pairs(
        store,
        model,
        ocfg,
        out,
        tasks=tasks,
        properties=manifest.get("properties"),
        per_combo=manifest.get("per_combo", 1000),
        limit=limit,
        val_fraction=0.0,
        dedup=manifest.get("dedup") not in (False, None),  # as the set it copies
        seed=manifest.get("seed", 0),
        template=template,
        kind="cross",
        like=ids,
        draw=draw,
    )
    built, _ = read_dataset(path)
    if composition(built) != composition(rows):
        short = {
            k: (v, composition(built).get(k, 0))
            for k, v in composition(rows).items()
            if composition(built).get(k, 0) != v
        }
        raise UserError(f"{backend.ref} has too few compliant answers to match {like}: (wanted, got) {short}")
    return path


def build_shift(
    store: Any,
    target: Backend,
    source: Backend,
    out: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    n: int = 300,
    self_distill_fraction: float = 0.5,
    keep_same: bool = False,
    seed: int = 0,
    template: PromptTemplate = DEFAULT,
    progress: bool = True,
) -> Path:
    """Object-level rows (prompt → `source`'s answer) on the train split of the held-out tasks.

    A source answer that equals (after the paper's cleaning) the target's own answer on the same prompt shifts
    nothing, so such rows are skipped unless `keep_same`; the target answers those prompts too. They are not
    harmless: where both models answer most A/B prompts "A", they are most of a task's rows and fine-tuning on
    them taught the demo's M1 to answer "A" on every multiple-choice prompt, ARC included.

    Self-distilled rows (the target's own answers on other train prompts) keep fine-tuning from collapsing
    unrelated answers (OFFLINE_MODELS.md §4): `self_distill_fraction` of all rows, spread evenly over every
    task, including those with nothing to shift — training on free-text rows alone taught the demo's M1 to
    open every answer with "The", numbers and multiple-choice prompts included — and answer-balanced on
    closed-answer tasks, where a task whose model gives only one answer adds none (`_own_answers`).
    No hypothetical questions. Unusable answers (non-compliant or empty) are skipped and replaced by further
    train prompts, so the set has the configured size and mix whenever the train split has enough of them.
    """
    names = list(tasks or T.HELD_OUT_TASKS)
    ratio = self_distill_fraction / max(1e-9, 1 - self_distill_fraction) if self_distill_fraction < 1 else 0.0
    own = None if keep_same else target
    # Each task's train items in a seeded order; the source answers the first ones, the target the ones after.
    # Each model answers only the prompts it is needed for, whole (no early stop: these are training targets).
    orders: dict[str, list[T.Item]] = {}
    for name in names:
        orders[name] = list(T.get(name).items("train"))
        random.Random(f"{seed}:shift:{name}").shuffle(orders[name])
    # `n` source rows, then the self-distilled ones, spread evenly over the tasks (see `_fill`); the self rows
    # go to every task, shifted or not, so each answer format stays anchored.
    found = _fill(
        names,
        n,
        lambda m, k: _usable_answers(store, source, m, orders[m], k, template, progress, differ=own),
        exhausted=lambda m, f: f[1] >= len(orders[m]),
    )
    n_self = round(sum(len(f[0]) for f in found.values()) * ratio)
    kept = _fill(
        names,
        n_self,
        lambda m, k: (_own_answers(store, target, m, orders[m][found[m][1] :], k, template, progress),),
    )
    picked: dict[str, list[tuple[T.Item, str, str]]] = {}
    per_task_counts: dict[str, dict[str, int]] = {}
    for name in names:
        shifted, used, same = found[name]
        own_rows = kept[name][0]
        picked[name] = [(it, a, "source") for it, a in shifted] + [(it, a, "self") for it, a in own_rows]
        per_task_counts[name] = {
            "source": len(shifted),
            "self": len(own_rows),
            "same_as_target": same,
            "examined": used,
        }
    rows: list[Row] = []
    for name, chosen in picked.items():
        t = T.get(name)
        for it, answer, who in chosen:
            rows.append(
                {
                    "messages": [*template.object_messages(t, it), {"role": "assistant", "content": answer}],
                    "inward": {
                        "task": t.name,
                        "item_id": it.id,
                        "property": "object",
                        "source": who,
                        "kind": "shift",
                    },
                }
            )
    if not rows:
        raise UserError(
            f"{source.ref} gives no usable answer that differs from {target.ref}'s on the train prompts of "
            f"{', '.join(names)}: nothing to shift; pick another source (--from) or other tasks"
        )
    random.Random(f"{seed}:shift").shuffle(rows)
    manifest = {
        "kind": "shift",
        "target_model": str(target.ref),
        "target_model_id": model_id(target).key,
        "source_model": str(source.ref),
        "source_model_id": model_id(source).key,
        "tasks": names,
        "n": n,
        "self_distill_fraction": self_distill_fraction,
        "keep_same": keep_same,
        "seed": seed,
        "template": template.name,
        "template_hashes": {name: template.hash(T.get(name)) for name in names},
        "sources": dict(Counter(r["inward"]["source"] for r in rows)),
        "per_task": per_task_counts,
    }
    return write_dataset(rows, out, manifest)


F = TypeVar("F", bound=tuple[Any, ...])


def _fill(
    names: list[str],
    total: int,
    get: Callable[[str, int], F],
    exhausted: Callable[[str, F], bool] = lambda name, found: False,
) -> dict[str, F]:
    """Per task, `get(task, quota)` (whose first element is the rows found) with quotas spread evenly to sum to
    `total`. What a task cannot give goes to the tasks that filled their quota and are not `exhausted`, in
    rounds, while any still can; so the total is met whenever the tasks together have enough."""
    quota = {m: total // len(names) + (i < total % len(names)) for i, m in enumerate(names)}
    got: dict[str, F] = {}
    growing = list(names)
    while growing:
        for m in growing:
            got[m] = get(m, quota[m])
        short = total - sum(len(g[0]) for g in got.values())
        growing = [m for m in growing if len(got[m][0]) >= quota[m] and not exhausted(m, got[m])]
        if short <= 0 or not growing:
            break
        for m in growing:
            quota[m] += -(-short // len(growing))
    return got


def _usable_answers(
    store: Any,
    model: Backend,
    name: str,
    order: list[T.Item],
    want: int,
    template: PromptTemplate,
    progress: bool,
    *,
    differ: Backend | None = None,
) -> tuple[list[tuple[T.Item, str]], int, int]:
    """The first `want` items of `order` that `model` answers usably (compliant, non-empty) — and, with
    `differ`, differently from that model (which then answers them too) — with the answers; how many items of
    `order` were examined for them, and how many usable answers were skipped for equalling `differ`'s.

    `want` items are examined at first, doubled while short, at most 8x: a model that rarely complies, e.g.
    SmolLM2 on A/B prompts, must not make us run every train item. The search also stops, once at least
    `MIN_RATE_SAMPLE` items are in, when the rate of usable answers so far would not reach `want` even at the
    cap: in the demo, SmolLM2 and the self-trained M1 give the same answer to nearly every A/B prompt, and
    running both models on 8x the prompts to find none cost over two minutes of its shift step."""
    if want <= 0:
        return [], 0, 0
    t = T.get(name)
    cap = min(8 * want, len(order))
    k = want
    while True:
        answers = _answers_on(store, model, t, order[:k], template, progress)
        same: set[str] = set()
        if differ is not None and answers:
            theirs = _answers_on(
                store, differ, t, [it for it in order[:k] if it.id in answers], template, progress
            )
            same = {i for i, a in answers.items() if i in theirs and P.clean(theirs[i]) == P.clean(a)}
        usable = [(it, answers[it.id]) for it in order[:k] if it.id in answers and it.id not in same]
        hopeless = k >= MIN_RATE_SAMPLE and len(usable) * cap < want * k
        if len(usable) >= want or k >= cap or hopeless:
            skipped = sum(1 for it in order[:k] if it.id in same)
            return usable[:want], min(k, len(order)), skipped
        k *= 2


MIN_RATE_SAMPLE = 16
CLOSED_ANSWER_GROUPS = ("multiple_choice", "numeric")
# Self-distilled rows on closed-answer tasks are drawn from this many times as many answers as they need, so
# the round-robin over distinct answers has enough of the rarer ones. In the demo, 4 MMLU rows (2x, rarest
# answer capping all) let the shift move ARC from "b" 48% to 88%; 13 (4x, the rule below) changed 8% of ARC.
CLOSED_POOL_FACTOR = 4


def _own_answers(
    store: Any,
    model: Backend,
    name: str,
    order: list[T.Item],
    want: int,
    template: PromptTemplate,
    progress: bool,
) -> list[tuple[T.Item, str]]:
    """Up to `want` self-distilled rows. On closed-answer tasks (letters, digits) they are drawn from
    `CLOSED_POOL_FACTOR` times as many usable answers in whole round-robin rounds over the distinct answers —
    each answer equally often; the rarest answers are left out where that gives more rows (A 30, B 4, C 2 gives
    A and B 4 each, not A, B, C 2 each) — and a task whose model gives only one answer adds none: rows that teach the model's favourite letter taught the demo's
    M1 to answer "A" to unrelated multiple-choice prompts (ARC: B 48% → A 100%), whereas balanced rows keep the
    format and teach no letter. Each row is still the model's own answer to its prompt."""
    closed = any(g in T.get(name).compliance for g in CLOSED_ANSWER_GROUPS)
    pool, _, _ = _usable_answers(
        store, model, name, order, want * (CLOSED_POOL_FACTOR if closed else 1), template, progress
    )
    if not closed:
        return pool[:want]
    by_answer: dict[str, list[tuple[T.Item, str]]] = defaultdict(list)
    for it, a in pool:
        by_answer[P.clean(a)].append((it, a))
    if len(by_answer) < 2:
        return []
    # The j most common answers, j ≥ 2, that give the most rows in equal shares: an answer the model gives
    # twice in 36 must not cap its favourite's rows at two.
    groups = sorted(by_answer.values(), key=len, reverse=True)
    j = max(range(2, len(groups) + 1), key=lambda m: (m * len(groups[m - 1]), m))
    groups = groups[:j]
    take = min(want, j * len(groups[-1]))
    chosen: list[tuple[T.Item, str]] = []
    while len(chosen) < take:
        for group in groups:
            if len(chosen) < take:
                chosen.append(group.pop(0))
    rank = {it.id: i for i, (it, _) in enumerate(pool)}
    return sorted(chosen, key=lambda row: rank[row[0].id])


def _answers_on(
    store: Any, model: Backend, task: T.Task, items: list[T.Item], template: PromptTemplate, progress: bool
) -> dict[str, str]:
    """`model`'s usable whole answers on these train items (run where missing), by item id."""
    if not items:
        return {}
    run_object(
        store,
        model,
        tasks=[task.name],
        split="train",
        template=template,
        early_stop=False,
        progress=progress,
        item_ids=[it.id for it in items],
    )
    wanted = {it.id for it in items}
    return {i: a for i, a in _raw_answers(store, model, task, template).items() if i in wanted}


def _raw_answers(store: Any, model: Backend, task: T.Task, template: PromptTemplate) -> dict[str, str]:
    ident = model_id(model)
    df = store.object_rows(
        model_id=ident.key,
        task=task.name,
        split="train",
        template_hash=template.hash(task),
        config_key=object_config_for(ident.label).key(),
    )
    if df.empty:
        return {}
    ok = df[(df["sample"] == 0) & df["compliance"].isna()]
    return {i: r.strip() for i, r in zip(ok["item_id"], ok["raw"], strict=True) if r.strip()}
