"""Limits (413, 429, 504), security headers, CORS, tokens, request ids and logs, /ready."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.client
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.errors import IndexMismatch
from rag.events import AskEvent, Retrieved
from rag.pipeline import Pipeline
from service.app import create_app
from service.observability import configure_logging
from service.ready import readiness
from service.widget import STATIC

from .conftest import DATA, make_settings
from .support import ServerProcess, rag_env
from .support.browser import launch_chromium, needs_chromium

TOKEN = "tok-Zq8s1x-secret"
QUESTION = {"question": "How many steel cables were replaced?"}


def _settings(tmp_path: Path, **limits: Any) -> Settings:
    return make_settings(
        tmp_path / "index",
        DATA,
        embedding={"model": "hash"},
        service={
            "local_only": True,
            "data_dir": str(tmp_path / "data"),
            "max_upload_bytes": 50_000,
        },
        limits={"rate_limit": "", **limits},
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    pipe = Pipeline(_settings(tmp_path))
    pipe.ingest([DATA])
    return pipe


def _client(settings: Settings, pipeline: Pipeline) -> TestClient:
    return TestClient(create_app(settings, pipeline))


@pytest.fixture
def client(tmp_path: Path, pipeline: Pipeline) -> Iterator[TestClient]:
    with _client(_settings(tmp_path), pipeline) as c:
        yield c


# -- body size -------------------------------------------------------------------------------


async def _call(app: FastAPI, scope: dict[str, Any], chunks: Iterator[bytes]) -> dict[str, Any]:
    """Drive the ASGI app with a streamed body; return status, body and how much it read."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        try:
            chunk = next(chunks)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {"status": start["status"], "body": body, "read": read}


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


def _endless(
    chunk: int = 64 * 1024, total: int = 2 * 1024**3, head: bytes = b""
) -> Iterator[bytes]:
    """Up to 2 GB of body, generated lazily: nobody could hold it all."""
    if head:
        yield head
    block = b"a" * chunk
    for _ in range(total // chunk):
        yield block


MULTIPART_HEAD = (
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
)


def test_declared_oversize_body_is_413_without_reading_it(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    huge = [(b"content-type", b"application/json"), (b"content-length", str(10**10).encode())]
    for path in ("/ask", "/documents", "/v1/chat/completions", "/feedback"):
        result = asyncio.run(_call(app, _scope(path, huge), _endless()))
        assert result["status"] == 413, (path, result)
        assert result["read"] == 0, "the body was read before refusing it"


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/ask", b"application/json", 1_048_576),
        ("/documents", b"multipart/form-data; boundary=xyz", 50_000 + 64 * 1024),
    ],
)
def test_streamed_oversize_body_is_cut_off(
    client: TestClient, path: str, content_type: bytes, limit: int
) -> None:
    """No Content-Length (chunked upload): reading stops just past the limit, with a 413."""
    app = client.app
    assert isinstance(app, FastAPI)
    head = MULTIPART_HEAD if content_type.startswith(b"multipart") else b""
    scope = _scope(path, [(b"content-type", content_type)])
    result = asyncio.run(_call(app, scope, _endless(head=head)))
    assert result["status"] == 413
    assert limit < result["read"] <= limit + 64 * 1024 + len(head)
    assert b"limit" in result["body"]


def test_upload_over_max_upload_bytes_is_413(client: TestClient) -> None:
    raw = b"The ferry sails at noon.\n" * 4000  # 100 KB > 50 KB
    response = client.post("/documents", files={"file": ("big.txt", raw)})
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    small = client.post(
        "/documents", json={"doc_id": "a.txt", "text": "The ferry sails at noon. " * 1500}
    )
    assert small.status_code == 201  # under the limit: accepted


def test_document_text_over_max_document_chars_is_413(tmp_path: Path, pipeline: Pipeline) -> None:
    settings = _settings(tmp_path, max_document_chars=5000)
    with _client(settings, pipeline) as client:
        text = "The ferry sails at noon on weekdays. " * 200
        response = client.post("/documents", json={"doc_id": "long.txt", "text": text})
    assert response.status_code == 413 and "5000" in response.json()["detail"]


