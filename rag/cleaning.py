"""Label the lines of scraped text: article content vs. page debris.

Nothing is deleted or rewritten: each line becomes a ``Block`` with offsets into the original
text and a ``section`` label, so citations keep pointing at the file exactly as stored. The
rules are generic (UI phrases, comment-form markers, bylines, bios, teaser lists), not per-file.

Sections:
- ``content``: the article's own prose.
- ``caption``: a long line that is not a sentence (image captions, credits) - the outlet's words.
- ``related``: teaser lists of other articles ("Also see", "Selected ... analysis").
- ``heading``: short title-like lines; used as section names, never cited.
- ``byline``: "By ..." lines; cited only for authorship, attributed as the byline.
- ``bio``: author notes ("X is a professor at ..."); citable only as facts about the author,
  and always attributed as the author note.
- ``boilerplate``: UI debris (listen, subscribe, cookies, tags, stray lines after the article).
- ``comments``: reader comments; never presented as the author's claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.dates import DAY_RE, MONTH_RE

CITABLE_SECTIONS = frozenset({"content", "caption", "related", "bio", "byline"})

_UI_PATTERNS = [
    r"listen to (the|this) (article|story)",
    r"\bsubscribe\b",
    r"continue reading",
    r"^discover more from",
    r"\bcookies?\b.*\b(accept|opt[- ]out|consent|experience)",
    r"^comments are (closed|disabled)",
    r"^leave a (reply|comment)",
    r"your email address will not be published",
    r"^see (the )?pdf version",
    r"^for more .{0,60}\bcoverage\b",
    r"^(image|photo|photograph|picture|credit)s?\s*:",
    r"^(share|print|email|tweet)( this)?( article| story)?$",
    r"^(advertisement|sponsored)$",
    r"^all rights reserved",
    r"^sign up\b",
    r"^read more\.?$",
    r"^(page|p\.)\s*\d+(\s*(of|/)\s*\d+)?$",  # PDF page footers
]
_UI_RE = re.compile("|".join(f"(?:{p})" for p in _UI_PATTERNS), re.IGNORECASE)
_RELATED_START_RE = re.compile(
    r"^(also see|see also|related( articles| posts| stories)?|more from\b.*|read next|"
    r"recommended( for you)?)\s*:?$|^selected\b.{0,80}\b(analysis|articles|coverage|reading)\b",
    re.IGNORECASE,
)
_COMMENT_MARKER_RE = re.compile(
    r"^(leave a (reply|comment)|comments are (closed|disabled)|\d+\s+(comments?|responses?|"
    r"replies)|join the (discussion|conversation)|add a comment)\b",
    re.IGNORECASE,
)
_BYLINE_RE = re.compile(r"^by\s+[A-Z]", re.IGNORECASE)
_BIO_RE = re.compile(
    r"^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3}\s+(?:is|was|serves as)\s+(?:an?|the)\s",
)
_NAME_LINE_RE = re.compile(r"^[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3}$")
_DATE_LINE_RE = re.compile(
    rf"^(?:(?:{DAY_RE.pattern})|(?:{MONTH_RE.pattern}))[\s,]*(?:19|20)\d\d$", re.IGNORECASE
)
_SENTENCE_END_RE = re.compile(r"[.!?…][\"”’')\]]*$")
_TEASER_GLUE_RE = re.compile(r"^read more(?=[A-Z])")
_HEADING_MARK_RE = re.compile(r"^(read more(?=[A-Z])|#+\s*)", re.IGNORECASE)
_TAG_SEPARATORS = (" · ", " | ", " • ")


@dataclass(frozen=True)
class Block:
    """One non-empty line of the original text, with its label."""

    start: int
    end: int
    section: str
    heading: str | None = None


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, indented) of each non-empty line, trimmed of surrounding whitespace."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            start = pos + lead
            out.append((start, start + len(stripped), lead > 0))
        pos += len(raw)
    return out


def _is_tag_line(line: str) -> bool:
    return any(line.count(sep) >= 2 for sep in _TAG_SEPARATORS) and not _SENTENCE_END_RE.search(
        line
    )


def _comment_region_start(lines: list[tuple[int, int, bool]], text: str) -> int | None:
    """Index of the first line of a reader-comments region, if the page has one.

    A comment-form marker ("Leave a Reply", "Comments are closed", "3 comments") ends the
    article; the indented run just above it (threaded comments) belongs to the comments too.
    """
    for i, (start, end, _) in enumerate(lines):
        if _COMMENT_MARKER_RE.search(text[start:end]):
            j = i
            while j > 0 and lines[j - 1][2]:
                j -= 1
            return j
    return None


def _is_byline_line(line: str, following: str) -> bool:
    """A person's name alone on its line, followed by a date line."""
    return bool(_NAME_LINE_RE.match(line.strip()) and _DATE_LINE_RE.match(following.strip()))


def label_blocks(text: str) -> list[Block]:
    """Split ``text`` into labelled line blocks (offsets index ``text``)."""
    lines = _lines(text)
    n = len(lines)
    comments_from = _comment_region_start(lines, text)
    labels: list[str] = []
    in_related = False
    for i, (start, end, _) in enumerate(lines):
        line = text[start:end]
        words = len(line.split())
        if comments_from is not None and i >= comments_from:
            label = "comments" if lines[i][2] else "boilerplate"
        elif _RELATED_START_RE.match(line):
            in_related = True
            label = "heading"
        elif words <= 30 and _BYLINE_RE.match(line):
            label = "byline"
        elif (words <= 25 and _UI_RE.search(line)) or _is_tag_line(line):
            label = "boilerplate"
        elif i > n * 0.6 and words <= 90 and _BIO_RE.match(line):
            label = "bio"
        elif _TEASER_GLUE_RE.match(line):
            label = "heading"  # "Read moreNext Article Title" in a teaser list
        elif not _SENTENCE_END_RE.search(line) and not (words >= 6 and line.endswith(":")):
            label = "heading" if words <= 20 else "caption"
        else:
            label = "related" if in_related else "content"
        labels.append(label)

    # A name alone on a line between a title and a date ("Onnik James Krikorian" / "August 12,
    # 2025") is the byline of the article it heads, as digests and listings print it.
    named = set()
    for i in range(1, n - 1):
        if (
            labels[i] == "heading"
            and labels[i - 1] == "heading"
            and _is_byline_line(
                text[lines[i][0] : lines[i][1]], text[lines[i + 1][0] : lines[i + 1][1]]
            )
        ):
            labels[i] = "byline"
            named.add(i)

    # Trailing short lines after the last piece of citable text are page furniture
    # (outlet name, slogans, image credits), not headings of anything.
    last_citable = max(
        (i for i, lab in enumerate(labels) if lab in CITABLE_SECTIONS - {"bio", "byline"}),
        default=-1,
    )
    for i in range(last_citable + 1, n):
        if labels[i] == "heading":
            labels[i] = "boilerplate"

    blocks: list[Block] = []
    heading_run: list[str] = []
    current_heading: str | None = None
    for i, ((start, end, _), label) in enumerate(zip(lines, labels, strict=True)):
        if label == "heading":
            heading_run.append(_HEADING_MARK_RE.sub("", text[start:end]))
            # A run of heading lines (title, author, date) is named by its longest line.
            current_heading = max(heading_run, key=len)
        elif i not in named:  # a byline inside the run leaves it whole
            heading_run = []
        blocks.append(Block(start, end, label, current_heading))
    return blocks
