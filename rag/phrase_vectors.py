"""How close in meaning short phrases are: a candidate value and the noun it should instance.

"oil" is a commodity, "Meghri region" a region, the "Agreement on Peace and Establishment of
Interstate Relations" a peace text; "Azernews" is none of them. Phrases are embedded once per
process (values and words recur across questions) and compared by cosine; the collection's own
words can be loaded up front (``warm``), so the first questions don't pay for embedding them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rag.embedding import Vectors
from rag.vector_cache import VectorCache

CACHE_SIZE = 20_000  # phrases kept (~1.5 KB each for 384 dims)
WARM_BATCH = 512  # phrases per embedder call while warming
Similarity = Callable[[Sequence[str], str], list[float]]  # phrases, target -> cosines


class PhraseSimilarity:
    """Cosine of phrases to a target phrase, with embeddings cached per phrase."""

    def __init__(self, embed: Callable[[Sequence[str]], Vectors], size: int = CACHE_SIZE) -> None:
        self._embed = embed
        self._cache = VectorCache(size)
        self._pinned: dict[str, Vectors] = {}  # warmed: kept for the process's life

    def warm(
        self, phrases: Sequence[str], embed: Callable[[Sequence[str]], Vectors] | None = None
    ) -> int:
        """Keep vectors for ``phrases`` for good (unlike the bounded cache of phrases met while
        answering); returns how many were loaded. ``embed`` (default: this instance's) may be a
        persistent cache, so that warming costs one model call per phrase the first time only."""
        embed = embed or self._embed
        todo = [p for p in dict.fromkeys(phrases) if p not in self._pinned]
        for i in range(0, len(todo), WARM_BATCH):
            batch = todo[i : i + WARM_BATCH]
            for phrase, vec in zip(batch, np.asarray(embed(batch), dtype=np.float32), strict=True):
                self._pinned[phrase] = vec
        return len(todo)

    def __call__(self, phrases: Sequence[str], target: str) -> list[float]:
        """Cosine of each phrase to ``target`` (phrases not seen recently: one model call)."""
        if not phrases:
            return []
        return [float(v) for v in self.matrix(phrases, [target])[:, 0]]

    def matrix(self, phrases: Sequence[str], targets: Sequence[str]) -> Vectors:
        """Cosines of every phrase (rows) to every target (columns), in one product."""
        vecs = self.vectors([*phrases, *targets])
        return vecs[: len(phrases)] @ vecs[len(phrases) :].T

    def vectors(self, wanted: Sequence[str]) -> Vectors:
        """The vectors of ``wanted``, in order (those not kept: one model call)."""
        found: dict[str, Vectors] = {}
        for phrase in wanted:
            vec = self._pinned.get(phrase)
            if vec is None:
                vec = self._cache.get(phrase)
            if vec is not None:
                found[phrase] = vec
        missing = list(dict.fromkeys(p for p in wanted if p not in found))
        if missing:
            for phrase, vec in zip(missing, np.asarray(self._embed(missing)), strict=True):
                self._cache.put(phrase, vec)
                found[phrase] = vec
        return np.stack([found[p] for p in wanted]).astype(np.float32)
