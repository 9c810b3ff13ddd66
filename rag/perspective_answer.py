"""The answer to a question about the sources: viewpoints side by side, or the latest events."""

from __future__ import annotations

import re
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
    latest: bool = False  # a "latest" question: its direct answer leads
    value_asked: bool = False  # a value asked of every source ("how many ..., and do they agree")


def answer_perspective(
    view: Perspective,
    subject_vec: Vectors,
    data: IndexData,
    idf: SentenceIdf,
    settings: PerspectiveSettings,
    recency: bool = False,
) -> SourcesAnswer:
    """Viewpoints for a comparing question, the latest events for a timeline question; "the
    documents don't say" when no source speaks to the subject."""
    scored = score_all(view.subject, subject_vec, data, idf, settings.lexical_weight)
    # "which/who is more ..." and named sources ask about the sources: no one value answers it
    value_asked = not view.named and not re.match(r"\s*(?:who|which)\b", view.asked, re.I)
    if view.kind == "compare":
        chosen = by_source(scored, settings, view.named)
        if not chosen:
            return SourcesAnswer(_none(view.subject), viewpoints=[])
        text, citations, views = compose(chosen, data, view.newest_first, settings.quote_words)
        if len(views) == 1:
            text = f"Only one source speaks to this.\n{text}"
        support = max(s.score for quotes in chosen.values() for s in quotes)
        answer = Answer(text, False, support, tuple(citations))
        return SourcesAnswer(answer, viewpoints=views, value_asked=value_asked)
    shown = events(scored, data, settings, settings.timeline_limit)
    if not shown:
        return SourcesAnswer(_none(view.subject), timeline=[])
    text, citations = latest_text(shown, data, settings.latest_events)
    support = max(e.score for e in shown)
    answer = Answer(text, False, support, tuple(citations))
    return SourcesAnswer(answer, timeline=shown, latest=view.latest or recency)


def lead_with(extractive: Answer, found: SourcesAnswer) -> SourcesAnswer:
    """The direct answer first, then the viewpoints or events: their [n] markers and citation
    ids move past the direct answer's."""
    if found.answer.abstained:  # no source or event to add: the direct answer (or none)
        return found if extractive.abstained else SourcesAnswer(extractive)
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
    return SourcesAnswer(answer, views, found.timeline, found.latest, found.value_asked)


def _none(subject: str) -> Answer:
    return Answer(
        f"{ABSTAIN_TEXT} No source speaks to “{subject}” closely enough to quote.", True, 0.0
    )
