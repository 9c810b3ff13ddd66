"""What a question asks for, read from its structure: the question word and its head noun.

"who" wants an agent, "when" a point in time, "how many X" a count of X, "why" a reason,
"is it true ..." / "did ..." a yes or no. "which/what <noun>" wants whatever kind of thing the
noun names, decided by the noun's meaning (``HeadTyper``), so "which clergyman", "what bloc" or
"which settlement" work without a list of nouns. A sentence answers only if it holds a value of
that kind (spaCy's entity labels, with a regex fallback) that the question does not already
state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rag.dates import DATE_RE, DAY_RE, MONTH_RE
from rag.head_typer import KINDS
from rag.text import stem
from rag.value_patterns import (
    AGENTS,
    MONEY_RE,
    NAMED,
    NUMBER_RE,
    NUMBERED_RE,
    NUMBERS,
    PLACES,
    REASON_RE,
    SPAN_RE,
    TIMES,
    unit_of,
)


class Form(StrEnum):
    """The shape of a question."""

    VALUE = "value"  # wants a name, date, number or place
    REASON = "reason"  # why ...
    YES_NO = "yes_no"  # is it true that ..., did ..., has ...
    DESCRIBE = "describe"  # what does X say about ..., how did ..., what is X
    OTHER = "other"  # keywords, statements


_WH = ("who", "whom", "whose", "when", "where", "why", "how", "which", "what")
_AUX = frozenset(
    "is are was were did does do has have had can could will would should may might must "
    "am isn't aren't wasn't weren't didn't doesn't don't hasn't haven't won't".split()
)
_DETERMINERS = frozenset("the a an its their his her this that these those our my".split())
_COPULA = frozenset("is are was were be been 's".split())
_LEAD = frozenset("ok okay so and but also then hey hi well now oh um right please pls".split())
_ASK = re.compile(
    r"^(?:(?:can|could) you (?:tell|explain)(?: me)?|(?:do|does) (?:anyone|you) know|"
    r"tell me|i (?:want|need|would like) to know|i wonder|any idea|explain)\b\s*",
    re.I,
)
_TRUE = re.compile(
    r"^(?:is it (?:true|correct|right|the case|a fact)|(?:is it )?true or false|"
    r"am i right|is this (?:true|right|correct)|did i hear (?:right|correctly))\b",
    re.I,
)
# What a "what does X say/think" question asks for is a view, not a value.
_VIEW_VERBS = frozenset(
    "say says said think thinks thought argue argues argued write writes wrote claim claims "
    "believe believes suggest suggests recommend recommends propose proposes mean means "
    "want wants feel feels describe describes call calls see sees view views predict "
    "predicts expect expects warn warns conclude concludes".split()
)
_AUTHOR_RE = re.compile(
    r"\b(wrote|written|writer|penned|(?:co-?)?authou?r(?:s|ed)?|byline)\b", re.I
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_COUNT_STOP = frozenset(
    "are were was is did do does have has had will would can could long wide large in on of "
    "at by for from to".split()
)
_MONEY_CUE = re.compile(
    r"\b(spen[dt]|spending|costs?|costing|worth|monetary|price[ds]?|paid|pay|budget(ed)?|"
    r"invest(ed|ment)?|fund(ed|ing)?|dollars?|euros?|financ(e|ed|ing)|money|aid)\b",
    re.IGNORECASE,
)

HeadTyper = Callable[[str], str | None]  # head noun -> kind name (or None: no kind is close)
Tagger = Callable[[str], list[tuple[str, str]]]  # text -> (word, Penn part-of-speech tag)


@dataclass(frozen=True)
class Expectation:
    """The kind of value that answers a question, and how precise it must be."""

    labels: frozenset[str] = frozenset()  # spaCy entity labels that would answer it
    pattern: re.Pattern[str] | None = None  # fallback for entities spaCy missed
    counted: str | None = None  # "how many <prisoners>": the count must stand next to it
    precise: re.Pattern[str] | None = None  # what the answering value must look like
    form: Form = Form.OTHER
    wh: str | None = None  # the question word ("who", "how many", "which", ...)
    head: str | None = None  # "which <clergyman>": the noun naming what is asked for
    strict: bool = True  # only sentences holding such a value may answer (else: ranked first)
    # What an answer must be an instance of, by meaning: "which <energy field>", "the name of
    # <the peace text>". Set where the kind is read from a noun, not for dates and numbers.
    target: str | None = None

    @property
    def wants_date(self) -> bool:
        """Whether a point in time is asked for ("when", "what year")."""
        return self.pattern is DATE_RE


def words_of(text: str) -> list[str]:
    """Lower-case words, contractions split ("who's" -> "who", "is")."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        if w.endswith("'s") and w[:-2] in _WH:
            out += [w[:-2], "is"]
        elif w.endswith("n't"):
            out += [w[:-3] or w, "not"]
        else:
            out.append(w)
    return out


