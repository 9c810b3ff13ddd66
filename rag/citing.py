"""Citations and attributions: the verbatim span and who says it, when."""

from __future__ import annotations

from rag.documents import DocMeta, Document, format_date
from rag.schemas import Citation


def attribution(meta: DocMeta, section: str, heading: str | None, dated: bool = False) -> str:
    """Who says it and when, in words: opinion is attributed, not stated as fact.

    ``dated`` leads with the date ("As of 22 June 2026, according to ...") for questions about
    the latest state of affairs or a stated period.
    """
    when = format_date(meta)
    who = meta.publisher if meta.publisher != "unknown" else meta.title
    source = who if dated else f"{who} ({when})"
    if section == "bio":
        text = f"according to the author note in {source}"
    elif section == "byline":
        text = f"according to the byline in {source}"
    elif section == "related" and heading:
        text = f"according to {who}'s summary of “{heading}” (listed on a page of {when})"
    elif meta.kind in ("opinion", "commentary") and meta.authors:
        text = f"in an opinion piece in {source}, {', '.join(meta.authors)} writes"
    else:
        text = f"according to {source}"
    return f"As of {when}, {text}" if dated else text[0].upper() + text[1:]


def cite(n: int, doc: Document, section: str, start: int, end: int) -> Citation:
    """Citation ``[n]``: the verbatim span ``doc.text[start:end]`` with its source's metadata."""
    meta = doc.meta
    return Citation(
        id=n,
        doc_id=doc.doc_id,
        title=meta.title,
        publisher=meta.publisher,
        authors=list(meta.authors),
        date=meta.date,
        date_estimated=meta.date_estimated,
        kind=meta.kind,
        section=section,
        start=start,
        end=end,
        page=doc.page_of(start),
        quote=doc.text[start:end],
    )
