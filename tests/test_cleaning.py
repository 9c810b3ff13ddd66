"""Page debris is labelled, never chunked; offsets always index the original file."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import SpacySplitter, process_document
from rag.cleaning import CITABLE_SECTIONS, label_blocks
from rag.documents import load_documents

from .conftest import DATA, SEEDS

# Debris that appears in the seed pages; none of it may reach a chunk.
DEBRIS = [
    "Listen to the article",
    "Subscribe",
    "Continue reading",
    "Discover more from",
    "uses cookies",
    "Comments are closed",
    "Leave a Reply",
    "will not be published",
    "Jesus",
    "See PDF version here",
    "Read more",
    "Mr Sevan you have made",  # reader comment
    "Nikol dreamed of abandoning",  # reader comment
    "outspoken supporter of Putin",  # reader comment
    "Cyber Diplomacy · Digital Infrastructure",  # tag line
]


@pytest.fixture(scope="module")
def seed_chunks() -> list[tuple[str, str, str]]:
    splitter = SpacySplitter()
    out = []
    for doc in load_documents([SEEDS]):
        sentences, chunks = process_document(doc, splitter, 180, 40, "cl100k_base")
        out += [(doc.doc_id, c.text, c.section) for c in chunks]
        out += [(doc.doc_id, doc.text[s.start : s.end], s.section) for s in sentences]
    return out


def test_author_bios_are_labelled_never_plain_content(
    seed_chunks: list[tuple[str, str, str]],
) -> None:
    bios = [
        (doc_id, text) for doc_id, text, section in seed_chunks if "is a defense analyst" in text
    ]
    assert bios
    assert all(
        section == "bio"
        for _, text, section in seed_chunks
        if "is a defense analyst" in text or "associate professor" in text
    )


@pytest.mark.parametrize("debris", DEBRIS)
def test_no_debris_in_any_seed_chunk(seed_chunks: list[tuple[str, str, str]], debris: str) -> None:
    offenders = [doc_id for doc_id, text, _ in seed_chunks if debris in text]
    assert offenders == [], f"{debris!r} leaked into chunks of {offenders}"


def test_comments_are_labelled_in_the_page_that_has_them() -> None:
    text = (SEEDS / "004_1b309d18163f8509.txt").read_text(encoding="utf-8")
    blocks = label_blocks(text)
    comments = [b for b in blocks if b.section == "comments"]
    assert len(comments) >= 5
    assert all(text[b.start : b.end] for b in comments)
    # The article's last paragraph stays content.
    last_content = max(b.end for b in blocks if b.section == "content")
    assert text[:last_content].rstrip().endswith("than previously reckoned.")


def test_small_page_debris_rules_are_generic() -> None:
    text = (DATA / "harbor_bridge.txt").read_text(encoding="utf-8")
    labels = {text[b.start : b.end]: b.section for b in label_blocks(text)}
    assert labels["Listen to the article."] == "boilerplate"
    assert labels["By Maria Lopez · Coastal Times · coastaltimes.example"] == "byline"
    assert labels["Maria Lopez is a transport reporter at the Coastal Times."] == "bio"
    assert labels["Subscribe to get the latest posts sent to your email."] == "boilerplate"
    assert labels["Traffic and Tolls"] == "heading"
    assert (
        labels["The ferry operator added three routes this spring, easing pressure on the bridge."]
        == "related"
    )
    comment = "1. This bridge was a waste of money and the mayor should resign immediately."
    assert labels[comment] == "comments"
    cited = [s for s, lab in labels.items() if lab in CITABLE_SECTIONS]
    assert any(s.startswith("The Harbor Bridge reopened") for s in cited)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")) + sorted(DATA.glob("*.*")))
def test_block_offsets_index_the_file_as_stored(path: Path) -> None:
    if path.suffix == ".json":
        pytest.skip("metadata")
    text = path.read_text(encoding="utf-8")
    for block in label_blocks(text):
        piece = text[block.start : block.end]
        assert piece == piece.strip() and piece
