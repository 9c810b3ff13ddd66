"""Support scores of candidate sentences: how well each one answers the question.

A sentence's score mixes its embedding similarity to the question, the share of the
question's (idf-weighted) content words it contains, whether it holds the kind of thing the
question asks for (a date for "when", a number for "how many", a name for "who"), and the
rank of the passage it came from. The best sentence's score is the abstention signal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.chunking import Sentence
from rag.config import AnswerSettings
from rag.dates import DATE_RE
from rag.embedding import Vectors
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.question import Question
from rag.retrieve import Hit
from rag.text import matches, terms
from rag.value_patterns import NUMBER_RE, same_noun


def count_near_noun(text: str, question: Question, window: int = 5) -> bool:
    """A number not taken from the question stands within ``window`` words of the counted noun.

    "How many prisoners were released?" is not answered by a sentence about prisoners that
    only happens to hold some other number.
    """
    counted = question.expects.counted or ""
    tokens = re.findall(r"[$€£]?\d[\d,.]*|[^\W\d_]+|%", text)
    nouns = [i for i, tok in enumerate(tokens) if same_noun(tok, counted)]
    numbers = [
        i for i, tok in enumerate(tokens) if NUMBER_RE.fullmatch(tok) and not question.states(tok)
    ]
    return any(abs(n - k) <= window for n in nouns for k in numbers)


@dataclass(frozen=True)
class Scored:
    """A candidate span (one sentence, or a sentence with the one before it) and its score."""

    sentence: Sentence
    score: float
    dense: float
    lexical: float
    type_ok: bool
    passage_rank: int
    start: int
    end: int


def holds_answer_type(sentence: Sentence, text: str, question: Question) -> bool:
    """Whether the sentence holds what the question asks for - and not just what it says.

    "When was the 2023 exchange?" is not answered by a sentence whose only date is 2023.
    """
    if not question.expected:
        pattern = question.expects.pattern  # "why": a stated cause
        return pattern is None or pattern.search(text) is not None
    if question.expects.counted:
        return count_near_noun(text, question)
    for label, ent in sentence.entities:
        if label in question.expected and not question.states(ent):
            # A date question wants a point in time ("June 2026"), not a span ("30 years").
            if label == "DATE" and question.expects.wants_date and not DATE_RE.search(ent):
                continue
            if question.expects.precise is not None and not question.expects.precise.search(ent):
                continue
            return True
    pattern = question.expects.precise or question.expects.pattern
    if pattern is None:
        return False
    return any(not question.states(m.group(0)) for m in pattern.finditer(text))


def has_term(term: str, bag: frozenset[str]) -> bool:
    """``term`` or another form of it is in ``bag`` ("azerbaijan" ~ "azerbaijani")."""
    if term in bag:
        return True
    if len(term) < 5:
        return False
    return _has_form(term, bag)


@lru_cache(maxsize=16384)
def _has_form(term: str, bag: frozenset[str]) -> bool:
    """Another form of ``term`` is in ``bag`` (remembered: the same sentences' bags meet the
    same question words many times per question)."""
    head = term[:5]  # every match shares the first five letters: a cheap filter first
    return any(other[:5] == head and matches(term, other) for other in bag)


def covered_share(
    words: Sequence[str], bag: frozenset[str], weight: Callable[[str], float]
) -> float:
    """Weighted share of ``words`` that ``bag`` holds in some form (0.0 for no words)."""
    total = sum(weight(t) for t in words)
    found = sum(weight(t) for t in words if has_term(t, bag))
    return found / total if total else 0.0


def score_sentences(
    question_vec: Vectors,
    question: Question,
    hits: list[Hit],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
) -> list[Scored]:
    """Support scores of the sentences in the top passages, best first."""
    rank_of: dict[int, int] = {}
    for rank, hit in enumerate(hits[: settings.passages_considered]):
        for sid in hit.chunk.sentence_ids:
            rank_of.setdefault(sid, rank)
    if not rank_of:
        return []
    ids = list(rank_of)
    dense = data.sentence_vectors[[idf.row_of[i] for i in ids]] @ question_vec.reshape(-1)
    q_weight = sum(idf.weight(t) for t in question.terms) or 1.0
    key_weight = sum(idf.weight(t) for t in question.key_terms)
    scored = []
    for sid, cos in zip(ids, dense, strict=True):
        sent = idf.by_id[sid]
        doc = data.documents[sent.doc_id]
        text = doc.text[sent.start : sent.end]
        if len(text.split()) < settings.min_sentence_words:
            continue
        bag = idf.sentence_terms[sid]
        lexical = sum(idf.weight(t) for t in question.terms if t in bag) / q_weight
        type_ok = holds_answer_type(sent, text, question)
        start = sent.start
        if not type_ok and question.expected:
            # The answer often sits in the sentence before ("According to Article 5, ...
            # For each section, ..."): quote both when that one has what is asked for.
            prev = idf.by_id.get(sid - 1)
            if (
                prev is not None
                and (prev.doc_id, prev.section, prev.heading)
                == (sent.doc_id, sent.section, sent.heading)
                and holds_answer_type(prev, doc.text[prev.start : prev.end], question)
            ):
                type_ok, start = True, prev.start
                bag = bag | idf.sentence_terms[prev.sent_id]
                lexical = sum(idf.weight(t) for t in question.terms if t in bag) / q_weight
                cos = cos - 0.03
        score = 0.6 * float(cos) + 0.4 * lexical
        if question.expected:
            score += 0.05 if type_ok else -0.15
        elif question.expects.pattern is not None:
            score += 0.03 if type_ok else -0.03  # "why": a sentence that gives a cause
        if key_weight:
            # Reward sentences that carry the question's names and numbers.
            found = sum(idf.weight(t) for t in question.key_terms if has_term(t, bag))
            score += 0.1 * found / key_weight
        if sent.section in ("bio", "byline") and not question.about_author:
            score -= settings.bio_penalty  # author notes answer questions about the author only
        if question.recency:
            score += settings.recency_weight * idf.recency[sent.doc_id]
        score -= 0.01 * rank_of[sid]
        scored.append(
            Scored(sent, score, float(cos), lexical, type_ok, rank_of[sid], start, sent.end)
        )
    scored.sort(key=lambda s: -s.score)
    return scored


def missing_key_share(question: Question, hits: list[Hit], idf: SentenceIdf) -> float:
    """Weighted share of the question's names/numbers that appear in no retrieved passage."""
    if not question.key_terms:
        return 0.0
    seen: set[str] = set()
    for hit in hits:
        for sid in hit.chunk.sentence_ids:
            seen |= idf.sentence_terms.get(sid, frozenset())
        seen |= set(terms(hit.chunk.heading or ""))
    total = sum(idf.weight(t) for t in question.key_terms)
    missing = sum(idf.weight(t) for t in question.key_terms if t not in seen)
    return missing / total if total else 0.0


def answering(scored: list[Scored], question: Question) -> list[Scored]:
    """Candidates that can answer: when the question asks for a date, number or name, only
    sentences that hold one not already in the question."""
    if not question.expected or not question.expects.strict:
        return scored
    return [s for s in scored if s.type_ok]


def support_score(scored: list[Scored], missing_share: float) -> float:
    """The abstention signal: best answering score, discounted for unmatched names/numbers."""
    if not scored:
        return 0.0
    return scored[0].score - 0.5 * missing_share
