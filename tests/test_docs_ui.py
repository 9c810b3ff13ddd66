"""/docs works without internet: Swagger UI's files come from the service, under a CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.pipeline import Pipeline
from service.app import create_app
from tests.conftest import with_service
from tests.support import LiveServer
from tests.support.browser import launch_chromium, needs_chromium


@pytest.fixture
def app(small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path) -> Any:
    return create_app(with_service(small_settings, data_dir=tmp_path / "data"), small_pipeline)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def test_docs_page_loads_only_this_origin_under_a_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page.text)
    assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
    assert "http://" not in page.text and "https://" not in page.text
    csp = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self' 'sha256-", "connect-src 'self'"):
        assert directive in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
        assert asset.headers["x-content-type-options"] == "nosniff"
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")


def test_only_the_pages_assets_are_served_and_redoc_is_off(client: TestClient) -> None:
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/redoc").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/docs") or p == "/redoc"]


@pytest.mark.browser
@needs_chromium
def test_docs_renders_the_operations_in_chromium_offline(app: Any) -> None:
    """Every request the page makes goes to the service; the operations render; no CSP breach."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with LiveServer(app) as live, sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            context = browser.new_context()
            requested: list[str] = []
            # Air-gapped: anything not for the service is refused, as it would be offline.
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(live.url)
                    else route.abort("internetdisconnected")
                ),
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on("request", lambda r: requested.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => (window.__csp = "
                "window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI))"
            )
            page.goto(live.url + "/docs")
            expect = sync_api.expect
            ask = page.locator(".opblock-summary-path[data-path='/ask']").first
            expect(ask).to_be_visible()
            doc = page.locator(".opblock-summary-path[data-path='/documents/{doc_id}']").first
            expect(doc).to_be_visible()
            page.locator(".opblock-summary-path[data-path='/search']").first.click()
            expect(page.get_by_text("Request body").first).to_be_visible()  # the schema loaded
            violations = page.evaluate("window.__csp || []")
        finally:
            browser.close()
    assert violations == [] and errors == [], (violations, errors)
    assert requested and all(url.startswith(live.url) for url in requested), requested
    assert any(url.endswith("/openapi.json") for url in requested)
