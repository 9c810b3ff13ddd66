"""The answer to a question about the sources: viewpoints side by side, or the latest events."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer import ABSTAIN_TEXT, Answer
from rag.config import PerspectiveSettings
from rag.embedding import Vectors
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.perspective import Perspective
from rag.schemas import TimelineEvent, Viewpoint
from rag.timeline import events, latest_text
from rag.viewpoints import by_source, compose, score_all


@dataclass(frozen=True)
class SourcesAnswer:
    """An answer with the structure the widget shows beside its text."""

    answer: Answer
    viewpoints: list[Viewpoint] | None = None
    timeline: list[TimelineEvent] | None = None


def answer_perspective(
    view: Perspective,
    subject_vec: Vectors,
    data: IndexData,
    idf: SentenceIdf,
    settings: PerspectiveSettings,
    direct: Callable[[], Answer],
    wants_value: bool = False,
    recency: bool = False,
) -> SourcesAnswer:
    """Viewpoints for a comparing question, the latest events for a timeline question; "the
    documents don't say" when no source speaks to the subject.

    ``direct`` is the answer to the question as asked. It leads a "latest" question (the
    current state, then the dated events; ``recency``: the question analysis saw a "latest"
    cue) and a value asked of every source (``wants_value``: "how many ..., and do the sources
    agree?"), but not "who/which is more ..." or named sources: a source answers those.
    """
    scored = score_all(view.subject, subject_vec, data, idf, settings.lexical_weight)
    if view.kind == "compare":
        ranks_sources = view.named or re.match(r"\s*(?:who|which)\b", view.asked, re.I)
        leads = wants_value and not ranks_sources
        chosen = by_source(scored, settings, view.named)
        if not chosen:
            return _direct_or(SourcesAnswer(_none(view.subject), viewpoints=[]), direct, leads)
        text, citations, views = compose(chosen, data, view.newest_first, settings.quote_words)
        if len(views) == 1:
            text = f"Only one source speaks to this.\n{text}"
        support = max(s.score for quotes in chosen.values() for s in quotes)
        found = SourcesAnswer(Answer(text, False, support, tuple(citations)), viewpoints=views)
        return lead_with(direct(), found) if leads else found
    leads = view.latest or recency
    shown = events(scored, data, settings, settings.timeline_limit)
    if not shown:
        return _direct_or(SourcesAnswer(_none(view.subject), timeline=[]), direct, leads)
    text, citations = latest_text(shown, data, settings.latest_events)
    support = max(e.score for e in shown)
    found = SourcesAnswer(Answer(text, False, support, tuple(citations)), timeline=shown)
    return lead_with(direct(), found) if leads else found


def _direct_or(nothing: SourcesAnswer, direct: Callable[[], Answer], leads: bool) -> SourcesAnswer:
    """No source or event to show: the direct answer where it would have led, if it answers."""
    if not leads:
        return nothing
    answer = direct()
    return nothing if answer.abstained else SourcesAnswer(answer)


def lead_with(extractive: Answer, found: SourcesAnswer) -> SourcesAnswer:
    """The direct answer first, then the viewpoints or events: their [n] markers and citation
    ids move past the direct answer's."""
    if extractive.abstained:
        return found
    shift = len(extractive.citations)

    def moved(match: re.Match[str]) -> str:
        return f"[{int(match.group(1)) + shift}]"

    text = re.sub(r"\[(\d+)\]", moved, found.answer.text)
    citations = tuple(c.model_copy(update={"id": c.id + shift}) for c in found.answer.citations)
    views = (
        [v.model_copy(update={"citation_ids": [i + shift for i in v.citation_ids]})
         for v in found.viewpoints]
        if found.viewpoints is not None
        else None
    )  # fmt: skip
    answer = Answer(
        f"{extractive.text}\n\n{text}",
        False,
        max(extractive.support, found.answer.support),
        (*extractive.citations, *citations),
        extractive.short_answer,
        extractive.short_answer_citation,
    )
    return SourcesAnswer(answer, views, found.timeline)


def _none(subject: str) -> Answer:
    return Answer(
        f"{ABSTAIN_TEXT} No source speaks to “{subject}” closely enough to quote.", True, 0.0
    )
