"""Questions about the sources rather than the story: "do the sources agree on ..." (compare)
and "how has ... developed" / "what's the latest on ..." (timeline).

Recognised from the question's structure, read by spaCy's parser, with words matched by
meaning (embedding cosine to a few concept words, so "differ", "diverge" and "diff" all count,
and the typo "timline" too):

- compare: the sources as a group are what the question is about: a plural noun naming them
  ("the articles", "these writers", "the diff pieces") is the subject of its verb, or stands
  with a word of comparison ("same or different", "agree", "vs"); or two or more sources are
  named ("evn vs jamestown"); or the question is an order to compare. A count ("how many
  articles of the treaty") or one named source ("what does Sevan Araz compare Artsakh to") is
  not a comparison of sources.
- timeline: a word of development over time ("timeline", "chronology", "latest", "developed",
  "unfolded") heads the question or its main verb, or "over time" / "over the years" is said.

The subject (what is compared, or the topic of the timeline) is the question without that frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rag.index_data import IndexData
from rag.text import STOPWORDS, terms

Matrix = Callable[[Sequence[str], Sequence[str]], Any]  # phrases x targets -> cosines

SOURCE_WORDS = (
    "sources", "articles", "writers", "authors", "outlets", "pieces", "analyses", "publications",
    "source", "article", "outlet",  # singular: counts only as "each source", "which outlet ..."
)  # fmt: skip
COMPARE_WORDS = (
    "compare", "agree", "disagree", "differ", "different", "versus", "consensus", "diverge",
    "contrasting",
)  # fmt: skip
# Nouns for what a source holds: "contrasting views", "do their perspectives diverge".
VIEW_WORDS = ("views", "perspectives", "opinions", "positions", "stances")
# What is new: a timeline question with one of these wants the current state first.
LATEST_WORDS = ("latest", "new", "updates", "recently", "lately", "developments")
TIMELINE_WORDS = (
    "timeline", "chronology", "history", "developed", "evolved", "unfolded", "changed",
    "sequence", "milestones", "progressed", *LATEST_WORDS,
)  # fmt: skip
GROUPS = (SOURCE_WORDS, COMPARE_WORDS, TIMELINE_WORDS, VIEW_WORDS)
CONCEPT_WORDS = tuple(w for concept in GROUPS for w in concept)
RARE = 4.5  # idf over sentences of a distinctive name word (in ~1 % of sentences or fewer)
MEANS = 0.8  # cosine at which a word counts as one of the concept words (inflections, typos)
_SPAN = re.compile(
    r"\bover\s+(?:time|the\s+(?:years|months))\b|\bstep\s+by\s+step\b|\bkey\s+dates\b"
    r"|\bwalk\s+(?:me|us)\s+through\b|\byear\s+by\s+year\b|\bfrom\s+start\s+to\s+finish\b"
    r"|\bhappened\s+(?:since|after|in\s+between|between)\b|\bin\s+between\b",
    re.IGNORECASE,
)
# Idioms of agreement: "on the same page", "see eye to eye", "side by side".
_SAME = re.compile(r"\bsame\s+page\b|\beye\s+to\s+eye\b|\bside\s+by\s+side\b", re.IGNORECASE)
# A group of sources in a phrase like "across the articles", "among the sources".
_ACROSS = frozenset({"across", "among", "amongst", "between"})
_OLDEST_FIRST = re.compile(r"\b(?:oldest|earliest)\s+first\b|\bchronological", re.IGNORECASE)


@dataclass(frozen=True)
class Perspective:
    """What a question asks of the sources as a whole, and about what."""

    kind: Literal["compare", "timeline"]
    subject: str  # the question without its frame: what to find in each source
    named: tuple[str, ...] = ()  # doc ids the question names
    newest_first: bool = True
    latest: bool = False  # "what's the latest on", "any updates on": the current state matters
    asked: str = ""  # the question


def named_sources(
    words: Sequence[str], data: IndexData, weight: Callable[[str], float]
) -> tuple[str, ...]:
    """Documents the question names by a distinctive word of their outlet or an author's name:
    "evn", "jamestown", "rocks", "araz" - a word few sentences of the collection hold
    (``weight``: its idf over sentences), so "armenian" names no outlet."""
    said = set(words)
    found = []
    for doc_id, doc in data.documents.items():
        meta = doc.meta
        names = " ".join([meta.publisher, *meta.authors])
        if any(t in said and t not in _GENERIC and weight(t) >= RARE for t in terms(names)):
            found.append(doc_id)
    return tuple(found)


_FILLER = frozenset({"AUX", "DET", "PRON", "CCONJ", "PART", "SCONJ", "INTJ", "ADP"})
# Words of an outlet's name that don't identify it on their own.
_GENERIC = frozenset(terms("the report foundation center review news institute of for and"))


def perspective_of(
    text: str,
    data: IndexData,
    weight: Callable[[str], float],
    matrix: Matrix,
    parse: Callable[[str], Any],
) -> Perspective | None:
    """The question's perspective, or None for a question about the story itself."""
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return None
    named = named_sources(terms(text), data, weight)
    unique = list(dict.fromkeys(w for w in words if w not in STOPWORDS or w in ("vs",)))
    if not unique:
        return None
    cos = np.asarray(matrix(unique, list(CONCEPT_WORDS)))
    near: list[set[str]] = []  # per group: the question's words that mean one of its words
    start = 0
    for concept in GROUPS:
        block = cos[:, start : start + len(concept)].max(axis=1)
        near.append({w for w, best in zip(unique, block, strict=True) if best >= MEANS})
        start += len(concept)
    source, compare, timeline, views = near
    if "vs" in unique or _SAME.search(text):
        compare |= {"vs"} | {w for w in ("same", "eye", "side") if w in unique}
    spans = bool(_SPAN.search(text))
    if not (source or compare or timeline or spans or len(named) >= 2):
        return None  # most questions stop here, without a parse
    doc = parse(text)
    frame = set()
    kind: Literal["compare", "timeline"] | None = None
    group = [t for t in doc if t.lower_ in source and _collective(t)]
    if len(named) >= 2:
        kind = "compare"
    elif group and (compare or any(t.dep_ in ("nsubj", "nsubjpass") for t in group)):
        kind = "compare"
    elif any(t.dep_ == "pobj" and t.head.lower_ in _ACROSS for t in group):
        kind = "compare"  # "how is the route portrayed across the articles"
    elif any(c.lower_ in ("each", "every") for t in group for c in t.children):
        kind = "compare"  # "each source's take on ..."
    elif compare and any(t.lower_ in views and t.tag_ == "NNS" for t in doc):
        kind = "compare"  # "contrasting views on COP29", "do their perspectives diverge"
    elif any(t.lower_ in source and _which_most(t) for t in doc):
        kind = "compare"  # "which outlet is most optimistic"
    elif compare and any(_ordered(t, compare) for t in doc):
        kind = "compare"  # "compare how the articles describe ..." / "compare what they say"
    if kind == "compare":
        frame |= {t.i for t in group} | {t.i for t in doc if t.lower_ in compare}
        for idiom in _SAME.finditer(text):  # "on the same page": none of it is the subject
            frame |= {t.i for t in doc if idiom.start() <= t.idx < idiom.end()}
    elif timeline or spans:
        marked = [t for t in doc if t.lower_ in timeline]
        if spans or any(_frames(t) for t in marked):
            kind = "timeline"
            frame |= {t.i for t in marked}
    if kind is None:
        return None
    subject = _subject(doc, frame, named, data)
    if not subject:
        return None
    latest = kind == "timeline" and any(doc[i].lower_ in LATEST_WORDS for i in frame)
    return Perspective(
        kind,
        subject,
        named,
        newest_first=not _OLDEST_FIRST.search(text),
        latest=latest,
        asked=text,
    )


