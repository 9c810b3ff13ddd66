"""A timeline of dated happenings on a topic, each quoted verbatim, oldest first.

Sentences on the topic (scored as for viewpoints) that state a date (rag.event_dates: parsed
from the sentence's own words against its source's date) are events. The same happening told
by several sources (same date, sentences close in meaning) appears once: the earliest-published
source is cited, the others are listed. ``limit`` keeps the most relevant events, shown in date
order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.citing import cite
from rag.config import PerspectiveSettings
from rag.dates import display_date
from rag.event_dates import EventDate, dates_in
from rag.index_data import IndexData
from rag.schemas import Citation, TimelineEvent
from rag.viewpoints import Scored


@dataclass(frozen=True)
class _Event:
    when: EventDate
    found: Scored
    also: tuple[Scored, ...] = ()


def events(
    scored: list[Scored], data: IndexData, settings: PerspectiveSettings, limit: int
) -> list[TimelineEvent]:
    """The topic's dated events, oldest first (at most ``limit``, the most relevant)."""
    if not scored:
        return []
    floor = max(settings.timeline_min_score, scored[0].score - settings.timeline_margin)
    picked: list[_Event] = []
    for s in scored:
        if s.score < floor:
            break
        doc = data.documents[s.sentence.doc_id]
        text = doc.text[s.sentence.start : s.sentence.end]
        found = dates_in(text, doc.meta.date)
        if not found:
            continue
        when = found[0]  # the first date the sentence gives is the one it reports
        twin = next((e for e in picked if _same(e, when, s, data, settings)), None)
        if twin is None:
            picked.append(_Event(when, s))
        else:
            picked[picked.index(twin)] = _Event(twin.when, twin.found, (*twin.also, s))
        if len(picked) >= limit:
            break
    picked.sort(key=lambda e: e.when.sort_key)
    shown = [_shown(e, data) for e in picked]
    n = 0
    for event in shown:  # citation ids: each event's own first, in date order
        n += 1
        event.citation.id = n
    for event in shown:
        for other in event.also_reported_by:
            n += 1
            other.id = n
    return shown


def _same(
    event: _Event, when: EventDate, s: Scored, data: IndexData, settings: PerspectiveSettings
) -> bool:
    """The same happening: the same date, told in sentences close in meaning."""
    if (event.when.date, event.when.precision) != (when.date, when.precision):
        return False
    a = data.sentence_vectors[event.found.sentence.sent_id]
    b = data.sentence_vectors[s.sentence.sent_id]
    return float(np.dot(a, b)) >= settings.same_event_cosine


def _shown(event: _Event, data: IndexData) -> TimelineEvent:
    """The event, cited from its earliest-published source; the others listed."""
    told = sorted(
        (event.found, *event.also),
        key=lambda s: (data.documents[s.sentence.doc_id].meta.date or "9999", -s.score),
    )
    cites = [_cite(s, data) for s in told]
    first = told[0]
    doc = data.documents[first.sentence.doc_id]
    when = event.when if first is event.found else _date_of(first, data) or event.when
    return TimelineEvent(
        date=when.date,
        date_precision=when.precision,
        date_estimated=when.estimated,
        text=doc.text[first.sentence.start : first.sentence.end],
        citation=cites[0],
        also_reported_by=cites[1:],
        score=round(first.score, 4),
    )


def _date_of(s: Scored, data: IndexData) -> EventDate | None:
    doc = data.documents[s.sentence.doc_id]
    found = dates_in(doc.text[s.sentence.start : s.sentence.end], doc.meta.date)
    return found[0] if found else None


def _cite(s: Scored, data: IndexData) -> Citation:
    doc = data.documents[s.sentence.doc_id]
    return cite(0, doc, s.sentence.section, s.sentence.start, s.sentence.end)


def latest_text(
    shown: list[TimelineEvent], data: IndexData, count: int
) -> tuple[str, list[Citation]]:
    """ "As of <newest source date>: ..." with the last ``count`` events, newest last, and their
    citations numbered from 1."""
    last = shown[-count:]
    newest = max((d.meta.date or "" for d in data.documents.values()), default="")
    newest_doc = next((d for d in data.documents.values() if d.meta.date == newest), None)
    as_of = display_date(newest, bool(newest_doc and newest_doc.meta.date_estimated))
    citations = []
    lines = [f"As of {as_of} (the newest source), the latest dated events:"]
    for n, event in enumerate(last, start=1):
        citations.append(event.citation.model_copy(update={"id": n}))
        when = display_date(event.date) + (" (date inferred)" if event.date_estimated else "")
        lines.append(f"{when}: “{event.text.strip()}” [{n}]")
    return "\n".join(lines), citations
