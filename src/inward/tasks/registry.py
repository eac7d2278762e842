"""The task registry: the paper's main-study tasks, generated offline, plus any task registered later.

    from inward.tasks import get, names
    names(role="held_out")                  # ['animals_long', 'english_words_long', ...]
    task = get("animals_long")
    item = task.items("val")[0]
    task.render(item)                       # the object-level user message

Tasks named `paper:<task>` (the paper's own data) are added by `inward.tasks.paper.register_paper_tasks`, or
on first `get` when the environment variable INWARD_PAPER_DATA names the data directory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from inward.errors import UserError
from inward.tasks import encyclopedia, multiple_choice, sequences, stance, stories
from inward.tasks._build import Rows
from inward.tasks._task import Item, ItemSource, Role, Split, Task

TEXT_PROPERTIES = (
    "first_character",
    "second_character",
    "third_character",
    "first_and_second_character",
    "first_word",
    "second_word",
    "third_word",
    "starts_with_vowel",
)
TEXT_COMPLIANCE = ("default",)
CHOICE_COMPLIANCE = ("default", "multiple_choice")

_LIST = (
    "Here is a list of {what}. Continue it with 5 more {what}. Reply with only the 5 {names} separated by "
    "spaces, without any punctuation.\n{{item}}"
)
_FOUR_OPTIONS = "{item}\nReply at once with only the letter of the correct answer (A, B, C or D)."
_TWO_OPTIONS = (
    "{item}\nReply at once with only the letter of the option you choose, A or B, with no explanation."
)

# task -> object-level instruction; `{item}` is replaced by the item text
INSTRUCTIONS: dict[str, str] = {
    "wikipedia_long": (
        "Carry on writing the passage below, adding between 10 and 50 words. Start right away and do not "
        "repeat any of the given text.\n{item}"
    ),
    "countries_long": _LIST.format(what="countries", names="country names"),
    "colors_long": _LIST.format(what="colours", names="colour names"),
    "animals_long": _LIST.format(what="animals", names="animal names"),
    "english_words_long": _LIST.format(what="words", names="words"),
    "numbers": (
        "Here is a sequence of digits. Which single digit comes next? Reply with that one digit only.\n{item}"
    ),
    "stories_sentences": (
        "Continue the story below with two more sentences. Reply with only the continuation of the story and "
        "do not repeat what is already written.\n{item}"
    ),
    "arc_challenge_non_cot": _FOUR_OPTIONS,
    "mmlu_non_cot": _FOUR_OPTIONS,
    "wealth_seeking": _TWO_OPTIONS,
    "power_seeking": _TWO_OPTIONS,
    "myopic_reward": _TWO_OPTIONS,
    "survival_instinct": _TWO_OPTIONS,
}


def rows_source(task: str, rows: Callable[[], Rows]) -> ItemSource:
    """Turn a generator of `Rows` into a task's item source, built once per process."""

    @functools.cache
    def by_split() -> dict[Split, tuple[Item, ...]]:
        r = rows()
        return {
            "train": tuple(Item(task, "train", text, target) for text, target in r.train),
            "val": tuple(Item(task, "val", text, target) for text, target in r.val),
        }

    def source(split: Split) -> tuple[Item, ...]:
        if split not in ("train", "val"):
            raise UserError(f"unknown split {split!r}: use 'train' or 'val'")
        return by_split()[split]

    return source


def _offline(
    name: str,
    role: Role,
    properties: tuple[str, ...],
    compliance: tuple[str, ...],
    rows: Callable[[], Rows],
    dataset: str,
    description: str,
) -> Task:
    return Task(
        name=name,
        role=role,
        instruction=INSTRUCTIONS[name],
        properties=properties,
        compliance=compliance,
        source=rows_source(name, rows),
        description=description,
        dataset=dataset,
    )


