"""Score a pipeline on a question set: retrieval, answers, abstention, citations, latency."""

from __future__ import annotations

import json
import math
import platform
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from rich.console import Console
from rich.table import Table

from rag.config import Settings
from rag.embedding import Embedder, make_embedder
from rag.errors import IndexMismatch, NotFound
from rag.pipeline import Pipeline
from rag.schemas import AskResponse, Passage
from rag.text import normalise

QUESTION_TYPES = ("single", "multi", "unanswerable")


class Question(BaseModel):
    """One line of a question set (extra keys such as ``tags`` are kept but not required)."""

    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    type: str
    answer: str | None = None
    accept: list[str] = []
    doc: str | list[str] | None = None
    evidence: str | list[str] | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in QUESTION_TYPES:
            raise ValueError(f"type must be one of {QUESTION_TYPES}, got {value!r}")
        return value

    @property
    def answerable(self) -> bool:
        """Whether the documents contain the answer."""
        return self.type != "unanswerable"

    def docs(self) -> list[str]:
        """The named documents as a list."""
        if self.doc is None:
            return []
        return [self.doc] if isinstance(self.doc, str) else list(self.doc)

    def evidence_list(self) -> list[str]:
        """The evidence strings as a list."""
        if self.evidence is None:
            return []
        return [self.evidence] if isinstance(self.evidence, str) else list(self.evidence)

    def tags(self) -> list[str]:
        """Optional labels."""
        extra = self.model_extra or {}
        value = extra.get("tags") or []
        return [str(t) for t in value]


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set; a bad line is an error naming the line."""
    questions = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(Question.model_validate_json(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{lineno}: {exc}") from exc
    return questions


@dataclass
class Span:
    """Gold evidence located in a document."""

    doc_id: str
    start: int
    end: int
    text: str


def locate_evidence(q: Question, texts: dict[str, str]) -> list[Span]:
    """Find each evidence string in the question's documents (first occurrence)."""
    spans = []
    for ev in q.evidence_list():
        for doc_id in q.docs() or list(texts):
            pos = texts.get(doc_id, "").find(ev)
            if pos >= 0:
                spans.append(Span(doc_id, pos, pos + len(ev), ev))
                break
    return spans


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def covers(passage: Passage, span: Span) -> bool:
    """A passage contains the evidence, or overlaps at least half of its characters."""
    if passage.doc_id != span.doc_id:
        return False
    return _overlap(passage.start, passage.end, span.start, span.end) * 2 >= span.end - span.start


def contains_accept(answer: str, accept: Sequence[str]) -> str | None:
    """The first accept string found in the answer (normalised), if any."""
    norm = normalise(answer)
    for item in accept:
        if item and normalise(item) in norm:
            return item
    return None


@dataclass
class Result:
    """Everything measured for one question."""

    q: Question
    response: AskResponse
    latency_ms: float
    passages: list[Passage]
    spans: list[Span]
    correct: bool = False
    matched: str | None = None
    why: str = ""
    recall: dict[int, float] = field(default_factory=dict)
    rr: float = 0.0
    ndcg: float = 0.0
    valid_citations: int = 0
    relevant_citations: int = 0

    def to_json(self) -> dict[str, Any]:
        """Per-question record for the JSON report."""
        return {
            "id": self.q.id,
            "type": self.q.type,
            "tags": self.q.tags(),
            "question": self.q.question,
            "expected": self.q.answer,
            "answer": self.response.answer,
            "abstained": self.response.abstained,
            "support": self.response.support,
            "correct": self.correct,
            "matched": self.matched,
            "why": self.why,
            "retrieved_doc_ids": [p.doc_id for p in self.passages],
            "retrieved_chunk_ids": [p.chunk_id for p in self.passages],
            "recall_at_5": self.recall.get(5),
            "recall_at_10": self.recall.get(10),
            "citations": [c.model_dump() for c in self.response.citations],
            "latency_ms": round(self.latency_ms, 2),
            "timings_ms": self.response.timings_ms,
            "generator": self.response.generator,
            "generated_sentences": self.response.generated_sentences,
            "dropped_sentences": self.response.dropped_sentences,
            "fallback": self.response.fallback,
            "sentences": [s.model_dump() for s in self.response.sentences],
            "dropped": [s.model_dump() for s in self.response.dropped],
        }


