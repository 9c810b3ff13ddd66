"""Load: a few thousand mixed requests at concurrency 32 against `rag serve` on 127.0.0.1 while
documents are added and removed. Zero 5xx, zero dropped connections, flat server memory.

Bounded in count (RAG_LOAD_REQUESTS, default 3000) and time (each request 120 s at most); the
figures are printed and written to artifacts/load-test.json. No timing assertions.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from rag.pipeline import Pipeline

from .conftest import DATA, REPO, make_settings
from .support import ServerProcess, rag_env

pytestmark = pytest.mark.stress

REQUESTS = int(os.environ.get("RAG_LOAD_REQUESTS", "3000"))
WARMUP = 200
CONCURRENCY = 32
# Growth of the server's RSS from after warm-up to the end that still counts as flat: index
# versions are rebuilt all along, so allocator noise of a few tens of MB is expected.
RSS_SLACK_MB = 80

QUESTIONS = [
    "When did the Harbor Bridge reopen?",
    "How many steel cables were replaced?",
    "How many parking spaces does the river park have?",
    "Who paid for the bridge repairs?",
    "What is the capital of France?",
]


@dataclass
class Tally:
    """What the load generator saw."""

    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int | str, ms: float, ok: bool, detail: str = "") -> None:
        self.statuses[f"{kind} {status}"] += 1
        self.latencies_ms.setdefault(kind, []).append(ms)
        if not ok:
            self.failures.append(f"{kind} {status} {detail[:300]}")


def _plan(n: int) -> list[str]:
    kinds = ["ask"] * 4 + ["search"] * 3 + ["stream"] * 2 + ["chat"] * 2 + ["documents", "ready"]
    return [kinds[i % len(kinds)] for i in range(n)]


async def _one(client: httpx.AsyncClient, kind: str, i: int, tally: Tally) -> None:
    question = QUESTIONS[i % len(QUESTIONS)]
    start = time.perf_counter()
    status: int | str = "-"
    ok = False
    detail = ""
    try:
        if kind == "ask":
            r = await client.post("/ask", json={"question": question})
            status, ok = r.status_code, r.status_code == 200 and "answer" in r.json()
        elif kind == "search":
            r = await client.post("/search", json={"query": question, "top_k": 3})
            status, ok = r.status_code, r.status_code == 200
        elif kind == "stream":
            async with client.stream("POST", "/ask/stream", json={"question": question}) as r:
                body = (await r.aread()).decode()
            status = r.status_code
            ok = status == 200 and "event: done" in body and "event: error" not in body
            detail = body[-300:]
        elif kind == "chat":
            messages = [{"role": "user", "content": question}]
            r = await client.post(
                "/v1/chat/completions", json={"model": "peace-rag", "messages": messages}
            )
            if r.status_code == 404 and "/v1" not in r.text:  # no such endpoint in this build
                status, ok = "absent", True
            else:
                status, ok = r.status_code, r.status_code == 200
        elif kind == "documents":
            r = await client.get("/documents")
            status, ok = r.status_code, r.status_code == 200
        else:
            r = await client.get("/ready")
            status, ok = r.status_code, r.status_code == 200
        if not detail and not ok:
            detail = r.text
    except httpx.TransportError as exc:  # a dropped or refused connection
        status, detail = type(exc).__name__, str(exc)
    tally.record(kind, status, (time.perf_counter() - start) * 1000, ok, detail)


async def _writer(client: httpx.AsyncClient, stop: asyncio.Event, tally: Tally) -> None:
    """Add and remove documents for as long as the load runs."""
    i = 0
    while not stop.is_set():
        doc = {
            "doc_id": f"load-note-{i}.txt",
            "text": f"Load note {i}. The night ferry number {i} leaves the harbor at {i % 12} "
            "o'clock and carries cyclists for free during the summer season.\n",
            "title": f"Load note {i}",
        }
        for method, url, body, want in (
            ("POST", "/documents", doc, 201),
            ("DELETE", f"/documents/load-note-{i}.txt", None, 200),
        ):
            start = time.perf_counter()
            try:
                r = await client.request(method, url, json=body)
                status, ok, detail = r.status_code, r.status_code == want, r.text
            except httpx.TransportError as exc:
                status, ok, detail = type(exc).__name__, False, str(exc)
            tally.record(
                f"write-{method}", status, (time.perf_counter() - start) * 1000, ok, detail
            )
        i += 1
        await asyncio.sleep(0.2)


async def _run(url: str, plan: list[str], tally: Tally, writes: bool) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY + 4, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for item in enumerate(plan):
            queue.put_nowait(item)

        async def worker() -> None:
            while True:
                try:
                    i, kind = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await _one(client, kind, i, tally)

        stop = asyncio.Event()
        writer = asyncio.create_task(_writer(client, stop, tally)) if writes else None
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
        stop.set()
        if writer is not None:
            await writer
        return elapsed


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def test_mixed_load_while_documents_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path / "index", DATA, embedding={"model": "hash"})
    Pipeline(settings).ingest([DATA])
    env = rag_env(
        tmp_path / "index",
        tmp_path / "data",
        RAG_LIMITS__RATE_LIMIT="",  # one client sends everything; the limiter has its own test
        RAG_PATHS__SEEDS_DIR=str(DATA),
    )
    with ServerProcess(env, tmp_path, tmp_path / "server.log") as server:
        proc = psutil.Process(server.pid)
        rss_start = proc.memory_info().rss
        warm = Tally()
        asyncio.run(_run(server.url, _plan(WARMUP), warm, writes=True))
        rss_warm = proc.memory_info().rss
        tally = Tally()
        elapsed = asyncio.run(_run(server.url, _plan(REQUESTS), tally, writes=True))
        rss_end = proc.memory_info().rss
        alive = proc.is_running() and server.proc is not None and server.proc.poll() is None
    every = [ms for values in tally.latencies_ms.values() for ms in values]
    figures: dict[str, Any] = {
        "requests": len(every),
        "concurrency": CONCURRENCY,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(len(every) / elapsed, 1),
        "p50_ms": _pct(every, 0.5),
        "p95_ms": _pct(every, 0.95),
        "by_kind_p50_p95_ms": {
            k: [_pct(v, 0.5), _pct(v, 0.95)] for k, v in sorted(tally.latencies_ms.items())
        },
        "statuses": dict(sorted(tally.statuses.items())),
        "errors": len(tally.failures) + len(warm.failures),
        "rss_mb": {
            "start": round(rss_start / 2**20, 1),
            "after_warmup": round(rss_warm / 2**20, 1),
            "end": round(rss_end / 2**20, 1),
        },
        "mean_ms": round(statistics.fmean(every), 1) if every else 0.0,
    }
    out = REPO / "artifacts" / "load-test.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    with capsys.disabled():
        print("\nload test:", json.dumps(figures, indent=1))  # noqa: T201 - the figures are the point
    assert alive, "the server died under load"
    assert not warm.failures and not tally.failures, (warm.failures + tally.failures)[:20]
    assert not any(key.split()[-1].startswith("5") for key in tally.statuses), tally.statuses
    assert tally.statuses[f"write-POST {201}"] > 0, "no document was added during the load"
    growth_mb = (rss_end - rss_warm) / 2**20
    assert growth_mb < RSS_SLACK_MB, f"server RSS grew {growth_mb:.0f} MB after warm-up"
