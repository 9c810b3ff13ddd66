"""Crashes: `kill -9` in the middle of an ingestion and of feedback writes; nothing is lost or
half-present afterwards, and the interrupted work completes when run again."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import faiss
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.pipeline import Pipeline
from service.app import create_app

from .conftest import DATA, make_settings
from .support import ServerProcess, rag, rag_env

pytestmark = pytest.mark.stress


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def check_index_consistent(index_dir: Path) -> dict[str, Any]:
    """The live version agrees with its manifest: files, documents, chunks and vectors."""
    name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    version = index_dir / "versions" / name
    manifest: dict[str, Any] = json.loads((version / "manifest.json").read_text())
    for file_name, sha in manifest["files"].items():
        assert _sha(version / file_name) == sha, f"{name}/{file_name} differs from its manifest"
    documents = _rows(version / "documents.jsonl")
    chunks = _rows(version / "chunks.jsonl")
    sentences = _rows(version / "sentences.jsonl")
    assert {d["doc_id"]: d["sha256"] for d in documents} == manifest["documents"]
    assert len(chunks) == manifest["n_chunks"]
    files = manifest["files"]
    assert {"chunks.faiss", "chunks.npy"} & set(files), "no chunk vectors in the manifest"
    if "chunks.faiss" in files:
        assert faiss.read_index(str(version / "chunks.faiss")).ntotal == len(chunks)
    if "chunks.npy" in files:
        assert len(np.load(version / "chunks.npy", mmap_mode="r")) == len(chunks)
    assert len(sentences) == manifest["n_sentences"] == len(np.load(version / "sentences.npy"))
    # No document without chunks, no chunk without its document, every span verbatim.
    assert {c["doc_id"] for c in chunks} == set(manifest["documents"])
    texts = {d["doc_id"]: d["text"] for d in documents}
    for chunk in chunks:
        assert texts[chunk["doc_id"]][chunk["start"] : chunk["end"]] == chunk["text"]
    return {"version": name, **manifest}


def _big_document(path: Path, paragraphs: int) -> None:
    rnd = random.Random(paragraphs)
    words = "harbor bridge ferry council cable steel park river budget tender engineer".split()
    body = [
        " ".join(
            f"In section {p} the {rnd.choice(words)} {rnd.choice(words)} report {p * 7 + i} was "
            f"filed by the city council on day {i} of the inquiry."
            for i in range(6)
        )
        for p in range(paragraphs)
    ]
    path.write_text("Generated inquiry report\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")


def _run_and_kill_when_saving(cmd: list[str], env: dict[str, str], cwd: Path, index: Path) -> bool:
    """Run ``cmd``; SIGKILL it as soon as it starts writing a new index version.

    Returns False if it finished before the kill (the save window was missed).
    """
    versions = index / "versions"
    before = {p.name for p in versions.iterdir()}
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            names = {e.name for e in os.scandir(versions)}
            if any(n.startswith(".tmp-") and n not in before for n in names):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return True
            time.sleep(0.0003)
        assert proc.poll() is not None, "ingestion did not finish in 300 s"
        assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _serves(settings: Settings, version: str) -> None:
    """A fresh service on this index is ready, serves ``version`` as CURRENT, and answers."""
    with TestClient(create_app(settings)) as client:
        ready = client.get("/ready").json()
        assert ready["ready"] and ready["serving_version"] == version, ready
        assert ready["serving_current"] is True
        body = client.post("/ask", json={"question": "How many steel cables were replaced?"})
        assert body.status_code == 200 and "312" in body.json()["answer"]


@pytest.mark.parametrize("command", ["add", "ingest"])
def test_kill_9_during_ingestion_leaves_previous_index_whole(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    settings = make_settings(
        index,
        DATA,
        embedding={"model": "hash"},
        service={"local_only": True, "data_dir": str(tmp_path / "data")},
    )
    Pipeline(settings).ingest([DATA])
    before = check_index_consistent(index)
    env = rag_env(index, tmp_path / "data")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in DATA.iterdir():
        if src.is_file():
            (corpus / src.name).write_bytes(src.read_bytes())
    big = corpus / "inquiry.txt"
    cmd = rag("add", str(big)) if command == "add" else rag("ingest", str(corpus))

    # The save of a version takes tens of ms; a bigger document widens it if a kill was late.
    caught = False
    for paragraphs in (150, 300, 600):
        _big_document(big, paragraphs)
        if _run_and_kill_when_saving(cmd, env, tmp_path, index):
            caught = True
            with capsys.disabled():
                print(f"\nrag {command}: killed while writing ({paragraphs} paragraphs)")  # noqa: T201 - a figure for the report
            break
        # It completed: put the old collection back and try again with a longer save.
        check_index_consistent(index)
        Pipeline(settings).ingest([DATA])
        before = check_index_consistent(index)
    assert caught, "never caught the ingestion while it was writing"

    after = check_index_consistent(index)
    assert after["version"] == before["version"], "a half-written version went live"
    assert "inquiry.txt" not in after["documents"]
    assert any(p.name.startswith(".tmp-") for p in (index / "versions").iterdir())
    _serves(settings, before["version"])

    # Run the same ingestion again: it completes, and the debris of the crash is gone.
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    final = check_index_consistent(index)
    assert final["version"] != before["version"]
    assert "inquiry.txt" in final["documents"]
    assert set(final["documents"]) >= set(before["documents"])
    assert not any(p.name.startswith(".tmp-") for p in (index / "versions").iterdir())
    _serves(settings, final["version"])


FEEDBACK_WRITER = """
import sys
from pathlib import Path
from service.feedback_store import FeedbackStore

