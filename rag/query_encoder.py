"""Query embeddings: cached for repeated questions, batched across concurrent requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.batching import QueryBatcher
from rag.embedding import Vectors
from rag.vector_cache import VectorCache

CACHE_SIZE = 2048  # distinct recent questions kept (~1.5 KB each for 384 dims)


class QueryEncoder:
    """Embeds one query at a time; concurrent callers share one model call."""

    def __init__(self, embed: Callable[[Sequence[str]], Vectors], batch: int) -> None:
        self._batcher = QueryBatcher(embed, batch)
        self._cache = VectorCache(CACHE_SIZE)

    def __call__(self, text: str) -> Vectors:
        """The query's embedding (from the cache when it was asked recently)."""
        vec = self._cache.get(text)
        if vec is None:
            vec = self._batcher(text)
            self._cache.put(text, vec)
        return vec
