"""Shared plumbing for the offline generators: seeded RNGs, unique draws, splits, balanced answer letters.

Every generator returns `Rows` (train and val lists of `(text, target)`), built from a `random.Random` seeded
with a string, so the items and their ids are the same on every machine and run. `Rows.check()` guards the
invariants the rest of the package relies on: no duplicate text, train and val disjoint.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Row = tuple[str, "str | None"]  # (item text, target)


def seeded(task: str, purpose: str = "") -> random.Random:
    """The RNG of one generator; string seeds are hashed by `random`, identically on every platform."""
    return random.Random(f"inward:{task}:{purpose}")


@dataclass(frozen=True)
class Rows:
    train: list[Row]
    val: list[Row]

    def check(self, name: str) -> Rows:
        texts = [t for t, _ in self.train] + [t for t, _ in self.val]
        assert len(texts) == len(set(texts)), f"{name}: duplicate item texts"
        assert all(t.strip() for t in texts), f"{name}: empty item text"
        return self


def draw_unique(draw: Callable[[], T], n: int, *, key: Callable[[T], str] = str) -> list[T]:
    """Call `draw` until `n` results with distinct keys are collected, in draw order."""
    seen: set[str] = set()
    out: list[T] = []
    tries = 0
    while len(out) < n:
        tries += 1
        assert tries <= 50 * n + 1000, f"could not draw {n} distinct values (got {len(out)})"
        value = draw()
        k = key(value)
        if k not in seen:
            seen.add(k)
            out.append(value)
    return out


def dedupe(rows: Sequence[Row]) -> list[Row]:
    """Drop rows whose text was already seen, keeping the first."""
    seen: set[str] = set()
    out: list[Row] = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            out.append(row)
    return out


def split_off(rows: Sequence[Row], n_val: int) -> Rows:
    """The first `n_val` rows (already in seeded random order) are validation, the rest training."""
    assert 0 < n_val < len(rows), f"need more than {n_val} rows, got {len(rows)}"
    return Rows(train=list(rows[n_val:]), val=list(rows[:n_val]))


def balanced_letters(n: int, letters: str, rng: random.Random) -> list[str]:
    """`n` answer letters in shuffled blocks of `letters`: every prefix whose length is a multiple of
    len(letters) uses each letter exactly equally often."""
    out: list[str] = []
    while len(out) < n:
        block = list(letters)
        rng.shuffle(block)
        out.extend(block)
    return out[:n]


def with_article(noun: str) -> str:
    """'an owl', 'a hexagon'."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def round_down(n: int, multiple: int) -> int:
    return n - n % multiple
