"""Refuse JSON bodies that are not strict UTF-8 text, or nest too deep, before parsing.

Python's json module decodes bytes with 'surrogatepass' and accepts escaped lone surrogates
("\\ud800"), so such text would reach handlers and fail later - when it is written to SQLite or
serialized into the response - as a 500. Here it is a 422 instead.
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat

from service.asgi import (
    OPENAI_PREFIX,
    UPLOAD_PREFIX,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
    matches,
    send_error,
)

# A \uD800-\uDFFF escape: its backslash is not itself escaped (an even run of them precedes).
_SURROGATE = re.compile(r"(?<!\\)(?:\\\\)*\\u([dD][89a-fA-F][0-9a-fA-F]{2})")
# A string literal, skipped whole when counting brackets.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
_OTHERS = {i: None for i in range(128) if chr(i) not in _DELTA}


def text_problem(body: bytes, max_depth: int) -> str | None:
    """Why ``body`` is not strict UTF-8 JSON text of sane depth, or None if it is."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"body is not valid JSON: not UTF-8 ({exc.reason} at byte {exc.start})"
    if "\\u" in text and has_lone_surrogate(text):
        return "body is not valid JSON text: an unpaired surrogate escape (\\ud800-\\udfff)"
    if text.count("[") + text.count("{") > max_depth and nesting(text) > max_depth:
        # json.loads recurses per level and raises RecursionError (not ValueError) past ~1000.
        return f"JSON is nested more than {max_depth} levels deep"
    return None


def nesting(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (brackets in strings skipped)."""
    brackets = _STRING.sub("", text).translate(_OTHERS)
    # map/accumulate/max run in C: a megabyte of brackets takes milliseconds, not the loop.
    return max(accumulate(map(_DELTA.get, brackets, repeat(0))), default=0)


def has_lone_surrogate(text: str) -> bool:
    """Whether a \\uD800-\\uDFFF escape in ``text`` is not part of a high-low pair."""
    low_due_at = -1  # where the low half of the last high surrogate escape must start
    for match in _SURROGATE.finditer(text):
        at = match.start(1) - 2
        if int(match.group(1), 16) >= 0xDC00:
            if at != low_due_at:
                return True
            low_due_at = -1
        elif low_due_at != -1:
            return True
        else:
            low_due_at = match.end()
    return low_due_at != -1


class StrictJsonMiddleware:
    """422 for a JSON body that is not strict UTF-8 or nests too deep (uploads check their own)."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = header(scope, b"content-type") or b""
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("POST", "PUT", "PATCH")
            or not content_type.lower().startswith(b"application/json")
            or matches(str(scope.get("path", "")), [UPLOAD_PREFIX])
        ):
            await self.app(scope, receive, send)
            return
        # The body is already bounded by BodyLimitMiddleware, so holding it is safe.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        problem = (
            text_problem(body, self.max_depth) if messages[-1]["type"] == "http.request" else None
        )
        if problem is not None:
            # OpenAI's API answers a body it cannot parse with 400; ours with 422.
            status = 400 if matches(str(scope.get("path", "")), [OPENAI_PREFIX]) else 422
            await send_error(scope, send, status, problem)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