def score_one(
    q: Question, response: AskResponse, latency_ms: float, texts: dict[str, str]
) -> Result:
    """Compare one response with the gold data."""
    passages = response.passages or response.related
    r = Result(q, response, latency_ms, passages, locate_evidence(q, texts))
    for c in response.citations:
        text = texts.get(c.doc_id)
        if text is not None and text[c.start : c.end] == c.quote:
            r.valid_citations += 1
    if q.answerable:
        if r.spans:
            for k in (5, 10):
                top = passages[:k]
                r.recall[k] = sum(any(covers(p, s) for p in top) for s in r.spans) / len(r.spans)
            rel = [any(covers(p, s) for s in r.spans) for p in passages[:10]]
            first = next((i for i, hit in enumerate(rel) if hit), None)
            r.rr = 0.0 if first is None else 1.0 / (first + 1)
            dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(rel) if hit)
            ideal = sum(1 / math.log2(i + 2) for i in range(min(len(r.spans), 10)))
            r.ndcg = dcg / ideal if ideal else 0.0
        if response.abstained:
            r.why = "abstained on an answerable question"
        else:
            r.matched = contains_accept(response.answer, q.accept)
            r.correct = r.matched is not None
            r.why = "" if r.correct else f"no accept string {q.accept!r} in the answer"
        if r.correct:
            for c in response.citations:
                on_gold = any(
                    c.doc_id == s.doc_id and _overlap(c.start, c.end, s.start, s.end) > 0
                    for s in r.spans
                )
                if on_gold or contains_accept(c.quote, q.accept):
                    r.relevant_citations += 1
    else:
        r.correct = response.abstained
        r.why = "" if r.correct else "answered an unanswerable question"
    return r


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[idx]


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def metrics(results: list[Result]) -> dict[str, float]:
    """Aggregate metrics (names are part of the interface)."""
    answerable = [r for r in results if r.q.answerable]
    with_gold = [r for r in answerable if r.spans]
    abstained = [r for r in results if r.response.abstained]
    tp = sum(1 for r in abstained if not r.q.answerable)
    fn = sum(1 for r in results if not r.q.answerable and not r.response.abstained)
    precision = tp / len(abstained) if abstained else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
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
        "answers_with_citation": (
            sum(1 for r in answered if r.response.citations) / len(answered) if answered else 0.0
        ),
    }
    for qtype in ("single", "multi"):
        group = [r for r in answerable if r.q.type == qtype]
        out[f"answer_accuracy_{qtype}"] = (
            sum(r.correct for r in group) / len(group) if group else 0.0
        )
    temporal = [r for r in answerable if "temporal" in r.q.tags()]
    out["answer_accuracy_temporal"] = (
        sum(r.correct for r in temporal) / len(temporal) if temporal else 0.0
    )
    # Generative runs: how many answers the model wrote, and what verification removed.
    generated = sum(r.response.generated_sentences for r in results)
    dropped = sum(r.response.dropped_sentences for r in results)
    out["generated_answers"] = (
        sum(1 for r in answered if r.response.generator != "extractive") / len(answered)
        if answered
        else 0.0
    )
    out["generator_fallbacks"] = float(sum(1 for r in results if r.response.fallback))
    out["generated_sentences"] = float(generated)
    out["dropped_sentences"] = float(dropped)
    out["dropped_sentence_share"] = dropped / generated if generated else 0.0
    latencies = [r.latency_ms for r in results]
    out["latency_ms_p50"] = _pct(latencies, 0.5)
    out["latency_ms_p95"] = _pct(latencies, 0.95)
    stages = sorted({k for r in results for k in r.response.timings_ms if k != "total"})
    for stage in stages:
        values = [r.response.timings_ms[stage] for r in results if stage in r.response.timings_ms]
        out[f"latency_ms_{stage}_p50"] = _pct(values, 0.5)
    return {k: round(v, 4) for k, v in out.items()}


