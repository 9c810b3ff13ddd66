"""The chat widget in a real browser (Debian's chromium via Playwright) against a live service.

Run with `pytest -m browser`. Screenshots go to artifacts/.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from rag.pipeline import Pipeline
from rag.schemas import ChatTurn
from service.app import create_app
from tests.conftest import REPO, with_service
from tests.support import LiveServer, loopback_socket
from tests.support.browser import launch_chromium, needs_chromium

ARTIFACTS = REPO / "artifacts"
SIGNING = "When did AzerTelecom and Telecom Armenia sign their agreement?"
CENTER = "Center for Cyber Diplomacy and International Security"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs_chromium,
]


class PageServer:
    """Another origin: serves a host page that embeds the widget from the service."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                query = parse_qs(urlparse(self.path).query)
                endpoint = html.escape(query.get("endpoint", [""])[0], quote=True)
                mode = html.escape(query.get("mode", ["inline"])[0], quote=True)
                body = (
                    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                    "<link rel='icon' href='data:,'><title>Host page</title>"
                    # Hostile host CSS: the shadow DOM must keep the widget intact.
                    "<style>body{font:20px/3 serif;color:#0a0}button{all:unset;color:red}"
                    "p{margin:40px}*{letter-spacing:2px}</style>"
                    f"<script src='{endpoint}/widget.js' defer></script></head><body>"
                    "<h1>A partner site</h1><p>Some article text.</p>"
                    f"<peace-chat endpoint='{endpoint}' mode='{mode}'></peace-chat>"
                    "</body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page(self, endpoint: str, mode: str = "inline") -> str:
        return f"{self.origin}/?{urlencode({'endpoint': endpoint, 'mode': mode})}"

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Service:
    url: str
    feedback_db: Path
    app_factory: Any


@pytest.fixture(scope="module")
def allowed_site() -> Iterator[PageServer]:
    with PageServer() as site:
        yield site


@pytest.fixture(scope="module")
def blocked_site() -> Iterator[PageServer]:
    with PageServer() as site:
        yield site


@pytest.fixture(scope="module")
def service(
    seed_pipeline: Pipeline, allowed_site: PageServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The real service over the seed index; only allowed_site may embed it."""
    data_dir = tmp_path_factory.mktemp("service-data")
    settings = with_service(
        seed_pipeline.settings, cors_origins=[allowed_site.origin], data_dir=data_dir
    )

    def app_factory() -> Any:
        return create_app(settings, seed_pipeline)

    with LiveServer(app_factory()) as live:
        yield Service(live.url, data_dir / "feedback.sqlite", app_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


def _new_page(browser: Any, width: int = 1000, height: int = 900) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    return context, page, errors


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context, pg, errors = _new_page(browser)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _ask(page: Any, question: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(question)
    box.press("Enter")


def _shot(target: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / name))


def _doc_text(pipeline: Pipeline, doc_id: str) -> str:
    return pipeline.loaded.data.documents[doc_id].text


def test_answer_streams_in_and_a_citation_shows_the_verbatim_quote(
    page: Any, service: Service, seed_pipeline: Pipeline
) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    # Record the answer text each time the widget re-renders it while streaming.
    page.evaluate(
        """() => {
        window.__lengths = [];
        const root = document.querySelector("peace-chat").shadowRoot;
        new MutationObserver((records) => {
          for (const r of records) for (const n of r.addedNodes)
            if (n.nodeType === 3 && n.parentElement && n.parentElement.classList.contains("text"))
              window.__lengths.push(n.data.length);
        }).observe(root, { childList: true, subtree: true });
      }"""
    )
    _ask(page, SIGNING)
    answer = page.get_by_test_id("chat-answer").last
    expect(answer).to_contain_text("June 22, 2026")
    expect(answer.get_by_test_id("chat-feedback-up")).to_be_visible()
    lengths = page.evaluate("window.__lengths")
    assert len(lengths) >= 3 and lengths == sorted(lengths), lengths  # filled piece by piece

    cite = answer.get_by_test_id("chat-citation").first
    expect(cite).to_have_attribute("aria-label", re.compile(f"^Source 1: {CENTER}"))
    cite.click()
    quote = page.get_by_test_id("chat-quote")
    expect(quote).to_be_visible()
    expect(cite).to_have_attribute("aria-expanded", "true")
    expect(quote).to_contain_text(CENTER)
    expect(quote).to_contain_text("22 June 2026")
    expect(quote).to_contain_text("Packets Across the Border")
    shown = quote.locator("blockquote").inner_text()
    where = quote.locator(".where").inner_text()
    doc_id, start, end = re.match(r"(\S+?), characters (\d+)–(\d+)", where).groups()  # type: ignore[union-attr]
    assert _doc_text(seed_pipeline, doc_id)[int(start) : int(end)] == shown  # verbatim
    _shot(page.locator("peace-chat"), "answer-with-quote.png")

    # Keyboard: Escape closes the quote and returns focus; Enter on the marker reopens it.
    page.keyboard.press("Escape")
    expect(quote).to_be_hidden()
    expect(cite).to_be_focused()
    page.keyboard.press("Enter")
    expect(quote).to_be_visible()


def _ask_json(service: Service, question: str) -> dict[str, Any]:
    request = urllib.request.Request(
        service.url + "/ask",
        data=json.dumps({"question": question}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # loopback: allowed
        body: dict[str, Any] = json.load(response)
    return body


def test_the_short_answer_heads_the_answer_and_cites_its_quote(page: Any, service: Service) -> None:
    expect = _expect()
    direct = _ask_json(service, SIGNING)  # what /ask says, from the same server
    short, cited = direct["short_answer"], direct["short_answer_citation"]
    assert short and "June 22, 2026" in short and cited is not None, direct
    quote_of = {c["id"]: c["quote"] for c in direct["citations"]}
    page.goto(service.url + "/")
    _ask(page, SIGNING)
    answer = page.get_by_test_id("chat-answer").last
    expect(answer.get_by_test_id("chat-feedback-up")).to_be_visible()  # `done` has arrived
    headline = answer.get_by_test_id("chat-short-answer")
    expect(headline).to_be_visible()
    expect(headline.get_by_test_id("chat-short-answer-text")).to_have_text(short)
    # Read in order by a screen reader: its label, the answer, the marker of its source.
    expect(headline).to_have_text(
        re.compile(rf"^Short answer:\s*{re.escape(short)}\s*\[{cited}\]$")
    )
    cite = headline.get_by_test_id("chat-short-answer-citation")
    expect(cite).to_have_attribute("aria-label", re.compile(f"^Source {cited}: "))

    # Above the quotes, and not repeated as the first line of the text below it.
    lines = answer.locator(".text p")
    expect(lines.first).to_be_visible()
    assert short + "." not in lines.all_inner_texts()
    assert lines.first.inner_text().startswith("“"), lines.all_inner_texts()
    top = headline.bounding_box()
    first_quote = answer.get_by_test_id("chat-citation").first.bounding_box()
    assert top["y"] + top["height"] <= lines.first.bounding_box()["y"], (top, first_quote)
    assert top["y"] + top["height"] <= first_quote["y"]
    _shot(page.locator("peace-chat"), "widget-short-answer.png")

    # Its marker opens the quote the short answer is copied from, like the other markers.
    cite.click()
    quote = page.get_by_test_id("chat-quote")
    expect(quote).to_be_visible()
    expect(cite).to_have_attribute("aria-expanded", "true")
    expect(quote.locator("blockquote")).to_have_text(quote_of[cited])
    assert short in quote.locator("blockquote").inner_text() or short in {"Yes", "No"}
    page.keyboard.press("Escape")
    expect(quote).to_be_hidden()
    expect(cite).to_be_focused()

    # Kept across a reload (the widget stores it with the conversation).
    page.reload()
    expect(
        page.get_by_test_id("chat-answer").last.get_by_test_id("chat-short-answer-text")
    ).to_have_text(short)


def test_follow_up_uses_the_history_kept_across_a_reload(page: Any, service: Service) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    _ask(page, SIGNING)
    expect(page.get_by_test_id("chat-answer").last).to_contain_text("June 22, 2026")
    # The short answer leads the stream, so wait for the finished answer (feedback buttons
    # come with `done`, when the conversation is stored) before reloading.
    expect(page.get_by_test_id("chat-feedback-up").last).to_be_visible()
    page.reload()
    answers = page.get_by_test_id("chat-answer")
    expect(answers).to_have_count(1)  # the conversation survived the reload
    expect(answers.first).to_contain_text("June 22, 2026")

    with page.expect_request(lambda r: r.url.endswith("/ask/stream")) as request:
        _ask(page, "What does it allow?")
    sent = json.loads(request.value.post_data)
    assert [t["role"] for t in sent["history"]] == ["user", "assistant"]
    assert sent["history"][0]["content"] == SIGNING
    expect(answers).to_have_count(2)
    second = answers.nth(1)
    expect(second.get_by_test_id("chat-feedback-up")).to_be_visible()
    expect(page.locator(".rewritten").last).to_contain_text("AzerTelecom")
    cite = second.get_by_test_id("chat-citation").first
    expect(cite).to_have_attribute("aria-label", re.compile(CENTER))
    cite.click()
    expect(page.get_by_test_id("chat-quote")).to_contain_text("000_3482da4db516eed0.txt")


def test_an_off_topic_question_is_shown_as_an_abstention(page: Any, service: Service) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    _ask(page, "What is a good banana bread recipe?")
    marker = page.get_by_test_id("chat-abstained")
    expect(marker).to_be_visible()
    expect(marker).to_have_text("Not in the documents")
    answer = page.get_by_test_id("chat-answer").last
    expect(answer).to_have_class(re.compile(r"\babstained\b"))
    expect(answer).to_contain_text("The documents don't say")
    expect(answer.get_by_test_id("chat-citation")).to_have_count(0)
    expect(answer.get_by_test_id("chat-short-answer")).to_have_count(0)
    assert answer.locator(".related li").count() >= 1  # the closest passages are listed
    _shot(page.locator("peace-chat"), "abstention.png")


def test_thumbs_up_is_stored(page: Any, service: Service) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    _ask(page, SIGNING)
    answer = page.get_by_test_id("chat-answer").last
    expect(answer).to_contain_text("June 22, 2026")
    up = answer.get_by_test_id("chat-feedback-up")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_test_id("chat-feedback-down")).to_be_disabled()
    with sqlite3.connect(service.feedback_db) as conn:
        rows = conn.execute(
            "SELECT rating, answer FROM feedback WHERE question = ?", (SIGNING,)
        ).fetchall()
    conn.close()
    assert rows and rows[-1][0] == "up" and "June 22, 2026" in rows[-1][1]
    with urllib.request.urlopen(service.url + "/feedback") as response:  # loopback: allowed
        listed = json.load(response)
    assert listed[0]["question"] == SIGNING and listed[0]["rating"] == "up"


def test_launcher_at_360px_on_an_allowed_origin(
    browser: Any, service: Service, allowed_site: PageServer
) -> None:
    expect = _expect()
    context, page, errors = _new_page(browser, width=360, height=740)
    try:
        page.goto(allowed_site.page(service.url, mode="launcher"))
        page.get_by_role("button", name="Open chat").click()
        expect(page.get_by_test_id("chat-input")).to_be_focused()
        _ask(page, SIGNING)
        answer = page.get_by_test_id("chat-answer").last
        expect(answer).to_contain_text("June 22, 2026")  # CORS lets this origin in
        answer.get_by_test_id("chat-citation").first.click()
        expect(page.get_by_test_id("chat-quote")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.locator("peace-chat section.panel").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        for hook in ("chat-input", "chat-send", "chat-quote"):
            b = page.get_by_test_id(hook).bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 360, (hook, b)
        _shot(page, "narrow-360.png")
        down = answer.get_by_test_id("chat-feedback-down")
        down.click()  # the cross-origin POST /feedback passes the preflight too
        expect(down).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()
    assert not errors, errors


def test_a_disallowed_origin_gets_the_error_state(
    page: Any, service: Service, blocked_site: PageServer
) -> None:
    expect = _expect()
    page.goto(blocked_site.page(service.url))
    _ask(page, SIGNING)
    error = page.get_by_test_id("chat-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("can't be reached")
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_test_id("chat-retry")).to_be_visible()
    expect(page.get_by_test_id("chat-answer")).to_have_count(0)
    _shot(page.locator("peace-chat"), "error-blocked-origin.png")


def test_service_down_then_retry(page: Any, service: Service, allowed_site: PageServer) -> None:
    expect = _expect()
    sock = loopback_socket()  # bound, not listening: connections are refused
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    page.goto(allowed_site.page(service.url))  # the widget script loads from the live service
    page.evaluate(f"document.querySelector('peace-chat').setAttribute('endpoint', '{endpoint}')")
    _ask(page, SIGNING)
    expect(page.get_by_test_id("chat-error")).to_be_visible()
    with LiveServer(service.app_factory(), sock):
        page.get_by_test_id("chat-retry").click()
        expect(page.get_by_test_id("chat-answer").last).to_contain_text("June 22, 2026")
        expect(page.get_by_test_id("chat-error")).to_have_count(0)


def test_history_sent_by_the_widget_is_accepted_by_the_pipeline(seed_pipeline: Pipeline) -> None:
    # The widget caps what it sends (12 turns of 1500 characters) below the server's limits.
    js = (REPO / "service/static/widget.js").read_text()
    turns = int(re.search(r"HISTORY_TURNS = (\d+)", js).group(1))  # type: ignore[union-attr]
    chars = int(re.search(r"HISTORY_CHARS = (\d+)", js).group(1))  # type: ignore[union-attr]
    limits = seed_pipeline.settings.service
    assert turns <= limits.max_history_turns and chars <= limits.max_history_chars
    history = [ChatTurn(role="user", content="x" * chars)] * turns
    seed_pipeline.ask_stream("Why?", history=history)  # raises if over the limits


COMPARE = "do the sources agree on whether the peace agreement is a good idea"
LATEST = "whats the latest on the border demarcation"


def test_viewpoints_render_as_cards_whose_quotes_open_like_citations(
    page: Any, service: Service, seed_pipeline: Pipeline
) -> None:
    expect = _expect()
    direct = _ask_json(service, COMPARE)
    assert direct["viewpoints"] and len(direct["viewpoints"]) >= 2
    page.goto(service.url + "/")
    _ask(page, COMPARE)
    answer = page.get_by_test_id("chat-answer").last
    expect(answer.get_by_test_id("chat-feedback-up")).to_be_visible()
    cards = answer.get_by_test_id("chat-viewpoint")
    expect(cards).to_have_count(len(direct["viewpoints"]))
    for card, view in zip(cards.all(), direct["viewpoints"], strict=True):
        expect(card.locator("h4")).to_contain_text(view["publisher"])
    op_ed = answer.get_by_test_id("chat-viewpoint").filter(has_text="The Armenian Weekly")
    expect(op_ed.locator(".kind")).to_have_text("opinion")
    expect(op_ed).to_contain_text("Sevan Araz")
    expect(op_ed).to_contain_text("estimated date")
    _shot(page.locator("peace-chat"), "viewpoints.png")

    cite = op_ed.get_by_test_id("chat-viewpoint-citation").first
    cite.click()
    quote = page.get_by_test_id("chat-quote")
    expect(quote).to_be_visible()
    where = quote.locator(".where").inner_text()
    doc_id, start, end = re.match(r"(\S+?), characters (\d+)–(\d+)", where).groups()  # type: ignore[union-attr]
    assert doc_id == "004_1b309d18163f8509.txt"
    shown = quote.locator("blockquote").inner_text()
    assert _doc_text(seed_pipeline, doc_id)[int(start) : int(end)] == shown  # verbatim

    page.reload()  # kept with the conversation
    expect(page.get_by_test_id("chat-viewpoint")).to_have_count(len(direct["viewpoints"]))


def test_viewpoint_cards_stack_on_a_narrow_screen(browser: Any, service: Service) -> None:
    expect = _expect()
    context, page, errors = _new_page(browser, width=360, height=780)
    try:
        page.goto(service.url + "/")
        _ask(page, COMPARE)
        cards = page.get_by_test_id("chat-viewpoint")
        expect(cards.nth(1)).to_be_visible()
        first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert second["y"] >= first["y"] + first["height"] - 1  # one column
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        _shot(page, "viewpoints-narrow.png")
    finally:
        context.close()
    assert not errors, errors


def test_a_latest_answer_opens_its_timeline_and_each_event_its_quote(
    page: Any, service: Service
) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    _ask(page, LATEST)
    answer = page.get_by_test_id("chat-answer").last
    expect(answer.get_by_test_id("chat-feedback-up")).to_be_visible()
    expect(answer).to_contain_text("As of 22 June 2026")
    toggle = answer.get_by_test_id("chat-timeline-toggle")
    timeline = answer.get_by_test_id("chat-timeline")
    expect(timeline).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(timeline).to_be_visible()
    events = timeline.get_by_test_id("chat-timeline-event")
    assert events.count() >= 3
    stamps = [e.get_attribute("datetime") for e in timeline.locator("time").all()]
    assert stamps == sorted(stamps, key=lambda d: (d or "").ljust(10, "~"))  # oldest first
    events.first.get_by_test_id("chat-timeline-citation").click()
    quote = page.get_by_test_id("chat-quote")
    expect(quote).to_be_visible()
    expect(quote.locator("blockquote")).to_have_text(
        re.compile(re.escape(events.first.locator("p").inner_text()[1:40]))
    )
    _shot(page.locator("peace-chat"), "timeline-from-latest.png")


def test_the_timeline_control_lists_the_current_topics_events(page: Any, service: Service) -> None:
    expect = _expect()
    page.goto(service.url + "/")
    control = page.get_by_test_id("chat-timeline-control")
    control.click()  # nothing asked yet: it says what to do
    expect(page.locator(".status")).to_contain_text("Ask a question first")
    _ask(page, "what happened with the border commissions")
    expect(page.get_by_test_id("chat-feedback-up").last).to_be_visible()
    with page.expect_request(lambda r: "/timeline?q=" in r.url) as request:
        control.click()
    assert "border+commissions" in request.value.url or "border%20commissions" in request.value.url
    shown = page.get_by_test_id("chat-timeline-answer").last
    expect(shown).to_contain_text("dated events, oldest first")
    expect(shown.get_by_test_id("chat-timeline-event").first).to_be_visible()
    assert shown.get_by_test_id("chat-timeline-event").count() >= 3
    _shot(page.locator("peace-chat"), "timeline-control.png")
    page.reload()  # kept with the conversation
    expect(page.get_by_test_id("chat-timeline-answer")).to_have_count(1)