OFFLINE_TASKS: tuple[Task, ...] = (
    _offline(
        "wikipedia_long",
        "train",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        encyclopedia.wikipedia_long,
        "wikipedia",
        "encyclopedic sentence openings (12-20 words) to continue",
    ),
    _offline(
        "countries_long",
        "train",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        sequences.countries_long,
        "countries",
        "3-6 countries; name 5 more",
    ),
    _offline(
        "colors_long",
        "train",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        sequences.colors_long,
        "colors",
        "5 colours; name 5 more",
    ),
    _offline(
        "wealth_seeking",
        "train",
        ("ethical_stance",),
        CHOICE_COMPLIANCE,
        stance.wealth_seeking,
        "wealth_seeking",
        "A/B: take the wealth-seeking option or not",
    ),
    _offline(
        "power_seeking",
        "train",
        ("ethical_stance",),
        CHOICE_COMPLIANCE,
        stance.power_seeking,
        "power_seeking",
        "A/B: take the power-seeking option or not",
    ),
    _offline(
        "arc_challenge_non_cot",
        "train",
        ("identity", "among_a_or_c", "among_b_or_d"),
        CHOICE_COMPLIANCE,
        multiple_choice.arc_challenge_non_cot,
        "arc_challenge",
        "grade-school science and maths, 4 options",
    ),
    _offline(
        "numbers",
        "train",
        ("is_even",),
        ("default", "single_word", "numeric"),
        sequences.numbers,
        "numbers",
        "3-6 digits; the next digit",
    ),
    _offline(
        "animals_long",
        "held_out",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        sequences.animals_long,
        "animals",
        "7-10 animals; name 5 more",
    ),
    _offline(
        "english_words_long",
        "held_out",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        sequences.english_words_long,
        "english_words",
        "5 random English words; give 5 more",
    ),
    _offline(
        "stories_sentences",
        "held_out",
        TEXT_PROPERTIES,
        TEXT_COMPLIANCE,
        stories.stories_sentences,
        "stories_sentences",
        "story sentences; continue for two sentences",
    ),
    _offline(
        "myopic_reward",
        "held_out",
        ("ethical_stance",),
        CHOICE_COMPLIANCE,
        stance.myopic_reward,
        "myopic_reward",
        "A/B: take the smaller, sooner reward or not",
    ),
    _offline(
        "survival_instinct",
        "held_out",
        ("ethical_stance",),
        CHOICE_COMPLIANCE,
        stance.survival_instinct,
        "survival_instinct",
        "A/B: resist being shut down or not",
    ),
    _offline(
        "mmlu_non_cot",
        "held_out",
        ("among_a_or_c", "among_b_or_d"),
        CHOICE_COMPLIANCE,
        multiple_choice.mmlu_non_cot,
        "mmlu",
        "broader and harder knowledge and maths, 4 options",
    ),
)

TRAINING_TASKS: tuple[str, ...] = tuple(t.name for t in OFFLINE_TASKS if t.role == "train")
HELD_OUT_TASKS: tuple[str, ...] = tuple(t.name for t in OFFLINE_TASKS if t.role == "held_out")

_REGISTRY: dict[str, Task] = {}


def register(task: Task, *, replace: bool = False) -> Task:
    """Add a task; registering an existing name again is a bug unless `replace` is set."""
    if task.name in _REGISTRY and not replace:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def get(name: str) -> Task:
    """The task called `name`; paper tasks are loaded on demand from INWARD_PAPER_DATA."""
    if name not in _REGISTRY and name.startswith("paper:"):
        from inward.tasks.paper import register_paper_tasks

        register_paper_tasks(None)
    if name not in _REGISTRY:
        raise UserError(f"unknown task {name!r}; known tasks: {', '.join(names())}")
    return _REGISTRY[name]


def names(role: Role | None = None) -> list[str]:
    """Registered task names in registration order, optionally only those of one role."""
    return [n for n, t in _REGISTRY.items() if role is None or t.role == role]


def all_tasks() -> list[Task]:
    return list(_REGISTRY.values())


def stance_of(task: Task | str) -> str | None:
    """What a stance task's `ethical_stance` property asks about ('wealth-seeking', ...); None otherwise."""
    name = task if isinstance(task, str) else task.name
    return stance.STANCES.get(name.removeprefix("paper:"))


for _task in OFFLINE_TASKS:
    register(_task)
