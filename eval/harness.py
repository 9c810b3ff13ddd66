"""Run a pipeline over a question set: the variants of a sweep, the reports, the quality gate.

`run_cli` is what `rag eval` calls; `evaluate` runs one variant.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from eval.calibrate import THRESHOLDS, calibration, print_curve
from eval.metrics import metrics
from eval.perspectives import Scored as PerspectiveScored
from eval.perspectives import (
    perspective_markdown,
    perspective_metrics,
    perspective_report,
    score_compare,
    score_timeline,
)
from eval.question_set import Question, load_questions, select_split
from eval.report import json_report, markdown_report, print_groups, print_table
from eval.scoring import Result, score_one
from rag.config import Settings
from rag.embedding import Embedder, make_embedder
from rag.errors import IndexMismatch, NotFound
from rag.pipeline import Pipeline


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
    settings: Settings,
    questions: list[Question],
    embedder: Embedder | None = None,
    views: list[PerspectiveScored] | None = None,
) -> tuple[dict[str, float], list[Result]]:
    """Run every question (with its conversation history) through a pipeline built from
    ``settings``. Compare and timeline questions get their own metrics, merged into the same
    dict; their per-question records are appended to ``views`` when given."""
    pipeline = Pipeline(settings, embedder=embedder)
    ensure_index(pipeline)
    pipeline.load()
    texts = document_texts(pipeline, settings.paths.seeds_dir)
    results = []
    about_sources = []
    for q in questions:
        t0 = time.perf_counter()
        response = pipeline.ask(q.question, top_k=10, history=q.history)
        latency = (time.perf_counter() - t0) * 1000
        if q.type == "compare":
            about_sources.append(score_compare(q, response, texts))
        elif q.type == "timeline":
            about_sources.append(score_timeline(q, response, texts))
        else:
            results.append(score_one(q, response, latency, texts))
    if views is not None:
        views.extend(about_sources)
    return {**metrics(results), **perspective_metrics(about_sources)}, results


def sweep_variants(base: Settings, sweep: str | None) -> dict[str, Settings]:
    """``{"current": base}``, or one variant per value of ``key=v1,v2,...``."""
    if not sweep:
        return {"current": base}
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
    return variants


def apply_gate(gate: Path, scores: dict[str, float], split: str | None) -> int:
    """Compare ``scores`` with the floors in ``gate``; print the verdict, return the exit code."""
    floors: dict[str, float] = json.loads(gate.read_text(encoding="utf-8"))
    failed = [
        f"{k}={scores.get(k, 0):.4f} < floor {v}"
        for k, v in floors.items()
        if scores.get(k, 0.0) < v
    ]
    on = f" on split {split!r}" if split else ""
    if failed:
        print(f"quality gate FAILED{on}: " + "; ".join(failed))
        return 1
    print(f"quality gate passed ({len(floors)} floors{on})")
    return 0


def run_cli(
    questions: Path,
    base: Settings,
    json_out: Path | None,
    markdown: Path | None,
    sweep: str | None,
    gate: Path | None,
    calibrate: bool = False,
    split: str | None = None,
) -> int:
    """`rag eval`: run, print, write reports, apply the quality gate; returns the exit code.

    With ``split`` ("tune" or "test") only that half of the set is run, reported and gated.
    """
    qs = select_split(load_questions(questions), split)
    if not qs:
        raise ValueError(f"{questions} has no questions with split {split!r}")
    variants = sweep_variants(base, sweep)
    scores: dict[str, dict[str, float]] = {}
    all_results: dict[str, list[Result]] = {}
    embedders: dict[tuple[str, str], Embedder] = {}
    views: list[PerspectiveScored] = []  # the first variant's compare/timeline questions
    for name, settings in variants.items():
        emb = settings.embedding
        key = (emb.model, emb.backend)
        if key not in embedders:  # load each model once per sweep
            embedders[key] = make_embedder(
                emb.model, emb.batch_size, emb.backend, settings.paths.onnx_dir
            )
        first_run = not all_results
        scores[name], all_results[name] = evaluate(
            settings, qs, embedders[key], views if first_run else None
        )
    print_table(scores)
    first = next(iter(variants))
    print_groups(all_results[first])
    curve: list[dict[str, float]] = []
    if calibrate:
        never = variants[first].with_overrides({"answer.abstain_threshold": "-100"})
        emb = variants[first].embedding
        _, open_results = evaluate(never, qs, embedders[(emb.model, emb.backend)])
        curve = calibration(open_results, THRESHOLDS)
        print_curve(curve)
    if json_out:
        payload = json_report(questions, split, variants, scores, all_results, curve)
        if views:
            payload["perspective"] = perspective_report(views)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    if markdown:
        title = f"Evaluation: {questions}" + (f" (split {split})" if split else "")
        others = {name: r for name, r in all_results.items() if name != first}
        report = markdown_report(title, scores, variants[first], all_results[first], curve, others)
        if views:
            report += perspective_markdown(views)
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(report, encoding="utf-8")
    return apply_gate(gate, scores[first], split) if gate else 0
