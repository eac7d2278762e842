"""Item-clustered bootstrap: prompts (task, item_id) are resampled, not rows.

Expected values are derived by hand from the exact bootstrap distributions of small designs (the resampled
statistic is a sum of i.i.d. cluster draws, so its law is a binomial or a small enumeration) and compared with
the seeded Monte Carlo draws within a few standard errors.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from inward.metrics import (
    accuracy,
    cluster_bootstrap_ci,
    cluster_bootstrap_distribution,
    cluster_codes,
    cluster_paired_bootstrap,
    cluster_sums,
    cluster_unpaired_bootstrap,
    paired_bootstrap,
    paired_test,
    paired_tests,
    unpaired_bootstrap,
)

ITER = 20_000  # Monte Carlo draws: a probability of 0.5 is estimated to ±0.0035 (one SE)


def scored(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    """(task, item_id, property, correct) rows → a scored table with group = property."""
    df = pd.DataFrame(rows, columns=["task", "item_id", "property", "correct"])
    return df.assign(group=df["property"])


def binom_pmf(n: int, p: float) -> list[float]:
    return [math.comb(n, m) * p**m * (1 - p) ** (n - m) for m in range(n + 1)]


def binom_quantile(n: int, p: float, q: float) -> float:
    """Smallest m/n whose Bin(n, p) CDF reaches q."""
    cdf = 0.0
    for m, pm in enumerate(binom_pmf(n, p)):
        cdf += pm
        if cdf >= q:
            return m / n
    return 1.0


def correlated_three_prompts() -> pd.DataFrame:
    # 3 prompts × 2 properties; both properties right on prompts 0 and 1, both wrong on prompt 2.
    return scored([("t", str(i), p, i < 2) for i in range(3) for p in ("a", "b")])


def test_perfectly_correlated_properties_by_hand() -> None:
    df = correlated_three_prompts()
    k, n = cluster_sums(df["correct"], cluster_codes(df))
    assert k.tolist() == [2, 2, 0] and n.tolist() == [2, 2, 2]
    # Resampling 3 prompts: the mean is m/3 with m ~ Bin(3, 2/3) prompts of the "right" kind.
    draws = cluster_bootstrap_distribution(k, n, iterations=ITER, seed=0)
    pmf = binom_pmf(3, 2 / 3)  # 1/27, 6/27, 12/27, 8/27
    for m, pm in enumerate(pmf):
        share = float(np.mean(np.isclose(draws, m / 3)))
        assert share == pytest.approx(pm, abs=4 * math.sqrt(pm * (1 - pm) / ITER)), m
    assert np.isin(np.round(draws * 3, 9), [0, 1, 2, 3]).all()  # never a half prompt

    row = accuracy(df, by=None, iterations=ITER).iloc[0]
    assert (row["n"], row["k"], row["n_clusters"]) == (6, 4, 3)
    # Clustered: P(mean = 0) = 1/27 > 2.5%, so the interval reaches 0; P(mean = 1) = 8/27, so it reaches 1.
    assert (row["cluster_low"], row["cluster_high"]) == (0.0, 1.0)
    # Rows as independent: Bin(6, 2/3)/6 has P(≤ 1/6) = 13/729 < 2.5% < P(≤ 2/6), so its interval starts at 1/3.
    assert row["boot_low"] == pytest.approx(1 / 3) and row["boot_high"] == 1.0
    assert row["cluster_high"] - row["cluster_low"] > row["boot_high"] - row["boot_low"]


def test_one_property_per_prompt_is_the_row_bootstrap() -> None:
    # 40 prompts, one row each, 12 right: both bootstraps are Bin(40, 0.3)/40. Quantiles of 20 000 draws sit
    # within one step (1/40) of the exact ones: a step of the CDF there is ≥ 0.01, ~3 SEs of an estimated CDF.
    df = scored([("t", str(i), "p", i < 12) for i in range(40)])
    k, n = cluster_sums(df["correct"], cluster_codes(df))
    draws = cluster_bootstrap_distribution(k, n, iterations=ITER, seed=1)
    for q in (0.025, 0.1, 0.5, 0.9, 0.975):
        assert float(np.quantile(draws, q)) == pytest.approx(binom_quantile(40, 0.3, q), abs=1 / 40 + 1e-9), q
    row = accuracy(df, by=None, iterations=ITER, seed=1).iloc[0]
    assert row["n_clusters"] == 40
    assert row["cluster_low"] == pytest.approx(row["boot_low"], abs=1 / 40 + 1e-9)
    assert row["cluster_high"] == pytest.approx(row["boot_high"], abs=1 / 40 + 1e-9)
    # cluster=None (every row its own cluster) gives the same clusters here, hence the same draws.
    same = accuracy(df, by=None, iterations=ITER, seed=1, cluster=None).iloc[0]
    assert (same["cluster_low"], same["cluster_high"]) == (row["cluster_low"], row["cluster_high"])


def test_row_order_does_not_matter_but_the_cluster_key_does() -> None:
    # 20 prompts × 2 properties. "together": both properties of a prompt agree; "apart": the same 40 rows with
    # property b's values moved to the next prompt, so within a prompt they disagree on half the prompts.
    right = [i % 2 == 0 for i in range(20)]
    together = scored([("t", str(i), p, right[i]) for i in range(20) for p in ("a", "b")])
    apart = scored([("t", str(i), p, right[(i + (p == "b")) % 20]) for i in range(20) for p in ("a", "b")])
    acc_t, acc_a = accuracy(together), accuracy(apart)
    row_level = ["n", "k", "acc", "ci_low", "ci_high", "boot_low", "boot_high", "n_clusters"]
    pd.testing.assert_frame_equal(acc_t[row_level], acc_a[row_level])  # rows alone cannot tell them apart
    avg_t, avg_a = acc_t.iloc[-1], acc_a.iloc[-1]
    assert avg_t["cluster_high"] - avg_t["cluster_low"] > 1.2 * (avg_a["cluster_high"] - avg_a["cluster_low"])

    shuffled = together.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(accuracy(shuffled), acc_t)


def test_item_ids_are_clustered_within_their_task() -> None:
    # Two tasks reuse item ids 0..9; each (task, item_id) is one prompt with one property.
    df = scored([(t, str(i), "p", i < 5) for t in ("t1", "t2") for i in range(10)])
    ours = accuracy(df, by=None, iterations=4000).iloc[0]
    assert ours["n_clusters"] == 20
    renamed = df.assign(item_id=df["task"] + "/" + df["item_id"])  # globally unique ids: same prompts
    pd.testing.assert_frame_equal(
        accuracy(renamed, by=None, iterations=4000), accuracy(df, by=None, iterations=4000)
    )
    # Clustering on item_id alone would merge (t1, i) with (t2, i): 10 perfectly correlated pairs, a wider
    # interval (Bin(10, ½)/10 against Bin(20, ½)/20).
    merged = accuracy(df, by=None, iterations=4000, cluster=("item_id",)).iloc[0]
    assert merged["n_clusters"] == 10
    assert merged["cluster_high"] - merged["cluster_low"] > ours["cluster_high"] - ours["cluster_low"] + 0.05


def test_groups_resample_their_own_prompts() -> None:
    df = correlated_three_prompts()
    table = accuracy(df).set_index("group")
    assert table.loc["a", "n_clusters"] == 3 and table.loc["average", "n_clusters"] == 3
    one = accuracy(df[df["item_id"] == "0"]).set_index("group")
    assert one.loc["a", "n_clusters"] == 1
    assert math.isnan(one.loc["a", "cluster_low"]) and math.isnan(one.loc["a", "cluster_high"])


def test_p_value_null_shift_by_hand() -> None:
    # Clusters of 2 rows with Σ(a − b) = 2, 0, −1: observed diff 1/6. A resample's diff is S/6 with S a sum of
    # 3 draws from {2, 0, −1}; |S/6 − 1/6| ≥ 1/6 unless S = 1, which only the 6 orderings of (2, 0, −1) give.
    d, n = np.array([2.0, 0.0, -1.0]), np.array([2.0, 2.0, 2.0])
    lo, hi, p = cluster_paired_bootstrap(d, n, iterations=ITER, seed=5)
    expected = (1 + ITER * 21 / 27) / (ITER + 1)
    assert p == pytest.approx(expected, abs=4 * math.sqrt((21 / 27) * (6 / 27) / ITER))
    # The same draws, null-shifted by hand: p = (1 + #{|d* − d| ≥ |d|}) / (iterations + 1).
    draws = cluster_bootstrap_distribution(d, n, iterations=ITER, seed=5)
    assert p == (1 + int(np.sum(np.abs(draws - 1 / 6) >= 1 / 6 - 1e-12))) / (ITER + 1)
    assert (lo, hi) == tuple(np.quantile(draws, [0.025, 0.975]))
    assert cluster_paired_bootstrap(np.array([1.0, -1.0]), np.array([1.0, 1.0]))[2] == 1.0  # diff 0: p = 1
    assert all(math.isnan(x) for x in cluster_paired_bootstrap(np.array([1.0]), np.array([2.0])))


def test_correlated_discordance_is_not_significant_once_clustered() -> None:
    # 10 prompts × 3 properties. A is right on every property of prompts 0-6, B on prompts 0-3: the 9 discordant
    # rows are 3 prompts. Rows as independent: McNemar 9 vs 0, p = 2/512.
    a = scored([("t", str(i), p, i < 7) for i in range(10) for p in "xyz"])
    b = scored([("t", str(i), p, i < 4) for i in range(10) for p in "xyz"])
    res = paired_test(a, b, iterations=ITER, seed=2)
    assert (res.n, res.n_clusters, res.a_only, res.b_only) == (30, 10, 9, 0)
    assert res.p_mcnemar == pytest.approx(2 / 2**9)
    # Clustered: diff* = m/10 with m ~ Bin(10, 0.3) discordant prompts drawn; extreme when m = 0 or m ≥ 6.
    pmf = binom_pmf(10, 0.3)
    extreme = pmf[0] + sum(pmf[6:])  # ≈ 0.076, the bootstrap's own p
    # ... but 3 discordant prompts can give no exact p below 2/2³ = 0.25 (sign_flip_floor), which wins
    assert extreme < 0.25 and res.p_cluster == 0.25
    assert res.p_bootstrap < 0.01 < 0.05 < res.p_cluster
    assert res.cluster_ci_high - res.cluster_ci_low > res.ci_high - res.ci_low
    assert res.cluster_ci_low <= res.diff <= res.cluster_ci_high
    table = paired_tests(a, b, iterations=ITER, seed=2).set_index("group")
    assert table.loc["x", "n_clusters"] == 10 and table.loc["average", "p_cluster"] == res.p_cluster


def test_paired_and_unpaired_match_the_row_bootstrap_with_one_row_per_prompt() -> None:
    # Singleton clusters: same law as the row-level bootstraps (within Monte Carlo error of 20 000 draws).
    # Rows: 30 both right, 20 only B, 10 only A, 40 neither.
    a = np.array([1.0] * 30 + [0.0] * 20 + [1.0] * 10 + [0.0] * 40)
    b = np.array([1.0] * 30 + [1.0] * 20 + [0.0] * 10 + [0.0] * 40)
    d, n = a - b, np.ones(100)
    lo, hi, p = cluster_paired_bootstrap(d, n, iterations=ITER, seed=4)
    rlo, rhi, rp = paired_bootstrap(30, 10, 20, 40, iterations=ITER, seed=4)
    assert (lo, hi) == pytest.approx((rlo, rhi), abs=0.011) and p == pytest.approx(rp, abs=0.02)
    ulo, uhi, up = cluster_unpaired_bootstrap(a, np.ones(100), b[:60], np.ones(60), iterations=ITER, seed=4)
    vlo, vhi, vp = unpaired_bootstrap(40, 100, 50, 60, iterations=ITER, seed=4)
    assert (ulo, uhi) == pytest.approx((vlo, vhi), abs=0.015) and up == pytest.approx(vp, abs=0.02)
    assert all(math.isnan(x) for x in cluster_unpaired_bootstrap([1.0], [1.0], b, np.ones(100)))


def test_seeded_and_fast_enough_for_a_real_table() -> None:
    # ~5,000 rows (1,250 prompts × 4 properties) × 1,000 iterations, per group and pooled.
    rng = np.random.default_rng(0)
    rows = [
        (f"t{t}", str(i), f"p{q}", bool(rng.random() < 0.6))
        for t in range(5)
        for i in range(250)
        for q in range(4)
    ]
    df = scored(rows)
    start = time.perf_counter()
    table = accuracy(df)
    k, n = cluster_sums(df["correct"], cluster_codes(df, None))
    cluster_bootstrap_ci(k, n)  # 5,000 singleton clusters
    assert time.perf_counter() - start < 5.0
    assert table["n_clusters"].tolist() == [1250] * 5
    pd.testing.assert_frame_equal(table, accuracy(df))
    assert not table.equals(accuracy(df, seed=43))


def test_a_handful_of_prompts_never_reads_as_significant() -> None:
    """Two prompts, A right and B wrong on both: every resample gives diff = 1, so the null-shifted bootstrap
    alone says p = 1/1001. No exact test on two prompts can go below 2/2² = 0.5 (sign flips), and neither does
    the reported p. With 12 such prompts the floor is 2/2¹² and the bootstrap's own p stands."""
    from inward.metrics._clustered import (
        cluster_paired_bootstrap,
        cluster_unpaired_bootstrap,
        sign_flip_floor,
    )

    _, _, p2 = cluster_paired_bootstrap([1, 1], [1, 1], iterations=1000, seed=0)
    assert p2 == 0.5 == sign_flip_floor(2)
    _, _, p12 = cluster_paired_bootstrap([1] * 12, [1] * 12, iterations=1000, seed=0)
    assert p12 == pytest.approx(1 / 1001) and sign_flip_floor(12) < p12
    assert sign_flip_floor(0) == 1.0
    # Unpaired (entropy-matched): two prompts each side, all right vs all wrong: floor 2 / C(4, 2) = 1/3.
    _, _, pu = cluster_unpaired_bootstrap([1, 1], [1, 1], [0, 0], [1, 1], iterations=1000, seed=0)
    assert pu == pytest.approx(1 / 3)
