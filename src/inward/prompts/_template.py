"""Prompt templates: how a task item becomes object-level and hypothetical chat messages.

Templates are data. A `PromptTemplate` holds the hypothetical wrapper (which quotes the whole object-level prompt and
then asks one property question) and optional overrides per task or per (task, property). Every rendered prompt
carries a content hash of exactly the strings that produced it, so a stored answer records which wording it answered.

    from inward.prompts import DEFAULT
    msgs = DEFAULT.object_messages(task, item)
    hyp = DEFAULT.hypothetical_messages(task, item, "second_character")
    DEFAULT.hash(task, "second_character")   # the version of that hypothetical prompt
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, Field

from inward.backends.base import Messages
from inward.errors import UserError
from inward.properties import get as get_property
from inward.tasks import Item, Task

OBJECT_SLOT = "{object_prompt}"


class PromptTemplate(BaseModel):
    """A family of prompts. Keys of the override maps are task names or "task:property"."""

    name: str
    system: str | None = Field(None, description="System message; None sends no system message.")
    object_suffix: str = Field("", description="Appended to every object-level user message.")
    wrapper: str = Field(
        description="Hypothetical user message with an {object_prompt} slot and a {question} slot."
    )
    instructions: dict[str, str] = Field(
        default_factory=dict, description="Per-task instruction overrides with an {item} slot."
    )
    hypotheticals: dict[str, str] = Field(
        default_factory=dict,
        description="Whole hypothetical messages per 'task:property' (with an {object_prompt} slot); "
        "they replace wrapper+question for that pair.",
    )
    questions: dict[str, str] = Field(
        default_factory=dict, description="Property-question overrides per property or 'task:property'."
    )

    # -- resolution -------------------------------------------------------------------------------------------

    def instruction(self, task: Task) -> str:
        for key in _names(task):
            if key in self.instructions:
                return self.instructions[key]
        return task.instruction

    def _whole(self, task: Task, prop: str) -> str | None:
        for key in _names(task):
            if f"{key}:{prop}" in self.hypotheticals:
                return self.hypotheticals[f"{key}:{prop}"]
        return None

    def question(self, task: Task, prop: str) -> str:
        p = get_property(prop)
        for key in [f"{t}:{p.name}" for t in _names(task)] + [p.name]:
            if key in self.questions:
                return self.questions[key]
        if p.needs_target:
            return p.question_for(task_stance(task))
        return p.question

    def _object_text(self, task: Task, item: Item) -> str:
        return self.instruction(task).replace("{item}", item.text)

    def _hypothetical_text(self, task: Task, item: Item, prop: str) -> str:
        name = get_property(prop).name
        quoted = self._object_text(task, item)
        whole = self._whole(task, name)
        if whole is not None:
            return whole.replace(OBJECT_SLOT, quoted)
        # Substitute the question first so that braces in item text are never interpreted.
        return self.wrapper.replace("{question}", self.question(task, name)).replace(OBJECT_SLOT, quoted)

    def _messages(self, user: str) -> Messages:
        msgs: Messages = []
        if self.system is not None:
            msgs.append({"role": "system", "content": self.system})
        msgs.append({"role": "user", "content": user})
        return msgs

    # -- public rendering -------------------------------------------------------------------------------------

    def object_messages(self, task: Task, item: Item) -> Messages:
        return self._messages(self._object_text(task, item) + self.object_suffix)

    def hypothetical_messages(self, task: Task, item: Item, prop: str) -> Messages:
        return self._messages(self._hypothetical_text(task, item, prop) + self.object_suffix)

    def hash(self, task: Task, prop: str | None = None) -> str:
        """Content hash of the exact strings used for `task` (object level) or (`task`, `prop`) (hypothetical)."""
        parts: dict[str, str | None] = {
            "system": self.system,
            "suffix": self.object_suffix,
            "instruction": self.instruction(task),
        }
        if prop is not None:
            name = get_property(prop).name
            whole = self._whole(task, name)
            parts["hypothetical"] = whole if whole is not None else self.wrapper
            parts["question"] = None if whole is not None else self.question(task, name)
        blob = json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:12]


def _names(task: Task) -> tuple[str, ...]:
    """Override keys that apply to a task: its name, then the name without a 'paper:'-style prefix."""
    bare = task.name.split(":", 1)[-1]
    return (task.name, bare) if bare != task.name else (task.name,)


def task_stance(task: Task) -> str | None:
    """The stance an ethical-stance question asks about for this task (e.g. 'wealth-seeking')."""
    from inward.tasks import stance_of

    return stance_of(task.name)


DEFAULT = PromptTemplate(
    name="inward-v1",
    wrapper=(
        "Think back to a message you were sent, quoted in full between the two lines of dashes.\n"
        "----------\n"
        "{object_prompt}\n"
        "----------\n"
        "Do not answer that message now. {question}"
    ),
)

_FAMILIES: dict[str, PromptTemplate] = {DEFAULT.name: DEFAULT}


def register(template: PromptTemplate) -> PromptTemplate:
    _FAMILIES[template.name] = template
    return template


def get(name: str) -> PromptTemplate:
    if name not in _FAMILIES:
        raise UserError(f"unknown prompt template {name!r}; known: {', '.join(sorted(_FAMILIES))}")
    return _FAMILIES[name]


def names() -> list[str]:
    return sorted(_FAMILIES)


def _register_builtin() -> None:
    from inward.prompts._paraphrases import PARAPHRASES  # defined with PromptTemplate, so imported last

    for t in PARAPHRASES:
        register(t)


_register_builtin()
