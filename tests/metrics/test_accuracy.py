"""Accuracy tables: micro-average, SEM and bootstrap CIs, compliance rates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from inward.metrics import accuracy, compliance_rates


def scored_table(rows: list[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    """(task, item_id, property, group, correct) rows → a minimal scored table."""
    return pd.DataFrame(rows, columns=["task", "item_id", "property", "group", "correct"])


def unbalanced() -> pd.DataFrame:
    # first_word: 10 rows, 9 correct; ethical_stance: 2 rows, 0 correct.
    rows = [("animals", str(i), "first_word", "first_word", i < 9) for i in range(10)]
    rows += [("myopic", str(i), "matches_myopic_reward", "ethical_stance", False) for i in range(2)]
    return scored_table(rows)


def test_average_is_the_micro_average_not_the_mean_of_groups() -> None:
    table = accuracy(unbalanced()).set_index("group")
    assert table.loc["first_word", "acc"] == pytest.approx(0.9)
    assert table.loc["ethical_stance", "acc"] == pytest.approx(0.0)
    macro = (0.9 + 0.0) / 2
    assert table.loc["average", "acc"] == pytest.approx(9 / 12)  # 0.75
    assert table.loc["average", "acc"] != pytest.approx(macro)  # 0.45
    assert table.loc["average", ["n", "k"]].tolist() == [12, 9]
    assert list(table.index) == ["ethical_stance", "first_word", "average"]


def test_sem_ci_by_hand() -> None:
    table = accuracy(unbalanced()).set_index("group")
    # p = 0.9, n = 10: SEM = sqrt(0.9·0.1 / 9) = 0.1 (sample std, ddof=1)
    assert table.loc["first_word", "sem"] == pytest.approx(0.1)
    assert table.loc["first_word", "ci_low"] == pytest.approx(0.9 - 1.96 * 0.1, abs=1e-4)
    assert table.loc["first_word", "ci_high"] == pytest.approx(0.9 + 1.96 * 0.1, abs=1e-4)
    vec = np.array([1] * 9 + [0] * 3, dtype=float)
    assert table.loc["average", "sem"] == pytest.approx(vec.std(ddof=1) / math.sqrt(12))


def test_bootstrap_ci_is_seeded_and_deterministic() -> None:
    df = unbalanced()
    a = accuracy(df, seed=7)
    b = accuracy(df, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = accuracy(df, by=None, seed=8, iterations=5000)
    row = c.iloc[0]
    assert row["boot_low"] < 0.75 < row["boot_high"]
    assert row["boot_high"] - row["boot_low"] == pytest.approx(
        2 * 1.96 * math.sqrt(0.75 * 0.25 / 12), abs=0.12
    )


def test_bootstrap_matches_resampling_rows() -> None:
    # The binomial shortcut must give the same distribution as resampling the 0/1 vector itself.
    rng = np.random.default_rng(0)
    vec = (rng.random(300) < 0.3).astype(int)
    df = scored_table([("t", str(i), "p", "g", bool(v)) for i, v in enumerate(vec)])
    ours = accuracy(df, by=None, iterations=4000, seed=1).iloc[0]
    means = vec[rng.integers(0, len(vec), size=(4000, len(vec)))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert ours["boot_low"] == pytest.approx(lo, abs=0.01)
    assert ours["boot_high"] == pytest.approx(hi, abs=0.01)


def test_accuracy_by_several_columns_without_average() -> None:
    df = unbalanced()
    table = accuracy(df, by=("task", "property"), average=False)
    assert table[["task", "property", "n", "k"]].values.tolist() == [
        ["animals", "first_word", 10, 9],
        ["myopic", "matches_myopic_reward", 2, 0],
    ]


def test_compliance_rates_count_each_rule() -> None:
    df = pd.DataFrame(
        {
            "group": ["first_word"] * 4 + ["ethical_stance"] * 2,
            "hypothetical_compliance": [None, "single_word", "default", "single_word", None, None],
        }
    )
    table = compliance_rates(df).set_index("group")
    assert table.loc["first_word", ["n", "n_compliant", "single_word", "default"]].tolist() == [4, 1, 2, 1]
    assert table.loc["first_word", "rate"] == pytest.approx(0.25)
    assert table.loc["ethical_stance", "rate"] == pytest.approx(1.0)
    assert table.loc["ethical_stance", "single_word"] == 0
    assert table.loc["average", "rate"] == pytest.approx(3 / 6)
