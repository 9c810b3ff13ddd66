"""The HTTP service under load: cold start, /ask latency at concurrency 1/8/32, stages, RSS."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, Server, first_answer, free_port, rss_mib, spawn_server
from bench.loadgen import run_load

COLD_QUESTION = "When did AzerTelecom and Telecom Armenia sign their agreement?"
# Neutral lead-ins make every request a new question: the query-embedding cache never hits,
# so each answer pays for its embedding (the worst case).
PREFIXES = (
    "",
    "Question: ",
    "Please answer: ",
    "I would like to know: ",
    "Quick check: ",
    "Tell me: ",
    "Can you say: ",
    "From the documents: ",
    "Help me understand: ",
    "One question. ",
    "Briefly: ",
    "In short, ",
    "Could you answer this: ",
    "Query: ",
    "Fact check: ",
    "Per the sources: ",
)
LEVELS = ((1, 300), (8, 600), (32, 600))


def questions() -> list[str]:
    """The evaluation question set."""
    path = REPO / "eval" / "questions" / "seeds.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    # the answer questions: compare and timeline ones take another path (bench separately)
    return [r["question"] for r in rows if r["type"] in ("single", "multi", "unanswerable")]


def unique_questions(total: int) -> list[str]:
    """``total`` distinct questions: the set under one lead-in, then the next, ..."""
    base = questions()
    out = [p + q for p in PREFIXES for q in base]
    if total > len(out):
        raise ValueError(f"only {len(out)} distinct questions; asked for {total}")
    return out[:total]


def server_env() -> dict[str, str]:
    """Settings for a benchmark server: no per-client rate limit (one client sends it all)."""
    from rag.config import Settings

    env = {"RAG_SERVICE__DATA_DIR": str(REPO / "artifacts" / "bench" / "service-data")}
    if "limits" in Settings.model_fields:
        env["RAG_LIMITS__RATE_LIMIT"] = ""
    return env


def spawn(label: str, env: dict[str, str], src: Path | None) -> Server:
    """`rag serve` from this tree, or from another source tree ``src`` (a baseline)."""
    if src is None:
        return spawn_server(env, label)
    import os

    port = free_port()
    log_path = REPO / "artifacts" / "bench" / f"{label}.log"
    full_env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "RAG_PATHS__INDEX_DIR": str(REPO / "index"),
        "RAG_PATHS__SEEDS_DIR": str(REPO / "seeds"),
        **env,
    }
    # Trees before the command line moved out of the library kept it in rag/cli.py.
    entry = "cli.main" if (src / "cli" / "main.py").exists() else "rag.cli"
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", f"from {entry} import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port), "--local-only"],
            cwd=src,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Server(proc, port, started, log_path)


def cold_starts(label: str, env: dict[str, str], src: Path | None, runs: int) -> list[float]:
    """Seconds from spawning the process to its first /ask answer, ``runs`` times."""
    out = []
    for i in range(runs):
        server = spawn(f"{label}-cold{i}", env, src)
        try:
            out.append(round(first_answer(server, COLD_QUESTION), 2))
        finally:
            server.stop()
    return out


def run(
    label: str = "current",
    extra_env: dict[str, str] | None = None,
    src: Path | None = None,
    cold_runs: int = 3,
    levels: tuple[tuple[int, int], ...] = LEVELS,
    max_s: float = 120.0,
) -> dict[str, Any]:
    """Cold start, then each concurrency level with fresh questions, on one server process."""
    env = {**server_env(), **(extra_env or {})}
    if src is not None:  # an older tree may not know newer setting groups (extra="forbid")
        env = {k: v for k, v in env.items() if not k.startswith("RAG_LIMITS__")}
    result: dict[str, Any] = {"label": label, "env": extra_env or {}}
    result["cold_start_s"] = cold_starts(label, env, src, cold_runs)
    total = sum(n for _, n in levels) + 40
    pool = unique_questions(total)
    server = spawn(label, env, src)
    try:
        first_answer(server, COLD_QUESTION)
        _, peak_idle = rss_mib(server.proc.pid)
        warm = run_load(server.port, [{"question": q} for q in pool[-40:]], 4, max_s)
        result["warmup_errors"] = warm.errors
        used = 0
        result["levels"] = []
        for concurrency, n in levels:
            payloads = [{"question": q} for q in pool[used : used + n]]
            used += n
            res = run_load(server.port, payloads, concurrency, max_s)
            summary = res.summary()
            summary["rss_mib"], summary["peak_rss_mib"] = (
                round(x, 1) for x in rss_mib(server.proc.pid)
            )
            result["levels"].append(summary)
            print(
                f"{label} c={concurrency}: p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} "
                f"ms, {summary['answers_per_s']} answers/s, errors {summary['errors']}",
                flush=True,
            )
        result["rss_after_start_mib"] = round(peak_idle, 1)
        result["peak_rss_mib"] = round(rss_mib(server.proc.pid)[1], 1)
    finally:
        server.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
