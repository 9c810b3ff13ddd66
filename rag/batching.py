"""Coalesce concurrent single-text embeddings into one model call.

On 2 cores one forward pass over 8 short questions costs little more than over one, so when
requests arrive together, the first caller embeds everything queued while the model was busy.
No timer, no background thread: a lone request is never delayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.embedding import Vectors

EmbedFn = Callable[[Sequence[str]], Vectors]


@dataclass
class _Slot:
    text: str
    vector: Vectors | None = None
    error: BaseException | None = None
    done: bool = False


class QueryBatcher:
    """Embeds one text at a time for each caller, many at a time for the model."""

    def __init__(self, embed: EmbedFn, max_batch: int = 32) -> None:
        self._embed = embed
        self.max_batch = max(1, max_batch)
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        self.batches = 0  # model calls made (for tests and benchmarks)
        self.texts = 0

    def __call__(self, text: str) -> Vectors:
        """The embedding of ``text`` (blocks while an earlier batch runs, then leads or joins)."""
        slot = _Slot(text)
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._busy:
                    self._cond.wait()
                if slot.done:
                    break
                self._busy = True
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            self._run(batch)
        if slot.error is not None:
            raise slot.error
        assert slot.vector is not None
        return slot.vector

    def _run(self, batch: list[_Slot]) -> None:
        try:
            vectors = self._embed([s.text for s in batch])
            for s, vec in zip(batch, vectors, strict=True):
                s.vector = np.array(vec, dtype=np.float32)  # own copy, not a view of the batch
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the failure
            for s in batch:
                s.error = exc
        finally:
            with self._cond:
                self.batches += 1
                self.texts += len(batch)
                for s in batch:
                    s.done = True
                self._busy = False
                self._cond.notify_all()
