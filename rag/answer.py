"""Extractive answers: pick the sentences that answer, cite them verbatim, or abstain."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag import short_answer
from rag.answer_types import Form
from rag.authorship import author_of, named_source
from rag.chunking import Sentence
from rag.citing import attribution, cite, short_attribution
from rag.config import AnswerSettings
from rag.dates import DAY_RE, MONTH_RE
from rag.embedding import Vectors
from rag.focus import asked_terms, focus, tabled
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.phrase_vectors import PhraseSimilarity, Similarity
from rag.question import Question
from rag.retrieve import Hit
from rag.schemas import Citation
from rag.scoring import (
    Scored,
    answering,
    missing_key_share,
    score_sentences,
    support_score,
)
from rag.text import normalise, terms
from rag.value_patterns import NUMBERS, TIMES

ABSTAIN_TEXT = "The documents don't say."


@dataclass(frozen=True)
class Answer:
    """What the answer stage decided: the text with [n] markers and the citations they name."""

    text: str
    abstained: bool
    support: float  # evidence score of the best sentence: the abstention signal
    citations: tuple[Citation, ...] = ()
    short_answer: str | None = None
    short_answer_citation: int | None = None


def extract(
    question: Question,
    question_vec: Vectors,
    hits: list[Hit],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
    previous: str = "",
    similar: PhraseSimilarity | None = None,
) -> Answer:
    """Quote the sentences that answer ``question`` from the retrieved passages, or abstain.
    ``previous`` is the answer given to the conversation's last turn: repeating its quotes is
    not an answer to a new question unless they hold what it asks for. ``similar`` scores how
    well a candidate value fits the noun the question asks for ("which <energy field>")."""
    scored = answering(score_sentences(question_vec, question, hits, data, idf, settings), question)
    support = support_score(scored, missing_key_share(question, hits, idf))
    # the words of the best candidate spans, and each question word's similarity to them all
    bags = [_bag(item, idf) for item in scored[: settings.value_candidates * 2]]
    near = tabled(similar, frozenset().union(*bags), asked_terms(question)) if similar else None
    if settings.focus_weight and scored:
        scored = _refocus(question, scored, bags, idf, near, settings)
    n_docs = len(data.documents)
    if question.after_newest is not None:
        text = (
            f"{ABSTAIN_TEXT} The question asks about {question.after_newest}, but the newest of "
            f"the {n_docs} sources is dated {data.newest_date}; the closest passages are listed "
            "under related."
        )
        return Answer(text, True, 0.0)  # no source can hold evidence about a later time
    pool = scored if settings.value_lead else scored[:1]
    short, lead = _best_value(question, pool, data, idf, settings, similar, near)
    best = scored[0] if scored else None
    if lead is not None and (
        _focus(question, lead, idf, similar, settings) < settings.min_focus
        or _amount_out_of_focus(question, lead, short, data, idf, near, settings)
    ):
        # a value of the kind asked for, but the question's words aren't around it: it is
        # about something else ("100,000 people fled" for "how many died in the crash")
        if best is None or _focus(question, best, idf, similar, settings) < settings.min_focus:
            support -= settings.unfocused_penalty
        short, lead = None, None  # the best span's quotes, without a value they don't state
    if _asks_who_wrote(question):
        named = named_source(question, data, idf)
        source = named or (hits[0].chunk.doc_id if hits else None)
        wrote = author_of(question, source, data, idf) if source is not None else None
        if wrote is None and named is not None:
            text = (
                f"{ABSTAIN_TEXT} The source the question names has no byline or author note "
                "in the collection; the closest passages are listed under related."
            )
            return Answer(text, True, support)
        if wrote is None:
            short, lead = None, None  # a person the text mentions is not its author
        else:  # the byline says it: as supported as the best sentence, or more
            top = max(support, settings.abstain_threshold, best.score if best else 0.0)
            sent = wrote.sentence
            lead = Scored(sent, top, 0.0, 0.0, True, 0, sent.start, sent.end)
            short, support = wrote.name, top
    if lead is not None:
        scored = [lead, *[c for c in scored if c is not lead]]
    if _head_unknown(question, idf):
        # "who is the CEO of ...": a collection that never names the role can't say who holds it
        support -= settings.unknown_head_penalty
    if scored:
        support = min(support, scored[0].score)  # the lead may be a lower-scoring span
    if support < settings.abstain_threshold:
        text = (
            f"{ABSTAIN_TEXT} None of the {n_docs} sources states this; the closest passages "
            "are listed under related."
        )
        return Answer(text, True, support)
    chosen = [window(c, idf) for c in select(scored, data, idf, settings)]
    if question.form is Form.YES_NO:
        deciding = _deciding(question, scored[: settings.value_candidates], data, idf, settings)
        if deciding is not None:  # no quote speaks to the claim: quotes, but no yes or no
            others = [c for c in chosen if c.sentence.sent_id != deciding.sentence.sent_id]
            chosen = [deciding, *others]
            quote = data.documents[deciding.sentence.doc_id].text[deciding.start : deciding.end]
            if short_answer.options(question) is None:
                short = short_answer.yes_no(question, quote)
            else:  # "signed or just initialed": the choice the quote states, never yes or no
                short = short_answer.choice(question, quote)
    elif short is None and question.form is Form.REASON:
        short, because = _because(chosen, data)
        if because is not chosen[0]:  # the quote that gives the reason leads
            chosen = [because, *[c for c in chosen if c is not because]]
    if short is not None and question.form is Form.VALUE:
        top = chosen[0].score
        chosen = chosen[:1] + [c for c in chosen[1:] if c.score >= settings.second_quote * top]
    chosen = chosen[: settings.max_quotes if short is not None else settings.max_quotes_unsure]
    if best is not None and len(chosen) > 1 and not any(_covers(c, best) for c in chosen):
        # the value came from a lower-scoring span: the best-scoring one is shown beside it
        chosen[-1] = window(best, idf)
    if previous and _repeats(chosen, data, previous) and not _holds_answer(question, short):
        text = (
            f"{ABSTAIN_TEXT} Beyond the passages already quoted, none of the {n_docs} sources "
            "states this; the closest passages are listed under related."
        )
        return Answer(text, True, support)
    text, citations = compose(chosen, data, dated=question.recency, short=short)
    return Answer(
        text,
        False,
        support,
        tuple(citations),
        short_answer=short,
        short_answer_citation=1 if short is not None else None,
    )


_WHO_WORDS = ("who", "whom", "whose")


def _because(chosen: list[Scored], data: IndexData) -> tuple[str | None, Scored]:
    """The reason a "why" question asks for and the quote that gives it: the best quote's, or,
    when it states none, the first later quote that states one plainly ("because", "led to"),
    else the first with a weaker cue ("after")."""
    found = []
    for item in chosen:
        clause, plain = short_answer.stated_reason(
            data.documents[item.sentence.doc_id].text[item.start : item.end]
        )
        if clause is not None and (plain or item is chosen[0]):
            return clause, item
        found.append((clause, item))
    return next(((c, i) for c, i in found if c is not None), (None, chosen[0]))


def _amount_out_of_focus(
    question: Question,
    lead: Scored,
    value: str | None,
    data: IndexData,
    idf: SentenceIdf,
    near: Similarity | None,
    settings: AnswerSettings,
) -> bool:
    """Whether an amount or a date stands in a sentence of its span that doesn't speak to the
    question: "He defended ... over $150 billion in damages. He also reiterated ... the EU
    Monitoring Mission ..." holds no sum the EU spent on the mission. (A name may come from the
    sentence before the one that speaks to the question: that is who "he" is.)"""
    labels = question.expects.labels
    if value is None or not labels or not labels <= NUMBERS | TIMES:
        return False
    text = data.documents[lead.sentence.doc_id].text
    for sent in sentences_of(window(lead, idf), idf):
        if value in text[sent.start : sent.end]:
            bag = idf.sentence_terms[sent.sent_id]
            return focus(question, bag, idf.weight, near, enough=settings.min_focus) < (
                settings.min_focus
            )
    return False


def _asks_who_wrote(question: Question) -> bool:
    """ "who wrote ...", "who is the author of ...": a person named by a byline."""
    return (
        question.about_author and question.form is Form.VALUE and question.expects.wh in _WHO_WORDS
    )


def _head_unknown(question: Question, idf: SentenceIdf) -> bool:
    """Whether the role a question asks about ("who is the <CEO>") is absent from every indexed
    sentence."""
    head = question.expects.head
    if question.form is not Form.VALUE or not head or question.expects.wh not in _WHO_WORDS:
        return False  # "who is the <role>" only: a thing is often named in other words
    return any(t not in idf.vocabulary for t in terms(head))


def _focus(
    question: Question,
    item: Scored,
    idf: SentenceIdf,
    similar: Similarity | None,
    settings: AnswerSettings,
) -> float:
    """How much of what the question asks about a span (with its source's title, outlet and
    authors) covers."""
    return focus(question, _bag(item, idf), idf.weight, similar, enough=settings.min_focus)


def _refocus(
    question: Question,
    scored: list[Scored],
    bags: list[frozenset[str]],
    idf: SentenceIdf,
    near: Similarity | None,
    settings: AnswerSettings,
) -> list[Scored]:
    """The best candidate spans (one bag of words each) re-ordered with their focus added to
    their scores: a sentence that says what the question asks in other words ("chairs" for
    "heads") can overtake one that only shares its common words."""
    n = len(bags)
    head = [
        replace(
            item,
            score=item.score
            + settings.focus_weight * focus(question, bag, idf.weight, near, enough=1.0),
        )
        for item, bag in zip(scored[:n], bags, strict=True)
    ]
    head.sort(key=lambda s: -s.score)
    return head + scored[n:]


def _bag(item: Scored, idf: SentenceIdf) -> frozenset[str]:
    """The words of a span's sentences, with those its window adds."""
    bag: frozenset[str] = frozenset()
    for sent in sentences_of(window(item, idf), idf):
        bag |= idf.sentence_terms[sent.sent_id]
    return bag


