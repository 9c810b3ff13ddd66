"""Extractive answers: pick the sentences that answer, cite them verbatim, or abstain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.citing import attribution, cite
from rag.config import AnswerSettings
from rag.embedding import Vectors
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.question import Question
from rag.retrieve import Hit
from rag.schemas import Citation
from rag.scoring import Scored, answering, missing_key_share, score_sentences, support_score

ABSTAIN_TEXT = "The documents don't say."


@dataclass(frozen=True)
class Answer:
    """What the answer stage decided: the text with [n] markers and the citations they name."""

    text: str
    abstained: bool
    support: float  # evidence score of the best sentence: the abstention signal
    citations: tuple[Citation, ...] = ()
    short_answer: str | None = None
    short_answer_citation: int | None = None


def extract(
    question: Question,
    question_vec: Vectors,
    hits: list[Hit],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
) -> Answer:
    """Quote the sentences that answer ``question`` from the retrieved passages, or abstain."""
    scored = answering(score_sentences(question_vec, question, hits, data, idf, settings), question)
    support = support_score(scored, missing_key_share(question, hits, idf))
    if question.after_newest is not None:
        support = 0.0  # no source can hold evidence about a time after it was written
    n_docs = len(data.documents)
    if question.after_newest is not None:
        newest = max((d.meta.date or "" for d in data.documents.values()), default="")
        text = (
            f"{ABSTAIN_TEXT} The question asks about {question.after_newest}, but the newest of "
            f"the {n_docs} sources is dated {newest}; the closest passages are listed under "
            "related."
        )
        return Answer(text, True, support)
    if support < settings.abstain_threshold:
        text = (
            f"{ABSTAIN_TEXT} None of the {n_docs} sources states this; the closest passages "
            "are listed under related."
        )
        return Answer(text, True, support)
    text, citations = compose(select(scored, data, idf, settings), data, dated=question.recency)
    return Answer(text, False, support, tuple(citations))


def select(
    scored: list[Scored], data: IndexData, idf: SentenceIdf, settings: AnswerSettings
) -> list[Scored]:
    """The best span plus close runners-up, preferring other sources and skipping repeats."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = [scored[0]]
    rows = idf.row_of
    pool = [c for c in scored[1:] if c.score >= best * settings.relative_cutoff and c.type_ok]
    while pool and len(chosen) < settings.max_sentences:
        docs = {c.sentence.doc_id for c in chosen}
        # A second source beats a near-tie from the same one: viewpoints side by side.
        pool.sort(
            key=lambda c: (
                -(c.score + (settings.diversity_bonus if c.sentence.doc_id not in docs else 0.0))
            )
        )
        cand = pool.pop(0)
        vec = data.sentence_vectors[rows[cand.sentence.sent_id]]
        overlapping = any(
            c.sentence.doc_id == cand.sentence.doc_id and c.start < cand.end and cand.start < c.end
            for c in chosen
        )
        similar = any(
            float(vec @ data.sentence_vectors[rows[c.sentence.sent_id]]) > 0.9 for c in chosen
        )
        if not overlapping and not similar:
            chosen.append(cand)
    return chosen


def compose(
    chosen: list[Scored], data: IndexData, dated: bool = False
) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers, and the citations they point to.

    ``dated`` (questions about "the latest" or "as of" a time) leads each claim with its date.
    """
    citations: list[Citation] = []
    lines: list[str] = []
    for n, item in enumerate(chosen, start=1):
        sent = item.sentence
        doc = data.documents[sent.doc_id]
        quote = doc.text[item.start : item.end]
        meta = doc.meta
        citations.append(cite(n, doc, sent.section, item.start, item.end))
        shown = re.sub(r"\s+", " ", quote).strip()
        lead = attribution(meta, sent.section, sent.heading, dated)
        page = doc.page_of(item.start)
        if page is not None:
            lead += f", p. {page}"
        lines.append(f"{lead}: {shown} [{n}]")
    return "\n".join(lines), citations
