"""Shared benchmark plumbing: machine facts, free ports, spawned servers, RSS, percentiles."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "artifacts" / "bench"  # raw JSON per benchmark; docs/benchmarks.md renders them
RAG = Path(sys.executable).with_name("rag")


def loadavg() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_quiet(threshold: float = 0.7, max_wait_s: float = 1800.0, poll_s: float = 15.0) -> float:
    """Wait until the 1-minute load is below ``threshold`` (or give up); returns the load."""
    deadline = time.monotonic() + max_wait_s
    load = loadavg()
    while load >= threshold and time.monotonic() < deadline:
        print(f"waiting for a quiet machine: load {load:.2f} >= {threshold}", flush=True)
        time.sleep(poll_s)
        load = loadavg()
    return load


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    import faiss
    import numpy
    import torch

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "numpy": numpy.__version__,
        "loadavg_1m": loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, MiB."""
    cur = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            cur = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cur, peak


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask a child process to exit; kill it if it has not within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Server:
    """A `rag serve` child process on 127.0.0.1."""

    proc: subprocess.Popen[bytes]
    port: int
    started: float  # time.monotonic() just before spawning
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        stop_process(self.proc)


def spawn_server(env: dict[str, str], log_name: str, port: int | None = None) -> Server:
    """Start `rag serve --local-only` on a free loopback port with extra environment."""
    port = port or free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / f"{log_name}.log"
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **env}
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(RAG), "serve", "--host", "127.0.0.1", "--port", str(port), "--local-only"],
            cwd=REPO,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(proc, port, started, log_path)


def first_answer(server: Server, question: str, timeout_s: float = 120.0) -> float:
    """Poll POST /ask until it answers 200; seconds since the process was spawned."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {server.log_path}")
            try:
                resp = client.post(f"{server.url}/ask", json={"question": question})
                if resp.status_code == 200:
                    return time.monotonic() - server.started
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise TimeoutError(f"no answer within {timeout_s} s; see {server.log_path}")


def save(name: str, result: dict[str, Any]) -> Path:
    """Write one benchmark's results as JSON under artifacts/bench/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def load(name: str) -> dict[str, Any] | None:
    """A saved benchmark result, if present."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
