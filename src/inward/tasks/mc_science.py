"""ARC-like questions (grade-school science and arithmetic), written by this project; see
`multiple_choice.py`.

from inward.tasks.mc_science import science_questions next(iter(science_questions(random.Random(0))))   #
Question(stem, answer, wrong)
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from inward.tasks._build import with_article
from inward.tasks.facts import ANIMAL_CLASSES, CARNIVORES, ELEMENTS, HERBIVORES, ORDINALS, PLANETS, POLYGONS
from inward.tasks.multiple_choice import Question, distinct, near_numbers

# (stem, answer, wrong answers)
_FACTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "At sea level, at what temperature does pure water freeze?",
        "0 degrees Celsius",
        ("10 degrees Celsius", "32 degrees Celsius", "100 degrees Celsius", "-20 degrees Celsius"),
    ),
    (
        "At sea level, at what temperature does pure water boil?",
        "100 degrees Celsius",
        ("50 degrees Celsius", "80 degrees Celsius", "212 degrees Celsius", "150 degrees Celsius"),
    ),
    (
        "Which gas do plants take in from the air to make their food?",
        "carbon dioxide",
        ("oxygen", "nitrogen", "helium", "hydrogen"),
    ),
    (
        "Which gas do animals need to breathe in to release energy from their food?",
        "oxygen",
        ("carbon dioxide", "nitrogen", "helium", "neon"),
    ),
    (
        "What force pulls objects toward the centre of the Earth?",
        "gravity",
        ("magnetism", "friction", "static electricity", "air resistance"),
    ),
    ("What kind of object is the Sun?", "a star", ("a planet", "a moon", "a comet", "an asteroid")),
    (
        "Why can we see the Moon at night?",
        "it reflects light from the Sun",
        (
            "it makes its own light",
            "it reflects light from the oceans",
            "it is made of glowing rock",
            "it burns gas on its surface",
        ),
    ),
    (
        "About how long does it take the Earth to travel once around the Sun?",
        "one year",
        ("one day", "one month", "one week", "ten years"),
    ),
    (
        "About how long does it take the Earth to spin once on its axis?",
        "one day",
        ("one hour", "one week", "one month", "one year"),
    ),
    (
        "What causes day and night on Earth?",
        "the Earth spinning on its axis",
        (
            "the Earth moving around the Sun",
            "the Moon blocking the Sun",
            "clouds covering the Sun",
            "the Sun switching on and off",
        ),
    ),
    (
        "Which tool is used to measure temperature?",
        "a thermometer",
        ("a barometer", "a ruler", "a balance", "a stopwatch"),
    ),
    (
        "Which tool is best for measuring the mass of a rock?",
        "a balance",
        ("a thermometer", "a ruler", "a graduated cylinder", "a compass"),
    ),
    (
        "Which tool is used to measure the volume of a liquid?",
        "a graduated cylinder",
        ("a balance", "a thermometer", "a ruler", "a magnet"),
    ),
    (
        "Which part of a plant takes in water from the soil?",
        "the roots",
        ("the leaves", "the flowers", "the seeds", "the petals"),
    ),
    (
        "In which part of a plant does most photosynthesis take place?",
        "the leaves",
        ("the roots", "the seeds", "the petals", "the bark"),
    ),
    (
        "Which of these materials is attracted to a magnet?",
        "iron",
        ("wood", "plastic", "glass", "rubber", "paper"),
    ),
    (
        "Which of these materials is the best conductor of electricity?",
        "copper",
        ("rubber", "glass", "wood", "plastic"),
    ),
    (
        "What is it called when liquid water changes into water vapour?",
        "evaporation",
        ("condensation", "freezing", "melting", "precipitation"),
    ),
    (
        "What is it called when water vapour cools and turns into liquid water?",
        "condensation",
        ("evaporation", "melting", "freezing", "erosion"),
    ),
    (
        "What is it called when a solid changes into a liquid?",
        "melting",
        ("freezing", "condensation", "evaporation", "erosion"),
    ),
    (
        "Which organ pumps blood around the human body?",
        "the heart",
        ("the lungs", "the liver", "the stomach", "the brain", "the kidneys"),
    ),
    (
        "Which organs take in oxygen from the air we breathe?",
        "the lungs",
        ("the heart", "the liver", "the stomach", "the kidneys"),
    ),
    ("Which of these energy sources is renewable?", "wind", ("coal", "oil", "natural gas", "diesel")),
    (
        "Which state of matter has both a definite shape and a definite volume?",
        "solid",
        ("liquid", "gas", "steam"),
    ),
    (
        "Which state of matter takes the shape of its container but keeps the same volume?",
        "liquid",
        ("solid", "gas", "ice"),
    ),
    (
        "What kind of rock forms when melted rock cools and hardens?",
        "igneous rock",
        ("sedimentary rock", "metamorphic rock", "fossil rock", "chalk"),
    ),
    (
        "What do we call an animal that eats only plants?",
        "a herbivore",
        ("a carnivore", "a predator", "a decomposer", "a scavenger"),
    ),
    (
        "What do we call an animal that eats both plants and other animals?",
        "an omnivore",
        ("a herbivore", "a carnivore", "a producer", "a decomposer"),
    ),
    ("How many legs does an insect have?", "six", ("four", "eight", "ten", "two")),
    ("How many legs does a spider have?", "eight", ("six", "four", "ten", "twelve")),
    (
        "Which mixture can be separated using a magnet?",
        "iron filings and sand",
        ("salt and water", "sugar and water", "sand and water", "oil and water"),
    ),
    (
        "Which layer of the Earth is the outermost?",
        "the crust",
        ("the mantle", "the outer core", "the inner core"),
    ),
    (
        "Which of these is a chemical change?",
        "wood burning",
        ("ice melting", "water boiling", "paper being torn", "glass breaking"),
    ),
    ("Which star is closest to the Earth?", "the Sun", ("Polaris", "Sirius", "Betelgeuse", "Vega")),
    (
        "What happens to most solids when they are heated?",
        "they expand",
        ("they shrink", "they become heavier", "they change colour", "they become magnetic"),
    ),
    (
        "Which simple machine is a ramp?",
        "an inclined plane",
        ("a lever", "a pulley", "a wheel and axle", "a screw"),
    ),
    ("Through which of these does sound travel fastest?", "steel", ("air", "water", "a vacuum", "helium")),
    ("Which of these is a producer in a food chain?", "grass", ("a rabbit", "a fox", "a hawk", "a mushroom")),
)

_NAMES = ("Ada", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hugo", "Isla", "Jun", "Kira", "Leo")


def _numeric(
    stem: str, answer: int, rng: random.Random, unit: str = "", extra: tuple[int, ...] = ()
) -> Question:
    suffix = f" {unit}" if unit else ""
    wrong = tuple(w + suffix for w in near_numbers(answer, rng, extra=extra))
    return Question(stem, f"{answer}{suffix}", wrong)


def _word_problem(rng: random.Random) -> Question:
    kind = rng.randrange(10)
    name = rng.choice(_NAMES)
    if kind == 0:
        a, b = rng.randint(6, 24), rng.randint(3, 12)
        return _numeric(
            f"A box holds {a} pencils. How many pencils are in {b} full boxes?",
            a * b,
            rng,
            extra=(a + b, a * (b - 1)),
        )
    if kind == 1:
        a = rng.randint(20, 99)
        b = rng.randint(5, a - 5)
        return _numeric(
            f"{name} had {a} marbles and gave {b} of them to a friend. How many marbles are left?",
            a - b,
            rng,
            extra=(a + b,),
        )
    if kind == 2:
        s, t = rng.randrange(30, 95, 5), rng.randint(2, 6)
        return _numeric(
            f"A bus travels {s} kilometres every hour. How far does it travel in {t} hours?",
            s * t,
            rng,
            unit="kilometres",
            extra=(s + t,),
        )
    if kind == 3:
        b, q = rng.randint(2, 8), rng.randint(3, 9)
        return _numeric(
            f"{b * q} students are split into {b} equal groups. How many students are in each group?",
            q,
            rng,
            extra=(b * q - b, b),
        )
    if kind == 4:
        w = rng.randint(2, 15)
        h = rng.randint(w + 1, 25)
        return _numeric(
            f"What is the perimeter of a rectangle that is {h} cm long and {w} cm wide?",
            2 * (h + w),
            rng,
            unit="cm",
            extra=(h * w, h + w, 2 * h + w),
        )
    if kind == 5:
        w = rng.randint(2, 15)
        h = rng.randint(w + 1, 25)
        return _numeric(
            f"What is the area of a rectangle that is {h} cm long and {w} cm wide?",
            h * w,
            rng,
            unit="square cm",
            extra=(2 * (h + w), h + w),
        )
    if kind == 6:
        p, d = rng.randint(8, 40), rng.randint(3, 9)
        return _numeric(
            f"{name} reads {p} pages every day. How many pages does {name} read in {d} days?",
            p * d,
            rng,
            extra=(p + d,),
        )
    if kind == 7:
        h, g, w = rng.randint(5, 30), rng.randint(2, 6), rng.randint(3, 8)
        return _numeric(
            f"A plant was {h} cm tall. It grew {g} cm every week for {w} weeks. How tall is it now?",
            h + g * w,
            rng,
            unit="cm",
            extra=(h + g, g * w),
        )
    if kind == 8:
        a, b = rng.randint(100, 899), rng.randint(100, 899)
        if rng.random() < 0.5:
            return _numeric(f"What is {a} + {b}?", a + b, rng, extra=(a + b + 100, a + b - 10))
        a, b = max(a, b), min(a, b)
        return _numeric(f"What is {a} - {b}?", a - b, rng, extra=(a - b + 100, a + b))
    a, b = rng.randint(12, 99), rng.randint(3, 9)
    return _numeric(f"What is {a} times {b}?", a * b, rng, extra=(a + b, a * (b + 1)))


_CONVERSIONS = (
    ("centimetres", "metres", 100),
    ("minutes", "hours", 60),
    ("grams", "kilograms", 1000),
    ("millimetres", "centimetres", 10),
    ("seconds", "minutes", 60),
    ("days", "weeks", 7),
    ("months", "years", 12),
)


def _conversion(rng: random.Random) -> Question:
    small, big, factor = rng.choice(_CONVERSIONS)
    n = rng.randint(2, 30)
    return _numeric(
        f"How many {small} are there in {n} {big}?", n * factor, rng, extra=(n * factor // 10, n + factor)
    )


def _facts_about_nature(rng: random.Random) -> Iterator[Question]:
    classes = sorted(set(ANIMAL_CLASSES.values()))
    for cls in classes:
        members = [a for a, c in ANIMAL_CLASSES.items() if c == cls]
        others = tuple(a for a, c in ANIMAL_CLASSES.items() if c != cls)
        for animal in rng.sample(members, min(6, len(members))):
            yield Question(f"Which of these animals is {with_article(cls)}?", animal, others)
            yield Question(
                f"A student sorts animals into groups. Which animal belongs in the {cls} group?",
                animal,
                others,
            )
    for animal in HERBIVORES:
        yield Question("Which of these animals feeds only on plants?", animal, CARNIVORES)
    for animal in CARNIVORES:
        yield Question("Which of these animals hunts other animals for food?", animal, HERBIVORES)
    planets = tuple(PLANETS)
    for i, (planet, ordinal) in enumerate(zip(PLANETS, ORDINALS, strict=True)):
        yield Question(f"Which planet is the {ordinal} planet from the Sun?", planet, planets)
        if i + 1 < len(PLANETS):
            yield Question(
                f"Which planet comes right after {planet} in order from the Sun?", PLANETS[i + 1], planets
            )
            yield Question(
                f"Which planet comes right before {PLANETS[i + 1]} in order from the Sun?", planet, planets
            )
    yield Question("Which planet is the largest in the Solar System?", "Jupiter", planets)
    yield Question("Which planet is known as the Red Planet?", "Mars", planets)
    yield Question("Which planet is famous for its wide, bright rings?", "Saturn", planets)
    solids = tuple(e.name for e in ELEMENTS if e.state == "solid")
    for e in ELEMENTS:
        if e.state == "gas":
            yield Question("Which of these elements is a gas at room temperature?", e.name, solids)
        if e.state == "liquid":
            yield Question("Which of these elements is a liquid at room temperature?", e.name, solids)
    for poly, n in POLYGONS.items():
        others = tuple(str(k) for k in POLYGONS.values())
        yield Question(f"How many sides does {with_article(poly)} have?", str(n), others)
        yield Question(f"What is the name of a flat shape with {n} straight sides?", poly, tuple(POLYGONS))


def science_questions(rng: random.Random) -> Iterator[Question]:
    for stem, answer, wrong in _FACTS:
        yield Question(stem, answer, wrong)
    yield from _facts_about_nature(rng)
    yield from distinct(rng, _word_problem, 600)
    yield from distinct(rng, _conversion, 150)
