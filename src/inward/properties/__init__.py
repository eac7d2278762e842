"""Behaviour properties: what a hypothetical question asks about an object-level answer (SPEC §4, §6).

    >>> from inward import properties
    >>> answer = "Fox, goat and frog."
    >>> properties.get("second_character").extract(properties.clean(answer))
    'o'
    >>> properties.get("first_word").value(answer)
    'fox'
    >>> properties.compliance.check_hypothetical("o", properties.get("second_character")) is None
    True

- `clean(raw)`: the paper's answer cleaning, as its code behaves in effect.
- `get(name)`, `names()`, `all_properties()`: the registry; paper names (`is_either_a_or_c`…) are aliases.
- `Property.extract(cleaned, target)`, `.value(raw, target)`, `.determined(prefix_cleaned, finished)`,
  `.question` / `.question_for(stance)`.
- `compliance`: refusal/junk and format rules for object-level and hypothetical answers.
- `normalize_answer(raw)`, `answer_matches(raw, value)`: how a hypothetical answer is compared with a value.
"""

from __future__ import annotations

from inward.properties import compliance
from inward.properties._clean import clean
from inward.properties._property import STANCES, AnswerFormat, Property, normalize_stance
from inward.properties._registry import ALIASES, REPORTING_GROUPS, alias_stance, all_properties, get, names
from inward.properties.compliance import answer_matches, normalize_answer

__all__ = [
    "ALIASES",
    "REPORTING_GROUPS",
    "STANCES",
    "AnswerFormat",
    "Property",
    "alias_stance",
    "all_properties",
    "answer_matches",
    "clean",
    "compliance",
    "get",
    "names",
    "normalize_answer",
    "normalize_stance",
]
