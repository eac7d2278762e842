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