def _covers(shown: Scored, item: Scored) -> bool:
    """Whether the quote ``shown`` already holds ``item``'s sentence."""
    sent = item.sentence
    return (
        shown.sentence.doc_id == sent.doc_id and shown.start <= sent.start and sent.end <= shown.end
    )


def _precision(text: str) -> float:
    """1 for a day ("22 June"), 0.5 for a month, 0 for a bare year."""
    return 1.0 if DAY_RE.search(text) else 0.5 if MONTH_RE.search(text) else 0.0


def _deciding(
    question: Question,
    scored: list[Scored],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
) -> Scored | None:
    """The best span that speaks to a yes/no question's claim, if any does."""
    for item in scored:
        item = window(item, idf)
        quote = data.documents[item.sentence.doc_id].text[item.start : item.end]
        if short_answer.decides(question, quote, idf.weight) >= settings.yes_no_overlap:
            return item
    return None


def _repeats(chosen: list[Scored], data: IndexData, previous: str) -> bool:
    """Whether every quote was already shown in the previous answer."""
    before = normalise(previous)
    return all(
        normalise(data.documents[c.sentence.doc_id].text[c.start : c.end]) in before for c in chosen
    )


def _holds_answer(question: Question, short: str | None) -> bool:
    """Whether repeated quotes still answer the new question: for a value, only if they hold
    one of the kind asked for. (A description or a reason may well repeat; a word-level test
    can't tell that a quote on Turkey's "commitment" answers "what did Turkey promise?".)"""
    return question.form is not Form.VALUE or short is not None


