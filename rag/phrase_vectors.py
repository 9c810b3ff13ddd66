"""How close in meaning short phrases are: a candidate value and the noun it should instance.

"oil" is a commodity, "Meghri region" a region, the "Agreement on Peace and Establishment of
Interstate Relations" a peace text; "Azernews" is none of them. Phrases are embedded once per
process (values recur across questions) and compared by cosine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from rag.embedding import Vectors

CACHE_SIZE = 20_000  # phrases kept (~1.5 KB each for 384 dims)


class PhraseSimilarity:
    """Cosine of phrases to a target phrase, with embeddings cached per phrase."""

    def __init__(self, embed: Callable[[Sequence[str]], Vectors], size: int = CACHE_SIZE) -> None:
        self._embed = embed
        self._size = size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()  # request threads share the cache

    def vectors(self, phrases: Sequence[str]) -> Vectors:
        """Unit vectors of ``phrases``, embedding only those not seen recently (one batch)."""
        with self._lock:
            missing = list(dict.fromkeys(p for p in phrases if p not in self._cache))
        if missing:
            fresh = np.asarray(self._embed(missing), dtype=np.float32)
            with self._lock:
                for phrase, vec in zip(missing, fresh, strict=True):
                    self._cache[phrase] = vec
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for phrase in phrases:
                vec = self._cache.get(phrase)
                if vec is None:  # evicted by another thread meanwhile
                    vec = np.asarray(self._embed([phrase]), dtype=np.float32)[0]
                else:
                    self._cache.move_to_end(phrase)
                out.append(vec)
        return np.stack(out) if out else np.zeros((0, 0), dtype=np.float32)

    def __call__(self, phrases: Sequence[str], target: str) -> list[float]:
        """Cosine of each phrase to ``target``."""
        if not phrases:
            return []
        vecs = self.vectors([*phrases, target])
        return [float(v) for v in vecs[:-1] @ vecs[-1]]
