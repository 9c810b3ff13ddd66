"""What a run shows: the console table, the Markdown report and the JSON report."""

from __future__ import annotations

import json
import os
import platform
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eval.metrics import by_split, by_tag, by_type, summary
from eval.question_set import SPLITS
from eval.scoring import Result
from rag.config import Settings
from rag.schemas import SentenceSupport


def machine() -> str:
    """A one-line description of where the numbers were measured."""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def problems_of(support: SentenceSupport) -> set[str]:
    """The kinds of problem a removed sentence had: verification's codes (rag.verify.Problem)."""
    return set(support.problems) or {"unknown"}


def drop_reasons(results: list[Result]) -> Counter[str]:
    """Why verification removed generated sentences: each problem counted once per sentence."""
    tally: Counter[str] = Counter()
    for r in results:
        for s in r.response.dropped:
            tally.update(problems_of(s))
    return tally


def drop_examples(dropped: Sequence[tuple[str, SentenceSupport]], most: int = 12) -> list[str]:
    """Markdown lines: for each kind of problem, the first (question id, sentence, reason)
    removed for it, so the examples show every way a sentence fails, not one failure repeated."""
    lines: list[str] = []
    shown: set[str] = set()
    for qid, support in dropped:
        text, reason = support.text, support.reason
        new = problems_of(support) - shown
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
    lines += drop_examples([(r.q.id, s) for r, s in dropped])
    return lines


def _metric_table(columns: dict[str, dict[str, float]], skip: Sequence[str] = ()) -> list[str]:
    """Markdown: one row per metric, one column per named set of metrics."""
    names = list(columns)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    keys = [k for k in dict.fromkeys(k for m in columns.values() for k in m) if k not in skip]
    for key in keys:
        lines.append(
            f"| {key} | " + " | ".join(f"{columns[n].get(key, 0):.4g}" for n in names) + " |"
        )
    return lines


def _cell(key: str, value: float | None) -> str:
    """A group-table cell: "—" where nothing was measured, counts as counts, shares to 3 places."""
    if value is None:
        return "—"
    return f"{value:.4g}" if key in ("questions", "answer_words_p50") else f"{value:.3f}"


def _group_table(label: str, groups: dict[str, dict[str, float | None]]) -> list[str]:
    """Markdown: one row per group (split, type or tag), one column per `summary` number."""
    keys = list(next(iter(groups.values())))
    lines = [f"| {label} | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, values in groups.items():
        lines.append(f"| {name} | " + " | ".join(_cell(k, values[k]) for k in keys) + " |")
    return lines


def markdown_report(
    title: str,
    variants: dict[str, dict[str, float]],
    settings: Settings,
    results: list[Result],
    curve: list[dict[str, float]] | None = None,
    others: dict[str, list[Result]] | None = None,
) -> str:
    """A Markdown report: headline table, per split and type, settings, machine, failures."""
    names = list(variants)
    lines = [f"# {title}", "", f"Measured on: {machine()}", ""]
    # Every variant's metrics: a generative variant adds a "generate" latency stage.
    lines += _metric_table(variants, skip=("questions",))
    splits = by_split(results)
    if splits:
        lines += ["", "## By split (first variant; tune on `tune`, judge on `test`)", ""]
        lines += _metric_table(splits)
    if results:
        lines += ["", "## By question type (first variant)", ""]
        lines += _group_table("type", {"all": summary(results), **by_type(results)})
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
        lines += _group_table("tag", tags)
    failures = [r for r in results if not r.correct]
    lines += ["", f"## Failures of the first variant ({len(failures)})", ""]
    for r in failures:
        where = f"{r.q.type}, {r.q.split}" if r.q.split else r.q.type
        lines.append(f"- `{r.q.id}` ({where}) {r.q.question} — {r.why}")
    return "\n".join(lines) + "\n"


def json_report(
    questions_file: Path,
    split: str | None,
    variants: dict[str, Settings],
    scores: dict[str, dict[str, float]],
    all_results: dict[str, list[Result]],
    curve: list[dict[str, float]],
) -> dict[str, Any]:
    """The JSON report: the first variant's metrics (overall, per split, type and tag) and
    per-question records, then every other variant's."""
    first = next(iter(variants))
    results = all_results[first]
    return {
        "questions_file": str(questions_file),
        "split": split,
        "machine": machine(),
        "metrics": scores[first],
        "variants": scores if len(scores) > 1 else None,
        "settings": json.loads(variants[first].model_dump_json()),
        "calibration": curve or None,
        "by_split": by_split(results),
        "by_type": by_type(results),
        "by_tag": by_tag(results),
        "results": [r.to_json() for r in results],
        # Every other variant's per-question records too (a generative run's dropped
        # sentences, question by question).
        "variant_results": {
            name: [r.to_json() for r in rs] for name, rs in all_results.items() if name != first
        }
        or None,
    }


def print_table(variants: dict[str, dict[str, float]]) -> None:
    """Every variant's metrics on stdout."""
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


def print_groups(results: list[Result]) -> None:
    """The first variant per split and per question type, on stdout."""
    groups = {"all": summary(results)}
    for split in SPLITS:
        members = [r for r in results if r.q.split == split]
        if members and len(members) < len(results):
            groups[split] = summary(members)
    groups.update(by_type(results))
    keys = list(groups["all"])
    table = Table(title="by split and question type")
    table.add_column("group")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    for name, values in groups.items():
        table.add_row(name, *(_cell(k, values[k]) for k in keys))
    Console(width=140).print(table)