store = FeedbackStore(Path(sys.argv[1]))
i = 0
while True:
    row_id = store.add(f"question {i}?", f"answer {i}", "up" if i % 2 else "down", None)
    print(row_id, i, flush=True)  # acknowledged only after the commit returned
    i += 1
"""


def _check_acknowledged(db: Path, acked: dict[int, int]) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = dict(conn.execute("SELECT id, question FROM feedback").fetchall())
    finally:
        conn.close()
    missing = [row_id for row_id in acked if row_id not in rows]
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {missing[:5]}"
    for row_id, i in acked.items():
        assert rows[row_id] == f"question {i}?"


def test_kill_9_while_writing_feedback_loses_no_acknowledged_row(tmp_path: Path) -> None:
    db = tmp_path / "data" / "feedback.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", FEEDBACK_WRITER, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acked: dict[int, int] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while len(acked) < 300 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            row_id, i = line.split()
            acked[int(row_id)] = int(i)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-loop: a row is usually in flight
        proc.wait(timeout=30)
    assert len(acked) >= 300, proc.stderr.read().decode() if proc.stderr else ""
    _check_acknowledged(db, acked)


def test_kill_9_server_while_posting_feedback(tmp_path: Path) -> None:
    """Every 201 the service sent is in the database after the server is killed."""
    settings = make_settings(tmp_path / "index", DATA, embedding={"model": "hash"})
    Pipeline(settings).ingest([DATA])
    env = rag_env(tmp_path / "index", tmp_path / "data")
    acked: dict[int, int] = {}
    errors: list[str] = []
    with ServerProcess(env, tmp_path, tmp_path / "server.log") as server:
        stop = threading.Event()

        def post(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                i = worker
                while not stop.is_set():
                    body = {"question": f"question {i}?", "answer": f"answer {i}", "rating": "up"}
                    try:
                        r = client.post("/feedback", json=body)
                    except httpx.TransportError:
                        return  # the server is gone: this row was never acknowledged
                    if r.status_code == 201:
                        acked[r.json()["id"]] = i
                    else:
                        errors.append(r.text)
                    i += 4

        threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors[:3]
    assert len(acked) >= 200
    _check_acknowledged(tmp_path / "data" / "feedback.sqlite", acked)
