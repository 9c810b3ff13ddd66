"""Extractive answers: pick the sentences that answer, cite them verbatim, or abstain.

A sentence's support score mixes its embedding similarity to the question, the share of the
question's (idf-weighted) content words it contains, whether it holds the kind of thing the
question asks for (a date for "when", a number for "how many", a name for "who"), and the
rank of the passage it came from. The best sentence's score is the abstention signal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from rag.chunking import Sentence
from rag.config import AnswerSettings
from rag.documents import DocMeta, Document, meta_text
from rag.embedding import Vectors
from rag.retrieve import Hit
from rag.schemas import Citation
from rag.store import IndexData
from rag.text import normalise, stem, terms

ABSTAIN_TEXT = "The documents don't say."

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE_RE = re.compile(rf"\b((1[89]|20)\d\d|{_MONTHS})\b", re.IGNORECASE)
# Counts and amounts; years ("2023") and codes ("H-26") are not answers to "how many".
_NUMBER_RE = re.compile(
    r"(?<![\w-])(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|\b(two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|dozens?|hundreds?|thousands?|millions?|billions?|half|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety)\b",
    re.IGNORECASE,
)
_ARTICLE_RE = re.compile(r"\b(article|clause|paragraph|point)\s+\d+", re.IGNORECASE)
_NUMBERS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
# How precise the asked-for value must be: "on what date" wants a day, "in what month" a month,
# "how much did it cost" an amount of money. An answer that is only a year (or a bare count)
# does not answer them.
_DAY_RE = re.compile(
    rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:\s*[-–]\s*\d{{1,2}}(?:st|nd|rd|th)?)?\s+(?:of\s+)?(?:{_MONTHS})\b|\b\d{{4}}-\d\d-\d\d\b",
    re.IGNORECASE,
)
_MONTH_RE = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
_MONEY_RE = re.compile(
    r"[$€£₽]\s?\d|\b(?:usd|eur|amd|azn|gbp)\s?\d|\b\d[\d,.]*\s*(?:million|billion|bn|m|k)?\s*"
    r"(?:dollars?|euros?|usd|eur|amd|azn|gbp|manats?|drams?|r[o]?ubles?|pounds?|lira)\b",
    re.IGNORECASE,
)
_PRECISION: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"\b(what|which) (exact )?(date|days?)\b", re.I), _DAY_RE),
    (re.compile(r"\b(what|which) month\b", re.I), _MONTH_RE),
]
_MONEY_CUE = re.compile(
    r"\b(spen[dt]|spending|costs?|costing|worth|monetary|price[ds]?|paid|pay|budget(ed)?|"
    r"invest(ed|ment)?|fund(ed|ing)?|dollars?|euros?|financ(e|ed|ing))\b",
    re.IGNORECASE,
)
# "What bandwidth, in gigabits per second, ...": the value must come with that unit.
_UNIT_RE = re.compile(r",\s*in\s+([^\W\d_]+)(?:\s+per\s+[^\W\d_]+)?\s*,", re.IGNORECASE)
# "Who is the chief executive of X?" asks for a person; "Who mediated?" may be answered by an
# organisation or a country.
_WHO_ROLE_RE = re.compile(
    r"^\s*who (is|was|are|were|will be|has been|had been) (the|its|their|[^\W\d_]+['’]s)\s",
    re.IGNORECASE,
)
_NAMED = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW", "WORK_OF_ART"}
)

_WHO = frozenset({"PERSON", "ORG"})  # "who" may be a person or an organisation, but
# "who is the <role>" asks for a person (_WHO_ROLE_RE).
# Question pattern -> (entity labels that would answer it, regex fallback). First match wins.
_EXPECTATIONS: list[tuple[re.Pattern[str], frozenset[str], re.Pattern[str] | None]] = [
    (
        re.compile(r"\b(which|what) (article|clause|paragraph|point|provision|section)\b", re.I),
        frozenset({"LAW"}),
        _ARTICLE_RE,
    ),
    (
        re.compile(r"^\s*when\b|\b(what|which) (date|day|year|month)\b|\bin what year\b", re.I),
        frozenset({"DATE", "TIME"}),
        _DATE_RE,
    ),
    (
        re.compile(r"\bhow (long|old)\b", re.I),
        _NUMBERS | {"DATE", "TIME"},
        _NUMBER_RE,
    ),
    (
        re.compile(
            r"\bhow (many|much|far|large|big)\b|\bwhat (?:(?:is|was|were|are) the )?(?:\w+ )?"
            r"(percentage|share|number|amount|figure|sum|proportion|size|length|value|cost|"
            r"price|bandwidth|capacity|speed|distance|population|area|budget|total)\b",
            re.I,
        ),
        _NUMBERS,
        _NUMBER_RE,
    ),
    (
        re.compile(
            r"\b(which|what) (\w+ )?(company|companies|organi[sz]ations?|outlets?|group|body|"
            r"operator|firm|party|parties|institution|agency|newspaper|publication)\b",
            re.I,
        ),
        frozenset({"ORG", "NORP"}),
        None,
    ),
    (
        re.compile(
            r"\b(which|what) (\w+ )?(country|countries|power|powers|state|states|nation)\b", re.I
        ),
        frozenset({"GPE", "NORP"}),
        None,
    ),
    (
        re.compile(
            r"^\s*(who|whom|whose)\b|\b(which|what) (\w+ )?(person|official|leader|minister|"
            r"president|envoy|diplomat|author|analyst|archbishop|spokesperson)\b",
            re.I,
        ),
        _WHO,
        None,
    ),
    (
        re.compile(r"^\s*where\b|\bin (which|what) (city|country|place|region)\b", re.I),
        frozenset({"GPE", "LOC", "FAC"}),
        None,
    ),
    (re.compile(r"\bwhat (is|was|were|are) the names? of\b", re.I), _NAMED, None),
]
_AUTHOR_RE = re.compile(r"\b(wrote|written|authors?|co-?authors?|byline)\b", re.I)
_RECENCY_RE = re.compile(
    r"\b(latest|current(ly)?|now|most recent|newest|today|still|so far|as of now|yet)\b", re.I
)


@dataclass(frozen=True)
class QuestionProfile:
    """What the question asks for."""

    terms: tuple[str, ...]
    expected: frozenset[str]
    expected_re: re.Pattern[str] | None
    key_terms: tuple[str, ...]  # names and numbers in the question that an answer must touch
    text: str = ""  # the question, normalised: an answer must add something not already here
    recency: bool = False  # "latest", "currently", "still": prefer the newest sources
    about_author: bool = False  # "who wrote ...": bylines and author notes are the evidence
    counted: str | None = None  # "how many <prisoners>": the count must stand next to it
    precise: re.Pattern[str] | None = None  # what the answering value must look like


def profile_question(question: str) -> QuestionProfile:
    """Analyse a question: content words, the expected answer type, its names and numbers."""
    expected: frozenset[str] = frozenset()
    expected_re = None
    for pattern, labels, regex in _EXPECTATIONS:
        if pattern.search(question):
            expected, expected_re = labels, regex
            break
    counted = _counted_noun(question)
    unit = _UNIT_RE.search(question)
    if unit and not counted:
        expected, expected_re = expected or _NUMBERS, expected_re or _NUMBER_RE
        counted = stem(unit.group(1).lower())
    precise = next((p for cue, p in _PRECISION if cue.search(question)), None)
    if expected_re is _NUMBER_RE and not counted and _MONEY_CUE.search(question):
        expected, precise = frozenset({"MONEY"}), _MONEY_RE
    if expected is _WHO and _WHO_ROLE_RE.search(question):
        expected = frozenset({"PERSON"})
    # Capitalised words after the first word, and numbers: the specifics a supporting
    # sentence should mention.
    words = re.findall(r"[^\W_]+(?:[’'-][^\W_]+)*", question)
    keys = [w for i, w in enumerate(words) if (i > 0 and w[:1].isupper()) or w[:1].isdigit()]
    key_terms = tuple(dict.fromkeys(t for k in keys for t in terms(k)))
    recency = bool(_RECENCY_RE.search(question))
    words = terms(_RECENCY_RE.sub(" ", question)) if recency else terms(question)
    return QuestionProfile(
        tuple(dict.fromkeys(words)),
        expected,
        expected_re,
        key_terms,
        normalise(question),
        recency,
        bool(_AUTHOR_RE.search(question)),
        counted,
        precise,
    )


_COUNT_RE = re.compile(r"\bhow many\s+((?:[^\W\d_]+[\s-]+){0,3}[^\W\d_]+)", re.I)
_COUNT_STOP = frozenset(
    "are were was is did do does have has had will would can could long wide large in on of "
    "at by for from to".split()
)


def _counted_noun(question: str) -> str | None:
    """The head noun of "how many X ..." (stemmed), if the question counts something.

    English noun phrases end in their head ("Armenian prisoners"); the phrase ends at a
    function word or a past-tense verb ("people fled", "soldiers killed").
    """
    match = _COUNT_RE.search(question)
    if not match:
        return None
    words: list[str] = []
    for word in re.split(r"[\s-]+", match.group(1).lower()):
        if word in _COUNT_STOP or (words and word.endswith("ed")):
            break
        words.append(word)
    return stem(words[-1]) if words else None


def _count_near_noun(text: str, profile: QuestionProfile, window: int = 5) -> bool:
    """A number not taken from the question stands within ``window`` words of the counted noun.

    "How many prisoners were released?" is not answered by a sentence about prisoners that
    only happens to hold some other number.
    """
    tokens = re.findall(r"[$€£]?\d[\d,.]*|[^\W\d_]+", text)
    nouns = [i for i, tok in enumerate(tokens) if stem(tok.lower()) == profile.counted]
    numbers = [
        i
        for i, tok in enumerate(tokens)
        if _NUMBER_RE.fullmatch(tok) and not _in_question(tok, profile)
    ]
    return any(abs(n - k) <= window for n in nouns for k in numbers)


class SentenceIdf:
    """Inverse document frequency of terms over the indexed sentences."""

    def __init__(self, data: IndexData) -> None:
        self.sentence_terms: dict[int, frozenset[str]] = {}
        df: Counter[str] = Counter()
        meta = {d: frozenset(terms(meta_text(doc.meta))) for d, doc in data.documents.items()}
        for sent in data.sentences:
            doc = data.documents[sent.doc_id]
            bag = frozenset(terms(doc.text[sent.start : sent.end]))
            df.update(bag)
            # A sentence also "mentions" its source's title, outlet and authors.
            self.sentence_terms[sent.sent_id] = bag | meta[sent.doc_id]
        self.by_id = {s.sent_id: s for s in data.sentences}
        self.row_of = {s.sent_id: i for i, s in enumerate(data.sentences)}
        # 1.0 for the newest source, 0.0 for the oldest (undated sources count as oldest).
        dates = sorted({d.meta.date or "" for d in data.documents.values()})
        span = max(1, len(dates) - 1)
        self.recency = {
            doc_id: dates.index(doc.meta.date or "") / span
            for doc_id, doc in data.documents.items()
        }
        n = max(1, len(data.sentences))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.default_idf = math.log(1 + n)
        self.vocabulary = frozenset(df)

    def weight(self, term: str) -> float:
        """idf of a term; unseen terms weigh the most."""
        return self.idf.get(term, self.default_idf)


@dataclass(frozen=True)
class Scored:
    """A candidate span (one sentence, or a sentence with the one before it) and its score."""

    sentence: Sentence
    score: float
    dense: float
    lexical: float
    type_ok: bool
    passage_rank: int
    start: int
    end: int


def _type_ok(sentence: Sentence, text: str, profile: QuestionProfile) -> bool:
    """Whether the sentence holds what the question asks for - and not just what it says.

    "When was the 2023 exchange?" is not answered by a sentence whose only date is 2023.
    """
    if not profile.expected:
        return True
    if profile.counted:
        return _count_near_noun(text, profile)
    for label, ent in sentence.entities:
        if label in profile.expected and not _in_question(ent, profile):
            # A date question wants a point in time ("June 2026"), not a span ("30 years").
            if label == "DATE" and profile.expected_re is _DATE_RE and not _DATE_RE.search(ent):
                continue
            if profile.precise is not None and not profile.precise.search(ent):
                continue
            return True
    pattern = profile.precise or profile.expected_re
    if pattern is None:
        return False
    return any(not _in_question(m.group(0), profile) for m in pattern.finditer(text))


def _in_question(fragment: str, profile: QuestionProfile) -> bool:
    norm = normalise(fragment)
    return bool(re.search(rf"(?<![\w.]){re.escape(norm)}(?!\w)", profile.text))


def score_sentences(
    question_vec: Vectors,
    profile: QuestionProfile,
    hits: list[Hit],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
) -> list[Scored]:
    """Support scores of the sentences in the top passages, best first."""
    rank_of: dict[int, int] = {}
    for rank, hit in enumerate(hits[: settings.passages_considered]):
        for sid in hit.chunk.sentence_ids:
            rank_of.setdefault(sid, rank)
    if not rank_of:
        return []
    ids = list(rank_of)
    dense = data.sentence_vectors[[idf.row_of[i] for i in ids]] @ question_vec.reshape(-1)
    q_weight = sum(idf.weight(t) for t in profile.terms) or 1.0
    key_weight = sum(idf.weight(t) for t in profile.key_terms)
    scored = []
    for sid, cos in zip(ids, dense, strict=True):
        sent = idf.by_id[sid]
        doc = data.documents[sent.doc_id]
        text = doc.text[sent.start : sent.end]
        if len(text.split()) < settings.min_sentence_words:
            continue
        bag = idf.sentence_terms[sid]
        lexical = sum(idf.weight(t) for t in profile.terms if t in bag) / q_weight
        type_ok = _type_ok(sent, text, profile)
        start = sent.start
        if not type_ok and profile.expected:
            # The answer often sits in the sentence before ("According to Article 5, ...
            # For each section, ..."): quote both when that one has what is asked for.
            prev = idf.by_id.get(sid - 1)
            if (
                prev is not None
                and (prev.doc_id, prev.section, prev.heading)
                == (sent.doc_id, sent.section, sent.heading)
                and _type_ok(prev, doc.text[prev.start : prev.end], profile)
            ):
                type_ok, start = True, prev.start
                bag = bag | idf.sentence_terms[prev.sent_id]
                lexical = sum(idf.weight(t) for t in profile.terms if t in bag) / q_weight
                cos = cos - 0.03
        score = 0.6 * float(cos) + 0.4 * lexical
        if profile.expected:
            score += 0.05 if type_ok else -0.15
        if key_weight:
            # Reward sentences that carry the question's names and numbers.
            score += 0.1 * sum(idf.weight(t) for t in profile.key_terms if t in bag) / key_weight
        if sent.section in ("bio", "byline") and not profile.about_author:
            score -= settings.bio_penalty  # author notes answer questions about the author only
        if profile.recency:
            score += settings.recency_weight * idf.recency[sent.doc_id]
        score -= 0.01 * rank_of[sid]
        scored.append(
            Scored(sent, score, float(cos), lexical, type_ok, rank_of[sid], start, sent.end)
        )
    scored.sort(key=lambda s: -s.score)
    return scored


def missing_key_share(profile: QuestionProfile, hits: list[Hit], idf: SentenceIdf) -> float:
    """Weighted share of the question's names/numbers that appear in no retrieved passage."""
    if not profile.key_terms:
        return 0.0
    seen: set[str] = set()
    for hit in hits:
        for sid in hit.chunk.sentence_ids:
            seen |= idf.sentence_terms.get(sid, frozenset())
        seen |= set(terms(hit.chunk.heading or ""))
    total = sum(idf.weight(t) for t in profile.key_terms)
    missing = sum(idf.weight(t) for t in profile.key_terms if t not in seen)
    return missing / total if total else 0.0


