"""Power, paper effects, verdicts, seed combination and the calibration MAD difference (`inward.metrics._power`).

Every expected number is worked out by hand in the comments from the small data each test builds.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from inward.metrics import (
    ALPHA,
    PAPER_EFFECTS,
    POWER,
    VERDICT_RULES,
    PaperEffect,
    calibration_mad,
    calibration_points,
    cluster_bootstrap_distribution,
    cluster_se_mean,
    cluster_se_paired,
    cluster_se_unpaired,
    combine_seeds,
    detectable_effect,
    mad_difference,
    paper_effect,
    planned_detectable_effect,
    planned_rows_for,
    seeds_agree,
    verdict,
)
from inward.metrics._power import _binned_mad, _qcut_levels

Z975 = 1.959963984540054
Z80 = 0.8416212335729143


# ---------------------------------------------------------------------------------------------- cluster SEs


def test_cluster_se_paired_by_hand() -> None:
    # Cluster A: a=[1,1] b=[0,1] → D=1, m=2;  B: a=[0] b=[1] → D=−1, m=1;  C: a=[1,1,0] b=[0,0,0] → D=2, m=3.
    # ΣD = 2, Σm = 6, d = 1/3; residuals D − d·m: 1/3, −4/3, 1; squares sum 1/9 + 16/9 + 9/9 = 26/9.
    # SE = sqrt(3/2 · 26/9) / 6 = sqrt(13/3) / 6 = 0.346944…
    a = [1, 1, 0, 1, 1, 0]
    b = [0, 1, 1, 0, 0, 0]
    clusters = [("t", "A"), ("t", "A"), ("t", "B"), ("t", "C"), ("t", "C"), ("t", "C")]
    assert cluster_se_paired(a, b, clusters) == pytest.approx(math.sqrt(13 / 3) / 6)
    # Row order does not matter, and any hashable id works.
    order = [5, 2, 0, 3, 1, 4]
    shuffled = cluster_se_paired(
        [a[i] for i in order], [b[i] for i in order], [clusters[i][1] for i in order]
    )
    assert shuffled == pytest.approx(math.sqrt(13 / 3) / 6)


def test_cluster_se_mean_and_unpaired_by_hand() -> None:
    # A: x=[1,0] → D=1, m=2;  B: [1] → 1, 1;  C: [0,0,0] → 0, 3.  d = 2/6 = 1/3.
    # residuals 1/3, 2/3, −1; squares 1/9 + 4/9 + 9/9 = 14/9; SE = sqrt(3/2 · 14/9)/6 = sqrt(7/3)/6.
    x = [1, 0, 1, 0, 0, 0]
    c = ["A", "A", "B", "C", "C", "C"]
    se = math.sqrt(7 / 3) / 6
    assert cluster_se_mean(x, c) == pytest.approx(se)
    assert cluster_se_unpaired(x, c, x, c) == pytest.approx(math.sqrt(2) * se)
    # the other sample: two clusters [1] and [0] → d = 1/2, residuals ±1/2, SE = sqrt(2 · 1/2)/2 = 1/2
    assert cluster_se_unpaired(x, c, [1, 0], ["p", "q"]) == pytest.approx(math.sqrt(se**2 + 0.25))


def test_one_row_per_cluster_is_the_row_level_se_and_one_cluster_is_nan() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    d = (a - b).astype(float)
    assert cluster_se_paired(a, b, range(50)) == pytest.approx(d.std(ddof=1) / math.sqrt(50))
    assert math.isnan(cluster_se_paired([1, 0, 1], [0, 0, 0], ["p", "p", "p"]))
    assert math.isnan(cluster_se_mean([], []))
    with pytest.raises(ValueError):
        cluster_se_paired([1, 0], [1], ["p", "q"])
    with pytest.raises(ValueError):
        cluster_se_mean([1, 0], ["p"])


def test_analytic_se_matches_the_cluster_bootstrap() -> None:
    # The bootstrap's variance lacks the C/(C−1) factor; with 300 prompts of 1–3 rows the two agree closely.
    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 4, 300)
    clusters = np.repeat(np.arange(300), sizes)
    p = np.repeat(rng.random(300), sizes)  # correlated rows within a prompt
    a = (rng.random(len(clusters)) < p).astype(float)
    b = (rng.random(len(clusters)) < 0.4).astype(float)
    se = cluster_se_paired(a, b, clusters)
    d_c = np.bincount(clusters, weights=a - b)
    draws = cluster_bootstrap_distribution(d_c, sizes.astype(float), iterations=4000, seed=3)
    assert draws.std() * math.sqrt(300 / 299) == pytest.approx(se, rel=0.06)


# ---------------------------------------------------------------------------------------- detectable effects


def test_detectable_effect() -> None:
    assert ALPHA == 0.05 and POWER == 0.8
    assert detectable_effect(1.0) == pytest.approx(2.8016, abs=1e-4)
    assert detectable_effect(0.05) == pytest.approx((Z975 + Z80) * 0.05)
    assert detectable_effect(0.01, power=0.5) == pytest.approx(Z975 * 0.01)  # z_0.5 = 0
    assert math.isnan(detectable_effect(math.nan))


def test_planned_detectable_effect_by_hand() -> None:
    # 400 rows on 100 prompts: m = 4, deff = 1 + 3·0.5 = 2.5; var = 0.25 + 0.25 = 0.5;
    # SE = sqrt(0.5·2.5/400) = 0.0559017; MDE = 2.801585 · 0.0559017 = 0.156614.
    assert planned_detectable_effect(400, 100) == pytest.approx(2.801585 * math.sqrt(0.5 * 2.5 / 400))
    assert planned_detectable_effect(400, 100) == pytest.approx(0.156614, abs=1e-6)
    # ρ = 0.5, one row per prompt: var = 0.5 − 2·0.5·0.5·0.5 = 0.25, deff = 1; SE = 0.05; MDE = 0.140079.
    assert planned_detectable_effect(100, 100, pair_correlation=0.5) == pytest.approx(0.140079, abs=1e-6)
    # p_a = 0.8, p_b = 0.6, ρ = 0, icc = 0: var = 0.16 + 0.24 = 0.4, SE = sqrt(0.4/1000) = 0.02
    assert planned_detectable_effect(1000, 10, p_a=0.8, p_b=0.6, icc=0.0) == pytest.approx(2.801585 * 0.02)
    for bad in [(0, 1), (10, 0), (10, 11)]:
        with pytest.raises(ValueError):
            planned_detectable_effect(*bad)
    with pytest.raises(ValueError):
        planned_detectable_effect(10, 5, icc=1.5)
    with pytest.raises(ValueError):
        planned_detectable_effect(10, 5, pair_correlation=-2)


def test_planned_rows_for_by_hand() -> None:
    # r = 1, ρ = 0.5, icc = 0: var = 0.25; C ≥ 2.801585²·0.25/0.15² = 87.2 → 88 (MDE 0.14933; 87 gives 0.15018).
    assert planned_rows_for(0.15, 1, pair_correlation=0.5, icc=0.0) == (88, 88)
    # r = 3, defaults: var = 0.5, deff = 2; C ≥ 2.801585²·0.5·2/(3·0.1²) = 261.6 → 262 prompts, 786 rows.
    assert planned_rows_for(0.1, 3) == (786, 262)
    assert planned_detectable_effect(786, 262) <= 0.1 < planned_detectable_effect(783, 261)
    # A fractional mean of rows per prompt: n_rows = ceil(C·2.5); the answer is minimal.
    rows, c = planned_rows_for(0.08, 2.5)
    assert rows == math.ceil(c * 2.5)
    assert (
        planned_detectable_effect(rows, c)
        <= 0.08
        < planned_detectable_effect(math.ceil((c - 1) * 2.5), c - 1)
    )
    assert planned_rows_for(5.0, 3) == (6, 2)  # never fewer than two prompts
    with pytest.raises(ValueError):
        planned_rows_for(0.0, 3)
    with pytest.raises(ValueError):
        planned_rows_for(0.1, 0.5)


# -------------------------------------------------------------------------------------------- paper effects


def test_paper_effects_match_spec_section_15() -> None:
    expected = {
        "self_training": 0.494 - 0.326,  # GPT-4o, Fig. 4
        "self_vs_cross": 0.17,  # Llama 48.5 vs GPT-4o 31.8 (16.7 pp), quoted as +17 pp
        "behaviour_change": 0.354 - 0.217,
        "behaviour_change_entropy": 0.363 - 0.213,
        "calibration.second_character": ((21.3 - 8.7) + (20.9 - 12.5)) / 2,  # 12.6, 8.4
        "calibration.first_word": ((24.0 - 3.1) + (22.7 - 6.2)) / 2,  # 20.9, 16.5
        "calibration.ethical_stance": ((19.5 - 25.3) + (42.4 - 6.9)) / 2,  # −5.8, 35.5
        "calibration.among_a_or_c": ((17.0 - 12.9) + (18.0 - 11.9)) / 2,  # 4.1, 6.1
    }
    assert set(PAPER_EFFECTS) == set(expected)
    for key, value in expected.items():
        eff = PAPER_EFFECTS[key]
        assert isinstance(eff, PaperEffect)
        assert eff.value == pytest.approx(value, abs=1e-9), key
        assert eff.value > 0 and "SPEC §15" in eff.source
        assert eff.unit == ("MAD points" if key.startswith("calibration") else "proportion")
    with pytest.raises(AttributeError):
        PAPER_EFFECTS["self_training"].value = 1.0  # type: ignore[misc]


def test_paper_effect_lookup() -> None:
    assert paper_effect("self_training") is PAPER_EFFECTS["self_training"]
    assert paper_effect("calibration", "first_word").value == 18.7
    assert paper_effect("calibration.ethical_stance").value == 14.85
    assert paper_effect("calibration", "among_b_or_d").value == 5.1  # same reporting group as among_a_or_c
    # Unknown panel or none: mean of 10.5, 18.7, 14.85, 5.1 = 49.15/4 = 12.2875, and the source says so.
    for prop in (None, "is_even"):
        eff = paper_effect("calibration", prop)
        assert eff.value == pytest.approx(12.2875)
        assert eff.unit == "MAD points" and "mean of the four" in eff.source
    assert "'is_even'" in paper_effect("calibration", "is_even").source
    per_prop = paper_effect("behaviour_change", "first_word")
    assert per_prop.value == 0.137 and "'first_word'" in per_prop.source
    with pytest.raises(KeyError):
        paper_effect("are_you_sure")


# ------------------------------------------------------------------------------------------------- verdicts


def test_verdict_branches() -> None:
    assert set(VERDICT_RULES) == {"supports", "contradicts", "inconclusive", "underpowered"}
    assert all(isinstance(t, str) and t.endswith(".") for t in VERDICT_RULES.values())
    paper = 0.17
    assert verdict(0.10, 0.02, 0.18, 0.30, paper) == "supports"  # ci_low > 0 wins even when underpowered
    assert verdict(0.05, 0.01, 0.09, 0.05, paper) == "supports"  # significant though smaller than the paper
    assert verdict(0.05, 0.01, 0.09, 0.05, paper, p=0.01) == "supports"
    # an interval above zero with a p-value the exact floor keeps at 0.125 (7 informative prompts) is no support
    assert verdict(0.57, 0.50, 0.80, 0.10, paper, p=0.125) == "inconclusive"
    assert verdict(0.57, 0.50, 0.80, 0.30, paper, p=0.125) == "underpowered"
    assert verdict(0.00, -0.05, 0.05, 0.10, paper) == "contradicts"  # interval below the paper's effect
    assert verdict(-0.10, -0.15, -0.05, 0.10, paper) == "contradicts"  # significant, wrong direction
    assert verdict(0.00, -0.05, 0.05, 0.30, paper) == "contradicts"  # rules out the paper even if mde large
    assert verdict(0.05, -0.10, 0.20, 0.20, paper) == "underpowered"
    assert verdict(0.05, -0.02, 0.20, 0.10, paper) == "inconclusive"
    # boundaries: strict inequalities
    assert verdict(0.05, 0.0, 0.20, 0.10, paper) == "inconclusive"
    assert verdict(0.05, -0.02, paper, 0.10, paper) == "inconclusive"
    assert verdict(0.05, -0.02, 0.20, paper, paper) == "inconclusive"


def test_verdict_with_missing_values() -> None:
    nan = math.nan
    assert verdict(nan, nan, nan, 0.30, 0.17) == "underpowered"  # no interval, mde known and large
    assert verdict(None, None, None, 0.10, 0.17) == "inconclusive"
    assert verdict(None, None, None, None, 0.17) == "inconclusive"
    assert verdict(0.05, nan, 0.10, nan, 0.17) == "contradicts"  # a known upper end still rules it out
    assert verdict(nan, 0.02, 0.10, 0.05, 0.17) == "inconclusive"  # no effect = no measurement
    assert verdict(0.1, 0.02, 0.18, 0.05, None) == "supports"  # no paper effect: only "supports" reachable
    assert verdict(0.0, -0.1, 0.1, 0.50, nan) == "inconclusive"
    with pytest.raises(ValueError):
        verdict(0.1, 0.0, 0.2, 0.1, -0.05)


# ---------------------------------------------------------------------------------------------------- seeds


def test_combine_one_seed_is_the_single_seed_result() -> None:
    # mean 0.1, sd 0, SE 0.03; CI 0.1 ± 1.959964·0.03 = (0.041201, 0.158799); z = 3.3333, p = erfc(z/√2).
    c = combine_seeds([0.1], [0.03])
    assert (c.mean, c.sd, c.min, c.max, c.n_seeds) == (0.1, 0.0, 0.1, 0.1, 1)
    assert c.se == pytest.approx(0.03)
    assert (c.ci_low, c.ci_high) == pytest.approx((0.041201, 0.158799), abs=1e-6)
    assert c.p == pytest.approx(math.erfc((0.1 / 0.03) / math.sqrt(2)))
    assert c.p == pytest.approx(8.58e-4, abs=1e-6)


def test_combine_three_seeds_by_hand() -> None:
    # mean 0.13; deviations −0.03, 0.03, 0 → sd² = 0.0018/2 = 0.0009, sd = 0.03.
    # mean(se²) = (0.0009 + 0.0016 + 0.0025)/3 = 0.0016667; sd²/S = 0.0003 → SE = sqrt(0.0019667) = 0.044347.
    c = combine_seeds([0.10, 0.16, 0.13], [0.03, 0.04, 0.05])
    se = math.sqrt(0.005 / 3 + 0.0009 / 3)
    assert c.mean == pytest.approx(0.13) and c.sd == pytest.approx(0.03)
    assert (c.min, c.max, c.n_seeds) == (0.10, 0.16, 3)
    assert c.se == pytest.approx(se) and c.se == pytest.approx(0.044347, abs=1e-6)
    assert (c.ci_low, c.ci_high) == pytest.approx((0.13 - Z975 * se, 0.13 + Z975 * se))
    assert c.p == pytest.approx(math.erfc(0.13 / se / math.sqrt(2)))
    assert c.as_dict()["n_seeds"] == 3
    assert combine_seeds([0.0, 0.0], [0.0, 0.0]).p == 1.0
    with pytest.raises(ValueError):
        combine_seeds([0.1, 0.2], [0.03])
    with pytest.raises(ValueError):
        combine_seeds([], [])


def test_seeds_agree() -> None:
    assert seeds_agree(["supports", "supports", "supports"])
    assert seeds_agree(v for v in ["underpowered"])
    assert not seeds_agree(["supports", "inconclusive"])
    assert not seeds_agree([])


# ---------------------------------------------------------------------------------------------- calibration


def shifted_toy(n: int = 12) -> tuple[dict, dict, dict]:
    """n prompts with two properties each; object = self exactly; cross puts 0.1 less on every top value."""
    obj, self_hypothetical, cross_hypothetical = {}, {}, {}
    for i in range(n):
        for prop, (pa, pb) in {
            "first_word": (0.5 + 0.02 * i, 0.2),
            "second_character": (0.9 - 0.05 * i, 0.1),
        }.items():
            key = ("task", f"id{i}", prop)
            obj[key] = {"a": pa, "b": pb}
            self_hypothetical[key] = {"a": pa, "b": pb}
            cross_hypothetical[key] = {"a": pa - 0.1, "b": pb - 0.1}
    return obj, self_hypothetical, cross_hypothetical


def test_mad_difference_self_exact_cross_off_by_ten_points() -> None:
    # Every point of every bin is 0.1 too low under cross, so each bin's |mean x − mean y| = 0.1: MAD = 10
    # in the data and in every resample; self is exact: MAD 0.
    obj, self_hypothetical, cross_hypothetical = shifted_toy()
    r = mad_difference(obj, self_hypothetical, cross_hypothetical, n_boot=200)
    assert r.mad_self == pytest.approx(0.0, abs=1e-9)
    assert r.mad_cross == pytest.approx(10.0)
    assert r.diff == pytest.approx(10.0)
    assert (r.ci_low, r.ci_high) == pytest.approx((10.0, 10.0))
    assert r.se == pytest.approx(0.0, abs=1e-9)
    assert r.p == pytest.approx(1 / 201)  # no draw is as far from 10 as 10 is from 0
    assert (r.n_prompts, r.n_points, r.n_boot) == (12, 48, 200)


def random_dists(n: int, seed: int, props: tuple[str, ...] = ("p",)) -> tuple[dict, dict, dict]:
    """Tie-heavy distributions (multiples of 0.05, as from 20 samples) over values a–d."""
    rng = np.random.default_rng(seed)

    def dist() -> dict[str, float]:
        counts = rng.multinomial(20, rng.dirichlet([1.0] * 4))
        return {v: c / 20 for v, c in zip("abcd", counts, strict=True) if c}

    keys = [("t", i, p) for i in range(n) for p in props]
    return tuple({k: dist() for k in keys} for _ in range(3))  # type: ignore[return-value]


def test_swapping_self_and_cross_flips_the_sign() -> None:
    obj, s, c = random_dists(30, seed=5)
    r = mad_difference(obj, s, c, n_boot=300, seed=2)
    q = mad_difference(obj, c, s, n_boot=300, seed=2)
    assert (q.mad_self, q.mad_cross) == (r.mad_cross, r.mad_self)
    assert q.diff == pytest.approx(-r.diff) and r.diff != 0
    assert (q.ci_low, q.ci_high) == pytest.approx((-r.ci_high, -r.ci_low))
    assert (q.se, q.p) == pytest.approx((r.se, r.p))
    assert r.se > 0 and r.ci_low < r.diff < r.ci_high


def test_only_prompts_in_all_three_dicts_and_dropping_one_changes_the_result() -> None:
    obj, s, c = random_dists(30, seed=11)
    full = mad_difference(obj, s, c, n_boot=300)
    drop = ("t", 4, "p")
    without = mad_difference(obj, {k: v for k, v in s.items() if k != drop}, c, n_boot=300)
    assert without.n_prompts == full.n_prompts - 1
    assert (without.mad_self, without.diff, without.ci_low) != (full.mad_self, full.diff, full.ci_low)
    # missing from one dict = dropped from all three
    everywhere = mad_difference(*({k: v for k, v in d.items() if k != drop} for d in (obj, s, c)), n_boot=300)
    assert everywhere == without


def test_observed_mads_are_the_calibration_functions() -> None:
    obj, s, c = random_dists(25, seed=3, props=("p", "q"))
    r = mad_difference(obj, s, c, n_boot=10)
    assert r.mad_self == calibration_mad(calibration_points(obj, s))
    assert r.mad_cross == calibration_mad(calibration_points(obj, c))
    assert r.n_prompts == 25  # two properties of one prompt are one cluster


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_bootstrap_draw_counts_a_duplicated_prompt_twice(seed: int) -> None:
    """With n_boot = 1 the interval is the single draw. Rebuild that draw's resample as mappings holding each
    drawn prompt under a distinct key (a copy index appended) and score it with the existing functions."""
    obj, s, c = random_dists(15, seed=seed + 20, props=("p", "q"))
    r = mad_difference(obj, s, c, n_boot=1, seed=seed)
    prompts = sorted({k[:2] for k in obj}, key=lambda p: tuple(str(x) for x in p))
    drawn = np.random.default_rng(seed).integers(0, len(prompts), size=len(prompts))
    assert len(set(drawn.tolist())) < len(drawn)  # some prompt is drawn more than once

    def resampled(d: dict) -> dict:
        return {(*k, j): d[k] for j, i in enumerate(drawn) for k in d if k[:2] == prompts[i]}

    ro, rs, rc = resampled(obj), resampled(s), resampled(c)
    by_hand = calibration_mad(calibration_points(ro, rc)) - calibration_mad(calibration_points(ro, rs))
    assert r.ci_low == pytest.approx(by_hand, abs=1e-9) and r.ci_high == r.ci_low
    assert math.isnan(r.se)


def test_fast_binning_equals_calibration_mad_on_ties() -> None:
    rng = np.random.default_rng(0)
    levels = _qcut_levels(10)
    for n in (2, 3, 7, 30, 120):
        for _ in range(20):
            x = rng.integers(0, 21, n) / 20  # heavy ties
            y = rng.integers(0, 21, n) / 20
            pts = {"key": range(n), "value": "v", "rank": 1, "object_prob": x, "hypothetical_prob": y}
            assert _binned_mad(x, y, levels) == pytest.approx(calibration_mad(pd.DataFrame(pts)), abs=1e-9)


def test_mad_difference_small_inputs_and_speed() -> None:
    obj, s, c = random_dists(1, seed=0)
    one = mad_difference(obj, s, c)
    assert one.n_prompts == 1 and math.isnan(one.se) and math.isnan(one.p) and not math.isnan(one.diff)
    empty = mad_difference({}, {}, {})
    assert empty.n_prompts == 0 and math.isnan(empty.diff)
    with pytest.raises(TypeError):
        mad_difference({"k": {"a": 1.0}}, {"k": {"a": 1.0}}, {"k": {"a": 1.0}})
    obj, s, c = random_dists(40, seed=9)
    t = time.perf_counter()
    mad_difference(obj, s, c, n_boot=2000)
    assert time.perf_counter() - t < 10  # ≈ 0.5 s on one core; the bound only catches a regression to pandas
