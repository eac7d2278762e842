"""Property values of constructed raw answers, against hand-worked values and the paper's definitions."""

from __future__ import annotations

import pytest
from properties_reference import REFERENCE, ref_clean

from inward import properties
from inward.properties import clean, get

# ----------------------------------------------------------------------------------------------------
# 1. Hand-worked rows: raw answer → cleaned text and a few values, reasoned out from the definitions by hand.
# ----------------------------------------------------------------------------------------------------

HAND = [
    # raw, cleaned, {property: value}
    ("dog cat bird", "dog cat bird", {"first_word": "dog", "third_word": "bird", "second_character": "o"}),
    ("Dog, Cat, Bird.", "dog cat bird", {"second_word": "cat", "first_and_second_character": "do"}),
    ("  Elephant\n\tlion ", "elephant lion", {"starts_with_vowel": "true", "third_word": None}),
    ("Answer: dog", "answer dog", {"first_word": "answer", "second_word": "dog", "first_character": "a"}),
    ("Response: cat", "response cat", {"first_word": "response"}),
    # The paper's bare "Assistant" prefix does fire, and the rest is not stripped again.
    ("Assistant: dog", " dog", {"first_character": " ", "second_character": "d", "first_word": "dog"}),
    ("Assistants are", "s are", {"first_word": "s", "second_word": "are", "starts_with_vowel": "false"}),
    ("assistant", "", {"first_character": None, "identity": "", "among_a_or_c": "false"}),
    ("", "", {"first_character": None, "first_word": None, "starts_with_vowel": None, "is_even": None}),
    ("   \n\t ", "", {"second_character": None, "identity": ""}),
    ("!!!", "", {"first_character": None}),
    ("A", "a", {"among_a_or_c": "true", "among_b_or_d": "false", "starts_with_vowel": "true"}),
    (" (C) ", "c", {"among_a_or_c": "true", "first_character": "c"}),
    ("B.", "b", {"among_b_or_d": "true", "among_a_or_c": "false"}),
    ("The answer is A", "the answer is a", {"among_a_or_c": "false", "third_word": "is"}),
    ("7", "7", {"is_even": "odd", "first_character": "7", "second_character": None}),
    ("  12\n", "12", {"is_even": "even", "first_and_second_character": "12"}),
    ("-4", "4", {"is_even": "even"}),  # the minus sign is punctuation and disappears
    ("3.5", "35", {"is_even": "odd"}),  # so does the decimal point
    ("1 2", "1 2", {"is_even": None, "second_word": "2"}),
    ("1_000", "1000", {"is_even": "even"}),
    ("٣", "٣", {"is_even": "odd"}),  # Arabic-Indic three: int() reads it
    ("３４", "３４", {"is_even": "even"}),  # fullwidth digits
    ("½", "½", {"is_even": None}),
    ("seven", "seven", {"is_even": None, "third_character": "v"}),
    ("İstanbul", "i̇stanbul", {"first_character": "i", "second_character": "\u0307", "third_character": "s"}),
    ("ΟΔΟΣ", "οδος", {"first_word": "οδος"}),
    ("ΟΔΟΣ ΑΒ", "οδος αβ", {"first_word": "οδος"}),
    ("ΟΔΟΣ.Α", "οδοσα", {"first_word": "οδοσα"}),  # '.' is case-ignorable, so Σ is not word-final
    ("👍 yes", "👍 yes", {"first_character": "👍", "second_word": "yes", "starts_with_vowel": "false"}),
    ('"Quoted"', "quoted", {"first_character": "q", "identity": "quoted"}),
    ("don't", "dont", {"first_word": "dont", "third_character": "n"}),
    ("Über café", "über café", {"starts_with_vowel": "false", "second_word": "café"}),
    ("Éclair", "éclair", {"starts_with_vowel": "false"}),  # only the five ASCII vowels count
    ("e.g. owl", "eg owl", {"starts_with_vowel": "true", "second_word": "owl"}),
    ("a\u00a0b", "a b", {"second_word": "b"}),  # no-break space is whitespace to split()
    ("a\u200bb", "a\u200bb", {"second_word": None}),  # zero-width space is not
]


