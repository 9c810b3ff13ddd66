"""Ingest throughput: chunks/s for a full ingest, against the embedder's raw throughput."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO
from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder
from rag.indexer import chunk_embedding_text
from rag.pipeline import Pipeline


def run(repeats: int = 3) -> dict[str, Any]:
    """Best of ``repeats`` fresh ingests of seeds/ vs. embedding the very same texts directly."""
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.embedding.model, settings.embedding.batch_size)
    embedder.embed(["warm-up"])
    ingest_s: list[float] = []
    raw_s: list[float] = []
    n_chunks = n_sentences = 0
    # Ingest and raw runs alternate, so a change in background load hits both alike.
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            local = Settings.model_validate(
                {**settings.model_dump(), "paths": {"index_dir": Path(tmp) / "index"}}
            )
            pipeline = Pipeline(local, embedder=embedder)
            pipeline.splitter("Warm the sentence splitter up.")  # model load is not ingest
            t0 = time.perf_counter()
            data = pipeline.ingest([REPO / "seeds"])
            ingest_s.append(time.perf_counter() - t0)
            pipeline.embedder.close()
        n_chunks, n_sentences = len(data.chunks), len(data.sentences)
        texts = [
            chunk_embedding_text(c, data.documents[c.doc_id], settings.embedding.title_prefix)
            for c in data.chunks
        ] + [data.documents[s.doc_id].text[s.start : s.end] for s in data.sentences]
        t0 = time.perf_counter()
        embedder.embed(texts[:n_chunks])
        embedder.embed(texts[n_chunks:])
        raw_s.append(time.perf_counter() - t0)
    best_ingest, best_raw = min(ingest_s), min(raw_s)
    return {
        "documents": len(data.documents),
        "chunks": n_chunks,
        "sentences": n_sentences,
        "texts_embedded": len(texts),
        "ingest_s": round(best_ingest, 3),
        "ingest_runs_s": [round(x, 3) for x in ingest_s],
        "raw_runs_s": [round(x, 3) for x in raw_s],
        "chunks_per_s": round(n_chunks / best_ingest, 1),
        "texts_per_s": round(len(texts) / best_ingest, 1),
        "raw_embed_s": round(best_raw, 3),
        "raw_texts_per_s": round(len(texts) / best_raw, 1),
        "raw_chunks_per_s": round(n_chunks / best_raw, 1),
        "fraction_of_raw": round(best_raw / best_ingest, 3),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))  # noqa: T201
