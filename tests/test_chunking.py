"""Chunks by their properties: size bound in tokens, offsets, sentence overlap, coverage."""

from __future__ import annotations

import pytest

from rag.chunking import SpacySplitter, get_encoding, process_document
from rag.documents import Document, load_documents

from .conftest import DATA, SEEDS


@pytest.fixture(scope="module")
def seed_docs() -> list[Document]:
    return load_documents([SEEDS])


@pytest.mark.parametrize(("max_tokens", "overlap"), [(180, 40), (96, 24), (400, 0)])
def test_chunk_properties_on_seeds(
    seed_docs: list[Document], max_tokens: int, overlap: int
) -> None:
    splitter = SpacySplitter()
    enc = get_encoding("cl100k_base")
    for doc in seed_docs:
        raw = open(SEEDS / doc.doc_id, encoding="utf-8").read()
        sentences, chunks = process_document(doc, splitter, max_tokens, overlap, "cl100k_base")
        assert chunks, doc.doc_id
        for chunk in chunks:
            assert raw[chunk.start : chunk.end] == chunk.text  # offsets round-trip
            assert chunk.n_tokens == len(enc.encode(chunk.text))
            assert chunk.n_tokens <= max_tokens
            assert chunk.doc_id == doc.doc_id
        for sent in sentences:
            assert raw[sent.start : sent.end].strip() == raw[sent.start : sent.end]
        # Every sentence lands in at least one chunk; chunks advance through the text.
        covered = {sid for c in chunks for sid in c.sentence_ids}
        assert covered == {s.sent_id for s in sentences}
        starts = [c.start for c in chunks if c.section == "content"]
        assert starts == sorted(starts)


def test_overlap_is_whole_sentences_within_budget(seed_docs: list[Document]) -> None:
    splitter = SpacySplitter()
    enc = get_encoding("cl100k_base")
    doc = seed_docs[0]
    sentences, chunks = process_document(doc, splitter, 120, 40, "cl100k_base")
    by_id = {s.sent_id: s for s in sentences}
    overlaps = 0
    for a, b in zip(chunks, chunks[1:], strict=False):
        shared = set(a.sentence_ids) & set(b.sentence_ids)
        if shared:
            overlaps += 1
            tokens = sum(len(enc.encode(doc.text[by_id[s].start : by_id[s].end])) for s in shared)
            assert tokens <= 40
    assert overlaps > 0


def test_markdown_and_text_documents_chunk(tmp_path: object) -> None:
    docs = load_documents([DATA])
    assert {d.doc_id for d in docs} == {"harbor_bridge.txt", "river_park.md"}
    park = next(d for d in docs if d.doc_id == "river_park.md")
    assert park.meta.publisher == "City Bulletin" and park.meta.date_estimated
    _, chunks = process_document(park, SpacySplitter(), 180, 40, "cl100k_base")
    assert {c.heading for c in chunks} >= {"Funding", "Opposition"}
    assert not any("#" in c.text for c in chunks)
