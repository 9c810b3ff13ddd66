"""The one place that reads Settings and wires the stages together."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag import answer as ans
from rag import conversation, generate, temporal
from rag.batching import QueryBatcher
from rag.chunking import SentenceSplitter, SpacySplitter
from rag.cleaning import CITABLE_SECTIONS, label_blocks
from rag.config import Settings
from rag.documents import Document, load_documents
from rag.embedding import CachedEmbedder, Embedder, Vectors, make_embedder
from rag.errors import Conflict, InvalidInput, NotFound
from rag.events import AskEvent, Done, Retrieved
from rag.indexer import Progress, build_index, index_params
from rag.retrieve import Hit, Mask, Retriever
from rag.schemas import (
    AskResponse,
    ChatTurn,
    Citation,
    DocumentChange,
    DocumentDetail,
    DocumentInfo,
    Filters,
    Passage,
    SearchResponse,
    SearchResult,
)
from rag.store import IndexData, IndexStore
from rag.vectorstore import VectorStore, make_vector_store


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
        # Unfiltered dense search: FAISS from the index version, or a shared Milvus collection.
        self.vector_store: VectorStore = make_vector_store(settings.vector_store)
        self._raw_embedder = embedder
        self._embedder: CachedEmbedder | None = None
        self._splitter = splitter
        self._loaded: _Loaded | None = None
        self._write_lock = threading.Lock()
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()
        self._query_lock = threading.Lock()  # request threads share the cache
        self._batcher: QueryBatcher | None = None
        self._seen_pointer: str | None = None
        self._checked_at = 0.0
        self.analyze: conversation.Analyzer = conversation.spacy_phrases
        # Writes the answer: extractive by default, or a model whose sentences are verified.
        self.generator: generate.Generator = generate.make_generator(settings.generator)

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
        retriever = Retriever(data, self.settings.retrieval, self.vector_store.searcher(data))
        self._loaded = _Loaded(data, retriever, ans.SentenceIdf(data))

    @property
    def loaded(self) -> _Loaded:
        """The live index, loading it from disk on first use."""
        loaded = self._loaded
        if loaded is None:
            self._seen_pointer = self.store.current_name()
            self._activate(self.store.load(self._params()))
            loaded = self._loaded
            assert loaded is not None
        elif self._pointer_changed():
            # Another process (CLI, a second replica) published a new version: pick it up.
            with self._write_lock:
                self._seen_pointer = self.store.current_name()
                self._activate(self.store.load(self._params()))
            loaded = self._loaded
            assert loaded is not None
        return loaded

    def _pointer_changed(self) -> bool:
        interval = self.settings.paths.reload_interval_s
        now = time.monotonic()
        if interval <= 0 or now - self._checked_at < interval:
            return False
        self._checked_at = now
        if self._write_lock.locked():  # our own update is in flight; it activates itself
            return False
        return self.store.current_name() != self._seen_pointer

    def load(self) -> None:
        """Load models and the index now (the service calls this at start-up)."""
        _ = self.loaded
        self.embed_query("warm-up")
        self.analyze("Has it been signed?")  # loads spaCy, so the first follow-up is not slow

    # -- ingestion ---------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IndexData:
        """Replace the collection with the documents under ``paths``; unchanged ones are reused."""
        docs = load_documents(paths, self.settings.paths.sources_file)
        if not docs:
            raise InvalidInput(f"no supported documents found in {[str(p) for p in paths]}")
        with self._write_lock:
            return self._rebuild(docs, progress)

    def _rebuild(self, docs: Sequence[Document], progress: Progress | None = None) -> IndexData:
        # Callers hold the write lock, so two updates never build from the same old state.
        previous = self._loaded.data if self._loaded is not None else None
        if previous is None and self.store.exists():
            try:
                previous = self.store.load(self._params())
            except Exception:  # noqa: BLE001 - a bad old index only means no reuse
                previous = None
        data = build_index(docs, self.settings, self.embedder, self.splitter, previous, progress)
        # A shared vector store gets the new vectors before CURRENT names the version, and
        # drops the unused ones only after: readers on either version always find theirs.
        self.vector_store.prepare(data)
        self._seen_pointer = self.store.save(data)
        self.vector_store.commit(data)
        self._activate(data)
        return data

    def _current_documents(self) -> dict[str, Document]:
        if self._loaded is None and not self.store.exists():
            return {}
        return dict(self.loaded.data.documents)

    def _change(self, doc_id: str, action: str, data: IndexData, misses: int) -> DocumentChange:
        return DocumentChange(
            doc_id=doc_id,
            action=action,
            chunks=data.chunk_counts().get(doc_id, 0),
            index_version=data.version,
            embedded_texts=self.embedder.misses - misses,
        )

    def add_document(self, doc: Document, replace_existing: bool = False) -> DocumentChange:
        """Add (or, with ``replace_existing``, replace) one document; others are not re-embedded."""
        if not any(b.section in CITABLE_SECTIONS for b in label_blocks(doc.text)):
            raise InvalidInput(
                f"{doc.doc_id}: no article text left after removing page furniture "
                "(navigation, banners, comments); nothing to index"
            )
        with self._write_lock:
            docs = self._current_documents()
            for other in docs.values():
                if other.sha256 == doc.sha256 and (
                    other.doc_id != doc.doc_id or not replace_existing
                ):
                    raise Conflict(
                        f"duplicate upload: the same content is already indexed as {other.doc_id!r}"
                    )
            if replace_existing and doc.doc_id not in docs:
                raise NotFound(f"no document {doc.doc_id!r} to replace; use POST /documents to add")
            if not replace_existing and doc.doc_id in docs:
                raise Conflict(
                    f"a document {doc.doc_id!r} already exists; replace it with PUT "
                    f"/documents/{doc.doc_id} or upload under another name"
                )
            misses = self.embedder.misses
            docs[doc.doc_id] = doc
            data = self._rebuild(list(docs.values()))
            action = "replaced" if replace_existing else "added"
            return self._change(doc.doc_id, action, data, misses)

    def remove_document(self, doc_id: str) -> DocumentChange:
        """Remove one document: its chunks leave the vector and lexical indexes alike."""
        with self._write_lock:
            docs = self._current_documents()
            if doc_id not in docs:
                raise NotFound(f"no document {doc_id!r}; known: {sorted(docs)}")
            misses = self.embedder.misses
            del docs[doc_id]
            if not docs:
                raise InvalidInput("cannot remove the last document; the collection would be empty")
            data = self._rebuild(list(docs.values()))
            return self._change(doc_id, "removed", data, misses)

    def get_document(self, doc_id: str) -> DocumentDetail:
        """Metadata plus the canonical text that citation offsets index."""
        data = self.loaded.data
        doc = data.documents.get(doc_id)
        if doc is None:
            raise NotFound(f"no document {doc_id!r}; known: {sorted(data.documents)}")
        info = next(d for d in self.documents() if d.doc_id == doc_id)
        return DocumentDetail(**info.model_dump(), pages=list(doc.pages), text=doc.text)

    # -- queries -----------------------------------------------------------------------------
    def embed_query(self, text: str) -> Vectors:
        """Query embedding, cached for repeated questions."""
        with self._query_lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        if self._batcher is None:
            # Concurrent questions share one model call instead of queueing for the model.
            self._batcher = QueryBatcher(
                self.embedder.inner.embed, self.settings.embedding.query_batch
            )
        vec = self._batcher(text)
        with self._query_lock:
            self._query_cache[text] = vec
            if len(self._query_cache) > 2048:
                self._query_cache.popitem(last=False)
        return vec

    def _retrieve(
        self,
        loaded: _Loaded,
        query: str,
        top_k: int | None,
        timings: dict[str, float],
        filters: Filters | None = None,
    ) -> tuple[Vectors, list[Hit]]:
        t0 = time.perf_counter()
        qvec = self.embed_query(query)
        t1 = time.perf_counter()
        k = max(top_k or self.settings.retrieval.top_k, self.settings.answer.passages_considered)
        hits = loaded.retriever.search(query, qvec, k, _mask(loaded.data, filters), timings)
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
                    date_estimated=meta.date_estimated,
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

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[ChatTurn] = (),
        filters: Filters | None = None,
    ) -> AskResponse:
        """Answer from the documents with verbatim citations, or abstain."""
        for event in self.ask_stream(question, top_k, history, filters):
            if isinstance(event, Done):
                return event.response
        raise AssertionError("ask_stream ended without Done")

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[ChatTurn] = (),
        filters: Filters | None = None,
    ) -> Iterator[AskEvent]:
        """Check the input now (InvalidInput), then yield Retrieved, Delta… and Done."""
        question = _clean_query(question, self.settings.service.max_question_chars, "question")
        limits = self.settings.service
        conversation.check_history(history, limits.max_history_turns, limits.max_history_chars)
        return self._ask_events(question, top_k, list(history), filters)

    def _ask_events(
        self,
        question: str,
        top_k: int | None,
        history: list[ChatTurn],
        filters: Filters | None = None,
    ) -> Iterator[AskEvent]:
        start = time.perf_counter()
        timings: dict[str, float] = {}
        loaded = self.loaded
        rewritten = conversation.rewrite(question, history, self.analyze) if history else None
        if history:
            timings["rewrite"] = round((time.perf_counter() - start) * 1000, 3)
        query = rewritten or question
        period = temporal.period_of(query) if self.settings.answer.temporal else None
        if period is not None and (filters is None or filters.date_to is None):
            # "As of 2024, ..." asks what the sources said by then: later ones are out of scope.
            base = filters or Filters()
            filters = base.model_copy(update={"date_to": period.date_to})
        qvec, hits = self._retrieve(loaded, query, top_k, timings, filters)
        passages = self._passages(loaded.data, hits[: top_k or self.settings.retrieval.top_k])
        yield Retrieved(passages, rewritten)
        t0 = time.perf_counter()
        profile = ans.profile_question(query)
        if period is not None or not self.settings.answer.temporal:
            profile = replace(profile, recency=period is not None)
        scored = ans.answering(
            ans.score_sentences(qvec, profile, hits, loaded.data, loaded.idf, self.settings.answer),
            profile,
        )
        support = ans.support_score(scored, ans.missing_key_share(profile, hits, loaded.idf))
        newest = max((d.meta.date or "" for d in loaded.data.documents.values()), default="")
        too_late = temporal.after_newest(query, newest) if self.settings.answer.temporal else None
        if too_late is not None:
            support = 0.0  # no source can hold evidence about a time after it was written
        abstained = support < self.settings.answer.abstain_threshold
        citations: list[Citation] = []
        text = ans.ABSTAIN_TEXT
        if not abstained:
            text, citations = ans.compose(
                ans.select(scored, loaded.data, loaded.idf, self.settings.answer),
                loaded.data,
                dated=profile.recency,
            )
        timings["answer"] = round((time.perf_counter() - t0) * 1000, 3)
        timings["total"] = round((time.perf_counter() - start) * 1000, 3)
        if too_late is not None:
            text = (
                f"{ans.ABSTAIN_TEXT} The question asks about {too_late}, but the newest of the "
                f"{len(loaded.data.documents)} sources is dated {newest}; the closest passages "
                "are listed under related."
            )
        elif abstained:
            text = (
                f"{ans.ABSTAIN_TEXT} None of the {len(loaded.data.documents)} sources states "
                "this; the closest passages are listed under related."
            )
        response = AskResponse(
            question=question,
            rewritten_question=rewritten,
            answer=text,
            abstained=abstained,
            support=round(support, 4),
            citations=citations,
            passages=[] if abstained else passages,
            related=passages if abstained else [],
            timings_ms=timings,
        )
        evidence = generate.Evidence(query, loaded.data, loaded.idf, self.embedder.inner.embed)
        yield from self.generator.respond(response, evidence)

    def search(
        self, query: str, top_k: int | None = None, filters: Filters | None = None
    ) -> SearchResponse:
        """Hybrid search over chunks."""
        query = _clean_query(query, self.settings.service.max_question_chars, "query")
        timings: dict[str, float] = {}
        loaded = self.loaded
        _, hits = self._retrieve(loaded, query, top_k, timings, filters)
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


def _mask(data: IndexData, filters: Filters | None) -> Mask | None:
    """Chunk rows whose documents pass the filters; None when nothing is filtered."""
    if filters is None or not filters.active():
        return None
    passing = {
        doc_id
        for doc_id, doc in data.documents.items()
        if temporal.matches(doc.meta, doc_id, filters)
    }
    return np.fromiter(
        (c.doc_id in passing for c in data.chunks), dtype=bool, count=len(data.chunks)
    )


def _clean_query(text: str, max_chars: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_chars}")
    return text.strip()
