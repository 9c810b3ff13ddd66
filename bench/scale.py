"""Vector search at 100k and 1M chunks: build time, memory, search latency, recall@10.

Embedding a million passages with MiniLM on 2 cores takes days, so the collection is built in
two steps (see docs/benchmarks.md, "How the large collections are made"):

1. Real embeddings: texts made by shuffling the seed articles' sentences (1-3 per text) and
   embedding them with the production model. Cached under artifacts/bench/scale/ in blocks, so
   an interrupted run resumes.
2. Expansion: each synthetic vector is a convex combination of a real vector and one of its 10
   nearest real neighbours, plus a little noise scaled to the local neighbour distance. With
   mean pooling, a passage mixing two texts embeds close to such a combination; the benchmark
   measures how close on real pairs and reports it.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bench.common import RESULTS, percentile
from rag.config import VectorStoreSettings
from rag.embedding import SentenceTransformerEmbedder, Vectors
from rag.vectorstore import FaissSearch, build_faiss_index, describe, index_kind, tune

SCALE_DIR = RESULTS / "scale"
BLOCK = 1000  # texts per cached embedding block


def seed_sentences() -> list[str]:
    """Sentences of the seed collection, as the index split them (run `make index` first)."""
    from rag.config import Settings
    from rag.store import IndexStore

    settings = Settings()
    store = IndexStore(settings.paths.index_dir)
    name = store.current_name()
    if name is None:
        raise SystemExit("no index: run `make index` first")
    version = store.versions / name
    docs = {}
    with (version / "documents.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            docs[row["doc_id"]] = row["text"]
    out = []
    with (version / "sentences.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = " ".join(docs[row["doc_id"]][row["start"] : row["end"]].split())
            if len(text.split()) >= 6 and row["section"] not in ("boilerplate", "comments"):
                out.append(text)
    return out


def shuffled_texts(
    sentences: list[str], n: int, seed: int, exclude: set[frozenset[int]] | None = None
) -> tuple[list[str], set[frozenset[int]]]:
    """``n`` passage-like texts: 1-3 seed sentences drawn at random, in random order, no two
    made of the same sentences (nor of a set in ``exclude``): duplicates would tie in search
    and make recall@10 meaningless. Returns the texts and their sentence sets."""
    rng = random.Random(seed)
    seen: set[frozenset[int]] = set()
    texts: list[str] = []
    while len(texts) < n:
        picked = rng.sample(range(len(sentences)), rng.choice((1, 2, 3)))
        key = frozenset(picked)
        if key in seen or (exclude and key in exclude):
            continue
        seen.add(key)
        texts.append(" ".join(sentences[i] for i in picked))
    return texts, seen


def real_embeddings(
    embedder: SentenceTransformerEmbedder, texts: list[str], tag: str, max_s: float
) -> tuple[Vectors, float]:
    """Embed ``texts`` block by block (cached); stops early after ``max_s``. Returns (vectors,
    texts/s measured on the blocks embedded in this run, or NaN if all were cached)."""
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    blocks: list[Vectors] = []
    embedded = 0
    spent = 0.0
    t_start = time.monotonic()
    for b, start in enumerate(range(0, len(texts), BLOCK)):
        path = SCALE_DIR / f"{tag}-{b:04d}.npy"
        if path.exists():
            blocks.append(np.load(path))
            continue
        if time.monotonic() - t_start > max_s:
            print(f"embedding budget of {max_s:.0f} s used: stopping at {start} texts", flush=True)
            break
        chunk = texts[start : start + BLOCK]
        t0 = time.perf_counter()
        vecs = embedder.embed(chunk)
        spent += time.perf_counter() - t0
        embedded += len(chunk)
        np.save(path, vecs)
        blocks.append(vecs)
        print(f"{tag}: {start + len(chunk)}/{len(texts)} embedded", flush=True)
    rate = embedded / spent if spent else float("nan")
    dim = embedder.dim
    return (np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32)), rate


def mixing_check(
    embedder: SentenceTransformerEmbedder, sentences: list[str], pairs: int = 200
) -> dict[str, float]:
    """How close a convex combination of two real embeddings is to embedding the mixed text."""
    rng = random.Random(7)
    a_texts, b_texts = [], []
    for _ in range(pairs):
        a, b = rng.sample(sentences, 2)
        a_texts.append(a)
        b_texts.append(b)
    ea, eb = embedder.embed(a_texts), embedder.embed(b_texts)
    joined = embedder.embed([f"{a} {b}" for a, b in zip(a_texts, b_texts, strict=True)])
    wa = np.array([len(a.split()) for a in a_texts], dtype=np.float32)
    wb = np.array([len(b.split()) for b in b_texts], dtype=np.float32)
    mix = (wa[:, None] * ea + wb[:, None] * eb) / (wa + wb)[:, None]
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    cos_mix = np.sum(mix * joined, axis=1)
    cos_a = np.sum(ea * joined, axis=1)
    return {
        "pairs": pairs,
        "cos_joined_vs_mix_mean": round(float(cos_mix.mean()), 3),
        "cos_joined_vs_mix_p10": round(float(np.percentile(cos_mix, 10)), 3),
        "cos_joined_vs_part_mean": round(float(cos_a.mean()), 3),
    }


def expand(real: Vectors, n: int, seed: int = 0, neighbours: int = 10) -> Vectors:
    """``n`` vectors: the real ones, then convex combinations of real nearest neighbours with
    noise of a quarter of the anchor's nearest-neighbour distance, renormalised."""
    if n <= len(real):
        out: Vectors = real[:n].copy()
        return out
    index = faiss.IndexFlatIP(real.shape[1])
    index.add(real)
    _, knn = index.search(real, neighbours + 1)
    nn_dist = np.linalg.norm(real - real[knn[:, 1]], axis=1)
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real
    for start in range(len(real), n, 100_000):
        m = min(100_000, n - start)
        anchor = rng.integers(0, len(real), m)
        other = knn[anchor, rng.integers(1, neighbours + 1, m)]
        lam = rng.uniform(0.0, 1.0, m).astype(np.float32)[:, None]
        block = lam * real[anchor] + (1 - lam) * real[other]
        noise = rng.standard_normal(block.shape).astype(np.float32)
        noise *= (0.25 * nn_dist[anchor] / np.sqrt(real.shape[1]))[:, None]
        block += noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def _search_times(index: Any, queries: Vectors, k: int) -> tuple[list[float], np.ndarray]:
    found = np.empty((len(queries), k), dtype=np.int64)
    times: list[float] = []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        _, rows = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - t0) * 1000)
        found[i] = rows[0]
    return times, found


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k that the approximate top-k holds."""
    hits = [len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / k


def _ranked(search: FaissSearch, queries: Vectors, k: int) -> tuple[list[float], np.ndarray]:
    found = np.full((len(queries), k), -1, dtype=np.int64)
    times: list[float] = []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        rows = [r for r, _ in search.search(q, k)]
        times.append((time.perf_counter() - t0) * 1000)
        found[i, : len(rows)] = rows
    return times, found


def measure_size(
    x: Vectors, queries: Vectors, settings: VectorStoreSettings, sweep: list[int]
) -> dict[str, Any]:
    """Exact baseline, then the automatically chosen index alone and with exact re-scoring of
    rerank*k candidates read from the float32 vectors memory-mapped from disk."""
    n, dim = x.shape
    faiss.omp_set_num_threads(1)  # one query per request: what a service worker gets
    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    flat_times, truth = _search_times(flat, queries, 10)
    del flat
    vectors_path = SCALE_DIR / "vectors.npy"
    np.save(vectors_path, x)
    exact = np.load(vectors_path, mmap_mode="r")  # on disk, paged in on use
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    index = build_faiss_index(x, settings)
    build_s = time.perf_counter() - t0
    index_bytes = int(faiss.serialize_index(index).size)
    faiss.omp_set_num_threads(1)
    rows = []
    knob = "hnsw_ef_search" if settings.ann == "hnsw_sq8" else "ivf_probes"
    approximate = index_kind(n, settings) != "flat"
    for value in sweep if approximate else [0]:
        tuned = settings.model_copy(update={knob: value}) if value else settings
        tune(index, tuned)
        times, found = _ranked(FaissSearch(index), queries, 10)
        r_times, r_found = _ranked(FaissSearch(index, exact, settings.rerank), queries, 10)
        rows.append(
            {
                knob: value,
                "p50_ms": round(percentile(times, 50), 3),
                "recall_at_10": round(recall_at(found, truth), 4),
                "rerank_p50_ms": round(percentile(r_times, 50), 3),
                "rerank_recall_at_10": round(recall_at(r_found, truth), 4),
            }
        )
    tune(index, settings)
    times, found = _ranked(FaissSearch(index, exact, settings.rerank), queries, 10)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    del exact
    vectors_path.unlink()
    return {
        "n": n,
        "kind": index_kind(n, settings),
        "index": describe(index)
        + (f" + exact re-scoring of {settings.rerank}×k" if approximate else ""),
        "build_s": round(build_s, 1),
        "index_mib": round(index_bytes / 2**20, 1),
        "float32_mib": round(n * dim * 4 / 2**20, 1),
        "search_p50_ms": round(percentile(times, 50), 3),
        "search_p95_ms": round(percentile(times, 95), 3),
        "recall_at_10": round(recall_at(found, truth), 4),
        "exact_p50_ms": round(percentile(flat_times, 50), 3),
        "sweep": rows,
    }


def run(
    n_real: int = 30_000,
    sizes: tuple[int, ...] = (100_000, 1_000_000),
    n_queries: int = 500,
    embed_budget_s: float = 1800.0,
) -> dict[str, Any]:
    """The whole scale benchmark; returns the results (also written by bench.run)."""
    settings = VectorStoreSettings()
    sentences = seed_sentences()
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", batch_size=64)
    embedder.embed(["warm-up"])
    mixing = mixing_check(embedder, sentences)
    base_texts, base_sets = shuffled_texts(sentences, n_real, seed=1)
    query_texts, _ = shuffled_texts(sentences, n_queries, seed=2, exclude=base_sets)
    real, rate = real_embeddings(embedder, base_texts, "base", embed_budget_s)
    if np.isnan(rate):  # all cached: measure the throughput on a sample anyway
        t0 = time.perf_counter()
        embedder.embed(base_texts[:1000])
        rate = 1000 / (time.perf_counter() - t0)
    held_out, _ = real_embeddings(embedder, query_texts, "queries", embed_budget_s)
    questions_path = Path(__file__).resolve().parents[1] / "eval" / "questions" / "seeds.jsonl"
    questions = [
        json.loads(line)["question"]
        for line in questions_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    queries = np.concatenate([embedder.embed(questions), held_out]).astype(np.float32)
    result: dict[str, Any] = {
        "sentences": len(sentences),
        "real_vectors": len(real),
        "embed_texts_per_s": None if np.isnan(rate) else round(rate, 1),
        "queries": {"questions": len(questions), "held_out_texts": len(held_out)},
        "mixing_check": mixing,
        "settings": settings.model_dump(
            include={"exact_below", "ann", "rerank", "ivf_probes", "hnsw_m", "hnsw_ef_search"}
        ),
        "sizes": [],
    }
    sweep = [32, 64, 128, 256] if settings.ann == "hnsw_sq8" else [4, 8, 16, 32, 64]
    for n in (len(real), *sizes):
        t0 = time.perf_counter()
        x = expand(real, n)
        expand_s = time.perf_counter() - t0
        print(f"scale: {n} vectors (expanded in {expand_s:.1f} s); measuring", flush=True)
        row = measure_size(x, queries, settings, sweep)
        row["expand_s"] = round(expand_s, 1)
        result["sizes"].append(row)
        print(json.dumps(row), flush=True)
        del x
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))  # noqa: T201
