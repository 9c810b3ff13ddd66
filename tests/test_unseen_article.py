"""An article the answerer's rules were never tuned on, uploaded over HTTP and asked about the
way chat users type: lower case, a typo, paraphrase, why, is-it-true.

tests/data/uploads/saltmere_terminal.txt is a made-up port-expansion analysis (fictional port,
firms and people; nothing about Armenia or Azerbaijan) with dated facts of every kind: who,
when, how much, how many, where, why. It sits in uploads/ so the collections other tests build
from tests/data do not include it.

Questions marked xfail (strict=False) are ones the answerer gets wrong today; the reason says
what it answers instead. The assertions are the same for every question.
"""

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

from .conftest import DATA, make_settings

pytestmark = pytest.mark.slow

ARTICLE: Path = DATA / "uploads" / "saltmere_terminal.txt"
DOC_ID = "saltmere_terminal.txt"
TOKEN = "unseen-article-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A quote must not lean on an antecedent the reader can't see.
_ANAPHOR = re.compile(r"^[\s“\"']*(he|she|it|its|they|their|this|these|those)\b", re.I)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service over tests/data with the real MiniLM model, the article uploaded through
    ``POST /documents`` as a user would."""
    settings = make_settings(tmp_path_factory.mktemp("unseen-index"), DATA)
    settings = settings.with_overrides({"service.local_only": "false", "service.host": "0.0.0.0"})
    settings = Settings.model_validate(
        {**settings.model_dump(exclude={"api_token"}), "api_token": TOKEN}
    )
    pipeline = Pipeline(settings)
    pipeline.ingest([DATA])
    with TestClient(create_app(settings, pipeline)) as c:
        upload = {
            "doc_id": DOC_ID,
            "text": ARTICLE.read_text(encoding="utf-8"),
            "title": "Saltmere bets €420 million on a deep-water terminal",
            "publisher": "Harbour & Freight Weekly",
            "authors": ["Ines Cardoso"],
            "date": "2025-07-10",
            "kind": "analysis",
        }
        response = c.post("/documents", json=upload, headers=AUTH)
        assert response.status_code == 201, response.text
        yield c


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _check_quotes(client: TestClient, body: dict[str, Any]) -> None:
    """Every quote is the document's text at its offsets and names what it is about."""
    texts: dict[str, str] = {}
    for c in body["citations"]:
        if c["doc_id"] not in texts:
            texts[c["doc_id"]] = client.get(f"/documents/{c['doc_id']}").json()["text"]
        assert texts[c["doc_id"]][c["start"] : c["end"]] == c["quote"]
        assert not _ANAPHOR.match(c["quote"]), c["quote"]


def _weak(reason: str) -> pytest.MarkDecorator:
    # strict: a weakness that gets fixed fails here, so its mark comes off and the case counts
    return pytest.mark.xfail(strict=True, reason=f"answerer weakness: {reason}")


# (question as typed, what the short answer must hold, words of the quote it must come from)
ANSWERABLE = [
    pytest.param(
        "who is going to run the new terminal",
        "Northgate Terminals",
        "build and run the terminal",
        id="who-paraphrase",
        marks=_weak(
            "short answer 'Rotterdam' (from 'a Rotterdam-based operator', an agent-typed entity "
            "nearer the question's words) instead of the sentence's subject"
        ),
    ),
    pytest.param(
        "when was the concesion signed",
        "14 March 2025",
        "signed on 14 March 2025",
        id="when-typo",
    ),
    pytest.param(
        "how much is the whole gull point project going to cost",
        "€420 million",
        "cost of the project",
        id="how-much-lowercase-name",
    ),
    pytest.param(
        "how many cranes has northgate ordered",
        "four",
        "ship-to-shore cranes",
        id="how-many",
    ),
    pytest.param(
        "why does saltmere need a new terminal",
        "too shallow",
        "because the old basin",
        id="why",
    ),
    pytest.param(
        "did the environment agency approve the dredging",
        "Yes",
        "approved it on 9 May 2025",
        id="did-yes",
    ),
    pytest.param(
        "is it true the fishermens association backed the plan",
        "No",
        "did not support the plan",
        id="is-it-true-no",
    ),
    pytest.param(
        "how many containers did saltmere handle in 2024",
        "310,000",
        "handled 310,000 containers in 2024",
        id="how-many-in-year",
    ),
    pytest.param(
        "where is the new terminal being built",
        "Gull Point",
        "Gull Point",
        id="where",
        marks=_weak(
            "short answer 'Saltmere': spaCy labels 'Gull Point' ORG, so the only place-typed "
            "value in the quote is the town"
        ),
    ),
    pytest.param(
        "who chairs the fishermens association",
        "Johan Aalto",
        "Johan Aalto",
        id="who-chairs",  # "who" prefers a person to the organisation the question names
    ),
]


@pytest.mark.parametrize(("question", "expected", "evidence"), ANSWERABLE)
def test_chat_questions_get_a_short_answer_from_the_article(
    client: TestClient, question: str, expected: str, evidence: str
) -> None:
    body = _ask(client, question)
    assert not body["abstained"], body["answer"]
    short = body["short_answer"]
    assert short is not None and expected in short, body["answer"]
    by_id = {c["id"]: c for c in body["citations"]}
    source = by_id[body["short_answer_citation"]]
    assert source["doc_id"] == DOC_ID
    assert evidence in source["quote"]  # the quote that decides it
    if short not in ("Yes", "No"):
        assert short in source["quote"]  # verbatim
    assert body["answer"].startswith(short)  # the short answer leads
    assert 1 <= len(body["citations"]) <= 2  # then at most two supporting quotes
    _check_quotes(client, body)


UNANSWERED = [
    pytest.param(
        "how much will it cost to unload one container at the new terminal",
        id="fee-never-given",
        marks=_weak("answers '€420 million', the whole project's cost"),
    ),
    pytest.param(
        "when will the second phase at gull point open",
        id="date-never-given",
        marks=_weak("answers '2026', the year a decision on reserving land is due"),
    ),
    pytest.param(
        "who is the mayor of saltmere",
        id="name-never-given",
        marks=_weak(
            "answers 'The Saltmere Fishermen's Association' from a quote that never says "
            "'mayor' (the head typer gives 'mayor' no kind: place 0.562, person 0.560)"
        ),
    ),
]


@pytest.mark.parametrize("question", UNANSWERED)
def test_on_topic_questions_the_article_does_not_answer_abstain(
    client: TestClient, question: str
) -> None:
    body = _ask(client, question)
    assert body["abstained"], body["answer"]
    assert body["short_answer"] is None and body["citations"] == []
