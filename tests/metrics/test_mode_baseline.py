"""The mode baseline (SPEC §10.2), hand-computed."""

from __future__ import annotations

import pandas as pd
import pytest

from inward.metrics import mode_baseline, mode_of, modes


def table() -> pd.DataFrame:
    rows = [
        ("animals", "first_word", "cat"),
        ("animals", "first_word", "cat"),
        ("animals", "first_word", "dog"),
        ("animals", "first_word", "bird"),
        ("words", "first_word", "y"),  # tie between x and y → x (smallest)
        ("words", "first_word", "x"),
        ("animals", "second_character", "a"),
        ("animals", "second_character", "a"),
        ("animals", "second_character", "a"),
    ]
    df = pd.DataFrame(rows, columns=["task", "property", "object_value"])
    df["item_id"] = [str(i) for i in range(len(df))]
    df["group"] = df["property"]
    return df


def test_modes_per_task_and_property() -> None:
    m = modes(table())
    assert m[["task", "property", "mode", "count", "n"]].values.tolist() == [
        ["animals", "first_word", "cat", 2, 4],
        ["animals", "second_character", "a", 3, 3],
        ["words", "first_word", "x", 1, 2],
    ]


def test_mode_baseline_by_hand() -> None:
    base = mode_baseline(table()).set_index("group")
    # first_word: cat (2 of 4) + x (1 of 2) = 3 of 6; second_character 3 of 3; average 6 of 9.
    assert base.loc["first_word", ["n", "k"]].tolist() == [6, 3]
    assert base.loc["first_word", "acc"] == pytest.approx(0.5)
    assert base.loc["second_character", "acc"] == pytest.approx(1.0)
    assert base.loc["average", "acc"] == pytest.approx(6 / 9)


def test_ties_do_not_depend_on_row_order() -> None:
    df = table()
    shuffled = df.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(mode_baseline(df), mode_baseline(shuffled))
    assert mode_of(["b", "a", "b", "a"]) == ("a", 2)
    assert mode_of([]) == (None, 0)


def test_paper_quirk_recomputes_the_mode_over_each_reported_group() -> None:
    base = mode_baseline(table(), recompute_per_group=True).set_index("group")
    # first_word pooled over both tasks: cat 2 of 6; average pooled over everything: a 3 of 9.
    assert base.loc["first_word", "acc"] == pytest.approx(2 / 6)
    assert base.loc["average", "acc"] == pytest.approx(3 / 9)


def test_values_are_counted_as_scoring_compares_them() -> None:
    # Scoring compares lower-cased, stripped values, so "Cat", "cat" and "cat " are one value.
    values = ["Cat", "cat", "cat ", "dog", "dog"]
    df = pd.DataFrame(
        {
            "task": "animals",
            "item_id": [str(i) for i in range(5)],
            "property": "first_word",
            "group": "first_word",
            "object_value": values,
        }
    )
    # Raw strings: dog (2) beats Cat, cat, "cat " (1 each) → 2 of 5. Normalised: cat (3) → 3 of 5.
    assert mode_of(values) == ("cat", 3)
    m = modes(df)
    assert m[["mode", "count", "n"]].values.tolist() == [["cat", 3, 5]]
    base = mode_baseline(df).set_index("group")
    assert base.loc["first_word", ["n", "k"]].tolist() == [5, 3]
    assert base.loc["first_word", "acc"] == pytest.approx(3 / 5)
    pooled = mode_baseline(df, recompute_per_group=True).set_index("group")
    assert pooled.loc["average", "k"] == 3
