"""Answer distributions for calibration: exact (local backend) or sampled (any backend).

Object level: the distribution of a property's value over the model's answers at temperature 1. Hypothetical
level: the distribution of the (normalised) hypothetical answer. Stored in the `distributions` table, keyed by
(model, task, item, level, property, template hash, method), so repeated requests cost nothing.

    run_object_distributions(store, backend, tasks=["animals_long"], properties=["second_character"], limit=50)
    run_meta_distributions(store, backend, about="local/qwen2.5-0.5b", tasks=[...], properties=[...])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

from inward import properties as P
from inward import tasks as T
from inward.backends.base import NONE_KEY, Backend, GenerateConfig, Messages
from inward.prompts import DEFAULT, PromptTemplate
from inward.runs.meta_level import meta_requests

MULTIWORD = "__multiword__"  # a hypothetical answer of several words: never equal to any property value


def object_resolver(prop: P.Property, target: str | None) -> Callable[[str, bool], str | None]:
    def resolve(raw: str, finished: bool) -> str | None:
        cleaned = P.clean(raw)
        return (
            prop.extract(cleaned, target=target)
            if prop.determined(cleaned, finished, target=target)
            else None
        )

    return resolve


def meta_resolver(raw: str, finished: bool) -> str | None:
    if finished:
        return P.normalize_answer(raw)
    return MULTIWORD if " " in P.clean(raw).strip() else None


def _distributions(
    store: Any,
    backend: Backend,
    *,
    level: Literal["object", "meta"],
    requests: Sequence[tuple[T.Task, T.Item, str, Messages, Callable[[str, bool], str | None], str]],
    method: str,
    samples: int,
    coverage: float,
    max_tokens: int,
    seed: int,
) -> int:
    from inward.store import DistributionRow

    model = str(backend.ref)
    done = store.distributions(model=model, level=level, method=method)
    have = (
        set(zip(done["task"], done["item_id"], done["property"], done["template_hash"], strict=True))
        if len(done)
        else set()
    )
    todo = [r for r in requests if (r[0].name, r[1].id, r[2], r[5]) not in have]
    if not todo:
        return 0
    rows = []
    if method == "exact":
        dists = backend.distribution(
            [r[3] for r in todo], [r[4] for r in todo], coverage=coverage, max_tokens=max_tokens
        )
        for (t, it, p, _, _, h), d in zip(todo, dists, strict=True):
            rows.append(
                DistributionRow(
                    model=model,
                    task=t.name,
                    item_id=it.id,
                    level=level,
                    property=p,
                    template_hash=h,  # type: ignore[arg-type]
                    method=d.method,
                    probs=d.probs,
                    covered=d.covered,
                    forward_tokens=d.forward_tokens,
                    n_samples=0,
                )
            )
    else:
        cfg = replace(GenerateConfig(), temperature=1.0, n=samples, max_tokens=max_tokens, seed=seed)
        outs = backend.generate([r[3] for r in todo], cfg)
        for (t, it, p, _, resolve, h), gens in zip(todo, outs, strict=True):
            counts = Counter(resolve(g.text, True) or NONE_KEY for g in gens)
            probs = {k: v / len(gens) for k, v in counts.items()}
            rows.append(
                DistributionRow(
                    model=model,
                    task=t.name,
                    item_id=it.id,
                    level=level,
                    property=p,
                    template_hash=h,  # type: ignore[arg-type]
                    method="sampled",
                    probs=probs,
                    covered=1.0,
                    forward_tokens=None,
                    n_samples=len(gens),
                )
            )
    store.put_distributions(rows)
    return len(rows)


def run_object_distributions(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    method: str = "exact",
    samples: int = 20,
    coverage: float = 0.99,
    max_tokens: int = 16,
    seed: int = 0,
) -> int:
    wanted = {P.get(p).name for p in properties} if properties else None
    reqs = []
    for name in tasks:
        t = T.get(name)
        for it in t.items(split)[:limit]:
            for pname in t.properties:
                p = P.get(pname)
                if (wanted is not None and p.name not in wanted) or (wanted is None and p.training_only):
                    continue
                reqs.append(
                    (
                        t,
                        it,
                        p.name,
                        template.object_messages(t, it),
                        object_resolver(p, it.target),
                        template.hash(t),
                    )
                )
    return _distributions(
        store,
        backend,
        level="object",
        requests=reqs,
        method=method,
        samples=samples,
        coverage=coverage,
        max_tokens=max_tokens,
        seed=seed,
    )


def run_meta_distributions(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    about: str | None = None,
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    method: str = "exact",
    samples: int = 20,
    coverage: float = 0.99,
    max_tokens: int = 6,
    seed: int = 0,
) -> int:
    triples = meta_requests(
        store,
        about or str(backend.ref),
        tasks=tasks,
        properties=properties,
        split=split,
        limit=limit,
        template=template,
    )
    reqs = [
        (t, it, p, template.hypothetical_messages(t, it, p), meta_resolver, template.hash(t, p))
        for t, it, p in triples
    ]
    return _distributions(
        store,
        backend,
        level="meta",
        requests=reqs,
        method=method,
        samples=samples,
        coverage=coverage,
        max_tokens=max_tokens,
        seed=seed,
    )
