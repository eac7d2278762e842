"""The mode baseline ("⋆", SPEC §10.2): always answer the most common property value.

    modes(scored)                  # the mode of object_value per (task, property), with its count
    mode_baseline(scored)          # baseline accuracy per reporting group + "average" (micro over rows)

The mode is taken over the evaluated rows themselves (the test distribution, an oracle baseline, as in the
paper). A row "scores" under the baseline when its object value equals the mode of its mode group; the
reported accuracy of a group is the mean of that indicator over the group's rows, so "average" weights
every row once. Values are counted and compared as scoring compares them (`normalise_value`: lower+strip),
so "Cat" and "cat" are one value. Ties between equally frequent values are broken by the smallest value in
string order, so results never depend on row order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from inward.metrics._accuracy import By, by_columns, iter_groups
from inward.metrics._scoring import normalise_value
from inward.metrics._stats import sem_ci

MODE_BY: tuple[str, ...] = ("task", "property")


def _normalised(values: pd.Series) -> pd.Series:
    return values.astype(str).map(normalise_value)


def mode_of(values: Iterable[str]) -> tuple[str | None, int]:
    """(most common normalised value, its count); ties → smallest value; (None, 0) when empty."""
    counts = Counter(normalise_value(v) for v in values)
    if not counts:
        return (None, 0)
    value, count = min(counts.items(), key=lambda vc: (-vc[1], vc[0]))
    return (value, count)


def modes(df: pd.DataFrame, by: Sequence[str] = MODE_BY, *, value_col: str = "object_value") -> pd.DataFrame:
    """The mode per group: columns by-columns, ``mode`` (normalised), ``count``, ``n``, ``share``
    (= count / n)."""
    rows = []
    for labels, sub in df.groupby(list(by), sort=True, dropna=False):
        values = labels if isinstance(labels, tuple) else (labels,)
        mode, count = mode_of(sub[value_col].astype(str))
        rows.append({**dict(zip(by, values, strict=True)), "mode": mode, "count": count, "n": len(sub)})
    out = pd.DataFrame(rows, columns=[*by, "mode", "count", "n"])
    out["share"] = out["count"] / out["n"]
    return out


def mode_hits(df: pd.DataFrame, mode_by: By = MODE_BY, *, value_col: str = "object_value") -> pd.Series:
    """Per row: is its value the mode of its ``mode_by`` group? (``mode_by=None``: one pooled mode)"""
    cols = by_columns(mode_by)
    if not cols:
        mode, _ = mode_of(df[value_col].astype(str))
        return pd.Series(_normalised(df[value_col]) == mode, index=df.index, name="mode_hit")
    table = modes(df, cols, value_col=value_col)[[*cols, "mode"]]
    merged = df[cols].merge(table, on=cols, how="left")
    hits = _normalised(df[value_col]).to_numpy() == merged["mode"].to_numpy()
    return pd.Series(hits, index=df.index, name="mode_hit")


def mode_baseline(
    df: pd.DataFrame,
    by: By = "group",
    *,
    mode_by: By = MODE_BY,
    value_col: str = "object_value",
    average: bool = True,
    recompute_per_group: bool = False,
) -> pd.DataFrame:
    """Mode-baseline accuracy per reporting group plus the pooled ``average`` row.

    Columns: by-columns, ``n``, ``k`` (rows equal to their mode), ``acc``, ``ci_low``/``ci_high`` (±1.96·SEM).
    With ``recompute_per_group=True`` the mode is instead taken over each reported group as a whole (and over
    all rows for ``average``) — the paper's behaviour-change plotting quirk (SPEC §10.2), kept to reproduce
    it.
    """
    df = df.reset_index(drop=True)  # hits are looked up by index below
    hits = mode_hits(df, mode_by, value_col=value_col)
    rows = []
    for labels, sub in iter_groups(df, by, average):
        sub_hits = mode_hits(sub, None, value_col=value_col) if recompute_per_group else hits.loc[sub.index]
        n, k = len(sub), int(sub_hits.sum())
        lo, hi = sem_ci(k, n)
        rows.append({**labels, "n": n, "k": k, "acc": k / n if n else math.nan, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
