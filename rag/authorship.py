"""Who wrote a source: "who wrote the war on the rocks piece" is answered by the byline or the
author's note of the source the question names, not by whatever person the best-matching
sentence mentions.

The source is the one whose title and outlet cover most of the question's words (the outlet is
how people name an article); failing a clear match, the caller takes the best retrieved
passage's source. The
answer is a person's name copied from that source's byline or author note ("By Vladimir
Tsakanyan, PhD", "Nigar Göksel is the Turkey director of ..."), preferring the authors its
metadata lists and, in a digest of several articles, the byline under the title the question
names. A source with no byline or author note yields nothing: the documents don't say.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.chunking import Sentence
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.question import Question
from rag.scoring import covered_share
from rag.text import normalise, terms

AUTHOR_SECTIONS = ("byline", "bio")
MIN_SOURCE_MATCH = 0.3  # weighted share of the question's words a source's title/outlet covers


@dataclass(frozen=True)
class Authorship:
    """An author's name and the byline or author-note sentence it is copied from."""

    name: str
    sentence: Sentence


def named_source(question: Question, data: IndexData, idf: SentenceIdf) -> str | None:
    """The document whose title and outlet the question names (None when none clearly is)."""
    best, best_share = None, 0.0
    for doc_id, doc in data.documents.items():
        bag = frozenset(terms(f"{doc.meta.title} {doc.meta.publisher}"))
        share = covered_share(question.terms, bag, idf.weight)
        if share > best_share:
            best, best_share = doc_id, share
    return best if best_share >= MIN_SOURCE_MATCH else None


def author_of(
    question: Question, doc_id: str, data: IndexData, idf: SentenceIdf
) -> Authorship | None:
    """The author of the source ``doc_id`` (the one a "who wrote ..." question is about), from
    its byline or author note."""
    listed = [normalise(a) for a in data.documents[doc_id].meta.authors]
    found: list[Authorship] = []
    for sent in data.sentences:
        if sent.doc_id != doc_id or sent.section not in AUTHOR_SECTIONS:
            continue
        for label, text in sent.entities:
            if label == "PERSON":
                found.append(Authorship(text, sent))
    if listed:  # the metadata's authors first; a colleague thanked in a note is no author
        found = [f for f in found if _listed(f.name, listed)]
    if not found:
        return None
    # a digest prints each article's byline under its title: the one the question names
    return max(found, key=lambda f: covered_share(question.terms, _heading(f), idf.weight))


def _listed(name: str, authors: list[str]) -> bool:
    low = normalise(name)
    return any(low in a or a in low for a in authors)


def _heading(found: Authorship) -> frozenset[str]:
    return frozenset(terms(found.sentence.heading or ""))
