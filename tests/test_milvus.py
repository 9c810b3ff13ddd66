"""The Milvus vector store (milvus-lite here): same answers as FAISS, and two service processes
sharing one collection while one of them ingests."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag.config import Settings
from rag.pipeline import Pipeline
from rag.vectorstore import MilvusStore

from .conftest import DATA, make_settings
from .support import ChildServer, FakeSplitter, ServerProcess, free_port, rag_env

pytest.importorskip("pymilvus", reason="the milvus extra is not installed (pip install .[milvus])")
pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install .[milvus])")

BIN = Path(sys.executable).parent


def milvus_settings(root: Path, uri: str) -> Settings:
    """Hash embedder over tests/data, dense search in Milvus at ``uri``."""
    return make_settings(
        root / "index",
        DATA,
        embedding={"model": "hash"},
        vector_store={"backend": "milvus", "milvus_uri": uri, "milvus_collection": "chunks"},
    )


def test_milvus_backend_finds_what_faiss_finds(tmp_path: Path) -> None:
    faiss_settings = make_settings(tmp_path / "faiss", DATA, embedding={"model": "hash"})
    faiss_pipe = Pipeline(faiss_settings, splitter=FakeSplitter())
    faiss_pipe.ingest([DATA])
    milvus_pipe = Pipeline(
        milvus_settings(tmp_path, str(tmp_path / "milvus.db")), splitter=FakeSplitter()
    )
    milvus_pipe.ingest([DATA])
    store = milvus_pipe.vector_store
    assert isinstance(store, MilvusStore)
    data = milvus_pipe.loaded.data
    assert store.count() == len({v.tobytes() for v in data.chunk_vectors})
    for query in ("Harbor Bridge reopened", "River Park parking garage", "city council vote"):
        vec = milvus_pipe.embed_query(query)
        got = milvus_pipe.loaded.retriever.dense_ranking(vec, 5)
        want = faiss_pipe.loaded.retriever.dense_ranking(vec, 5)
        # Same scores in the same order (rows may swap only where the hash embedder ties).
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-4)
        exact = data.chunk_vectors @ vec
        assert all(abs(exact[r] - s) < 1e-4 for r, s in got)
    # Removing a document removes its vectors; only the changed document is inserted back.
    before = store.count()
    milvus_pipe.remove_document("river_park.md")
    assert store.count() < before
    assert all(h.doc_id != "river_park.md" for h in milvus_pipe.search("River Park").results)


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[str]:
    """One milvus-lite server process on loopback (its data directory allows one opener)."""
    port = free_port()
    cmd = [str(BIN / "milvus-lite"), "server", "--data-dir", str(tmp_path / "milvus"),
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with ChildServer(cmd, port, tmp_path / "milvus.log", ready_path=None, timeout_s=60) as server:
        yield server.url


def _serve(tmp_path: Path, name: str, uri: str) -> ServerProcess:
    env = rag_env(
        tmp_path / "index",
        tmp_path / f"data-{name}",
        RAG_PATHS__SEEDS_DIR=str(DATA),
        RAG_PATHS__RELOAD_INTERVAL_S="0.2",
        RAG_VECTOR_STORE__BACKEND="milvus",
        RAG_VECTOR_STORE__MILVUS_URI=uri,
        RAG_VECTOR_STORE__MILVUS_COLLECTION="chunks",
    )
    return ServerProcess(env, tmp_path, tmp_path / f"serve-{name}.log")


def test_two_services_share_one_collection_while_one_ingests(
    tmp_path: Path, milvus_server: str
) -> None:
    writer_pipe = Pipeline(milvus_settings(tmp_path, milvus_server))
    writer_pipe.ingest([DATA / "harbor_bridge.txt"])
    with (
        _serve(tmp_path, "a", milvus_server) as writer,
        _serve(tmp_path, "b", milvus_server) as reader,
    ):
        first = httpx.get(f"{reader.url}/health", timeout=5).json()
        assert first["documents"] == 1
        answers: list[int] = []
        done = threading.Event()

        def keep_asking() -> None:  # the reader answers all through the writer's ingest
            with httpx.Client(timeout=30) as client:
                while not done.is_set() and len(answers) < 200:
                    resp = client.post(f"{reader.url}/search", json={"query": "bridge reopened"})
                    answers.append(resp.status_code)

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            text = (DATA / "river_park.md").read_text(encoding="utf-8")
            resp = httpx.post(
                f"{writer.url}/documents",
                json={"doc_id": "river_park.md", "text": text, "title": "River Park"},
                timeout=60,
            )
            assert resp.status_code == 201, resp.text
            version = resp.json()["index_version"]
            deadline = time.monotonic() + 20
            found: list[str] = []
            while time.monotonic() < deadline:
                hits = httpx.post(
                    f"{reader.url}/search", json={"query": "River Park parking garage"}, timeout=30
                ).json()["results"]
                found = [h["doc_id"] for h in hits]
                if "river_park.md" in found:
                    break
                time.sleep(0.2)
        finally:
            done.set()
            asker.join(timeout=60)
        assert "river_park.md" in found, found
        assert httpx.get(f"{reader.url}/health", timeout=5).json()["index_version"] == version
        assert answers and set(answers) == {200}
        # The reader's dense search ran in Milvus: the new document's vectors are there.
        store = MilvusStore(milvus_settings(tmp_path, milvus_server).vector_store)
        data = Pipeline(milvus_settings(tmp_path, milvus_server)).loaded.data
        assert store.count() == len({v.tobytes() for v in data.chunk_vectors})
