"""What verification says of a generated sentence: its verdict, the spans that support it,
and the problems (as codes) that make it unsupported."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rag.documents import DocMeta


class Problem(StrEnum):
    """Why a generated sentence is not supported (reports and tests count these codes)."""

    ABSTAINS = "abstains"  # says the documents don't answer
    QUESTION = "question"  # a question, not a statement
    INSTRUCTION = "instruction"  # an order, as an injected instruction looks when repeated
    INCOMPLETE = "incomplete"  # cut off, or a heading
    TOO_SHORT = "too_short"
    NO_CITATION = "no_citation"
    NO_SOURCES = "no_sources"
    NOTHING_CHECKABLE = "nothing_checkable"  # the cited sources have no checkable sentence
    NEW_WORDS = "new_words"  # rare words the source does not use
    ONLY_ATTRIBUTION = "only_attribution"  # states nothing beyond who said it
    NEW_PERIOD = "new_period"  # a duration the source does not state
    NEW_NUMBERS = "new_numbers"
    NEW_NAMES = "new_names"
    NEW_QUOTATION = "new_quotation"
    NEW_NEGATION = "new_negation"
    LOW_OVERLAP = "low_overlap"  # too few of its content words are in the source
    NO_OVERLAP = "no_overlap"
    LOW_SIMILARITY = "low_similarity"
    UNSUPPORTED = "unsupported"  # none of the above, yet below the thresholds
    REPEAT = "repeat"  # repeats an earlier sentence of the same answer


@dataclass(frozen=True)
class Source:
    """A passage numbered in the prompt: [n] refers to it."""

    n: int
    doc_id: str
    chunk_id: str
    sentence_ids: tuple[int, ...]
    text: str
    meta: DocMeta


@dataclass(frozen=True)
class SpanRef:
    """A verbatim span that supports a sentence."""

    source: int
    doc_id: str
    start: int
    end: int
    section: str


@dataclass
class Check:
    """The verdict on one generated sentence."""

    claim: str  # the sentence without markers
    cited: list[int]  # valid source numbers it cited
    ignored: list[int]  # markers that named no source
    supported: bool
    spans: list[SpanRef] = field(default_factory=list)
    lexical: float = 0.0
    similarity: float = 0.0
    reason: str | None = None  # in words, with the values ("numbers not in the source: 350")
    problems: list[Problem] = field(default_factory=list)
