"""One index version in memory: documents, chunks, sentences and their vectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rag.chunking import Chunk, Sentence
from rag.documents import Document
from rag.embedding import Vectors


@dataclass
class IndexData:
    """Everything a query needs, in memory."""

    params: dict[str, Any]  # model, dim, tokenizer, max_tokens, overlap_tokens
    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: Vectors
    sentence_vectors: Vectors
    version: str = ""
    faiss_index: Any = field(default=None, repr=False)  # built by rag.vectorstore

    def chunk_counts(self) -> dict[str, int]:
        """Chunks per document."""
        counts = dict.fromkeys(self.documents, 0)
        for chunk in self.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return counts

    @cached_property
    def chunk_by_id(self) -> dict[str, Chunk]:
        """Chunks by id (built once per index version)."""
        return {c.chunk_id: c for c in self.chunks}

    @cached_property
    def newest_date(self) -> str:
        """ISO date of the newest dated source ("" when none is dated)."""
        return max((d.meta.date or "" for d in self.documents.values()), default="")
