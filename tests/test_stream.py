"""POST /ask/stream (Server-Sent Events) and conversation history on /ask."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.errors import InvalidInput, NotFound
from rag.events import pieces
from rag.pipeline import Pipeline
from rag.schemas import ChatTurn
from service.app import create_app
from tests.conftest import with_service
from tests.support import parse_sse


@pytest.fixture
def client(
    small_settings: Settings, small_pipeline: Pipeline, tmp_path: Path
) -> Iterator[TestClient]:
    settings = with_service(small_settings, data_dir=tmp_path / "data")
    with TestClient(create_app(settings, small_pipeline)) as c:
        yield c


def _stream(client: TestClient, payload: dict[str, Any]) -> list[tuple[str, Any]]:
    response = client.post("/ask/stream", json=payload)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


def _without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "timings_ms"}


def test_events_come_in_order_and_add_up_to_the_ask_body(client: TestClient) -> None:
    question = "How many steel cables were replaced?"
    events = _stream(client, {"question": question})
    names = [name for name, _ in events]
    n_citations = names.count("citation")
    assert names[0] == "retrieval" and names[-1] == "done"
    assert n_citations >= 1 and names.count("delta") >= 2
    assert names == ["retrieval"] + ["delta"] * names.count("delta") + [
        "citation"
    ] * n_citations + ["done"]
    done = events[-1][1]
    assert not done["abstained"] and "312" in done["answer"]
    assert "".join(data["text"] for name, data in events if name == "delta") == done["answer"]
    assert [data for name, data in events if name == "citation"] == done["citations"]
    assert events[0][1]["passages"] == done["passages"]
    assert events[0][1]["rewritten_question"] is None
    ask = client.post("/ask", json={"question": question}).json()
    assert _without_timings(ask) == _without_timings(done)


def test_an_abstention_streams_too(client: TestClient) -> None:
    events = _stream(client, {"question": "What is a good banana bread recipe?"})
    names = [name for name, _ in events]
    done = events[-1][1]
    assert done["abstained"] and "citation" not in names
    assert "".join(d["text"] for n, d in events if n == "delta") == done["answer"]
    assert events[0][1]["passages"] == done["related"]


@pytest.mark.parametrize(
    ("payload", "mentions"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "empty or whitespace"),
        ({"question": "x" * 2001}, "limit is 2000"),
        ({"question": "ok?", "top_k": 0}, "top_k"),
        ({"question": "ok?", "colour": "red"}, "colour"),
        ({"question": "ok?", "history": "nope"}, "history"),
        ({"question": "ok?", "history": [{"role": "system", "content": "x"}]}, "history.0.role"),
        ({"question": "ok?", "history": [{"role": "user"}]}, "history.0.content"),
        ({"question": "ok?", "history": [{"role": "user", "content": "x", "n": 1}]}, "n"),
        (
            {"question": "ok?", "history": [{"role": "user", "content": "hi"}] * 21},
            "history has 21 turns; the limit is 20",
        ),
        (
            {"question": "ok?", "history": [{"role": "assistant", "content": "x" * 4001}]},
            "history[0].content is 4001 characters long; the limit is 4000",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/ask", "/ask/stream"])
def test_bad_input_gets_a_json_422_before_any_streaming(
    client: TestClient, path: str, payload: dict[str, Any], mentions: str
) -> None:
    response = client.post(path, json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert mentions in response.json()["detail"]


def test_ask_stream_checks_input_before_the_first_event(small_pipeline: Pipeline) -> None:
    with pytest.raises(InvalidInput):
        small_pipeline.ask_stream("  ")
    with pytest.raises(InvalidInput, match="history has"):
        small_pipeline.ask_stream("ok?", history=[ChatTurn(role="user", content="a")] * 21)


def test_a_failure_after_streaming_started_becomes_an_error_event(
    client: TestClient, small_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(small_pipeline, "_retrieve", broken)
    events = _stream(client, {"question": "How many steel cables were replaced?"})
    assert events == [("error", {"detail": "internal error"})]  # no internals leak

    def gone(*args: object, **kwargs: object) -> None:
        raise NotFound("the index was removed")

    monkeypatch.setattr(small_pipeline, "_retrieve", gone)
    events = _stream(client, {"question": "How many steel cables were replaced?"})
    assert events == [("error", {"detail": "the index was removed"})]


def test_pieces_join_back_exactly() -> None:
    text = "  According to X (1 May 2024): one two three.  [1]\nSecond line [2]"
    parts = list(pieces(text, words=3))
    assert "".join(parts) == text and len(parts) > 2
    assert list(pieces("")) == []


def test_history_is_accepted_and_standalone_questions_are_not_rewritten(
    client: TestClient,
) -> None:
    history = [
        {"role": "user", "content": "How long is the Harbor Bridge?"},
        {"role": "assistant", "content": "According to Coastal Times: ... [1]"},
    ]
    body = client.post(
        "/ask", json={"question": "How many steel cables were replaced?", "history": history}
    ).json()
    assert body["rewritten_question"] is None
    assert body["question"] == "How many steel cables were replaced?"


# -- follow-ups over the seed documents, real model --------------------------------------------
FOLLOW_UPS = [
    (
        "What did Armenia and Turkey agree on July 1, 2022?",
        "Has it been implemented?",
        ["Armenia", "Turkey", "July 1, 2022"],
        {"002_c7b824baeb8dafed.txt", "003_979a4cfb7ee1731e.txt"},
    ),
    (
        "What did Armenia and Turkey agree on July 1, 2022?",
        "And what did Turkey promise?",
        ["Turkey", "Armenia"],
        {"002_c7b824baeb8dafed.txt", "003_979a4cfb7ee1731e.txt"},
    ),
    (
        "When did AzerTelecom and Telecom Armenia sign their agreement?",
        "What does it allow?",
        ["AzerTelecom", "Telecom Armenia"],
        {"000_3482da4db516eed0.txt"},
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("first", "follow_up", "carried", "docs"), FOLLOW_UPS)
def test_follow_ups_are_rewritten_and_cite_the_right_document(
    seed_pipeline: Pipeline,
    tmp_path: Path,
    first: str,
    follow_up: str,
    carried: list[str],
    docs: set[str],
) -> None:
    settings = with_service(seed_pipeline.settings, data_dir=tmp_path / "data")
    with TestClient(create_app(settings, seed_pipeline)) as c:
        answer = c.post("/ask", json={"question": first}).json()
        history = [
            {"role": "user", "content": first},
            {"role": "assistant", "content": answer["answer"]},
        ]
        body = c.post("/ask", json={"question": follow_up, "history": history}).json()
        events = _stream(c, {"question": follow_up, "history": history})
    assert body["question"] == follow_up
    rewritten = body["rewritten_question"]
    assert rewritten and all(name in rewritten for name in carried), rewritten
    assert not body["abstained"]
    cited = {c["doc_id"] for c in body["citations"]}
    assert cited & docs, cited
    assert body["citations"][0]["doc_id"] in docs
    assert events[0][1]["rewritten_question"] == rewritten
    assert _without_timings(events[-1][1]) == _without_timings(body)


@pytest.mark.slow
def test_a_second_follow_up_still_knows_the_topic(seed_pipeline: Pipeline) -> None:
    first = "When did AzerTelecom and Telecom Armenia sign their agreement?"
    history = [
        ChatTurn(role="user", content=first),
        ChatTurn(role="assistant", content=seed_pipeline.ask(first).answer),
        ChatTurn(role="user", content="What does it allow?"),
        ChatTurn(role="assistant", content="According to …"),
    ]
    body = seed_pipeline.ask("When was that signed?", history=history)
    assert body.rewritten_question and "AzerTelecom" in body.rewritten_question
    assert "June 22, 2026" in body.answer
    # Without the history the same words are about something else.
    alone = seed_pipeline.ask("When was that signed?")
    assert alone.rewritten_question is None


TTFT_QUESTIONS = [
    "When did AzerTelecom and Telecom Armenia sign their agreement?",
    "What did Armenia and Turkey agree on July 1, 2022?",
    "Which article of the Azerbaijani constitution does Baku want changed?",
    "What is a good banana bread recipe?",
]


@pytest.mark.slow
def test_first_delta_arrives_before_the_answer_is_done_over_http(
    seed_pipeline: Pipeline, tmp_path: Path
) -> None:
    import time

    import httpx

    from tests.support import LiveServer

    settings = with_service(seed_pipeline.settings, data_dir=tmp_path / "data")
    report = []
    with LiveServer(create_app(settings, seed_pipeline)) as live, httpx.Client() as http:
        for question in TTFT_QUESTIONS:
            seen: dict[str, float] = {}
            t0 = time.perf_counter()
            with http.stream("POST", live.url + "/ask/stream", json={"question": question}) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        seen.setdefault(line[7:].strip(), (time.perf_counter() - t0) * 1000)
            assert seen["retrieval"] <= seen["delta"] <= seen["done"]
            report.append(f"{seen['delta']:7.1f} ms first delta, {seen['done']:7.1f} ms done")
    # Loopback, model loaded: the first piece of text should come well within a second.
    print("\n" + "\n".join(report))  # noqa: T201 - shown with `pytest -s`
    assert all(float(r.split()[0]) < 3000 for r in report), report
