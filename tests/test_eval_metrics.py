"""The eval harness's question schema, splits, short-answer and answer-length metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.metrics import by_split, by_type, metrics
from eval.question_set import Question, load_questions, select_split
from eval.report import markdown_report
from eval.scoring import score_one, word_count
from rag.config import Settings
from rag.schemas import AskResponse, ChatTurn


def _response(answer: str, short: str | None = None, abstained: bool = False) -> AskResponse:
    return AskResponse(
        question="q",
        answer=answer,
        abstained=abstained,
        support=0.5,
        citations=[],
        passages=[],
        timings_ms={"total": 1.0},
        short_answer=short,
        short_answer_citation=1 if short else None,
    )


def _q(qid: str, qtype: str = "single", **kw: object) -> Question:
    accept = [] if qtype == "unanswerable" else ["June 22, 2026"]
    return Question.model_validate(
        {"id": qid, "question": "When?", "type": qtype, "accept": accept} | kw
    )


def test_word_count_leaves_out_citation_markers() -> None:
    assert word_count("Yes — on June 22, 2026 [1].") == 5
    assert word_count("Signed [1, 2] in Abu Dhabi [3]") == 4


def test_short_answer_must_hold_an_accept_string() -> None:
    right = score_one(_q("a"), _response("On June 22, 2026 [1].", "june 22, 2026"), 1.0, {})
    wrong = score_one(_q("b"), _response("On June 22, 2026 [1].", "June 2026"), 1.0, {})
    missing = score_one(_q("c"), _response("On June 22, 2026 [1]."), 1.0, {})
    abstained = score_one(_q("d"), _response("", abstained=True), 1.0, {})
    assert [r.short_correct for r in (right, wrong, missing, abstained)] == [
        True,
        False,
        False,
        False,
    ]
    assert all(r.correct for r in (right, wrong, missing))
    m = metrics([right, wrong, missing, abstained])
    assert m["short_answer_accuracy"] == 0.25
    assert m["answer_words_p50"] == 4 and m["answer_words_p50_single"] == 4


def test_yes_no_question_is_decided_by_the_short_answer() -> None:
    q = _q("y", yes_no="no", accept=["two companies"])
    said_no = score_one(q, _response("It was not the governments [1].", "No"), 1.0, {})
    said_none = score_one(q, _response("None of them [1].", "None"), 1.0, {})
    by_quote = score_one(q, _response("It was two companies [1].", "Yes"), 1.0, {})
    assert (said_no.correct, said_no.short_correct) == (True, True)
    assert (said_none.correct, said_none.short_correct) == (False, False)
    assert (by_quote.correct, by_quote.short_correct) == (True, False)


def test_splits_filter_and_report_separately(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"id": "a", "question": "x", "type": "single", "accept": ["1"], "split": "tune"}\n'
        '{"id": "b", "question": "y", "type": "unanswerable", "split": "test",'
        ' "conversation": "c1", "history": [{"role": "user", "content": "x"}]}\n',
        encoding="utf-8",
    )
    qs = load_questions(path)
    assert [q.id for q in select_split(qs, "test")] == ["b"]
    assert qs[1].history == [ChatTurn(role="user", content="x")]
    assert len(select_split(qs, None)) == 2
    with pytest.raises(ValueError, match="split must be one of"):
        select_split(qs, "dev")
    results = [
        score_one(qs[0], _response("1 [1]", "1"), 1.0, {}),
        score_one(qs[1], _response("", abstained=True), 1.0, {}),
    ]
    splits = by_split(results)
    assert splits is not None and list(splits) == ["all", "tune", "test"]
    assert splits["tune"]["short_answer_accuracy"] == 1.0
    assert by_type(results)["unanswerable"]["answer_accuracy"] is None
    report = markdown_report("t", {"current": metrics(results)}, Settings(), results)
    assert "## By split" in report and "| unanswerable | 1 | 1.000 | — |" in report


def test_question_schema_rejects_bad_split_and_history() -> None:
    with pytest.raises(ValueError):
        _q("s", split="dev")
    with pytest.raises(ValueError):
        _q("h", history=[{"role": "system", "content": "x"}])
    assert _q("d", doc="a.txt", docs=["a.txt", "b.txt"]).doc_ids() == ["a.txt", "b.txt"]
