"""Who wrote a source: bylines (also the bare name lines of digests) are kept as citable
sentences, open the passage they head, and answer "who wrote ..." for the source it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import SpacySplitter, process_document
from rag.cleaning import label_blocks
from rag.documents import load_documents
from rag.pipeline import Pipeline

DIGEST = (
    "Harbour Weekly Digest\n"
    "\n"
    "The port authority met on Monday to review the winter schedule for all ferry lines.\n"
    "Selected Analysis on the Harbour\n"
    "Ferry Fares Rise Again on the Northern Line\n"
    "Jonas Whitfield\n"
    "March 3, 2025\n"
    "Executive Summary:\n"
    "- Fares on the northern ferry line rose by a tenth, the third rise in two years.\n"
    "- Commuters say the line is now dearer than the bridge toll.\n"
    "Dredging Plan Delayed\n"
    "Amara Osei\n"
    "February 20, 2025\n"
    "Executive Summary:\n"
    "- The channel dredging was postponed until the environmental review is complete.\n"
)


def test_a_name_line_between_a_title_and_a_date_is_a_byline() -> None:
    blocks = {DIGEST[b.start : b.end]: b for b in label_blocks(DIGEST)}
    assert blocks["Jonas Whitfield"].section == "byline"
    assert blocks["Amara Osei"].section == "byline"
    assert blocks["March 3, 2025"].section == "heading"
    # the byline doesn't cut the heading run: the summary is still named by its title
    summary = blocks["- Commuters say the line is now dearer than the bridge toll."]
    assert summary.heading == "Ferry Fares Rise Again on the Northern Line"
    # a name in running text is no byline
    assert blocks["Selected Analysis on the Harbour"].section == "heading"


def test_a_byline_opens_the_passage_it_heads(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text(DIGEST, encoding="utf-8")
    (doc,) = load_documents([tmp_path])
    sentences, chunks = process_document(doc, SpacySplitter(), 180, 40, "cl100k_base")
    byline = next(s for s in sentences if doc.text[s.start : s.end] == "Jonas Whitfield")
    assert byline.section == "byline"
    (passage,) = [c for c in chunks if byline.sent_id in c.sentence_ids]
    assert passage.text.startswith("Jonas Whitfield")
    assert "dearer than the bridge toll" in passage.text
    assert passage.section == "related"  # the passage is its text's, not its byline's


@pytest.mark.parametrize(
    ("question", "author"),
    [
        ("who wrote the jamestown piece on the white house summit", "Onnik James Krikorian"),
        ("who wrote the jamestown article about the abu dhabi summit", "Vasif Huseynov"),
        ("who is the author of the armenian weekly op-ed", "Sevan Araz"),
        ("who authored the cyber diplomacy analysis", "Vladimir Tsakanyan"),
    ],
)
def test_who_wrote_is_answered_by_the_named_sources_byline(
    seed_pipeline: Pipeline, question: str, author: str
) -> None:
    response = seed_pipeline.ask(question)
    assert response.short_answer == author
    first = response.citations[0]
    assert first.section in ("byline", "bio") and author in first.quote


def test_a_source_without_a_byline_has_no_author_to_give(seed_pipeline: Pipeline) -> None:
    response = seed_pipeline.ask("who wrote the evn report article")
    assert response.abstained and response.short_answer is None
    assert "no byline" in response.answer
