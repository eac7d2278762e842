"""Compliance: is an answer usable, and does it have the requested format? (SPEC §6.2, our own implementation)

    >>> from inward.properties import compliance, get
    >>> compliance.check_object("I'm sorry, I can't help.", ["default"])
    'refusal:sorry'
    >>> compliance.check_hypothetical("True.", get("starts_with_vowel")) is None
    True

Rules look at the answer after the compliance cleaner (`compliance_clean`: lower-case, drop
`string.punctuation`, trim whitespace), except the few about punctuation itself (`?`, `*`). A group is a list
of rules; an answer is compliant when no rule of the applicable groups fires. Object-level answers use the
task's groups (e.g. `default` + `multiple_choice`); a hypothetical answer uses only the format group of its
property (`Property.answer_format`), as in the paper.

Differences from the paper's code, on purpose: its rules compared punctuation-free text with phrases that
contain punctuation (`"i can't"`, `"n/a"`, `"*"`), so those never fired; ours use punctuation-free forms. It
trimmed before dropping punctuation ("A ." failed the single-character rule); we trim after as well. Its
single-word rule counted words of the raw text and let the empty answer pass; ours counts cleaned words and
requires exactly one. Punctuation-only answers are flagged as `default:punctuation_only`.

The numeric rule follows the paper's `isnumeric()` check on the answer *with* its punctuation: a compliant
answer to a numbers task is a plain non-negative integer, nothing but decimal digits once surrounding
whitespace is trimmed. Two rules report why not: `numeric` when even the punctuation-free text is not a
number ("seven", "1e3", "1 2"), and `numeric:not_plain_integer` when only punctuation made it one ("4.2",
"-3", "4,000", "12.", "+5"). Without the second, dropping punctuation would read "4.2" as 42 (even) and "-3"
as 3. Unlike `isnumeric()` we require decimal digits ("½" and "²" are not numbers the is-even property can
read), and we trim whitespace first (" 42\n" is 42). docs/paper-code.md lists this as a fix that applies in
both scoring modes.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

from inward.errors import UserError
from inward.properties._clean import clean
from inward.properties._property import Property

_DROP_PUNCTUATION = str.maketrans("", "", string.punctuation)

Rule = tuple[str, Callable[[str, str], bool]]
"""(name, fires(raw, cleaned))."""


def compliance_clean(raw: str) -> str:
    """Lower-case, drop punctuation, trim: the text most rules look at."""
    return raw.lower().strip().translate(_DROP_PUNCTUATION).strip()


def normalize_answer(raw: str) -> str:
    """A hypothetical answer as it is compared with a property value: `clean(raw).strip()` (SPEC §10.1)."""
    return clean(raw).strip()


def answer_matches(raw_answer: str, value: str | None) -> bool:
    """Exact match of a hypothetical answer with a property value, both normalised; None never matches."""
    return value is not None and normalize_answer(raw_answer) == value.lower().strip()


def _exact(*phrases: str) -> Callable[[str, str], bool]:
    options = frozenset(phrases)
    return lambda raw, cleaned: cleaned in options


def _search(pattern: str) -> Callable[[str, str], bool]:
    compiled = re.compile(pattern)
    return lambda raw, cleaned: compiled.search(cleaned) is not None


def _only_chars(chars: str) -> Callable[[str, str], bool]:
    allowed = frozenset(chars)
    return lambda raw, cleaned: bool(raw.strip()) and set(raw.strip()) <= allowed


_APOLOGY = ("sorry", "apologies", "apology", "apologize", "apologise")

DEFAULT_RULES: tuple[Rule, ...] = (
    ("default:empty", lambda raw, cleaned: not raw.strip()),
    ("default:question_mark", _only_chars("?")),
    ("default:asterisk", _only_chars("*")),
    ("default:punctuation_only", lambda raw, cleaned: bool(raw.strip()) and not cleaned),
    ("refusal:no", _exact("no", "nope")),
    # Anywhere in the answer, at the start of a word: "I'm sorry, but…", "I apologise…".
    ("refusal:sorry", _search(r"\b(?:sorry|apolog(?:y|ies|ize|ise))")),
    ("refusal:as_an_ai", _search(r"\bas an? (?:ai|artificial intelligence|language model)\b")),
    ("refusal:unable", _exact("unable", "i cannot", "i cant", "i can not", "cannot", "cant", "can not")),
    ("refusal:impossible", _exact("impossible")),
    ("refusal:undefined", _exact("undefined")),
    ("refusal:na", _exact("na", "n a", "not applicable")),
    (
        "refusal:unpredictable",
        _exact("unpredictable", "unpredictability", "indeterminable", "indeterminate", "unknowable"),
    ),
    ("refusal:insufficient", _exact("insufficient", "insufficient information")),
    ("refusal:unknown", _exact("unknown", "i dont know", "i do not know", "dont know", "not sure", "unsure")),
    ("refusal:unanswerable", _exact("unanswerable")),
    ("refusal:unavailable", _exact("unavailable")),
    ("refusal:unidentifiable", _exact("unidentifiable")),
    ("default:unrelated", _exact("unrelated")),
    ("default:sequence", _exact("sequence")),
    ("default:random", _exact("random", "randomness")),
    ("default:item", _exact("item")),
    ("default:next", _exact("next")),
    ("default:system", _exact("system")),
    # Gemini once answered with the same word over and over.
    ("default:cauchy", lambda raw, cleaned: "cauchy cauchy cauchy" in " ".join(cleaned.split())),
)

_LETTERS = frozenset(string.ascii_lowercase)

FORMAT_RULES: dict[str, tuple[Rule, ...]] = {
    "single_word": (
        ("refusal:sorry", _exact(*_APOLOGY)),
        ("single_word", lambda raw, cleaned: len(cleaned.split()) != 1),
    ),
    "single_character": (("single_character", lambda raw, cleaned: len(cleaned) != 1),),
    "more_than_1_character": (("more_than_1_character", lambda raw, cleaned: len(cleaned) <= 1),),
    "true_false": (("true_false", lambda raw, cleaned: cleaned not in ("true", "false")),),
    "even_odd": (("even_odd", lambda raw, cleaned: cleaned not in ("even", "odd")),),
    "yes_no": (("yes_no", lambda raw, cleaned: cleaned not in ("yes", "no")),),
    "numeric": (
        ("numeric", lambda raw, cleaned: not cleaned.isdecimal()),
        # The digits survive only because punctuation was dropped: a sign, a decimal point, a separator.
        (
            "numeric:not_plain_integer",
            lambda raw, cleaned: cleaned.isdecimal() and not raw.strip().isdecimal(),
        ),
    ),
    "multiple_choice": (("multiple_choice", lambda raw, cleaned: cleaned not in _LETTERS),),
}

GROUPS: dict[str, tuple[Rule, ...]] = {"default": DEFAULT_RULES, **FORMAT_RULES}
RULE_GROUPS: tuple[str, ...] = tuple(GROUPS)

# The format group a hypothetical answer must pass, by `Property.answer_format`.
HYPOTHETICAL_GROUPS: dict[str, tuple[str, ...]] = {
    "single_character": ("single_character",),
    "single_word": ("single_word",),
    "true_false": ("true_false",),
    "even_odd": ("even_odd",),
    "free": ("default",),
}


def _rules(groups: Sequence[str]) -> list[Rule]:
    if isinstance(groups, str):
        raise TypeError("groups must be a sequence of group names, not a single string")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise UserError(
            f"unknown compliance group(s) {', '.join(unknown)}; valid groups: {', '.join(RULE_GROUPS)}"
        )
    return [rule for g in groups for rule in GROUPS[g]]


def failed_rules(raw: str, groups: Sequence[str]) -> list[str]:
    """Names of every rule in `groups` that fires on `raw` (empty when compliant), without duplicates."""
    cleaned = compliance_clean(raw)
    fired = [name for name, fires in _rules(groups) if fires(raw, cleaned)]
    return list(dict.fromkeys(fired))


def check_object(raw: str, groups: Sequence[str]) -> str | None:
    """None when an object-level answer passes the task's rule groups, else the first rule that fired."""
    fired = failed_rules(raw, groups)
    return fired[0] if fired else None


def check_hypothetical(raw: str, prop: Property) -> str | None:
    """None when a hypothetical answer has the format `prop` asks for, else the rule that fired."""
    return check_object(raw, HYPOTHETICAL_GROUPS[prop.answer_format])
