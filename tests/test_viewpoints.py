"""Questions about the sources as a whole: viewpoints side by side and timelines of dated events,
on the seed collection with the real model. Questions written for these tests, not taken from
the evaluation sets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from rag.nlp import english
from rag.perspective import perspective_of
from rag.pipeline import Pipeline
from service.app import create_app
from tests.support import parse_sse

pytestmark = pytest.mark.slow

OP_ED = "004_1b309d18163f8509.txt"  # The Armenian Weekly, 2023, against the agreement


def _kind(pipeline: Pipeline, question: str) -> str | None:
    loaded = pipeline.loaded
    text = loaded.lexicon.repair(question).text
    found = perspective_of(
        text, loaded.data, loaded.idf.weight, pipeline.phrase_similarity.matrix_known, english()
    )
    return found.kind if found else None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Do the outlets see eye to eye on Turkey's role?", "compare"),
        ("where do the analyses disagree about the constitution", "compare"),
        ("jamestown vs evn: the washington summit", "compare"),
        ("how is the trump route portrayed across the articles", "compare"),
        ("contrast the armenian weekly and jamestown on the peace deal", "compare"),
        ("give me a timeline of the peace treaty talks", "timeline"),
        ("how did the border demarcation unfold over the years", "timeline"),
        ("how have relations between baku and moscow evolved", "timeline"),
        ("whats new on the peace treaty", "timeline"),
        ("treaty updates?", "timeline"),
        ("walk me through the border talks since 2020", "timeline"),
        ("whats been going on with the corridor recently", "timeline"),
        ("contrasting views on cop29?", "compare"),
        ("which outlet is most optimistic overall", "compare"),
        ("are all five articles on the same page about russia", "compare"),
        # about the story, not the sources
        ("how many articles of the treaty were agreed", None),
        ("what does the evn report say about the border guards", None),
        ("did pashinyan agree to change the constitution", None),
        ("what does sevan araz compare artsakh to", None),
        ("what is the latest date mentioned for the elections", None),
        ("which company was selected to develop the route", None),
        ("which outlet published the piece about internet traffic", None),
        ("what's the difference between delimitation and demarcation", None),
        ("who updates the border commission's regulations", None),
    ],
)
def test_questions_about_the_sources_are_told_apart(
    seed_pipeline: Pipeline, question: str, kind: str | None
) -> None:
    assert _kind(seed_pipeline, question) == kind


def test_a_comparison_shows_each_source_once_newest_first_quoted_verbatim(
    seed_pipeline: Pipeline,
) -> None:
    response = seed_pipeline.ask("do the sources agree on whether the peace agreement is good")
    views = response.viewpoints
    assert views is not None and len(views) >= 2
    assert OP_ED in {v.doc_id for v in views}
    assert len({v.doc_id for v in views}) == len(views)  # one entry per source
    dates = [v.date or "" for v in views]
    assert dates == sorted(dates, reverse=True)
    data = seed_pipeline.loaded.data
    by_id = {c.id: c for c in response.citations}
    for v in views:
        assert v.citation_ids
        for i in v.citation_ids:
            c = by_id[i]
            assert c.doc_id == v.doc_id
            assert data.documents[c.doc_id].text[c.start : c.end] == c.quote
    # attributed, and the op-ed is labelled as opinion, by its author
    assert "Sevan Araz, opinion, The Armenian Weekly (c. Jul 2023)" in response.answer
    assert response.short_answer is None  # no single answer to "do they agree"


def test_named_sources_are_compared_and_no_others(seed_pipeline: Pipeline) -> None:
    response = seed_pipeline.ask("what do jamestown and the armenian weekly say about russia")
    assert response.viewpoints is not None
    assert {v.doc_id for v in response.viewpoints} == {"001_505b62850a7cf1e0.txt", OP_ED}
    # "who is more ...": the answer is a source, not a value copied from a quote
    ranked = seed_pipeline.ask(
        "who is more negative about the peace deal, evn or the armenian weekly"
    )
    assert ranked.short_answer is None and ranked.viewpoints
    assert {v.doc_id for v in ranked.viewpoints} == {"002_c7b824baeb8dafed.txt", OP_ED}


def test_a_subject_no_source_treats_is_not_padded(seed_pipeline: Pipeline) -> None:
    response = seed_pipeline.ask("do the sources agree about the price of saffron in Spain")
    assert response.abstained or (response.viewpoints is not None and response.viewpoints == [])


def test_a_timeline_of_the_border_delimitation(seed_pipeline: Pipeline) -> None:
    timeline = seed_pipeline.timeline("border delimitation between Armenia and Azerbaijan")
    events = timeline.events
    years = {e.date[:4] for e in events}
    assert len(events) >= 3 and len(years) >= 2
    starts = [e.date for e in events]
    assert starts == sorted(starts, key=lambda d: d.ljust(10, "~"))  # oldest first
    data = seed_pipeline.loaded.data
    for e in events:
        c = e.citation
        assert data.documents[c.doc_id].text[c.start : c.end] == e.text == c.quote
        assert len(e.date) == {"day": 10, "month": 7, "year": 4}[e.date_precision]
        date.fromisoformat({4: f"{e.date}-01-01", 7: f"{e.date}-01"}.get(len(e.date), e.date))
    assert timeline.as_of == "2026-06-22"


def test_an_updates_question_states_the_current_state_before_its_events(
    seed_pipeline: Pipeline,
) -> None:
    response = seed_pipeline.ask("any updates on the prisoners?")
    assert response.timeline
    direct, _, events = response.answer.partition("As of 22 June 2026 (the newest source)")
    assert direct.strip() and events  # the direct answer leads, the dated events follow
    assert "prisoner" in direct.lower()


def test_a_latest_question_answers_first_then_lists_dated_events(seed_pipeline: Pipeline) -> None:
    response = seed_pipeline.ask("whats the latest on the border demarcation")
    assert response.timeline
    assert "As of 22 June 2026 (the newest source)" in response.answer
    assert not response.abstained
    ids = [c.id for c in response.citations]
    assert ids == list(range(1, len(ids) + 1))  # one numbering for direct answer and events


# -- over HTTP and the command line ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client(seed_pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(seed_pipeline.settings, seed_pipeline)) as c:
        yield c


def test_get_timeline_returns_dated_quoted_events_oldest_first(client: TestClient) -> None:
    response = client.get("/timeline", params={"q": "border delimitation", "limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == "border delimitation" and body["as_of"] == "2026-06-22"
    events = body["events"]
    assert 3 <= len(events) <= 5
    assert [e["date"] for e in events] == sorted(
        (e["date"] for e in events), key=lambda d: d.ljust(10, "~")
    )
    for e in events:
        assert {"date", "date_precision", "date_estimated", "text", "citation"} <= set(e)
        assert e["citation"]["quote"] == e["text"]


@pytest.mark.parametrize(
    ("params", "mentions"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "border", "limit": 0}, "limit"),
     ({"q": "border", "limit": "many"}, "limit")],
)  # fmt: skip
def test_bad_timeline_input_is_refused_naming_the_problem(
    client: TestClient, params: dict[str, object], mentions: str
) -> None:
    response = client.get("/timeline", params=params)
    assert response.status_code in (400, 422), response.text
    assert mentions in response.text


def test_the_stream_carries_the_viewpoints_in_done(client: TestClient) -> None:
    question = "do the sources agree on whether the peace agreement is good"
    response = client.post("/ask/stream", json={"question": question})
    assert response.status_code == 200
    done = parse_sse(response.text)[-1]
    assert done[0] == "done"
    assert done[1]["viewpoints"] and len(done[1]["viewpoints"]) >= 2
    ask = client.post("/ask", json={"question": question}).json()
    assert ask["viewpoints"] == done[1]["viewpoints"]


def test_cli_timeline_json_matches_http(
    seed_pipeline: Pipeline, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = seed_pipeline.settings
    monkeypatch.setenv("RAG_PATHS__INDEX_DIR", str(settings.paths.index_dir))
    monkeypatch.setenv("RAG_PATHS__SEEDS_DIR", str(settings.paths.seeds_dir))
    result = CliRunner().invoke(cli_app, ["timeline", "the peace treaty", "--json"])
    assert result.exit_code == 0, result.output
    cli_body = json.loads(result.stdout)
    http_body = client.get("/timeline", params={"q": "the peace treaty"}).json()
    cli_body.pop("timings_ms"), http_body.pop("timings_ms")
    assert cli_body == http_body and cli_body["events"]


def test_most_questions_of_an_independent_labelled_set_are_told_apart(
    seed_pipeline: Pipeline,
) -> None:
    # 100 questions a helper wrote from a description of the collection, without the code or
    # the dev sets (eval/questions/perspective-detect.jsonl): 30 compare, 30 timeline, 40 none.
    path = Path(__file__).resolve().parents[1] / "eval" / "questions" / "perspective-detect.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    right = {"compare": 0, "timeline": 0, "none": 0}
    for row in rows:
        got = _kind(seed_pipeline, row["question"]) or "none"
        right[row["label"]] += got == row["label"]
    assert right["none"] == 40  # a question about the story is never taken for one about sources
    assert right["compare"] >= 27 and right["timeline"] >= 21, right
