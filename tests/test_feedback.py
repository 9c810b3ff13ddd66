"""POST /feedback is durable (SQLite, WAL); GET /feedback is for the operator only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag.config import Settings
from rag.pipeline import Pipeline
from service.app import create_app
from tests.conftest import with_service

GOOD = {"question": "How many cables?", "answer": "312 cables [1]", "rating": "up"}


@pytest.fixture
def settings(small_settings: Settings, tmp_path: Path) -> Settings:
    return with_service(small_settings, data_dir=tmp_path / "data" / "nested")


@pytest.fixture
def client(settings: Settings, small_pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(settings, small_pipeline)) as c:
        yield c


def _db(settings: Settings) -> Path:
    return settings.service.data_dir / "feedback.sqlite"


def test_feedback_is_committed_before_the_201_and_survives_a_restart(
    client: TestClient, settings: Settings, small_pipeline: Pipeline
) -> None:
    first = client.post("/feedback", json=GOOD)
    assert first.status_code == 201
    second = client.post("/feedback", json=GOOD | {"rating": "down", "comment": "missed the date"})
    assert second.status_code == 201 and second.json()["id"] == first.json()["id"] + 1
    # A separate connection sees both rows right away: they were committed.
    with sqlite3.connect(_db(settings)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT id, question, rating, comment FROM feedback").fetchall()
    conn.close()
    assert rows == [
        (first.json()["id"], "How many cables?", "up", None),
        (second.json()["id"], "How many cables?", "down", "missed the date"),
    ]
    # A new app over the same directory (a restart) reads them back.
    with TestClient(create_app(settings, small_pipeline)) as again:
        listed = again.get("/feedback").json()
    assert [r["rating"] for r in listed] == ["down", "up"]  # newest first
    assert listed[0]["comment"] == "missed the date" and listed[0]["created_at"]


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"rating": "meh"}, "rating"),
        ({"question": "  "}, "question"),
        ({"answer": ""}, "answer"),
        ({"question": "q" * 2001}, "question is 2001 characters long; the limit is 2000"),
        ({"answer": "a" * 8001}, "answer is 8001 characters long; the limit is 8000"),
        ({"comment": "c" * 2001}, "comment is 2001 characters long; the limit is 2000"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_feedback_gets_422(
    client: TestClient, settings: Settings, change: dict[str, Any], mentions: str
) -> None:
    response = client.post("/feedback", json=GOOD | change)
    assert response.status_code == 422
    assert mentions in response.json()["detail"]
    assert not _db(settings).exists() or client.get("/feedback").json() == []


def test_without_a_token_only_loopback_may_read(
    settings: Settings, small_pipeline: Pipeline
) -> None:
    app = create_app(settings, small_pipeline)
    with TestClient(app) as local:
        local.post("/feedback", json=GOOD)
        assert local.get("/feedback").status_code == 200
    with TestClient(app, client=("127.0.0.1", 5000)) as loopback:
        assert loopback.get("/feedback").status_code == 200
    with TestClient(app, client=("203.0.113.9", 5000)) as remote:
        response = remote.get("/feedback")
        assert response.status_code == 403
        assert "RAG_API_TOKEN" in response.json()["detail"]
        assert remote.post("/feedback", json=GOOD).status_code == 201  # anyone may rate


def test_with_a_token_it_is_required_even_from_loopback(
    settings: Settings, small_pipeline: Pipeline
) -> None:
    secured = settings.model_copy(update={"api_token": SecretStr("s3cret-token")})
    with TestClient(create_app(secured, small_pipeline)) as c:
        c.post("/feedback", json=GOOD)
        missing = c.get("/feedback")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert c.get("/feedback", headers={"authorization": "Basic czNjcmV0"}).status_code == 401
        wrong = c.get("/feedback", headers={"authorization": "Bearer s3cret-tokem"})
        assert wrong.status_code == 403
        ok = c.get("/feedback", headers={"authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()[0]["question"] == GOOD["question"]
        assert c.get("/feedback?limit=0").status_code == 401  # auth before anything else
        token = {"authorization": "Bearer s3cret-token"}
        assert c.get("/feedback?limit=0", headers=token).status_code == 422


def test_api_token_comes_from_rag_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_TOKEN", "from-env")
    assert Settings(_env_file=None).api_token == SecretStr("from-env")  # type: ignore[call-arg]
    assert "from-env" not in repr(Settings(_env_file=None))  # type: ignore[call-arg]
