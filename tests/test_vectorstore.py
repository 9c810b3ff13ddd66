"""Vector stores: the FAISS index chosen by size, exact vectors kept, and query batching."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.batching import QueryBatcher
from rag.config import VectorStoreSettings
from rag.embedding import Vectors
from rag.pipeline import Pipeline
from rag.vectorstore import FaissSearch, build_faiss_index, index_kind, is_exact, vector_keys

from .conftest import DATA, make_settings
from .support import FakeSplitter


def clustered(n: int, dim: int = 64, seed: int = 0) -> Vectors:
    """Normalised vectors around a few hundred centres, like embeddings of related texts."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    x = centres[rng.integers(0, 200, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def test_small_collections_get_an_exact_index() -> None:
    settings = VectorStoreSettings(exact_below=1000)
    assert index_kind(999, settings) == "flat"
    assert index_kind(1000, settings) == settings.ann
    index = build_faiss_index(clustered(500), settings)
    assert isinstance(index, faiss.IndexFlatIP) and is_exact(index)


@pytest.mark.parametrize("ann", ["hnsw_sq8", "ivf_sq8"])
def test_large_collections_get_a_compact_approximate_index(ann: str) -> None:
    x = clustered(6000, dim=384)  # the model's dimension: links weigh little next to codes
    # Queries near the data, as questions are near the passages that answer them.
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, len(x), 50)] + 0.02 * rng.standard_normal((50, 384))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    settings = VectorStoreSettings(exact_below=1000, ann=ann, ivf_probes=16)  # type: ignore[arg-type]
    index = build_faiss_index(x, settings)
    assert not is_exact(index)
    assert faiss.serialize_index(index).size < x.nbytes  # 8-bit codes, not float32 rows
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(queries, 10)

    def recall(search: FaissSearch) -> float:
        found = [{r for r, _ in search.search(q, 10)} for q in queries]
        return float(np.mean([len(f & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))

    assert recall(FaissSearch(index)) >= 0.9
    rescored = FaissSearch(index, x, rerank=2)  # exact scores for twice as many candidates
    assert recall(rescored) >= recall(FaissSearch(index))
    row, score = rescored.search(queries[0], 1)[0]
    assert abs(score - float(x[row] @ queries[0])) < 1e-5


def test_approximate_index_keeps_exact_vectors_on_disk(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "idx", DATA, embedding={"model": "hash"}, vector_store={"exact_below": 0}
    )
    pipeline = Pipeline(settings, splitter=FakeSplitter())
    built = pipeline.ingest([DATA])
    assert not is_exact(built.faiss_index)
    version = settings.paths.index_dir / "versions" / built.version
    assert (version / "chunks.npy").exists()
    loaded = Pipeline(settings).loaded.data
    assert np.array_equal(loaded.chunk_vectors, built.chunk_vectors)
    hits = pipeline.search("Harbor Bridge reopened").results
    assert hits and hits[0].doc_id == "harbor_bridge.txt"


def test_vector_keys_follow_content() -> None:
    x = clustered(5)
    keys = vector_keys(x)
    assert (keys >= 0).all() and len(set(keys.tolist())) == 5
    assert (vector_keys(x[::-1]) == keys[::-1]).all()
    y = x.copy()
    y[2, 0] += 1e-3
    assert vector_keys(y)[2] != keys[2] and vector_keys(y)[0] == keys[0]


class SlowEmbedder:
    """Sleeps per call, not per text: what a batched forward pass costs roughly."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        time.sleep(0.05)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_concurrent_queries_share_model_calls() -> None:
    inner = SlowEmbedder()
    batcher = QueryBatcher(inner, max_batch=32)
    results: dict[str, Vectors] = {}

    def ask(text: str) -> None:
        results[text] = batcher(text)

    threads = [threading.Thread(target=ask, args=("q" * (i + 1),)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results["q" * (i + 1)][0] == i + 1 for i in range(16))
    assert sum(inner.calls) == 16
    assert len(inner.calls) < 16  # batched, not one call per question


def test_a_lone_query_is_not_delayed_and_errors_reach_every_waiter() -> None:
    inner = SlowEmbedder()
    batcher = QueryBatcher(inner, max_batch=1)
    t0 = time.perf_counter()
    assert batcher("one")[0] == 3.0
    assert time.perf_counter() - t0 < 0.5 and inner.calls == [1]

    def broken(texts: Sequence[str]) -> Vectors:
        raise RuntimeError("model gone")

    failing = QueryBatcher(broken)
    with pytest.raises(RuntimeError, match="model gone"):
        failing("x")
    with pytest.raises(RuntimeError):  # the next caller leads a new batch, nothing hangs
        failing("y")
