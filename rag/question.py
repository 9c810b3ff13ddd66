"""The question, analysed once per request: what it asks for, about what, and when.

Every later stage (retrieval filters, sentence scoring, abstention, the generator) reads this
value instead of parsing the text again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag import temporal
from rag.answer_types import (
    Expectation,
    Form,
    HeadTyper,
    Tagger,
    asks_about_author,
    expectation,
)
from rag.temporal import Period
from rag.text import matches, normalise, terms

_RECENCY_RE = re.compile(
    r"\b(latest|current(ly)?|now|most recent|newest|today|still|so far|as of now|yet|"
    r"recently|these days)\b",
    re.I,
)
_WORD_RE = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")


@dataclass(frozen=True)
class Question:
    """A question as the documents are asked it (a follow-up already made standalone)."""

    text: str  # the standalone question
    asked: str  # as typed
    terms: tuple[str, ...]  # content words, stemmed
    key_terms: tuple[str, ...]  # names and numbers in the question that an answer must touch
    norm: str  # normalised text: an answer must add something not already here
    expects: Expectation = Expectation()
    recency: bool = False  # "latest", "currently", "still", "as of 2024": prefer newer sources
    about_author: bool = False  # "who wrote ...": bylines and author notes are the evidence
    period: Period | None = None  # "as of 2024": only sources published by then
    after_newest: str | None = None  # a time named that is later than the newest source

    @property
    def form(self) -> Form:
        """The question's shape: a value, a reason, yes/no, a description."""
        return self.expects.form

    def states(self, fragment: str) -> bool:
        """Whether the question already says ``fragment`` (a value it states is no answer),
        maybe in other forms of its words ("Armenian" or "Armenia-Azerbaijan" when it asks about
        "armenia and azerbaijan")."""
        return _states(self.norm, self.terms, fragment)

    @property
    def expected(self) -> frozenset[str]:
        """Entity labels that would answer it (empty: any sentence may)."""
        return self.expects.labels


@lru_cache(maxsize=16384)
def _states(norm: str, question_terms: tuple[str, ...], fragment: str) -> bool:
    """``Question.states``, remembered: a question meets the same candidate values many times."""
    if re.search(rf"(?<![\w.]){re.escape(normalise(fragment))}(?!\w)", norm):
        return True
    words = terms(fragment)
    # names only: "Article 9" is not stated by "article" and "November 9"
    said = _abbreviated(fragment, question_terms)
    return bool(words) and all(
        w.isalpha() and (w in said or any(w == t or matches(w, t) for t in question_terms))
        for w in words
    )


def _abbreviated(fragment: str, question_terms: tuple[str, ...]) -> frozenset[str]:
    """The words of ``fragment`` that a short word of the question abbreviates: "the European
    Union Monitoring Mission" is stated by "the EU monitoring mission" (initials of consecutive
    capitalised words)."""
    short = {t for t in question_terms if 2 <= len(t) <= 5 and t.isalpha()}
    if not short:
        return frozenset()
    names = [w for w in _WORD_RE.findall(fragment) if w[:1].isupper()]
    out: set[str] = set()
    for i in range(len(names)):
        for j in range(i + 2, min(len(names), i + 5) + 1):
            if "".join(w[0] for w in names[i:j]).casefold() in short:
                out.update(t for w in names[i:j] for t in terms(w))
    return frozenset(out)


def analyse(
    text: str,
    asked: str | None = None,
    newest: str | None = None,
    temporal_cues: bool = True,
    typer: HeadTyper | None = None,
    tags: Tagger | None = None,
) -> Question:
    """Analyse ``text`` (spelling and casing already repaired) once. ``newest`` is the newest
    source's ISO date (for "after newest"); ``temporal_cues=False`` ignores "as of"/"latest"
    wording; ``typer`` and ``tags`` read the kind of a "which <noun>" question's noun."""
    # Capitalised words after the first word, and numbers: the specifics a supporting
    # sentence should mention.
    words = _WORD_RE.findall(text)
    keys = [w for i, w in enumerate(words) if (i > 0 and w[:1].isupper()) or w[:1].isdigit()]
    key_terms = tuple(dict.fromkeys(t for k in keys for t in terms(k)))
    cue = recency_cue(text) is not None
    content = terms(without_recency_words(text)) if cue else terms(text)
    period = temporal.period_of(text) if temporal_cues else None
    recency = (cue or period is not None) if temporal_cues else False
    return Question(
        text=text,
        asked=asked if asked is not None else text,
        terms=tuple(dict.fromkeys(content)),
        key_terms=key_terms,
        norm=normalise(text),
        expects=expectation(text, typer, tags),
        recency=recency,
        about_author=asks_about_author(text),
        period=period,
        after_newest=temporal.after_newest(text, newest) if temporal_cues else None,
    )


def recency_cue(question: str) -> re.Match[str] | None:
    """ "latest", "currently", "still": the question prefers the newest sources."""
    return _RECENCY_RE.search(question)


def without_recency_words(question: str) -> str:
    """The question with its recency words removed (they are not content to match)."""
    return _RECENCY_RE.sub(" ", question)
