"""A small closed-loop HTTP/1.1 load generator for loopback only, bounded in requests and time.

Hand-rolled on asyncio streams (keep-alive, Content-Length bodies) so the client costs far less
CPU than the server it measures: both share the same 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class LoadResult:
    """Latencies and outcome of one load level."""

    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Percentiles, throughput and per-stage medians."""
        lat = self.latencies_ms
        n = len(lat)
        return {
            "concurrency": self.concurrency,
            "requests": n + self.errors,
            "ok": n,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "wall_s": round(self.wall_s, 3),
            "answers_per_s": round(n / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 2),
            "p95_ms": round(percentile(lat, 95), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else None,
            "stages_p50_ms": {
                k: round(percentile(v, 50), 3) for k, v in sorted(self.stage_ms.items())
            },
            "stages_p95_ms": {
                k: round(percentile(v, 95), 3) for k, v in sorted(self.stage_ms.items())
            },
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def _worker(
    host: str,
    port: int,
    path: str,
    bodies: list[bytes],
    next_index: list[int],
    result: LoadResult,
    deadline: float,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            i = next_index[0]
            if i >= len(bodies):
                return
            next_index[0] = i + 1
            body = bodies[i]
            request = (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter()
            try:
                writer.write(request)
                await writer.drain()
                status, payload = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200:
                result.errors += 1
                continue
            result.latencies_ms.append(elapsed)
            for stage, ms in json.loads(payload).get("timings_ms", {}).items():
                result.stage_ms.setdefault(stage, []).append(float(ms))
    finally:
        writer.close()


async def _run(
    host: str, port: int, path: str, bodies: list[bytes], concurrency: int, max_s: float
) -> LoadResult:
    result = LoadResult(concurrency)
    next_index = [0]
    t0 = time.monotonic()
    deadline = t0 + max_s
    await asyncio.gather(
        *(
            _worker(host, port, path, bodies, next_index, result, deadline)
            for _ in range(concurrency)
        )
    )
    result.wall_s = time.monotonic() - t0
    return result


def run_load(
    port: int,
    payloads: Sequence[dict[str, Any]],
    concurrency: int,
    max_s: float = 120.0,
    path: str = "/ask",
    host: str = "127.0.0.1",
) -> LoadResult:
    """Send each payload once from ``concurrency`` keep-alive connections; stop at ``max_s``."""
    if host not in _LOOPBACK:
        raise ValueError("the load generator only targets this machine's loopback address")
    bodies = [json.dumps(p).encode() for p in payloads]
    return asyncio.run(_run(host, port, path, bodies, concurrency, max_s))