_ANAPHOR = re.compile(
    r"^[\s(“\"']*(he|she|it|they|this|these|those|that|his|her|its|their|such|"
    r"the latter|the former)\b",
    re.I,
)


def window(item: Scored, idf: SentenceIdf, most: int = 2) -> Scored:
    """The span widened by up to ``most`` sentences before while it opens with "he", "it",
    "this"...: a quote must not lean on an antecedent the reader can't see."""
    first = item.sentence
    while first.start > item.start and (prev := idf.by_id.get(first.sent_id - 1)) is not None:
        first = prev  # the sentence the span already opens with
    for _ in range(most):
        prev = idf.by_id.get(first.sent_id - 1)
        if prev is None or (prev.doc_id, prev.section) != (first.doc_id, first.section):
            break
        if not _ANAPHOR.match(idf.text_of(first)):
            break
        first = prev
    return item if first.start >= item.start else replace(item, start=first.start)


def sentences_of(item: Scored, idf: SentenceIdf) -> list[Sentence]:
    """The indexed sentences a span covers."""
    out = [item.sentence]
    while (prev := idf.by_id.get(out[0].sent_id - 1)) is not None and item.start <= prev.start:
        out.insert(0, prev)
    return out


def _best_value(
    question: Question,
    scored: list[Scored],
    data: IndexData,
    idf: SentenceIdf,
    settings: AnswerSettings,
    similar: Similarity | None = None,
    near: Similarity | None = None,
) -> tuple[str | None, Scored | None]:
    """The asked-for value and the span it comes from, among the best candidate spans.

    A value scores as its span does, plus how many of the question's words stand around it,
    how rare it is in the collection (an answer is rarely the name every sentence mentions),
    and, where the question names what it wants ("which <region>"), how close the value is to
    that noun in meaning. "who" prefers a person to an organisation or a place.
    """
    if question.form is not Form.VALUE:
        return None, None
    found: list[tuple[float, str, Scored]] = []
    groups: bool | None = None  # asks for a people? decided when a people's adjective turns up
    for item in scored[: settings.value_candidates]:
        if not item.type_ok and not question.expects.target:
            continue
        item = window(item, idf)
        quote = data.documents[item.sentence.doc_id].text[item.start : item.end]
        sentences = sentences_of(item, idf)
        for span in short_answer.value_spans(question, quote, sentences, idf.usual_label):
            text = quote[span[0] : span[1]]
            if _label(text, sentences, idf) == "NORP":
                if groups is None:
                    groups = _asks_for_a_people(question, similar)
                if not groups:
                    continue  # "Armenian", "Soviet": a people's adjective names no one, nothing
            rare = min((idf.weight(t) for t in terms(text)), default=0.0) / idf.default_idf
            if near is not None:  # words of close meaning count too ("American" for "U.S.")
                around = terms(quote[max(0, span[0] - 60) : span[1] + 60])
                context = focus(question, around, idf.weight, near, enough=1.0)
            else:
                context = short_answer.context_overlap(question, quote, span, idf.weight)
            score = item.score + settings.value_context * context + settings.value_rarity * rare
            if question.expects.wants_date:
                score += settings.date_precision * _precision(text)
            if question.expects.wh in _WHO_WORDS and _label(text, sentences, idf) == "PERSON":
                score += settings.who_person
            found.append((score, text, item))
    if not found:
        return None, None
    target = question.expects.target
    if target and similar is not None and settings.value_type:
        fits = similar([text for _, text, _ in found], target)
        found = [
            (score + settings.value_type * fit, text, item)
            for (score, text, item), fit in zip(found, fits, strict=True)
        ]
    _, text, item = max(found, key=lambda f: f[0])
    return text, item


