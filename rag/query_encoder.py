"""Query embeddings: cached for repeated questions, batched across concurrent requests."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from rag.batching import QueryBatcher
from rag.embedding import Vectors

CACHE_SIZE = 2048  # distinct recent questions kept (~1.5 KB each for 384 dims)


class QueryEncoder:
    """Embeds one query at a time; concurrent callers share one model call."""

    def __init__(self, embed: Callable[[Sequence[str]], Vectors], batch: int) -> None:
        self._batcher = QueryBatcher(embed, batch)
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()  # request threads share the cache

    def __call__(self, text: str) -> Vectors:
        """The query's embedding (from the cache when it was asked recently)."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        vec = self._batcher(text)
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return vec
