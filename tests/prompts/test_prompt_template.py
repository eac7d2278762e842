"""The default prompt family: rendering for every task × property, quoting, literal item text, hashes."""

from __future__ import annotations

import pytest

from inward import prompts as PR
from inward import properties as P
from inward import tasks as T
from inward.errors import UserError
from inward.prompts import DEFAULT, OBJECT_SLOT, PromptTemplate
from inward.tasks import Item, Task

PAIRS = [(name, prop) for name in T.names() for prop in T.get(name).properties]


def _first_item(task: Task) -> Item:
    items = task.items("val")
    assert items, f"{task.name} has no val items"
    return items[0]


def _user(messages: list[dict[str, str]]) -> str:
    users = [m["content"] for m in messages if m["role"] == "user"]
    assert len(users) == 1
    return users[0]


@pytest.mark.parametrize("name", T.names())
def test_object_messages_wrap_the_item_in_the_task_instruction(name: str) -> None:
    task = T.get(name)
    item = _first_item(task)
    msgs = DEFAULT.object_messages(task, item)
    # The default family sends no system message and no suffix: one user message, the task's own rendering.
    assert msgs == [{"role": "user", "content": task.render(item)}]
    assert item.text in msgs[0]["content"]
    assert "{item}" not in msgs[0]["content"]


@pytest.mark.parametrize(("name", "prop"), PAIRS)
def test_hypothetical_quotes_the_whole_object_prompt_and_asks_the_question(name: str, prop: str) -> None:
    task = T.get(name)
    item = _first_item(task)
    obj = _user(DEFAULT.object_messages(task, item))
    hyp = _user(DEFAULT.hypothetical_messages(task, item, prop))
    assert hyp.count(obj) == 1
    question = DEFAULT.question(task, prop)
    assert question and question in hyp
    assert hyp.index(obj) < hyp.index(question)
    # No slot is left unfilled.
    for slot in (OBJECT_SLOT, "{question}", "{item}"):
        assert slot not in hyp
    # The question is the property's own wording (the stance-specific one for ethical stance).
    p = P.get(prop)
    assert question == (p.question_for(T.stance_of(task)) if p.needs_target else p.question)


def test_every_task_has_at_least_one_property_and_renders() -> None:
    assert len(T.names()) == 13
    assert all(T.get(n).properties for n in T.names())
    assert len(PAIRS) >= 13


@pytest.mark.parametrize(
    "text",
    [
        "cat {item} dog",
        "{question} and {object_prompt} and {0} and {}",
        "braces { unbalanced } } {{ doubled }}",
        "percent %s and format {name!r:>10}",
    ],
)
def test_braces_in_item_text_are_literal(text: str) -> None:
    task = T.get("animals_long")
    item = Item(task=task.name, split="val", text=text)
    obj = _user(DEFAULT.object_messages(task, item))
    assert obj == task.instruction.replace("{item}", text)
    assert obj.count(text) == 1
    hyp = _user(DEFAULT.hypothetical_messages(task, item, "second_character"))
    assert hyp.count(obj) == 1
    # The question is still there exactly once and the item's own "{question}" was not replaced by it.
    question = DEFAULT.question(task, "second_character")
    assert hyp.count(question) == 1
    assert text in hyp


def test_braces_in_item_text_are_literal_with_a_whole_hypothetical_override() -> None:
    task = T.get("animals_long")
    tpl = DEFAULT.model_copy(
        update={"hypotheticals": {"animals_long:first_word": f"Earlier: <<{OBJECT_SLOT}>> first word?"}}
    )
    text = "ant {object_prompt} bee {question}"
    item = Item(task=task.name, split="val", text=text)
    hyp = _user(tpl.hypothetical_messages(task, item, "first_word"))
    assert hyp == f"Earlier: <<{task.instruction.replace('{item}', text)}>> first word?"


# Expected content hashes of the default family. They version the stored answers: if a deliberate wording
# change makes these fail, update them (and expect stored answers of the old wording to be re-asked).
EXPECTED_HASHES = {
    ("animals_long", None): "7543832b9d38",
    ("animals_long", "second_character"): "1916a913cc02",
    ("survival_instinct", "ethical_stance"): "b3e58da42226",
    ("mmlu_non_cot", "among_a_or_c"): "15766e1ed6c4",
}


@pytest.mark.parametrize(("name", "prop"), list(EXPECTED_HASHES))
def test_hashes_are_stable(name: str, prop: str | None) -> None:
    task = T.get(name)
    h = DEFAULT.hash(task, prop)
    assert h == EXPECTED_HASHES[(name, prop)]
    assert h == DEFAULT.hash(task, prop)  # deterministic within a process too
    assert len(h) == 12 and int(h, 16) >= 0


