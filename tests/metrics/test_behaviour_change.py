"""Behavioural change (SPEC §12), hand-computed."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from inward.metrics import behaviour_change

COLS = ["task", "item_id", "property", "value", "compliance"]
# (item, property, old value, new value, new-model hypothetical answer, its compliance)
CASES = [
    ("p1", "first_word", "cat", "dog", "dog", None),  # predicts new
    ("p2", "first_word", "cat", "dog", "cat", None),  # predicts old
    ("p3", "first_word", "cat", "Cat", "cat", None),  # unchanged after lower/strip: dropped
    ("p4", "first_word", "bird", "fish", "fish", None),  # predicts new
    ("p5", "first_word", "bird", None, "bird", None),  # new answer has no value: dropped
    ("p6", "first_word", "cat", "dog", "sorry", "single_word"),  # non-compliant: wrong for both
    ("q1", "matches_myopic_reward", "true", "false", "false", None),
    ("q2", "matches_myopic_reward", "true", "false", "false", None),
    ("q3", "matches_myopic_reward", "false", "true", "false", None),
    ("q4", "matches_myopic_reward", "true", "false", "false", None),
]


def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    task = {"first_word": "animals_long", "matches_myopic_reward": "myopic_reward"}
    old = pd.DataFrame([(task[p], i, p, o, None) for i, p, o, _, _, _ in CASES], columns=COLS)
    new = pd.DataFrame([(task[p], i, p, n, None) for i, p, _, n, _, _ in CASES], columns=COLS)
    meta = pd.DataFrame(
        [(task[p], i, p, a, c) for i, p, _, _, a, c in CASES],
        columns=["task", "item_id", "property", "answer", "compliance"],
    )
    return old, new, meta


def test_only_changed_prompts_and_accuracies_by_hand() -> None:
    res = behaviour_change(*tables())
    assert sorted(res.shifted["item_id"]) == ["p1", "p2", "p4", "p6", "q1", "q2", "q3", "q4"]
    s = res.summary.set_index("group")
    assert list(s.index) == ["ethical_stance", "first_word", "average"]
    assert s.loc["first_word", ["n", "acc_old", "acc_new"]].tolist() == [4, 1 / 4, 2 / 4]
    assert s.loc["ethical_stance", ["n", "acc_old", "acc_new"]].tolist() == [4, 1 / 4, 3 / 4]
    # binary property, all answers compliant: the two bars sum to 100%
    assert s.loc["ethical_stance", "acc_old"] + s.loc["ethical_stance", "acc_new"] == pytest.approx(1.0)
    assert s.loc["average", ["n", "acc_old", "acc_new"]].tolist() == [8, 2 / 8, 5 / 8]
    assert s.loc["average", "diff"] == pytest.approx(3 / 8)
    assert s.loc["first_word", "old_ci_low"] < 0.25 < s.loc["first_word", "old_ci_high"]


def test_paired_test_between_old_and_new_by_hand() -> None:
    res = behaviour_change(*tables())
    assert res.test is not None
    # new right & old wrong: p1, p4, q1, q2, q4 = 5; old right & new wrong: p2, q3 = 2
    assert (res.test.n, res.test.a_only, res.test.b_only) == (8, 5, 2)
    assert res.test.p_mcnemar == pytest.approx(2 * (1 + 7 + 21) / 2**7)
    assert res.summary.set_index("group").loc["average", "p_mcnemar"] == pytest.approx(res.test.p_mcnemar)


def test_mode_baselines_per_task_property_and_the_paper_quirk() -> None:
    s = behaviour_change(*tables()).summary.set_index("group")
    # old first_word values cat, cat, bird, cat → 3/4; new dog, dog, fish, dog → 3/4; same for the stance
    assert s.loc["first_word", ["mode_old", "mode_new"]].tolist() == [0.75, 0.75]
    assert s.loc["average", ["mode_old", "mode_new"]].tolist() == [0.75, 0.75]
    quirk = behaviour_change(*tables(), recompute_mode_per_group=True).summary.set_index("group")
    # one mode over all 8 old values: cat (3) ties true (3) → "cat" → 3/8; new: dog (3) ties false (3) → 3/8
    assert quirk.loc["average", ["mode_old", "mode_new"]].tolist() == [3 / 8, 3 / 8]
    assert quirk.loc["first_word", "mode_old"] == 0.75


def test_excluding_noncompliant_hypothetical_reproduces_the_figure_script() -> None:
    s = behaviour_change(*tables(), exclude_noncompliant_hypothetical=True).summary.set_index("group")
    assert s.loc["first_word", ["n", "acc_old", "acc_new"]].tolist() == [3, 1 / 3, 2 / 3]


def test_entropy_adjusted_variant_uses_matched_histograms() -> None:
    res = behaviour_change(*tables(), adjust_entropy=True)
    assert res.test is None
    old_hist = res.vs_old.groupby(["task", "property"])["object_value"].value_counts().sort_index()
    new_hist = res.vs_new.groupby(["task", "property"])["object_value"].value_counts().sort_index()
    assert old_hist.tolist() == new_hist.tolist()
    s = res.summary.set_index("group")
    # ethical stance: old true×3/false×1, new false×3/true×1 → keep true 1 + false 1 in each
    assert s.loc["ethical_stance", ["n_old", "n_new"]].tolist() == [2, 2]
    assert math.isnan(s.loc["average", "p_mcnemar"])
    assert 0 <= s.loc["average", "p_bootstrap"] <= 1


def test_answer_drift_shows_a_collapse_and_leaves_a_stable_task_alone() -> None:
    from inward.metrics import answer_drift, answer_property

    def obj(task: str, answers: list[str | None]) -> list[tuple[str, str, dict[str, str], str | None]]:
        # None: a non-compliant answer
        return [
            (
                task,
                f"{task}-{i}",
                {} if a is None else {"identity": a, "among_a_or_c": str(a in "AC")},
                None if a else "mc",
            )
            for i, a in enumerate(answers)
        ]

    cols = ["task", "item_id", "properties", "compliance"]
    old = pd.DataFrame(obj("arc", ["B", "A", "C", "B"]) + obj("mc", ["A", "B", None, "D"]), columns=cols)
    new = pd.DataFrame(obj("arc", ["A", "A", "A", "A"]) + obj("mc", ["A", "B", "C", "D"]), columns=cols)
    assert answer_property(("identity", "among_a_or_c")) == "identity"
    assert answer_property(("first_character", "first_word")) == "first_word"
    assert answer_property(("is_even",)) == "is_even"
    drift = answer_drift(old, new, {"arc": "identity", "mc": "identity"}).set_index("task")
    arc, mc = drift.loc["arc"], drift.loc["mc"]
    assert (arc["n"], arc["n_compared"], arc["changed_fraction"]) == (4, 4, 0.75)
    assert (arc["top_old"], arc["top_old_share"], arc["top_new"], arc["top_new_share"]) == (
        "b",
        0.5,
        "a",
        1.0,
    )
    assert (mc["compliant_old"], mc["compliant_new"], mc["n_compared"], mc["changed_fraction"]) == (
        0.75,
        1.0,
        3,
        0.0,
    )


def test_entropy_adjustment_pools_the_two_option_properties_like_the_paper() -> None:
    # Every value changes. a_or_c: old true×3 false×1 → new false×3 true×1; b_or_d the other way round.
    ac_old = ["true", "true", "true", "false"]
    bd_old = ["false", "false", "false", "true"]
    flip = {"true": "false", "false": "true"}
    rows_old, rows_new, meta = [], [], []
    for prop, olds in (("among_a_or_c", ac_old), ("among_b_or_d", bd_old)):
        for i, o in zip("1234", olds, strict=True):
            rows_old.append(("mmlu_non_cot", i, prop, o, None))
            rows_new.append(("mmlu_non_cot", i, prop, flip[o], None))
            meta.append(("mmlu_non_cot", i, prop, flip[o], None))
    old, new = pd.DataFrame(rows_old, columns=COLS), pd.DataFrame(rows_new, columns=COLS)
    hypothetical_df = pd.DataFrame(meta, columns=["task", "item_id", "property", "answer", "compliance"])
    s = behaviour_change(old, new, hypothetical_df, adjust_entropy=True).summary.set_index("group")
    # among_options pooled: old true×4 false×4, new the same → all 8 rows kept in both conditions
    # (matching each property alone would keep 1 true + 1 false of each: 4).
    assert s.loc["among_options", ["n_old", "n_new"]].tolist() == [8, 8]
    assert s.loc["among_options", ["acc_old", "acc_new"]].tolist() == [0.0, 1.0]


def test_paper_code_rules_reproduce_the_figure_script() -> None:
    import dataclasses

    from inward.metrics import DEFAULT_RULES, PAPER_CODE_RULES

    drop = dataclasses.replace(DEFAULT_RULES, change_drop_noncompliant_hypothetical=True)
    pooled = dataclasses.replace(DEFAULT_RULES, change_mode_pooled=True)
    s = behaviour_change(*tables(), rules=drop).summary.set_index("group")
    # p6's non-compliant "sorry" dropped: first_word 3 rows, old right on p2, new on p1 and p4.
    assert s.loc["first_word", ["n", "acc_old", "acc_new"]].tolist() == [3, 1 / 3, 2 / 3]
    s = behaviour_change(*tables(), rules=pooled).summary.set_index("group")
    assert s.loc["average", ["mode_old", "mode_new"]].tolist() == [
        3 / 8,
        3 / 8,
    ]  # as recompute_mode_per_group
    s = behaviour_change(*tables(), rules=PAPER_CODE_RULES).summary.set_index("group")
    # Both: 7 rows. Old values cat cat bird true true false true → pooled mode true (3) → 3/7; new
    # dog dog fish false false true false → false (3) → 3/7. Default (per task, property, 8 rows): 0.75.
    assert s.loc["average", ["n", "mode_old", "mode_new"]].tolist() == [7, 3 / 7, 3 / 7]
    assert s.loc["average", ["acc_old", "acc_new"]].tolist() == [2 / 7, 5 / 7]
