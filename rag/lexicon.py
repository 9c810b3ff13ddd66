"""The collection's own words: repairs a typed question's spelling and casing against them.

People type "azerbijan", "pashinian", "armenias", all in lower case. Each word the collection
never uses is replaced by the nearest word it does use (edit distance 1, or 2 for long words;
the more frequent wins a tie), and each word the collection writes capitalised (a name) is
capitalised, so the question's names are found by the same rules as a well-typed one's.
Nothing here knows the dev questions: it reads the indexed text.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from rag.text import STOPWORDS, stem, terms

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Chat shorthand: general English, not the collection's words.
SHORTHAND = {
    "ppl": "people",
    "thru": "through",
    "tho": "though",
    "govt": "government",
    "gov": "government",
    "yrs": "years",
    "yr": "year",
    "u": "you",
    "ur": "your",
    "pls": "please",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "w/": "with",
    "uni": "university",
    "intl": "international",
    "mins": "minutes",
    "whos": "who is",
    "whats": "what is",
    "wheres": "where is",
    "whens": "when is",
    "whys": "why is",
    "hows": "how is",
    "wont": "won't",
    "cant": "can't",
    "couldnt": "couldn't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "hasnt": "hasn't",
    "havent": "haven't",
    "thats": "that is",
    "theyre": "they're",
    "im": "I'm",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "gonna": "going to",
    "wanna": "want to",
}
MIN_REPAIR_LEN = 4  # shorter words are too often another real word one letter away
# Words at least this common in English (Zipf scale: 3 = once per million words) are real words
# the collection happens not to use ("think", "promise"), not misspellings of its words.
ENGLISH_ZIPF = 2.5


@dataclass(frozen=True)
class Repair:
    """A question with its spelling and casing repaired, and what was changed."""

    text: str
    changes: tuple[tuple[str, str], ...] = ()


class Lexicon:
    """Word frequencies and cased forms of one collection."""

    def __init__(self, texts: list[str]) -> None:
        counts: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        mid: Counter[str] = Counter()  # occurrences after a sentence's first word
        cased: dict[str, Counter[str]] = {}
        for text in _sentence_lines(texts):
            for match in _WORD_RE.finditer(text):
                word = match.group(0).replace("’", "'")
                low = word.lower()
                counts[low] += 1
                # A capital after the first word of a sentence marks a name; a sentence's first
                # word says nothing either way.
                before = text[max(0, match.start() - 2) : match.start()]
                if re.search(r"[.!?:\"“]\s*$|^\s*$", before):
                    continue
                mid[low] += 1
                if word[:1].isupper():
                    capitalised[low] += 1
                    cased.setdefault(low, Counter())[word] += 1
        self.counts = counts
        self.stems = frozenset(stem(w) for w in counts)
        self.names = {
            low: forms.most_common(1)[0][0]
            for low, forms in cased.items()
            if capitalised[low] >= 0.8 * mid[low] and low not in STOPWORDS
        }
        self._choices = [w for w in counts if len(w) >= MIN_REPAIR_LEN - 1]

    def known(self, word: str) -> bool:
        """Whether the collection uses this word (or another form of it)."""
        low = word.lower().replace("’", "'")
        return low in self.counts or stem(low) in self.stems

    def nearest(self, word: str) -> str | None:
        """The collection's word closest in spelling, if one is close enough."""
        low = word.lower()
        limit = 1 if len(low) < 7 else 2
        found = process.extract(
            low, self._choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=8
        )
        if not found:
            return None
        best = min(found, key=lambda f: (f[1], -self.counts[f[0]]))
        return best[0]

    def repair(self, text: str) -> Repair:
        """``text`` with shorthand expanded, misspellings fixed and names capitalised."""
        changes: list[tuple[str, str]] = []

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            low = word.lower()
            new = word
            if low in SHORTHAND and low not in self.counts:
                new = SHORTHAND[low]
            elif (
                len(low) >= MIN_REPAIR_LEN
                and low not in STOPWORDS
                and not self.known(low)
                and not _common_english(low)
                and (near := self.nearest(low)) is not None
            ):
                new = near
            name = self.names.get(new.lower())
            if name is not None and new.islower():
                new = name
            elif (
                new.islower()
                and new.endswith("s")
                and new[:-1] in self.names
                and len(new) >= MIN_REPAIR_LEN  # "us" is no "U's"
                and new not in STOPWORDS
                and new not in self.counts
            ):
                new = self.names[new[:-1]] + "'s"  # "armenias" -> "Armenia's"
            if new != word:
                changes.append((word, new))
            return new

        repaired = _WORD_RE.sub(fix, text)
        return Repair(repaired, tuple(changes))


