"""Recently used text -> vector, bounded and shared by request threads."""

from __future__ import annotations

import threading
from collections import OrderedDict

from rag.embedding import Vectors


class VectorCache:
    """The ``size`` most recently used vectors, by their text (least recently used goes)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Vectors | None:
        """The vector kept for ``text``, if any (it becomes the most recently used)."""
        with self._lock:
            vec = self._items.get(text)
            if vec is not None:
                self._items.move_to_end(text)
            return vec

    def put(self, text: str, vec: Vectors) -> None:
        """Keep ``vec`` for ``text``, dropping the least recently used beyond the size."""
        with self._lock:
            self._items[text] = vec
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
