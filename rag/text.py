"""Small text utilities shared by lexical search, sentence scoring and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also did does according say said says tell told give given us one""".split()
)

_WORD_RE = re.compile(r"[^\W_]+(?:[’'][^\W_]+)*", re.UNICODE)


def normalise(text: str) -> str:
    """Case-fold and unify quotes, dashes and whitespace (for matching, never for citing)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"[‐‑‒–—―−]", "-", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip().casefold()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix strip: enough to match plurals and possessives."""
    word = re.sub(r"[’']s$", "", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words of ``text`` (stopwords removed)."""
    out = []
    for match in _WORD_RE.finditer(normalise(text)):
        word = match.group(0)
        if word in STOPWORDS:
            continue
        out.append(stem(word))
    return out


def matches(a: str, b: str) -> bool:
    """Two words that share all but their last few letters (demonyms, inflections)."""
    if abs(len(a) - len(b)) > 3 or min(len(a), len(b)) < 5:
        return False
    k = max(5, min(len(a), len(b)) - 2)
    return a[:k] == b[:k]
