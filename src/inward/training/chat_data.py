"""The one training-data format: OpenAI chat JSONL.

One JSON object per line::

    {"messages": [{"role": "system", "content": ""},
                  {"role": "user", "content": "Previously, you were asked ..."},
                  {"role": "assistant", "content": "b", "weight": 1}],
     "string": "..."}

The same file feeds the local LoRA trainer and the OpenAI fine-tuning API. Which tokens carry loss follows
OpenAI's rules, so both trainers learn the same thing: every assistant message is trained on unless it has
``"weight": 0``; system and user messages never are. Keys other than ``messages`` (the paper writes
``"string"``) are kept in ``ChatExample.extra`` and ignored by training.

    examples = load_chat_jsonl("train.jsonl")      # raises UserError naming each bad line by number
    problems = validate_chat_jsonl("train.jsonl")  # the same checks, as a list of "line N: ..." strings
    write_chat_jsonl(examples, "copy.jsonl")
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inward.errors import UserError

Role = Literal["system", "user", "assistant"]
MAX_REPORTED_PROBLEMS = 10


class ChatMessage(BaseModel):
    """One chat turn. `weight` is only allowed on assistant messages (OpenAI's rule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str
    weight: Literal[0, 1] | None = None

    @property
    def trained(self) -> bool:
        """Whether this message's tokens carry loss."""
        return self.role == "assistant" and self.weight != 0


class ChatExample(BaseModel):
    """One training conversation; `extra` holds the row's other keys (e.g. the paper's "string")."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[ChatMessage, ...]
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def last_trained_index(self) -> int:
        """Index of the last message with loss; messages after it never influence training."""
        return max(i for i, m in enumerate(self.messages) if m.trained)

    def to_json(self) -> dict[str, Any]:
        msgs = [m.model_dump(exclude_none=True) for m in self.messages]
        return {"messages": msgs, **self.extra}


def parse_chat_line(line: str) -> ChatExample:
    """Parse one JSONL line; raises ValueError with a short reason."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    if not isinstance(row.get("messages"), list) or not row["messages"]:
        raise ValueError('needs a non-empty "messages" list')
    messages = []
    for i, m in enumerate(row["messages"]):
        try:
            msg = ChatMessage.model_validate(m)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"message {i}: {where}: {err['msg']}") from None
        if msg.weight is not None and msg.role != "assistant":
            raise ValueError(f'message {i}: "weight" is only allowed on assistant messages')
        messages.append(msg)
    if not any(m.trained for m in messages):
        raise ValueError('no assistant message to learn from (add one, or drop "weight": 0)')
    extra = {k: v for k, v in row.items() if k != "messages"}
    return ChatExample(messages=tuple(messages), extra=extra)


def _read(path: str | os.PathLike[str]) -> tuple[list[ChatExample], list[str]]:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"training data {p} does not exist: pass a chat JSONL file")
    examples: list[ChatExample] = []
    problems: list[str] = []
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read training data {p} ({e.strerror}); check its permissions") from None
    # Lines end at "\n" only (as JSON Lines says); each is decoded alone so a bad byte names its line.
    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue  # a trailing newline or blank separator line is harmless
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {n}: not UTF-8 text")
            continue
        try:
            examples.append(parse_chat_line(line))
        except ValueError as e:
            problems.append(f"line {n}: {e}")
    if not examples and not problems:
        problems.append("the file has no examples")
    return examples, problems


def validate_chat_jsonl(path: str | os.PathLike[str]) -> list[str]:
    """All problems in the file as "line N: reason" strings; empty when the file is fine."""
    return _read(path)[1]


def load_chat_jsonl(path: str | os.PathLike[str]) -> list[ChatExample]:
    """Load and validate a chat JSONL file; any bad line raises a UserError that names the lines."""
    examples, problems = _read(path)
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED_PROBLEMS])
        more = (
            f" (and {len(problems) - MAX_REPORTED_PROBLEMS} more)"
            if len(problems) > MAX_REPORTED_PROBLEMS
            else ""
        )
        raise UserError(f"{path}: {len(problems)} bad line(s): {shown}{more}. Fix them and re-run.")
    return examples


def write_chat_jsonl(examples: Iterable[ChatExample], path: str | os.PathLike[str]) -> Path:
    """Write examples as chat JSONL (atomically: a crash never leaves a half-written file)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")
    os.replace(tmp, p)
    return p


def examples_digest(examples: Iterable[ChatExample]) -> str:
    """A content hash of the examples (order matters): ties checkpoints and results to their data."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps(ex.to_json(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def as_examples(data: str | os.PathLike[str] | Iterable[ChatExample]) -> list[ChatExample]:
    """Accept a path to a chat JSONL file or examples already in memory."""
    if isinstance(data, (str, os.PathLike)):
        return load_chat_jsonl(data)
    return list(data)
