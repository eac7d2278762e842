"""Answer cleaning as the paper's code does it *in effect*, and how much of a cleaned prefix is final.

    >>> clean("  Answer: The Dog!\\n")
    'answer the dog'

`clean(raw)` is applied to every object-level answer before a property is extracted (SPEC §6.1). The
paper's pipeline is: lower-case → drop every `string.punctuation` character → `\\n`, `\\r`, `\\t` → space →
collapse runs of whitespace (Python's `" ".join(s.split())`, which also strips both ends) → strip one leading
prefix from the list `Answer:`, `Answer :`, `Response:`, `Response :`, `Assistant:`, `Assistant :`,
`Assistant`.

Because the colon was already removed, the six prefixes that contain a colon can never match. The seventh,
a bare `Assistant`, does match, and the paper then keeps the rest *without* stripping it again:
`"Assistant: dog"` → `" dog"` (note the leading space) and `"Assistants are"` → `"s are"`. We reproduce this
effective behaviour so that property values agree with the paper's; `"Answer: dog"` stays `"answer dog"`.

`stable_length(cleaned)` is the key to stopping generation early: given only the cleaned text of a raw
*prefix* of an answer, it returns n such that the first n characters of the cleaned *full* answer are known to
equal `cleaned[:n]`, whatever the rest of the answer is. Two things can change already-cleaned text later on:

- the `assistant` strip: a cleaned prefix that is a proper prefix of "assistant" ("", "a", "as", …) may still
  turn into "assistant…" and lose its first nine characters, so nothing of it is stable;
- Greek capital sigma: `str.lower()` maps Σ to final ς when no cased letter follows it (skipping
  case-ignorable characters such as combining marks, `'` and `.`), so an ς that only case-ignorable characters
  follow may become σ once a letter arrives ("ΟΔΟΣ" → "οδος", "ΟΔΟΣΑ" → "οδοσα").

Everything else in the pipeline acts character by character (İ lower-cases to two code points, but always the
same two) or only at the end (trailing whitespace), which cannot change characters already seen.
"""

from __future__ import annotations

import functools
import string

ASSISTANT_PREFIX = "assistant"
_PUNCTUATION = frozenset(string.punctuation)
_FINAL_SIGMA = "\u03c2"


def clean(raw: str) -> str:
    """The cleaned answer from which properties are extracted (see the module docstring)."""
    s = raw.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    # `split()` treats \n, \r, \t (and all other Unicode whitespace) as separators, so the paper's explicit
    # newline/tab replacement is subsumed by the collapse.
    s = " ".join(s.split())
    # The paper's colon-bearing prefixes can never match after punctuation removal; only the bare one fires,
    # and what follows it is not stripped again.
    if s.lower().startswith(ASSISTANT_PREFIX):
        return s[len(ASSISTANT_PREFIX) :]
    return s


@functools.lru_cache(maxsize=8192)
def _case_ignorable(ch: str) -> bool:
    # Python exposes no Case_Ignorable predicate, so ask `str.lower()` itself: a case-ignorable character is
    # skipped when deciding whether Σ is word-final.
    return ("A\u03a3" + ch).lower()[1] == _FINAL_SIGMA and ("A\u03a3" + ch + "A").lower()[1] == "\u03c3"


def stable_length(cleaned: str) -> int:
    """How many leading characters of `cleaned` (the cleaned text of a raw answer prefix) are final.

    For every raw prefix p with `clean(p) == cleaned` and every continuation r of p,
    `clean(r)[:n] == cleaned[:n]` where `n = stable_length(cleaned)`.
    """
    if len(cleaned) < len(ASSISTANT_PREFIX) and ASSISTANT_PREFIX.startswith(cleaned):
        return 0
    i = cleaned.rfind(_FINAL_SIGMA)
    # An ς followed (up to the end of what we have) only by case-ignorable characters may still become σ.
    # We cannot see whether the raw text had a stopping character there that cleaning removed, so such an ς
    # counts as unsettled. Only the last ς can qualify: ς itself is cased, so it ends any earlier ς's run.
    if i != -1 and all(_case_ignorable(ch) for ch in cleaned[i + 1 :]):
        return i
    return len(cleaned)
