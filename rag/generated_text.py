"""Generated text, read sentence by sentence: where sentences end, and their [n] markers."""

from __future__ import annotations

import re

# [1], [1, 2], [1-3], [Source 2]: what the prompt asks for, and what models write instead.
MARKER_RE = re.compile(
    r"\[\s*(?:sources?\s*)?(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*(?:sources?\s*)?\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_MARKER_AFTER = re.compile(
    r"[ \t]*\n?[ \t]*\[\s*(?:sources?\s*)?\d{1,3}(?:\s*(?:,|;|-|–|and)\s*(?:sources?\s*)?"
    r"\d{1,3})*\s*\]",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_TERMINAL = re.compile(r"[.!?…]+[\"'”’)]*|\n")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st no vs etc e.g i.e gen col lt prof inc ltd co corp approx art jan feb mar "
    "apr jun jul aug sep sept oct nov dec fig cf al".split()
)
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?|[A-Z]")


def _is_abbreviation(text: str, dot: int) -> bool:
    word = re.search(r"(\S+)$", text[:dot])
    if word is None:
        return False
    token = word.group(1).lstrip("(\"'“‘")
    if token.isdigit() and re.search(r"(?:^|\n)[ \t]*\d{1,2}$", text[:dot]):
        return True  # "2." numbering a list item
    return token.lower() in _ABBREVIATIONS or bool(_INITIALS.fullmatch(token))


def boundaries(text: str) -> list[int]:
    """End offsets of the sentences in ``text`` (markers after a full stop stay with it)."""
    out: list[int] = []
    last = 0
    for match in _TERMINAL.finditer(text):
        if match.group(0) != "\n":
            if match.group(0).startswith(".") and _is_abbreviation(text, match.start()):
                continue
        end = match.end()
        while (marker := _MARKER_AFTER.match(text, end)) is not None:
            end = marker.end()
        if match.group(0) != "\n" and end < len(text) and not text[end].isspace():
            continue  # "5.5", "U.S.-led", "e.g.x": not an end
        if end <= last or not text[last:end].strip():
            continue
        out.append(end)
        last = end
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of a generated answer, markers included, whitespace trimmed."""
    out, start = [], 0
    for end in [*boundaries(text), len(text)]:
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    return out


class SentenceBuffer:
    """Turns a stream of text pieces into complete sentences as soon as each one ends."""

    def __init__(self) -> None:
        self._text = ""

    def feed(self, piece: str) -> list[str]:
        """Add a piece; return the sentences it completed."""
        self._text += piece
        done: list[str] = []
        start = 0
        for end in boundaries(self._text):
            rest = self._text[end:].lstrip()
            # A sentence is complete once something other than a marker follows it.
            if not rest or rest.startswith("["):
                break
            sentence = self._text[start:end].strip()
            if sentence:
                done.append(sentence)
            start = end
        self._text = self._text[start:]
        return done

    def flush(self) -> list[str]:
        """The sentences left when the stream ends."""
        rest, self._text = self._text, ""
        return split_sentences(rest)


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its [n] markers, and the numbers they name, in order."""
    numbers: list[int] = []
    for match in MARKER_RE.finditer(sentence):
        inner = re.sub(r"(?i)sources?", "", match.group(1))
        for part in re.split(r"\s*(?:,|;|and)\s*", inner):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] <= 10:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
    text = MARKER_RE.sub("", sentence)
    text = _BULLET_RE.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text, list(dict.fromkeys(numbers))