def select(
    scored: list[Scored], data: IndexData, idf: SentenceIdf, settings: AnswerSettings
) -> list[Scored]:
    """The best span plus close runners-up, preferring other sources and skipping repeats."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = [scored[0]]
    rows = idf.row_of
    pool = [c for c in scored[1:] if c.score >= best * settings.relative_cutoff and c.type_ok]
    while pool and len(chosen) < settings.max_sentences:
        docs = {c.sentence.doc_id for c in chosen}
        # A second source beats a near-tie from the same one: viewpoints side by side.
        pool.sort(
            key=lambda c: (
                -(c.score + (settings.diversity_bonus if c.sentence.doc_id not in docs else 0.0))
            )
        )
        cand = pool.pop(0)
        vec = data.sentence_vectors[rows[cand.sentence.sent_id]]
        overlapping = any(
            c.sentence.doc_id == cand.sentence.doc_id and c.start < cand.end and cand.start < c.end
            for c in chosen
        )
        similar = any(
            float(vec @ data.sentence_vectors[rows[c.sentence.sent_id]]) > 0.9 for c in chosen
        )
        if not overlapping and not similar:
            chosen.append(cand)
    return chosen


def format_date(meta: DocMeta) -> str:
    """'22 June 2026', or 'c. July 2023' for an estimated date."""
    if not meta.date:
        return "undated"
    parts = meta.date.split("-")
    months = _MONTHS.split("|")
    try:
        year = parts[0]
        month = months[int(parts[1]) - 1].capitalize() if len(parts) > 1 else ""
        day = str(int(parts[2])) if len(parts) > 2 and not meta.date_estimated else ""
    except (ValueError, IndexError):
        return meta.date
    text = " ".join(p for p in (day, month, year) if p)
    return f"c. {text}" if meta.date_estimated else text


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


def compose(
    chosen: list[Scored], data: IndexData, dated: bool = False
) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers, and the citations they point to.

    ``dated`` (questions about "the latest" or "as of" a time) leads each claim with its date.
    """
    citations: list[Citation] = []
    lines: list[str] = []
    for n, item in enumerate(chosen, start=1):
        sent = item.sentence
        doc = data.documents[sent.doc_id]
        quote = doc.text[item.start : item.end]
        meta = doc.meta
        citations.append(cite(n, doc, sent.section, item.start, item.end))
        shown = re.sub(r"\s+", " ", quote).strip()
        lead = attribution(meta, sent.section, sent.heading, dated)
        page = doc.page_of(item.start)
        if page is not None:
            lead += f", p. {page}"
        lines.append(f"{lead}: {shown} [{n}]")
    return "\n".join(lines), citations


def answering(scored: list[Scored], profile: QuestionProfile) -> list[Scored]:
    """Candidates that can answer: when the question asks for a date, number or name, only
    sentences that hold one not already in the question."""
    if not profile.expected:
        return scored
    return [s for s in scored if s.type_ok]


def support_score(scored: list[Scored], missing_share: float) -> float:
    """The abstention signal: best answering score, discounted for unmatched names/numbers."""
    if not scored:
        return 0.0
    return scored[0].score - 0.5 * missing_share
