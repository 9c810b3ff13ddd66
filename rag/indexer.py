"""Build an index from documents, reusing the work already done for unchanged ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from rag.chunking import Chunk, Sentence, SentenceSplitter, process_document
from rag.config import Settings
from rag.documents import Document
from rag.embedding import Embedder, Vectors
from rag.index_data import IndexData
from rag.vectorstore import build_faiss_index

# Bump when cleaning, sentence splitting or chunking rules change: old indexes are rebuilt.
PIPELINE_VERSION = 5

Progress = Callable[[str, int], None]  # (doc_id, chunks) after each document


def index_params(settings: Settings, dim: int) -> dict[str, object]:
    """What an index was built with; a loaded index must match these."""
    return {
        "pipeline_version": PIPELINE_VERSION,
        "model": settings.embedding.model,
        "backend": settings.embedding.backend,
        "dim": dim,
        "tokenizer": settings.chunking.tokenizer,
        "max_tokens": settings.chunking.max_tokens,
        "overlap_tokens": settings.chunking.overlap_tokens,
        "title_prefix": settings.embedding.title_prefix,
    }


def chunk_embedding_text(chunk: Chunk, doc: Document, title_prefix: bool) -> str:
    """Text the embedder sees for a chunk: title and section give short chunks context."""
    if not title_prefix:
        return chunk.text
    parts = [doc.meta.title]
    if chunk.heading and chunk.heading != doc.meta.title:
        parts.append(chunk.heading)
    parts.append(chunk.text)
    return ". ".join(parts)


def build_index(
    documents: Sequence[Document],
    settings: Settings,
    embedder: Embedder,
    splitter: SentenceSplitter,
    previous: IndexData | None = None,
    progress: Progress | None = None,
) -> IndexData:
    """Chunk and embed ``documents``; unchanged documents reuse ``previous`` rows as they are."""
    params = index_params(settings, embedder.dim)
    reusable = previous if previous is not None and previous.params == params else None
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    chunk_rows: list[Vectors] = []
    sentence_rows: list[Vectors] = []
    docs: dict[str, Document] = {}
    # Rows per document, found once: a scan per document is quadratic in a large collection.
    chunk_rows_of: dict[str, list[int]] = {}
    sent_rows_of: dict[str, list[int]] = {}
    for i, c in enumerate(reusable.chunks if reusable else ()):
        chunk_rows_of.setdefault(c.doc_id, []).append(i)
    for i, sent in enumerate(reusable.sentences if reusable else ()):
        sent_rows_of.setdefault(sent.doc_id, []).append(i)
    # New documents' texts, embedded after the loop: (slot in *_rows, chunk texts, sentences).
    pending: list[tuple[int, list[str], list[str]]] = []
    for doc in documents:
        docs[doc.doc_id] = doc
        old = reusable.documents.get(doc.doc_id) if reusable else None
        if reusable is not None and old is not None and old.sha256 == doc.sha256:
            old_chunk_rows = chunk_rows_of.get(doc.doc_id, [])
            old_sent_rows = sent_rows_of.get(doc.doc_id, [])
            id_map = {
                reusable.sentences[i].sent_id: len(sentences) + k
                for k, i in enumerate(old_sent_rows)
            }
            sentences.extend(
                replace(reusable.sentences[i], sent_id=id_map[reusable.sentences[i].sent_id])
                for i in old_sent_rows
            )
            chunks.extend(
                replace(
                    reusable.chunks[i],
                    sentence_ids=tuple(id_map[s] for s in reusable.chunks[i].sentence_ids),
                )
                for i in old_chunk_rows
            )
            chunk_rows.append(reusable.chunk_vectors[old_chunk_rows])
            sentence_rows.append(reusable.sentence_vectors[old_sent_rows])
            if progress:
                progress(doc.doc_id, len(old_chunk_rows))
            continue
        doc_sents, doc_chunks = process_document(
            doc,
            splitter,
            settings.chunking.max_tokens,
            settings.chunking.overlap_tokens,
            settings.chunking.tokenizer,
            first_sentence_id=len(sentences),
        )
        texts = [chunk_embedding_text(c, doc, settings.embedding.title_prefix) for c in doc_chunks]
        pending.append((len(chunk_rows), texts, [doc.text[s.start : s.end] for s in doc_sents]))
        chunk_rows.append(np.zeros((0, embedder.dim), np.float32))  # filled below
        sentence_rows.append(np.zeros((0, embedder.dim), np.float32))
        sentences.extend(doc_sents)
        chunks.extend(doc_chunks)
        if progress:
            progress(doc.doc_id, len(doc_chunks))
    if pending:
        # One model call for all new chunks and one for all new sentences: full batches of
        # similar length, instead of a ragged last batch per document.
        chunk_vecs = embedder.embed([t for _, texts, _ in pending for t in texts])
        sent_vecs = embedder.embed([t for _, _, sents in pending for t in sents])
        at_chunk = at_sent = 0
        for slot, texts, sents in pending:
            chunk_rows[slot] = chunk_vecs[at_chunk : at_chunk + len(texts)]
            sentence_rows[slot] = sent_vecs[at_sent : at_sent + len(sents)]
            at_chunk += len(texts)
            at_sent += len(sents)
    dim = embedder.dim
    chunk_vectors = np.concatenate(chunk_rows) if chunk_rows else np.zeros((0, dim), np.float32)
    return IndexData(
        params=params,
        documents=docs,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=chunk_vectors,
        sentence_vectors=(
            np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, dim), np.float32)
        ),
        faiss_index=build_faiss_index(chunk_vectors, settings.vector_store),
    )
