"""Viewpoints side by side: what each source says about a subject, attributed and dated.

Every sentence of the collection is scored against the subject (the question without its
"do the sources agree" frame): embedding cosine plus the weighted share of the subject's words
it holds. A source is shown when its best sentence is on the subject (an absolute floor, and
not far below the best source's); it gets its best one or two sentences as verbatim quotes. At
most one entry per source, newest first unless the question asks otherwise; a source with
nothing on the subject is left out, not padded. The answer says who says what and when - an
opinion piece is labelled opinion - and never who is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.chunking import Sentence
from rag.citing import cite, short_date
from rag.config import PerspectiveSettings
from rag.documents import DocMeta
from rag.embedding import Vectors
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.schemas import Citation, Viewpoint
from rag.scoring import covered_share
from rag.text import terms

QUOTED_SECTIONS = frozenset({"content", "caption", "related"})  # not bylines or author notes
OPINION_KINDS = frozenset({"opinion", "commentary", "op-ed", "editorial"})


@dataclass(frozen=True)
class Scored:
    """A sentence and how well it speaks to the subject."""

    sentence: Sentence
    score: float


def score_all(
    subject: str, subject_vec: Vectors, data: IndexData, idf: SentenceIdf, lexical_weight: float
) -> list[Scored]:
    """Every citable sentence scored against the subject, best first."""
    if not data.sentences:
        return []
    words = tuple(dict.fromkeys(terms(subject)))
    dense = np.asarray(data.sentence_vectors @ subject_vec.reshape(-1), dtype=np.float32)
    out = []
    for sent, cos in zip(data.sentences, dense, strict=True):
        if sent.section not in QUOTED_SECTIONS:
            continue
        lexical = covered_share(words, idf.sentence_terms[sent.sent_id], idf.weight)
        out.append(Scored(sent, float(cos) + lexical_weight * lexical))
    out.sort(key=lambda s: -s.score)
    return out


def by_source(
    scored: list[Scored], settings: PerspectiveSettings, only: tuple[str, ...] = ()
) -> dict[str, list[Scored]]:
    """Each on-subject source's best sentences (at most ``quotes_per_source``)."""
    pool = [s for s in scored if not only or s.sentence.doc_id in only]
    if not pool:
        return {}
    # Sources the question names are wanted even when they speak to it in other words.
    least = settings.compare_min_score if not only else settings.named_min_score
    floor = max(least, pool[0].score - settings.compare_margin)
    out: dict[str, list[Scored]] = {}
    for s in pool:
        if s.score < floor:
            break
        mine = out.setdefault(s.sentence.doc_id, [])
        best = mine[0].score if mine else s.score
        if len(mine) < settings.quotes_per_source and s.score >= best - settings.quote_margin:
            mine.append(s)
    return out


def label(meta: DocMeta) -> str:
    """'EVN Report (c. Dec 2024)'; an opinion piece: 'Sevan Araz, opinion, The Armenian
    Weekly (c. Jul 2023)'."""
    who = meta.publisher if meta.publisher != "unknown" else meta.title
    if meta.kind in OPINION_KINDS:
        authors = ", ".join(meta.authors)
        who = f"{authors}, opinion, {who}" if authors else f"{who}, opinion"
    return f"{who} ({short_date(meta)})"


def excerpt(text: str, max_words: int) -> str:
    """The sentence, or its first ``max_words`` words up to a clause end, with an ellipsis:
    still a verbatim prefix of the cited span."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    cut = " ".join(words[:max_words])
    clause = max(cut.rfind(", "), cut.rfind("; "), cut.rfind(" – "), cut.rfind(" — "))
    if clause > len(cut) // 2:
        cut = cut[:clause]
    return re.sub(r"[,;:\s]+$", "", cut) + " …"


def compose(
    chosen: dict[str, list[Scored]], data: IndexData, newest_first: bool, max_words: int
) -> tuple[str, list[Citation], list[Viewpoint]]:
    """The attributed answer text, its citations and one viewpoint per source."""
    order = sorted(
        chosen,
        key=lambda d: (data.documents[d].meta.date or "", d),
        reverse=newest_first,
    )
    citations: list[Citation] = []
    views: list[Viewpoint] = []
    lines = []
    for doc_id in order:
        doc = data.documents[doc_id]
        ids = []
        quotes = []
        for s in chosen[doc_id]:
            n = len(citations) + 1
            citations.append(cite(n, doc, s.sentence.section, s.sentence.start, s.sentence.end))
            ids.append(n)
            quotes.append(
                f"“{excerpt(doc.text[s.sentence.start : s.sentence.end], max_words)}” [{n}]"
            )
        source = citations[ids[0] - 1].model_dump(include=set(Viewpoint.model_fields))
        views.append(Viewpoint(**source, citation_ids=ids))
        lines.append(f"{label(doc.meta)}: {' '.join(quotes)}")
    return "\n".join(lines), citations, views
