"""What a task and an item are.

A `Task` is an object-level task family: where its items come from, whether it is a training or a held-out task,
the instruction that wraps an item into an object-level prompt, which properties apply to its answers, and which
compliance rules its answers must pass. Tasks are plain data; the registry in `tasks/__init__.py` holds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Split = Literal["train", "val"]
Role = Literal["train", "held_out", "shift_only"]


def stable_id(*parts: str) -> str:
    """A short content hash: the same item gets the same id on every machine and run."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return h[:16]


@dataclass(frozen=True)
class Item:
    """One dataset row: the text that the task instruction wraps, and an optional target letter/word."""

    task: str
    split: Split
    text: str
    target: str | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", stable_id(self.task, self.text))


ItemSource = Callable[[Split], Sequence[Item]]


@dataclass(frozen=True)
class Task:
    """An object-level task family.

    `instruction` is a template with one `{item}` slot; the object-level user message is
    `instruction` with `{item}` replaced by the item text. `properties` lists the property names that apply to its answers
    (canonical names from `inward.properties`). `compliance` names the object-level compliance rule groups
    (SPEC §6.2) that its answers must pass.
    """

    name: str
    role: Role
    instruction: str
    properties: tuple[str, ...]
    compliance: tuple[str, ...]
    source: ItemSource = field(repr=False, compare=False)
    description: str = ""
    dataset: str = ""  # the paper dataset this mirrors (for loaders and reports)

    def items(self, split: Split) -> list[Item]:
        return list(self.source(split))

    def render(self, item: Item) -> str:
        return self.instruction.replace("{item}", item.text)
