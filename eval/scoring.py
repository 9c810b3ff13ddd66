"""Score one response against its question's gold data: evidence found, answer right, citations
verbatim."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eval.question_set import Question
from rag.schemas import AskResponse, Passage
from rag.text import normalise


@dataclass
class Span:
    """Gold evidence located in a document."""

    doc_id: str
    start: int
    end: int
    text: str


def locate_evidence(q: Question, texts: dict[str, str]) -> list[Span]:
    """Find each evidence string in the question's documents (first occurrence)."""
    spans = []
    for ev in q.evidence_list():
        for doc_id in q.doc_ids() or list(texts):
            pos = texts.get(doc_id, "").find(ev)
            if pos >= 0:
                spans.append(Span(doc_id, pos, pos + len(ev), ev))
                break
    return spans


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    """Characters two half-open ranges share."""
    return max(0, min(a1, b1) - max(a0, b0))


def covers(passage: Passage, span: Span) -> bool:
    """A passage contains the evidence, or overlaps at least half of its characters."""
    if passage.doc_id != span.doc_id:
        return False
    return overlap(passage.start, passage.end, span.start, span.end) * 2 >= span.end - span.start


def contains_accept(answer: str, accept: Sequence[str]) -> str | None:
    """The first accept string found in the answer (normalised), if any."""
    norm = normalise(answer)
    for item in accept:
        if item and normalise(item) in norm:
            return item
    return None


def says_yes_no(short_answer: str | None, expected: str) -> bool:
    """Whether a short answer begins with the expected "yes" or "no" ("No, ..." but not
    "None")."""
    return re.match(rf"{expected}\b", normalise(short_answer or "")) is not None


# "[1]" / "[2, 3]" markers point at citations; they are not words a reader reads.
_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def word_count(text: str) -> int:
    """Words in an answer: whitespace-separated tokens with a letter or digit, markers left out
    ("Yes — on June 22, 2026 [1]." is 5 words)."""
    return sum(1 for token in _MARKER.sub(" ", text).split() if re.search(r"\w", token))


@dataclass
class Result:
    """Everything measured for one question."""

    q: Question
    response: AskResponse
    latency_ms: float
    passages: list[Passage]
    spans: list[Span]
    correct: bool = False
    matched: str | None = None
    why: str = ""
    recall: dict[int, float] = field(default_factory=dict)
    rr: float = 0.0
    ndcg: float = 0.0
    valid_citations: int = 0
    relevant_citations: int = 0
    # An accept string inside `short_answer` (or the expected Yes/No at its start).
    short_correct: bool = False
    short_matched: str | None = None

    @property
    def answer_words(self) -> int | None:
        """Words in the answer text; None when the pipeline abstained."""
        return None if self.response.abstained else word_count(self.response.answer)

    def to_json(self) -> dict[str, Any]:
        """Per-question record for the JSON report."""
        return {
            "id": self.q.id,
            "type": self.q.type,
            "split": self.q.split,
            "conversation": self.q.conversation,
            "tags": self.q.tags(),
            "question": self.q.question,
            "history_turns": len(self.q.history),
            "expected": self.q.answer,
            "answer": self.response.answer,
            "short_answer": self.response.short_answer,
            "short_answer_citation": self.response.short_answer_citation,
            "abstained": self.response.abstained,
            "support": self.response.support,
            "correct": self.correct,
            "matched": self.matched,
            "short_correct": self.short_correct,
            "short_matched": self.short_matched,
            "answer_words": self.answer_words,
            "why": self.why,
            "retrieved_doc_ids": [p.doc_id for p in self.passages],
            "retrieved_chunk_ids": [p.chunk_id for p in self.passages],
            "recall_at_5": self.recall.get(5),
            "recall_at_10": self.recall.get(10),
            "citations": [c.model_dump() for c in self.response.citations],
            "latency_ms": round(self.latency_ms, 2),
            "timings_ms": self.response.timings_ms,
            "generator": self.response.generator,
            "generated_sentences": self.response.generated_sentences,
            "dropped_sentences": self.response.dropped_sentences,
            "fallback": self.response.fallback,
            "sentences": [s.model_dump() for s in self.response.sentences],
            "dropped": [s.model_dump() for s in self.response.dropped],
        }


def _score_retrieval(r: Result) -> None:
    """Recall@5/10, reciprocal rank and nDCG@10 of the gold evidence among the passages."""
    for k in (5, 10):
        top = r.passages[:k]
        r.recall[k] = sum(any(covers(p, s) for p in top) for s in r.spans) / len(r.spans)
    rel = [any(covers(p, s) for s in r.spans) for p in r.passages[:10]]
    first = next((i for i, hit in enumerate(rel) if hit), None)
    r.rr = 0.0 if first is None else 1.0 / (first + 1)
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(rel) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(r.spans), 10)))
    r.ndcg = dcg / ideal if ideal else 0.0


def _score_answer(r: Result) -> None:
    """Answer and short answer against the accept strings (and the expected Yes/No)."""
    q, response = r.q, r.response
    if response.abstained:
        r.why = "abstained on an answerable question"
        return
    r.matched = contains_accept(response.answer, q.accept)
    decided = q.yes_no is not None and says_yes_no(response.short_answer, q.yes_no)
    r.correct = r.matched is not None or decided
    if decided and r.matched is None:
        r.matched = q.yes_no
    if not r.correct:
        r.why = f"no accept string {q.accept!r} in the answer"
        if q.yes_no is not None:
            r.why += f" and the short answer {response.short_answer!r} is not {q.yes_no!r}"
    if q.yes_no is not None:
        r.short_correct = decided
        r.short_matched = q.yes_no if decided else None
    elif response.short_answer is not None:
        r.short_matched = contains_accept(response.short_answer, q.accept)
        r.short_correct = r.short_matched is not None


def score_one(
    q: Question, response: AskResponse, latency_ms: float, texts: dict[str, str]
) -> Result:
    """Compare one response with the gold data."""
    passages = response.passages or response.related
    r = Result(q, response, latency_ms, passages, locate_evidence(q, texts))
    for c in response.citations:
        text = texts.get(c.doc_id)
        if text is not None and text[c.start : c.end] == c.quote:
            r.valid_citations += 1
    if not q.answerable:
        r.correct = response.abstained
        r.why = "" if r.correct else "answered an unanswerable question"
        return r
    if r.spans:
        _score_retrieval(r)
    _score_answer(r)
    if r.correct:
        for c in response.citations:
            on_gold = any(
                c.doc_id == s.doc_id and overlap(c.start, c.end, s.start, s.end) > 0
                for s in r.spans
            )
            if on_gold or contains_accept(c.quote, q.accept):
                r.relevant_citations += 1
    return r
