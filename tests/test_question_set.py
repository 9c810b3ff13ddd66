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


PERSPECTIVE_TYPES = {"compare", "timeline"}
CHAT = REPO / "eval" / "questions" / "chat.jsonl"


def _load(path: Path = QUESTIONS, perspective: bool = False) -> list[dict]:
    """The answer questions (single/multi/unanswerable) of a set, or its compare/timeline ones."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - reported as failure
                pytest.fail(f"line {n} does not parse as JSON: {exc}")
            if (row.get("type") in PERSPECTIVE_TYPES) == perspective:
                rows.append(row)
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


# -- compare and timeline questions (both sets) -------------------------------------------------


@pytest.fixture(scope="module", params=[QUESTIONS, CHAT], ids=["quiz", "chat"])
def perspective_rows(request: pytest.FixtureRequest) -> list[dict]:
    return _load(request.param, perspective=True)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_perspective_questions_are_there_in_both_styles(perspective_rows: list[dict]) -> None:
    kinds = [r["type"] for r in perspective_rows]
    assert kinds.count("compare") >= 10 and kinds.count("timeline") >= 8, kinds
    ids = [r["id"] for r in perspective_rows]
    assert len(ids) == len(set(ids))
    seen: dict[str, int] = {}
    for row in perspective_rows:  # split fixed before tuning: alternating within each type
        n = seen.get(row["type"], 0)
        seen[row["type"]] = n + 1
        assert row["split"] == ("tune" if n % 2 == 0 else "test"), row["id"]


def test_compare_questions_name_their_sources_and_quote_them(
    perspective_rows: list[dict], seed_texts: dict[str, str]
) -> None:
    texts = {name: _squash(text) for name, text in seed_texts.items()}
    for row in perspective_rows:
        if row["type"] != "compare":
            continue
        qid = row["id"]
        assert set(row) == {"id", "question", "type", "subject", "docs", "evidence", "split"}, qid
        assert len(row["docs"]) >= 2 and set(row["docs"]) == set(row["evidence"]), qid
        for doc, quotes in row["evidence"].items():
            assert quotes, f"{qid}: no evidence from {doc}"
            for quote in quotes:
                assert _squash(quote) in texts[doc], f"{qid}: not verbatim in {doc}: {quote[:60]}"


def test_timeline_questions_list_dated_events_in_order(
    perspective_rows: list[dict], seed_texts: dict[str, str]
) -> None:
    texts = {name: _squash(text) for name, text in seed_texts.items()}
    for row in perspective_rows:
        if row["type"] != "timeline":
            continue
        qid = row["id"]
        events = row["events"]
        assert len(events) >= 3, qid
        for event in events:
            shape = {"day": 10, "month": 7, "year": 4}[event["precision"]]
            assert len(event["date"]) == shape, f"{qid}: {event['date']} is no {event['precision']}"
            assert _squash(event["evidence"]) in texts[event["doc"]], f"{qid}: {event['evidence']}"
        starts = [e["date"] for e in events]
        # ascending; a coarser date may follow the finer ones it contains (2024-05 then 2024)
        for a, b in zip(starts, starts[1:], strict=False):
            assert a[: len(b)] <= b or b == a[: len(b)], f"{qid}: {a} then {b}"
