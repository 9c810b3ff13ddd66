"""Abstention calibration: what each support threshold would give, read off one run that never
abstained."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from eval.scoring import Result

# answer.abstain_threshold values tried: 0.00, 0.02, ..., 0.80 (support is a similarity).
THRESHOLDS = [x / 100 for x in range(0, 81, 2)]


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


def best_threshold(curve: list[dict[str, float]]) -> float:
    """The threshold with the best decision accuracy (ties: the best abstention F1)."""
    best = max(curve, key=lambda row: (row["decision_accuracy"], row["abstention_f1"]))
    return best["threshold"]


def print_curve(curve: list[dict[str, float]]) -> None:
    """The curve as a table on stdout, then the best threshold."""
    table = Table(title="abstention calibration (run without abstaining)")
    for key in curve[0]:
        table.add_column(key, justify="right")
    for row in curve:
        table.add_row(*(f"{v:.3g}" for v in row.values()))
    Console(width=140).print(table)
    print(f"best decision_accuracy at answer.abstain_threshold={best_threshold(curve)}")
