"""Entropy / mode-collapse control (SPEC §13).

    entropy(["a", "a", "b"])                        # 0.918… bits
    entropy_table(scored)                           # entropy of object_value per (task, property)
    before, after = entropy_match(before, after)    # identical value histograms per (task, reporting group)

Training can make behaviour more predictable (lower entropy) without any introspection. `entropy_match`
removes that difference: per (task, reporting group) — the paper's grouping, which renames the properties
before matching, so ``among_a_or_c`` and ``among_b_or_d`` of one task are matched as one ``among_options``
histogram — it keeps only rows present in both conditions, then for each value among the ``top`` most
frequent values of condition 1 keeps min(count₁, count₂) rows of that value from each condition (a seeded
random subset) and drops every other value. Both tables then have the same value histogram per group, hence
the same entropy and the same mode baseline of each reported group. The two tables may keep different
prompts: a row is kept per condition according to that condition's own value. Values are counted after
`normalise_value` (lower+strip), as they are scored. A group may hold several properties of one prompt; rows
stay identified by the full key (task, item_id, property). docs/paper-code.md lists the grouping and the
normalisation as fixes that apply in both scoring modes.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from inward.metrics._scoring import KEY, normalise_value, reporting_group

MATCH_BY: tuple[str, ...] = ("task", "group")
"""Entropy matching per (task, reporting group), as the paper's ``adjust_for_entropy`` after its renames."""
PROPERTY_BY: tuple[str, ...] = ("task", "property")


def entropy(values: Iterable[str], base: float = 2.0) -> float:
    """Shannon entropy of the empirical distribution of ``values`` (bits by default); 0.0 when empty."""
    counts = Counter(values)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return float(-sum((c / total) * math.log(c / total, base) for c in counts.values()))


def _values(df: pd.DataFrame, value_col: str) -> pd.Series:
    return df[value_col].astype(str).map(normalise_value)


def entropy_table(
    df: pd.DataFrame, by: Sequence[str] = PROPERTY_BY, *, value_col: str = "object_value"
) -> pd.DataFrame:
    """Entropy (bits), number of distinct (normalised) values and rows of ``value_col`` per group."""
    rows = []
    for labels, sub in df.groupby(list(by), sort=True, dropna=False):
        values = labels if isinstance(labels, tuple) else (labels,)
        vals = _values(sub, value_col)
        rows.append(
            {
                **dict(zip(by, values, strict=True)),
                "entropy": entropy(vals),
                "n_values": vals.nunique(),
                "n": len(vals),
            }
        )
    return pd.DataFrame(rows, columns=[*by, "entropy", "n_values", "n"])


def _with_group(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    if "group" in by and "group" not in df.columns and "property" in df.columns:
        return df.assign(group=[reporting_group(p) for p in df["property"]])
    return df


def _rng(seed: int, *parts: object) -> np.random.Generator:
    # One stream per (group, value, condition): the subset kept for one value does not depend on which other
    # groups or values exist, or on row order.
    digest = hashlib.sha256(repr((seed, *parts)).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _subset(rows: pd.DataFrame, m: int, key: list[str], rng: np.random.Generator) -> pd.DataFrame:
    rows = rows.sort_values(key, kind="stable")
    picked = np.sort(rng.choice(len(rows), size=m, replace=False))
    return rows.iloc[picked]


def entropy_match(
    df1: pd.DataFrame,
    df2: pd.DataFrame,
    by: Sequence[str] = MATCH_BY,
    *,
    value_col: str = "object_value",
    key: Sequence[str] = KEY,
    top: int = 100,
    seed: int = 42,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsets of the two conditions with identical ``value_col`` histograms within each ``by`` group.

    ``by`` defaults to (task, reporting group); a table without a ``group`` column gets one from
    `reporting_group` of its ``property``. Pass ``by=PROPERTY_BY`` to match each property on its own.
    """
    key, by = list(key), list(by)
    added = [c for c in by if c not in df1.columns or c not in df2.columns]
    df1, df2 = _with_group(df1, by), _with_group(df2, by)
    for df, name in ((df1, "df1"), (df2, "df2")):
        if df.duplicated(key).any():
            raise ValueError(f"{name} repeats a key {key}; entropy matching needs one row per prompt")
    common = df1[key].merge(df2[key], on=key, how="inner")
    a = df1.merge(common, on=key, how="inner")
    b = df2.merge(common, on=key, how="inner")
    kept_a: list[pd.DataFrame] = []
    kept_b: list[pd.DataFrame] = []
    groups_b = {lab if isinstance(lab, tuple) else (lab,): sub for lab, sub in b.groupby(by, sort=True)}
    for labels, sub_a in a.groupby(by, sort=True):
        labels_t = labels if isinstance(labels, tuple) else (labels,)
        sub_b = groups_b.get(labels_t)
        if sub_b is None:
            continue
        vals_a, vals_b = _values(sub_a, value_col), _values(sub_b, value_col)
        count_a, count_b = Counter(vals_a), Counter(vals_b)
        top_values = sorted(count_a.items(), key=lambda vc: (-vc[1], vc[0]))[:top]
        for value, c1 in top_values:
            m = min(c1, count_b.get(value, 0))
            if m == 0:
                continue
            kept_a.append(_subset(sub_a[vals_a == value], m, key, _rng(seed, labels_t, value, 1)))
            kept_b.append(_subset(sub_b[vals_b == value], m, key, _rng(seed, labels_t, value, 2)))
    out_a = (pd.concat(kept_a) if kept_a else a.iloc[:0]).drop(columns=added)
    out_b = (pd.concat(kept_b) if kept_b else b.iloc[:0]).drop(columns=added)
    return (
        out_a.sort_values(key, kind="stable").reset_index(drop=True),
        out_b.sort_values(key, kind="stable").reset_index(drop=True),
    )
