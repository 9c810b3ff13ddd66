"""Scoring compare and timeline questions: viewpoints and dated events against gold.

Metrics (names are part of the interface):
- viewpoint_source_recall: expected documents among the viewpoints, averaged over questions.
- viewpoint_precision: viewpoints whose quotes overlap that document's evidence sentences (the
  sentences on the subject), over all viewpoints returned.
- timeline_event_recall: gold events whose sentence an event cites, averaged over questions.
- timeline_date_accuracy: matched events whose date and precision equal the gold ones.
- timeline_order_accuracy: pairs of matched events, in the order returned, whose gold dates are
  in that order (pairs whose dates overlap, e.g. 2024 and 2024-05, are not counted).
- perspective_detected: questions answered with viewpoints / a timeline at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eval.question_set import GoldEvent, Question
from eval.scoring import overlap
from rag.schemas import AskResponse, Citation


@dataclass
class Scored:
    """One compare or timeline question's outcome."""

    q: Question
    response: AskResponse
    detected: bool
    counts: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Per-question record for the JSON report."""
        r = self.response
        return {
            "id": self.q.id,
            "type": self.q.type,
            "split": self.q.split,
            "question": self.q.question,
            "detected": self.detected,
            "answer": r.answer,
            "viewpoints": [v.model_dump() for v in r.viewpoints or []],
            "timeline": [
                {
                    "date": e.date,
                    "precision": e.date_precision,
                    "doc": e.citation.doc_id,
                    "quote": e.citation.quote[:160],
                }
                for e in r.timeline or []
            ],  # fmt: skip
            **self.counts,
        }


def find(text: str, quote: str) -> tuple[int, int] | None:
    """The quote's offsets in the text (whitespace may differ)."""
    pos = text.find(quote)
    if pos >= 0:
        return pos, pos + len(quote)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else None


def _hits(c: Citation, doc: str, quote: str, texts: dict[str, str]) -> bool:
    if c.doc_id != doc:
        return False
    span = find(texts.get(doc, ""), quote)
    return span is not None and overlap(c.start, c.end, *span) > 0


def score_compare(q: Question, response: AskResponse, texts: dict[str, str]) -> Scored:
    """Source recall and the on-subject share of one compare answer."""
    views = response.viewpoints or []
    expected = q.doc_ids()
    evidence = q.evidence if isinstance(q.evidence, dict) else {}
    by_id = {c.id: c for c in response.citations}
    shown = {v.doc_id for v in views}
    precise = 0
    for v in views:
        quotes = [by_id[i] for i in v.citation_ids if i in by_id]
        if any(_hits(c, v.doc_id, ev, texts) for c in quotes for ev in evidence.get(v.doc_id, [])):
            precise += 1
    return Scored(
        q,
        response,
        detected=response.viewpoints is not None,
        counts={
            "source_recall": len(shown & set(expected)) / len(expected) if expected else 0.0,
            "viewpoints": float(len(views)),
            "precise_viewpoints": float(precise),
        },
    )


def _interval(date: str) -> tuple[str, str]:
    """First and last day a YYYY / YYYY-MM / YYYY-MM-DD date covers, as comparable strings."""
    first = {4: f"{date}-01-01", 7: f"{date}-01"}.get(len(date), date)
    return first, date.ljust(10, "~")  # "~" sorts after every digit and "-"


def _ordered(a: GoldEvent, b: GoldEvent) -> bool | None:
    """True if a is before b, False if after, None if their dates overlap."""
    a0, a1 = _interval(a.date)
    b0, b1 = _interval(b.date)
    if a1 < b0:
        return True
    if b1 < a0:
        return False
    return None


def score_timeline(q: Question, response: AskResponse, texts: dict[str, str]) -> Scored:
    """Event recall, date accuracy and order accuracy of one timeline answer."""
    shown = response.timeline or []
    matched: list[tuple[int, GoldEvent, bool]] = []  # (position, gold, date right)
    found_gold: set[int] = set()
    for pos, event in enumerate(shown):
        cites = [event.citation, *event.also_reported_by]
        for gi, gold in enumerate(q.events):
            if any(_hits(c, gold.doc, gold.evidence, texts) for c in cites):
                right = (event.date, event.date_precision) == (gold.date, gold.precision)
                matched.append((pos, gold, right))
                found_gold.add(gi)
                break
    pairs = good = 0
    for i in range(len(matched)):
        for j in range(i + 1, len(matched)):
            order = _ordered(matched[i][1], matched[j][1])
            if order is not None:
                pairs += 1
                good += int(order)
    return Scored(
        q,
        response,
        detected=response.timeline is not None,
        counts={
            "event_recall": len(found_gold) / len(q.events) if q.events else 0.0,
            "events": float(len(shown)),
            "matched_events": float(len(matched)),
            "right_dates": float(sum(1 for _, _, right in matched if right)),
            "ordered_pairs": float(pairs),
            "right_pairs": float(good),
        },
    )


def perspective_metrics(scored: list[Scored]) -> dict[str, float]:
    """The compare and timeline metrics (empty when the set has no such questions)."""
    compare = [s for s in scored if s.q.type == "compare"]
    timeline = [s for s in scored if s.q.type == "timeline"]
    out: dict[str, float] = {}
    if compare:
        views = sum(s.counts["viewpoints"] for s in compare)
        out["viewpoint_source_recall"] = sum(s.counts["source_recall"] for s in compare) / len(
            compare
        )
        out["viewpoint_precision"] = (
            sum(s.counts["precise_viewpoints"] for s in compare) / views if views else 0.0
        )
        out["viewpoints_detected"] = sum(s.detected for s in compare) / len(compare)
    if timeline:
        matched = sum(s.counts["matched_events"] for s in timeline)
        pairs = sum(s.counts["ordered_pairs"] for s in timeline)
        out["timeline_event_recall"] = sum(s.counts["event_recall"] for s in timeline) / len(
            timeline
        )
        out["timeline_date_accuracy"] = (
            sum(s.counts["right_dates"] for s in timeline) / matched if matched else 0.0
        )
        out["timeline_order_accuracy"] = (
            sum(s.counts["right_pairs"] for s in timeline) / pairs if pairs else 0.0
        )
        out["timeline_detected"] = sum(s.detected for s in timeline) / len(timeline)
    return {k: round(v, 4) for k, v in out.items()}


def perspective_report(scored: list[Scored]) -> dict[str, Any]:
    """The JSON report's part: metrics per split and every question's record."""
    splits = {"all": scored} | {
        split: [s for s in scored if s.q.split == split] for split in ("tune", "test")
    }
    return {
        "by_split": {name: perspective_metrics(group) for name, group in splits.items() if group},
        "results": [s.to_json() for s in scored],
    }


def perspective_markdown(scored: list[Scored]) -> str:
    """The Markdown report's part: the metrics per split."""
    by_split = perspective_report(scored)["by_split"]
    names = sorted({k for m in by_split.values() for k in m})
    lines = [
        "",
        "## Compare and timeline questions",
        "",
        "| metric | " + " | ".join(by_split) + " |",
        "|---|" + "---|" * len(by_split),
    ]
    for name in names:
        values = " | ".join(f"{m.get(name, 0):.3f}" for m in by_split.values())
        lines.append(f"| {name} | {values} |")
    return "\n".join(lines) + "\n"
