"""When a sentence says something happened: its date expression, parsed with dateparser.

The expression is found in the sentence's own text ("on April 19", "in May 2024", "in 2023",
"last month", "this November") and parsed by dateparser against the source's date, so a date
without a year, or a relative one, resolves to the most recent such date before the source was
published, and is marked estimated. Precision is what the sentence gives: "2024" stays a year,
"May 2024" a month, "April 19" a day; "last week" is a month (dateparser's week is no day).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rag.dates import MONTH_ALTERNATION

_MONTH = MONTH_ALTERNATION + r"|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\."
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]|20)\d\d"
_RANGE = rf"(?:\s*[-–]\s*{_DAY})?"  # "June 27-29": the first day stands for the range
EXPRESSION = re.compile(
    rf"(?P<mdy>\b(?:{_MONTH})\s+{_DAY}{_RANGE}(?:,?\s+{_YEAR})?\b)"
    rf"|(?P<dmy>\b{_DAY}{_RANGE}\s+(?:of\s+)?(?:{_MONTH})(?:,?\s+{_YEAR})?\b)"
    rf"|(?P<my>\b(?:(?:early|mid|late)[- ])?(?:{_MONTH})(?:\s+of)?,?\s+{_YEAR}\b)"
    rf"|(?P<y>\b(?:(?:early|mid|late)[- ]|the\s+end\s+of\s+)?"
    rf"(?<![$€£\d,.]){_YEAR}(?![\d,]\d|s\b|-\d))"
    rf"|(?P<m>\b(?:in|by|since|during|until|from|on|of|this|last|next|(?:early|mid|late)-?)\s+"
    rf"(?:(?:early|mid|late)[- ])?(?:{_MONTH})\b(?!\s+\d))"
    r"|(?P<rel>\b(?:last|this|past)\s+(?:week|month|year)\b|\bearlier\s+this\s+(?:year|month)\b"
    r"|\byesterday\b|\btoday\b)",
    re.IGNORECASE,
)
# A bare year dates a happening when it follows a preposition of time ("in 2024", "since
# 1993", "by mid-2025"); before a noun it names something ("the 2020 war").
_TIME_WORDS = frozenset(
    "in since by during until till from of on after before throughout around circa between "
    "through early mid late".split()
)


def _dates_a_happening(expression: str, before: str) -> bool:
    if re.match(r"(?:early|mid|late|the\s+end)", expression, re.IGNORECASE):
        return True
    words = re.findall(r"[A-Za-z]+", before[-24:])
    if not before.strip():
        return True  # "April 19: the commissions met" opens the sentence
    return bool(words) and words[-1].lower() in _TIME_WORDS


_STRIP = re.compile(r"^(?:in|by|since|during|until|from|on|of|this|the\s+end\s+of)\s+", re.I)
_PART = re.compile(r"\b(?:early|mid|late)[- ]?", re.I)


@dataclass(frozen=True)
class EventDate:
    """A date as a sentence states it."""

    date: str  # YYYY-MM-DD, YYYY-MM or YYYY
    precision: str  # "day", "month" or "year"
    estimated: bool  # the year (or the whole date) was inferred from the source's date
    start: int  # the expression's offsets in the sentence
    end: int

    @property
    def sort_key(self) -> tuple[str, int]:
        """Chronological order; a coarser date sorts after the finer ones it contains."""
        return (self.date.ljust(10, "~"), {"day": 0, "month": 1, "year": 2}[self.precision])


@lru_cache(maxsize=64)
def _parser(base: dt.datetime) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(
        languages=["en"],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"},
    )


def _base(published: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(published) if published else None
    except ValueError:
        return None


def dates_in(text: str, published: str | None) -> list[EventDate]:
    """Every date expression in ``text`` that parses, in text order; ``published`` (the source's
    ISO date) resolves partial and relative ones. Dates after ``published`` are left out: a
    source can only report what happened by the time it was written."""
    return list(_dates_in(text, published))


@lru_cache(maxsize=16384)  # a sentence's dates are read again by every timeline it falls in
def _dates_in(text: str, published: str | None) -> tuple[EventDate, ...]:
    base = _base(published)
    out = []
    for match in EXPRESSION.finditer(text):
        kind = match.lastgroup or ""
        attributive = kind == "y" or (
            kind in ("mdy", "dmy") and not re.search(_YEAR, match.group(0))
        )
        if attributive and not _dates_a_happening(match.group(0), text[: match.start()]):
            continue  # "the 2020 war", "the November 9 statement": a name, not a when
        found = _parse(match.group(0), kind, base)
        if found is None:
            continue
        date, precision, estimated = found
        if published and date > published[: len(date)]:
            continue  # a plan or forecast, not a happening
        out.append(EventDate(date, precision, estimated, match.start(), match.end()))
    return tuple(out)


def _parse(expression: str, kind: str, base: dt.datetime | None) -> tuple[str, str, bool] | None:
    words = _STRIP.sub("", expression.strip())
    words = re.sub(r"\bend\s+of\s+", "", words, flags=re.I)
    words = _PART.sub("", words)  # "mid-May", "late 2023": the month or year it falls in
    words = re.sub(rf"({_DAY})\s*[-–]\s*{_DAY}", r"\1", words, flags=re.I)  # a range's start
    words = re.sub(r"\bof\s+", "", words, flags=re.I).strip(" ,")
    if kind == "y":
        return (words, "year", False) if re.fullmatch(_YEAR, words) else None
    if kind in ("m", "rel") or (kind in ("mdy", "dmy") and not re.search(_YEAR, words)):
        if base is None:
            return None  # no source date to place it against
        if kind == "rel" and re.search(r"earlier\s+this|this\s+year|past\s+year", words, re.I):
            return (str(base.year), "year", True)
        if kind == "rel" and re.search(r"this\s+month", words, re.I):
            return (f"{base.year:04d}-{base.month:02d}", "month", True)
        words = re.sub(r"^(?:this|last|next)\s+(?=[A-Za-z]{3})(?!week|month|year)", "", words)
    data = _parser(base or dt.datetime(2100, 1, 1)).get_date_data(words)
    when = data.date_obj
    if when is None:
        return None
    precision = {"day": "day", "month": "month", "year": "year", "week": "month"}.get(
        data.period or "", "day"
    )
    estimated = kind in ("m", "rel") or not re.search(_YEAR, words)
    if kind in ("my", "m") and precision == "day":
        precision = "month"
    iso = when.date().isoformat()
    return ({"day": iso, "month": iso[:7], "year": iso[:4]}[precision], precision, estimated)