def document_texts(pipeline: Pipeline, seeds_dir: Path) -> dict[str, str]:
    """Texts citations are checked against: the files as stored, else the canonical text."""
    texts = {}
    for doc_id, doc in pipeline.loaded.data.documents.items():
        path = seeds_dir / doc_id
        texts[doc_id] = path.read_text(encoding="utf-8") if path.exists() else doc.text
    return texts


def ensure_index(pipeline: Pipeline) -> None:
    """Build the index from the seeds if it is missing or built with other settings."""
    try:
        _ = pipeline.loaded
    except (NotFound, IndexMismatch):
        pipeline.ingest([pipeline.settings.paths.seeds_dir])


def evaluate(
    settings: Settings, questions: list[Question], embedder: Embedder | None = None
) -> tuple[dict[str, float], list[Result]]:
    """Run every question through a pipeline built from ``settings``."""
    pipeline = Pipeline(settings, embedder=embedder)
    ensure_index(pipeline)
    pipeline.load()
    texts = document_texts(pipeline, settings.paths.seeds_dir)
    results = []
    for q in questions:
        t0 = time.perf_counter()
        response = pipeline.ask(q.question, top_k=10)
        latency = (time.perf_counter() - t0) * 1000
        results.append(score_one(q, response, latency, texts))
    return metrics(results), results


def by_tag(results: list[Result]) -> dict[str, dict[str, float]]:
    """Accuracy (correct answer, or correct abstention) per question tag."""
    groups: dict[str, list[Result]] = {}
    for r in results:
        for tag in r.q.tags():
            groups.setdefault(tag, []).append(r)
    return {
        tag: {"questions": len(rs), "accuracy": round(sum(r.correct for r in rs) / len(rs), 4)}
        for tag, rs in sorted(groups.items())
    }


def calibration(results: list[Result], thresholds: Sequence[float]) -> list[dict[str, float]]:
    """What each abstention threshold would give, from a run that never abstained.

    ``decision_accuracy`` counts a correct answer or a correct abstention as right.
    """
    rows = []
    answerable = [r for r in results if r.q.answerable]
    unanswerable = [r for r in results if not r.q.answerable]
    for t in thresholds:
        abstain = [r for r in results if r.response.support < t]
        tp = sum(1 for r in abstain if not r.q.answerable)
        correct = sum(1 for r in answerable if r.response.support >= t and r.correct)
        precision = tp / len(abstain) if abstain else 0.0
        recall = tp / len(unanswerable) if unanswerable else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "threshold": round(t, 3),
                "answer_accuracy": round(correct / len(answerable), 4) if answerable else 0.0,
                "abstention_precision": round(precision, 4),
                "abstention_recall": round(recall, 4),
                "abstention_f1": round(f1, 4),
                "decision_accuracy": round((correct + tp) / len(results), 4) if results else 0.0,
            }
        )
    return rows


HEADLINE = (
    "retrieval_recall_at_5",
    "retrieval_recall_at_10",
    "mrr_at_10",
    "ndcg_at_10",
    "answer_accuracy",
    "answer_accuracy_single",
    "answer_accuracy_multi",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "citation_validity",
    "citation_relevance",
    "answers_with_citation",
    "latency_ms_p50",
    "latency_ms_p95",
)


def machine() -> str:
    """A one-line description of where the numbers were measured."""
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def problems_of(reason: str | None) -> set[str]:
    """The kinds of problem a drop reason names, values left out ("numbers not in the source:
    350" is "numbers not in the source")."""
    reason = re.sub(r"^not supported by source [\d, ]+: ", "", reason or "unknown")
    return {
        re.sub(r"\d+(\.\d+)?", "N", part.split(":", 1)[0].strip()) for part in reason.split("; ")
    }


def drop_reasons(results: list[Result]) -> Counter[str]:
    """Why verification removed generated sentences: each problem counted once per sentence."""
    tally: Counter[str] = Counter()
    for r in results:
        for s in r.response.dropped:
            tally.update(problems_of(s.reason))
    return tally


