"""The exact answer inside a quote: the name, date, number or place a question asks for.

Copied verbatim from the quote, so a reader can see it there. For "is it true ..." / "did ..."
questions the short answer is "Yes" or "No", decided by the quote: a negation the question
doesn't share, or a number the quote contradicts, makes it "No".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from rag.answer_types import Form
from rag.chunking import Sentence
from rag.claim_facts import numbers_in
from rag.dates import DATE_RE
from rag.question import Question
from rag.scoring import covered_share, has_term
from rag.text import STOPWORDS, terms
from rag.value_patterns import THINGS, same_noun

MAX_REASON_WORDS = 18
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|neither|nor|none|cannot|without|failed|refused|rejected|denied|"
    r"disavowed|remain(?:s|ed)? unsigned|yet to)\b|n[’']t\b",
    re.I,
)
_REASON_CUE = re.compile(
    r"\b(because(?: of)?|since|due to|owing to|as a result of|in response to|in retaliation "
    r"for|after|following|amid|over|for fear|so that|in order to|given that|thanks to|as)\b",
    re.I,
)
_STRONG_CUES = frozenset(
    "because|because of|due to|owing to|as a result of|in response to|in retaliation for|"
    "so that|in order to|given that|for fear".split("|")
)
# a cause-and-effect verb: what stands before it is the cause ("X has led to Y")
_CAUSE_VERB = re.compile(
    r"\b(?:(?:has|have|had|will|would|could|may) )?(?:led to|leads? to|resulted in|results? in|"
    r"prompted|caused|causes|triggered|drove|forced)\b",
    re.I,
)
_CONDITION_RE = re.compile(
    r"\b(?:on (?:the )?condition that|provided(?: that)?|as long as|so long as|unless)\b[^,.;:]*",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[“\"]([^”\"]{2,80})[”\"]")
_LEADING_AUX = re.compile(
    r"^\s*(?:(?:is|was) it (?:true|correct|right|the case)(?: that)?|true or false:?|"
    r"(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b)\s*",
    re.I,
)


def _anchor(quote: str, question: Question) -> list[int]:
    """Offsets in the quote of the question's content words (where the answer should be near)."""
    low = quote.lower()
    spots = []
    for term in question.terms:
        for match in re.finditer(rf"\b{re.escape(term[:6])}", low):
            spots.append(match.start())
    return spots


def _nearest(quote: str, candidates: list[tuple[int, int]], question: Question) -> str | None:
    """The candidate span closest to the question's words in the quote."""
    if not candidates:
        return None
    spots = _anchor(quote, question)
    if not spots:
        start, end = candidates[0]
        return quote[start:end]

    def distance(span: tuple[int, int]) -> int:
        return min(min(abs(s - span[0]), abs(s - span[1])) for s in spots)

    start, end = min(candidates, key=distance)
    return quote[start:end]


def _entity_spans(
    quote: str,
    sentences: Sequence[Sentence],
    labels: frozenset[str],
    question: Question,
    usual: Mapping[str, str] | None = None,
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    expects = question.expects
    for sent in sentences:
        for label, text in sent.entities:
            if label not in labels or question.states(text):
                continue
            if usual is not None and usual.get(text.casefold(), label) not in labels:
                continue  # the tagger's slip: elsewhere the collection calls it something else
            if label == "DATE" and expects.wants_date and not DATE_RE.search(text):
                continue  # "30 years" is not a point in time
            if expects.precise is not None and not expects.precise.search(text):
                continue
            pos = quote.find(text)
            if pos >= 0:
                spans.append((pos, pos + len(text)))
    return spans


def _date_spans(quote: str, sentences: Sequence[Sentence]) -> list[tuple[int, int]]:
    """Offsets in ``quote`` of the points in time the tagger found in its sentences."""
    out: list[tuple[int, int]] = []
    for sent in sentences:
        for label, text in sent.entities:
            if label in ("DATE", "TIME") and DATE_RE.search(text):  # not "forty-four days"
                out.extend((m.start(), m.end()) for m in re.finditer(re.escape(text), quote))
    return out


def _with_counted_noun(quote: str, span: tuple[int, int], counted: str | None) -> tuple[int, int]:
    """ "17" -> "17 articles", "1,200" -> "1,200 permanent jobs" when the counted noun follows
    the number within three words."""
    if counted is None:
        return span
    for word in list(re.finditer(r"[^\W\d_]+|%", quote[span[1] : span[1] + 60]))[:3]:
        if same_noun(word.group(0), counted):
            return span[0], span[1] + word.end()
    return span


def value_spans(
    question: Question,
    quote: str,
    sentences: Sequence[Sentence],
    usual: Mapping[str, str] | None = None,
) -> list[tuple[int, int]]:
    """Offsets in ``quote`` of values of the asked-for kind the question doesn't state
    (``usual``: the label the collection usually gives a name)."""
    expects = question.expects
    numbered = _numbered(question, quote)
    if numbered:
        return numbered
    if expects.head in ("name", "title", "phrase", "word", "term"):
        # a title is usually quoted: "the “Agreement on Peace and ...”"
        quoted = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(quote)]
        quoted = [q for q in quoted if not question.states(quote[q[0] : q[1]])]
        if quoted:
            return quoted
    if expects.labels:
        spans = _entity_spans(quote, sentences, expects.labels, question, usual)
        if expects.counted:
            spans = [_with_counted_noun(quote, s, expects.counted) for s in spans]
            spans = [s for s in spans if _ends_with(quote[s[0] : s[1]], expects.counted)]
        if not spans:
            pattern = expects.precise or expects.pattern
            if pattern is not None:
                dated = [] if expects.wants_date else _date_spans(quote, sentences)
                spans = [
                    (m.start(), m.end())
                    for m in pattern.finditer(quote)
                    if not question.states(m.group(0))
                    # "27" in "on June 27" is a day, not a count of anything
                    and not any(s <= m.start() and m.end() <= e for s, e in dated)
                ]
                if expects.counted:
                    spans = [_with_counted_noun(quote, s, expects.counted) for s in spans]
        return _merge(_named_by_head(question, quote), spans) if expects.target else spans
    if expects.form is Form.VALUE and expects.head:
        # "what slogan ...": a quoted phrase, a name, or "<Name> <head>" the question doesn't
        # state; which of them is an instance of the head noun is for its meaning to decide.
        quoted = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(quote)]
        quoted = [s for s in quoted if not question.states(quote[s[0] : s[1]])]
        if expects.target is None:
            return quoted
        things = _entity_spans(quote, sentences, THINGS, question, usual)
        return _merge(_named_by_head(question, quote), _merge(quoted, things))
    return []


