"""Time in questions: "as of 2024", "in March 2025", "latest" - and filtering by date."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.dates import MONTH_ALTERNATION, MONTH_NUMBER
from rag.documents import DocMeta
from rag.schemas import Filters

_AS_OF_RE = re.compile(
    r"\b(?:as of|by|at the end of|in|during|until|before)\s+(?:(?P<part>early|mid|late)[- ]?)?"
    r"(?:(?P<month>" + MONTH_ALTERNATION + r")\s+)?(?:of\s+)?(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Period:
    """The latest date a question is asking about ("as of 2024" -> up to 2024-12-31)."""

    date_to: str
    label: str


def period_of(question: str) -> Period | None:
    """The point in time a question pins ("as of 2024", "by March 2025"), if any."""
    match = _AS_OF_RE.search(question)
    if not match or not re.search(r"\bas of\b|\bby\b|\buntil\b|\bbefore\b", match.group(0), re.I):
        return None
    year = int(match.group("year"))
    month = match.group("month")
    if month:
        m = MONTH_NUMBER[month.lower()]
        return Period(f"{year:04d}-{m:02d}-31", f"{month.capitalize()} {year}")
    part = (match.group("part") or "").lower()
    end = {"early": "04-30", "mid": "08-31"}.get(part, "12-31")
    return Period(f"{year:04d}-{end}", f"{part + '-' if part else ''}{year}")


def matches(meta: DocMeta, doc_id: str, filters: Filters) -> bool:
    """Whether a document passes the filters (undated documents fail date bounds)."""
    if filters.doc_ids is not None and doc_id not in filters.doc_ids:
        return False
    if filters.publishers is not None and meta.publisher.casefold() not in {
        p.casefold() for p in filters.publishers
    }:
        return False
    if filters.kinds is not None and meta.kind.casefold() not in {
        k.casefold() for k in filters.kinds
    }:
        return False
    if filters.date_from is not None and (meta.date is None or meta.date < filters.date_from):
        return False
    # "2024-12-31" >= "2024-12" >= "2024": partial dates compare as the period's start.
    return not (filters.date_to is not None and (meta.date is None or meta.date > filters.date_to))


_MENTION_RE = re.compile(
    r"\b(?:(?P<month>" + MONTH_ALTERNATION + r")\s+(?:\d{1,2},?\s+)?)?(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def after_newest(question: str, newest: str | None) -> str | None:
    """A time the question names that is later than the newest source (ISO date), if any.

    No source can state what happened after it was written: "in December 2026" asked of a
    collection whose newest document is from June 2026 is unanswerable from it.
    """
    if not newest:
        return None
    for match in _MENTION_RE.finditer(question):
        year = match.group("year")
        month = match.group("month")
        mentioned = f"{year}-{MONTH_NUMBER[month.lower()]:02d}" if month else year
        if mentioned > newest[: len(mentioned)]:
            return match.group(0)
    return None
