"""A scripted chat-completions server: a real HTTP server on 127.0.0.1 that answers with the
completions a test chooses (streamed in small pieces when asked), and records the requests."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]

_SOURCE_RE = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)


def sources_of(request: dict[str, Any]) -> dict[int, str]:
    """The numbered source texts in a recorded request's prompt."""
    user = request["messages"][-1]["content"]
    return {int(n): text for n, text in _SOURCE_RE.findall(user)}


def source_number(request: dict[str, Any], needle: str) -> int:
    """The [n] of the source whose text contains ``needle``."""
    for n, text in sources_of(request).items():
        if needle in text:
            return n
    raise AssertionError(f"no source contains {needle!r}: {sources_of(request)}")


class ScriptedLLM:
    """Replies in order from ``replies`` (then ``default``); ``piece`` sets the stream chunking."""

    def __init__(self, piece: int = 5) -> None:
        self.replies: deque[Reply] = deque()
        self.default: Reply = "The documents don't say."
        self.requests: list[dict[str, Any]] = []
        self.piece = piece
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def reply(self, *replies: Reply) -> None:
        """Queue the next completions."""
        self.replies.extend(replies)

    def _next(self, request: dict[str, Any]) -> str:
        reply = self.replies.popleft() if self.replies else self.default
        return reply(request) if callable(reply) else reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length))
                llm.requests.append(request)
                text = llm._next(request)
                base = {"id": "chatcmpl-scripted", "created": int(time.time()), "model": "scripted"}
                if not request.get("stream"):
                    message = {"role": "assistant", "content": text}
                    choice = {"index": 0, "message": message, "finish_reason": "stop"}
                    self._json(200, {**base, "object": "chat.completion", "choices": [choice]})
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                pieces = [text[i : i + llm.piece] for i in range(0, len(text), llm.piece)]
                for i, piece in enumerate([*pieces, None]):
                    delta = {"content": piece} if piece is not None else {}
                    if i == 0:
                        delta["role"] = "assistant"
                    finish = None if piece is not None else "stop"
                    choice = {"index": 0, "delta": delta, "finish_reason": finish}
                    chunk = {**base, "object": "chat.completion.chunk", "choices": [choice]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def scripted_llm(piece: int = 5) -> Iterator[ScriptedLLM]:
    """A running ScriptedLLM, stopped afterwards."""
    llm = ScriptedLLM(piece)
    llm.start()
    try:
        yield llm
    finally:
        llm.stop()
