"""What tests share besides fixtures (those live in conftest.py). Import from here:

- servers: ``LiveServer`` (the app in a uvicorn thread of this process), ``ChildServer`` (any
  server in a child process, ready-polled and stopped or killed on exit), ``ServerProcess``
  (`rag serve` as a child), ``rag``/``rag_env`` (a `rag` command line and its environment),
  ``free_port``, ``loopback_socket``, ``stop_process``;
- fakes: ``FakeSplitter`` (sentences and entities by rules, instead of spaCy);
- scripted_llm: ``ScriptedLLM``/``scripted_llm`` (a chat-completions server that replies
  what the test queued), ``sources_of``, ``source_number``;
- sse: ``parse_sse`` (Server-Sent Events into (event, data) pairs);
- browser: ``launch_chromium``, ``needs_chromium`` (Debian's Chromium, never a downloaded one).
"""

from tests.support.fakes import FakeSplitter
from tests.support.scripted_llm import ScriptedLLM, scripted_llm, source_number, sources_of
from tests.support.servers import (
    LOOPBACK,
    ChildServer,
    LiveServer,
    ServerProcess,
    free_port,
    loopback_socket,
    rag,
    rag_env,
    stop_process,
)
from tests.support.sse import parse_sse

__all__ = [
    "LOOPBACK",
    "ChildServer",
    "FakeSplitter",
    "LiveServer",
    "ScriptedLLM",
    "ServerProcess",
    "free_port",
    "loopback_socket",
    "parse_sse",
    "rag",
    "rag_env",
    "scripted_llm",
    "source_number",
    "sources_of",
    "stop_process",
]
