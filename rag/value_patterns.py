"""What kinds of values look like in text: numbers, durations, lengths, money, numbered
provisions, causes; the entity labels of each kind; and units written several ways."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.text import stem

# Counts and amounts; years ("2023") and codes ("H-26") are not answers to "how many".
_UNITS_WORDS = "one|two|three|four|five|six|seven|eight|nine"
NUMBER_RE = re.compile(
    r"(?<![\w-])(?!(?:1[89]|20)\d\d\b)\d[\d,.]*(?!st\b|nd\b|rd\b|th\b)"
    r"|\b(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:"
    + _UNITS_WORDS
    + r"))?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|half)\b",
    re.IGNORECASE,
)
# "how long": a duration, a number of time units ("forty-four days", "at least one year").
DURATION_RE = re.compile(
    r"\b(?:(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:" + _UNITS_WORDS + r"))?|"
    r"few|several|many|a few)[\s-]+)?"
    r"(?:hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies))\b",
    re.IGNORECASE,
)
LENGTH_RE = re.compile(
    r"\b\d[\d,.]*[\s-]*(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|m)\b", re.IGNORECASE
)
SPAN_RE = re.compile(f"{DURATION_RE.pattern}|{LENGTH_RE.pattern}", re.IGNORECASE)
# Numbered provisions: "which article/clause ..." is answered by "Article 5".
NUMBERED_RE = re.compile(
    r"\b(?:article|clause|paragraph|section|point|chapter|annex|resolution)\s+\d+", re.IGNORECASE
)
MONEY_RE = re.compile(
    r"[$€£₽]\s?\d|\b(?:usd|eur|amd|azn|gbp)\s?\d|\b\d[\d,.]*\s*(?:million|billion|bn|m|k)?\s*"
    r"(?:dollars?|euros?|usd|eur|amd|azn|gbp|manats?|drams?|r[o]?ubles?|pounds?|lira)\b",
    re.IGNORECASE,
)
# A stated cause or purpose: what a "why" question is answered with.
REASON_RE = re.compile(
    r"\b(because|since|due to|owing to|as a result|in response to|in retaliation|after|"
    r"following|amid|over|for fear|so that|in order to|given that|thanks to|aim(?:s|ed)? to|"
    r"seek(?:s|ing)? to|to (?:avoid|prevent|ensure|secure|counter|protest)|reason|motivat\w*|"
    r"driven by|logic)\b",
    re.IGNORECASE,
)

NUMBERS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
TIMES = frozenset({"DATE", "TIME"})
PLACES = frozenset({"GPE", "LOC", "FAC"})
AGENTS = frozenset({"PERSON", "ORG", "NORP", "GPE"})
NAMED = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART"}
)
# What can name a thing a "what <noun>" question asks for: a name, a language, "the 11th".
THINGS = NAMED | {"LANGUAGE", "ORDINAL"}


# Units a count or amount is stated in, by their written forms: "how many km" is answered by
# "a 12-kilometer section", "what percent" by "40%".
_UNITS = {
    "km": "km",
    "kilometer": "km",
    "kilometre": "km",
    "kms": "km",
    "mile": "mile",
    "mi": "mile",
    "meter": "m",
    "metre": "m",
    "percent": "%",
    "percentage": "%",
    "pct": "%",
    "%": "%",
    "dollar": "$",
    "usd": "$",
    "$": "$",
    "euro": "€",
    "eur": "€",
    "€": "€",
    "gigabit": "gbit",
    "gbps": "gbit",
    "megabit": "mbit",
    "mbps": "mbit",
    "terabit": "tbit",
    "tbps": "tbit",
    "byte": "byte",
    "ton": "t",
    "tonne": "t",
    "barrel": "barrel",
    "watt": "w",
    "megawatt": "mw",
    "mw": "mw",
    "gigawatt": "gw",
    "kilogram": "kg",
    "kg": "kg",
    "hour": "hour",
    "hr": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
    "yr": "year",
}


@lru_cache(maxsize=16384)
def unit_of(word: str) -> str | None:
    """The canonical unit a word names ("kilometres" -> "km"), if it names one."""
    w = word.lower()
    return _UNITS.get(w) or _UNITS.get(stem(w)) or _UNITS.get(w.rstrip("s"))


def same_noun(word: str, noun: str) -> bool:
    """Whether ``word`` is the (stemmed) ``noun``, or the same unit written another way."""
    if stem(word.lower()) == noun:
        return True
    unit = unit_of(word)
    return unit is not None and unit == unit_of(noun)