def drop_examples(dropped: Sequence[tuple[str, str, str | None]], most: int = 12) -> list[str]:
    """Markdown lines: for each kind of problem, the first (question id, sentence, reason)
    removed for it, so the examples show every way a sentence fails, not one failure repeated."""
    lines: list[str] = []
    shown: set[str] = set()
    for qid, text, reason in dropped:
        new = problems_of(reason) - shown
        if not new:
            continue
        shown |= new
        shown_text = re.sub(r"\s+", " ", text)[:200]
        lines.append(f"- `{qid}` “{shown_text}” — {reason}")
        if len(lines) >= most:
            break
    return lines


def _verification_section(name: str, results: list[Result]) -> list[str]:
    """What a generative variant's verification removed, in numbers and examples."""
    generated = sum(r.response.generated_sentences for r in results)
    dropped = [(r, s) for r in results for s in r.response.dropped]
    fallbacks = sum(1 for r in results if r.response.fallback)
    lines = [
        "",
        f"## What verification removed: {name}",
        "",
        f"{generated} sentences generated, {len(dropped)} removed "
        f"({len(dropped) / generated if generated else 0:.0%}); {fallbacks} of {len(results)} "
        "answers fell back to the extractive answer because no generated sentence was "
        "supported (or the model failed).",
        "",
        "| problem (a sentence may have several) | sentences |",
        "|---|---|",
    ]
    lines += [f"| {reason} | {n} |" for reason, n in drop_reasons(results).most_common()]
    lines += ["", "Examples (the first sentence removed for each kind of problem):", ""]
    lines += drop_examples([(r.q.id, s.text, s.reason) for r, s in dropped])
    return lines


