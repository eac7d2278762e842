"""Small fact tables, authored for this project, that the text and multiple-choice generators draw on.

    from inward.tasks.facts import CAPITALS, ELEMENTS
    CAPITALS["peru"]   # ('Lima', 'South America')

Only well-established facts are listed (no populations, areas or rankings that drift), so generated questions
stay correct. Names are ASCII to keep tokenisation of the offline models simple.
"""

from __future__ import annotations

from typing import NamedTuple

from inward.tasks.wordlists import words

CONTINENTS = ("Africa", "Asia", "Europe", "North America", "South America", "Oceania")

# country (as in wordlists.COUNTRIES) -> (capital, continent)
CAPITALS: dict[str, tuple[str, str]] = {
    "afghanistan": ("Kabul", "Asia"),
    "albania": ("Tirana", "Europe"),
    "algeria": ("Algiers", "Africa"),
    "angola": ("Luanda", "Africa"),
    "argentina": ("Buenos Aires", "South America"),
    "australia": ("Canberra", "Oceania"),
    "austria": ("Vienna", "Europe"),
    "bangladesh": ("Dhaka", "Asia"),
    "belgium": ("Brussels", "Europe"),
    "bhutan": ("Thimphu", "Asia"),
    "botswana": ("Gaborone", "Africa"),
    "brazil": ("Brasilia", "South America"),
    "bulgaria": ("Sofia", "Europe"),
    "cambodia": ("Phnom Penh", "Asia"),
    "cameroon": ("Yaounde", "Africa"),
    "canada": ("Ottawa", "North America"),
    "chile": ("Santiago", "South America"),
    "china": ("Beijing", "Asia"),
    "colombia": ("Bogota", "South America"),
    "croatia": ("Zagreb", "Europe"),
    "cuba": ("Havana", "North America"),
    "denmark": ("Copenhagen", "Europe"),
    "ecuador": ("Quito", "South America"),
    "egypt": ("Cairo", "Africa"),
    "estonia": ("Tallinn", "Europe"),
    "ethiopia": ("Addis Ababa", "Africa"),
    "fiji": ("Suva", "Oceania"),
    "finland": ("Helsinki", "Europe"),
    "france": ("Paris", "Europe"),
    "germany": ("Berlin", "Europe"),
    "ghana": ("Accra", "Africa"),
    "greece": ("Athens", "Europe"),
    "guatemala": ("Guatemala City", "North America"),
    "haiti": ("Port-au-Prince", "North America"),
    "honduras": ("Tegucigalpa", "North America"),
    "hungary": ("Budapest", "Europe"),
    "iceland": ("Reykjavik", "Europe"),
    "india": ("New Delhi", "Asia"),
    "indonesia": ("Jakarta", "Asia"),
    "iran": ("Tehran", "Asia"),
    "iraq": ("Baghdad", "Asia"),
    "ireland": ("Dublin", "Europe"),
    "italy": ("Rome", "Europe"),
    "jamaica": ("Kingston", "North America"),
    "japan": ("Tokyo", "Asia"),
    "jordan": ("Amman", "Asia"),
    "kazakhstan": ("Astana", "Asia"),
    "kenya": ("Nairobi", "Africa"),
    "kuwait": ("Kuwait City", "Asia"),
    "laos": ("Vientiane", "Asia"),
    "latvia": ("Riga", "Europe"),
    "lebanon": ("Beirut", "Asia"),
    "liberia": ("Monrovia", "Africa"),
    "libya": ("Tripoli", "Africa"),
    "lithuania": ("Vilnius", "Europe"),
    "madagascar": ("Antananarivo", "Africa"),
    "malawi": ("Lilongwe", "Africa"),
    "malaysia": ("Kuala Lumpur", "Asia"),
    "mali": ("Bamako", "Africa"),
    "malta": ("Valletta", "Europe"),
    "mexico": ("Mexico City", "North America"),
    "mongolia": ("Ulaanbaatar", "Asia"),
    "morocco": ("Rabat", "Africa"),
    "mozambique": ("Maputo", "Africa"),
    "myanmar": ("Naypyidaw", "Asia"),
    "namibia": ("Windhoek", "Africa"),
    "nepal": ("Kathmandu", "Asia"),
    "nicaragua": ("Managua", "North America"),
    "niger": ("Niamey", "Africa"),
    "nigeria": ("Abuja", "Africa"),
    "norway": ("Oslo", "Europe"),
    "oman": ("Muscat", "Asia"),
    "pakistan": ("Islamabad", "Asia"),
    "panama": ("Panama City", "North America"),
    "paraguay": ("Asuncion", "South America"),
    "peru": ("Lima", "South America"),
    "poland": ("Warsaw", "Europe"),
    "portugal": ("Lisbon", "Europe"),
    "qatar": ("Doha", "Asia"),
    "romania": ("Bucharest", "Europe"),
    "rwanda": ("Kigali", "Africa"),
    "senegal": ("Dakar", "Africa"),
    "serbia": ("Belgrade", "Europe"),
    "slovakia": ("Bratislava", "Europe"),
    "slovenia": ("Ljubljana", "Europe"),
    "spain": ("Madrid", "Europe"),
    "sudan": ("Khartoum", "Africa"),
    "sweden": ("Stockholm", "Europe"),
    "switzerland": ("Bern", "Europe"),
    "syria": ("Damascus", "Asia"),
    "tanzania": ("Dodoma", "Africa"),
    "thailand": ("Bangkok", "Asia"),
    "tunisia": ("Tunis", "Africa"),
    "uganda": ("Kampala", "Africa"),
    "ukraine": ("Kyiv", "Europe"),
    "uruguay": ("Montevideo", "South America"),
    "venezuela": ("Caracas", "South America"),
    "vietnam": ("Hanoi", "Asia"),
    "zambia": ("Lusaka", "Africa"),
    "zimbabwe": ("Harare", "Africa"),
}


