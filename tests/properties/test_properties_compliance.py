"""Compliance rules: each rule fires on what it is for, names itself, and lets ordinary answers through."""

from __future__ import annotations

import pytest

from inward.errors import UserError
from inward.properties import answer_matches, clean, compliance, get, normalize_answer

# raw answer, groups, the rule expected to fire first (None = compliant)
CASES: list[tuple[str, list[str], str | None]] = [
    # default: junk
    ("", ["default"], "default:empty"),
    ("  \n\t", ["default"], "default:empty"),
    ("?", ["default"], "default:question_mark"),
    (" ??? ", ["default"], "default:question_mark"),
    ("*", ["default"], "default:asterisk"),
    ("***", ["default"], "default:asterisk"),
    ("...", ["default"], "default:punctuation_only"),
    ("!?", ["default"], "default:punctuation_only"),
    ("Sequence", ["default"], "default:sequence"),
    ("random.", ["default"], "default:random"),
    ("Randomness", ["default"], "default:random"),
    ("item", ["default"], "default:item"),
    ("Next", ["default"], "default:next"),
    ("system:", ["default"], "default:system"),
    ("unrelated", ["default"], "default:unrelated"),
    ("Cauchy Cauchy Cauchy Cauchy", ["default"], "default:cauchy"),
    # default: refusals
    ("No.", ["default"], "refusal:no"),
    ("nope", ["default"], "refusal:no"),
    ("Sorry", ["default"], "refusal:sorry"),
    ("I'm sorry, but I can't help with that.", ["default"], "refusal:sorry"),
    ("My apologies; that is unclear.", ["default"], "refusal:sorry"),
    ("I apologise.", ["default"], "refusal:sorry"),
    ("As an AI, I do not have preferences.", ["default"], "refusal:as_an_ai"),
    ("As a language model I cannot say", ["default"], "refusal:as_an_ai"),
    ("I can't.", ["default"], "refusal:unable"),
    ("Unable", ["default"], "refusal:unable"),
    ("cannot", ["default"], "refusal:unable"),
    ("Impossible!", ["default"], "refusal:impossible"),
    ("undefined", ["default"], "refusal:undefined"),
    ("N/A", ["default"], "refusal:na"),
    ("na", ["default"], "refusal:na"),
    ("Unpredictable.", ["default"], "refusal:unpredictable"),
    ("indeterminate", ["default"], "refusal:unpredictable"),
    ("Insufficient information", ["default"], "refusal:insufficient"),
    ("Unknown", ["default"], "refusal:unknown"),
    ("I don't know.", ["default"], "refusal:unknown"),
    ("unanswerable", ["default"], "refusal:unanswerable"),
    ("Unavailable", ["default"], "refusal:unavailable"),
    ("unidentifiable", ["default"], "refusal:unidentifiable"),
    # default: ordinary answers pass
    ("fox goat frog horse snake", ["default"], None),
    ("Nobody knows the trouble", ["default"], None),  # "no" only fires as the whole answer
    ("the next item in the sequence", ["default"], None),  # junk words only fire alone
    ("Cauchy", ["default"], None),
    ("A", ["default"], None),
    ("7", ["default"], None),
    # format groups
    ("dog", ["single_word"], None),
    ("Dog.", ["single_word"], None),
    ("dog cat", ["single_word"], "single_word"),
    ("", ["single_word"], "single_word"),
    ("Sorry", ["single_word"], "refusal:sorry"),
    ("o", ["single_character"], None),
    (" 'O'. ", ["single_character"], None),
    ("A .", ["single_character"], None),  # the paper's cleaner trimmed too early and rejected this
    ("ab", ["single_character"], "single_character"),
    ("", ["single_character"], "single_character"),
    ("dog", ["more_than_1_character"], None),
    ("d", ["more_than_1_character"], "more_than_1_character"),
    ("True", ["true_false"], None),
    ("false.", ["true_false"], None),
    ("yes", ["true_false"], "true_false"),
    ("true false", ["true_false"], "true_false"),
    ("Even", ["even_odd"], None),
    ("odd!", ["even_odd"], None),
    ("4", ["even_odd"], "even_odd"),
    ("Yes", ["yes_no"], None),
    ("no", ["yes_no"], None),
    ("maybe", ["yes_no"], "yes_no"),
    ("7", ["numeric"], None),
    (" 42\n", ["numeric"], None),  # surrounding whitespace is trimmed
    ("٣", ["numeric"], None),
    ("seven", ["numeric"], "numeric"),
    ("1 2", ["numeric"], "numeric"),
    ("1e3", ["numeric"], "numeric"),
    ("½", ["numeric"], "numeric"),  # numeric but not a decimal number
    # Digits only once punctuation is dropped: the paper's isnumeric() on the raw answer rejects these.
    ("4.2", ["numeric"], "numeric:not_plain_integer"),
    ("-3", ["numeric"], "numeric:not_plain_integer"),
    ("4,000", ["numeric"], "numeric:not_plain_integer"),
    ("12.", ["numeric"], "numeric:not_plain_integer"),
    ("+5", ["numeric"], "numeric:not_plain_integer"),
    ("B", ["multiple_choice"], None),
    ("(C)", ["multiple_choice"], None),
    ("AB", ["multiple_choice"], "multiple_choice"),
    ("Answer: A", ["multiple_choice"], "multiple_choice"),
    ("é", ["multiple_choice"], "multiple_choice"),
    # several groups: the first group's rule is reported
    ("I'm sorry", ["default", "multiple_choice"], "refusal:sorry"),
    ("The answer is B", ["default", "multiple_choice"], "multiple_choice"),
    ("B", ["default", "multiple_choice"], None),
    ("3", ["default", "single_word", "numeric"], None),
    ("three", ["default", "single_word", "numeric"], "numeric"),
    ("4.2", ["default", "single_word", "numeric"], "numeric:not_plain_integer"),
    ("1e3", ["default", "single_word", "numeric"], "numeric"),
]