def markdown_report(
    title: str,
    variants: dict[str, dict[str, float]],
    settings: Settings,
    results: list[Result],
    curve: list[dict[str, float]] | None = None,
    others: dict[str, list[Result]] | None = None,
) -> str:
    """A Markdown report: headline table, settings, machine, failures."""
    names = list(variants)
    lines = [f"# {title}", "", f"Measured on: {machine()}", ""]
    lines.append("| metric | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    # Every variant's metrics: a generative variant adds a "generate" latency stage.
    keys = [k for k in dict.fromkeys(k for m in variants.values() for k in m) if k != "questions"]
    for key in keys:
        lines.append(
            f"| {key} | " + " | ".join(f"{variants[n].get(key, 0):.4g}" for n in names) + " |"
        )
    if curve:
        lines += ["", "## Abstention calibration", "", "| " + " | ".join(curve[0]) + " |"]
        lines.append("|" + "---|" * len(curve[0]))
        lines += ["| " + " | ".join(f"{v:.3g}" for v in row.values()) + " |" for row in curve]
    for name, variant_results in {names[0]: results, **(others or {})}.items():
        if any(r.response.generated_sentences for r in variant_results):
            lines += _verification_section(name, variant_results)
    lines += ["", "## Settings", "", "```json", settings.model_dump_json(indent=2), "```", ""]
    tags = by_tag(results)
    if tags:
        lines += ["", "## Accuracy by question tag (first variant)", ""]
        lines += ["| tag | questions | accuracy |", "|---|---|---|"]
        lines += [f"| {t} | {v['questions']:.0f} | {v['accuracy']:.3f} |" for t, v in tags.items()]
    failures = [r for r in results if not r.correct]
    lines += [f"## Failures of the first variant ({len(failures)})", ""]
    for r in failures:
        lines.append(f"- `{r.q.id}` ({r.q.type}) {r.q.question} — {r.why}")
    return "\n".join(lines) + "\n"


def _print_table(variants: dict[str, dict[str, float]]) -> None:
    table = Table(title="rag eval")
    table.add_column("metric")
    for name in variants:
        # Sweep variants share a key: show it once in the title, values as column heads.
        table.add_column(name.split("=", 1)[-1], justify="right")
    if len(variants) > 1:
        table.title = f"rag eval --sweep {next(iter(variants)).split('=', 1)[0]}"
    for key in dict.fromkeys(k for m in variants.values() for k in m):
        table.add_row(key, *(f"{v.get(key, 0):.4g}" for v in variants.values()))
    Console(width=max(100, 30 + 22 * len(variants))).print(table)


def run_cli(
    questions: Path,
    base: Settings,
    json_out: Path | None,
    markdown: Path | None,
    sweep: str | None,
    gate: Path | None,
    calibrate: bool = False,
) -> int:
    """`rag eval`: run, print, write reports, apply the quality gate; returns the exit code."""
    qs = load_questions(questions)
    variants: dict[str, Settings] = {"current": base}
    if sweep:
        key, _, values = sweep.partition("=")
        if not values:
            raise ValueError(f"--sweep takes key=v1,v2,..., got {sweep!r}")
        variants = {}
        cache = base.paths.embedding_cache or base.paths.index_dir / "embeddings.sqlite"
        for value in values.split(","):
            name = f"{key}={value}"
            variant = base.with_overrides({key: value})
            if variant.model_dump(include={"chunking", "embedding"}) != base.model_dump(
                include={"chunking", "embedding"}
            ):
                # Index-shaping settings get their own index; the embedding cache is shared.
                slug = name.replace("=", "-").replace(".", "_")
                variant = variant.with_overrides(
                    {
                        "paths.index_dir": str(base.paths.index_dir / "sweeps" / slug),
                        "paths.embedding_cache": str(cache),
                    }
                )
            variants[name] = variant
    scores: dict[str, dict[str, float]] = {}
    all_results: dict[str, list[Result]] = {}
    embedders: dict[str, Embedder] = {}
    for name, settings in variants.items():
        model = settings.embedding.model
        if model not in embedders:  # load each model once per sweep
            embedders[model] = make_embedder(model, settings.embedding.batch_size)
        m, results = evaluate(settings, qs, embedders[model])
        scores[name], all_results[name] = m, results
    _print_table(scores)
    first = next(iter(variants))
    curve: list[dict[str, float]] = []
    if calibrate:
        never = variants[first].with_overrides({"answer.abstain_threshold": "-100"})
        _, open_results = evaluate(never, qs, embedders[variants[first].embedding.model])
        curve = calibration(open_results, [x / 100 for x in range(0, 81, 2)])
        best = max(curve, key=lambda row: (row["decision_accuracy"], row["abstention_f1"]))
        table = Table(title="abstention calibration (run without abstaining)")
        for key in curve[0]:
            table.add_column(key, justify="right")
        for row in curve:
            table.add_row(*(f"{v:.3g}" for v in row.values()))
        Console(width=140).print(table)
        print(f"best decision_accuracy at answer.abstain_threshold={best['threshold']}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "questions_file": str(questions),
            "machine": machine(),
            "metrics": scores[first],
            "variants": scores if len(scores) > 1 else None,
            "settings": json.loads(variants[first].model_dump_json()),
            "calibration": curve or None,
            "by_tag": by_tag(all_results[first]),
            "results": [r.to_json() for r in all_results[first]],
            # Every other variant's per-question records too (a generative run's dropped
            # sentences, question by question).
            "variant_results": {
                name: [r.to_json() for r in results]
                for name, results in all_results.items()
                if name != first
            }
            or None,
        }
        json_out.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(
            markdown_report(
                f"Evaluation: {questions}",
                scores,
                variants[first],
                all_results[first],
                curve,
                {name: r for name, r in all_results.items() if name != first},
            ),
            encoding="utf-8",
        )
    if gate:
        floors: dict[str, float] = json.loads(gate.read_text(encoding="utf-8"))
        failed = [
            f"{k}={scores[first].get(k, 0):.4f} < floor {v}"
            for k, v in floors.items()
            if scores[first].get(k, 0.0) < v
        ]
        if failed:
            print("quality gate FAILED: " + "; ".join(failed))
            return 1
        print(f"quality gate passed ({len(floors)} floors)")
    return 0
