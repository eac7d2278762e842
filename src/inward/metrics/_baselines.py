"""The mode baseline ("⋆", SPEC §10.2): always answer the most common property value.

    modes(scored)                  # the mode of object_value per (task, property), with its count
    mode_baseline(scored)          # baseline accuracy per reporting group + "average" (micro over rows)
    mode_baseline(scored, rules=PAPER_CODE_RULES, object_rows=object_df)   # the official code's mode

The mode is taken over the evaluated rows themselves (the test distribution, an oracle baseline, as in the
paper). A row "scores" under the baseline when its object value equals the mode of its mode group; the
reported accuracy of a group is the mean of that indicator over the group's rows, so "average" weights
every row once. Values are counted and compared as scoring compares them (`normalise_value`: lower+strip),
so "Cat" and "cat" are one value. Ties between equally frequent values are broken by the smallest value in
string order, so results never depend on row order.

The official code took the mode over its whole object-level dataframe instead: every object row of the
(task, property), with or without a hypothetical answer, non-compliant ones and undefined values ("none")
included. ``rules.mode_over_all_object_rows`` with ``object_rows=`` reproduces that (docs/paper-code.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from inward.metrics._accuracy import By, by_columns, iter_groups
from inward.metrics._rules import DEFAULT_RULES, UNDEFINED_VALUE, ScoringRules
from inward.metrics._scoring import KEY, compliant_object_rows, normalise_value, object_long
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


def mode_hits(
    df: pd.DataFrame,
    mode_by: By = MODE_BY,
    *,
    value_col: str = "object_value",
    source: pd.DataFrame | None = None,
) -> pd.Series:
    """Per row: is its value the mode of its ``mode_by`` group? (``mode_by=None``: one pooled mode)

    The modes are taken from `source` (same columns) when given, else from `df` itself; a group that
    `source` lacks has no mode, and its rows never hit.
    """
    src = df if source is None else source
    cols = by_columns(mode_by)
    if not cols:
        mode, _ = mode_of(src[value_col].astype(str))
        return pd.Series(_normalised(df[value_col]) == mode, index=df.index, name="mode_hit")
    table = modes(src, cols, value_col=value_col)[[*cols, "mode"]]
    merged = df[cols].merge(table, on=cols, how="left")
    hits = _normalised(df[value_col]).to_numpy() == merged["mode"].to_numpy()
    return pd.Series(hits, index=df.index, name="mode_hit")


def mode_source(
    object_rows: pd.DataFrame,
    *,
    rules: ScoringRules = DEFAULT_RULES,
    key: Sequence[str] = KEY,
    value_col: str = "object_value",
) -> pd.DataFrame:
    """The object rows a mode is taken from, long format with the value in `value_col`.

    ``rules.mode_over_all_object_rows``: every row of the object table, an undefined value counted as
    "none" (the official code's object dataframe). Otherwise the compliant rows with a value.
    """
    if rules.mode_over_all_object_rows:
        df = object_long(object_rows, key)
        values = [v if isinstance(v, str) else UNDEFINED_VALUE for v in df["value"]]
    else:
        df = compliant_object_rows(object_rows, key)
        values = list(df["value"])
    return df.drop(columns=["value"]).assign(**{value_col: values})


def mode_baseline(
    df: pd.DataFrame,
    by: By = "group",
    *,
    mode_by: By = MODE_BY,
    value_col: str = "object_value",
    average: bool = True,
    recompute_per_group: bool = False,
    rules: ScoringRules = DEFAULT_RULES,
    object_rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mode-baseline accuracy per reporting group plus the pooled ``average`` row.

    Columns: by-columns, ``n``, ``k`` (rows equal to their mode), ``acc``, ``ci_low``/``ci_high`` (±1.96·SEM).
    The baseline is always averaged over the rows of `df` (the evaluated rows); where the mode comes from:

    * default: the rows of `df`, per ``mode_by`` group;
    * ``rules.mode_over_all_object_rows``: every row of ``object_rows`` (an object table, long or wide;
      required), undefined values as "none", as the official code (`mode_source`). ``object_rows`` is
      ignored under other rules, so a caller can always pass it without changing the default numbers;
    * ``recompute_per_group=True``: each reported group of `df` as a whole (and all rows for ``average``) —
      the paper's behaviour-change plotting quirk (SPEC §10.2); it overrides the two above.
    """
    source = None
    if rules.mode_over_all_object_rows:
        if object_rows is None:
            raise ValueError(
                f"rules {rules.name!r} take the mode over all object rows: pass object_rows= (the object table)"
            )
        source = mode_source(object_rows, rules=rules, value_col=value_col)
    df = df.reset_index(drop=True)  # hits are looked up by index below
    hits = mode_hits(df, mode_by, value_col=value_col, source=source)
    rows = []
    for labels, sub in iter_groups(df, by, average):
        sub_hits = mode_hits(sub, None, value_col=value_col) if recompute_per_group else hits.loc[sub.index]
        n, k = len(sub), int(sub_hits.sum())
        lo, hi = sem_ci(k, n)
        rows.append({**labels, "n": n, "k": k, "acc": k / n if n else math.nan, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
