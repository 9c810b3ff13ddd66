"""Servers on loopback for tests: the app in this process (a uvicorn thread), or a server in a
child process (`rag serve`, llama.cpp, milvus-lite) that a test can kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import uvicorn

LOOPBACK = "127.0.0.1"  # the only address these tests ever send traffic to
RAG = Path(sys.executable).with_name("rag")  # the installed `rag` command of this interpreter


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (for a child that takes a port number, not a socket)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def loopback_socket() -> socket.socket:
    """A socket bound to a free loopback port (connections are refused until served)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask a child process to exit; kill it if it has not within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LiveServer:
    """uvicorn serving ``app`` in a thread of this process, on a loopback socket bound before
    it starts (no port races); ``url`` is its base URL."""

    def __init__(self, app: Any, sock: socket.socket | None = None) -> None:
        self.sock = sock or loopback_socket()
        self.url = f"http://{LOOPBACK}:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


class ChildServer:
    """A server in a child process on a loopback port, ready once ``ready_path`` answers 200
    (or, when it is None, once the port accepts connections). On exit it is asked to stop,
    or killed when ``kill_on_exit`` (no shutdown handlers: what the crash tests want)."""

    def __init__(
        self,
        cmd: Sequence[str],
        port: int,
        log_path: Path,
        *,
        ready_path: str | None = "/ready",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout_s: float = 180,
        kill_on_exit: bool = False,
    ) -> None:
        self.cmd, self.port, self.log_path = list(cmd), port, log_path
        self.url = f"http://{LOOPBACK}:{port}"
        self.ready_path, self.env, self.cwd = ready_path, env, cwd
        self.timeout_s, self.kill_on_exit = timeout_s, kill_on_exit
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ChildServer:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.cmd[0]} exited: {self.log_tail()}")
            if self._ready():
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"{self.cmd[0]} not ready in {self.timeout_s:.0f} s: {self.log_tail()}")

    def _ready(self) -> bool:
        if self.ready_path is None:
            with socket.socket() as sock:
                return sock.connect_ex((LOOPBACK, self.port)) == 0
        try:
            return httpx.get(self.url + self.ready_path, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the child's output."""
        return self.log_path.read_text(errors="replace")[-chars:]

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing - a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def __exit__(self, *exc: object) -> None:
        if self.kill_on_exit:
            self.kill()
        elif self.proc is not None:
            stop_process(self.proc)


def rag(*args: str) -> list[str]:
    """The `rag` command line, as a user runs it."""
    return [str(RAG), *args]


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


class ServerProcess(ChildServer):
    """`rag serve` on a loopback port in a child process, ready at /ready; killed on exit."""

    def __init__(self, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        port = free_port()
        cmd = rag("serve", "--host", LOOPBACK, "--port", str(port), "--local-only")
        super().__init__(cmd, port, log_path, env=env, cwd=cwd, kill_on_exit=True)

    def __enter__(self) -> ServerProcess:
        super().__enter__()
        return self
