"""`wikipedia_long` offline: encyclopedic sentence openings the model is asked to continue.

    from inward.tasks.encyclopedia import wikipedia_long
    text, next_word = wikipedia_long().val[0]   # 12-20 words, then the word that followed

Sentences are written by this project from templates over the fact tables in `facts.py` (countries, chemical
elements, animals, planets, rivers, instruments, SI units, polygons). Each sentence is cut after 12-20 words
(seeded per sentence) and the next word, without punctuation, becomes the target, like the paper's Wikipedia
openings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from inward.tasks._build import Row, Rows, dedupe, seeded, split_off, with_article
from inward.tasks.facts import (
    ANIMAL_CLASSES,
    CAPITALS,
    ELEMENTS,
    INSTRUMENTS,
    ORDINALS,
    PLANETS,
    POLYGONS,
    RIVERS,
    SI_UNITS,
)

_COUNTRY = (
    "{C} is a sovereign country in {cont} whose capital is {cap}, and its history, languages and landscapes "
    "have been shaped by centuries of contact with neighbouring peoples.",
    "{cap} is the capital city of {C}, a country in {cont}, and it serves as the seat of the national "
    "government as well as a centre of commerce and culture.",
    "The geography of {C}, a country located in {cont}, ranges across several distinct regions, each with "
    "its own climate, vegetation and patterns of settlement.",
    "The cuisine of {C} reflects the country's position in {cont} and draws on local grains, vegetables and "
    "spices as well as on influences brought by trade.",
    "Education in {C} is overseen by a national ministry based in {cap}, which sets the curriculum followed "
    "by primary and secondary schools throughout the country.",
    "The economy of {C} combines agriculture, industry and services, and the capital, {cap}, hosts the "
    "central bank along with the head offices of many national companies.",
    "Roads and railways in {C} link the capital, {cap}, with regional towns, and many long-distance routes "
    "within the country begin or end in the capital.",
)
_ELEMENT = (
    "{Name} is a chemical element with the symbol {sym} and atomic number {num}; at room temperature it is a "
    "{state}, and it has been studied extensively by chemists.",
    "The element {name}, represented in the periodic table by the symbol {sym}, has {num} protons in the "
    "nucleus of each of its atoms, and its properties are described in introductory chemistry courses.",
    "Atoms of {name} contain {num} protons, which is why the element is assigned atomic number {num} and "
    "listed under the symbol {sym} in modern versions of the periodic table.",
    "Industrial uses of {name}, the element with the symbol {sym}, depend on its physical and chemical "
    "properties, and the element is obtained commercially from natural sources.",
    "The symbol {sym} stands for {name}, element number {num}, which is found as a {state} under ordinary "
    "conditions of temperature and pressure at the surface of the Earth.",
)
_ELEMENT_GROUP = (
    "{Name} belongs to the {group}s, a family of elements in the periodic table that share similar chemical "
    "behaviour because of the arrangement of their outer electrons."
)
_ANIMAL = (
    "The {animal} is {a_cls} that appears frequently in folklore, children's stories and works of art, and "
    "its behaviour has been described by naturalists for centuries.",
    "As {a_cls}, the {animal} shares many features with other members of its group, including aspects of its "
    "anatomy, its development and the way it regulates its body.",
    "Scientists who study the {animal}, a widely recognised {cls}, have documented its feeding habits, its "
    "seasonal behaviour and the ways in which it interacts with its environment.",
)
_PLANET = (
    "{P} is the {ord} planet from the Sun in the Solar System, and it has been observed and studied by "
    "astronomers using telescopes and spacecraft for many years.",
    "Missions to study {P}, which is the {ord} planet in order of distance from the Sun, have returned "
    "images and measurements that changed scientific understanding of the planet and its surroundings.",
)
_RIVER = (
    "The {r} is a major river of {cont}, and for thousands of years its waters have supported farming, "
    "fishing and trade in the towns and cities along its banks.",
    "Flowing across part of {cont}, the {r} River has shaped the landscape through which it passes, carrying "
    "sediment downstream and creating fertile plains near its course.",
    "Bridges and ports along the {r}, one of the best-known rivers of {cont}, reflect the importance of the "
    "river for transport, trade and the supply of water.",
)
_INSTRUMENT = (
    "The {inst} is a {fam} instrument used in many kinds of music, from orchestral works to folk "
    "traditions, and players train for years to master its technique.",
    "As a member of the {fam} family, the {inst} produces its sound in a way it shares with related "
    "instruments, and its range and tone colour make it distinctive.",
    "Composers have written solo and ensemble pieces for the {inst}, a {fam} instrument whose sound can be "
    "heard in concert halls, schools and recording studios around the world.",
)
_UNIT = (
    "The {unit} is the unit of {q} in the International System of Units, and it is used by scientists and "
    "engineers around the world to express measured values.",
    "In the International System of Units, {q} is expressed using the {unit}, and the definition of that "
    "unit has been refined over time to make measurements more precise.",
    "Laboratory instruments that measure {q} usually report their readings in terms of the {unit}, the "
    "standard unit defined for that quantity by international agreement.",
)
_POLYGON = (
    "{A_poly} is a polygon with {n} sides and {n} angles, and it is one of the shapes that students learn to "
    "recognise and describe when they study geometry.",
    "In geometry, the interior angles of any {poly} add up to {total} degrees, a value that follows from "
    "the sum of the angles of a triangle, which is always 180 degrees.",
)


def sentences() -> Iterator[str]:
    """Every full sentence, in a fixed order."""
    for country, (cap, cont) in CAPITALS.items():
        for t in _COUNTRY:
            yield t.format(C=country.title(), cap=cap, cont=cont)
    for e in ELEMENTS:
        fields = {
            "Name": e.name.capitalize(),
            "name": e.name,
            "sym": e.symbol,
            "num": e.number,
            "state": e.state,
        }
        for t in _ELEMENT:
            yield t.format(**fields)
        if e.group:
            yield _ELEMENT_GROUP.format(group=e.group, **fields)
    for animal, cls in ANIMAL_CLASSES.items():
        for t in _ANIMAL:
            yield t.format(animal=animal, cls=cls, a_cls=with_article(cls))
    for planet, ordinal in zip(PLANETS, ORDINALS, strict=True):
        for t in _PLANET:
            yield t.format(P=planet, ord=ordinal)
    for river, cont in RIVERS.items():
        for t in _RIVER:
            yield t.format(r=river, cont=cont)
    for inst, fam in INSTRUMENTS.items():
        for t in _INSTRUMENT:
            yield t.format(inst=inst.replace("-", " "), fam=fam)
    for unit, quantity in SI_UNITS.items():
        for t in _UNIT:
            yield t.format(unit=unit, q=quantity)
    for poly, n in POLYGONS.items():
        for t in _POLYGON:
            yield t.format(poly=poly, A_poly=with_article(poly).capitalize(), n=n, total=(n - 2) * 180)


def _cut(sentence: str, k: int) -> Row:
    words = sentence.split()
    return " ".join(words[:k]), words[k].strip(".,;:'\"()")


@functools.cache
def wikipedia_long() -> Rows:
    rng = seeded("wikipedia_long")
    rows: list[Row] = []
    for s in sentences():
        n_words = len(s.split())
        assert n_words > 12, f"sentence too short to cut: {s!r}"
        rows.append(_cut(s, rng.randint(12, min(20, n_words - 1))))
    rng.shuffle(rows)
    rows = dedupe(rows)
    return split_off(rows, n_val=len(rows) // 4).check("wikipedia_long")
