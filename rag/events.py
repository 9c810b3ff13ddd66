"""What ``Pipeline.ask_stream`` yields, in order: Retrieved, Delta…, Done."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.schemas import AskResponse, Passage

WORDS_PER_DELTA = 4

_WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Retrieved:
    """Passages found, before the answer is composed."""

    passages: list[Passage]
    rewritten_question: str | None


@dataclass(frozen=True)
class Delta:
    """A piece of the answer text; the pieces concatenate to ``AskResponse.answer``."""

    text: str


@dataclass(frozen=True)
class Done:
    """The complete answer: exactly what ``Pipeline.ask`` returns."""

    response: AskResponse


AskEvent = Retrieved | Delta | Done


def pieces(text: str, words: int = WORDS_PER_DELTA) -> Iterator[str]:
    """``text`` in runs of a few words, whitespace kept, so the runs join back to ``text``."""
    lead = text[: len(text) - len(text.lstrip())]
    tokens = _WORD.findall(text)
    if not tokens:
        if text:
            yield text
        return
    tokens[0] = lead + tokens[0]
    for i in range(0, len(tokens), words):
        yield "".join(tokens[i : i + words])
