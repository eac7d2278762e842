"""Answer distributions for calibration: exact (local backend) or sampled (any backend).

Object level: the distribution of a property's value over the model's answers at temperature 1; an answer
that the task's compliance rules reject (a refusal, junk; judged on the prefix that fixed the value, as for
early-stopped object runs) counts under `NONCOMPLIANT_KEY`, not as a value, so the calibration analysis can drop
that mass and report it. Hypothetical level: the distribution of the (normalised) hypothetical answer. Stored in
the `distributions` table, keyed by (model identity, task, item, level, property, template hash, requested
settings `DistributionConfig.key()`), so repeated requests cost nothing, whatever method the backend ends up
using (exact, top-logprobs, sampled: stored in `method`, with the real `n_samples`).

    run_object_distributions(store, backend, tasks=["animals_long"], properties=["second_character"], limit=50)
    run_hypothetical_distributions(store, backend, about="local/qwen2.5-0.5b", tasks=[...], properties=[...])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from inward import properties as P
from inward import tasks as T
from inward.backends.base import NONE_KEY, Backend, GenerateConfig, Messages
from inward.backends.identity import model_id
from inward.prompts import DEFAULT, PromptTemplate
from inward.properties.compliance import check_object
from inward.runs.configs import DistributionConfig, ObjectConfig
from inward.runs.hypothetical import hypothetical_requests

MULTIWORD = "__multiword__"  # a hypothetical answer of several words: never equal to any property value
NONCOMPLIANT_KEY = "__noncompliant__"  # object-level mass of answers the task's compliance rules reject


def object_resolver(
    prop: P.Property, target: str | None, compliance: Sequence[str] = ()
) -> Callable[[str, bool], str | None]:
    """Resolve an answer prefix to its property value once the value is fixed; a prefix that breaks one of
    the task's `compliance` rule groups resolves to `NONCOMPLIANT_KEY` instead."""

    def resolve(raw: str, finished: bool) -> str | None:
        cleaned = P.clean(raw)
        if not prop.determined(cleaned, finished, target=target):
            return None
        if compliance and check_object(raw, compliance) is not None:
            return NONCOMPLIANT_KEY
        return prop.extract(cleaned, target=target)

    return resolve


def hypothetical_resolver(raw: str, finished: bool) -> str | None:
    if finished:
        return P.normalize_answer(raw)
    return MULTIWORD if " " in P.clean(raw).strip() else None


OBJECT_DISTRIBUTION = DistributionConfig(max_tokens=16)
HYPOTHETICAL_DISTRIBUTION = DistributionConfig(max_tokens=6)


def distribution_config(
    level: Literal["object", "hypothetical"], method: str = "exact", **settings: Any
) -> DistributionConfig:
    """The default request of `level` with `method` and any settings overridden."""
    from dataclasses import replace

    base = OBJECT_DISTRIBUTION if level == "object" else HYPOTHETICAL_DISTRIBUTION
    return replace(base, method=method, **settings)  # type: ignore[arg-type]


def _distributions(
    store: Any,
    backend: Backend,
    *,
    level: Literal["object", "hypothetical"],
    requests: Sequence[tuple[T.Task, T.Item, str, Messages, Callable[[str, bool], str | None], str]],
    config: DistributionConfig,
) -> int:
    from inward.store import DistributionRow

    ident = model_id(backend)
    key = config.key()
    done = store.distributions(model_id=ident.key, level=level, config_key=key)
    have = (
        set(zip(done["task"], done["item_id"], done["property"], done["template_hash"], strict=True))
        if len(done)
        else set()
    )
    todo = [r for r in requests if (r[0].name, r[1].id, r[2], r[5]) not in have]
    if not todo:
        return 0
    rows = []

    def row(t: T.Task, it: T.Item, p: str, h: str, **values: Any) -> Any:
        return DistributionRow(
            model=ident.label,
            model_id=ident.key,
            task=t.name,
            item_id=it.id,
            level=level,
            property=p,
            template_hash=h,
            config_key=key,
            **values,
        )

    if config.method == "exact":
        dists = backend.distribution(
            [r[3] for r in todo],
            [r[4] for r in todo],
            coverage=config.coverage,
            max_tokens=config.max_tokens,
        )
        for (t, it, p, _, _, h), d in zip(todo, dists, strict=True):
            rows.append(
                row(
                    t,
                    it,
                    p,
                    h,
                    method=d.method,
                    probs=d.probs,
                    covered=d.covered,
                    forward_tokens=d.forward_tokens,
                    n_samples=d.n_samples,
                )
            )
    else:
        cfg = GenerateConfig(
            temperature=1.0, n=config.samples, max_tokens=config.max_tokens, seed=config.seed
        )
        outs = backend.generate([r[3] for r in todo], cfg)
        for (t, it, p, _, resolve, h), gens in zip(todo, outs, strict=True):
            counts = Counter(resolve(g.text, True) or NONE_KEY for g in gens)
            probs = {k: v / len(gens) for k, v in counts.items()}
            rows.append(
                row(
                    t,
                    it,
                    p,
                    h,
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
    config: DistributionConfig = DistributionConfig(),
) -> int:
    """Object-level distributions of each (item, property); returns how many were computed (not stored)."""
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
                        object_resolver(p, it.target, t.compliance),
                        template.hash(t),
                    )
                )
    return _distributions(
        store,
        backend,
        level="object",
        requests=reqs,
        config=config,
    )


def run_hypothetical_distributions(
    store: Any,
    backend: Backend,
    *,
    tasks: Sequence[str],
    properties: Sequence[str] | None = None,
    about: Any = None,
    split: T.Split = "val",
    limit: int | None = None,
    template: PromptTemplate = DEFAULT,
    config: DistributionConfig = HYPOTHETICAL_DISTRIBUTION,
    object_config: ObjectConfig | str | None = None,
) -> int:
    """Hypothetical-level distributions for the prompts `hypothetical_requests` asks about (`about`'s compliant object
    rows under `object_config`); returns how many were computed."""
    triples = hypothetical_requests(
        store,
        model_id(backend) if about is None else about,
        tasks=tasks,
        properties=properties,
        split=split,
        limit=limit,
        template=template,
        object_config=object_config,
    )
    reqs = [
        (t, it, p, template.hypothetical_messages(t, it, p), hypothetical_resolver, template.hash(t, p))
        for t, it, p in triples
    ]
    return _distributions(
        store,
        backend,
        level="hypothetical",
        requests=reqs,
        config=config,
    )
