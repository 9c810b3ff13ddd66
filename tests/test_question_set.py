"""Structural checks for the evaluation question set eval/questions/seeds.jsonl.

Standard library only. Seed documents are read from <repo>/seeds/ (no fallback).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions" / "seeds.jsonl"
SEEDS = REPO / "seeds"

KEYS = {"id", "question", "type", "answer", "accept", "doc", "evidence", "tags", "split"}
TYPES = {"single", "multi", "unanswerable"}


def _load() -> list[dict]:
    rows = []
    with QUESTIONS.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
                pytest.fail(f"line {n} does not parse as JSON: {exc}")
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    assert QUESTIONS.is_file(), f"missing {QUESTIONS}"
    return _load()


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    assert SEEDS.is_dir(), f"seed directory {SEEDS} is missing"
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    assert texts, f"no seed files in {SEEDS}"
    return texts


def _docs(row: dict) -> list[str]:
    doc = row["doc"]
    return [doc] if isinstance(doc, str) else list(doc)


def _evidence(row: dict) -> list[str]:
    ev = row["evidence"]
    return [ev] if isinstance(ev, str) else list(ev)


def test_every_line_parses_and_has_exact_keys(rows: list[dict]) -> None:
    for row in rows:
        assert isinstance(row, dict)
        assert set(row) == KEYS, f"{row.get('id')}: keys {sorted(row)}"


def test_ids_unique_and_well_formed(rows: list[dict]) -> None:
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for qid in ids:
        assert isinstance(qid, str) and qid.startswith("q") and qid[1:].isdigit(), qid


def test_types_valid(rows: list[dict]) -> None:
    for row in rows:
        assert row["type"] in TYPES, f"{row['id']}: bad type {row['type']!r}"


def test_split_alternates_within_each_type(rows: list[dict]) -> None:
    # Fixed before any tuning: within each type, in file order, tune, test, tune, ...
    seen: dict[str, int] = {}
    for row in rows:
        n = seen.get(row["type"], 0)
        seen[row["type"]] = n + 1
        assert row["split"] == ("tune" if n % 2 == 0 else "test"), row["id"]


def test_basic_field_types(rows: list[dict]) -> None:
    for row in rows:
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert isinstance(row["accept"], list), row["id"]
        assert all(isinstance(a, str) and a.strip() for a in row["accept"]), row["id"]
        assert isinstance(row["tags"], list) and row["tags"], row["id"]
        assert all(isinstance(t, str) and t for t in row["tags"]), row["id"]


def test_size_and_type_mix(rows: list[dict]) -> None:
    counts = {t: sum(r["type"] == t for r in rows) for t in TYPES}
    assert len(rows) >= 100, f"only {len(rows)} questions"
    assert counts["single"] >= 55, counts
    assert counts["multi"] >= 18, counts
    assert counts["unanswerable"] >= 18, counts


def test_answerable_have_accept_answer_and_existing_docs(
    rows: list[dict], seed_texts: dict[str, str]
) -> None:
    for row in rows:
        if row["type"] == "unanswerable":
            continue
        qid = row["id"]
        assert row["accept"], f"{qid}: empty accept list"
        assert isinstance(row["answer"], str) and row["answer"].strip(), qid
        if row["type"] == "single":
            assert isinstance(row["doc"], str), f"{qid}: single needs one doc name"
        else:
            assert isinstance(row["doc"], list) and len(set(row["doc"])) >= 2, (
                f"{qid}: multi needs a list of at least two docs"
            )
        for name in _docs(row):
            assert name in seed_texts, f"{qid}: doc {name} not found in {SEEDS}"


def test_evidence_is_verbatim(rows: list[dict], seed_texts: dict[str, str]) -> None:
    for row in rows:
        if row["type"] == "unanswerable":
            continue
        qid = row["id"]
        docs = _docs(row)
        evidence = _evidence(row)
        assert evidence, f"{qid}: no evidence"
        covered: set[str] = set()
        for ev in evidence:
            assert isinstance(ev, str) and ev, qid
            hits = [d for d in docs if d in seed_texts and ev in seed_texts[d]]
            assert hits, f"{qid}: evidence not verbatim in {docs}: {ev[:80]!r}"
            covered.update(hits)
        if row["type"] == "multi":
            assert covered == set(docs), f"{qid}: no evidence from {set(docs) - covered}"


def test_unanswerable_shape(rows: list[dict]) -> None:
    for row in rows:
        if row["type"] != "unanswerable":
            continue
        qid = row["id"]
        assert row["doc"] is None, qid
        assert row["evidence"] is None, qid
        assert row["answer"] is None, qid
        assert row["accept"] == [], qid
