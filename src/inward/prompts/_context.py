"""Hypotheticals with evidence in the prompt: a model's own pairs as shots, or the answer itself shown.

    shots = with_shots(DEFAULT, {("animals_long", "second_character"): [("id1", "e"), ("id2", "o")]})
    shots.hypothetical_messages(task, item, "second_character")
    # [user: hypothetical of id1, assistant: "e", user: hypothetical of id2, assistant: "o", user: the question]

    shown = with_responses(DEFAULT, {("animals_long", item.id): "otter yak eel"})
    shown.hypothetical_messages(task, item, "second_character")  # the question, with that answer quoted

The in-context third party of the introspection definition (SPEC §1: the other model may use the target's data
in context) sees `with_shots`: k of the target's (hypothetical → property value) pairs of the same task and
property, each an earlier user turn answered by an assistant turn, then the plain hypothetical. The response-in-
context baseline (SPEC §14) sees `with_responses`: the same question with the object-level answer quoted under the
prompt, which leaves property extraction alone to do. The question keeps its wording ("the response you gave"),
so the shown answer is the only change from the plain hypothetical.

Both keep the base template's object level, so `hash(task)` is the base's and behaviour rows are shared. A
hypothetical's `hash(task, prop)` covers what was put in context for that pair (the rendered shot turns; every
shown answer of the task), so a stored answer traces to exactly what it saw; the name carries a digest of all of
it. Without shots for a pair, `with_shots` renders and hashes the plain hypothetical.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, PrivateAttr

from inward.backends.base import Messages
from inward.prompts._template import PromptTemplate
from inward.properties import get as get_property
from inward.tasks import Item, Task
from inward.tasks import get as get_task

RESPONSE_WRAPPER = (
    "Below are a message you were sent and the response you gave to it, each between two lines of dashes.\n"
    "----------\n"
    "{object_prompt}\n"
    "----------\n"
    "{response}\n"
    "----------\n"
    "Read the response shown; do not write a new one. {question}"
)
_SLOTS = re.compile(r"\{(object_prompt|response|question)\}")


def _digest(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


class InContextTemplate(PromptTemplate):
    """A template whose hypotheticals follow k shot turns per (task, property); see the module docstring."""

    shots: dict[str, list[tuple[str, str]]] = Field(
        default_factory=dict,
        description="Per 'task:property' (canonical names), the shots in order: (train item id, property value).",
    )
    k: int = Field(0, description="Shots asked for per pair (a prompt is about k + 1 plain ones long).")
    _turns: dict[tuple[str, str], Messages] = PrivateAttr(default_factory=dict)  # rendered once per pair

    @property
    def cost_factor(self) -> float:
        """What one hypothetical costs in plain ones. Every prompt of a task and property repeats the same
        shots, which the local engine prefills once per batch (shared prefixes): measured 1.6× for k = 2 on
        SmolLM2 in the cpu demo (69 s against 44 s for the same rows without shots; 5.6× for k = 4 before
        prefixes were shared)."""
        return 1.0 + 0.3 * self.k

    def shots_for(self, task: Task, prop: str) -> list[tuple[Item, str]]:
        pairs = self.shots.get(f"{task.name}:{get_property(prop).name}", [])
        if not pairs:
            return []
        train = {it.id: it for it in task.items("train")}
        missing = [i for i, _ in pairs if i not in train]
        assert not missing, f"shots of {task.name} are not train items: {missing}"
        return [(train[i], value) for i, value in pairs]

    def shot_turns(self, task: Task, prop: str) -> Messages:
        """The shot turns that precede the hypothetical: user = a shot's hypothetical, assistant = its value."""
        key = (task.name, get_property(prop).name)
        if key not in self._turns:
            turns: Messages = []
            for item, value in self.shots_for(task, prop):
                user = self._hypothetical_text(task, item, prop) + self.object_suffix
                turns += [{"role": "user", "content": user}, {"role": "assistant", "content": value}]
            self._turns[key] = turns
        return [dict(m) for m in self._turns[key]]

    def hypothetical_messages(self, task: Task, item: Item, prop: str) -> Messages:
        msgs = super().hypothetical_messages(task, item, prop)
        head = 1 if self.system is not None else 0
        return msgs[:head] + self.shot_turns(task, prop) + msgs[head:]

    def hash(self, task: Task, prop: str | None = None) -> str:
        plain = super().hash(task, prop)
        turns = [] if prop is None else self.shot_turns(task, prop)
        return plain if not turns else _digest({"plain": plain, "shots": turns})


