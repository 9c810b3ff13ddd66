"""A deterministic stand-in for spaCy, so unit tests of small pipelines load no language model."""

from __future__ import annotations

import re

from rag.chunking import Split

# A sentence ends at . ! or ? (and any closing quote or bracket) before whitespace, at a line
# break, or at the end of the text. "3.5" and "example.org" do not end one; "Dr. Smith" does.
_SENTENCE_RE = re.compile(r"\S.*?(?:[.!?][\"')\]’”]*(?=\s|\Z)|(?=\n)|\Z)", re.DOTALL)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
# "3 March 2025", "March 3, 2025", "June 2026", "2026".
_DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}} {_MONTH}(?: \d{{4}})?|{_MONTH}(?: \d{{1,2}},?)?(?: \d{{4}})?"
    r"|(?:1[89]|20)\d\d)\b"
)
_NUMBER_RE = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_NAME_RE = re.compile(r"\b[A-Z][\w'’-]*(?: (?:of |the )?[A-Z][\w'’-]*)*")
# Capitalised because they open a sentence or a name, not because they name something.
_OPENERS = frozenset(
    "A An The This That These Those It Its In On At By For From After Before When While But And "
    "He She They We His Her Their Our".split()
)


class FakeSplitter:
    """A ``SentenceSplitter`` by rules: sentences from punctuation and line breaks; entities
    are DATE (month names, years), CARDINAL (other numbers) and ORG (runs of capitalised words
    without a leading "The", "In"...; one capitalised word opening a sentence is no name)."""

    def __call__(self, text: str) -> Split:
        return [(m.start(), m.end(), _entities(m.group())) for m in _SENTENCE_RE.finditer(text)]


def _entities(sentence: str) -> list[tuple[str, str]]:
    """(label, text) of the entities in one sentence, in text order, never overlapping."""
    spans: list[tuple[int, int, str]] = []

    def add(start: int, end: int, label: str) -> None:
        if start < end and all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, label))

    for m in _DATE_RE.finditer(sentence):
        add(m.start(), m.end(), "DATE")
    for m in _NUMBER_RE.finditer(sentence):
        add(m.start(), m.end(), "CARDINAL")
    for m in _NAME_RE.finditer(sentence):
        start, words = m.start(), m.group().split(" ")
        opens = not sentence[: m.start()].strip("\"'“‘([-•* ")
        if words[0] in _OPENERS or (opens and len(words) == 1):
            start += len(words[0]) + 1
        add(start, m.end(), "ORG")
    return [(label, sentence[s:e]) for s, e, label in sorted(spans)]