class Element(NamedTuple):
    name: str
    symbol: str
    number: int
    state: str  # at room temperature: "solid", "liquid" or "gas"
    group: str  # a family name when the element belongs to a well-known one, else ""


ELEMENTS: tuple[Element, ...] = (
    Element("hydrogen", "H", 1, "gas", ""),
    Element("helium", "He", 2, "gas", "noble gas"),
    Element("lithium", "Li", 3, "solid", "alkali metal"),
    Element("beryllium", "Be", 4, "solid", "alkaline earth metal"),
    Element("boron", "B", 5, "solid", ""),
    Element("carbon", "C", 6, "solid", ""),
    Element("nitrogen", "N", 7, "gas", ""),
    Element("oxygen", "O", 8, "gas", ""),
    Element("fluorine", "F", 9, "gas", "halogen"),
    Element("neon", "Ne", 10, "gas", "noble gas"),
    Element("sodium", "Na", 11, "solid", "alkali metal"),
    Element("magnesium", "Mg", 12, "solid", "alkaline earth metal"),
    Element("aluminium", "Al", 13, "solid", ""),
    Element("silicon", "Si", 14, "solid", ""),
    Element("phosphorus", "P", 15, "solid", ""),
    Element("sulfur", "S", 16, "solid", ""),
    Element("chlorine", "Cl", 17, "gas", "halogen"),
    Element("argon", "Ar", 18, "gas", "noble gas"),
    Element("potassium", "K", 19, "solid", "alkali metal"),
    Element("calcium", "Ca", 20, "solid", "alkaline earth metal"),
    Element("titanium", "Ti", 22, "solid", ""),
    Element("chromium", "Cr", 24, "solid", ""),
    Element("manganese", "Mn", 25, "solid", ""),
    Element("iron", "Fe", 26, "solid", ""),
    Element("cobalt", "Co", 27, "solid", ""),
    Element("nickel", "Ni", 28, "solid", ""),
    Element("copper", "Cu", 29, "solid", ""),
    Element("zinc", "Zn", 30, "solid", ""),
    Element("bromine", "Br", 35, "liquid", "halogen"),
    Element("krypton", "Kr", 36, "gas", "noble gas"),
    Element("silver", "Ag", 47, "solid", ""),
    Element("tin", "Sn", 50, "solid", ""),
    Element("iodine", "I", 53, "solid", "halogen"),
    Element("xenon", "Xe", 54, "gas", "noble gas"),
    Element("tungsten", "W", 74, "solid", ""),
    Element("platinum", "Pt", 78, "solid", ""),
    Element("gold", "Au", 79, "solid", ""),
    Element("mercury", "Hg", 80, "liquid", ""),
    Element("lead", "Pb", 82, "solid", ""),
    Element("uranium", "U", 92, "solid", ""),
)

