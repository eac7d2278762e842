"""Accuracy tables, self-vs-cross paired tests and compliance rates over scored tables.

    accuracy(scored)                      # per reporting group + "average" (micro-average, SPEC §10.1)
    accuracy(scored, by=("task", "property"), average=False)
    paired_test(self_scored, cross_scored)            # PairedTest: accuracies, diff, bootstrap CIs, p-values
    paired_tests(self_scored, cross_scored)           # the same per group + average, as a table
    compliance_rates(scored)              # share of compliant hypothetical answers + counts per rule

"average" is the paper's "Average of properties": every row pooled (weighted by row count), not the mean of
the per-group accuracies.

Two kinds of uncertainty are reported. Row-level: ±1.96·SEM (the paper's error bars, kept for
comparability), Wilson, the row bootstrap and McNemar, all of which treat every (task, item_id, property) row
as independent. Item-clustered (`inward.metrics._clustered`): a bootstrap that resamples prompts
``(task, item_id)``, so the correlated properties of one answer move together; within a group the clusters
are that group's prompts. inward's own verdicts (report p-values and significance) use the clustered numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from inward.metrics._clustered import (
    CLUSTER,
    cluster_bootstrap_ci,
    cluster_codes,
    cluster_paired_bootstrap,
    cluster_sums,
)
from inward.metrics._scoring import KEY, is_missing
from inward.metrics._stats import bootstrap_ci, mcnemar_exact, paired_bootstrap, sem, sem_ci, wilson_ci

AVERAGE = "average"
By = str | Sequence[str] | None


def by_columns(by: By) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def iter_groups(
    df: pd.DataFrame, by: By, average: bool = True
) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """(labels, rows) per group in sorted order, then all rows, labelled ``average`` in every by-column."""
    cols = by_columns(by)
    if cols:
        for labels, sub in df.groupby(cols, sort=True, dropna=False):
            values = labels if isinstance(labels, tuple) else (labels,)
            yield dict(zip(cols, values, strict=True)), sub
        if average:
            yield dict.fromkeys(cols, AVERAGE), df
    else:
        yield {}, df


def accuracy(
    df: pd.DataFrame,
    by: By = "group",
    *,
    average: bool = True,
    column: str = "correct",
    iterations: int = 1000,
    level: float = 0.95,
    seed: int = 42,
    cluster: Sequence[str] | None = CLUSTER,
) -> pd.DataFrame:
    """Accuracy per group of a scored table, plus the pooled ``average`` row.

    Columns: the by-columns, ``n``, ``k`` (correct rows), ``acc``, ``sem``, ``ci_low``/``ci_high``
    (acc ± 1.96·SEM: the paper's row-level SEM interval, kept for comparability), ``wilson_low``/
    ``wilson_high`` (Wilson score interval, for small n), ``boot_low``/``boot_high`` (row-level percentile
    bootstrap, seeded), ``n_clusters`` (prompts: distinct `cluster` keys in the group) and
    ``cluster_low``/``cluster_high`` (item-clustered percentile bootstrap, seeded; NaN below two prompts).
    ``by=None`` gives the single pooled row; ``cluster=None`` makes every row its own cluster.
    """
    rows = []
    for labels, sub in iter_groups(df, by, average):
        correct = sub[column].astype(bool)
        n, k = len(sub), int(correct.sum())
        lo, hi = sem_ci(k, n)
        wlo, whi = wilson_ci(k, n)
        blo, bhi = bootstrap_ci(k, n, iterations=iterations, level=level, seed=seed)
        k_c, n_c = cluster_sums(correct.to_numpy(), cluster_codes(sub, cluster))
        clo, chi = cluster_bootstrap_ci(k_c, n_c, iterations=iterations, level=level, seed=seed)
        rows.append(
            {
                **labels,
                "n": n,
                "k": k,
                "acc": k / n if n else math.nan,
                "sem": sem(k, n),
                "ci_low": lo,
                "ci_high": hi,
                "wilson_low": wlo,
                "wilson_high": whi,
                "boot_low": blo,
                "boot_high": bhi,
                "n_clusters": len(n_c),
                "cluster_low": clo,
                "cluster_high": chi,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PairedTest:
    """A vs B on the same prompts. ``diff`` = acc_a − acc_b, with two intervals and p-values: row-level
    (``ci_low``/``ci_high``, ``p_bootstrap`` from a paired bootstrap of rows; ``p_mcnemar``), treating rows as
    independent, and item-clustered (``cluster_ci_low``/``cluster_ci_high``, ``p_cluster``), resampling the
    ``n_clusters`` prompts. Verdicts should use the clustered ones."""

    n: int
    acc_a: float
    acc_b: float
    diff: float
    ci_low: float  # row-level paired bootstrap
    ci_high: float
    p_bootstrap: float
    a_only: int  # rows A got right and B wrong
    b_only: int
    p_mcnemar: float  # exact McNemar (binomial on the discordant pairs), rows as independent
    n_clusters: int = 0  # prompts (distinct cluster keys) among the n rows
    cluster_ci_low: float = math.nan  # item-clustered paired bootstrap
    cluster_ci_high: float = math.nan
    p_cluster: float = math.nan  # two-sided, same null-shift convention as p_bootstrap

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def align(
    df_a: pd.DataFrame,
    df_b: pd.DataFrame,
    *,
    key: Sequence[str] = KEY,
    column: str = "correct",
    cluster: Sequence[str] | None = CLUSTER,
) -> pd.DataFrame:
    """Rows present in both tables with ``correct_a``/``correct_b`` (and ``group`` and the `cluster` columns
    from A when it has them)."""
    extra = [c for c in ("group", *(cluster or ())) if c in df_a.columns and c not in key]
    left = df_a[[*key, *dict.fromkeys(extra), column]]
    right = df_b[[*key, column]]
    merged = left.merge(right, on=list(key), how="inner", suffixes=("_a", "_b"), validate="one_to_one")
    return merged.rename(columns={f"{column}_a": "correct_a", f"{column}_b": "correct_b"})


def paired_from_aligned(
    aligned: pd.DataFrame,
    *,
    iterations: int = 1000,
    seed: int = 42,
    cluster: Sequence[str] | None = CLUSTER,
) -> PairedTest:
    a = aligned["correct_a"].astype(bool)
    b = aligned["correct_b"].astype(bool)
    n11, n10 = int((a & b).sum()), int((a & ~b).sum())
    n01, n00 = int((~a & b).sum()), int((~a & ~b).sum())
    n = len(aligned)
    lo, hi, p_boot = paired_bootstrap(n11, n10, n01, n00, iterations=iterations, seed=seed)
    delta = (a.astype(int) - b.astype(int)).to_numpy(dtype=float)  # per row: +1 only A, −1 only B
    d_c, n_c = cluster_sums(delta, cluster_codes(aligned, cluster))
    clo, chi, p_cl = cluster_paired_bootstrap(d_c, n_c, iterations=iterations, seed=seed)
    acc_a = (n11 + n10) / n if n else math.nan
    acc_b = (n11 + n01) / n if n else math.nan
    return PairedTest(
        n=n,
        acc_a=acc_a,
        acc_b=acc_b,
        diff=acc_a - acc_b,
        ci_low=lo,
        ci_high=hi,
        p_bootstrap=p_boot,
        a_only=n10,
        b_only=n01,
        p_mcnemar=mcnemar_exact(n10, n01),
        n_clusters=len(n_c),
        cluster_ci_low=clo,
        cluster_ci_high=chi,
        p_cluster=p_cl,
    )


def paired_test(
    df_a: pd.DataFrame,
    df_b: pd.DataFrame,
    *,
    key: Sequence[str] = KEY,
    column: str = "correct",
    iterations: int = 1000,
    seed: int = 42,
    cluster: Sequence[str] | None = CLUSTER,
) -> PairedTest:
    """Compare two scored tables on the prompts they share (e.g. self vs cross predicting the same M1)."""
    aligned = align(df_a, df_b, key=key, column=column, cluster=cluster)
    return paired_from_aligned(aligned, iterations=iterations, seed=seed, cluster=cluster)


def paired_tests(
    df_a: pd.DataFrame,
    df_b: pd.DataFrame,
    by: By = "group",
    *,
    average: bool = True,
    key: Sequence[str] = KEY,
    column: str = "correct",
    iterations: int = 1000,
    seed: int = 42,
    cluster: Sequence[str] | None = CLUSTER,
) -> pd.DataFrame:
    """`paired_test` per group (by-columns taken from table A) plus the pooled ``average`` row; within a group
    the clusters are that group's prompts."""
    aligned = align(df_a, df_b, key=key, column=column, cluster=cluster)
    extra = [c for c in by_columns(by) if c not in aligned.columns]
    if extra:
        aligned = aligned.merge(df_a[[*key, *extra]], on=list(key), how="left")
    rows = [
        {
            **labels,
            **paired_from_aligned(sub, iterations=iterations, seed=seed, cluster=cluster).as_dict(),
        }
        for labels, sub in iter_groups(aligned, by, average)
    ]
    return pd.DataFrame(rows)


def compliance_rates(
    df: pd.DataFrame, by: By = "group", *, column: str = "hypothetical_compliance", average: bool = True
) -> pd.DataFrame:
    """Share of compliant answers per group and how many rows each rule rejected.

    ``column`` holds None for a compliant answer, else the name of the rule that fired. Columns: by-columns,
    ``n``, ``n_compliant``, ``rate``, then one count column per rule name (sorted), 0 where a rule never
    fired.
    """
    reasons = sorted({str(x) for x in df[column] if not is_missing(x)})
    rows = []
    for labels, sub in iter_groups(df, by, average):
        fired = [str(x) for x in sub[column] if not is_missing(x)]
        n = len(sub)
        row: dict[str, Any] = {
            **labels,
            "n": n,
            "n_compliant": n - len(fired),
            "rate": (n - len(fired)) / n if n else math.nan,
        }
        row.update({r: fired.count(r) for r in reasons})
        rows.append(row)
    return pd.DataFrame(rows)
