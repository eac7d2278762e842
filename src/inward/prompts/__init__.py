"""Prompt templates (object-level and hypothetical messages), versioned by content hash."""

from inward.prompts._context import InContextTemplate, ResponseTemplate, with_responses, with_shots
from inward.prompts._template import DEFAULT, OBJECT_SLOT, PromptTemplate, get, names, register
from inward.prompts.release import template_from_release

__all__ = [
    "DEFAULT",
    "OBJECT_SLOT",
    "InContextTemplate",
    "PromptTemplate",
    "ResponseTemplate",
    "get",
    "names",
    "register",
    "template_from_release",
    "with_responses",
    "with_shots",
]