# -- rate limit ------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, pipeline: Pipeline) -> None:
    settings = _settings(tmp_path, rate_limit="3/minute")
    with _client(settings, pipeline) as client:
        assert client.post("/ask", json=QUESTION).status_code == 200
        stream = client.post("/ask/stream", json=QUESTION)  # same bucket: a prefix of /ask
        assert stream.status_code == 200
        assert client.post("/ask", json=QUESTION).status_code == 200
        limited = client.post("/ask", json=QUESTION)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "rate limit" in limited.json()["detail"]
        chat = client.post(
            "/v1/chat/completions",
            json={"model": "peace-rag", "messages": [{"role": "user", "content": "Hi?"}]},
        )
        assert chat.status_code == 429 and "error" in chat.json()  # OpenAI's error shape
        # Other endpoints and other clients are not limited.
        assert client.post("/search", json={"query": "cables"}).status_code == 200
        assert client.get("/health").status_code == 200
    with TestClient(create_app(settings, pipeline), client=("10.9.8.7", 1234)) as other:
        assert other.post("/ask", json=QUESTION).status_code == 200


def test_rate_limit_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        Settings.model_validate({"limits": {"rate_limit": "lots please"}})
    assert Settings.model_validate({"limits": {"rate_limit": "5/second;100 per hour"}})


# -- timeouts --------------------------------------------------------------------------------


def test_slow_ask_gets_504_and_the_server_keeps_serving(
    tmp_path: Path, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, request_timeout_s=0.5)

    def hang(*_: object, **__: object) -> None:
        time.sleep(8)  # a generator that never answers in time

    with _client(settings, pipeline) as client:
        monkeypatch.setattr(pipeline, "ask", hang)
        start = time.monotonic()
        response = client.post("/ask", json=QUESTION)
        assert response.status_code == 504 and "0.5 s" in response.json()["detail"]
        assert time.monotonic() - start < 6  # answered without waiting for the thread
        assert client.get("/health").status_code == 200


def test_slow_stream_ends_with_an_error_event(
    tmp_path: Path, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, request_timeout_s=1.0)
    real = pipeline.ask_stream

    def stalls(*args: Any, **kwargs: Any) -> Iterator[AskEvent]:
        events = real(*args, **kwargs)

        def gen() -> Iterator[AskEvent]:
            for event in events:
                yield event
                if isinstance(event, Retrieved):
                    time.sleep(4)  # the model stalls after retrieval

        return gen()

    with _client(settings, pipeline) as client:
        monkeypatch.setattr(pipeline, "ask_stream", stalls)
        body = client.post("/ask/stream", json=QUESTION).text
    assert "event: retrieval" in body
    assert "event: error" in body and "longer than 1 s" in body
    assert "event: done" not in body


# -- security headers, CORS, tokens ----------------------------------------------------------


