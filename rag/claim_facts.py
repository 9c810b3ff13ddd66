"""What a claim states that its source must also state: numbers, ordinals, names, quotations.

Also the loose word matching verification uses ("reopened" matches "reopen").
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.dates import MONTHS
from rag.text import normalise

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80"}
_NUMBER_RE = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?![\w])|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b",
    re.IGNORECASE,
)
_ORDINALS = {
    w: i
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1
    )
}
_ORDINAL_RE = re.compile(
    r"\b(?:" + "|".join(_ORDINALS) + r")\b|(?<![\w.])(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE
)
# A duration or period in a claim must be the source's, not the model's ("for over a year").
_NAME_RE = re.compile(r"\b[A-Z][\w’'-]*")
# Capitalised words a model uses for the prompt's own furniture, not names from a source.
_NOT_NAMES = frozenset(
    "I Source Sources Document Documents Question Answer According The A An It This That".split()
)
_PAREN_RE = re.compile(r"\([^()]*\d[^()]*\)")
_QUOTE_RE = re.compile(r"[\"“]([^\"“”]{3,}?)[\"”]")


def numbers_in(text: str) -> set[str]:
    """Numbers stated in ``text``, normalised ("1,200" -> "1200", "seven" -> "7", "3rd" -> "3")."""
    out = set()
    for match in _NUMBER_RE.finditer(text):
        token = match.group(0).lower()
        if token in _NUMBER_WORDS:
            out.add(_NUMBER_WORDS[token])
            continue
        token = re.sub(r"(st|nd|rd|th)$", "", token).replace(",", "")
        if re.fullmatch(r"\d+", token):
            token = str(int(token))
        out.add(token)
    return out


def ordinals_in(text: str) -> set[str]:
    """Ordinals, as words or digits: "second" and "2nd" are both "2nd"."""
    out = set()
    for match in _ORDINAL_RE.finditer(text):
        word = match.group(0).lower()
        n = _ORDINALS[word] if word in _ORDINALS else int(match.group(1))
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        out.add(f"{n}{suffix}")
    return out


def names_in(text: str) -> list[str]:
    """Capitalised words after the first word: the names a claim mentions."""
    found = []
    for match in _NAME_RE.finditer(text):
        if match.start() == 0 or not text[: match.start()].strip(" \"'“‘(["):
            continue
        word = match.group(0).rstrip("’'-")
        if word in _NOT_NAMES or word.lower() in MONTHS:
            continue
        found.append(word)
    return found


def quotations_in(text: str) -> list[str]:
    """Quoted passages of three or more words, as normalised word runs."""
    out = []
    for match in _QUOTE_RE.finditer(text):
        words = word_run(match.group(1))
        if len(words.split()) >= 3:
            out.append(words)
    return out


def drop_own_dates(claim: str, dates: set[str]) -> str:
    """Remove "(22 June 2026)" after an outlet's name: the source's own date is attribution."""
    return _PAREN_RE.sub(lambda m: "" if numbers_in(m.group(0)) <= dates else m.group(0), claim)


def word_run(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", normalise(text)))


@lru_cache(maxsize=65536)
def word_root(term: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "er", "ly"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


def matches(term: str, bag: frozenset[str]) -> bool:
    """Exact, or the same word with another ending ("reopened"/"reopen", "Armenian"/"Armenia")."""
    if term in bag:
        return True
    root = word_root(term)
    for other in bag:
        if word_root(other) == root:
            return True
        if len(term) < 5:
            continue
        if len(other) < 5 or abs(len(other) - len(term)) > 4:
            continue
        k = max(5, min(len(term), len(other)) - 2)
        if term[:k] == other[:k]:
            return True
    return False
