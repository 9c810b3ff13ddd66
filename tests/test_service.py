"""The HTTP service: endpoints, shapes, and every bad-input case gets a clear 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from rag.chunking import SentenceSplitter
from rag.config import Settings
from rag.pipeline import Pipeline
from service.app import create_app

from .conftest import DATA


@pytest.fixture
def client(small_settings: Settings, small_pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(small_settings, small_pipeline)) as c:
        yield c


def test_health_and_documents(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 2
    docs = {d["doc_id"]: d for d in client.get("/documents").json()}
    assert docs["harbor_bridge.txt"]["publisher"] == "Coastal Times"
    assert docs["harbor_bridge.txt"]["chunks"] > 0


def test_ask_shape_and_verbatim_citations(client: TestClient, small_pipeline: Pipeline) -> None:
    body = client.post("/ask", json={"question": "How many steel cables were replaced?"}).json()
    assert set(body) >= {"answer", "abstained", "citations", "passages", "timings_ms"}
    assert not body["abstained"]
    assert "312" in body["answer"]
    for c in body["citations"]:
        assert set(c) >= {"id", "doc_id", "title", "publisher", "date", "start", "end", "quote"}
        text = small_pipeline.loaded.data.documents[c["doc_id"]].text
        assert text[c["start"] : c["end"]] == c["quote"]


def test_search_shape(client: TestClient) -> None:
    body = client.post("/search", json={"query": "parking spaces", "top_k": 3}).json()
    assert 1 <= len(body["results"]) <= 3
    top = body["results"][0]
    assert set(top) >= {"doc_id", "chunk_id", "score", "text", "start", "end"}
    assert top["doc_id"] == "river_park.md"


BAD_ASK = [
    ({"question": ""}, "question"),
    ({"question": "   \n\t"}, "empty or whitespace"),
    ({"question": "x" * 2001}, "limit is 2000"),
    ({"question": 123}, "question"),
    ({"question": ["a"]}, "question"),
    ({}, "question: Field required"),
    ({"question": "ok?", "top_k": 0}, "top_k"),
    ({"question": "ok?", "top_k": 51}, "top_k"),
    ({"question": "ok?", "top_k": "five"}, "top_k"),
    ({"question": "ok?", "top_k": 2.5}, "top_k"),
    ({"question": "ok?", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("payload", "mentions"), BAD_ASK)
def test_bad_ask_input_gets_422_naming_the_problem(
    client: TestClient, payload: dict[str, object], mentions: str
) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == 422
    assert mentions in response.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"question": ', b"not json", b'{"question": "a",}', b"\xff\xfe"])
def test_malformed_json_gets_422(client: TestClient, raw: bytes) -> None:
    response = client.post("/ask", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_bad_search_input(client: TestClient) -> None:
    assert client.post("/search", json={"query": " "}).status_code == 422
    assert client.post("/search", json={"query": "x", "top_k": -1}).status_code == 422
    assert client.post("/search", content=b"[1,2]").status_code == 422


def test_wrong_method_and_path(client: TestClient) -> None:
    assert client.get("/ask").status_code == 405
    assert client.get("/nope").status_code == 404


@pytest.mark.slow
def test_cli_ask_json_prints_the_ask_body(
    seed_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = seed_pipeline.settings
    monkeypatch.setenv("RAG_PATHS__INDEX_DIR", str(settings.paths.index_dir))
    monkeypatch.setenv("RAG_PATHS__SEEDS_DIR", str(settings.paths.seeds_dir))
    question = "When did AzerTelecom and Telecom Armenia sign their agreement?"
    result = CliRunner().invoke(cli_app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.output
    cli_body = json.loads(result.stdout)
    with TestClient(create_app(settings, seed_pipeline)) as c:
        http_body = c.post("/ask", json={"question": question}).json()
    for body in (cli_body, http_body):
        body.pop("timings_ms")
    assert cli_body == http_body
    assert "June 22, 2026" in cli_body["answer"]


def test_cli_ingest_if_missing_rebuilds_an_index_this_version_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "hash")
    monkeypatch.setenv("RAG_PATHS__INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_PATHS__SEEDS_DIR", str(DATA))

    def ingest() -> str:
        result = CliRunner().invoke(cli_app, ["ingest", "--if-missing"])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())  # the console wraps long lines

    assert "indexed" in ingest()
    assert "nothing to do" in ingest()
    # an index written by an older pipeline (other cleaning or chunking rules)
    (manifest,) = (tmp_path / "index" / "versions").glob("*/manifest.json")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["pipeline_version"] = -1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    rebuilt = ingest()
    assert "rebuilding" in rebuilt and "indexed" in rebuilt


def test_the_service_answers_while_the_rest_warms_up_in_the_background(
    small_settings: Settings, splitter: SentenceSplitter
) -> None:
    ingested = Pipeline(small_settings, splitter=splitter)
    ingested.ingest([DATA])
    fresh = Pipeline(small_settings, splitter=splitter)  # nothing loaded yet
    with TestClient(create_app(small_settings, fresh)) as c:
        response = c.post("/ask", json={"question": "How many steel cables were replaced?"})
        assert response.status_code == 200 and "312" in response.json()["answer"]
    # the warm-up finished by shutdown: the word vectors are kept for good
    assert fresh.phrase_similarity.warm(["time"]) == 0