def _body(text: str) -> str:
    text = text.strip()
    for _ in range(3):  # "ok so tell me ..."
        words = text.split(maxsplit=1)
        if words and words[0].lower().strip(",.!") in _LEAD:
            text = words[1] if len(words) > 1 else ""
            continue
        new = _ASK.sub("", text)
        if new == text:
            break
        text = new
    return text


def counted_noun(words: list[str]) -> str | None:
    """The head noun of "how many X ..." (stemmed): the noun phrase ends at a function word or
    a past-tense verb ("people fled", "soldiers killed"); English noun phrases end in their head."""
    for i in range(len(words) - 1):
        if words[i] == "how" and words[i + 1] == "many":
            phrase: list[str] = []
            for word in words[i + 2 : i + 6]:
                if word in _COUNT_STOP or (phrase and word.endswith("ed")):
                    break
                phrase.append(word)
            return stem(phrase[-1]) if phrase else None
    return None


def _amount_verb(words: list[str], typer: HeadTyper, tags: Tagger) -> Expectation | None:
    """ "what did <the repair> cost", "what does <it> weigh": the question's last verb, when
    its meaning is an amount, asks for a number (of money, for "cost")."""
    tagged = tags(" ".join(words))
    verbs = [w.lower() for w, tag in tagged[1:] if tag.startswith("VB")]
    # the tagger, on lower-case chat text, often reads the closing "cost" as a noun: the last
    # word counts too, unless a determiner makes it one ("... say about the <price>")
    if len(words) > 1 and words[-2].lower() not in _DETERMINERS:
        verbs.append(words[-1].lower())
    kind = next((k for k in map(typer, dict.fromkeys(verbs)) if k in ("money", "number")), None)
    if kind == "money":
        return Expectation(
            KINDS[kind][0], NUMBER_RE, precise=MONEY_RE, form=Form.VALUE, wh="what", strict=False
        )
    if kind == "number":
        return Expectation(KINDS[kind][0], NUMBER_RE, form=Form.VALUE, wh="what", strict=False)
    return None


def _head_after(words: list[str], start: int, tags: Tagger) -> str:
    """The noun phrase's head with the noun before it ("which azeri news site ..." -> "news
    site"), from part-of-speech tags; "" when no noun follows."""
    rest = " ".join(words[start : start + 8])
    compound: list[str] = []
    for word, tag in tags(rest):
        if tag.startswith("NN"):
            compound.append(word.lower())
        elif tag in ("JJ", "JJR", "JJS", "CD", "DT", "PRP$", "HYPH", "VBN") and not compound:
            continue
        else:
            break
    return " ".join(compound[-2:])