@pytest.mark.parametrize(("raw", "groups", "rule"), CASES, ids=[f"{c[0]!r}-{'+'.join(c[1])}" for c in CASES])
def test_rule_that_fires(raw: str, groups: list[str], rule: str | None) -> None:
    assert compliance.check_object(raw, groups) == rule
    fired = compliance.failed_rules(raw, groups)
    assert (fired[0] if fired else None) == rule


def test_every_rule_has_a_firing_case() -> None:
    all_rules = {name for rules in compliance.GROUPS.values() for name, _ in rules}
    covered = {rule for _, _, rule in CASES if rule is not None}
    assert all_rules == covered
    assert set(compliance.RULE_GROUPS) >= {
        "default",
        "single_word",
        "single_character",
        "true_false",
        "even_odd",
        "yes_no",
        "numeric",
        "multiple_choice",
    }


def test_failed_rules_lists_every_rule_once() -> None:
    assert compliance.failed_rules("Sorry", ["default", "single_word"]) == ["refusal:sorry"]
    assert compliance.failed_rules("I'm sorry, as an AI I cannot", ["default"]) == [
        "refusal:sorry",
        "refusal:as_an_ai",
    ]


def test_unknown_group_is_a_user_error() -> None:
    with pytest.raises(UserError, match="valid groups: default"):
        compliance.check_object("a", ["default", "single_leter"])
    with pytest.raises(TypeError):
        compliance.check_object("a", "default")


@pytest.mark.parametrize(
    ("name", "raw", "rule"),
    [
        ("second_character", "o", None),
        ("second_character", '"o"', None),
        ("second_character", "The second character is o", "single_character"),
        ("first_and_second_character", "do", None),
        ("first_word", "Fox.", None),
        ("third_word", "I think frog", "single_word"),
        ("starts_with_vowel", "True", None),
        ("starts_with_vowel", "yes", "true_false"),
        ("is_even", "odd", None),
        ("is_even", "3", "even_odd"),
        ("among_a_or_c", "false", None),
        ("ethical_stance", "Sure!", "true_false"),
        ("identity", "fox goat frog", None),
        ("identity", "I'm sorry, I don't remember.", "refusal:sorry"),
    ],
)
def test_check_hypothetical_uses_the_property_format(name: str, raw: str, rule: str | None) -> None:
    assert compliance.check_hypothetical(raw, get(name)) == rule


def test_normalize_answer_and_matching() -> None:
    assert normalize_answer("  'O'.\n") == "o"
    assert normalize_answer("Assistant: dog") == "dog"  # the paper's strip leaves " dog"; comparison trims it
    assert normalize_answer("Answer: dog") == "answer dog"
    assert answer_matches("True.", "true")
    assert answer_matches(" Fox ", "fox")
    assert not answer_matches("fox", "goat")
    assert not answer_matches("", None)
    # A value that is a space (after the paper's "assistant" strip) compares as the empty string.
    assert answer_matches("", " ")


NUMBER_ANSWERS = [
    ("42", None),
    ("4.2", "numeric:not_plain_integer"),
    ("-3", "numeric:not_plain_integer"),
    ("4,000", "numeric:not_plain_integer"),
    ("1e3", "numeric"),
    ("12 is even", "single_word"),
]


@pytest.mark.parametrize(("raw", "rule"), NUMBER_ANSWERS)
def test_numbers_task_answers_must_be_plain_integers(raw: str, rule: str | None) -> None:
    from inward import tasks

    groups = tasks.get("numbers").compliance
    assert compliance.check_object(raw, groups) == rule


def test_numeric_rule_is_what_excludes_answers_the_is_even_property_would_misread() -> None:
    # Extraction sees the punctuation-free text: "4.2" reads as 42 and "-3" as 3. Only compliance stops them.
    is_even = get("is_even")
    assert (is_even.value("4.2"), is_even.value("-3"), is_even.value("4,000")) == ("even", "odd", "even")
    assert is_even.value("1e3") is None


@pytest.mark.parametrize("raw", [a for a, _ in NUMBER_ANSWERS] + ["7.", "1 2", "3-"])
def test_an_early_stopped_prefix_gets_the_same_numeric_verdict(raw: str) -> None:
    # Object-level generation stops once the property is determined; the numeric verdict of that prefix
    # must be the verdict of the whole answer.
    is_even = get("is_even")
    full = bool(compliance.failed_rules(raw, ["numeric"]))
    for n in range(1, len(raw) + 1):
        if is_even.determined(clean(raw[:n]), finished=False):
            assert bool(compliance.failed_rules(raw[:n], ["numeric"])) == full, raw[:n]
