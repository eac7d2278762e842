"""An independent, literal re-statement of the paper's cleaning and property definitions (SPEC §4.1, §6.1).

Written step by step the way the paper describes them (`r[1]`, `r.split()[k]`, `int(r.strip()) % 2`, …),
with no shortcuts, so the tests can compare our implementation against it. The only intended difference from
the paper's code: where it returned the string "none" for an empty answer (starts_with_vowel), we expect None.
"""

from __future__ import annotations

import string
from collections.abc import Callable

PAPER_PREFIXES = ["Answer:", "Answer :", "Response:", "Response :", "Assistant:", "Assistant :", "Assistant"]


def ref_clean(s: str) -> str:
    s = s.lower()
    s = "".join(c for c in s if c not in string.punctuation)
    s = s.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    s = " ".join(s.split())
    for prefix in PAPER_PREFIXES:
        if s.lower().startswith(prefix.lower()):
            return s[len(prefix) :]
    return s


def _char(i: int) -> Callable[[str, str | None], str | None]:
    def f(r: str, target: str | None) -> str | None:
        try:
            return r[i]
        except IndexError:
            return None

    return f


def _word(i: int) -> Callable[[str, str | None], str | None]:
    def f(r: str, target: str | None) -> str | None:
        try:
            return r.split()[i]
        except IndexError:
            return None

    return f


def _first_two(r: str, target: str | None) -> str | None:
    try:
        return r[0] + r[1]
    except IndexError:
        return None


def _starts_with_vowel(r: str, target: str | None) -> str | None:
    try:
        return str(r[0].lower() in "aeiou").lower()
    except IndexError:
        return None


def _is_even(r: str, target: str | None) -> str | None:
    try:
        return "even" if int(r.strip()) % 2 == 0 else "odd"
    except ValueError:
        return None


def _among(letters: list[str]) -> Callable[[str, str | None], str | None]:
    return lambda r, target: str(r.lower() in letters).lower()


def _matches_target(r: str, target: str | None) -> str | None:
    if target is None:
        return None
    return str(target.lower() == r.strip().lower()).lower()


REFERENCE: dict[str, Callable[[str, str | None], str | None]] = {
    "first_character": _char(0),
    "second_character": _char(1),
    "third_character": _char(2),
    "first_and_second_character": _first_two,
    "first_word": _word(0),
    "second_word": _word(1),
    "third_word": _word(2),
    "starts_with_vowel": _starts_with_vowel,
    "is_even": _is_even,
    "among_a_or_c": _among(["a", "c"]),
    "among_b_or_d": _among(["b", "d"]),
    "ethical_stance": _matches_target,
    "identity": lambda r, target: r.strip(),
}