def expectation(
    text: str,
    typer: HeadTyper | None = None,
    tags: Tagger | None = None,
) -> Expectation:
    """What kind of value answers ``text`` (empty labels: any sentence may)."""
    body = _body(text)
    words = words_of(body)
    if not words:
        return Expectation()
    unit = _stated_unit(words)
    if unit is not None and not _TRUE.match(body) and words[0] not in _AUX:
        # "what bandwidth, in gigabits per second, ...": a number in that unit
        return Expectation(NUMBERS, NUMBER_RE, unit, form=Form.VALUE, wh="unit")
    if _TRUE.match(body) or words[0] in _AUX:
        return Expectation(form=Form.YES_NO, wh="yes/no")
    wh_at = next((i for i, w in enumerate(words) if w in _WH), None)
    if wh_at is None:
        return Expectation()
    wh, nxt = words[wh_at], words[wh_at + 1] if wh_at + 1 < len(words) else ""
    if wh in ("who", "whom", "whose"):
        if asks_about_author(body):  # "who wrote ...": a byline names a person
            return Expectation(frozenset({"PERSON"}), form=Form.VALUE, wh=wh)
        if _WHO_IS_NAME.match(body):  # "who is Pashinyan": what the sources say he is
            return Expectation(form=Form.DESCRIBE, wh=wh)
        role = _role_after_copula(words, wh_at, tags)
        if role and typer is not None and typer(role) == "person":
            return Expectation(frozenset({"PERSON"}), form=Form.VALUE, wh=wh, head=role)
        return Expectation(AGENTS, form=Form.VALUE, wh=wh, head=role or None)
    if wh == "when":
        return Expectation(TIMES, DATE_RE, form=Form.VALUE, wh=wh)
    if wh == "where":
        return Expectation(PLACES, form=Form.VALUE, wh=wh)
    if wh == "why":
        return Expectation(form=Form.REASON, wh=wh, pattern=REASON_RE)
    if wh == "how":
        return _how(words, wh_at, nxt, body, tags)
    # which / what
    if (nxt in _AUX or nxt in _COPULA) and any(w in _ACTIVITY for w in words[wh_at + 2 :]):
        return Expectation(form=Form.DESCRIBE, wh=wh)  # "what is the EU doing in Armenia"
    if nxt in _AUX or nxt in _COPULA:
        after = words[wh_at + 2 : wh_at + 4]
        if nxt in ("does", "do", "did") and any(w in _VIEW_VERBS for w in words[wh_at + 2 :]):
            return Expectation(form=Form.DESCRIBE, wh=wh)
        if nxt in ("does", "do", "did") and typer is not None and tags is not None:
            amount = _amount_verb(words[wh_at + 2 :], typer, tags)
            if amount is not None:  # "what did the repair cost": an amount
                return amount
        if nxt in _COPULA and after[:1] in (["the"], ["its"], ["their"]):
            start = wh_at + 3
        else:
            return Expectation(form=Form.DESCRIBE, wh=wh)
    else:
        start = wh_at + 1
        if words[start : start + 2] in (["kind", "of"], ["type", "of"], ["sort", "of"]):
            start += 2
    head = _head_after(words, start, tags) if tags is not None else ""
    if not head:
        return Expectation(form=Form.DESCRIBE, wh=wh)
    return _typed(head, typer, wh, body)


_TIME_UNITS = frozenset("hour hours day days week weeks month months year years".split())


def _stated_unit(words: list[str]) -> str | None:
    """The unit an answer is asked in ("... in kilometres", "in gigabits per second")."""
    for i in range(len(words) - 1):
        unit = words[i + 1]
        if words[i] == "in" and unit not in _TIME_UNITS and unit_of(unit) is not None:
            return stem(unit)
    return None


# "who is Nikol Pashinyan": a name alone after the copula asks what the person is
_WHO_IS_NAME = re.compile(
    r"^\s*who(?:['’]s|\s+(?:is|was|are|were))\s+(?:[A-Z][\w.'’-]*\s*){1,4}[?.!]*\s*$"
)
# what ... is X doing / did X do / happened: an account of events, not one value
_ACTIVITY = frozenset("do doing done happen happening happened".split())


def _role_after_copula(words: list[str], at: int, tags: Tagger | None) -> str:
    """ "who is the <chief executive> of X": the role noun, if the question names one."""
    if tags is None or at + 2 >= len(words) or words[at + 1] not in _COPULA:
        return ""
    if words[at + 2] not in ("the", "its", "their") and not words[at + 2].endswith("'s"):
        return ""
    return _head_after(words, at + 3, tags)


