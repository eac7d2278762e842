"""`stories_sentences` offline: story sentences the model is asked to continue.

    from inward.tasks.stories import stories_sentences
    stories_sentences().val[0]   # ('In the empty concert hall, Mira ...', None)

The sentences are composed by this project from authored pools (characters × roles × settings × events ×
reactions × follow-ups) with sentence patterns of one or two sentences, drawn with a seeded RNG.
"""

from __future__ import annotations

import functools
import random

from inward.tasks._build import Rows, draw_unique, seeded, split_off

# (name, subject pronoun, possessive pronoun)
_CHARACTERS = (
    ("Mira", "she", "her"),
    ("Tobias", "he", "his"),
    ("Anya", "she", "her"),
    ("Felix", "he", "his"),
    ("Lena", "she", "her"),
    ("Omar", "he", "his"),
    ("Priya", "she", "her"),
    ("Jonah", "he", "his"),
    ("Clara", "she", "her"),
    ("Mateo", "he", "his"),
    ("Ines", "she", "her"),
    ("Kofi", "he", "his"),
    ("Yuki", "she", "her"),
    ("Arlo", "he", "his"),
    ("Nadia", "she", "her"),
    ("Silas", "he", "his"),
    ("Rosa", "she", "her"),
    ("Emil", "he", "his"),
    ("Hana", "she", "her"),
    ("Dmitri", "he", "his"),
    ("Lucia", "she", "her"),
    ("Theo", "he", "his"),
    ("Amara", "she", "her"),
    ("Bram", "he", "his"),
)
_ROLES = (
    "the old clockmaker",
    "a young mapmaker",
    "the night-shift baker",
    "a retired sea captain",
    "the village schoolteacher",
    "a travelling musician",
    "the lighthouse keeper",
    "a shy apprentice",
    "the town's only doctor",
    "a stubborn beekeeper",
    "the ferry pilot",
    "a botanist on a first field trip",
    "the museum's night guard",
    "a clumsy inventor",
    "the innkeeper's eldest child",
    "a weary detective",
    "the librarian of the river town",
    "a carpenter with a bad knee",
    "the youngest of the fishermen",
    "a painter who had stopped painting",
)
_SETTINGS = (
    "the quiet harbour",
    "an abandoned railway station",
    "the crowded night market",
    "a cabin high in the hills",
    "the back room of the bookshop",
    "the edge of the frozen lake",
    "a greenhouse full of strange plants",
    "the rooftop garden",
    "the flooded cellar",
    "a ferry crossing the grey sea",
    "the dusty attic",
    "the orchard behind the farmhouse",
    "the empty concert hall",
    "a tent on the windswept dunes",
    "the old observatory",
    "the village square",
    "a narrow alley behind the bakery",
    "the hospital corridor",
    "the ruined chapel on the cliff",
    "a train stuck in the snow",
)
_EVENTS = (
    "a letter with no return address slipped under the door",
    "the lights failed across the whole district",
    "a stranger asked the way to a house that had burned down years before",
    "the first snow of the year began to fall",
    "a bell rang somewhere far below",
    "the radio crackled with a voice nobody had heard in years",
    "a small grey dog appeared out of the fog",
    "the tide went out further than anyone could remember",
    "a folded map dropped from between the pages of an old book",
    "every clock in town stopped at once",
    "a child began to sing a song that no one had taught her",
    "the wind carried the smell of smoke from the north",
    "someone whistled a tune from long ago",
    "the river turned a strange shade of green",
    "an envelope of old photographs was found beneath the floorboards",
    "the storm finally broke over the valley",
    "a messenger arrived with news from the capital",
    "the candles all flickered out together",
    "a flock of crows settled silently on the roof",
    "a door that had been locked for years swung open",
)
_REACTIONS = (
    "felt a chill that had nothing to do with the weather",
    "decided that the secret had been kept long enough",
    "laughed for the first time in weeks",
    "promised to be gone before the season changed",
    "wondered whether the old stories had been true after all",
    "held very still and listened",
    "reached for the lantern without a word",
    "knew that nothing would ever be quite the same again",
    "began to write down everything that happened",
    "smiled as if it had all been expected",
    "quietly packed a bag and left before sunrise",
    "counted the seconds until the silence ended",
    "remembered a promise made long ago",
    "refused to look away",
    "found that the fear had turned into curiosity",
    "called out a name that had not been spoken in years",
)
_FOLLOW_UPS = (
    "By morning, the whole town had heard about it.",
    "Nobody spoke of it again until the following spring.",
    "It was the beginning of a long and unusual friendship.",
    "Outside, the rain kept falling as if nothing had happened.",
    "Somewhere in the distance, a door closed softly.",
    "The answer, when it came, was not the one anyone wanted.",
    "Years later, the story would still be told on winter evenings.",
    "For a long moment, no one moved.",
    "The next day began like any other, and yet it was not.",
    "Only the cat seemed to understand what it meant.",
)

_PATTERNS = (
    "In {setting}, {name} {reaction} when {event}.",
    "{Name}, {role}, had just reached {setting} when {event}, and {he} {reaction}.",
    "Nobody in {setting} expected anything unusual until {event}; {name} {reaction}.",
    "{Name} {reaction} after {event}, though {he} told no one what {he} had seen in {setting}.",
    "{Name}, {role}, spent the evening in {setting}. Then {event}, and {he} {reaction}.",
    "It was almost midnight in {setting} when {event}. {Name} {reaction}, and {his} hands were shaking.",
    "{Name} had come to {setting} to forget, but then {event}. {follow_up}",
    "When {event}, {name}, {role}, {reaction}. {follow_up}",
)


def _story(rng: random.Random) -> str:
    name, he, his = rng.choice(_CHARACTERS)
    pattern = rng.choice(_PATTERNS)
    text = pattern.format(
        name=name,
        Name=name,
        he=he,
        his=his,
        role=rng.choice(_ROLES),
        setting=rng.choice(_SETTINGS),
        event=rng.choice(_EVENTS),
        reaction=rng.choice(_REACTIONS),
        follow_up=rng.choice(_FOLLOW_UPS),
    )
    return text[0].upper() + text[1:]


@functools.cache
def stories_sentences() -> Rows:
    rng = seeded("stories_sentences")
    texts = draw_unique(lambda: _story(rng), 1200)
    return split_off([(t, None) for t in texts], n_val=400).check("stories_sentences")
