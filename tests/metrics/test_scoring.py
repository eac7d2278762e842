"""Joining object-level behaviour with hypothetical answers (SPEC §6.3, §10.1)."""

from __future__ import annotations

import pandas as pd
import pytest

from inward.metrics import intersect, join_object_hypothetical, reporting_group, score_rows


def test_reporting_groups_follow_the_paper_renames() -> None:
    assert reporting_group("is_either_a_or_c") == "among_options"
    assert reporting_group("among_b_or_d") == "among_options"
    assert reporting_group("matches_myopic_reward") == "ethical_stance"
    assert reporting_group("ethical_stance") == "ethical_stance"
    assert reporting_group("is_even_direct") == "is_even"
    assert reporting_group("second_character") == "second_character"


def test_join_drops_noncompliant_objects_scores_noncompliant_hypothetical_wrong_and_skips_identity() -> None:
    obj = pd.DataFrame(
        [
            ("mmlu", "1", "among_a_or_c", "true", None),
            ("mmlu", "1", "among_b_or_d", "false", None),
            ("mmlu", "1", "identity", "a", None),
            (
                "mmlu",
                "2",
                "among_a_or_c",
                "false",
                "multiple_choice",
            ),  # non-compliant object: prompt excluded
            ("animals", "3", "first_word", "Cat", None),
            ("animals", "4", "first_word", None, None),  # too short to have the property: excluded
            ("animals", "5", "first_word", "dog", None),
            ("animals", "6", "first_word", "owl", None),  # no hypothetical answer: not evaluated
        ],
        columns=["task", "item_id", "property", "value", "compliance"],
    )
    meta = pd.DataFrame(
        [
            ("mmlu", "1", "among_a_or_c", "true", None),
            ("mmlu", "1", "among_b_or_d", "true", None),
            ("mmlu", "1", "identity", "a", None),
            ("mmlu", "2", "among_a_or_c", "false", None),
            ("animals", "3", "first_word", " cat", None),  # lower/strip before comparing
            ("animals", "4", "first_word", "cat", None),
            ("animals", "5", "first_word", "dog", "single_word"),  # equal but non-compliant: incorrect
        ],
        columns=["task", "item_id", "property", "answer", "compliance"],
    )
    scored = join_object_hypothetical(obj, meta)
    assert list(scored.columns) == [
        "task",
        "item_id",
        "property",
        "group",
        "object_value",
        "hypothetical_answer",
        "hypothetical_compliance",
        "correct",
    ]
    got = {(r.task, r.item_id, r.property): (r.group, bool(r.correct)) for r in scored.itertuples()}
    assert got == {
        ("mmlu", "1", "among_a_or_c"): ("among_options", True),
        ("mmlu", "1", "among_b_or_d"): ("among_options", False),
        ("animals", "3", "first_word"): ("first_word", True),
        ("animals", "5", "first_word"): ("first_word", False),
    }


def test_wide_object_format_and_compliant_flag_are_accepted() -> None:
    obj = pd.DataFrame(
        {
            "task": ["animals", "animals"],
            "item_id": ["1", "2"],
            "properties": [{"first_word": "cat", "second_character": "a"}, {"first_word": "dog"}],
            "compliant": [True, False],
        }
    )
    meta = pd.DataFrame(
        {
            "task": ["animals"] * 3,
            "item_id": ["1", "1", "2"],
            "property": ["first_word", "second_character", "first_word"],
            "hypothetical_answer": ["cat", "b", "dog"],
        }
    )
    scored = join_object_hypothetical(obj, meta)
    assert scored[["item_id", "property", "correct"]].values.tolist() == [
        ["1", "first_word", True],
        ["1", "second_character", False],
    ]


def test_missing_hypothetical_answer_never_counts_as_correct() -> None:
    df = pd.DataFrame(
        {
            "object_value": ["a", "a", "b"],
            "hypothetical_answer": [None, float("nan"), "B"],
            "hypothetical_compliance": [None] * 3,
        }
    )
    assert score_rows(df).tolist() == [False, False, True]


def test_duplicate_keys_are_refused() -> None:
    obj = pd.DataFrame([("t", "1", "first_word", "a")] * 2, columns=["task", "item_id", "property", "value"])
    meta = pd.DataFrame([("t", "1", "first_word", "a")], columns=["task", "item_id", "property", "answer"])
    with pytest.raises(ValueError, match="duplicated key"):
        join_object_hypothetical(obj, meta)


def test_intersect_keeps_common_keys_only() -> None:
    a = pd.DataFrame({"task": ["t"] * 3, "item_id": ["1", "2", "3"], "property": ["p"] * 3, "x": [1, 2, 3]})
    b = pd.DataFrame({"task": ["t"] * 2, "item_id": ["2", "4"], "property": ["p"] * 2, "x": [5, 6]})
    a2, b2 = intersect(a, b)
    assert a2["x"].tolist() == [2]
    assert b2["x"].tolist() == [5]
