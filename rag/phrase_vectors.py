"""How close in meaning short phrases are: a candidate value and the noun it should instance.

"oil" is a commodity, "Meghri region" a region, the "Agreement on Peace and Establishment of
Interstate Relations" a peace text; "Azernews" is none of them. Phrases are embedded once per
process (values and words recur across questions) and compared by cosine; the collection's own
words can be loaded up front (``warm``), so the first questions don't pay for embedding them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

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

    def warm_from_snapshot(
        self,
        phrases: Sequence[str],
        embed: Callable[[Sequence[str]], Vectors],
        folder: Path,
        name: str,
    ) -> int:
        """`warm`, through one .npy file per (embedder, phrase list) in ``folder``: a start-up
        reads ~20k vectors in ~10 ms instead of ~0.3 s of cache look-ups. A new phrase list
        (documents changed) writes a new file and drops the embedder's older ones."""
        todo = list(dict.fromkeys(phrases))
        digest = hashlib.sha256("\n".join([name, *todo]).encode("utf-8")).hexdigest()[:20]
        stem = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
        path = folder / f"{stem}-{digest}.npy"
        vectors: Vectors | None = None
        if path.is_file():
            try:
                loaded = np.load(path, allow_pickle=False)
                if loaded.shape[0] == len(todo):
                    vectors = np.asarray(loaded, dtype=np.float32)
            except (OSError, ValueError):
                vectors = None  # damaged: rebuilt below
        if vectors is None:
            vectors = np.asarray(embed(todo), dtype=np.float32).reshape(len(todo), -1)
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, vectors)
            os.replace(tmp, path)
            for old in folder.glob(f"{stem}-*.npy"):
                if old != path:
                    old.unlink(missing_ok=True)
        for phrase, vec in zip(todo, vectors, strict=True):
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

    def matrix_known(self, phrases: Sequence[str], targets: Sequence[str]) -> Vectors:
        """`matrix` for the phrases that already have a vector (kept or recently met); the
        others get zero rows, without a model call. Targets are embedded if need be."""
        known = [p for p in phrases if p in self._pinned or self._cache.get(p) is not None]
        out = np.zeros((len(phrases), len(targets)), dtype=np.float32)
        if known:
            rows = dict(zip(known, self.matrix(known, targets), strict=True))
            for i, phrase in enumerate(phrases):
                if phrase in rows:
                    out[i] = rows[phrase]
        return out

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