_PEOPLE = "nationality"  # the kind of noun a people's name ("Armenians", "Kurds") answers
_PEOPLE_FIT = 0.5


def _asks_for_a_people(question: Question, similar: Similarity | None) -> bool:
    """Whether the question asks for a nationality, people or group ("which ethnic group",
    "what nationality"): only then is "Armenian" or "Soviet" an answer."""
    target = question.expects.target or question.expects.head
    if not target or similar is None:
        return False
    # with the head's modifiers: "which <ethnic group>" (a "group" alone may be a company)
    asked = re.search(
        rf"\b(?:which|what)\s+((?:[\w-]+\s+){{0,3}}?{re.escape(target)})\b", question.text, re.I
    )
    phrases = [target] if asked is None else [target, asked.group(1).lower()]
    return max(similar(phrases, _PEOPLE)) >= _PEOPLE_FIT


def _label(text: str, sentences: list[Sentence], idf: SentenceIdf) -> str | None:
    """The entity label the tagger (or the collection, usually) gives ``text``."""
    usual = idf.usual_label.get(text.casefold())
    if usual is not None:
        return usual
    return next((label for s in sentences for label, ent in s.entities if ent == text), None)


def select(
    scored: list[Scored], data: IndexData, idf: SentenceIdf, settings: AnswerSettings
) -> list[Scored]:
    """The best span plus close runners-up, preferring other sources and skipping repeats."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = [scored[0]]
    rows = idf.row_of
    # Not only spans that hold the asked-for kind: the tagger misses values ("Armenia's Meghri"
    # read as an organisation), and a best-scoring span must not vanish behind a typed one.
    pool = [c for c in scored[1:] if c.score >= best * settings.relative_cutoff]
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


def compose(
    chosen: list[Scored], data: IndexData, dated: bool = False, short: str | None = None
) -> tuple[str, list[Citation]]:
    """Answer text: the short answer first, then each quote with who said it and when, and a
    [n] marker pointing to its citation.

    ``dated`` (questions about "the latest" or "as of" a time) leads each quote with its date.
    """
    citations: list[Citation] = []
    lines: list[str] = [f"{short.rstrip('.')}." if short else ""]
    for n, item in enumerate(chosen, start=1):
        sent = item.sentence
        doc = data.documents[sent.doc_id]
        quote = doc.text[item.start : item.end]
        meta = doc.meta
        citations.append(cite(n, doc, sent.section, item.start, item.end))
        shown = re.sub(r"\s+", " ", quote).strip()
        page = doc.page_of(item.start)
        where = f", p. {page}" if page is not None else ""
        if dated:
            lead = attribution(meta, sent.section, sent.heading, dated)
            lines.append(f"{lead}{where}: “{shown}” [{n}]")
        else:
            lines.append(
                f"“{shown}” ({short_attribution(meta, sent.section, sent.heading)}{where}) [{n}]"
            )
    return "\n".join(line for line in lines if line), citations
