"""Follow-up questions made standalone: pure functions over the history the client sends.

A follow-up ("Has it been implemented?", "And what did Turkey promise?", "What about
Azerbaijan?") gets the topic of the earlier user turns attached in parentheses, or, for
"what about X", the previous question with X swapped in. Retrieval then sees the names, dates
and nouns the pronoun stood for. Only user turns are read: the assistant's answers are quotes
from many sources and would drag unrelated names in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.errors import InvalidInput
from rag.nlp import english
from rag.schemas import ChatTurn


@dataclass(frozen=True)
class Phrase:
    """A named entity or noun phrase, with character offsets into the analysed text."""

    text: str
    label: str  # spaCy entity label (GPE, ORG, DATE, ...) or "NP" for a plain noun phrase
    start: int
    end: int


# (text) -> its entities and non-pronoun noun phrases, in text order (they may overlap).
Analyzer = Callable[[str], tuple[Phrase, ...]]

LOOKBACK_TURNS = 3  # earlier user turns a follow-up may reach back through
MAX_TOPIC_WORDS = 24  # a longer carried topic is cut to its phrases, then truncated

_LEADING = re.compile(r"^\s*(?:and|but|so|also|plus)\b[\s,]*", re.I)
_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<rest>.+?)[\s?.!]*$", re.I)
# Demonstratives point back even when the question names things of its own ("What does this
# mean for Russia?"); personal pronouns only when it names nothing ("their" in "When did X and
# Y sign their agreement?" refers inside the question).
_STRONG = re.compile(r"\b(?:this|these|those|then|the same|the latter|the former)\b", re.I)
_WEAK = re.compile(
    r"\b(?:it|its|they|them|their|theirs|that|he|she|him|her|his|hers|there|such)\b", re.I
)
_WORD = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
_TRAILING = re.compile(r"[\s?.!,;:()\[\]\"'“”]+$")
_AUX = re.compile(r"\b(?:do|does|did|is|are|was|were|has|have|had)\b", re.I)
_WH = frozenset("what which who whom whose when where why how".split())


def check_history(history: Sequence[ChatTurn], max_turns: int, max_chars: int) -> None:
    """Raise InvalidInput when the history is longer than the service accepts."""
    if len(history) > max_turns:
        raise InvalidInput(
            f"history has {len(history)} turns; the limit is {max_turns} "
            "(send only the most recent turns)"
        )
    for i, turn in enumerate(history):
        if len(turn.content) > max_chars:
            raise InvalidInput(
                f"history[{i}].content is {len(turn.content)} characters long; "
                f"the limit is {max_chars}"
            )


def _has_specifics(text: str) -> bool:
    # The same cue as the answerer's key terms: capitalised words after the first, or numbers.
    words = _WORD.findall(text)
    return any(
        (i > 0 and w[:1].isupper() and w != "I") or w[:1].isdigit() for i, w in enumerate(words)
    )


def is_follow_up(question: str) -> bool:
    """Whether the question leans on earlier turns (pronoun, demonstrative, 'And …', ellipsis)."""
    if _LEADING.match(question) or _ABOUT.match(question) or _STRONG.search(question):
        return True
    specifics = _has_specifics(question)
    if _WEAK.search(question) and not specifics:
        return True
    return len(_WORD.findall(question)) <= 3 and not specifics


def _core(question: str) -> str:
    """The question without a leading connective or trailing punctuation, capitalised."""
    text = _TRAILING.sub("", _LEADING.sub("", question.strip()))
    return text[:1].upper() + text[1:]


def _clip(words: list[str]) -> str:
    return " ".join(words[:MAX_TOPIC_WORDS])


def topic(text: str, phrases: Sequence[Phrase]) -> str:
    """What a question is about: from its first to its last entity or noun phrase."""
    content = [p for p in phrases if p.text.split()[0].lower() not in _WH]
    if not content:
        return ""
    # Auxiliaries left over from question word order ("does the bridge have") are noise.
    span = _AUX.sub("", text[content[0].start : max(p.end for p in content)])
    span = _TRAILING.sub("", " ".join(span.split()))
    if len(span.split()) <= MAX_TOPIC_WORDS:
        return span
    outer = [
        p
        for p in content
        if not any(o != p and o.start <= p.start and p.end <= o.end for o in content)
    ]
    return _clip(", ".join(dict.fromkeys(p.text for p in outer)).split())


@dataclass(frozen=True)
class Resolved:
    """A question made standalone, and the topic a later follow-up would carry."""

    question: str
    base: str  # the question before any context was attached
    context: str
    topic: str


def _attach(question: str, context: str) -> str:
    core = _core(question)
    if not context or not core:
        return question.strip()
    known = {w.casefold() for w in _WORD.findall(core)}
    if all(w.casefold() in known for w in _WORD.findall(context)):
        return question.strip()
    end = "?" if question.rstrip().endswith("?") or core.split()[0].lower() in _WH else ""
    return f"{core} ({context}){end}"


# spaCy's small model often mixes up names of people, places and organisations, so a swap
# matches on these coarse kinds rather than the exact label.
_KIND = {
    **dict.fromkeys(["PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "LAW"], "name"),
    **dict.fromkeys(["DATE", "TIME"], "when"),
    **dict.fromkeys(["CARDINAL", "MONEY", "PERCENT", "QUANTITY"], "number"),
}


def _swap(previous: str, prev_phrases: Sequence[Phrase], new: Phrase) -> str | None:
    """The previous question with its entity of the same kind replaced by ``new``."""
    kind = _KIND.get(new.label)
    if kind is None:
        return None
    for p in prev_phrases:
        if _KIND.get(p.label) == kind:
            return previous[: p.start] + new.text + previous[p.end :]
    return None


def resolve(question: str, earlier: Sequence[str], analyze: Analyzer) -> Resolved:
    """Make ``question`` standalone given the earlier user questions (oldest first)."""
    earlier = [q for q in earlier if q.strip()][-LOOKBACK_TURNS:]
    question = question.strip()
    own = topic(question, analyze(question))
    if not earlier or not is_follow_up(question):
        return Resolved(question, question, "", own)
    prev = resolve(earlier[-1], earlier[:-1], analyze)
    about = _ABOUT.match(question)
    if about:
        rest = about.group("rest")
        names = [p for p in analyze(rest) if p.label != "NP"]
        # Swap only a bare name ("What about Azerbaijan?"), not "what about the border with X".
        if len(names) == 1 and re.sub(r"^the\s+", "", rest, flags=re.I) == names[0].text:
            swapped = _swap(prev.base, analyze(prev.base), names[0])
            if swapped is not None:
                return Resolved(
                    _attach(swapped, prev.context),
                    swapped,
                    prev.context,
                    topic(swapped, analyze(swapped)),
                )
        context = f"{rest}; {prev.context}" if prev.context else rest
        return Resolved(
            _attach(prev.base, context), prev.base, context, _clip(f"{rest}; {prev.topic}".split())
        )
    carried = _clip(f"{own}; {prev.topic}".split()) if own else prev.topic
    return Resolved(_attach(question, prev.topic), question, prev.topic, carried)


def rewrite(question: str, history: Sequence[ChatTurn], analyze: Analyzer) -> str | None:
    """The standalone form of a follow-up, or None when the question stands on its own."""
    earlier = [t.content for t in history if t.role == "user"]
    if not earlier or not is_follow_up(question):
        return None
    standalone = resolve(question, earlier, analyze).question
    return None if standalone == question.strip() else standalone


@lru_cache(maxsize=1024)
def spacy_phrases(text: str) -> tuple[Phrase, ...]:
    """Entities and noun phrases of ``text`` from spaCy's small English model."""
    doc = english()(text)
    found = [Phrase(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]
    for chunk in doc.noun_chunks:
        if chunk.root.pos_ == "PRON" or chunk.root.tag_.startswith("W"):
            continue
        found.append(Phrase(chunk.text, "NP", chunk.start_char, chunk.end_char))
    return tuple(sorted(found, key=lambda p: (p.start, -p.end)))
