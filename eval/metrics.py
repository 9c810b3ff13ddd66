"""Aggregate metrics over scored results, overall and per split, question type and tag.

Metric names are part of the interface (floors files, reports, dashboards): add, never rename.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence

from eval.question_set import QUESTION_TYPES, SPLITS
from eval.scoring import Result


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[idx]


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _share(results: Sequence[Result], hit: Callable[[Result], bool]) -> float:
    """The share of ``results`` for which ``hit`` holds; 0 for none."""
    return sum(1 for r in results if hit(r)) / len(results) if results else 0.0


def _median_words(results: Iterable[Result]) -> float:
    """Median word count of the answers given (abstentions left out); 0 for none."""
    counts = [r.answer_words for r in results if r.answer_words is not None]
    return float(statistics.median(counts)) if counts else 0.0


def _abstention(results: Sequence[Result]) -> tuple[float, float, float]:
    """Precision, recall and F1 of abstaining, an unanswerable question being the positive."""
    abstained = [r for r in results if r.response.abstained]
    tp = sum(1 for r in abstained if not r.q.answerable)
    fn = sum(1 for r in results if not r.q.answerable and not r.response.abstained)
    precision = tp / len(abstained) if abstained else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def metrics(results: list[Result]) -> dict[str, float]:
    """Aggregate metrics (names are part of the interface)."""
    answerable = [r for r in results if r.q.answerable]
    with_gold = [r for r in answerable if r.spans]
    precision, recall, f1 = _abstention(results)
    all_citations = sum(len(r.response.citations) for r in results)
    correct = [r for r in answerable if r.correct]
    cites_on_correct = sum(len(r.response.citations) for r in correct)
    answered = [r for r in results if not r.response.abstained]
    out = {
        "questions": float(len(results)),
        "retrieval_recall_at_5": _mean([r.recall[5] for r in with_gold]),
        "retrieval_recall_at_10": _mean([r.recall[10] for r in with_gold]),
        "mrr_at_10": _mean([r.rr for r in with_gold]),
        "ndcg_at_10": _mean([r.ndcg for r in with_gold]),
        "answer_accuracy": len(correct) / len(answerable) if answerable else 0.0,
        "abstention_precision": precision,
        "abstention_recall": recall,
        "abstention_f1": f1,
        "citation_validity": (
            sum(r.valid_citations for r in results) / all_citations if all_citations else 1.0
        ),
        "citation_relevance": (
            sum(r.relevant_citations for r in correct) / cites_on_correct
            if cites_on_correct
            else 0.0
        ),
        "answers_with_citation": _share(answered, lambda r: bool(r.response.citations)),
    }
    for qtype in ("single", "multi"):
        group = [r for r in answerable if r.q.type == qtype]
        out[f"answer_accuracy_{qtype}"] = _share(group, lambda r: r.correct)
    temporal = [r for r in answerable if "temporal" in r.q.tags()]
    out["answer_accuracy_temporal"] = _share(temporal, lambda r: r.correct)
    # Generative runs: how many answers the model wrote, and what verification removed.
    generated = sum(r.response.generated_sentences for r in results)
    dropped = sum(r.response.dropped_sentences for r in results)
    out["generated_answers"] = _share(answered, lambda r: r.response.generator != "extractive")
    out["generator_fallbacks"] = float(sum(1 for r in results if r.response.fallback))
    out["generated_sentences"] = float(generated)
    out["dropped_sentences"] = float(dropped)
    out["dropped_sentence_share"] = dropped / generated if generated else 0.0
    # Short exact answers: an abstention or a missing short answer counts as wrong.
    out["short_answer_accuracy"] = _share(answerable, lambda r: r.short_correct)
    out["answer_words_p50"] = _median_words(results)
    out["answer_words_p50_single"] = _median_words(r for r in results if r.q.type == "single")
    latencies = [r.latency_ms for r in results]
    out["latency_ms_p50"] = _pct(latencies, 0.5)
    out["latency_ms_p95"] = _pct(latencies, 0.95)
    stages = sorted({k for r in results for k in r.response.timings_ms if k != "total"})
    for stage in stages:
        values = [r.response.timings_ms[stage] for r in results if stage in r.response.timings_ms]
        out[f"latency_ms_{stage}_p50"] = _pct(values, 0.5)
    return {k: round(v, 4) for k, v in out.items()}


def summary(results: Sequence[Result]) -> dict[str, float | None]:
    """A few numbers for one group of questions, None where the group has nothing to measure
    (no answerable question, no abstention, ...). ``accuracy`` counts a correct answer or a
    correct abstention as right; the answer metrics count answerable questions only."""
    answerable = [r for r in results if r.q.answerable]
    with_gold = [r for r in answerable if r.spans]
    abstained = [r for r in results if r.response.abstained]
    unanswerable = [r for r in results if not r.q.answerable]
    answered = [r for r in results if not r.response.abstained]

    def share(group: Sequence[Result], hit: Callable[[Result], bool]) -> float | None:
        return round(_share(group, hit), 4) if group else None

    return {
        "questions": len(results),
        "accuracy": share(results, lambda r: r.correct),
        "answer_accuracy": share(answerable, lambda r: r.correct),
        "short_answer_accuracy": share(answerable, lambda r: r.short_correct),
        "abstention_precision": share(abstained, lambda r: not r.q.answerable),
        "abstention_recall": share(unanswerable, lambda r: r.response.abstained),
        "retrieval_recall_at_5": round(_mean([r.recall[5] for r in with_gold]), 4)
        if with_gold
        else None,
        "answer_words_p50": _median_words(answered) if answered else None,
    }


def by_tag(results: list[Result]) -> dict[str, dict[str, float | None]]:
    """Per question tag: ``questions`` and ``accuracy`` (correct answer, or correct
    abstention), then the rest of `summary`."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        for tag in r.q.tags():
            groups.setdefault(tag, []).append(r)
    return {tag: summary(rs) for tag, rs in sorted(groups.items())}


def by_type(results: list[Result]) -> dict[str, dict[str, float | None]]:
    """`summary` per question type present (single, multi, unanswerable)."""
    groups = {t: [r for r in results if r.q.type == t] for t in QUESTION_TYPES}
    return {t: summary(rs) for t, rs in groups.items() if rs}


def by_split(results: list[Result]) -> dict[str, dict[str, float]] | None:
    """Full `metrics` for all questions and for each split, or None when the set has fewer
    than two splits among these results (nothing to compare)."""
    groups = {s: [r for r in results if r.q.split == s] for s in SPLITS}
    groups = {s: rs for s, rs in groups.items() if rs}
    if len(groups) < 2:
        return None
    return {"all": metrics(results), **{s: metrics(rs) for s, rs in groups.items()}}
