"""The kind of thing a head noun names ("clergyman" -> person), by embedding similarity.

Each kind in ``KINDS`` is described by a few nouns; a head noun belongs to
the kind holding its most similar noun, if that similarity is high enough. Unseen nouns work
because the embedder, not a word list, decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from rag.embedding import Vectors
from rag.value_patterns import NUMBERS, TIMES

# Head noun -> wanted labels, decided by meaning. Each kind is described by a few nouns; a
# head noun joins the kind whose nouns it is most similar to (embedding cosine).
KINDS: dict[str, tuple[frozenset[str], str]] = {
    "person": (
        frozenset({"PERSON"}),
        "person official leader minister president diplomat envoy author writer analyst "
        "spokesman executive chairman ambassador general commander",
    ),
    "organisation": (
        frozenset({"ORG", "NORP"}),
        "organization company group institution agency alliance party newspaper outlet "
        "operator firm union coalition",
    ),
    "place": (
        frozenset({"GPE", "LOC", "FAC"}),
        "country city village town region territory district place location "
        "province exclave sea ocean river",
    ),
    "time": (TIMES, "date day month year time period decade week"),
    "number": (NUMBERS, "number amount count percentage share figure total quantity"),
    "money": (frozenset({"MONEY"}), "cost price money value budget fee payment"),
    "event": (frozenset({"EVENT", "DATE"}), "event summit meeting conference war election"),
    "document": (
        frozenset({"LAW", "WORK_OF_ART", "PRODUCT", "EVENT"}),
        "document agreement treaty declaration law book statement report title",
    ),
}
MIN_SIMILARITY = 0.55  # cosine of single-word MiniLM embeddings; unrelated nouns sit at 0.2-0.45
MIN_MARGIN = 0.08  # over the second-best kind: "deal" (money 0.57, number 0.51) is no kind


class EmbeddingHeadTyper:
    """Types head nouns with the collection's embedder; results cached per noun."""

    def __init__(
        self, embed: Callable[[Sequence[str]], Vectors], min_similarity: float = MIN_SIMILARITY
    ) -> None:
        self._embed = embed
        self._min = min_similarity
        self._kinds: list[str] = []
        self._matrix: Vectors | None = None
        self._lock = threading.Lock()  # request threads share the prototypes
        self._kind_of = lru_cache(maxsize=4096)(self._kind)

    def _prototypes(self) -> Vectors:
        with self._lock:
            if self._matrix is None:
                words = [(kind, w) for kind, (_, nouns) in KINDS.items() for w in nouns.split()]
                self._kinds = [k for k, _ in words]
                self._matrix = np.asarray(self._embed([w for _, w in words]), dtype=np.float32)
            return self._matrix

    def similarities(self, noun: str) -> dict[str, float]:
        """Best cosine of ``noun`` with each kind's nouns."""
        matrix = self._prototypes()
        sims = matrix @ np.asarray(self._embed([noun])[0], dtype=np.float32).reshape(-1)
        best: dict[str, float] = {}
        for kind, sim in zip(self._kinds, sims, strict=True):
            best[kind] = max(best.get(kind, -1.0), float(sim))
        return best

    def _kind(self, noun: str) -> str | None:
        ranked = sorted(self.similarities(noun).items(), key=lambda kv: -kv[1])
        (kind, sim), second = ranked[0], ranked[1][1] if len(ranked) > 1 else -1.0
        return kind if sim >= self._min and sim - second >= MIN_MARGIN else None

    def __call__(self, noun: str) -> str | None:
        """The kind ``noun`` names, or None when no kind is similar enough."""
        return self._kind_of(noun)
