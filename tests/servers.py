"""The real service in a child process on 127.0.0.1 (for load, crash and kill -9 tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.common import free_port

LOOPBACK = "127.0.0.1"  # the only address these tests ever send traffic to


def rag_env(index_dir: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a `rag` child: hash embedder, local-only, its own directories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "RAG_PATHS__INDEX_DIR": str(index_dir),
            "RAG_EMBEDDING__MODEL": "hash",
            "RAG_SERVICE__LOCAL_ONLY": "true",
            "RAG_SERVICE__DATA_DIR": str(data_dir),
        }
    )
    env.update(extra)
    return env


def rag(*args: str) -> list[str]:
    """The `rag` command line run by this interpreter."""
    return [sys.executable, "-m", "rag.cli", *args]


class ServerProcess:
    """`rag serve` on a loopback port in a child process; killed (not asked) on exit."""

    def __init__(self, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.env, self.cwd, self.log_path = env, cwd, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        cmd = rag("serve", "--host", LOOPBACK, "--port", str(self.port), "--local-only")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not become ready: {self.log_path.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing - a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self.kill()
