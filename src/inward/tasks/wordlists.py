"""Word lists for the sequence tasks, authored for this project.

    from inward.tasks.wordlists import COUNTRIES, COLORS, ANIMALS, english_words
    COUNTRIES[:3]          # ('afghanistan', 'albania', 'algeria')
    len(english_words())   # ~234k lower-case alphabetic words

`COUNTRIES` (100), `COLORS` (100) and `ANIMALS` (30) are one-word, lower-case names, sorted so that the
generators sampling from them give the same strings on every machine. `english_words()` reads the `web2` list
shipped by the `english-words` PyPI package (the package is MIT-licensed; `web2` is the word list of Webster's
Second International dictionary from BSD Unix, in the public domain), with non-letters stripped and
lower-cased.
"""

from __future__ import annotations

import functools


def words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words, sorted."""
    return tuple(sorted(text.split()))


COUNTRIES: tuple[str, ...] = words(
    """
    afghanistan albania algeria angola argentina australia austria bangladesh belgium bhutan botswana
    brazil bulgaria cambodia cameroon canada chile china colombia croatia cuba denmark ecuador egypt
    estonia ethiopia fiji finland france germany ghana greece guatemala haiti honduras hungary iceland
    india indonesia iran iraq ireland italy jamaica japan jordan kazakhstan kenya kuwait laos latvia
    lebanon liberia libya lithuania madagascar malawi malaysia mali malta mexico mongolia morocco
    mozambique myanmar namibia nepal nicaragua niger nigeria norway oman pakistan panama paraguay peru
    poland portugal qatar romania rwanda senegal serbia slovakia slovenia spain sudan sweden switzerland
    syria tanzania thailand tunisia uganda ukraine uruguay venezuela vietnam zambia zimbabwe
    """
)

COLORS: tuple[str, ...] = words(
    """
    red orange yellow green blue purple violet indigo pink brown black white gray silver gold beige
    ivory cream tan khaki olive lime teal turquoise cyan aqua navy azure cobalt sapphire cerulean
    lavender lilac mauve magenta fuchsia plum maroon burgundy crimson scarlet vermilion coral salmon
    peach apricot amber ochre mustard lemon chartreuse emerald jade mint sage moss pine fern charcoal
    slate ebony onyx pearl bone sand taupe sepia umber sienna rust copper bronze brass mahogany chestnut
    chocolate coffee mocha caramel cinnamon ginger honey butter champagne rose ruby cherry raspberry
    wine garnet orchid periwinkle denim steel graphite ash pewter platinum saffron russet
    """
)

ANIMALS: tuple[str, ...] = words(
    """
    dog cat cow horse pig sheep goat chicken duck rabbit mouse fox wolf bear deer lion tiger elephant
    giraffe zebra monkey kangaroo panda camel owl eagle dolphin whale frog snake
    """
)


@functools.cache
def english_words() -> tuple[str, ...]:
    """The `web2` word list, alphabetic and lower-case, sorted (a set has no stable order across runs)."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], alpha=True, lower=True)
    # One-letter entries are mostly letter names; they would make the task about spelling rather than words.
    return tuple(sorted(w for w in words if len(w) > 1 and w.isascii() and w.isalpha()))
