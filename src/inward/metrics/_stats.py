"""Confidence intervals and tests for accuracies of 0/1 correctness vectors.

    sem_ci(k=40, n=100)                 # (0.304, 0.496): acc ± 1.96·SEM, the paper's error bars (SPEC §10.1)
    wilson_ci(k=0, n=7)                 # (0.0, 0.354): the score interval, sound at small n and at 0 or n
    bootstrap_ci(k=40, n=100, seed=42)  # percentile bootstrap, 1000 resamples
    mcnemar_exact(10, 3)                # exact two-sided McNemar p-value from the discordant counts
    paired_bootstrap(n11, n10, n01, n00, seed=42)  # CI and p-value for acc_a − acc_b on the same prompts

Resampling n rows of a 0/1 vector with replacement only matters through how many resampled rows are 1, which
is Binomial(n, k/n); for paired rows it is Multinomial(n, cell shares). Drawing those counts directly gives
exactly the row-resampling bootstrap distribution in O(iterations) instead of O(n·iterations).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054  # the paper's "1.96"


def sem(k: int, n: int) -> float:
    """Standard error of the mean of a 0/1 vector with k ones in n (sample std, ddof=1, as
    scipy.stats.sem)."""
    if n < 2:
        return math.nan
    p = k / n
    return math.sqrt(p * (1 - p) * n / (n - 1) / n)


def sem_ci(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """acc ± z·SEM (not clipped to [0, 1], as in the paper's plots)."""
    if n == 0:
        return (math.nan, math.nan)
    half = z * sem(k, n)
    return (k / n - half, k / n + half)


def wilson_ci(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n. Unlike acc ± z·SEM it stays inside [0, 1] and does not
    shrink to a point at k = 0 or k = n (0 of 7 gives [0, 0.35], not [0, 0]), so reports use it for small n."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half)


def _rng(seed: int | Sequence[int]) -> np.random.Generator:
    return np.random.default_rng(list(seed) if isinstance(seed, Sequence) else seed)


def bootstrap_ci(
    k: int, n: int, *, iterations: int = 1000, level: float = 0.95, seed: int | Sequence[int] = 42
) -> tuple[float, float]:
    """Percentile bootstrap CI for the mean of a 0/1 vector with k ones out of n; deterministic for a seed."""
    if n == 0:
        return (math.nan, math.nan)
    means = _rng(seed).binomial(n, k / n, size=iterations) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return (float(lo), float(hi))


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value: binomial test of a_only ~ Bin(a_only + b_only, 1/2).

    ``a_only`` = rows A got right and B wrong, ``b_only`` the reverse. Returns 1.0 with no discordant pairs.
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    try:
        from scipy.stats import binomtest
    except ImportError:  # exact integer arithmetic; the null is symmetric so p = 2·P(X ≤ min) capped at 1
        m = min(a_only, b_only)
        total, c = 0, 1
        for i in range(m + 1):
            total += c
            c = c * (n - i) // (i + 1)
        return min(1.0, 2 * total / 2**n)
    return float(binomtest(a_only, n, 0.5, alternative="two-sided").pvalue)


def paired_bootstrap(
    n11: int,
    n10: int,
    n01: int,
    n00: int,
    *,
    iterations: int = 1000,
    level: float = 0.95,
    seed: int | Sequence[int] = 42,
) -> tuple[float, float, float]:
    """Paired bootstrap of acc_a − acc_b over aligned rows; returns (ci_low, ci_high, p_value).

    Cells: n11 both correct, n10 only A, n01 only B, n00 neither. The p-value is two-sided and uses the
    bootstrap distribution shifted to the null: p = (1 + #{|d* − d| ≥ |d|}) / (iterations + 1).
    """
    n = n11 + n10 + n01 + n00
    if n == 0:
        return (math.nan, math.nan, math.nan)
    cells = _rng(seed).multinomial(n, [n11 / n, n10 / n, n01 / n, n00 / n], size=iterations)
    diffs = (cells[:, 1] - cells[:, 2]) / n
    d = (n10 - n01) / n
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    extreme = int(np.sum(np.abs(diffs - d) >= abs(d) - 1e-12))
    return (float(lo), float(hi), (1 + extreme) / (iterations + 1))


def unpaired_bootstrap(
    k_a: int,
    n_a: int,
    k_b: int,
    n_b: int,
    *,
    iterations: int = 1000,
    level: float = 0.95,
    seed: int | Sequence[int] = 42,
) -> tuple[float, float, float]:
    """Bootstrap of acc_a − acc_b for two independent samples; returns (ci_low, ci_high, p_value) as above."""
    if n_a == 0 or n_b == 0:
        return (math.nan, math.nan, math.nan)
    rng = _rng(seed)
    diffs = (
        rng.binomial(n_a, k_a / n_a, size=iterations) / n_a
        - rng.binomial(n_b, k_b / n_b, size=iterations) / n_b
    )
    d = k_a / n_a - k_b / n_b
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    extreme = int(np.sum(np.abs(diffs - d) >= abs(d) - 1e-12))
    return (float(lo), float(hi), (1 + extreme) / (iterations + 1))
