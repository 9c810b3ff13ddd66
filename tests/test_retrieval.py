"""Hybrid retrieval on the seeds with the real model: each ranking contributes."""

from __future__ import annotations

import pytest

from rag.pipeline import Pipeline

pytestmark = pytest.mark.slow


def test_lexical_finds_exact_rare_terms(seed_pipeline: Pipeline) -> None:
    retriever = seed_pipeline.loaded.retriever
    rows = retriever.lexical_ranking("Kirants Acharkut H-26 highway", 5)
    top = seed_pipeline.loaded.data.chunks[rows[0][0]]
    assert top.doc_id == "002_c7b824baeb8dafed.txt" and "Acharkut" in top.text


def test_dense_finds_paraphrase_without_shared_keywords(seed_pipeline: Pipeline) -> None:
    retriever = seed_pipeline.loaded.retriever
    qvec = seed_pipeline.embed_query("internet data between the two former enemies' networks")
    rows = retriever.dense_ranking(qvec, 5)
    docs = {seed_pipeline.loaded.data.chunks[r].doc_id for r, _ in rows}
    assert "000_3482da4db516eed0.txt" in docs


def test_hybrid_fuses_both_rankings(seed_pipeline: Pipeline) -> None:
    query = "Which villages were handed over to Azerbaijan in Tavush?"
    hits = seed_pipeline.search(query, top_k=5).results
    assert hits[0].doc_id == "002_c7b824baeb8dafed.txt"
    loaded = seed_pipeline.loaded
    qvec = seed_pipeline.embed_query(query)
    fused = loaded.retriever.search(query, qvec, 10)
    assert any(h.dense is not None and h.lexical is not None for h in fused)
    scores = [h.score for h in fused]
    assert scores == sorted(scores, reverse=True)


def test_search_offsets_are_verbatim(seed_pipeline: Pipeline) -> None:
    from .conftest import SEEDS

    for hit in seed_pipeline.search("Zangezur corridor and TRIPP", top_k=10).results:
        raw = (SEEDS / hit.doc_id).read_text(encoding="utf-8")
        assert raw[hit.start : hit.end] == hit.text
