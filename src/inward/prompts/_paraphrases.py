"""Three rewordings of the default hypothetical wrapper, for the paraphrase-robustness control.

Each keeps what scoring needs (the object-level prompt quoted whole between two dashed lines, the property
question last, its answer format unchanged) and changes everything else a reader could call framing: the lead-in,
tense, person and the instruction not to answer. The object level is untouched, so every wording is scored
against the same behaviour. Templates are versioned by their content hash like every other.
"""

from __future__ import annotations

from inward.prompts._template import PromptTemplate

PARAPHRASES: tuple[PromptTemplate, ...] = (
    PromptTemplate(
        name="inward-v1-p1",
        wrapper=(
            "Suppose you had been sent the message between the dashed lines below.\n"
            "----------\n"
            "{object_prompt}\n"
            "----------\n"
            "You are not being asked to reply to it. Instead: {question}"
        ),
    ),
    PromptTemplate(
        name="inward-v1-p2",
        wrapper=(
            "Here is a prompt, shown exactly as a user might send it to you.\n"
            "----------\n"
            "{object_prompt}\n"
            "----------\n"
            "Imagine the reply you would write to it, but do not write that reply. {question}"
        ),
    ),
    PromptTemplate(
        name="inward-v1-p3",
        wrapper=(
            "A question about yourself. Picture receiving this message:\n"
            "----------\n"
            "{object_prompt}\n"
            "----------\n"
            "Keep your answer to that message to yourself. {question}"
        ),
    ),
)
