"""The one place that reads Settings and wires the stages together."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag import answer as ans
from rag.chunking import SentenceSplitter, SpacySplitter
from rag.config import Settings
from rag.documents import Document, load_documents
from rag.embedding import CachedEmbedder, Embedder, Vectors, make_embedder
from rag.errors import InvalidInput, NotFound
from rag.indexer import Progress, build_index, index_params
from rag.retrieve import Hit, Retriever
from rag.schemas import AskResponse, Citation, DocumentInfo, Passage, SearchResponse, SearchResult
from rag.store import IndexData, IndexStore


@dataclass
class _Loaded:
    data: IndexData
    retriever: Retriever
    idf: ans.SentenceIdf


class Pipeline:
    """Ingest, search and ask over one index directory."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        splitter: SentenceSplitter | None = None,
    ) -> None:
        self.settings = settings
        self.store = IndexStore(settings.paths.index_dir, cache_path=settings.paths.embedding_cache)
        self._raw_embedder = embedder
        self._embedder: CachedEmbedder | None = None
        self._splitter = splitter
        self._loaded: _Loaded | None = None
        self._write_lock = threading.Lock()
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()

    # -- components, created on first use (never at import) --------------------------------
    @property
    def embedder(self) -> CachedEmbedder:
        """The embedder, wrapped in the content-hash cache."""
        if self._embedder is None:
            inner = self._raw_embedder or make_embedder(
                self.settings.embedding.model, self.settings.embedding.batch_size
            )
            self._embedder = CachedEmbedder(inner, self.store.cache_path)
        return self._embedder

    @property
    def splitter(self) -> SentenceSplitter:
        """Sentence splitter and entity tagger (spaCy)."""
        if self._splitter is None:
            self._splitter = SpacySplitter()
        return self._splitter

    def _params(self) -> dict[str, object]:
        return index_params(self.settings, self.embedder.dim)

    def _activate(self, data: IndexData) -> None:
        # Build the new searchers fully, then swap one reference: queries in flight keep the
        # object they started with.
        self._loaded = _Loaded(
            data, Retriever(data, self.settings.retrieval), ans.SentenceIdf(data)
        )

    @property
    def loaded(self) -> _Loaded:
        """The live index, loading it from disk on first use."""
        loaded = self._loaded
        if loaded is None:
            self._activate(self.store.load(self._params()))
            loaded = self._loaded
            assert loaded is not None
        return loaded

    def load(self) -> None:
        """Load models and the index now (the service calls this at start-up)."""
        _ = self.loaded
        self.embed_query("warm-up")

    # -- ingestion ---------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IndexData:
        """Replace the collection with the documents under ``paths``; unchanged ones are reused."""
        docs = load_documents(paths, self.settings.paths.sources_file)
        if not docs:
            raise InvalidInput(f"no supported documents found in {[str(p) for p in paths]}")
        return self._rebuild(docs, progress)

    def _rebuild(self, docs: Sequence[Document], progress: Progress | None = None) -> IndexData:
        with self._write_lock:
            previous = None
            if self.store.exists():
                try:
                    previous = self.store.load(self._params())
                except Exception:  # noqa: BLE001 - a bad old index only means no reuse
                    previous = None
            data = build_index(
                docs, self.settings, self.embedder, self.splitter, previous, progress
            )
            self.store.save(data)
            self._activate(data)
            return data

    def remove(self, doc_id: str) -> IndexData:
        """Remove one document from the collection."""
        current = self.loaded.data
        if doc_id not in current.documents:
            raise NotFound(f"no document {doc_id!r}; known: {sorted(current.documents)}")
        docs = [d for d in current.documents.values() if d.doc_id != doc_id]
        return self._rebuild(docs)

    def add(self, docs: Sequence[Document]) -> IndexData:
        """Add or replace documents, keeping the rest."""
        current = self.loaded.data.documents if self.store.exists() else {}
        merged = dict(current)
        for doc in docs:
            merged[doc.doc_id] = doc
        return self._rebuild(list(merged.values()))

    # -- queries -----------------------------------------------------------------------------
    def embed_query(self, text: str) -> Vectors:
        """Query embedding, cached for repeated questions."""
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        vec: Vectors = self.embedder.inner.embed([text])[0]
        self._query_cache[text] = vec
        if len(self._query_cache) > 2048:
            self._query_cache.popitem(last=False)
        return vec

    def _retrieve(
        self, loaded: _Loaded, query: str, top_k: int | None, timings: dict[str, float]
    ) -> tuple[Vectors, list[Hit]]:
        t0 = time.perf_counter()
        qvec = self.embed_query(query)
        t1 = time.perf_counter()
        k = max(top_k or self.settings.retrieval.top_k, self.settings.answer.passages_considered)
        hits = loaded.retriever.search(query, qvec, k)
        t2 = time.perf_counter()
        timings["embed_query"] = round((t1 - t0) * 1000, 3)
        timings["retrieve"] = round((t2 - t1) * 1000, 3)
        return qvec, hits

    def _passages(self, data: IndexData, hits: list[Hit]) -> list[Passage]:
        out = []
        for rank, hit in enumerate(hits, start=1):
            meta = data.documents[hit.chunk.doc_id].meta
            out.append(
                Passage(
                    rank=rank,
                    chunk_id=hit.chunk.chunk_id,
                    doc_id=hit.chunk.doc_id,
                    title=meta.title,
                    publisher=meta.publisher,
                    date=meta.date,
                    score=round(hit.score, 6),
                    dense_score=None if hit.dense is None else round(hit.dense, 6),
                    lexical_score=None if hit.lexical is None else round(hit.lexical, 6),
                    section=hit.chunk.section,
                    heading=hit.chunk.heading,
                    start=hit.chunk.start,
                    end=hit.chunk.end,
                    text=hit.chunk.text,
                )
            )
        return out

    def ask(self, question: str, top_k: int | None = None) -> AskResponse:
        """Answer from the documents with verbatim citations, or abstain."""
        question = _clean_query(question, self.settings.service.max_question_chars, "question")
        start = time.perf_counter()
        timings: dict[str, float] = {}
        loaded = self.loaded
        qvec, hits = self._retrieve(loaded, question, top_k, timings)
        t0 = time.perf_counter()
        profile = ans.profile_question(question)
        scored = ans.answering(
            ans.score_sentences(qvec, profile, hits, loaded.data, loaded.idf, self.settings.answer),
            profile,
        )
        support = ans.support_score(scored, ans.missing_key_share(profile, hits, loaded.idf))
        abstained = support < self.settings.answer.abstain_threshold
        citations: list[Citation] = []
        text = ans.ABSTAIN_TEXT
        if not abstained:
            text, citations = ans.compose(
                ans.select(scored, loaded.data, loaded.idf, self.settings.answer), loaded.data
            )
        timings["answer"] = round((time.perf_counter() - t0) * 1000, 3)
        timings["total"] = round((time.perf_counter() - start) * 1000, 3)
        passages = self._passages(loaded.data, hits[: top_k or self.settings.retrieval.top_k])
        if abstained:
            text = (
                f"{ans.ABSTAIN_TEXT} None of the {len(loaded.data.documents)} sources states "
                "this; the closest passages are listed under related."
            )
        return AskResponse(
            question=question,
            answer=text,
            abstained=abstained,
            support=round(support, 4),
            citations=citations,
            passages=[] if abstained else passages,
            related=passages if abstained else [],
            timings_ms=timings,
        )

    def search(self, query: str, top_k: int | None = None) -> SearchResponse:
        """Hybrid search over chunks."""
        query = _clean_query(query, self.settings.service.max_question_chars, "query")
        timings: dict[str, float] = {}
        loaded = self.loaded
        _, hits = self._retrieve(loaded, query, top_k, timings)
        hits = hits[: top_k or self.settings.retrieval.top_k]
        results = [
            SearchResult(
                doc_id=h.chunk.doc_id,
                chunk_id=h.chunk.chunk_id,
                score=round(h.score, 6),
                text=h.chunk.text,
                start=h.chunk.start,
                end=h.chunk.end,
                title=loaded.data.documents[h.chunk.doc_id].meta.title,
                section=h.chunk.section,
            )
            for h in hits
        ]
        return SearchResponse(query=query, results=results, timings_ms=timings)

    def documents(self) -> list[DocumentInfo]:
        """The collection with metadata and chunk counts."""
        data = self.loaded.data
        counts = data.chunk_counts()
        return [
            DocumentInfo(
                doc_id=d.doc_id,
                title=d.meta.title,
                publisher=d.meta.publisher,
                authors=list(d.meta.authors),
                date=d.meta.date,
                date_estimated=d.meta.date_estimated,
                kind=d.meta.kind,
                stance=d.meta.stance,
                url=d.meta.url,
                sha256=d.sha256,
                chars=len(d.text),
                chunks=counts.get(d.doc_id, 0),
            )
            for d in data.documents.values()
        ]


def _clean_query(text: str, max_chars: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_chars}")
    return text.strip()
