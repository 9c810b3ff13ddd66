"""The embedding backends side by side: the service on each (cold start, RSS, /ask latency,
throughput at concurrency 8) and the query-embedding floor (one short question, in process).

Each backend gets its own index under artifacts/bench/index-<backend> (an index records the
backend its vectors came from); the embedding cache is shared, so only new vectors are computed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from typing import Any

from bench.common import RAG, REPO, RESULTS
from bench.service import run as run_service
from bench.service import unique_questions

BACKENDS = ("torch", "onnx", "onnx-int8")
MODELS = ("all-MiniLM-L6-v2", "all-mpnet-base-v2")  # mpnet only once `make mpnet` ran
LEVELS = ((1, 300), (8, 600))


def _env(backend: str, model: str = "all-MiniLM-L6-v2") -> dict[str, str]:
    slug = backend if model == "all-MiniLM-L6-v2" else f"{model}-{backend}"
    return {
        "RAG_EMBEDDING__BACKEND": backend,
        "RAG_EMBEDDING__MODEL": model,
        "RAG_PATHS__INDEX_DIR": str(RESULTS / f"index-{slug}"),
        "RAG_PATHS__EMBEDDING_CACHE": str(REPO / "index" / "embeddings.sqlite"),
    }


def build_index(backend: str, model: str = "all-MiniLM-L6-v2") -> None:
    """`rag ingest --if-missing` into the backend's own index directory."""
    subprocess.run(
        [str(RAG), "ingest", "--if-missing"],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **_env(backend, model)},
        check=True,
        capture_output=True,
    )


def embedding_floor(backend: str, model: str = "all-MiniLM-L6-v2", n: int = 200) -> dict[str, Any]:
    """Milliseconds to embed one short question, ``n`` different ones, one at a time."""
    from rag.embedding import make_embedder

    started = time.perf_counter()
    embedder = make_embedder(model, 32, backend, REPO / "models" / "onnx")
    load_s = time.perf_counter() - started
    questions = unique_questions(n + 5)
    embedder.embed(questions[:5])  # first calls allocate
    times = []
    for q in questions[5:]:
        t0 = time.perf_counter()
        embedder.embed([q])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "model": model,
        "backend": backend,
        "load_s": round(load_s, 2),
        "embed_p50_ms": round(statistics.median(times), 2),
        "embed_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
    }


def run(models: tuple[str, ...] = MODELS) -> dict[str, Any]:
    """Every backend of every model: its service run and its embedding floor."""
    out: dict[str, Any] = {"services": [], "floors": []}
    for model in models:
        if model == "all-mpnet-base-v2" and not (REPO / "models" / model).is_dir():
            continue
        for backend in BACKENDS:
            out["floors"].append(embedding_floor(backend, model))
            print(json.dumps(out["floors"][-1]), flush=True)
    for backend in BACKENDS:
        build_index(backend)
        result = run_service(f"backend-{backend}", _env(backend), cold_runs=5, levels=LEVELS)
        result["backend"] = backend
        out["services"].append(result)
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
