"""Phrase similarity (a value against the noun asked for) and the bounded vector cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embedding import Vectors, make_embedder
from rag.phrase_vectors import PhraseSimilarity
from rag.vector_cache import VectorCache


class RecordingEmbedder:
    """The real MiniLM, recording each call's texts."""

    def __init__(self) -> None:
        self.inner = make_embedder(Settings().embedding.model, 32)
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_an_instance_of_the_noun_is_closer_and_phrases_are_embedded_once() -> None:
    embed = RecordingEmbedder()
    calls = embed.calls
    similar = PhraseSimilarity(embed)
    oil, newspaper = similar(["crude oil", "The Daily Courier"], "commodity")
    assert oil > newspaper
    assert similar(["crude oil"], "commodity") == [oil]  # both kept: no second model call
    assert calls == [["crude oil", "The Daily Courier", "commodity"]]


def test_the_cache_keeps_the_most_recently_used() -> None:
    cache = VectorCache(2)
    one, two, three = (np.full(3, float(i), dtype=np.float32) for i in (1, 2, 3))
    cache.put("one", one)
    cache.put("two", two)
    assert cache.get("one") is one  # "one" is now the most recently used
    cache.put("three", three)
    assert cache.get("two") is None
    assert cache.get("one") is one and cache.get("three") is three


def test_warmed_words_are_kept_beyond_the_bounded_cache_and_embedded_once() -> None:
    embed = RecordingEmbedder()
    calls = embed.calls
    similar = PhraseSimilarity(embed, size=1)  # room for one phrase met while answering
    assert similar.warm(["ferry", "harbour", "ferry", "crane", "quay"]) == 4
    assert calls == [["ferry", "harbour", "crane", "quay"]]  # one batch, each phrase once
    assert similar.warm(["ferry", "harbour"]) == 0  # already kept: no model call
    ferry, crane = similar(["ferry", "crane"], "harbour")
    assert calls == [["ferry", "harbour", "crane", "quay"]]  # all from the warmed vectors
    assert ferry > crane
    similar(["gull", "tern"], "quay")  # phrases met while answering: one model call ...
    assert calls[1:] == [["gull", "tern"]]
    similar(["ferry"], "quay")  # ... and they don't push the warmed ones out
    assert len(calls) == 2


def test_a_matrix_of_cosines_matches_one_call_per_target() -> None:
    similar = PhraseSimilarity(RecordingEmbedder())
    words, targets = ["ferry", "crane", "quay"], ["harbour", "bird"]
    cos = similar.matrix(words, targets)
    assert cos.shape == (3, 2)
    for j, target in enumerate(targets):
        assert np.allclose(cos[:, j], similar(words, target), atol=1e-6)


def test_warm_vectors_come_from_a_snapshot_once_written(tmp_path: Path) -> None:
    from rag.embedding import HashEmbedder

    inner = HashEmbedder()
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> Vectors:
        calls.append(list(texts))
        return inner.embed(texts)

    words = ["border", "treaty", "corridor", "border"]
    first = PhraseSimilarity(embed)
    assert first.warm_from_snapshot(words, embed, tmp_path, "hash") == 3
    assert calls == [["border", "treaty", "corridor"]]
    (snapshot,) = tmp_path.glob("*.npy")

    second = PhraseSimilarity(embed)
    assert second.warm_from_snapshot(words, embed, tmp_path, "hash") == 3
    assert len(calls) == 1  # read from the file, no model call
    assert np.allclose(second.vectors(["treaty"]), inner.embed(["treaty"]))

    # Another phrase list (the documents changed): a new file replaces the old one.
    PhraseSimilarity(embed).warm_from_snapshot(["border", "exclave"], embed, tmp_path, "hash")
    assert len(calls) == 2
    assert [p.name for p in tmp_path.glob("*.npy")] != [snapshot.name]
    assert len(list(tmp_path.glob("*.npy"))) == 1

    # A damaged file is rebuilt, not trusted.
    (current,) = tmp_path.glob("*.npy")
    current.write_bytes(b"not an array")
    PhraseSimilarity(embed).warm_from_snapshot(["border", "exclave"], embed, tmp_path, "hash")
    assert len(calls) == 3
