"""MMLU-like questions (geography, chemistry, units, music, harder arithmetic and number theory), written by
this project; see `multiple_choice.py`.

    from inward.tasks.mc_general import general_questions
    next(iter(general_questions(random.Random(0))))   # Question(stem, answer, wrong)
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from fractions import Fraction

from inward.tasks._build import with_article
from inward.tasks.facts import (
    CAPITALS,
    CONTINENTS,
    ELEMENTS,
    INSTRUMENT_FAMILIES,
    INSTRUMENTS,
    POLYGONS,
    RIVERS,
    SI_UNITS,
)
from inward.tasks.multiple_choice import Question, distinct, near_numbers


def _geography() -> Iterator[Question]:
    for country, (capital, continent) in CAPITALS.items():
        neighbours = [c for c, (_, cont) in CAPITALS.items() if cont == continent and c != country]
        if len(neighbours) < 3:  # too few countries listed on that continent: compare with all
            neighbours = [c for c in CAPITALS if c != country]
        name = country.title()
        yield Question(f"What is the capital of {name}?", capital, tuple(CAPITALS[c][0] for c in neighbours))
        yield Question(
            f"{capital} is the capital of which country?", name, tuple(c.title() for c in neighbours)
        )
        yield Question(f"On which continent is {name} located?", continent, CONTINENTS)
    for river, continent in RIVERS.items():
        yield Question(f"On which continent does the {river} River flow?", continent, CONTINENTS)


def _science(rng: random.Random) -> Iterator[Question]:
    names = tuple(e.name for e in ELEMENTS)
    symbols = tuple(e.symbol for e in ELEMENTS)
    for e in ELEMENTS:
        yield Question(f"What is the chemical symbol for {e.name}?", e.symbol, symbols)
        yield Question(f"Which element has the chemical symbol {e.symbol}?", e.name, names)
        yield Question(f"What is the atomic number of {e.name}?", str(e.number), near_numbers(e.number, rng))
        if e.group:
            others = tuple(o.name for o in ELEMENTS if o.group != e.group)
            yield Question(f"Which of these elements is {with_article(e.group)}?", e.name, others)
    units, quantities = tuple(SI_UNITS), tuple(SI_UNITS.values())
    for unit, quantity in SI_UNITS.items():
        yield Question(f"What is the SI unit of {quantity}?", unit, units)
        yield Question(f"The {unit} is the SI unit of which quantity?", quantity, quantities)
    for instrument, family in INSTRUMENTS.items():
        name = instrument.replace("-", " ")
        yield Question(f"To which family of instruments does the {name} belong?", family, INSTRUMENT_FAMILIES)
    for poly, n in POLYGONS.items():
        total = (n - 2) * 180
        yield Question(
            f"What is the sum of the interior angles of {with_article(poly)}, in degrees?",
            str(total),
            near_numbers(total, rng, extra=(n * 180, total + 180, total - 180, 360)),
        )


def _num(stem: str, answer: int, rng: random.Random, *extra: int) -> Question:
    return Question(stem, str(answer), near_numbers(answer, rng, extra=extra))


def _maths(rng: random.Random) -> Question:
    kind = rng.randrange(13)
    if kind == 0:
        p, b = rng.choice((5, 10, 15, 20, 25, 30, 40, 60, 75)), rng.randrange(20, 1000, 20)
        return _num(f"What is {p}% of {b}?", p * b // 100, rng, b // p, p * b // 10)
    if kind == 1:
        a, x, b = rng.randint(2, 12), rng.randint(2, 20), rng.randint(1, 40)
        c = a * x + b
        return _num(f"If {a}x + {b} = {c}, what is the value of x?", x, rng, (c + b) // a, c - b)
    if kind == 2:
        g = rng.randint(2, 15)
        m, n = rng.sample(range(2, 12), 2)
        a, b = g * m, g * n
        return _num(
            f"What is the greatest common divisor of {a} and {b}?", math.gcd(a, b), rng, 2 * g, min(m, n)
        )
    if kind == 3:
        a, b = rng.sample(range(4, 31), 2)
        lcm = a * b // math.gcd(a, b)
        return _num(
            f"What is the least common multiple of {a} and {b}?", lcm, rng, a * b, lcm + a, math.gcd(a, b)
        )
    if kind == 4:
        a, n = rng.randint(2, 9), rng.randint(2, 5)
        return _num(f"What is {a} raised to the power of {n}?", a**n, rng, a * n, a ** (n - 1), a ** (n + 1))
    if kind == 5:
        n = rng.randint(5, 255)
        return _num(f"What is the decimal value of the binary number {n:b}?", n, rng, n ^ 1, n ^ 2)
    if kind == 6:
        n = rng.randint(5, 255)
        wrong = tuple(f"{n ^ (1 << k):b}" for k in range(n.bit_length()))
        return Question(f"How is the decimal number {n} written in binary?", f"{n:b}", wrong)
    if kind == 7:
        a, b = rng.randint(50, 999), rng.randint(4, 13)
        return Question(
            f"What is the remainder when {a} is divided by {b}?",
            str(a % b),
            tuple(str(r) for r in range(b) if r != a % b),
        )
    if kind == 8:
        n = rng.randint(11, 40)
        return _num(f"What is the square root of {n * n}?", n, rng, n * 2, n + 10)
    if kind == 9:
        h = rng.randint(2, 24)
        return _num(f"How many seconds are there in {h} hours?", 3600 * h, rng, 60 * h, 360 * h)
    if kind == 10:
        mean = rng.randint(5, 60)
        values = [mean + d for d in rng.sample(range(-5, 6), 4)]
        values.append(5 * mean - sum(values))
        rng.shuffle(values)
        listed = ", ".join(map(str, values))
        return _num(
            f"What is the mean of the numbers {listed}?", mean, rng, sorted(values)[2] + 1, max(values)
        )
    if kind == 11:
        red, blue = rng.randint(1, 12), rng.randint(1, 12)
        right = Fraction(red, red + blue)
        wrongs = {
            Fraction(blue, red + blue),
            Fraction(1, red + blue),
            Fraction(red, red + blue + 1),
            Fraction(min(red, blue), max(red, blue)),
            Fraction(red + 1, red + blue + 1),
        }
        return Question(
            f"A bag holds {red} red and {blue} blue marbles. One marble is drawn at random. What is the "
            "probability that it is red?",
            str(right),
            tuple(str(w) for w in wrongs if w != right),
        )
    primes = [p for p in range(11, 200) if all(p % d for d in range(2, int(p**0.5) + 1))]
    tricky = [n for n in range(21, 200, 2) if n % 5 and n not in primes]
    stem = rng.choice(
        (
            "Which of these numbers is prime?",
            "Exactly one of these numbers is prime. Which one?",
            "Which of the following is a prime number?",
        )
    )
    return Question(stem, str(rng.choice(primes)), tuple(str(n) for n in tricky))


def general_questions(rng: random.Random) -> Iterator[Question]:
    yield from _geography()
    yield from _science(rng)
    yield from distinct(rng, _maths, 700)
