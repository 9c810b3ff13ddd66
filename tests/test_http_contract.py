"""What the HTTP layer promises beyond single endpoints: one error mapping (JSON, OpenAI, SSE),
bounds taken from settings, an OpenAPI schema that states them, and Allow on every 405."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from rag.config import Settings
from rag.documents import check_doc_id
from rag.errors import (
    Conflict,
    Forbidden,
    GeneratorUnavailable,
    IndexMismatch,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RagError,
    Unauthorized,
    UnsupportedFormat,
)
from rag.pipeline import Pipeline
from service.app import create_app
from service.common import DOC_ID_PATTERN
from service.errors import from_exception
from tests.conftest import DATA, with_service


@pytest.fixture
def settings(small_settings: Settings, tmp_path: Path) -> Settings:
    return with_service(small_settings, data_dir=tmp_path / "data", max_top_k=5)


@pytest.fixture
def client(settings: Settings, small_pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(settings, small_pipeline)) as c:
        yield c


# -- one mapping from library errors to HTTP -------------------------------------------------

KINDS: list[tuple[RagError, int, str, str | None]] = [
    (InvalidInput("bad"), 422, "invalid_request_error", None),
    (UnsupportedFormat("x.doc"), 415, "invalid_request_error", None),
    (PayloadTooLarge("big"), 413, "invalid_request_error", None),
    (Conflict("twice"), 409, "invalid_request_error", None),
    (Unauthorized("who"), 401, "invalid_request_error", None),
    (Forbidden("no"), 403, "invalid_request_error", None),
    (NotFound("gone"), 404, "invalid_request_error", "not_found"),
    (IndexMismatch("damaged"), 503, "server_error", "index_unavailable"),
]


@pytest.mark.parametrize(("exc", "status", "kind", "code"), KINDS)
def test_each_error_kind_has_one_status_and_three_shapes(
    exc: RagError, status: int, kind: str, code: str | None
) -> None:
    error = from_exception(exc)
    assert error.status == status and error.detail == str(exc)
    response = error.response()
    assert response.status_code == status
    assert json.loads(bytes(response.body)) == {"detail": str(exc)}
    openai = error.openai_response()
    assert openai.status_code == (400 if status == 422 else status)
    body = json.loads(bytes(openai.body))["error"]
    assert body == {"message": str(exc), "type": kind, "param": None, "code": code}
    assert error.sse_data() == {"detail": str(exc)}
    assert (response.headers.get("www-authenticate") == "Bearer") is (status == 401)


@pytest.mark.parametrize("exc", [GeneratorUnavailable("no model"), RuntimeError("secret path")])
def test_unexpected_errors_are_a_500_that_reveals_nothing(exc: Exception) -> None:
    error = from_exception(exc)
    assert (error.status, error.detail) == (500, "internal error")
    assert error.openai_error()["type"] == "server_error"


# -- bounds from settings --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ask", "/ask/stream", "/search"])
def test_top_k_is_bounded_by_service_max_top_k(client: TestClient, path: str) -> None:
    key = "query" if path == "/search" else "question"
    within = client.post(path, json={key: "How many steel cables?", "top_k": 5})
    assert within.status_code == 200
    over = client.post(path, json={key: "How many steel cables?", "top_k": 6})
    assert over.status_code == 422
    assert over.json()["detail"] == "top_k is 6; the limit is 5 (service.max_top_k)"


def test_openai_top_k_over_the_limit_is_a_400(client: TestClient) -> None:
    messages = [{"role": "user", "content": "How many steel cables?"}]
    for stream in (False, True):
        response = client.post(
            "/v1/chat/completions",
            json={"model": "peace-rag", "messages": messages, "top_k": 6, "stream": stream},
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert "top_k is 6" in error["message"] and error["type"] == "invalid_request_error"


def test_the_question_length_limit_is_the_pipelines(
    small_settings: Settings, tmp_path: Path
) -> None:
    """The pipeline checks the length (one check); every route answers with its message."""
    settings = with_service(small_settings, data_dir=tmp_path / "data", max_question_chars=40)
    pipeline = Pipeline(settings)
    pipeline.ingest([DATA])
    question = "How many steel cables were replaced in the end?"  # 47 characters
    with TestClient(create_app(settings, pipeline)) as c:
        for path, body in (
            ("/ask", {"question": question}),
            ("/ask/stream", {"question": question}),
            ("/search", {"query": question}),
        ):
            response = c.post(path, json=body)
            assert response.status_code == 422, path
            assert "47 characters long; the limit is 40" in response.json()["detail"]
        chat = c.post(
            "/v1/chat/completions",
            json={"model": "peace-rag", "messages": [{"role": "user", "content": question}]},
        )
        assert chat.status_code == 400 and "the limit is 40" in chat.json()["error"]["message"]


# -- the schema states what the validators enforce -------------------------------------------


def _schemas(client: TestClient) -> dict[str, Any]:
    schemas: dict[str, Any] = client.get("/openapi.json").json()["components"]["schemas"]
    return schemas


def test_schema_states_non_blank_text_and_the_settings_bounds(client: TestClient) -> None:
    schemas = _schemas(client)
    ask = schemas["AskRequest"]["properties"]
    question = ask["question"]
    assert (question["minLength"], question["pattern"], question["maxLength"]) == (1, r"\S", 2000)
    assert {"type": "integer", "minimum": 1, "maximum": 5} in ask["top_k"]["anyOf"]
    assert ask["history"]["maxItems"] == 20
    assert schemas["ChatTurn"]["properties"]["content"]["maxLength"] == 4000
    search = schemas["SearchRequest"]["properties"]
    assert search["query"]["pattern"] == r"\S" and search["query"]["maxLength"] == 2000
    feedback = schemas["FeedbackIn"]["properties"]
    assert feedback["answer"]["maxLength"] == 8000 and feedback["answer"]["minLength"] == 1
    assert {"type": "string", "maxLength": 2000} in feedback["comment"]["anyOf"]


def test_schema_states_the_date_and_doc_id_patterns(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    dates = spec["components"]["schemas"]["Filters"]["properties"]["date_to"]["anyOf"][0]
    pattern = dates["pattern"]
    for good in ("2024", "2024-06", "2024-06-30"):
        assert re.search(pattern, good)
    for bad in ("24", "2024-6", "2024/06", "June 2024", "2024-06-30T00:00"):
        assert not re.search(pattern, bad)
    for method in ("get", "put", "delete"):
        (param,) = spec["paths"]["/documents/{doc_id}"][method]["parameters"]
        assert param["schema"]["pattern"] == DOC_ID_PATTERN
        assert param["schema"]["maxLength"] == 200
    upload = spec["paths"]["/documents"]["post"]["requestBody"]["content"]["application/json"]
    assert upload["schema"]["properties"]["doc_id"]["pattern"] == DOC_ID_PATTERN


@given(st.text(alphabet="aZ9._-/ é", max_size=8))
def test_the_doc_id_pattern_is_check_doc_id(doc_id: str) -> None:
    try:
        check_doc_id(doc_id)
        valid = True
    except InvalidInput:
        valid = False
    assert valid is bool(re.search(DOC_ID_PATTERN, doc_id) and len(doc_id) <= 200)


def test_the_doc_id_pattern_bounds_length_like_check_doc_id() -> None:
    for n in (199, 200, 201):
        doc_id = "a" * (n - 4) + ".txt"
        try:
            check_doc_id(doc_id)
            valid = True
        except InvalidInput:
            valid = False
        assert valid is (n <= 200)


def test_a_blank_or_too_long_question_is_still_named_in_the_422(client: TestClient) -> None:
    blank = client.post("/ask", json={"question": " \t"})
    assert blank.status_code == 422 and "question" in blank.json()["detail"]
    assert "empty or whitespace" in blank.json()["detail"]
    bad_date = client.post("/search", json={"query": "bridge", "filters": {"date_to": "2024-6"}})
    assert bad_date.status_code == 422 and "date_to" in bad_date.json()["detail"]


# -- 405 carries Allow -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/ask", "POST"),
        ("GET", "/ask", "POST"),
        ("OPTIONS", "/documents", "GET, POST"),
        ("PATCH", "/documents", "GET, POST"),
        ("OPTIONS", "/documents/harbor_bridge.txt", "GET, PUT, DELETE"),
        ("DELETE", "/health", "GET"),
        ("OPTIONS", "/v1/chat/completions", "POST"),
    ],
)
def test_a_405_lists_every_allowed_method(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"detail": "Method Not Allowed"}