def test_demo_page_has_a_csp_that_allows_exactly_its_inline_script(client: TestClient) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    html = (STATIC / "demo.html").read_text(encoding="utf-8")
    for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_every_response_gets_nosniff_and_referrer_policy(client: TestClient) -> None:
    responses = [
        client.get("/widget.js"),
        client.post("/ask", json=QUESTION),
        client.post("/ask/stream", json=QUESTION),
        client.get("/health"),
        client.get("/nope"),
        client.post("/ask", content=b"{", headers={"content-type": "application/json"}),
        client.post("/ask", content=b"x" * 2_000_000, headers={"content-type": "text/plain"}),
    ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["referrer-policy"] == "no-referrer"
    api = client.post("/ask", json=QUESTION)
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "content-security-policy" not in client.get("/widget.js").headers


def test_cors_never_pairs_a_wildcard_with_credentials(tmp_path: Path, pipeline: Pipeline) -> None:
    base = _settings(tmp_path)
    for origins in (["*"], ["https://partner.example"]):
        service = base.service.model_copy(update={"cors_origins": origins})
        with _client(base.model_copy(update={"service": service}), pipeline) as client:
            preflight = client.options(
                "/ask",
                headers={
                    "origin": "https://partner.example",
                    "access-control-request-method": "POST",
                },
            )
            simple = client.post(
                "/ask", json=QUESTION, headers={"origin": "https://partner.example"}
            )
        for response in (preflight, simple):
            assert response.headers.get("access-control-allow-credentials") != "true"
            assert response.headers["access-control-allow-origin"] in origins
    with _client(base, pipeline) as client:  # no origins configured: same-origin only
        other = client.post("/ask", json=QUESTION, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_tokens_are_compared_in_constant_time(
    tmp_path: Path, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    settings = _settings(tmp_path).model_copy(update={"api_token": TOKEN})
    settings = Settings.model_validate({**settings.model_dump(), "api_token": TOKEN})
    with _client(settings, pipeline) as client:
        wrong = {"Authorization": "Bearer guess"}
        assert client.delete("/documents/x.txt", headers=wrong).status_code == 403  # writer
        assert client.get("/feedback", headers=wrong).status_code == 403  # operator
    assert len(calls) == 2 and all(b == TOKEN.encode() for _, b in calls)


def test_request_ids_are_echoed_or_made_and_logged_and_tokens_never_are(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    base = _settings(tmp_path)
    settings = Settings.model_validate(
        {
            **base.model_dump(),
            "api_token": TOKEN,
            "service": {**base.service.model_dump(), "log_json": True},
        }
    )
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging(settings, stream)
        with _client(settings, pipeline) as client:
            mine = client.post("/ask", json=QUESTION, headers={"x-request-id": "client-id.42"})
            made = client.get("/health")
            forged = client.get("/health", headers={"x-request-id": "x" * 300})
            client.get("/feedback", headers={"Authorization": f"Bearer {TOKEN}"})
            client.get("/feedback", headers={"Authorization": "Bearer wrong-guess"})
            logging.getLogger("test").warning("header was Authorization: Bearer %s", TOKEN)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert mine.headers["x-request-id"] == "client-id.42"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])  # too long: replaced
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [r for r in lines if r["logger"] == "service.access"]
    assert {"client-id.42", made.headers["x-request-id"]} <= {r["request_id"] for r in access}
    assert any(r["path"] == "/ask" and r["status"] == 200 for r in access)
    assert TOKEN not in stream.getvalue() and "wrong-guess" not in stream.getvalue()
    assert any("[redacted]" in r["message"] for r in lines)


# -- readiness and damaged indexes -----------------------------------------------------------


def test_ready_reports_the_serving_version(client: TestClient, pipeline: Pipeline) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["serving_current"] is True
    assert body["serving_version"] == body["current_version"] == pipeline.loaded.data.version
    assert readiness(None).ready is False  # before the lifespan has loaded anything


def _damage(index: Path, version: str) -> None:
    faiss_file = index / "versions" / version / "chunks.faiss"
    raw = bytearray(faiss_file.read_bytes())
    raw[-5] ^= 0xFF  # one flipped byte: the checksum no longer matches the manifest
    faiss_file.write_bytes(bytes(raw))


def test_damaged_current_version_falls_back_and_ready_says_so(
    tmp_path: Path, pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path)
    first = pipeline.loaded.data.version
    pipeline.ingest([DATA / "harbor_bridge.txt", DATA / "river_park.md"])
    second = pipeline.loaded.data.version
    assert second != first
    _damage(settings.paths.index_dir, second)
    with caplog.at_level(logging.ERROR), _client(settings, Pipeline(settings)) as client:
        body = client.get("/ready").json()
        answer = client.post("/ask", json=QUESTION)
    assert body["ready"] is True and body["status"] == "degraded"
    assert body["serving_version"] == first and body["current_version"] == second
    assert body["serving_current"] is False and second in body["detail"]
    assert answer.status_code == 200 and "312" in answer.json()["answer"]
    assert any("does not match its manifest checksum" in r.getMessage() for r in caplog.records)


def test_no_intact_version_refuses_to_start_with_a_clear_message(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    settings = _settings(tmp_path)
    _damage(settings.paths.index_dir, pipeline.loaded.data.version)
    with (
        pytest.raises(IndexMismatch, match=r"damaged .*rag ingest"),
        _client(settings, Pipeline(settings)),
    ):
        pass


def test_ready_is_503_when_the_live_index_disagrees_with_its_manifest(
    client: TestClient, pipeline: Pipeline
) -> None:
    data = pipeline.loaded.data
    manifest = pipeline.store.versions / data.version / "manifest.json"
    content = json.loads(manifest.read_text())
    content["n_chunks"] += 1
    manifest.write_text(json.dumps(content))
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and "chunks" in response.json()["detail"]
    assert client.get("/health").status_code == 200  # the process is up; it is just not ready


def test_the_store_says_whether_a_loaded_version_is_intact(pipeline: Pipeline) -> None:
    """IndexStore.check is what /ready asks: None when intact, else the reason."""
    from dataclasses import replace

    data = pipeline.loaded.data
    assert pipeline.store.check(data) is None
    fewer = replace(data, sentences=data.sentences[:-1])
    assert pipeline.store.check(fewer) == "sentence count differs from the manifest"
    assert "documents differ" in (pipeline.store.check(replace(data, documents={})) or "")
    with pytest.raises(OSError):  # a version pruned meanwhile: /ready looks again
        pipeline.store.check(replace(data, version="v-pruned"))


def test_versions_sort_by_age_so_pruning_keeps_the_newest(pipeline: Pipeline) -> None:
    """Several saves within one second: names still sort by creation, the 3 newest survive."""
    names = [pipeline.loaded.data.version]
    for _ in range(5):
        names.append(pipeline.ingest([DATA]).version)
    assert names == sorted(names)
    kept = sorted(p.name for p in pipeline.store.versions.iterdir() if p.name.startswith("v"))
    assert kept == names[-3:]


# -- found by fuzzing ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [":", "?!", "...", "---", "\u2014", "()"])
def test_queries_without_words_are_answered_not_crashed(client: TestClient, text: str) -> None:
    search = client.post("/search", json={"query": text})
    assert search.status_code == 200, search.text
    ask = client.post("/ask", json={"question": text})
    assert ask.status_code == 200, ask.text


# -- the CSP in a real browser ---------------------------------------------------------------


@pytest.mark.browser
@needs_chromium
def test_demo_page_works_under_its_csp_in_chromium(tmp_path: Path, pipeline: Pipeline) -> None:
    """The page's inline script and the widget (styles, fetch, stream) run; nothing is blocked."""
    sync_api = pytest.importorskip("playwright.sync_api")
    env = rag_env(_settings(tmp_path).paths.index_dir, tmp_path / "data")
    with ServerProcess(env, tmp_path, tmp_path / "server.log") as server:
        with sync_api.sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                page = browser.new_page()
                page.set_default_timeout(30_000)
                blocked: list[str] = []
                page.on(
                    "console",
                    lambda m: (
                        blocked.append(m.text) if "Content Security Policy" in m.text else None
                    ),
                )
                page.add_init_script(
                    "document.addEventListener('securitypolicyviolation', e => "
                    "(window.__csp = window.__csp || []).push(e.violatedDirective))"
                )
                page.goto(server.url + "/")
                assert server.url in (page.text_content("#snippet") or "")  # inline script ran
                box = page.get_by_test_id("chat-input")
                box.fill(QUESTION["question"])
                box.press("Enter")
                # A locator (it pierces the widget's open shadow root), not wait_for_function:
                # that compiles its predicate with eval, which this very CSP forbids.
                page.locator("peace-chat").get_by_text("312").first.wait_for()
                violations = page.evaluate("window.__csp || []")
            finally:
                browser.close()
    assert violations == [] and blocked == [], (violations, blocked)


def test_idle_keep_alive_connection_outlives_client_pools(
    tmp_path: Path, pipeline: Pipeline
) -> None:
    """A connection idle longer than a client pool's expiry (httpx: 5 s) is still open.

    Were the server to close it first, a client reusing it at that moment loses the request
    (a ReadError seen under load before service.keep_alive_s existed).
    """
    env = rag_env(_settings(tmp_path).paths.index_dir, tmp_path / "data")
    with ServerProcess(env, tmp_path, tmp_path / "server.log") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request("GET", "/health")
            first = conn.getresponse()
            first.read()
            sock = conn.sock
            time.sleep(6.5)
            conn.request("GET", "/health")  # same socket: raises if the server closed it
            second = conn.getresponse()
            second.read()
            assert first.status == second.status == 200
            assert conn.sock is sock
        finally:
            conn.close()