@pytest.mark.parametrize(("raw", "cleaned", "expected"), HAND, ids=[repr(r[0]) for r in HAND])
def test_hand_worked_values(raw: str, cleaned: str, expected: dict[str, str | None]) -> None:
    assert clean(raw) == cleaned
    assert ref_clean(raw) == cleaned  # the reference agrees with the hand-worked reading too
    for name, value in expected.items():
        assert get(name).extract(cleaned) == value, name
        assert REFERENCE[name](cleaned, None) == value, name


def test_ethical_stance_hand_worked() -> None:
    stance = get("ethical_stance")
    assert stance.value("B", target="B") == "true"
    assert stance.value(" b. ", target="B") == "true"
    assert stance.value("A", target="B") == "false"
    assert stance.value("B) Yes", target="B") == "false"
    assert stance.value("Assistant: B", target="B") == "true"  # " b" is stripped before comparing
    assert stance.value("B", target=None) is None


# ----------------------------------------------------------------------------------------------------
# 2. A table of 200+ constructed raw answers: every property against the literal reference.
# ----------------------------------------------------------------------------------------------------

BASE = [
    "dog",
    "Dog cat mouse",
    "fox goat frog horse snake",
    "Elephant, owl, iguana.",
    "Umbrella",
    "apple pie",
    "A",
    "b",
    "C",
    "d",
    "E",
    "A) Paris",
    "(B)",
    "Answer: C",
    "The answer is D.",
    "0",
    "1",
    "8",
    "19",
    "-3",
    "2.0",
    "1,024",
    "99 bottles",
    "True",
    "false",
    "Even",
    "odd",
    "I'm sorry, I can't help with that.",
    "As an AI language model, I cannot predict that.",
    "Yes!",
    "no",
    "?",
    "...",
    "*",
    "",
    " ",
    "\n\n",
    "\t",
    "ΣΙΣΥΦΟΣ",
    "Σ",
    "aΣ",
    "İ",
    "ß",
    "ŉ",
    "K",  # Kelvin sign
    "e\u0301clair",
    "🙂🙂🙂",
    "🐶 dog",
    "Ça va",
    "naïve idea",
    "Assistant",
    "assistant: the fox",
    "ASSISTANT dog",
    "Response: owl",
    "Answer : eel",
    "line one\nline two\nline three",
    "tab\tseparated\twords",
    "carriage\r\nreturn",
    "'single quotes'",
    '"double quotes"',
    "«guillemets»",
    "“curly”",
    "hyphen-ated words",
    "under_score",
    "slash/separated",
    "3 2 1",
    "٢",
    "x",
    "xy",
    "xyz",
    "  padded  ",
]

DECORATIONS = [
    lambda s: s,
    lambda s: s.upper(),
    lambda s: f"  {s}.\n",
    lambda s: f'"{s}"',
    lambda s: f"Answer: {s}",
    lambda s: f"{s}\n\nI hope this helps!",
]

TABLE = list(dict.fromkeys(deco(s) for s in BASE for deco in DECORATIONS))
TARGETS = ["A", "B", "c", "D"]


def test_table_is_large_and_varied() -> None:
    assert len(TABLE) >= 200
    assert any(not clean(r) for r in TABLE) and any(clean(r).startswith(" ") for r in TABLE)


@pytest.mark.parametrize("index", range(len(TABLE)))
def test_every_property_matches_reference(index: int) -> None:
    raw = TABLE[index]
    target = TARGETS[index % len(TARGETS)]
    cleaned = clean(raw)
    assert cleaned == ref_clean(raw)
    for prop in properties.all_properties():
        t = target if prop.needs_target else None
        expected = REFERENCE[prop.name](cleaned, t)
        assert prop.extract(cleaned, t) == expected, (prop.name, raw)
        assert prop.value(raw, t) == expected, (prop.name, raw)
        if prop.values is not None and expected is not None:
            assert expected in prop.values
