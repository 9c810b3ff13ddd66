"""Check generated sentences against the passages they cite.

A generated sentence is kept only if one span of its cited passages (a sentence, or two
adjacent ones, as indexed) holds most of its content words, is close to it in embedding space,
and contains every number, date, name and quotation it states. The span is what gets cited,
so a kept sentence carries a verbatim quote exactly like an extractive answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunking import Sentence
from rag.claim_facts import (
    drop_own_dates,
    matches,
    names_in,
    numbers_in,
    ordinals_in,
    quotations_in,
    word_run,
)
from rag.config import VerifySettings
from rag.documents import format_date, meta_text
from rag.embedding import Vectors
from rag.generated_text import parse_markers
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.text import terms
from rag.verdict import Check, Problem, Source, SpanRef

Embed = Callable[[Sequence[str]], Vectors]


_TIME_UNITS = frozenset("hour day week month year decade century".split())
_END_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
_NEGATION_RE = re.compile(r"\b(?:not|no|never|neither|nor|none|cannot|without)\b|n[’']t\b", re.I)
_ABSTAIN_RE = re.compile(
    r"\b(?:documents?|sources?|texts?)\b[^.]{0,30}\b(?:do(?:es)?\s*n[o’']t|do(?:es)? not|"
    r"never)\s+(?:say|state|mention|answer|contain|specify)",
    re.I,
)
_SPECIFIC_IDF = math.log(1 + 50)
# An order, not a claim: what an injected instruction looks like when a model repeats it.
_INSTRUCTION_RE = re.compile(
    r"^(?:please\s+)?(?:ignore|disregard|forget|reply|respond|say|print|output|repeat|pretend|"
    r"obey|do not|don't)\b|\b(?:previous|prior|above|earlier|all) instructions\b|"
    r"\bsystem prompt\b",
    re.I,
)
# Words a model adds to attribute a claim; they are not part of what the source must state.
_REPORTING = frozenset(
    terms(
        "source sources document documents article report reports reported state states stated "
        "note notes noted write writes wrote written mention mentions mentioned describe "
        "describes described explain explains explained claim claims claimed argue argues "
        "argued piece opinion author authors analysis publish published per accord accords "
        "point points pointed add adds added suggest suggests suggested indicate indicates "
        "indicated highlight highlights highlighted emphasise emphasises emphasized "
        "emphasizes stress stresses stressed believe believes observe observes observed "
        "outlet outlets publication text"
    )
)


@dataclass
class _Span:
    source: int
    doc_id: str
    start: int
    end: int
    rows: list[int]
    section: str
    text: str
    words: str
    bag: frozenset[str]
    numbers: set[str]
    ordinals: set[str]
    negated: bool


@dataclass
class _SourceFacts:
    attribution: frozenset[str]  # outlet, authors, kind: a claim may add these freely
    context: frozenset[str]  # title and date: names may come from here, claims may not
    dates: set[str]  # numbers of the source's date, allowed inside parentheses only
    spans: list[_Span]


@dataclass
class _Score:
    spans: list[_Span]
    lexical: float
    similarity: float
    problems: list[tuple[Problem, str]]

    @property
    def value(self) -> float:
        return 0.5 * self.lexical + 0.5 * self.similarity - 0.5 * len(self.problems)


class Verifier:
    """Checks sentences against a fixed set of numbered sources."""

    def __init__(
        self,
        data: IndexData,
        idf: SentenceIdf,
        embed: Embed,
        sources: Sequence[Source],
        settings: VerifySettings,
    ) -> None:
        self.data = data
        self.idf = idf
        self.embed = embed
        self.sources = list(sources)
        self.settings = settings
        self._facts = {s.n: self._source_facts(s) for s in self.sources}

    def _source_facts(self, source: Source) -> _SourceFacts:
        meta = source.meta
        when = f"{format_date(meta)} {meta.date}" if meta.date else ""
        doc = self.data.documents[source.doc_id]
        sents = [self.idf.by_id[i] for i in source.sentence_ids if i in self.idf.by_id]
        spans = []
        for i, first in enumerate(sents):
            spans.append(self._span(source.n, doc.text, [first]))
            if i + 1 < len(sents) and sents[i + 1].sent_id == first.sent_id + 1:
                spans.append(self._span(source.n, doc.text, [first, sents[i + 1]]))
        attribution = frozenset(terms(" ".join([meta.publisher, *meta.authors, meta.kind])))
        return _SourceFacts(
            attribution,
            frozenset(terms(f"{meta_text(meta)} {when}")),
            numbers_in(when.replace("-", " ")),
            spans,
        )

    def _span(self, n: int, doc_text: str, group: list[Sentence]) -> _Span:
        start, end = group[0].start, group[-1].end
        text = doc_text[start:end]
        return _Span(
            source=n,
            doc_id=group[0].doc_id,
            start=start,
            end=end,
            rows=[self.idf.row_of[s.sent_id] for s in group],
            section=group[0].section,
            text=text,
            words=word_run(text),
            bag=frozenset(terms(text)),
            numbers=numbers_in(text),
            ordinals=ordinals_in(text),
            negated=bool(_NEGATION_RE.search(text)),
        )

    def check(self, sentence: str) -> Check:
        """Whether the cited sources support ``sentence``, and with which span."""
        claim, markers = parse_markers(sentence)
        valid = [n for n in markers if n in self._facts]
        ignored = [n for n in markers if n not in self._facts]
        verdict = Check(claim, valid, ignored, supported=False)
        early = self._early_reason(claim, valid)
        if early:
            verdict.problems, verdict.reason = [early[0]], early[1]
            return verdict
        vec = self.embed([claim])[0].reshape(-1)
        candidates = valid or [s.n for s in self.sources]
        best_per_source: list[_Score] = []
        for n in candidates:
            scores = [self._score(claim, vec, [span], n) for span in self._facts[n].spans]
            if scores:
                best_per_source.append(max(scores, key=self._rank))
        passing = [s for s in best_per_source if self._passes(s)]
        if not valid and passing:
            passing = [max(passing, key=lambda s: s.value)]  # uncited: the one best source
        if not passing and len(valid) > 1:
            # One sentence may combine what two cited sources say.
            spans = [s.spans[0] for s in best_per_source]
            union = self._score(claim, vec, spans, None)
            if self._passes(union):
                passing = [union]
        if passing:
            verdict.supported = True
            verdict.spans = [
                SpanRef(sp.source, sp.doc_id, sp.start, sp.end, sp.section)
                for s in passing
                for sp in s.spans
            ]
            verdict.lexical = round(max(s.lexical for s in passing), 4)
            verdict.similarity = round(max(s.similarity for s in passing), 4)
            return verdict
        if not best_per_source:
            verdict.problems = [Problem.NOTHING_CHECKABLE]
            verdict.reason = "the cited sources have no checkable sentence"
            return verdict
        best = max(best_per_source, key=self._rank)
        verdict.lexical = round(best.lexical, 4)
        verdict.similarity = round(best.similarity, 4)
        found = self._problems(best) or [(Problem.UNSUPPORTED, "not supported")]
        verdict.problems = [p for p, _ in found]
        verdict.reason = "; ".join(text for _, text in found)
        if valid:
            verdict.reason = f"not supported by source {', '.join(map(str, valid))}: " + (
                verdict.reason
            )
        return verdict

    def _early_reason(self, claim: str, valid: list[int]) -> tuple[Problem, str] | None:
        if _ABSTAIN_RE.search(claim):
            return Problem.ABSTAINS, "says the documents don't answer"
        if claim.rstrip("\"'”’)").endswith("?"):
            return Problem.QUESTION, "a question, not a statement"
        if _INSTRUCTION_RE.search(claim):
            return Problem.INSTRUCTION, "an instruction, not a statement"
        if not _END_RE.search(claim):
            return Problem.INCOMPLETE, "an incomplete sentence (cut off, or a heading)"
        if len(claim.split()) < 3:
            return Problem.TOO_SHORT, "too short to check"
        if not valid and self.settings.require_citation:
            return Problem.NO_CITATION, "cites no source"
        if not self.sources:
            return Problem.NO_SOURCES, "no sources"
        return None

    def _score(self, claim: str, vec: Vectors, spans: list[_Span], n: int | None) -> _Score:
        facts = [self._facts[s.source] for s in spans] if n is None else [self._facts[n]]
        attribution = frozenset().union(*(f.attribution for f in facts))
        dates = set().union(*(f.dates for f in facts))
        bag = frozenset().union(*(s.bag for s in spans))
        allowed = bag | attribution | frozenset().union(*(f.context for f in facts))
        claim = drop_own_dates(claim, dates)
        content = [
            t for t in dict.fromkeys(terms(claim)) if t not in _REPORTING and t not in attribution
        ]
        problems: list[tuple[Problem, str]] = []
        if content:
            total = sum(self.idf.weight(t) for t in content)
            found = sum(self.idf.weight(t) for t in content if matches(t, bag))
            lexical = found / total
            # A word the span lacks is tolerable only if it is common in the collection: a
            # rare or unseen one ("closed" for "reopened") is usually what makes a claim new.
            new = [t for t in content if self._specific(t) and not matches(t, bag)]
            if len(new) > self.settings.max_new_terms:
                problems.append(
                    (Problem.NEW_WORDS, f"words the source does not use: {', '.join(new)}")
                )
        else:
            lexical = 0.0
            problems.append((Problem.ONLY_ATTRIBUTION, "it states nothing beyond the attribution"))
        missing_numbers = sorted(numbers_in(claim) - set().union(*(s.numbers for s in spans)))
        missing_numbers += sorted(ordinals_in(claim) - set().union(*(s.ordinals for s in spans)))
        units = [t for t in content if t in _TIME_UNITS and not matches(t, bag)]
        if units:
            problems.append(
                (Problem.NEW_PERIOD, f"a period the source does not state: {', '.join(units)}")
            )
        if missing_numbers:
            problems.append(
                (Problem.NEW_NUMBERS, f"numbers not in the source: {', '.join(missing_numbers)}")
            )
        missing_names = [
            name
            for name in dict.fromkeys(names_in(claim))
            if not all(matches(t, allowed) for t in terms(name))
        ]
        if missing_names:
            problems.append(
                (Problem.NEW_NAMES, f"names not in the source: {', '.join(missing_names)}")
            )
        words = " ".join(s.words for s in spans)
        if any(q not in words for q in quotations_in(claim)):
            problems.append((Problem.NEW_QUOTATION, "a quotation that is not in the source"))
        if _NEGATION_RE.search(claim) and not any(s.negated for s in spans):
            problems.append((Problem.NEW_NEGATION, "a negation the source does not state"))
        rows = [r for s in spans for r in s.rows]
        sims = self.data.sentence_vectors[rows] @ vec
        similarity = float(np.max(sims)) if len(rows) else 0.0
        if len(rows) > 1:
            joint = self.data.sentence_vectors[rows].sum(axis=0)
            norm = float(np.linalg.norm(joint))
            if norm:
                similarity = max(similarity, float(joint @ vec) / norm)
        return _Score(spans, lexical, similarity, problems)

    def _specific(self, term: str) -> bool:
        # Unseen, or in fewer than 2% of the collection's sentences (idf = log(1 + n/df)).
        return term not in self.idf.vocabulary or self.idf.weight(term) > _SPECIFIC_IDF

    def _passes(self, score: _Score) -> bool:
        return (
            not score.problems
            and score.lexical >= self.settings.min_lexical
            and score.similarity >= self.settings.min_similarity
        )

    def _rank(self, score: _Score) -> tuple[bool, float, int]:
        # Passing spans first, then the best score, then the shorter span (a tighter quote).
        return (self._passes(score), score.value, -sum(s.end - s.start for s in score.spans))

    def _problems(self, score: _Score) -> list[tuple[Problem, str]]:
        out = list(score.problems)
        if score.lexical < self.settings.min_lexical and score.lexical > 0:
            out.append(
                (
                    Problem.LOW_OVERLAP,
                    f"only {score.lexical:.0%} of its content words are in the source",
                )
            )
        elif score.lexical == 0 and not score.problems:
            out.append((Problem.NO_OVERLAP, "none of its content words are in the source"))
        if score.similarity < self.settings.min_similarity:
            out.append(
                (
                    Problem.LOW_SIMILARITY,
                    f"similarity {score.similarity:.2f} is below {self.settings.min_similarity}",
                )
            )
        return out
