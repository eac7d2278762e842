"""Reproduce the paper's exact prompts from its public dataset release, without copying its wording into code.

Each release row holds an object-level prompt and a hypothetical prompt. From the rows we recover, per
dataset, the instruction (the object prompt with the item cut out) and, per (dataset, property), the whole
hypothetical message (with the quoted object prompt cut out). The result is an ordinary `PromptTemplate`
named "paper-release", which renders the release prompts exactly and also applies to other items of the
same datasets (e.g. the paper's `val_<name>.jsonl` files). Rows that disagree (two instructions or two
question wordings for one dataset) are a UserError: load them separately.

    rows, problems = inward.tasks.paper.load_release(path)
    template = template_from_release(rows)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inward.errors import UserError
from inward.prompts._template import OBJECT_SLOT, PromptTemplate

NAME = "paper-release"


def _user_text(messages: Any) -> str:
    msgs = [m if isinstance(m, dict) else m.model_dump() for m in messages]
    users = [m for m in msgs if m["role"] == "user"]
    if len(users) != 1:
        raise UserError(f"a release prompt has {len(users)} user messages; expected exactly one")
    return str(users[0]["content"])


def _has_system(messages: Any) -> bool:
    msgs = [m if isinstance(m, dict) else m.model_dump() for m in messages]
    return any(m["role"] == "system" for m in msgs)


def template_from_release(rows: Iterable[Any], *, name: str = NAME) -> PromptTemplate:
    """Derive a template family from release rows (pydantic `ReleaseRow`s or dicts with the same fields)."""
    from inward.properties import get as get_property

    instructions: dict[str, str] = {}
    hypotheticals: dict[str, str] = {}
    suffix: str | None = None
    system: str | None = None
    for row in rows:
        r = row if isinstance(row, dict) else row.model_dump()
        dataset, question = r["original_dataset"], r["original_question"]
        obj = _user_text(r["object_level_prompt"])
        hyp = _user_text(r["hypothetical_prompt"])
        row_suffix = "\n" if obj.endswith("\n") and hyp.endswith("\n") else ""
        if suffix is None:
            suffix = row_suffix
            system = "" if _has_system(r["object_level_prompt"]) else None
        elif suffix != row_suffix:
            raise UserError(
                f"release rows disagree on the trailing newline (dataset {dataset}); split the files"
            )
        obj_text = obj[: len(obj) - len(row_suffix)]
        hyp_text = hyp[: len(hyp) - len(row_suffix)]
        if obj_text.count(question) != 1:
            raise UserError(
                f"release row of {dataset}: the item does not occur exactly once in its object prompt"
            )
        instruction = obj_text.replace(question, "{item}")
        if instructions.setdefault(dataset, instruction) != instruction:
            raise UserError(f"release rows of {dataset} use more than one instruction; load them separately")
        if hyp_text.count(obj_text) != 1:
            raise UserError(
                f"release row of {dataset}: the hypothetical does not quote its object prompt once"
            )
        prop = get_property(r["behavioral_property"]).name
        whole = hyp_text.replace(obj_text, OBJECT_SLOT)
        if hypotheticals.setdefault(f"{dataset}:{prop}", whole) != whole:
            raise UserError(
                f"release rows of {dataset} word the {prop} question in more than one way; "
                "load them separately"
            )
    if suffix is None:
        raise UserError("no release rows to derive a template from")
    return PromptTemplate(
        name=name,
        system=system,
        object_suffix=suffix,
        wrapper=OBJECT_SLOT + " {question}",
        instructions=instructions,
        hypotheticals=hypotheticals,
    )
