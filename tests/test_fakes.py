"""The fakes tests stand on behave as documented."""

from __future__ import annotations

from rag.chunking import process_document
from rag.documents import load_documents

from .conftest import DATA
from .support import FakeSplitter


def test_fake_splitter_gives_sentence_offsets_and_entities() -> None:
    text = (
        "The Harbor Bridge reopened on 3 March 2025. City engineers replaced 312 cables!\n"
        "It cost 4.5 million dollars, said Mayor Ana Petrosyan"
    )
    split = FakeSplitter()(text)
    assert [text[s:e] for s, e, _ in split] == [
        "The Harbor Bridge reopened on 3 March 2025.",
        "City engineers replaced 312 cables!",
        "It cost 4.5 million dollars, said Mayor Ana Petrosyan",
    ]
    assert [entities for _, _, entities in split] == [
        [("ORG", "Harbor Bridge"), ("DATE", "3 March 2025")],
        [("CARDINAL", "312")],
        [("CARDINAL", "4.5"), ("ORG", "Mayor Ana Petrosyan")],
    ]


def test_fake_splitter_chunks_the_test_documents() -> None:
    for doc in load_documents([DATA]):
        sentences, chunks = process_document(doc, FakeSplitter(), 180, 40, "cl100k_base")
        assert sentences and chunks
        assert {i for c in chunks for i in c.sentence_ids} == {s.sent_id for s in sentences}
        assert all(doc.text[c.start : c.end] == c.text for c in chunks)