def _sentence_lines(texts: list[str]) -> list[str]:
    """Lines of running text: headings and titles in Title Case say nothing about names."""
    out = []
    for text in texts:
        for line in text.splitlines():
            words = _WORD_RE.findall(line)
            if line.lstrip().startswith("#") or len(words) < 4:
                continue  # headings and labels
            if sum(w[:1].isupper() for w in words) > 0.6 * len(words):
                continue
            out.append(line)
    return out


def load_word_tables() -> None:
    """Import wordfreq and read its English table now (~0.3 s)."""
    with _TABLES_LOCK:
        _common_words()


def _import_wordfreq() -> None:
    """Import wordfreq with a cheap ``locate.this_dir``.

    wordfreq finds its data folder with ``locate.this_dir()``, which calls ``inspect.stack()``:
    source context for every frame, whose module lookup realpaths every loaded module's file.
    In the service process that is ~1,700 modules and 14,000 ``lstat`` calls: 0.6-0.8 s of
    start-up, measured. The replacement returns the same thing, the folder of the calling
    file, from the caller's frame.
    """
    if "wordfreq" in sys.modules:
        return
    import locate

    def this_dir() -> Path:
        caller = sys._getframe(1).f_globals
        if "__file__" in caller:
            return Path(os.path.abspath(caller["__file__"])).parent
        return Path(os.path.abspath(os.getcwd()))

    locate.this_dir = this_dir  # type: ignore[attr-defined]
    import wordfreq  # noqa: F401


_TABLES_LOCK = threading.Lock()


def _common_english(word: str) -> bool:
    if word.isascii() and word.isalpha() and word.islower():
        with _TABLES_LOCK:  # read once, even when a warm-up thread is reading it too
            common = _common_words()
        return word in common
    _import_wordfreq()
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= ENGLISH_ZIPF


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Plain lowercase words at or above ENGLISH_ZIPF, read from wordfreq's frequency bands.

    Band i holds the words whose zipf frequency rounds to 9 - i/100, so this set answers
    ``zipf_frequency(w, "en") >= ENGLISH_ZIPF`` for such words without the 0.36 s dictionary
    of every word wordfreq builds for its first lookup (tests check they agree).
    """
    _import_wordfreq()
    from wordfreq import get_frequency_list

    last = round((9 - ENGLISH_ZIPF) * 100)
    return frozenset(w for band in get_frequency_list("en")[: last + 1] for w in band)


def top_words(n: int) -> list[str]:
    """wordfreq's ``top_n_list("en", n)``, without its regex match per word: the ``regex``
    module releases the GIL on every match, and with spaCy loading in another thread each of
    the 20k re-acquisitions waited (0.5 s at start-up, measured)."""
    _import_wordfreq()
    from wordfreq import iter_wordlist

    out: list[str] = []
    for word in iter_wordlist("en"):
        # wordfreq's has_digit_sequence: r"\d[\d.,]+" matched at the start ("1" is kept)
        if not (len(word) > 1 and word[0].isdecimal() and (word[1].isdecimal() or word[1] in ".,")):
            out.append(word)
            if len(out) >= n:
                break
    return out


def common_terms(n: int) -> list[str]:
    """The terms of the ``n`` most common English words (wordfreq's list), alphabetic only."""
    if n <= 0:
        return []
    out: dict[str, None] = {}
    for word in top_words(n):
        if word.isascii() and word.isalpha() and word.islower():  # terms(), without the regexes
            found = [] if word in STOPWORDS else [stem(word)]
        else:
            found = [t for t in terms(word) if t.isalpha()]
        out.update(dict.fromkeys(found))
    return list(out)
