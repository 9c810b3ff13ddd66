"""What a question asks for, read from its wording: the expected kind of value and precision.

Each rule maps a question pattern to the entity labels (spaCy's) that would answer it, with a
regex fallback for sentences whose entities spaCy missed. The first rule that matches wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.dates import DATE_RE, DAY_RE, MONTH_RE
from rag.text import stem

# Counts and amounts; years ("2023") and codes ("H-26") are not answers to "how many".
NUMBER_RE = re.compile(
    r"(?<![\w-])(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|\b(two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?|half|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety)\b",
    re.IGNORECASE,
)
_ARTICLE_RE = re.compile(r"\b(article|clause|paragraph|point)\s+\d+", re.IGNORECASE)
_NUMBERS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
# How precise the asked-for value must be: "on what date" wants a day, "in what month" a month,
# "how much did it cost" an amount of money. An answer that is only a year (or a bare count)
# does not answer them.
_MONEY_RE = re.compile(
    r"[$€£₽]\s?\d|\b(?:usd|eur|amd|azn|gbp)\s?\d|\b\d[\d,.]*\s*(?:million|billion|bn|m|k)?\s*"
    r"(?:dollars?|euros?|usd|eur|amd|azn|gbp|manats?|drams?|r[o]?ubles?|pounds?|lira)\b",
    re.IGNORECASE,
)
_PRECISION: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\b(what|which) (exact )?(date|days?)\b", re.I), DAY_RE),
    (re.compile(r"\b(what|which) month\b", re.I), MONTH_RE),
]
_MONEY_CUE = re.compile(
    r"\b(spen[dt]|spending|costs?|costing|worth|monetary|price[ds]?|paid|pay|budget(ed)?|"
    r"invest(ed|ment)?|fund(ed|ing)?|dollars?|euros?|financ(e|ed|ing))\b",
    re.IGNORECASE,
)
# "What bandwidth, in gigabits per second, ...": the value must come with that unit.
_UNIT_RE = re.compile(r",\s*in\s+([^\W\d_]+)(?:\s+per\s+[^\W\d_]+)?\s*,", re.IGNORECASE)
# "Who is the chief executive of X?" asks for a person; "Who mediated?" may be answered by an
# organisation or a country.
_WHO_ROLE_RE = re.compile(
    r"^\s*who (is|was|are|were|will be|has been|had been) (the|its|their|[^\W\d_]+['’]s)\s",
    re.IGNORECASE,
)
_NAMED = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART"}
)

_WHO = frozenset({"PERSON", "ORG"})  # "who" may be a person or an organisation, but
# "who is the <role>" asks for a person (_WHO_ROLE_RE).
# Question pattern -> (entity labels that would answer it, regex fallback). First match wins.
_EXPECTATIONS: list[tuple[re.Pattern[str], frozenset[str], re.Pattern[str] | None]] = [
    (
        re.compile(r"\b(which|what) (article|clause|paragraph|point|provision|section)\b", re.I),
        frozenset({"LAW"}),
        _ARTICLE_RE,
    ),
    (
        re.compile(r"^\s*when\b|\b(what|which) (date|day|year|month)\b|\bin what year\b", re.I),
        frozenset({"DATE", "TIME"}),
        DATE_RE,
    ),
    (
        re.compile(r"\bhow (long|old)\b", re.I),
        _NUMBERS | {"DATE", "TIME"},
        NUMBER_RE,
    ),
    (
        re.compile(
            r"\bhow (many|much|far|large|big)\b|\bwhat (?:(?:is|was|were|are) the )?(?:\w+ )?"
            r"(percentage|share|number|amount|figure|sum|proportion|size|length|value|cost|"
            r"price|bandwidth|capacity|speed|distance|population|area|budget|total)\b",
            re.I,
        ),
        _NUMBERS,
        NUMBER_RE,
    ),
    (
        re.compile(
            r"\b(which|what) (\w+ )?(company|companies|organi[sz]ations?|outlets?|group|body|"
            r"operator|firm|party|parties|institution|agency|newspaper|publication)\b",
            re.I,
        ),
        frozenset({"ORG", "NORP"}),
        None,
    ),
    (
        re.compile(
            r"\b(which|what) (\w+ )?(country|countries|power|powers|state|states|nation)\b", re.I
        ),
        frozenset({"GPE", "NORP"}),
        None,
    ),
    (
        re.compile(
            r"^\s*(who|whom|whose)\b|\b(which|what) (\w+ )?(person|official|leader|minister|"
            r"president|envoy|diplomat|author|analyst|archbishop|spokesperson)\b",
            re.I,
        ),
        _WHO,
        None,
    ),
    (
        re.compile(r"^\s*where\b|\bin (which|what) (city|country|place|region)\b", re.I),
        frozenset({"GPE", "LOC", "FAC"}),
        None,
    ),
    (re.compile(r"\bwhat (is|was|were|are) the names? of\b", re.I), _NAMED, None),
]
_AUTHOR_RE = re.compile(r"\b(wrote|written|authors?|co-?authors?|byline)\b", re.I)
_RECENCY_RE = re.compile(
    r"\b(latest|current(ly)?|now|most recent|newest|today|still|so far|as of now|yet)\b", re.I
)


_COUNT_RE = re.compile(r"\bhow many\s+((?:[^\W\d_]+[\s-]+){0,3}[^\W\d_]+)", re.I)
_COUNT_STOP = frozenset(
    "are were was is did do does have has had will would can could long wide large in on of "
    "at by for from to".split()
)


def counted_noun(question: str) -> str | None:
    """The head noun of "how many X ..." (stemmed), if the question counts something.

    English noun phrases end in their head ("Armenian prisoners"); the phrase ends at a
    function word or a past-tense verb ("people fled", "soldiers killed").
    """
    match = _COUNT_RE.search(question)
    if not match:
        return None
    words: list[str] = []
    for word in re.split(r"[\s-]+", match.group(1).lower()):
        if word in _COUNT_STOP or (words and word.endswith("ed")):
            break
        words.append(word)
    return stem(words[-1]) if words else None


@dataclass(frozen=True)
class Expectation:
    """The kind of value that answers a question, and how precise it must be."""

    labels: frozenset[str] = frozenset()  # spaCy entity labels that would answer it
    pattern: re.Pattern[str] | None = None  # fallback for entities spaCy missed
    counted: str | None = None  # "how many <prisoners>": the count must stand next to it
    precise: re.Pattern[str] | None = None  # what the answering value must look like

    @property
    def wants_date(self) -> bool:
        """Whether a point in time is asked for ("when", "what year")."""
        return self.pattern is DATE_RE

    @property
    def wants_number(self) -> bool:
        """Whether a count or amount is asked for."""
        return self.pattern is NUMBER_RE


def expectation(question: str) -> Expectation:
    """What kind of value answers ``question`` (empty labels: any sentence may)."""
    expected: frozenset[str] = frozenset()
    expected_re = None
    for pattern, labels, regex in _EXPECTATIONS:
        if pattern.search(question):
            expected, expected_re = labels, regex
            break
    counted = counted_noun(question)
    unit = _UNIT_RE.search(question)
    if unit and not counted:
        expected, expected_re = expected or _NUMBERS, expected_re or NUMBER_RE
        counted = stem(unit.group(1).lower())
    precise = next((p for cue, p in _PRECISION if cue.search(question)), None)
    if expected_re is NUMBER_RE and not counted and _MONEY_CUE.search(question):
        expected, precise = frozenset({"MONEY"}), _MONEY_RE
    if expected is _WHO and _WHO_ROLE_RE.search(question):
        expected = frozenset({"PERSON"})
    return Expectation(expected, expected_re, counted, precise)


def asks_about_author(question: str) -> bool:
    """ "Who wrote ...": bylines and author notes are the evidence."""
    return bool(_AUTHOR_RE.search(question))


def recency_cue(question: str) -> re.Match[str] | None:
    """ "latest", "currently", "still": the question prefers the newest sources."""
    return _RECENCY_RE.search(question)


def without_recency_words(question: str) -> str:
    """The question with its recency words removed (they are not content to match)."""
    return _RECENCY_RE.sub(" ", question)
