"""Sequence tasks: space-separated lists the model is asked to continue (SPEC §3.1 generation rules).

    from inward.tasks.sequences import countries_long
    countries_long().val[0]   # ('...', None): 3-6 countries, no repeats

| task | rule | train / val |
|---|---|---|
| countries_long | 3-6 of 100 countries, without replacement | 5000 / 5000 |
| colors_long | exactly 5 of 100 colours, without replacement | 5000 / 5000 |
| numbers | 3-6 digits 0-9, with replacement | 5000 / 5000 |
| animals_long | 7-10 of 30 animals, with replacement, trailing space | 10000 / 2500 |
| english_words_long | 5 words from the web2 list, trailing space | 10000 / 2500 |

Sizes follow the paper's files. Strings are unique across both splits; the first `n_val` draws are validation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from inward.tasks._build import Rows, draw_unique, seeded, split_off
from inward.tasks.wordlists import ANIMALS, COLORS, COUNTRIES, english_words


def _sequences(
    task: str,
    words: Sequence[str],
    lengths: tuple[int, int],
    *,
    replace: bool,
    n_train: int,
    n_val: int,
    tail: str = "",
) -> Rows:
    rng = seeded(task)

    def draw() -> str:
        k = rng.randint(*lengths)
        picked = rng.choices(words, k=k) if replace else rng.sample(words, k)
        return " ".join(picked) + tail

    texts = draw_unique(draw, n_train + n_val)
    return split_off([(t, None) for t in texts], n_val).check(task)


@functools.cache
def countries_long() -> Rows:
    return _sequences("countries_long", COUNTRIES, (3, 6), replace=False, n_train=5000, n_val=5000)


@functools.cache
def colors_long() -> Rows:
    return _sequences("colors_long", COLORS, (5, 5), replace=False, n_train=5000, n_val=5000)


@functools.cache
def numbers() -> Rows:
    return _sequences("numbers", "0123456789", (3, 6), replace=True, n_train=5000, n_val=5000)


@functools.cache
def animals_long() -> Rows:
    return _sequences("animals_long", ANIMALS, (7, 10), replace=True, n_train=10000, n_val=2500, tail=" ")


@functools.cache
def english_words_long() -> Rows:
    words = english_words()
    return _sequences("english_words_long", words, (5, 5), replace=True, n_train=10000, n_val=2500, tail=" ")
