"""CORS for embedding origins, and the widget and demo page being served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.pipeline import Pipeline
from service.app import create_app
from tests.conftest import with_service

ALLOWED = "https://allowed.example"
OTHER = "https://evil.example"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}


def _client(
    settings: Settings, pipeline: Pipeline, tmp_path: Path, origins: list[str]
) -> TestClient:
    configured = with_service(settings, cors_origins=origins, data_dir=tmp_path / "data")
    return TestClient(create_app(configured, pipeline))


@pytest.mark.parametrize("path", ["/ask/stream", "/ask", "/feedback"])
def test_an_allowed_origin_passes_the_preflight(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path, path: str
) -> None:
    with _client(small_settings, small_pipeline, tmp_path, [ALLOWED + "/"]) as c:
        ok = c.options(path, headers={"origin": ALLOWED} | PREFLIGHT)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in ok.headers
        denied = c.options(path, headers={"origin": OTHER} | PREFLIGHT)
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers


def test_responses_carry_the_origin_header_only_for_allowed_origins(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path
) -> None:
    question = {"question": "How many steel cables were replaced?"}
    with _client(small_settings, small_pipeline, tmp_path, [ALLOWED]) as c:
        allowed = c.post("/ask/stream", json=question, headers={"origin": ALLOWED})
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        other = c.post("/ask/stream", json=question, headers={"origin": OTHER})
        assert "access-control-allow-origin" not in other.headers


def test_by_default_only_the_same_origin_is_served(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path
) -> None:
    with _client(small_settings, small_pipeline, tmp_path, []) as c:
        preflight = c.options("/ask/stream", headers={"origin": ALLOWED} | PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers
        response = c.post("/ask", json={"question": "Bridge?"}, headers={"origin": ALLOWED})
        assert "access-control-allow-origin" not in response.headers


def test_a_wildcard_never_comes_with_credentials(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path
) -> None:
    with _client(small_settings, small_pipeline, tmp_path, ["*"]) as c:
        response = c.options("/ask/stream", headers={"origin": OTHER} | PREFLIGHT)
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_widget_and_demo_page_are_served(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path
) -> None:
    with _client(small_settings, small_pipeline, tmp_path, []) as c:
        js = c.get("/widget.js")
        assert js.status_code == 200
        assert js.headers["content-type"].startswith("text/javascript")
        assert 'customElements.define("peace-chat"' in js.text
        for hook in (
            "chat-input",
            "chat-send",
            "chat-answer",
            "chat-citation",
            "chat-quote",
            "chat-abstained",
            "chat-feedback-",
        ):
            assert hook in js.text
        page = c.get("/")
        assert page.headers["content-type"].startswith("text/html")
        assert '<peace-chat mode="inline">' in page.text and "/widget.js" in page.text
