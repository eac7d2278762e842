"""The evidence table: every claim of the paper an experiment tested, with its effect, interval, power and a
verdict, combined over training seeds.

Per seed, a claim's interval and p-value are the item-clustered bootstrap ones its experiment reports (prompts
resampled, not rows), and its standard error is the interval's width / 3.92, so the detectable effect (80%
power, α = 0.05, `inward.metrics.detectable_effect`) describes the same uncertainty the interval shows. Over
several seeds, `inward.metrics.combine_seeds` gives the mean with a conservative interval (item error treated as
fully correlated across seeds, because every seed is evaluated on the same held-out prompts, plus the
between-seed variance), and the verdict is taken on that interval; each seed's own verdict is listed beside it
and `seeds_agree` says whether they all match.
"""

from __future__ import annotations

import math
from typing import Any

from inward import metrics as M
from inward.experiments.base import Claim, Experiment, Sections

Z95 = 3.92  # width of a 95% normal interval in standard errors


def _known(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _interval(c: Claim) -> tuple[float | None, float | None, str | None]:
    """The claim's interval, made honest where the bootstrap cannot be: when every resample gives the same
    difference (no prompt where the two conditions differ) the bootstrap interval has width 0, which would
    claim certainty from, say, 10 prompts. Then the rule of three bounds the share of discordant prompts by
    3 / n_clusters at 95%, so the difference lies within ±3 / n_clusters of it."""
    if not (_known(c.ci_low) and _known(c.ci_high)):
        return None, None, None
    lo, hi = float(c.ci_low), float(c.ci_high)  # type: ignore[arg-type]
    if hi - lo > 0 or c.unit != "pp" or not c.n_clusters or not _known(c.effect):
        return lo, hi, None
    half = 3.0 / c.n_clusters
    eff = float(c.effect)  # type: ignore[arg-type]
    return (
        eff - half,
        eff + half,
        (
            f"No prompt where the two conditions differ: the bootstrap interval is degenerate; shown is ±3/n "
            f"(rule of three over {c.n_clusters} prompts)."
        ),
    )


def _se_mde(c: Claim, lo: float | None, hi: float | None) -> tuple[float | None, float | None]:
    """Standard error (the interval's width / 3.92) and the detectable effect; without an interval (e.g. one
    prompt), the planned detectable effect of `n` rows under the stated assumptions."""
    if lo is not None and hi is not None:
        se = (hi - lo) / Z95
        return se, M.detectable_effect(se)
    if c.unit == "pp" and c.n and c.n >= 1:
        clusters = min(max(c.n_clusters or c.n, 1), c.n)
        from inward.experiments.plan import ASSUMPTIONS

        return None, M.planned_detectable_effect(c.n, clusters, **ASSUMPTIONS)
    return None, None


def table(experiments: list[Experiment], per_seed: list[Sections]) -> Any:
    from inward.report.results import Evidence, EvidenceRow, SeedEffect

    claims: dict[str, list[tuple[int, Claim]]] = {}
    owner: dict[str, str] = {}
    for s in per_seed:
        for e in experiments:
            if e.name in s.by_name:
                for c in e.claims(s.by_name[e.name]):
                    claims.setdefault(c.key, []).append((s.seed, c))
                    owner[c.key] = e.name
    rows = []
    for key, by_seed in claims.items():
        first = by_seed[0][1]
        experiment = owner[key]
        paper = M.paper_effect(first.paper, first.paper_property)
        seeds = []
        notes = [first.note] if first.note else []
        for seed, c in by_seed:
            lo, hi, why = _interval(c)
            se, mde = _se_mde(c, lo, hi)
            if why and why not in notes:
                notes.append(why)
            seeds.append(
                SeedEffect(
                    seed=seed,
                    effect=c.effect,
                    ci_low=lo,
                    ci_high=hi,
                    p=c.p,
                    se=se,
                    mde=mde,
                    n=c.n,
                    verdict=M.verdict(c.effect, lo, hi, mde, paper.value, p=c.p),
                )
            )
        usable = [s for s in seeds if s.effect is not None and s.se is not None]
        if len(seeds) == 1 or not usable:
            one = seeds[0]
            effect, lo, hi, p, se, mde, spread = (
                one.effect,
                one.ci_low,
                one.ci_high,
                one.p,
                one.se,
                one.mde,
                None,
            )
        else:
            comb = M.combine_seeds([s.effect for s in usable], [s.se for s in usable])  # type: ignore[misc]
            effect, lo, hi, p, se = comb.mean, comb.ci_low, comb.ci_high, comb.p, comb.se
            # Every seed is scored on the same prompts, so the combination is never more significant than the
            # most significant seed alone (whose p keeps its exact floor over the informative prompts).
            seed_ps = [s.p for s in usable if s.p is not None]
            if seed_ps:
                p = max(p, min(seed_ps))
            mde, spread = M.detectable_effect(comb.se), comb.sd
        rows.append(
            EvidenceRow(
                key=key,
                claim=first.claim,
                experiment=experiment,
                comparison=first.comparison,
                unit=first.unit,
                n=first.n,
                n_clusters=first.n_clusters,
                effect=effect,
                ci_low=lo,
                ci_high=hi,
                p=p,
                se=se,
                mde=mde,
                paper_effect=paper.value,
                paper_source=paper.source,
                verdict=M.verdict(effect, lo, hi, mde, paper.value, p=p),
                seeds=seeds,
                seeds_agree=M.seeds_agree([s.verdict for s in seeds if s.verdict])
                if len(seeds) > 1
                else None,
                spread=spread,
                note=" ".join(notes) or None,
            )
        )
    return Evidence(
        rows=rows,
        rules=dict(M.VERDICT_RULES),
        alpha=M.ALPHA,
        power=M.POWER,
        seeds=[s.seed for s in per_seed],
    )
