"""Two service processes, one Milvus collection: one ingests a document while the other answers.

Runs one milvus-lite server (its data directory admits a single opener, so both services talk
to it over gRPC), a shared index directory, and two `rag serve` processes on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    REPO,
    RESULTS,
    first_answer,
    free_port,
    percentile,
    spawn_server,
    stop_process,
)
from bench.loadgen import run_load
from bench.service import COLD_QUESTION, server_env, unique_questions

HELD_BACK = "004_1b309d18163f8509.txt"  # ingested over HTTP during the run
PROBE = "On which dates were the Arlington, Virginia talks between the Armenian and Azerbaijani "
PROBE += "foreign ministers held?"


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("milvus-lite server exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError("milvus-lite server did not listen")


def _latencies(url: str, question: str, n: int) -> tuple[list[float], list[float]]:
    """HTTP latency and the dense-search stage of ``n`` sequential distinct questions."""
    out, dense = [], []
    with httpx.Client(timeout=30) as client:
        for i in range(n):
            t0 = time.perf_counter()
            resp = client.post(f"{url}/ask", json={"question": f"{i}. {question}"})
            resp.raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
            dense.append(float(resp.json()["timings_ms"].get("retrieve_dense", "nan")))
    return out, dense


def _probe(url: str) -> dict[str, Any]:
    """Ask the probe question (answered only by the document A adds): abstained, cited docs."""
    probe = httpx.post(f"{url}/ask", json={"question": PROBE}).json()
    return {
        "abstained": probe["abstained"],
        "cited": sorted({c["doc_id"] for c in probe["citations"]}),
        "answer": probe["answer"][:300],
    }


def run(load_requests: int = 400) -> dict[str, Any]:
    """The two-process demonstration; returns what happened, with timings."""
    work = RESULTS / "milvus"
    shutil.rmtree(work, ignore_errors=True)
    seeds = work / "seeds"
    seeds.mkdir(parents=True)
    for path in (REPO / "seeds").iterdir():
        if path.name != HELD_BACK:
            shutil.copy(path, seeds / path.name)
    port = free_port()
    milvus_log = (work / "milvus.log").open("wb")
    milvus = subprocess.Popen(
        [str(Path(sys.executable).with_name("milvus-lite")), "server",
         "--data-dir", str(work / "milvus-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=milvus_log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    env = {
        **server_env(),
        "RAG_PATHS__INDEX_DIR": str(work / "index"),
        "RAG_PATHS__SEEDS_DIR": str(seeds),
        # Embeddings of unchanged text come from the main index's cache: no re-embedding.
        "RAG_PATHS__EMBEDDING_CACHE": str(REPO / "index" / "embeddings.sqlite"),
        "RAG_VECTOR_STORE__BACKEND": "milvus",
        "RAG_VECTOR_STORE__MILVUS_URI": f"http://127.0.0.1:{port}",
        "RAG_VECTOR_STORE__MILVUS_COLLECTION": "bench_chunks",
    }
    result: dict[str, Any] = {"milvus": "milvus-lite server (one process), gRPC on loopback"}
    servers = []
    try:
        _wait_port(port, milvus)
        t0 = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("rag")), "ingest", str(seeds)],
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
            check=True,
            capture_output=True,
        )
        result["initial_ingest_s"] = round(time.perf_counter() - t0, 2)
        writer = spawn_server({**env, "RAG_SERVICE__DATA_DIR": str(work / "a")}, "milvus-a")
        reader = spawn_server({**env, "RAG_SERVICE__DATA_DIR": str(work / "b")}, "milvus-b")
        servers = [writer, reader]
        for server in servers:
            first_answer(server, COLD_QUESTION)
        before = httpx.get(f"{reader.url}/health").json()
        result["before"] = {"documents": before["documents"], "chunks": before["chunks"]}
        result["probe_before"] = _probe(reader.url)
        result["c1_latency_ms"] = {}
        for name, server in (("a", writer), ("b", reader)):
            lat, dense = _latencies(server.url, COLD_QUESTION, 50)
            result["c1_latency_ms"][name] = {
                "p50": round(percentile(lat, 50), 2),
                "p95": round(percentile(lat, 95), 2),
                "dense_p50": round(percentile(dense, 50), 2),
            }
        meta = json.loads((REPO / "seeds" / "sources.json").read_text(encoding="utf-8"))[HELD_BACK]
        body = {
            "doc_id": HELD_BACK,
            "text": (REPO / "seeds" / HELD_BACK).read_text(encoding="utf-8"),
            **{k: meta[k] for k in ("title", "publisher", "authors", "date", "date_estimated")},
            "kind": meta["kind"],
        }
        ingest: dict[str, Any] = {}

        def post() -> None:
            time.sleep(1.0)  # the reader is under load first
            t = time.perf_counter()
            resp = httpx.post(f"{writer.url}/documents", json=body, timeout=300)
            ingest["status"] = resp.status_code
            ingest["seconds"] = round(time.perf_counter() - t, 2)
            ingest["done_at"] = time.monotonic()
            ingest["response"] = resp.json()

        seen: dict[str, float] = {}

        def watch() -> None:  # when does B first serve the version A just published?
            deadline = time.monotonic() + 180
            with httpx.Client(timeout=10) as client:
                while time.monotonic() < deadline:
                    version = ingest.get("response", {}).get("index_version")
                    health = client.get(f"{reader.url}/health").json()
                    if version and health["index_version"] == version:
                        seen["at"] = time.monotonic()
                        return
                    time.sleep(0.05)

        threads = [threading.Thread(target=post), threading.Thread(target=watch)]
        for thread in threads:
            thread.start()
        payloads = [{"question": q} for q in unique_questions(load_requests)]
        load = run_load(reader.port, payloads, 4, max_s=120)
        for thread in threads:
            thread.join()
        seen_at = seen.get("at")
        result["ingest_on_a"] = {
            "status": ingest["status"],
            "seconds": ingest["seconds"],
            "chunks": ingest["response"].get("chunks"),
            "embedded_texts": ingest["response"].get("embedded_texts"),
        }
        result["b_under_load_while_a_ingests"] = load.summary()
        result["b_sees_new_version_after_s"] = (
            round(max(0.0, seen_at - ingest["done_at"]), 2) if seen_at else None
        )
        after = httpx.get(f"{reader.url}/health").json()
        result["after"] = {"documents": after["documents"], "chunks": after["chunks"]}
        result["probe_after_on_b"] = _probe(reader.url)
        from rag.config import VectorStoreSettings
        from rag.vectorstore import MilvusStore

        store = MilvusStore(
            VectorStoreSettings(
                backend="milvus",
                milvus_uri=f"http://127.0.0.1:{port}",
                milvus_collection="bench_chunks",
            )
        )
        result["milvus_vectors"] = store.count()
    finally:
        for server in servers:
            server.stop()
        stop_process(milvus)
        milvus_log.close()
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
