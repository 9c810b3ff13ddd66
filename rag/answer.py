"""Extractive answers: pick the sentences that answer, cite them verbatim, or abstain.

A sentence's support score mixes its embedding similarity to the question, the share of the
question's (idf-weighted) content words it contains, whether it holds the kind of thing the
question asks for (a date for "when", a number for "how many", a name for "who"), and the
rank of the passage it came from. The best sentence's score is the abstention signal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from rag.chunking import Sentence
from rag.config import AnswerSettings
from rag.documents import DocMeta, meta_text
from rag.embedding import Vectors
from rag.retrieve import Hit
from rag.schemas import Citation
from rag.store import IndexData
from rag.text import terms

ABSTAIN_TEXT = "The documents don't say."

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE_RE = re.compile(rf"\b((1[89]|20)\d\d|{_MONTHS})\b", re.IGNORECASE)
_NUMBER_RE = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|"
    r"thousand|million|billion|half|forty|fifty|twenty|thirty)\b",
    re.IGNORECASE,
)
_ARTICLE_RE = re.compile(r"\b(article|clause|paragraph|point)\s+\d+", re.IGNORECASE)

# Question patterns -> (entity labels that would answer it, regex fallback)
_EXPECTATIONS: list[tuple[re.Pattern[str], frozenset[str], re.Pattern[str] | None]] = [
    (
        re.compile(r"\b(which|what) (article|clause|paragraph|point)\b", re.I),
        frozenset({"LAW"}),
        _ARTICLE_RE,
    ),
    (
        re.compile(r"^\s*when\b|\b(what|which) (date|day|year|month)\b|\bin what year\b", re.I),
        frozenset({"DATE"}),
        _DATE_RE,
    ),
    (
        re.compile(
            r"\bhow (many|much|long|far|large|big|old)\b|\bwhat (percentage|share|number|"
            r"amount|figure|sum|proportion|size|length)\b",
            re.I,
        ),
        frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE"}),
        _NUMBER_RE,
    ),
    (
        re.compile(
            r"^\s*(who|whom)\b|\bwhich (person|official|leader|minister|president|company|"
            r"companies|organi[sz]ation|country|countries|outlet|group|body|operator|firm)\b",
            re.I,
        ),
        frozenset({"PERSON", "ORG", "NORP", "GPE"}),
        None,
    ),
    (
        re.compile(r"^\s*where\b|\bin (which|what) (city|country|place|region)\b", re.I),
        frozenset({"GPE", "LOC", "FAC"}),
        None,
    ),
]


@dataclass(frozen=True)
class QuestionProfile:
    """What the question asks for."""

    terms: tuple[str, ...]
    expected: frozenset[str]
    expected_re: re.Pattern[str] | None
    key_terms: tuple[str, ...]  # names and numbers in the question that an answer must touch


def profile_question(question: str) -> QuestionProfile:
    """Analyse a question: content words, the expected answer type, its names and numbers."""
    expected: frozenset[str] = frozenset()
    expected_re = None
    for pattern, labels, regex in _EXPECTATIONS:
        if pattern.search(question):
            expected, expected_re = labels, regex
            break
    # Capitalised words after the first word, and numbers: the specifics a supporting
    # sentence should mention.
    words = re.findall(r"[^\W_]+(?:[’'-][^\W_]+)*", question)
    keys = [w for i, w in enumerate(words) if (i > 0 and w[:1].isupper()) or w[:1].isdigit()]
    key_terms = tuple(dict.fromkeys(t for k in keys for t in terms(k)))
    return QuestionProfile(tuple(dict.fromkeys(terms(question))), expected, expected_re, key_terms)


class SentenceIdf:
    """Inverse document frequency of terms over the indexed sentences."""

    def __init__(self, data: IndexData) -> None:
        self.sentence_terms: dict[int, frozenset[str]] = {}
        df: Counter[str] = Counter()
        meta = {d: frozenset(terms(meta_text(doc.meta))) for d, doc in data.documents.items()}
        for sent in data.sentences:
            doc = data.documents[sent.doc_id]
            bag = frozenset(terms(doc.text[sent.start : sent.end]))
            df.update(bag)
            # A sentence also "mentions" its source's title, outlet and authors.
            self.sentence_terms[sent.sent_id] = bag | meta[sent.doc_id]
        n = max(1, len(data.sentences))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.default_idf = math.log(1 + n)
        self.vocabulary = frozenset(df)

    def weight(self, term: str) -> float:
        """idf of a term; unseen terms weigh the most."""
        return self.idf.get(term, self.default_idf)


@dataclass(frozen=True)
class Scored:
    """A candidate sentence with its support score."""

    sentence: Sentence
    score: float
    dense: float
    lexical: float
    type_ok: bool
    passage_rank: int


def _type_ok(sentence: Sentence, text: str, profile: QuestionProfile) -> bool:
    if not profile.expected:
        return True
    if any(label in profile.expected for label, _ in sentence.entities):
        return True
    return bool(profile.expected_re and profile.expected_re.search(text))


def score_sentences(
    question_vec: Vectors,
    profile: QuestionProfile,
    hits: list[Hit],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
) -> list[Scored]:
    """Support scores of the sentences in the top passages, best first."""
    rank_of: dict[int, int] = {}
    by_id = {s.sent_id: s for s in data.sentences}
    row_of = {s.sent_id: i for i, s in enumerate(data.sentences)}
    for rank, hit in enumerate(hits[: settings.passages_considered]):
        for sid in hit.chunk.sentence_ids:
            rank_of.setdefault(sid, rank)
    if not rank_of:
        return []
    ids = list(rank_of)
    dense = data.sentence_vectors[[row_of[i] for i in ids]] @ question_vec.reshape(-1)
    q_weight = sum(idf.weight(t) for t in profile.terms) or 1.0
    key_weight = sum(idf.weight(t) for t in profile.key_terms)
    scored = []
    for sid, cos in zip(ids, dense, strict=True):
        sent = by_id[sid]
        text = data.documents[sent.doc_id].text[sent.start : sent.end]
        if len(text.split()) < settings.min_sentence_words:
            continue
        bag = idf.sentence_terms[sid]
        lexical = sum(idf.weight(t) for t in profile.terms if t in bag) / q_weight
        type_ok = _type_ok(sent, text, profile)
        score = 0.6 * float(cos) + 0.4 * lexical
        if profile.expected:
            score += 0.05 if type_ok else -0.15
        if key_weight:
            # Names/numbers from the question that no candidate passage mentions at all are
            # handled by the caller; here, reward sentences that carry them.
            score += 0.1 * sum(idf.weight(t) for t in profile.key_terms if t in bag) / key_weight
        if sent.section == "bio":
            score -= settings.bio_penalty  # author notes answer questions about the author only
        score -= 0.01 * rank_of[sid]
        scored.append(Scored(sent, score, float(cos), lexical, type_ok, rank_of[sid]))
    scored.sort(key=lambda s: -s.score)
    return scored


def missing_key_share(profile: QuestionProfile, hits: list[Hit], idf: SentenceIdf) -> float:
    """Weighted share of the question's names/numbers that appear in no retrieved passage."""
    if not profile.key_terms:
        return 0.0
    seen: set[str] = set()
    for hit in hits:
        for sid in hit.chunk.sentence_ids:
            seen |= idf.sentence_terms.get(sid, frozenset())
        seen |= set(terms(hit.chunk.heading or ""))
    total = sum(idf.weight(t) for t in profile.key_terms)
    missing = sum(idf.weight(t) for t in profile.key_terms if t not in seen)
    return missing / total if total else 0.0


