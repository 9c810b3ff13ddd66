"""A question set: one JSON object per line, the gold data a run is scored against.

Named ``question_set`` because ``eval/questions/`` is the folder that holds the sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from rag.schemas import ChatTurn

QUESTION_TYPES = ("single", "multi", "unanswerable")
# Questions about the sources as a whole, scored by their own metrics (eval/perspectives.py).
PERSPECTIVE_TYPES = ("compare", "timeline")


class GoldEvent(BaseModel):
    """A timeline question's expected event: its date as the sentence states it."""

    model_config = ConfigDict(extra="forbid")

    date: str
    precision: Literal["day", "month", "year"]
    doc: str
    evidence: str
    estimated: bool = False


SPLITS = ("tune", "test")


class Question(BaseModel):
    """One line of a question set (extra keys such as ``tags`` are kept but not required)."""

    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    type: str
    answer: str | None = None
    accept: list[str] = []
    doc: str | list[str] | None = None
    # compare questions: each expected document's sentences on the subject
    evidence: str | list[str] | dict[str, list[str]] | None = None
    # Fixed before any tuning: tune on "tune", report both, gate on "test".
    split: Literal["tune", "test"] | None = None
    # Earlier turns of a conversation, passed to the pipeline as the client would.
    history: list[ChatTurn] = []
    conversation: str | None = None
    # "is it true ..." / "did ..." questions: the short answer must begin with this.
    yes_no: Literal["yes", "no"] | None = None
    docs: list[str] | None = None
    # timeline questions: the expected events, oldest first
    events: list[GoldEvent] = []

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in QUESTION_TYPES + PERSPECTIVE_TYPES:
            raise ValueError(
                f"type must be one of {QUESTION_TYPES + PERSPECTIVE_TYPES}, got {value!r}"
            )
        return value

    @property
    def answerable(self) -> bool:
        """Whether the documents contain the answer."""
        return self.type != "unanswerable"

    def doc_ids(self) -> list[str]:
        """The named documents (``doc`` and ``docs``) as one list."""
        if self.doc is None:
            named = []
        else:
            named = [self.doc] if isinstance(self.doc, str) else list(self.doc)
        return list(dict.fromkeys(named + (self.docs or [])))

    def evidence_list(self) -> list[str]:
        """The evidence strings as a list."""
        if self.evidence is None:
            return []
        if isinstance(self.evidence, dict):
            return [e for quotes in self.evidence.values() for e in quotes]
        return [self.evidence] if isinstance(self.evidence, str) else list(self.evidence)

    @property
    def about_sources(self) -> bool:
        """A compare or timeline question (scored apart from the answer metrics)."""
        return self.type in PERSPECTIVE_TYPES

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


def select_split(questions: Sequence[Question], split: str | None) -> list[Question]:
    """The questions of one split ("tune" or "test"); all of them when ``split`` is None."""
    if split is None:
        return list(questions)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [q for q in questions if q.split == split]
