"""The calendar words every stage shares: one month table and the date patterns built on it."""

from __future__ import annotations

import re

MONTHS: tuple[str, ...] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_NUMBER: dict[str, int] = {m: i for i, m in enumerate(MONTHS, start=1)}
MONTH_ALTERNATION = "|".join(MONTHS)  # for building patterns: "january|february|..."
# Month names as dates are written in text: "Sept. 19", "Jan 10" as well as "January 10".
_MONTH_WORD = MONTH_ALTERNATION + r"|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"

# A year or a month name: what "when" questions are answered with.
DATE_RE = re.compile(rf"\b((1[89]|20)\d\d|{MONTH_ALTERNATION})\b", re.IGNORECASE)
# A day: "June 22", "22 June", "19-20 April", "2026-06-22".
DAY_RE = re.compile(
    rf"\b(?:{_MONTH_WORD})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:\s*[-–]\s*\d{{1,2}}(?:st|nd|rd|th)?)?\s+(?:of\s+)?(?:{_MONTH_WORD})(?!\w)"
    r"|\b\d{4}-\d\d-\d\d\b",
    re.IGNORECASE,
)
MONTH_RE = re.compile(rf"\b(?:{MONTH_ALTERNATION})\b", re.IGNORECASE)


def display_date(iso: str | None, estimated: bool = False) -> str:
    """'22 June 2026' for '2026-06-22', or 'c. June 2026' when the date is an estimate."""
    if not iso:
        return "undated"
    parts = iso.split("-")
    try:
        year = parts[0]
        month = MONTHS[int(parts[1]) - 1].capitalize() if len(parts) > 1 else ""
        day = str(int(parts[2])) if len(parts) > 2 and not estimated else ""
    except (ValueError, IndexError):
        return iso
    text = " ".join(p for p in (day, month, year) if p)
    return f"c. {text}" if estimated else text
