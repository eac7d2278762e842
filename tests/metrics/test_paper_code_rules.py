"""The paper-code switch: each rule changes a number on hand-made data; both numbers computed by hand.

Each test turns on one rule alone (`one(...)`), then checks `PAPER_CODE_RULES` where the rules combine.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from inward.metrics import (
    DEFAULT_RULES,
    PAPER_CODE_RULES,
    ScoringRules,
    accuracy,
    calibration_mad,
    calibration_points,
    join_object_hypothetical,
    mode_baseline,
    rules_for,
)

OBJ_COLS = ["task", "item_id", "property", "value", "compliance"]
HYPOTHETICAL_COLS = ["task", "item_id", "property", "answer", "compliance"]


def one(flag: str) -> ScoringRules:
    """Default rules with just `flag` switched on."""
    return dataclasses.replace(DEFAULT_RULES, name=flag, **{flag: True})


def acc(scored: pd.DataFrame) -> tuple[int, int]:
    row = accuracy(scored, by=None, iterations=10).iloc[0]
    return int(row["k"]), int(row["n"])


def test_the_two_rule_sets() -> None:
    assert rules_for(False) is DEFAULT_RULES
    assert rules_for(True) is PAPER_CODE_RULES
    flags = [f.name for f in dataclasses.fields(ScoringRules) if f.name != "name"]
    assert not any(getattr(DEFAULT_RULES, f) for f in flags)
    assert all(getattr(PAPER_CODE_RULES, f) for f in flags)
    assert DEFAULT_RULES.is_default and not PAPER_CODE_RULES.is_default
    assert PAPER_CODE_RULES.as_dict()["name"] == "paper-code"
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_RULES.undefined_as_wrong = True  # type: ignore[misc]


def test_undefined_values_are_scored_as_the_string_none() -> None:
    # Third word of answers too short to have one: value None.
    obj = pd.DataFrame(
        [
            ("animals", "1", "third_word", "frog", None),
            ("animals", "2", "third_word", None, None),
            ("animals", "3", "third_word", None, None),
            ("animals", "4", "third_word", "owl", None),
            ("animals", "5", "third_word", None, None),
        ],
        columns=OBJ_COLS,
    )
    meta = pd.DataFrame(
        [
            ("animals", "1", "third_word", "frog", None),  # right
            ("animals", "2", "third_word", "goat", None),
            ("animals", "3", "third_word", "None", None),  # equals the string "none" after lower/strip
            ("animals", "4", "third_word", "cat", None),
            ("animals", "5", "third_word", "fox", None),
        ],
        columns=HYPOTHETICAL_COLS,
    )
    # Default: rows 1 and 4 only → 1 of 2. Paper code: all 5, right on 1 and 3 → 2 of 5.
    assert acc(join_object_hypothetical(obj, meta)) == (1, 2)
    scored = join_object_hypothetical(obj, meta, rules=one("undefined_as_wrong"))
    assert acc(scored) == (2, 5)
    assert scored.set_index("item_id").loc["2", "object_value"] == "none"


def test_noncompliant_object_rows_are_scored_when_answered() -> None:
    obj = pd.DataFrame(
        [
            ("animals", "1", "first_word", "cat", None),
            ("animals", "2", "first_word", "dog", None),
            ("animals", "3", "first_word", "im", "refusal:sorry"),  # "I'm sorry, …"
            ("animals", "4", "first_word", "im", "refusal:sorry"),
        ],
        columns=OBJ_COLS,
    )
    meta = pd.DataFrame(
        [
            ("animals", i, "first_word", a, None)
            for i, a in (("1", "cat"), ("2", "cat"), ("3", "im"), ("4", "im"))
        ],
        columns=HYPOTHETICAL_COLS,
    )
    # Default: rows 1, 2 → 1 of 2. Paper code: rows 1–4, right on 1, 3, 4 → 3 of 4.
    assert acc(join_object_hypothetical(obj, meta)) == (1, 2)
    assert acc(join_object_hypothetical(obj, meta, rules=one("score_noncompliant_objects"))) == (3, 4)


def test_a_noncompliant_hypothetical_answer_equal_to_the_value_counts_under_paper_code() -> None:
    obj = pd.DataFrame(
        [("stories", "1", "first_word", "sorry", None), ("stories", "2", "first_word", "once", None)],
        columns=OBJ_COLS,
    )
    meta = pd.DataFrame(
        [
            ("stories", "1", "first_word", "sorry", "refusal:sorry"),
            ("stories", "2", "first_word", "once", None),
        ],
        columns=HYPOTHETICAL_COLS,
    )
    # Default: the non-compliant "sorry" is wrong → 1 of 2. Paper code compares strings only → 2 of 2.
    assert acc(join_object_hypothetical(obj, meta)) == (1, 2)
    assert acc(join_object_hypothetical(obj, meta, rules=one("match_noncompliant_hypothetical"))) == (2, 2)


def mode_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    # (item, value, compliance, has a hypothetical answer)
    rows = [
        ("1", "cat", None, True),
        ("2", "cat", None, True),
        ("3", "dog", None, True),
        ("4", "dog", "refusal:sorry", False),
        ("5", "dog", None, False),
        ("6", None, None, True),
        ("7", None, None, True),
        ("8", None, None, True),
        ("9", "dog", "refusal:sorry", False),
    ]
    obj = pd.DataFrame([("animals", i, "first_word", v, c) for i, v, c, _ in rows], columns=OBJ_COLS)
    meta = pd.DataFrame(
        [("animals", i, "first_word", "cat", None) for i, _, _, asked in rows if asked],
        columns=HYPOTHETICAL_COLS,
    )
    return obj, meta


def test_mode_over_all_object_rows() -> None:
    obj, meta = mode_tables()
    scored = join_object_hypothetical(obj, meta)  # rows 1, 2, 3: cat, cat, dog
    # Default: mode over the scored rows, cat (2 of 3) → 2/3.
    assert mode_baseline(scored).set_index("group").loc["first_word", "acc"] == pytest.approx(2 / 3)
    # Over every object row (paper code): cat 2, dog 4 (3, 4, 5, 9), "none" 3 → dog; scored rows hit 1 of 3.
    rule = one("mode_over_all_object_rows")
    base = mode_baseline(scored, rules=rule, object_rows=obj).set_index("group")
    assert base.loc["first_word", ["n", "k"]].tolist() == [3, 1]
    # Under default rules object_rows is ignored, even when its compliant rows alone have another mode
    # (two more compliant dogs without a hypothetical: dog 4 vs cat 2): still cat → 2 of 3.
    more = pd.concat(
        [obj, pd.DataFrame([("animals", i, "first_word", "dog", None) for i in "AB"], columns=OBJ_COLS)]
    )
    assert mode_baseline(scored, object_rows=more).set_index("group").loc["first_word", "k"] == 2
    with pytest.raises(ValueError, match="object_rows"):
        mode_baseline(scored, rules=rule)


def test_paper_code_rules_combine_on_scoring_and_mode() -> None:
    obj, meta = mode_tables()
    scored = join_object_hypothetical(obj, meta, rules=PAPER_CODE_RULES)
    # Rows 1, 2, 3, 6, 7, 8 (undefined → "none"); every hypothetical answer is "cat": right on 1, 2.
    assert acc(scored) == (2, 6)
    base = mode_baseline(scored, rules=PAPER_CODE_RULES, object_rows=obj).set_index("group")
    # mode dog (4 of 9 object rows): only row 3 of the 6 scored rows hits.
    assert base.loc["first_word", ["n", "k"]].tolist() == [6, 1]


def test_calibration_ties_ranked_by_first_appearance() -> None:
    obj = {"p": {"o": 0.4, "e": 0.4, "a": 0.2}}
    meta = {"p": {"o": 1.0}}
    # Default: the tie o/e goes to "e" (string order): top-1 point (0.4, 0.0), MAD |0.4 − 0| × 100 = 40.
    default = calibration_points(obj, meta, top_k=1)
    assert default[["value", "object_prob", "hypothetical_prob"]].values.tolist() == [["e", 0.4, 0.0]]
    assert calibration_mad(default) == pytest.approx(40.0)
    # Paper code: "o" came first in the mapping: (0.4, 1.0), MAD |0.4 − 1.0| × 100 = 60.
    paper = calibration_points(obj, meta, top_k=1, rules=one("calibration_ties_first_seen"))
    assert paper[["value", "object_prob", "hypothetical_prob"]].values.tolist() == [["o", 0.4, 1.0]]
    assert calibration_mad(paper) == pytest.approx(60.0)
    # With all three points the set is the same, only the ranks of o and e swap.
    ranks = calibration_points(obj, meta, rules=PAPER_CODE_RULES)[["value", "rank"]].values.tolist()
    assert ranks == [["o", 1], ["e", 2], ["a", 3]]


def test_the_doc_table_has_a_row_per_rule() -> None:
    from pathlib import Path

    doc = Path(__file__).parents[2] / "docs" / "paper-code.md"
    lines = doc.read_text(encoding="utf-8").splitlines()
    start = lines.index(next(x for x in lines if x.startswith("| `ScoringRules` flag")))
    rows = [x for x in lines[start + 2 :] if x.startswith("| `")]  # below the header and its rule
    documented = {x.split("`")[1] for x in rows}
    flags = {f.name for f in dataclasses.fields(ScoringRules) if f.name != "name"}
    assert documented == flags
