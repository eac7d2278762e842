"""Item-clustered bootstrap: resample prompts, not rows.

A scored row is (task, item_id, property). The properties of one object-level answer (same task and item_id)
are scored together, so their correctness is correlated; a row-level interval (±1.96·SEM, Wilson, the row
bootstrap, McNemar) treats them as independent and is too narrow. Here the unit of resampling is the prompt,
the cluster ``(task, item_id)``:

    codes = cluster_codes(df)                         # one integer per row, clusters in sorted key order
    k, n = cluster_sums(df["correct"], codes)         # correct rows and rows per cluster
    cluster_bootstrap_ci(k, n, seed=42)               # percentile CI of Σk*/Σn* over resampled clusters
    d, n = cluster_sums(a - b, codes)                 # A vs B on the same rows: Σ(a − b) per cluster
    cluster_paired_bootstrap(d, n, seed=42)           # (ci_low, ci_high, p) of acc_a − acc_b
    cluster_unpaired_bootstrap(k_a, n_a, k_b, n_b)    # two independent sets of clusters

Each resample draws as many clusters as there are, with replacement, and takes the ratio of the summed
numerators to the summed row counts (a prompt with three scored properties weighs three rows, as in the
row-level micro-average). With one row per cluster this is exactly the row-level bootstrap. Draws are
vectorised over fixed-size chunks of iterations, so results depend only on the data, `iterations` and `seed`
(clusters are ordered by their sorted key, so row order does not matter). Fewer than two clusters give NaN:
resampling one prompt says nothing about the spread. The p-value uses the same null-shift convention as the
row-level `paired_bootstrap`: p = (1 + #{|d* − d| ≥ |d|}) / (iterations + 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from inward.metrics._stats import _rng

CLUSTER: tuple[str, ...] = ("task", "item_id")  # one object-level answer: all its properties move together
_CHUNK_CELLS = 1 << 21  # cluster draws held at once (16 MiB of int64); fixed, so results do not depend on it

Seed = int | Sequence[int]
FloatArray = npt.NDArray[np.float64]


def cluster_codes(df: pd.DataFrame, cluster: Sequence[str] | None = CLUSTER) -> npt.NDArray[np.int64]:
    """Cluster index of every row of `df`, numbered in sorted order of the cluster key (so a shuffled table
    gives the same clusters). ``cluster=None``: every row is its own cluster (the row-level bootstrap)."""
    if cluster is None:
        return np.arange(len(df), dtype=np.int64)
    cols = list(cluster)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"cannot cluster by {cols}: the table has no column {missing}")
    if df.empty:
        return np.zeros(0, dtype=np.int64)
    # Keys are compared as strings: item ids read from different files may be int in one and str in another.
    keys = df[cols].astype(str)
    codes: npt.NDArray[np.int64] = np.asarray(
        keys.groupby(cols, sort=True, dropna=False).ngroup(), dtype=np.int64
    )
    return codes


def cluster_sums(values: npt.ArrayLike, codes: npt.NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """(Σ values, row count) per cluster, indexed by cluster code."""
    v = np.asarray(values, dtype=np.float64)
    size = int(codes.max()) + 1 if len(codes) else 0
    sums: FloatArray = np.asarray(np.bincount(codes, weights=v, minlength=size), dtype=np.float64)
    counts: FloatArray = np.asarray(np.bincount(codes, minlength=size), dtype=np.float64)
    return sums, counts


def cluster_bootstrap_distribution(
    num: npt.ArrayLike, den: npt.ArrayLike, *, iterations: int = 1000, seed: Seed = 42
) -> FloatArray:
    """`iterations` draws of Σnum*/Σden* over clusters resampled with replacement (as many as there are)."""
    rng = _rng(seed)
    return _ratios(rng, np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64), iterations)


def _ratios(rng: np.random.Generator, num: FloatArray, den: FloatArray, iterations: int) -> FloatArray:
    c = len(num)
    out = np.empty(iterations, dtype=np.float64)
    step = max(1, _CHUNK_CELLS // max(c, 1))
    for start in range(0, iterations, step):
        rows = min(step, iterations - start)
        idx = rng.integers(0, c, size=(rows, c))
        out[start : start + rows] = num[idx].sum(axis=1) / den[idx].sum(axis=1)
    return out


def _interval(draws: FloatArray, level: float) -> tuple[float, float]:
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return (float(lo), float(hi))


def _p_shifted(draws: FloatArray, observed: float, iterations: int) -> float:
    extreme = int(np.sum(np.abs(draws - observed) >= abs(observed) - 1e-12))
    return (1 + extreme) / (iterations + 1)


def cluster_bootstrap_ci(
    k: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    iterations: int = 1000,
    level: float = 0.95,
    seed: Seed = 42,
) -> tuple[float, float]:
    """Percentile CI of the accuracy Σk/Σn, resampling clusters (`k`, `n`: correct and rows per cluster)."""
    k_arr, n_arr = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if len(k_arr) < 2:
        return (math.nan, math.nan)
    return _interval(_ratios(_rng(seed), k_arr, n_arr, iterations), level)


def cluster_paired_bootstrap(
    d: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    iterations: int = 1000,
    level: float = 0.95,
    seed: Seed = 42,
) -> tuple[float, float, float]:
    """(ci_low, ci_high, p) of acc_a − acc_b = Σd/Σn on the same rows, resampling clusters. `d` per cluster is
    Σ(correct_a − correct_b) over its rows, `n` its row count. p is two-sided, null-shifted (module doc)."""
    d_arr, n_arr = np.asarray(d, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if len(d_arr) < 2:
        return (math.nan, math.nan, math.nan)
    draws = _ratios(_rng(seed), d_arr, n_arr, iterations)
    lo, hi = _interval(draws, level)
    p = _p_shifted(draws, float(d_arr.sum() / n_arr.sum()), iterations)
    return (lo, hi, max(p, sign_flip_floor(int(np.count_nonzero(d_arr)))))


def sign_flip_floor(informative: int) -> float:
    """The smallest two-sided p-value an exact test of a paired difference can give on `informative` prompts
    whose difference is not zero: 2 / 2^m (the sign-flip test; exact McNemar on m discordant pairs has the same
    floor). The null-shifted bootstrap has no such floor: when every prompt differs the same way, each resample
    gives the same difference and p reaches 1/(iterations+1), so 2 prompts would read as p = 0.001. Taking
    the larger of the two keeps a verdict from resting on a handful of prompts."""
    return min(1.0, 2.0 / 2.0**informative) if informative > 0 else 1.0


def cluster_unpaired_bootstrap(
    k_a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    k_b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    *,
    iterations: int = 1000,
    level: float = 0.95,
    seed: Seed = 42,
) -> tuple[float, float, float]:
    """(ci_low, ci_high, p) of acc_a − acc_b for two independent sets of clusters, each resampled on its own
    (e.g. after entropy matching, when the two conditions keep different prompts)."""
    arrays = [np.asarray(x, dtype=np.float64) for x in (k_a, n_a, k_b, n_b)]
    if len(arrays[0]) < 2 or len(arrays[2]) < 2:
        return (math.nan, math.nan, math.nan)
    rng = _rng(seed)
    draws = _ratios(rng, arrays[0], arrays[1], iterations) - _ratios(rng, arrays[2], arrays[3], iterations)
    lo, hi = _interval(draws, level)
    observed = float(arrays[0].sum() / arrays[1].sum() - arrays[2].sum() / arrays[3].sum())
    # As for the paired test (`sign_flip_floor`): no exact two-sample permutation test over these prompts can
    # go below 2 / C(n_a + n_b, n_a), whatever the bootstrap says.
    floor = min(1.0, 2.0 / math.comb(len(arrays[0]) + len(arrays[2]), len(arrays[0])))
    return (lo, hi, max(_p_shifted(draws, observed, iterations), floor))
