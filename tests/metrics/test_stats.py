"""McNemar and paired comparisons (self vs cross on the same prompts)."""

from __future__ import annotations

import math
import sys

import pandas as pd
import pytest

from inward.metrics import mcnemar_exact, paired_bootstrap, paired_test, paired_tests, sem_ci, wilson_ci


def scored_table(rows: list[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    """(task, item_id, property, group, correct) rows → a minimal scored table."""
    return pd.DataFrame(rows, columns=["task", "item_id", "property", "group", "correct"])


def exact_two_sided(a_only: int, b_only: int) -> float:
    """The exact McNemar p-value by its definition: 2·P(X ≤ min) for X ~ Bin(a + b, 1/2), capped at 1."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1))
    return min(1.0, 2 * tail / 2**n)


@pytest.fixture(params=["scipy", "pure-python"])
def mcnemar_branch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with scipy's binomtest (skipped without scipy) and once with the integer fallback."""
    if request.param == "scipy":
        pytest.importorskip("scipy.stats")
    else:
        monkeypatch.setitem(sys.modules, "scipy.stats", None)  # makes `from scipy.stats import …` fail
    return str(request.param)


@pytest.mark.parametrize(
    ("a_only", "b_only", "expected"),
    [
        (10, 3, 2 * (1 + 13 + 78 + 286) / 2**13),  # 2·P(X ≤ 3 | n=13) = 756/8192
        (3, 10, 2 * (1 + 13 + 78 + 286) / 2**13),  # symmetric
        (1, 5, 2 * (1 + 6) / 2**6),  # 2·P(X ≤ 1 | n=6) = 14/64
        (0, 6, 2 / 2**6),
        (6, 0, 2 / 2**6),
        (3, 3, 1.0),  # 2·P(X ≤ 3 | n=6) = 2·42/64 > 1: capped
        (0, 0, 1.0),
        (2, 8, 2 * (1 + 10 + 45) / 2**10),
    ],
)
def test_mcnemar_exact_by_hand(mcnemar_branch: str, a_only: int, b_only: int, expected: float) -> None:
    assert exact_two_sided(a_only, b_only) == pytest.approx(expected, rel=1e-12)  # the helper is right…
    assert mcnemar_exact(a_only, b_only) == pytest.approx(expected, rel=1e-9)  # …and so is the function


@pytest.mark.parametrize(("a_only", "b_only"), [(40, 61), (500, 430), (17, 17), (0, 25)])
def test_mcnemar_exact_matches_the_binomial_definition(mcnemar_branch: str, a_only: int, b_only: int) -> None:
    assert mcnemar_exact(a_only, b_only) == pytest.approx(exact_two_sided(a_only, b_only), rel=1e-9)


def test_paired_test_by_hand() -> None:
    # 8 prompts. A right on 1-6, B right on 1,2,7: both=2, A only=4, B only=1, neither=1.
    a = scored_table([("t", str(i), "p", "g", i <= 6) for i in range(1, 9)])
    b = scored_table([("t", str(i), "p", "g", i in (1, 2, 7)) for i in range(1, 9)])
    res = paired_test(a, b, seed=3)
    assert (res.n, res.a_only, res.b_only) == (8, 4, 1)
    assert res.acc_a == pytest.approx(6 / 8)
    assert res.acc_b == pytest.approx(3 / 8)
    assert res.diff == pytest.approx(3 / 8)
    assert res.p_mcnemar == pytest.approx(2 * (1 + 5) / 2**5)  # 12/32
    assert res.ci_low <= res.diff <= res.ci_high
    assert res == paired_test(a, b, seed=3)


def test_paired_test_aligns_on_keys_not_row_order() -> None:
    a = scored_table([("t", str(i), "p", "g", True) for i in range(5)])
    b = scored_table([("t", str(i), "p", "g", i != 2) for i in reversed(range(6))])  # extra key 5 is ignored
    res = paired_test(a, b)
    assert (res.n, res.a_only, res.b_only) == (5, 1, 0)


def test_paired_bootstrap_detects_a_clear_difference_and_not_a_null_one() -> None:
    lo, hi, p = paired_bootstrap(200, 150, 20, 130, seed=0)
    assert 0 < lo < (150 - 20) / 500 < hi
    assert p < 0.01
    lo, hi, p = paired_bootstrap(200, 50, 50, 200, seed=0)
    assert lo < 0 < hi
    assert p > 0.5


def test_paired_tests_per_group_and_average() -> None:
    a = scored_table([("t", str(i), "p", "g1" if i < 4 else "g2", True) for i in range(8)])
    b = scored_table([("t", str(i), "p", "g1" if i < 4 else "g2", i % 2 == 0) for i in range(8)])
    table = paired_tests(a, b).set_index("group")
    assert table.loc["g1", "a_only"] == 2
    assert table.loc["average", "a_only"] == 4
    assert table.loc["average", "diff"] == pytest.approx(0.5)
    assert table.loc["average", "p_mcnemar"] == pytest.approx(2 / 2**4)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # By hand: centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
        (40, 100, 0.309401, 0.497997),
        (0, 7, 0.0, 0.354330),
        (7, 7, 0.645670, 1.0),
        (3, 10, 0.107791, 0.603222),
    ],
)
def test_wilson_interval_by_hand(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_ci(k, n)
    assert lo == pytest.approx(low, abs=1e-6) and hi == pytest.approx(high, abs=1e-6)


def test_wilson_does_not_collapse_where_the_paper_interval_does() -> None:
    assert sem_ci(0, 7) == (0.0, 0.0)  # ±1.96·SEM at 0 of 7: a point
    lo, hi = wilson_ci(0, 7)
    assert lo == 0.0 and hi > 0.3
    assert all(math.isnan(b) for b in wilson_ci(0, 0))  # no rows, no interval