def select(scored: list[Scored], data: IndexData, settings: AnswerSettings) -> list[Scored]:
    """The best sentence plus close runners-up, skipping near-duplicates."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = [scored[0]]
    row_of = {s.sent_id: i for i, s in enumerate(data.sentences)}
    for cand in scored[1:]:
        if len(chosen) >= settings.max_sentences:
            break
        if cand.score < best * settings.relative_cutoff or not cand.type_ok:
            continue
        vec = data.sentence_vectors[row_of[cand.sentence.sent_id]]
        if any(
            float(vec @ data.sentence_vectors[row_of[c.sentence.sent_id]]) > 0.9 for c in chosen
        ):
            continue
        chosen.append(cand)
    return chosen


def format_date(meta: DocMeta) -> str:
    """'22 June 2026', or 'c. July 2023' for an estimated date."""
    if not meta.date:
        return "undated"
    parts = meta.date.split("-")
    months = _MONTHS.split("|")
    try:
        year = parts[0]
        month = months[int(parts[1]) - 1].capitalize() if len(parts) > 1 else ""
        day = str(int(parts[2])) if len(parts) > 2 and not meta.date_estimated else ""
    except (ValueError, IndexError):
        return meta.date
    text = " ".join(p for p in (day, month, year) if p)
    return f"c. {text}" if meta.date_estimated else text


def attribution(meta: DocMeta, section: str, heading: str | None) -> str:
    """Who says it and when, in words: opinion is attributed, not stated as fact."""
    when = format_date(meta)
    who = meta.publisher if meta.publisher != "unknown" else meta.title
    if section == "bio":
        return f"According to the author note in {who} ({when})"
    if section == "related" and heading:
        return f"According to {who}'s summary of “{heading}” (listed on a page of {when})"
    if meta.kind in ("opinion", "commentary") and meta.authors:
        return f"In an opinion piece in {who} ({when}), {', '.join(meta.authors)} writes"
    return f"According to {who} ({when})"


def compose(chosen: list[Scored], data: IndexData) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers, and the citations they point to."""
    citations: list[Citation] = []
    lines: list[str] = []
    for n, item in enumerate(chosen, start=1):
        sent = item.sentence
        doc = data.documents[sent.doc_id]
        quote = doc.text[sent.start : sent.end]
        meta = doc.meta
        citations.append(
            Citation(
                id=n,
                doc_id=doc.doc_id,
                title=meta.title,
                publisher=meta.publisher,
                authors=list(meta.authors),
                date=meta.date,
                date_estimated=meta.date_estimated,
                kind=meta.kind,
                section=sent.section,
                start=sent.start,
                end=sent.end,
                quote=quote,
            )
        )
        shown = re.sub(r"\s+", " ", quote).strip()
        lines.append(f"{attribution(meta, sent.section, sent.heading)}: {shown} [{n}]")
    return "\n".join(lines), citations


def support_score(scored: list[Scored], missing_share: float) -> float:
    """The abstention signal: best sentence score, discounted for unmatched names/numbers."""
    if not scored:
        return 0.0
    return scored[0].score - 0.5 * missing_share
