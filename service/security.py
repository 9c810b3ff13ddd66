"""Security headers: a Content-Security-Policy for the demo page, nosniff and no framing."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from service.asgi import ASGIApp, Message, Receive, Scope, Send

# The API's JSON and event streams never load anything or render in a frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Other HTML sets its own page_csp (/docs, service/docs.py) or gets only the frame and
# sniffing protections.
_SCRIPT_TYPES = (b"text/javascript", b"application/javascript")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def page_csp(html: str) -> str:
    """CSP for a page of ours: its own scripts and inline ones by hash, no framing."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {hashes}".strip(),
            # The widget builds a <style> in its shadow root at run time: no hash can name it.
            "style-src 'self' 'unsafe-inline'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


class _PagePolicy:
    """The demo page's CSP, recomputed when the file changes (its inline scripts are hashed)."""

    def __init__(self, page: Path) -> None:
        self.page = page
        self._stamp: tuple[int, int] | None = None
        self._csp = page_csp("")

    def get(self) -> str:
        try:
            stat = self.page.stat()
        except OSError:
            return self._csp
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._csp = page_csp(self.page.read_text(encoding="utf-8"))
            self._stamp = stamp
        return self._csp


class SecurityHeadersMiddleware:
    """Add security headers to every response that does not set them itself."""

    def __init__(self, app: ASGIApp, page: Path, page_paths: tuple[str, ...] = ("/",)) -> None:
        self.app = app
        self.policy = _PagePolicy(page)
        self.page_paths = page_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {bytes(k).lower() for k, _ in headers}
                content_type = dict(headers).get(b"content-type", b"")
                for name, value in self._headers(path, bytes(content_type)):
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)

    def _headers(self, path: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
        out = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        is_html = content_type.startswith(b"text/html")
        if is_html or content_type.startswith((b"application/json", b"text/event-stream")):
            out.append((b"x-frame-options", b"DENY"))
        if path in self.page_paths and is_html:
            out.append((b"content-security-policy", self.policy.get().encode()))
        elif not is_html and not content_type.startswith(_SCRIPT_TYPES):
            out.append((b"content-security-policy", API_CSP.encode()))
        return out
