"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import time
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt

from rag.chunking import Chunk
from rag.config import RetrievalSettings
from rag.documents import meta_text
from rag.embedding import Vectors
from rag.index_data import IndexData
from rag.text import terms
from rag.vectorstore import DenseSearch, FaissSearch

Mask = npt.NDArray[np.bool_]  # one flag per chunk row: may this chunk be returned?


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence for its rank."""

    chunk: Chunk
    score: float  # fused score
    dense: float | None
    lexical: float | None


class LexicalIndex:
    """BM25 over chunk text plus its section heading."""

    def __init__(self, data: IndexData) -> None:
        self.size = len(data.chunks)
        self._bm25 = bm25s.BM25()
        # Who and where count too: "what does the War on the Rocks piece say about ...".
        meta = {doc_id: meta_text(doc.meta) for doc_id, doc in data.documents.items()}
        corpus = [
            terms(f"{meta[c.doc_id]} {c.heading or ''} {c.text}") or ["\u2205"] for c in data.chunks
        ]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query``."""
        query_terms = terms(query)
        # A query of punctuation alone has no terms; bm25s would index into an empty list.
        if not self.size or not query_terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(query_terms), dtype=np.float32)


class Retriever:
    """Searches one loaded index."""

    def __init__(
        self, data: IndexData, settings: RetrievalSettings, dense: DenseSearch | None = None
    ) -> None:
        self.data = data
        self.settings = settings
        # Unfiltered dense search: the version's FAISS index, or a shared vector store.
        self.dense = dense or FaissSearch(data.faiss_index)
        self.lexical = LexicalIndex(data)
        # For the sentence ranking: each chunk's sentence rows, flattened for reduceat.
        row_of = {sent.sent_id: i for i, sent in enumerate(data.sentences)}
        flat: list[int] = []
        offsets: list[int] = []
        for chunk in data.chunks:
            offsets.append(len(flat))
            flat.extend(row_of[sid] for sid in chunk.sentence_ids)
        self._flat = np.asarray(flat, dtype=np.int64)
        self._offsets = np.asarray(offsets, dtype=np.int64)

    def sentence_ranking(
        self, query_vec: Vectors, depth: int, allowed: Mask | None = None
    ) -> list[tuple[int, float]]:
        """(row, best sentence cosine) of chunks ranked by their single best sentence.

        A chunk whose one sentence states the fact can rank low as a whole; this finds it.
        """
        if not len(self._flat):
            return []
        sims = self.data.sentence_vectors @ query_vec.reshape(-1)
        best = np.maximum.reduceat(sims[self._flat], self._offsets)
        if allowed is not None:
            best = np.where(allowed, best, -np.inf)
        depth = min(depth, len(best))
        rows = np.argpartition(-best, depth - 1)[:depth]
        rows = rows[np.argsort(-best[rows])]
        return [(int(r), float(best[r])) for r in rows if np.isfinite(best[r])]

    def dense_ranking(
        self, query_vec: Vectors, depth: int, allowed: Mask | None = None
    ) -> list[tuple[int, float]]:
        """(row, cosine) of the nearest chunks (among ``allowed`` rows, if given)."""
        if not self.data.chunks:
            return []
        if allowed is not None:
            # Filtered search is exact over the allowed rows: no ANN recall loss, no over-fetch.
            rows = np.flatnonzero(allowed)
            if not len(rows):
                return []
            sims = self.data.chunk_vectors[rows] @ query_vec.reshape(-1)
            order = np.argsort(-sims)[:depth]
            return [(int(rows[i]), float(sims[i])) for i in order]
        return self.dense.search(query_vec, depth)

    def lexical_ranking(
        self, query: str, depth: int, allowed: Mask | None = None
    ) -> list[tuple[int, float]]:
        """(row, BM25 score) of the best lexical matches (score > 0 only)."""
        scores = self.lexical.scores(query)
        if not len(scores):
            return []
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        depth = min(depth, len(scores))
        rows = np.argpartition(-scores, depth - 1)[:depth]
        rows = rows[np.argsort(-scores[rows])]
        return [(int(r), float(scores[r])) for r in rows if scores[r] > 0]

    def search(
        self,
        query: str,
        query_vec: Vectors,
        top_k: int | None = None,
        allowed: Mask | None = None,
    ) -> list[Hit]:
        """Top passages for a query, fused from the rankings (only ``allowed`` rows, if given)."""
        return self.search_timed(query, query_vec, top_k, allowed)[0]

    def search_timed(
        self,
        query: str,
        query_vec: Vectors,
        top_k: int | None = None,
        allowed: Mask | None = None,
    ) -> tuple[list[Hit], dict[str, float]]:
        """``search``, plus each stage's milliseconds (retrieve_dense, _lexical, _sentence,
        _fusion)."""
        s = self.settings
        k = top_k or s.top_k
        depth = max(s.candidates, k)
        t0 = time.perf_counter()
        dense = self.dense_ranking(query_vec, depth, allowed) if s.mode != "lexical" else []
        t1 = time.perf_counter()
        lexical = self.lexical_ranking(query, depth, allowed) if s.mode != "dense" else []
        t2 = time.perf_counter()
        sentence = (
            self.sentence_ranking(query_vec, depth, allowed)
            if s.mode != "lexical" and s.sentence_weight > 0
            else []
        )
        t3 = time.perf_counter()
        fused: dict[int, float] = {}
        for weight, ranking in (
            (s.dense_weight, dense),
            (s.lexical_weight, lexical),
            (s.sentence_weight, sentence),
        ):
            for rank, (row, _) in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + weight / (s.rrf_k + rank + 1)
        dense_scores = dict(dense)
        lexical_scores = dict(lexical)
        order = sorted(fused, key=lambda r: -fused[r])
        hits: list[Hit] = []
        per_doc: dict[str, int] = {}
        for row in order:
            chunk = self.data.chunks[row]
            if s.max_per_doc and per_doc.get(chunk.doc_id, 0) >= s.max_per_doc:
                continue
            per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
            hits.append(Hit(chunk, fused[row], dense_scores.get(row), lexical_scores.get(row)))
            if len(hits) >= k:
                break
        t4 = time.perf_counter()
        stages = ("dense", "lexical", "sentence", "fusion")
        spans = (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
        timings = {
            f"retrieve_{n}": round(ms * 1000, 3) for n, ms in zip(stages, spans, strict=True)
        }
        return hits, timings
