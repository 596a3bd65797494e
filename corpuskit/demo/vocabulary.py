"""Word lists the demo sample is drawn from, one set per source kind so the kinds differ in style (and so
in bits per byte): period-novel phrases for the books, coffee-gear troubles for the forum, local news for
the web pages. Used by :mod:`corpuskit.demo.data`."""

from __future__ import annotations

import numpy as np

NAMES = [
    "Elinor",
    "Marianne",
    "Edmund",
    "Harriet",
    "Frederick",
    "Catherine",
    "Lydia",
    "Edward",
    "Anne",
    "Walter",
    "Charlotte",
    "Henry",
    "Margaret",
    "Thomas",
    "Eleanor",
    "William",
]
PLACES = [
    "Longbourn",
    "the old abbey",
    "Barton Cottage",
    "the village",
    "Kellynch Hall",
    "the parsonage",
    "the river",
    "the great house",
    "Bath",
    "the garden",
    "the moor",
    "Highbury",
]
ADJ = [
    "melancholy",
    "agreeable",
    "tolerable",
    "handsome",
    "solemn",
    "amiable",
    "grave",
    "restless",
    "obliging",
    "silent",
    "uncommon",
    "tender",
    "ancient",
    "vexed",
    "proud",
    "cheerful",
]
NOUNS = [
    "letter",
    "fortune",
    "acquaintance",
    "countenance",
    "carriage",
    "promise",
    "evening",
    "sister",
    "conversation",
    "estate",
    "window",
    "opinion",
    "visit",
    "candle",
    "affection",
    "servant",
]
VERBS = [
    "observed",
    "declared",
    "perceived",
    "resolved",
    "confessed",
    "remembered",
    "wondered",
    "supposed",
    "answered",
    "lamented",
    "allowed",
    "believed",
]

TECH = [
    "espresso machine",
    "grinder",
    "French press",
    "kettle",
    "burr set",
    "pour-over cone",
    "scale",
    "moka pot",
    "portafilter",
    "milk frother",
    "thermometer",
    "aeropress",
]
ISSUES = [
    "tastes bitter",
    "leaks water",
    "makes a grinding noise",
    "runs too fast",
    "clogs after a week",
    "heats unevenly",
    "gives sour shots",
    "stopped working",
    "produces too much foam",
]
FIXES = [
    "descale it with citric acid",
    "grind two steps finer",
    "replace the gasket",
    "lower the water temperature to 92 C",
    "use filtered water",
    "tamp with about 15 kg",
    "preheat the cup",
    "weigh the dose to 18 g",
    "clean the shower screen weekly",
]

TOPICS = [
    "city council",
    "rail strike",
    "harbour project",
    "school budget",
    "heat wave",
    "local election",
    "new museum",
    "bridge repairs",
    "football final",
    "market prices",
    "tech startup",
    "flood warning",
]
WHO = [
    "officials",
    "residents",
    "the mayor",
    "analysts",
    "union leaders",
    "a spokesperson",
    "experts",
    "shop owners",
    "the ministry",
    "police",
]
SAID = [
    "said on Tuesday",
    "told reporters",
    "announced",
    "warned",
    "confirmed in a statement",
    "estimated",
    "argued",
    "reported",
]


def pick(rng: np.random.Generator, items: list[str]) -> str:
    """One item of ``items``, drawn from ``rng``."""
    return items[int(rng.integers(len(items)))]
