"""Entropy / mode-collapse control (SPEC §13)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from inward.metrics import entropy, entropy_match, entropy_table, mode_baseline


def cond(values: dict[str, str], task: str = "animals", prop: str = "first_word") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": task,
            "item_id": list(values),
            "property": prop,
            "group": prop,
            "object_value": list(values.values()),
        }
    )


def histograms(df: pd.DataFrame) -> dict[tuple[str, str], Counter[str]]:
    return {k: Counter(sub["object_value"]) for k, sub in df.groupby(["task", "property"])}


def test_entropy_by_hand() -> None:
    assert entropy(["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert entropy(["a", "b", "c", "d"]) == pytest.approx(2.0)
    assert entropy(["a", "a", "b"]) == pytest.approx(-(2 / 3) * np.log2(2 / 3) - (1 / 3) * np.log2(1 / 3))
    assert entropy([]) == 0.0
    t = entropy_table(cond({"1": "a", "2": "b"}))
    assert t[["entropy", "n_values", "n"]].values.tolist() == [[1.0, 2, 2]]


def test_match_by_hand() -> None:
    c1 = cond({"p1": "a", "p2": "a", "p3": "a", "p4": "b", "p5": "b", "p6": "c"})
    c2 = cond({"p1": "a", "p2": "b", "p3": "b", "p4": "b", "p5": "c", "p6": "c", "p7": "a"})  # p7 not in c1
    m1, m2 = entropy_match(c1, c2)
    # counts after intersecting: c1 a3 b2 c1; c2 a1 b3 c2 → keep a1 b2 c1 in both
    assert histograms(m1) == histograms(m2) == {("animals", "first_word"): Counter({"b": 2, "a": 1, "c": 1})}
    assert "p7" not in set(m2["item_id"])
    assert set(m1.loc[m1["object_value"] == "b", "item_id"]) == {"p4", "p5"}  # all of c1's b rows
    again1, again2 = entropy_match(c1.iloc[::-1], c2.sample(frac=1.0, random_state=1))
    pd.testing.assert_frame_equal(m1, again1)
    pd.testing.assert_frame_equal(m2, again2)


def test_top_limits_the_values_kept() -> None:
    c1 = cond({"p1": "a", "p2": "a", "p3": "b", "p4": "c"})
    c2 = cond({"p1": "a", "p2": "b", "p3": "b", "p4": "c"})
    m1, m2 = entropy_match(c1, c2, top=1)
    assert histograms(m1) == histograms(m2) == {("animals", "first_word"): Counter({"a": 1})}


def test_random_tables_get_identical_histograms_entropy_and_mode_baseline() -> None:
    rng = np.random.default_rng(0)
    frames1, frames2 = [], []
    for task, prop in [("animals", "first_word"), ("animals", "second_character"), ("stories", "first_word")]:
        ids = [f"{task}-{i}" for i in range(300)]
        # condition 2 is "mode-collapsed": much lower entropy than condition 1
        v1 = rng.choice(list("abcdefgh"), size=300)
        v2 = rng.choice(list("abcdefgh"), size=300, p=[0.65, 0.2, 0.05, 0.04, 0.03, 0.01, 0.01, 0.01])
        frames1.append(cond(dict(zip(ids[:280], v1[:280], strict=True)), task, prop))
        frames2.append(cond(dict(zip(ids[20:], v2[20:], strict=True)), task, prop))
    c1, c2 = pd.concat(frames1), pd.concat(frames2)
    m1, m2 = entropy_match(c1, c2, seed=5)
    assert histograms(m1) == histograms(m2)
    assert len(m1) > 100
    pd.testing.assert_frame_equal(entropy_table(m1), entropy_table(m2))
    pd.testing.assert_frame_equal(mode_baseline(m1), mode_baseline(m2))
    assert not entropy_table(c1)["entropy"].equals(entropy_table(c2)["entropy"])
    other1, _ = entropy_match(c1, c2, seed=6)
    assert histograms(other1) == histograms(m1)
    assert set(other1["item_id"]) != set(m1["item_id"])  # the seed picks which rows


def among(values: dict[tuple[str, str], str]) -> pd.DataFrame:
    """One mmlu table: (item, property) → value; both option properties report as among_options."""
    return pd.DataFrame(
        [("mmlu", i, p, "among_options", v) for (i, p), v in values.items()],
        columns=["task", "item_id", "property", "group", "object_value"],
    )


AC, BD = "among_a_or_c", "among_b_or_d"
# a_or_c: condition 1 true×3 false×1, condition 2 true×1 false×3; b_or_d the other way round.
C1 = among(
    {
        **{(i, AC): v for i, v in zip("1234", ["true", "true", "true", "false"], strict=True)},
        **{(i, BD): v for i, v in zip("1234", ["false", "false", "false", "true"], strict=True)},
    }
)
C2 = among(
    {
        **{(i, AC): v for i, v in zip("1234", ["false", "false", "false", "true"], strict=True)},
        **{(i, BD): v for i, v in zip("1234", ["true", "true", "true", "false"], strict=True)},
    }
)


def test_matching_is_per_task_and_reporting_group_like_the_paper() -> None:
    # Pooled as among_options: both conditions hold true×4 false×4, so all 8 rows of each are kept.
    m1, m2 = entropy_match(C1, C2)
    assert len(m1) == len(m2) == 8
    assert Counter(m1["object_value"]) == Counter(m2["object_value"]) == Counter({"true": 4, "false": 4})
    # One item's two properties sit in the same group; rows stay unique by (task, item_id, property).
    assert not m1.duplicated(["task", "item_id", "property"]).any()
    assert set(m1.loc[m1["item_id"] == "1", "property"]) == {AC, BD}
    # Per property (the old grouping): a_or_c keeps min(3,1) true + min(1,3) false = 2, b_or_d 2 → 4 rows.
    p1, p2 = entropy_match(C1, C2, by=("task", "property"))
    assert len(p1) == len(p2) == 4
    assert histograms(p1) == histograms(p2)


def test_group_comes_from_the_property_when_the_table_has_none() -> None:
    m1, m2 = entropy_match(C1.drop(columns="group"), C2.drop(columns="group"))
    assert len(m1) == len(m2) == 8
    assert "group" not in m1.columns


def test_values_are_matched_after_lower_strip() -> None:
    c1 = cond({"p1": "Cat", "p2": "dog"})
    c2 = cond({"p1": "cat ", "p2": "cat"})
    m1, m2 = entropy_match(c1, c2)
    # cat: 1 in c1, 2 in c2 → one row each; dog has no partner. Raw strings would match nothing.
    assert m1["object_value"].tolist() == ["Cat"]
    assert len(m2) == 1
    assert entropy_table(c2)[["entropy", "n_values"]].values.tolist() == [[0.0, 1]]