_NAME_WORD = r"[A-Z][\w’'-]*"


def _named_by_head(question: Question, quote: str) -> list[tuple[int, int]]:
    """ "which region": "Meghri region", "the Kalbajar district": capitalised words directly
    before the head noun name an instance of it (a possessive before them is left out)."""
    head = question.expects.head
    if not head or question.expects.form is not Form.VALUE or not head.isalpha():
        return []
    pattern = rf"\b((?:{_NAME_WORD}\s+){{1,3}}){re.escape(head)}s?\b"
    out = []
    for match in re.finditer(pattern, quote):
        start = match.start(1)
        for word in match.group(1).split():
            # "Armenia’s Meghri region", "The Tavush region": not part of the name
            if not (re.search(r"[’']s$", word) or word.casefold() in STOPWORDS):
                break
            start = quote.index(word, start) + len(word)
            start += len(quote[start:]) - len(quote[start:].lstrip())
        name = quote[start : match.end(1)].strip()
        if name and not question.states(name):
            out.append((start, match.end()))
    return out


def _merge(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Both lists of spans, without a span that overlaps one already kept."""
    out = list(first)
    for span in second:
        if not any(s < span[1] and span[0] < e for s, e in out):
            out.append(span)
    return out


def _numbered(question: Question, quote: str) -> list[tuple[int, int]]:
    """ "which article ..." answered by "Article 9", "which flight" by "Flight 8243": the head
    noun followed by its number."""
    head = question.expects.head
    if not head or question.expects.form is not Form.VALUE:
        return []
    pattern = rf"\b{re.escape(head)}s?\s+(?:no\.\s*)?(?:\d+[a-z]?|[IVXL]+)\b"
    return [
        (m.start(), m.end())
        for m in re.finditer(pattern, quote, re.IGNORECASE)
        if not question.states(m.group(0))
    ]


def _ends_with(text: str, noun: str) -> bool:
    words = re.findall(r"[^\W\d_]+|%", text)
    return bool(words) and same_noun(words[-1], noun)


def value(question: Question, quote: str, sentences: Sequence[Sentence]) -> str | None:
    """The asked-for value nearest the question's words, verbatim from ``quote``."""
    if question.expects.form is Form.REASON:
        return reason(quote)
    return _nearest(quote, value_spans(question, quote, sentences), question)


def context_overlap(
    question: Question,
    quote: str,
    span: tuple[int, int],
    weight: Callable[[str], float],
    reach: int = 60,
) -> float:
    """Weighted share of the question's content words within ``reach`` characters of a value:
    the words around the right answer are the question's own (rare words count more)."""
    near = frozenset(terms(quote[max(0, span[0] - reach) : span[1] + reach]))
    return covered_share(question.terms, near, weight)


def reason(quote: str) -> str | None:
    """The clause that states a cause ("because Azerbaijan continued to ..."), shortened: a
    strong cue ("because", "due to") wins over a cause-and-effect verb ("the war <led to> ..."),
    which wins over a weak cue ("after", "as"); a sentence's opening word ("Since 2019, ...")
    is a time, not a cause."""
    return stated_reason(quote)[0]


def stated_reason(quote: str) -> tuple[str | None, bool]:
    """``reason``, and whether the quote states it plainly (a strong cue or a cause-and-effect
    verb, not just "after" or "as")."""
    cues = [m for m in _REASON_CUE.finditer(quote) if m.start() > 0]
    strong = [m for m in cues if m.group(1).lower() in _STRONG_CUES]
    if not strong and (cause := _cause_before(quote)) is not None:
        return cause, True
    if not cues:
        return None, False
    match = (strong or cues)[0]
    # the clause ends at a sentence mark or where a dash or bracket closes an aside
    clause = re.split(r"[.;:!?]\s|[.;!?]$|\s[—–]|[—–)]", quote[match.start() :])[0]
    return _shortened(clause), bool(strong)


def _cause_before(quote: str) -> str | None:
    """ "<Russia's invasion of Ukraine ...> have led to Armenia seeking ...": the clause before
    a verb that makes it the cause of what follows."""
    for match in _CAUSE_VERB.finditer(quote):
        start = max((m.end() for m in re.finditer(r"[.;:!?]\s", quote[: match.start()])), default=0)
        clause = quote[start : match.start()].strip(" ,")
        if len(clause.split()) >= 2:
            return _shortened(clause)
    return None


def _shortened(clause: str) -> str:
    """At most MAX_REASON_WORDS words, never ending on a word like "and" or "between"."""
    words = clause.split()
    if len(words) > MAX_REASON_WORDS:
        kept = words[:MAX_REASON_WORDS]
        while len(kept) > 1 and kept[-1].strip(",;").casefold() in STOPWORDS:
            kept.pop()
        clause = " ".join(kept)
    return clause.rstrip(" ,;")


_ALTERNATIVES = re.compile(
    r"\b([^\W\d_]+)\s+or\s+(?:(?:just|only|merely|simply|still|rather|actually|by|the|a|an)\s+)*"
    r"([^\W\d_]+)[\s?.!]*$",  # at the question's end: "did X or Y sign it" asks yes or no
    re.I,
)


def options(question: Question) -> tuple[str, str] | None:
    """The two choices of an "A or B" question ("is the treaty signed or just initialed"), if
    it offers them: such a question is answered by one of them, not by yes or no."""
    match = _ALTERNATIVES.search(_LEADING_AUX.sub("", question.text))
    if match is None:
        return None
    first, second = match.group(1), match.group(2)
    if first.casefold() in STOPWORDS or second.casefold() in STOPWORDS:
        return None  # "... or not", "... or so": no choice between two things
    return first, second


def choice(question: Question, quote: str) -> str | None:
    """The one choice of an "A or B" question the quote states, as the quote writes it (None
    when it states both or neither)."""
    offered = options(question)
    if offered is None:
        return None
    words = re.findall(r"[^\W_]+(?:[’'-][^\W_]+)*", quote)
    stated = []
    for option in offered:
        want = terms(option)
        found = [w for w in words if want and (t := terms(w)) and has_term(t[0], frozenset(want))]
        if found:
            stated.append(found[0])
    return stated[0] if len(stated) == 1 else None


def yes_no(question: Question, quote: str) -> str:
    """ "Yes" when the quote states what the question asks, "No" when it states otherwise."""
    claim = _LEADING_AUX.sub("", question.text)
    said = terms(claim)
    negated = _negated_near(quote, said) or _negative_form(quote, said)
    if bool(_NEGATION_RE.search(claim)) != negated:
        return "No"
    asked_numbers = numbers_in(claim) - {""}
    stated = numbers_in(quote)
    if asked_numbers and stated and not asked_numbers <= stated:
        return "No"
    key = [t for t in question.key_terms if not t.isdigit()]
    bag = set(terms(quote))
    if key and not any(t in bag or any(w.startswith(t[:5]) for w in bag) for t in key):
        return "No"
    return "Yes"


def decides(question: Question, quote: str, weight: Callable[[str], float]) -> float:
    """How much of a yes/no question's claim the quote speaks to: the weighted share of the
    claim's content words it contains. A quote that doesn't mention what is asked ("ratified")
    cannot answer yes or no."""
    claim = terms(_LEADING_AUX.sub("", question.text))
    return covered_share(claim, frozenset(terms(quote)), weight)


def _negative_form(quote: str, claim_terms: list[str]) -> bool:
    """The quote uses a claim word in its negative form: "signed" asked, "unsigned" stated."""
    stated = set(terms(quote))
    return any(f"{prefix}{t}" in stated for t in claim_terms for prefix in ("un", "non", "non-"))


def _negated_near(quote: str, claim_terms: list[str], reach: int = 6) -> bool:
    """A negation within ``reach`` words of one of the claim's words ("was not signed"), not
    anywhere in a long sentence."""
    # A condition attached to a statement doesn't negate it: "approved it, but only on
    # condition that no dredging takes place" still approved it.
    quote = _CONDITION_RE.sub(" ", quote)
    words = re.findall(r"[^\W_]+(?:[’'][^\W_]+)*", quote)
    stems = [terms(w)[:1] for w in words]
    # the claim's words in any of their forms ("internationally" asked, "international" said)
    claim = frozenset(claim_terms)
    at = [i for i, t in enumerate(stems) if t and has_term(t[0], claim)]
    neg = [i for i, w in enumerate(words) if _NEGATION_RE.fullmatch(w) or _NEGATION_RE.search(w)]
    if not at:
        return bool(neg)
    return any(abs(n - a) <= reach for n in neg for a in at)