PLANETS: tuple[str, ...] = ("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune")
ORDINALS: tuple[str, ...] = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")

# animal -> class; covers wordlists.ANIMALS plus extra animals used by the multiple-choice questions
ANIMAL_CLASSES: dict[str, str] = {
    **dict.fromkeys(
        words(
            "dog cat cow horse pig sheep goat rabbit mouse fox wolf bear deer lion tiger elephant giraffe "
            "zebra monkey kangaroo panda camel dolphin whale bat otter squirrel hedgehog"
        ),
        "mammal",
    ),
    **dict.fromkeys(words("chicken duck owl eagle penguin ostrich parrot sparrow pigeon swan crow"), "bird"),
    **dict.fromkeys(words("snake lizard turtle crocodile tortoise iguana gecko"), "reptile"),
    **dict.fromkeys(words("frog toad salamander newt"), "amphibian"),
    **dict.fromkeys(words("salmon trout tuna cod goldfish carp shark"), "fish"),
    **dict.fromkeys(words("ant bee beetle butterfly grasshopper ladybird"), "insect"),
}
HERBIVORES: tuple[str, ...] = ("cow", "horse", "sheep", "goat", "rabbit", "deer", "giraffe", "zebra", "camel")
CARNIVORES: tuple[str, ...] = ("lion", "tiger", "wolf", "eagle", "owl", "shark", "crocodile", "snake")

# river -> continent it flows through (rivers that stay within one continent)
RIVERS: dict[str, str] = {
    "Nile": "Africa",
    "Congo": "Africa",
    "Zambezi": "Africa",
    "Limpopo": "Africa",
    "Amazon": "South America",
    "Orinoco": "South America",
    "Parana": "South America",
    "Mississippi": "North America",
    "Missouri": "North America",
    "Yukon": "North America",
    "Danube": "Europe",
    "Rhine": "Europe",
    "Volga": "Europe",
    "Thames": "Europe",
    "Seine": "Europe",
    "Loire": "Europe",
    "Elbe": "Europe",
    "Yangtze": "Asia",
    "Ganges": "Asia",
    "Mekong": "Asia",
    "Indus": "Asia",
    "Tigris": "Asia",
    "Euphrates": "Asia",
}

INSTRUMENT_FAMILIES = ("string", "brass", "woodwind", "percussion")
INSTRUMENTS: dict[str, str] = {
    **dict.fromkeys(words("violin viola cello harp double-bass mandolin banjo"), "string"),
    **dict.fromkeys(words("trumpet trombone tuba cornet euphonium bugle"), "brass"),
    **dict.fromkeys(words("flute clarinet oboe bassoon saxophone piccolo recorder"), "woodwind"),
    **dict.fromkeys(words("timpani xylophone snare-drum cymbal triangle marimba tambourine"), "percussion"),
}

# SI unit -> the quantity it measures
SI_UNITS: dict[str, str] = {
    "metre": "length",
    "kilogram": "mass",
    "second": "time",
    "ampere": "electric current",
    "kelvin": "thermodynamic temperature",
    "mole": "amount of substance",
    "candela": "luminous intensity",
    "newton": "force",
    "joule": "energy",
    "watt": "power",
    "pascal": "pressure",
    "hertz": "frequency",
    "volt": "electric potential difference",
    "ohm": "electrical resistance",
    "coulomb": "electric charge",
    "tesla": "magnetic flux density",
    "farad": "capacitance",
}

# polygon -> number of sides
POLYGONS: dict[str, int] = {
    "triangle": 3,
    "quadrilateral": 4,
    "pentagon": 5,
    "hexagon": 6,
    "heptagon": 7,
    "octagon": 8,
    "nonagon": 9,
    "decagon": 10,
    "dodecagon": 12,
}