def _collective(token: Any) -> bool:
    """The sources as a group: a plural ("the articles", not "how many articles"), or "each"
    / "every" source."""
    children = [c.lower_ for c in token.children]
    if any(c in ("many", "much") for c in children):  # "how many articles of the treaty"
        return False
    if token.tag_ in ("NNS", "NNPS"):
        return True
    return any(c in ("each", "every", "all") for c in children)


def _which_most(token: Any) -> bool:
    """ "which outlet is most optimistic": sources ranked against each other."""
    if not any(c.lower_ == "which" for c in token.children):
        return False
    head = token.head
    return any(t.tag_ in ("JJS", "RBS") for t in head.subtree)


def _ordered(token: Any, compare: set[str]) -> bool:
    """An order to compare: a comparison verb in the base form with no subject of its own
    ("compare what they say"; not "what does Sevan Araz compare Artsakh to")."""
    return (
        token.lower_ in compare
        and token.tag_ == "VB"
        and not any(c.dep_ in ("nsubj", "nsubjpass", "aux") for c in token.children)
    )


def _frames(token: Any) -> bool:
    """A timeline word that frames the question: a noun the question is about ("the timeline
    of ...", "what's the latest on ...") or the main verb of a "how" question ("how has the
    border dispute developed")."""
    if token.pos_ in ("VERB", "AUX"):
        if token.dep_ != "ROOT":
            return False
        if any(c.lower_ == "how" for c in token.children):
            return True
        # "treaty updates?": a plural noun parsed as a verb, in a fragment with no question word
        return bool(token.tag_ == "VBZ") and not any(t.tag_.startswith("W") for t in token.doc)
    if token.pos_ == "ADV":  # "what's been going on recently", "whats happened lately"
        return bool(token.dep_ == "advmod" and token.head.dep_ == "ROOT")
    if token.dep_ == "amod":  # "the latest date", "the new border": it describes a noun
        return False
    return token.dep_ in ("ROOT", "attr", "dobj", "nsubj", "pobj", "npadvmod", "appos", "acomp")


def _subject(doc: Any, frame: set[int], named: tuple[str, ...], data: IndexData) -> str:
    """The question without its frame words, named outlets, question words and fillers."""
    outlet_words = {
        w
        for doc_id in named
        for name in (data.documents[doc_id].meta.publisher, *data.documents[doc_id].meta.authors)
        for w in terms(name)
    }
    kept = []
    for t in doc:
        if t.i in frame or not _content(t) or t.lower_ == "vs":
            continue
        if terms(t.text) and set(terms(t.text)) <= outlet_words:
            continue
        kept.append(t.text)
    subject = " ".join(kept)
    return subject if terms(subject) else ""


def topic_of(text: str, parse: Callable[[str], Any]) -> str:
    """A topic typed as a question ("is the peace treaty signed yet?") without its question
    words, auxiliaries and fillers ("peace treaty signed yet"); a plain topic as it is."""
    return " ".join(t.text for t in parse(text) if _content(t))


def _content(token: Any) -> bool:
    """Not punctuation, a question word or a filler (auxiliary, article, pronoun, ...)."""
    return not (token.is_punct or token.tag_.startswith("W") or token.pos_ in _FILLER)