def _how(words: list[str], at: int, nxt: str, body: str, tags: Tagger | None) -> Expectation:
    if nxt == "many":
        counted = counted_noun(words)
        if tags is not None:  # "how many people live ...": the tagger knows "live" is a verb
            head = _head_after(words, at + 2, tags)
            counted = stem(head.split()[-1]) if head else counted
        return Expectation(NUMBERS, NUMBER_RE, counted, form=Form.VALUE, wh="how many")
    if nxt == "much":
        if _MONEY_CUE.search(body):
            return Expectation(
                frozenset({"MONEY"}), NUMBER_RE, precise=MONEY_RE, form=Form.VALUE, wh="how much"
            )
        return Expectation(NUMBERS, NUMBER_RE, form=Form.VALUE, wh="how much")
    if nxt == "long":  # a duration ("forty-four days") or a length ("12 kilometres")
        return Expectation(
            NUMBERS | TIMES, SPAN_RE, precise=SPAN_RE, form=Form.VALUE, wh="how long"
        )
    if nxt in ("old", "soon", "often"):
        return Expectation(NUMBERS | TIMES, NUMBER_RE, form=Form.VALUE, wh=f"how {nxt}")
    if nxt in ("far", "big", "large", "wide", "high", "deep", "fast", "quick", "quickly"):
        return Expectation(NUMBERS | TIMES, NUMBER_RE, form=Form.VALUE, wh=f"how {nxt}")
    return Expectation(form=Form.DESCRIBE, wh="how")


def _typed(phrase: str, typer: HeadTyper | None, wh: str, body: str) -> Expectation:
    """ "which <head>": the labels of the head noun's kind, with the precision it implies.

    The kind comes from the compound ("news site") or else the head noun ("site"); a kind read
    from meaning can be wrong, so it ranks candidates but doesn't exclude them (strict=False).
    """
    head = phrase.split()[-1]
    if head in ("date", "dates", "day", "days"):
        return Expectation(TIMES, DATE_RE, precise=DAY_RE, form=Form.VALUE, wh=wh, head=head)
    if head == "month":
        return Expectation(TIMES, DATE_RE, precise=MONTH_RE, form=Form.VALUE, wh=wh, head=head)
    if head == "year":
        return Expectation(TIMES, DATE_RE, form=Form.VALUE, wh=wh, head=head)
    if head in ("name", "names", "title", "titles"):
        named = _named_thing(body, head)
        return Expectation(NAMED, form=Form.VALUE, wh=wh, head=head, target=named)
    if unit_of(head) is not None:  # "what percent of ...": a number in that unit
        return Expectation(NUMBERS, NUMBER_RE, stem(head), form=Form.VALUE, wh=wh, head=head)
    kind = None
    if typer is not None:
        kind = typer(phrase) if phrase != head else None
        kind = kind or typer(head)
    if kind is None:
        return Expectation(form=Form.VALUE, wh=wh, head=head, target=phrase)
    if kind == "number" and _MONEY_CUE.search(body):
        kind = "money"  # "what figure did the port spend": an amount of money
    patterns = {"number": NUMBER_RE, "money": NUMBER_RE, "time": DATE_RE, "document": NUMBERED_RE}
    return Expectation(
        KINDS[kind][0],
        patterns.get(kind),
        precise=MONEY_RE if kind == "money" else None,
        form=Form.VALUE,
        wh=wh,
        head=head,
        strict=False,
        target=phrase if kind not in ("number", "money", "time") else None,
    )


_OF_END = frozenset(
    "that which who whom they he she it we you in on at for by with from to is are was were "
    "did does do has have had will would and or but as than when where after before".split()
)


def _named_thing(body: str, head: str) -> str | None:
    """ "what is the name of the peace text they initialed": what the name names ("peace
    text"), the words after "of" up to the clause that follows."""
    words = words_of(body)
    for i, word in enumerate(words[:-2]):
        if stem(word) == stem(head) and words[i + 1] == "of":
            phrase: list[str] = []
            for w in words[i + 2 : i + 8]:
                if w in ("the", "a", "an", "its", "their", "this", "that") and not phrase:
                    continue
                if w in _OF_END:
                    break
                phrase.append(w)
            return " ".join(phrase) or None
    return None


def asks_about_author(question: str) -> bool:
    """ "Who wrote ...": bylines and author notes are the evidence."""
    return bool(_AUTHOR_RE.search(question))