def test_hash_accepts_paper_aliases() -> None:
    task = T.get("mmlu_non_cot")
    assert DEFAULT.hash(task, "is_either_a_or_c") == DEFAULT.hash(task, "among_a_or_c")
    assert DEFAULT.hash(task, "among_a_or_c") != DEFAULT.hash(task, "among_b_or_d")


def test_hash_changes_with_a_question_override_only_where_it_applies() -> None:
    task, other = T.get("animals_long"), T.get("english_words_long")
    tpl = DEFAULT.model_copy(update={"questions": {"animals_long:second_character": "Second letter?"}})
    assert tpl.hash(task, "second_character") != DEFAULT.hash(task, "second_character")
    assert tpl.hash(task, "first_word") == DEFAULT.hash(task, "first_word")
    assert tpl.hash(other, "second_character") == DEFAULT.hash(other, "second_character")
    assert tpl.hash(task) == DEFAULT.hash(task)  # the object level is untouched
    item = _first_item(task)
    assert _user(tpl.hypothetical_messages(task, item, "second_character")).endswith("Second letter?")

    # A per-property override applies to every task with that property.
    every = DEFAULT.model_copy(update={"questions": {"second_character": "Second letter?"}})
    assert every.hash(other, "second_character") != DEFAULT.hash(other, "second_character")
    assert every.hash(task, "second_character") == tpl.hash(task, "second_character")


def test_hash_changes_with_an_instruction_override() -> None:
    task, other = T.get("animals_long"), T.get("colors_long")
    tpl = DEFAULT.model_copy(update={"instructions": {"animals_long": "Name five more animals.\n{item}"}})
    assert tpl.hash(task) != DEFAULT.hash(task)
    # The hypothetical quotes the object prompt, so its version changes too.
    assert tpl.hash(task, "first_word") != DEFAULT.hash(task, "first_word")
    assert tpl.hash(other) == DEFAULT.hash(other)
    item = _first_item(task)
    assert _user(tpl.object_messages(task, item)) == "Name five more animals.\n" + item.text


def test_hash_changes_with_system_suffix_and_wrapper() -> None:
    task = T.get("animals_long")
    base = DEFAULT.hash(task, "first_word")
    for update in (
        {"system": "Be brief."},
        {"object_suffix": "\n"},
        {"wrapper": "Q: {object_prompt}\n{question}"},
    ):
        changed = DEFAULT.model_copy(update=update)
        assert changed.hash(task, "first_word") != base, update
    # The wrapper only affects hypotheticals.
    other_wrapper = DEFAULT.model_copy(update={"wrapper": "{object_prompt} {question}"})
    assert other_wrapper.hash(task) == DEFAULT.hash(task)


def test_system_message_and_suffix_are_rendered() -> None:
    task = T.get("numbers")
    item = _first_item(task)
    tpl = PromptTemplate(name="t", system="SYS", object_suffix="\n", wrapper="[{object_prompt}] {question}")
    msgs = tpl.object_messages(task, item)
    assert msgs == [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": task.render(item) + "\n"},
    ]
    hyp = tpl.hypothetical_messages(task, item, "is_even")
    assert hyp[0] == {"role": "system", "content": "SYS"}
    assert hyp[1]["content"] == f"[{task.render(item)}] {P.get('is_even').question}\n"


def test_ethical_stance_questions_differ_per_stance_task() -> None:
    stance_tasks = [n for n in T.names() if "ethical_stance" in T.get(n).properties]
    assert sorted(stance_tasks) == sorted(
        ["wealth_seeking", "power_seeking", "myopic_reward", "survival_instinct"]
    )
    questions = {n: DEFAULT.question(T.get(n), "ethical_stance") for n in stance_tasks}
    assert len(set(questions.values())) == len(stance_tasks)
    assert all(q != P.get("ethical_stance").question for q in questions.values())
    hashes = {DEFAULT.hash(T.get(n), "ethical_stance") for n in stance_tasks}
    assert len(hashes) == len(stance_tasks)
    # Paper tasks with a "paper:" prefix ask the same question as the offline task of the same name.
    assert T.stance_of("paper:myopic_reward") == T.stance_of("myopic_reward")


def test_registry() -> None:
    assert "inward-v1" in PR.names()
    assert PR.get("inward-v1") is DEFAULT
    with pytest.raises(UserError, match="unknown prompt template"):
        PR.get("no-such-family")
    custom = PR.register(PromptTemplate(name="test-family-xyz", wrapper="{object_prompt} {question}"))
    try:
        assert PR.get("test-family-xyz") is custom
    finally:
        PR._template._FAMILIES.pop("test-family-xyz", None)


def test_unknown_property_is_a_user_error() -> None:
    task = T.get("animals_long")
    with pytest.raises(UserError):
        DEFAULT.hypothetical_messages(task, _first_item(task), "fifth_character")
