"""The collection's life cycle: the live index version, hot reload, and document changes.

Changes are serialised by one write lock; each builds a new version beside the old one and
swaps a single reference, so queries in flight keep the version they started with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import SentenceSplitter, SpacySplitter
from rag.cleaning import CITABLE_SECTIONS, label_blocks
from rag.config import Settings
from rag.documents import Document, load_documents
from rag.embedding import CachedEmbedder, Embedder, make_embedder
from rag.errors import Conflict, InvalidInput, NotFound
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.indexer import Progress, build_index, index_params
from rag.lexicon import Lexicon
from rag.retrieve import Retriever
from rag.schemas import DocumentChange, DocumentDetail, DocumentInfo
from rag.store import IndexStore
from rag.vectorstore import VectorStore, make_vector_store


@dataclass
class Loaded:
    """The live index version and the searchers built for it."""

    data: IndexData
    retriever: Retriever
    idf: SentenceIdf
    lexicon: Lexicon


class Collection:
    """The documents of one index directory: loading, hot reload, and changes."""

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
        self._loaded: Loaded | None = None
        self._write_lock = threading.Lock()
        self._seen_pointer: str | None = None
        self._checked_at = 0.0

    # -- components, created on first use (never at import) --------------------------------
    @property
    def embedder(self) -> CachedEmbedder:
        """The embedder, wrapped in the content-hash cache."""
        if self._embedder is None:
            emb = self.settings.embedding
            inner = self._raw_embedder or make_embedder(
                emb.model, emb.batch_size, emb.backend, self.settings.paths.onnx_dir
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
        lexicon = Lexicon([d.text for d in data.documents.values()])
        self._loaded = Loaded(data, retriever, SentenceIdf(data), lexicon)

    @property
    def loaded(self) -> Loaded:
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
