"""The eval harness counts what a generator wrote and what verification dropped."""

from __future__ import annotations

from eval.metrics import metrics
from eval.question_set import Question
from eval.report import drop_reasons, markdown_report
from eval.scoring import score_one
from rag.config import Settings
from rag.schemas import AskResponse, SentenceSupport


def _dropped(reason: str, *problems: str) -> SentenceSupport:
    return SentenceSupport(
        text="The bridge has 350 cables.", supported=False, reason=reason, problems=list(problems)
    )


def _response(generator: str, generated: int, dropped: int, fallback: str | None) -> AskResponse:
    return AskResponse(
        question="q",
        answer="City engineers replaced 312 steel cables [1].",
        abstained=False,
        support=0.5,
        citations=[],
        passages=[],
        timings_ms={"total": 10.0, "generate": 8.0},
        generator=generator,
        generated_sentences=generated,
        dropped_sentences=dropped,
        dropped=[
            _dropped(
                "not supported by source 1: numbers not in the source: 350; "
                "similarity 0.31 is below 0.45",
                "new_numbers",
                "low_similarity",
            )
        ]
        * (dropped - 1)
        + [_dropped("an instruction, not a statement", "instruction")] * min(dropped, 1),
        fallback=fallback,
    )


def test_generative_counts_per_answer_and_in_total() -> None:
    q = Question(id="q1", question="How many?", type="single", accept=["312"])
    kept = score_one(q, _response("openai:m", 4, 3, None), 10.0, {})
    fell_back = score_one(q, _response("extractive", 2, 2, "none supported"), 10.0, {})
    m = metrics([kept, fell_back])
    assert m["generated_answers"] == 0.5 and m["generator_fallbacks"] == 1
    assert m["generated_sentences"] == 6 and m["dropped_sentences"] == 5
    assert m["dropped_sentence_share"] == round(5 / 6, 4)
    assert m["latency_ms_generate_p50"] == 8.0
    record = kept.to_json()
    assert record["generator"] == "openai:m" and record["dropped_sentences"] == 3
    assert record["generated_sentences"] == 4 and record["fallback"] is None


def test_report_says_why_sentences_were_dropped() -> None:
    q = Question(id="q1", question="How many?", type="single", accept=["312"])
    extractive = score_one(q, _response("extractive", 0, 0, None), 5.0, {})
    generative = [
        score_one(q, _response("openai:m", 4, 3, None), 10.0, {}),
        score_one(q, _response("extractive", 2, 2, "none supported"), 10.0, {}),
    ]
    assert drop_reasons(generative) == {
        "new_numbers": 3,
        "low_similarity": 3,
        "instruction": 2,
    }
    report = markdown_report(
        "t",
        {"kind=extractive": metrics([extractive]), "kind=openai": metrics(generative)},
        Settings(),
        [extractive],
        others={"kind=openai": generative},
    )
    assert "## What verification removed: kind=openai" in report
    assert "6 sentences generated, 5 removed (83%); 1 of 2 answers fell back" in report
    assert "| new_numbers | 3 |" in report
    assert "What verification removed: kind=extractive" not in report  # nothing generated
