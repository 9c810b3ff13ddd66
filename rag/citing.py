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


def short_date(meta: DocMeta) -> str:
    """'Jun 2026', or 'c. Dec 2024' for an estimated date."""
    full = format_date(meta)
    parts = [p[:3] if p.isalpha() and len(p) > 3 else p for p in full.split()]
    if meta.date and not meta.date_estimated and len(parts) == 3:
        parts = parts[1:]  # the day is in the quote when it matters
    return " ".join(parts)


def short_attribution(meta: DocMeta, section: str, heading: str | None) -> str:
    """Who says it and when, briefly: "EVN Report, c. Dec 2024"; opinion names its author."""
    when = short_date(meta)
    who = meta.publisher if meta.publisher != "unknown" else meta.title
    if section == "bio":
        return f"author note, {who}, {when}"
    if section == "byline":
        return f"byline, {who}, {when}"
    if section == "related" and heading:
        return f"{who}'s summary of “{heading}”, {when}"
    if meta.kind in ("opinion", "commentary") and meta.authors:
        return f"opinion, {', '.join(meta.authors)}, {who}, {when}"
    return f"{who}, {when}"


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