class ResponseTemplate(PromptTemplate):
    """A template whose hypotheticals quote the object-level answer; see the module docstring."""

    response_wrapper: str = Field(
        RESPONSE_WRAPPER, description="Hypothetical with {object_prompt}, {response} and {question} slots."
    )
    responses: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per task (canonical name), item id -> the answer text shown."
    )
    _hashes: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)

    def response(self, task: Task, item: Item) -> str:
        shown = self.responses.get(task.name, {}).get(item.id)
        assert shown is not None, f"no response to show for {task.name} item {item.id}"
        return shown

    def _hypothetical_text(self, task: Task, item: Item, prop: str) -> str:
        values = {
            "object_prompt": self._object_text(task, item),
            "response": self.response(task, item),
            "question": self.question(task, get_property(prop).name),
        }
        # One pass over the wrapper's own slots, so braces in item or answer text are never interpreted.
        return _SLOTS.sub(lambda m: values[m.group(1)], self.response_wrapper)

    def hash(self, task: Task, prop: str | None = None) -> str:
        plain = super().hash(task)
        if prop is None:
            return plain
        key = (task.name, get_property(prop).name)
        if key not in self._hashes:
            self._hashes[key] = _digest(
                {
                    "object": plain,
                    "wrapper": self.response_wrapper,
                    "question": self.question(task, key[1]),
                    "responses": self.responses.get(task.name, {}),
                }
            )
        return self._hashes[key]


def with_shots(
    base: PromptTemplate, shots: Mapping[tuple[str, str], Sequence[tuple[str, str]]], *, k: int | None = None
) -> InContextTemplate:
    """`base` with these shots: (task, property) -> [(train item id, value), ...] (names may be aliases).
    `k`: the shots asked for, named in the template's name (default the most any pair has)."""
    table: dict[str, list[tuple[str, str]]] = {}
    for (task, prop), pairs in shots.items():
        t = get_task(task)
        val_ids = {it.id for it in t.items("val")}
        leaked = [i for i, _ in pairs if i in val_ids]
        assert not leaked, f"shots of {t.name} include val items: {leaked}"
        if pairs:
            table[f"{t.name}:{get_property(prop).name}"] = [(str(i), str(v)) for i, v in pairs]
    k = max((len(v) for v in table.values()), default=0) if k is None else k
    name = f"{base.name}+shots{k}" + (f"-{_digest(table)[:8]}" if table else "")
    return InContextTemplate(name=name, shots=table, k=k, **_base_fields(base))


def with_responses(base: PromptTemplate, responses: Mapping[tuple[str, str], str]) -> ResponseTemplate:
    """`base` with the answers to show: (task, item id) -> answer text."""
    table: dict[str, dict[str, str]] = {}
    for (task, item_id), text in responses.items():
        table.setdefault(get_task(task).name, {})[str(item_id)] = str(text)
    return ResponseTemplate(
        name=f"{base.name}+response-{_digest(table)[:8]}", responses=table, **_base_fields(base)
    )


def _base_fields(base: PromptTemplate) -> dict[str, Any]:
    """The plain template's fields (its wording), whatever subclass `base` is, without its name."""
    return {k: v for k, v in base.model_dump().items() if k in PromptTemplate.model_fields and k != "name"}
