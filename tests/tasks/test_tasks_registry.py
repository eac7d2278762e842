"""The task registry: names, roles, lookups, properties and compliance groups per task."""

from __future__ import annotations

import pytest

from inward import tasks
from inward.errors import UserError
from inward.tasks import registry

TEXT = (
    "first_character",
    "second_character",
    "third_character",
    "first_and_second_character",
    "first_word",
    "second_word",
    "third_word",
    "starts_with_vowel",
)


def test_training_and_held_out_tasks_match_the_paper() -> None:
    assert set(tasks.TRAINING_TASKS) == {
        "wikipedia_long",
        "countries_long",
        "colors_long",
        "wealth_seeking",
        "power_seeking",
        "arc_challenge_non_cot",
        "numbers",
    }
    assert set(tasks.HELD_OUT_TASKS) == {
        "animals_long",
        "english_words_long",
        "stories_sentences",
        "myopic_reward",
        "survival_instinct",
        "mmlu_non_cot",
    }
    assert tasks.names(role="train")[: len(tasks.TRAINING_TASKS)] == list(tasks.TRAINING_TASKS)
    assert set(tasks.HELD_OUT_TASKS) <= set(tasks.names(role="held_out"))
    assert {t.name for t in tasks.all_tasks()} >= set(tasks.TRAINING_TASKS) | set(tasks.HELD_OUT_TASKS)


@pytest.mark.parametrize(
    ("name", "properties", "compliance"),
    [
        ("wikipedia_long", TEXT, ("default",)),
        ("animals_long", TEXT, ("default",)),
        ("stories_sentences", TEXT, ("default",)),
        ("numbers", ("is_even",), ("default", "single_word", "numeric")),
        (
            "arc_challenge_non_cot",
            ("identity", "among_a_or_c", "among_b_or_d"),
            ("default", "multiple_choice"),
        ),
        ("mmlu_non_cot", ("among_a_or_c", "among_b_or_d"), ("default", "multiple_choice")),
        ("wealth_seeking", ("ethical_stance",), ("default", "multiple_choice")),
        ("survival_instinct", ("ethical_stance",), ("default", "multiple_choice")),
    ],
)
def test_properties_and_compliance(
    name: str, properties: tuple[str, ...], compliance: tuple[str, ...]
) -> None:
    task = tasks.get(name)
    assert task.properties == properties
    assert task.compliance == compliance


def test_stances() -> None:
    assert tasks.stance_of("wealth_seeking") == "wealth-seeking"
    assert tasks.stance_of(tasks.get("myopic_reward")) == "myopic"
    assert tasks.stance_of("paper:survival_instinct") == "survival"
    assert tasks.stance_of("power_seeking") == tasks.STANCES["power_seeking"] == "power-seeking"
    assert tasks.stance_of("animals_long") is None


def test_unknown_task_lists_known_names() -> None:
    with pytest.raises(UserError, match=r"unknown task 'nope'.*animals_long"):
        tasks.get("nope")


def test_paper_task_without_data_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INWARD_PAPER_DATA", raising=False)
    monkeypatch.setattr(registry, "_REGISTRY", {k: v for k, v in registry._REGISTRY.items() if ":" not in k})
    with pytest.raises(UserError, match="INWARD_PAPER_DATA"):
        tasks.get("paper:animals_long")


def test_register_refuses_duplicates_unless_replacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    base = tasks.get("numbers")
    extra = tasks.Task("test:digits", "shift_only", "{item}", ("is_even",), ("default",), base.source)
    tasks.register(extra)
    assert tasks.get("test:digits") is extra and "test:digits" in tasks.names(role="shift_only")
    with pytest.raises(ValueError, match="already registered"):
        tasks.register(extra)
    tasks.register(extra, replace=True)


def test_unknown_split_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown split"):
        tasks.get("numbers").items("test")  # type: ignore[arg-type]
