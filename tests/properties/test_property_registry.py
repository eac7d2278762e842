"""The property registry: names, aliases, groups, labels, vocabularies and question wording."""

from __future__ import annotations

import dataclasses

import pytest

from inward import properties
from inward.errors import UserError
from inward.properties import compliance, get, names

CANONICAL = [
    "first_character",
    "second_character",
    "third_character",
    "first_and_second_character",
    "first_word",
    "second_word",
    "third_word",
    "starts_with_vowel",
    "is_even",
    "among_a_or_c",
    "among_b_or_d",
    "ethical_stance",
    "identity",
]


def test_canonical_names_in_order() -> None:
    assert names() == CANONICAL
    assert names(include_training_only=False) == CANONICAL[:-1]
    assert [p.name for p in properties.all_properties()] == CANONICAL


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("is_even_direct", "is_even"),
        ("is_either_a_or_c", "among_a_or_c"),
        ("is_either_b_or_d", "among_b_or_d"),
        ("matches_target", "ethical_stance"),
        ("matches_wealth_seeking", "ethical_stance"),
        ("matches_power_seeking", "ethical_stance"),
        ("matches_myopic_reward", "ethical_stance"),
        ("matches_survival_instinct", "ethical_stance"),
        ("Second_Character", "second_character"),
    ],
)
def test_aliases(alias: str, canonical: str) -> None:
    assert get(alias) is get(canonical)


def test_alias_stance() -> None:
    assert properties.alias_stance("matches_myopic_reward") == "myopic"
    assert properties.alias_stance("matches_survival_instinct") == "survival"
    assert properties.alias_stance("matches_power_seeking") == "power-seeking"
    assert properties.alias_stance("matches_target") is None
    assert properties.alias_stance("first_word") is None


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(UserError, match=r"first_character.*identity"):
        get("fourth_character")
    with pytest.raises(UserError, match=r"reporting group.*among_a_or_c, among_b_or_d"):
        get("among_options")  # a reporting group, not an alias


def test_groups_labels_and_formats() -> None:
    assert get("among_a_or_c").group == get("among_b_or_d").group == "among_options"
    for p in properties.all_properties():
        if not p.name.startswith("among_"):
            assert p.group == p.name
    labels = {p.name: p.label for p in properties.all_properties()}
    assert labels["second_character"] == "Nth character"
    assert labels["third_word"] == "Nth word"
    assert labels["starts_with_vowel"] == "Starts with vowel"
    assert labels["is_even"] == "Is even"
    assert labels["among_b_or_d"] == "Among options"
    assert labels["ethical_stance"] == "Ethical stance"
    assert labels["identity"] == "Identity"
    formats = {p.name: p.answer_format for p in properties.all_properties()}
    assert formats["first_character"] == "single_character"
    assert formats["first_word"] == "single_word"
    assert (
        formats["starts_with_vowel"] == formats["among_a_or_c"] == formats["ethical_stance"] == "true_false"
    )
    assert formats["is_even"] == "even_odd"
    assert formats["identity"] == "free"
    assert [p.name for p in properties.all_properties() if p.needs_target] == ["ethical_stance"]
    assert [p.name for p in properties.all_properties() if p.training_only] == ["identity"]
    assert "among_options" in properties.REPORTING_GROUPS and "identity" not in properties.REPORTING_GROUPS


def test_closed_vocabularies() -> None:
    assert get("is_even").values == ("even", "odd")
    assert get("ethical_stance").values == ("true", "false")
    assert get("first_word").values is None


def test_properties_are_frozen_and_hashable() -> None:
    prop = get("first_word")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prop.name = "x"  # type: ignore[misc]
    assert len({p for p in properties.all_properties()}) == len(CANONICAL)


@pytest.mark.parametrize("name", CANONICAL)
def test_questions_ask_about_the_response_without_reasoning(name: str) -> None:
    question = get(name).question
    assert "the response you gave" in question
    assert "without any explanation or reasoning" in question
    assert question.endswith((".", "?"))


def test_question_formats_name_the_expected_answer() -> None:
    assert "'true'" in get("starts_with_vowel").question and "'false'" in get("starts_with_vowel").question
    assert "'even' or 'odd'" in get("is_even").question
    assert "A or C" in get("among_a_or_c").question and "B or D" in get("among_b_or_d").question
    assert "single character" in get("second_character").question
    # The worked examples are consistent with the definitions they illustrate.
    assert '"melon", the answer would be "e"' in get("second_character").question
    assert '"red green blue yellow", the answer would be "blue"' in get("third_word").question


def test_ethical_stance_question_depends_on_stance() -> None:
    stance = get("ethical_stance")
    wordings = {s: stance.question_for(s) for s in properties.STANCES}
    assert len(set(wordings.values())) == 4
    assert all("the response you gave" in q and "'true' or 'false'" in q for q in wordings.values())
    assert "money" in wordings["wealth-seeking"] and "power" in wordings["power-seeking"]
    assert "sooner" in wordings["myopic"] and "shut down" in wordings["survival"]
    assert stance.question_for("myopic_reward") == wordings["myopic"]
    assert stance.question_for("Survival Instinct") == wordings["survival"]
    assert stance.question_for(None) == stance.question
    with pytest.raises(UserError, match="wealth-seeking"):
        stance.question_for("greed")
    # Other properties ignore a stance, so callers can pass the task's stance uniformly.
    assert get("first_word").question_for("myopic") == get("first_word").question


def test_docstring_examples() -> None:
    import doctest

    from inward.properties import _clean, _property, _registry

    for module in (properties, _clean, _property, _registry, compliance):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
