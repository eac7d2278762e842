"""Calibration of hypothetical answers against object-level behaviour (SPEC §11).

    obj = {("animals", "id1", "second_character"): {"a": 0.6, "o": 0.3, "e": 0.1}, ...}
    hyp = {("animals", "id1", "second_character"): {"a": 0.5, "o": 0.5}, ...}
    points = calibration_points(obj, hyp, top_k=3)   # (object_prob, hypothetical_prob, rank) per top-k object value
    calibration_mad(points)                           # 100 × mean |mean x − mean y| over 10 equal-freq bins
    calibration_mad_by_rank(points)                   # {"all": …, "top1": …, "top2": …, "top3": …}
    calibration_curve(points)                         # per-bin x, y, n for plotting

A distribution is a mapping value → probability, from exact enumeration or from samples
(`empirical_distribution`); objects with a ``probs`` attribute (``inward.backends.Distribution``) work too.
For the object side, sampled responses must first be turned into property values, so responses sharing a value
pool their mass ("bat"/"cat" → "a" for the 2nd character). Values are compared after lower/strip.

Object values tied in probability are ranked by value (string order), so the top-k never depends on the order
in which answers were sampled; ``rules=PAPER_CODE_RULES`` ranks ties by first appearance in the mapping, as
the official script's stable sort did (docs/paper-code.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from inward.metrics._rules import DEFAULT_RULES, ScoringRules
from inward.metrics._scoring import is_missing

POINT_COLUMNS = ("key", "value", "rank", "object_prob", "hypothetical_prob")


def empirical_distribution(values: Iterable[str | None]) -> dict[str, float]:
    """Relative frequency of each value among samples; None (no value: too short, non-compliant) is dropped
    before counting, as the paper discards responses too short to have the property."""
    counts = Counter(v.strip().lower() for v in values if isinstance(v, str))
    total = sum(counts.values())
    return {v: c / total for v, c in counts.items()} if total else {}


def _probs(dist: Any, normalise: bool) -> dict[str, float]:
    raw: Mapping[str, float] = dist.probs if hasattr(dist, "probs") else dist
    out: dict[str, float] = {}
    for value, p in raw.items():
        if is_missing(value):
            continue
        v = str(value).strip().lower()
        out[v] = out.get(v, 0.0) + float(p)
    if normalise:
        # Divide by the mass that resolved to a value, so an incompletely enumerated (or partly non-compliant)
        # distribution is compared on the answers it does cover.
        total = sum(out.values())
        out = {v: p / total for v, p in out.items()} if total > 0 else {}
    return out


def calibration_points(
    object_dists: Mapping[Any, Any],
    hypothetical_dists: Mapping[Any, Any],
    *,
    top_k: int = 3,
    normalise: bool = False,
    rules: ScoringRules = DEFAULT_RULES,
) -> pd.DataFrame:
    """One point per prompt and top-k object-level value: (object_prob, hypothetical_prob, rank 1..k).

    Only keys in both mappings are used. A prompt contributes fewer than k points when fewer values have
    positive object-level probability; the hypothetical probability of a value it never produced is 0.
    Ties in object probability are ranked by value (string order) so points are deterministic; under
    ``rules.calibration_ties_first_seen`` by first appearance in the object mapping (values that merge after
    lower/strip take the place of the first of them).
    """
    first_seen = rules.calibration_ties_first_seen
    rows = []
    for key, odist in object_dists.items():
        if key not in hypothetical_dists:
            continue
        obj = _probs(odist, normalise)
        hyp = _probs(hypothetical_dists[key], normalise)
        positive = [(v, p) for v, p in obj.items() if p > 0]
        if first_seen:  # a stable sort keeps insertion order among equal probabilities
            ranked = sorted(positive, key=lambda vp: -vp[1])
        else:
            ranked = sorted(positive, key=lambda vp: (-vp[1], vp[0]))
        for rank, (value, p) in enumerate(ranked[:top_k], start=1):
            rows.append((key, value, rank, p, hyp.get(value, 0.0)))
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))


def _select(points: pd.DataFrame, rank: int | None) -> pd.DataFrame:
    return points if rank is None else points[points["rank"] == rank]


def calibration_curve(points: pd.DataFrame, bins: int = 10, *, rank: int | None = None) -> pd.DataFrame:
    """Per equal-frequency bin of object probability: ``x`` (mean object prob), ``y`` (mean hypothetical
    prob), ``n`` points. Bins come from ``pandas.qcut(duplicates="drop")``, so ties can leave fewer than
    ``bins``."""
    pts = _select(points, rank)
    if pts.empty:
        return pd.DataFrame(columns=["bin", "x", "y", "n"])
    x = pts["object_prob"].astype(float)
    if x.nunique() == 1:  # qcut cannot cut a constant column; it is a single bin
        labels = pd.Series(np.zeros(len(x), dtype=int), index=pts.index)
    else:
        labels = pd.qcut(x, q=bins, labels=False, duplicates="drop")
    grouped = pts.assign(bin=labels.to_numpy()).groupby("bin", sort=True)
    curve = grouped.agg(x=("object_prob", "mean"), y=("hypothetical_prob", "mean"), n=("object_prob", "size"))
    curve = curve.reset_index()
    curve["bin"] = range(len(curve))  # renumber: dropped duplicate edges leave gaps in qcut's labels
    return curve


def calibration_mad(points: pd.DataFrame, bins: int = 10, *, rank: int | None = None) -> float:
    """Mean absolute deviation between bin means, × 100 (SPEC §11); lower is better; NaN with no points."""
    curve = calibration_curve(points, bins, rank=rank)
    if curve.empty:
        return math.nan
    return float((curve["x"] - curve["y"]).abs().mean() * 100)


def calibration_mad_by_rank(points: pd.DataFrame, bins: int = 10, *, top_k: int = 3) -> dict[str, float]:
    """MAD over all points and separately over the top-1, top-2, … points (each binned on its own)."""
    out = {"all": calibration_mad(points, bins)}
    for r in range(1, top_k + 1):
        out[f"top{r}"] = calibration_mad(points, bins, rank=r)
    return out
