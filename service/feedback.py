"""POST /feedback (anyone) and GET /feedback (the operator)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from rag.errors import InvalidInput
from service.auth import OperatorDep
from service.common import NonBlank, SettingsDep
from service.feedback_store import FeedbackStore

router = APIRouter()

__all__ = ["FeedbackStore", "router"]


class FeedbackIn(BaseModel):
    """Body of POST /feedback."""

    model_config = ConfigDict(extra="forbid")

    question: NonBlank = Field(description="The question as the user typed it.")
    answer: NonBlank = Field(description="The answer text that was rated.")
    rating: Literal["up", "down"]
    comment: str | None = None


class FeedbackCreated(BaseModel):
    """Body of the 201 answer to POST /feedback."""

    id: int


class FeedbackRow(BaseModel):
    """A stored feedback row."""

    id: int
    created_at: str
    question: str
    answer: str
    rating: str
    comment: str | None


def _store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.feedback
    return store


StoreDep = Annotated[FeedbackStore, Depends(_store)]


def _check_length(text: str, limit: int, what: str) -> None:
    # Nothing downstream bounds what is stored, so the service does (a 422).
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {limit}")


@router.post("/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(
    body: FeedbackIn, settings: SettingsDep, store: StoreDep
) -> FeedbackCreated:
    """Store a thumbs up/down on an answer; the row is committed before the 201."""
    limits = settings.service
    _check_length(body.question, limits.max_question_chars, "question")
    _check_length(body.answer, limits.max_feedback_chars, "answer")
    if body.comment is not None:
        _check_length(body.comment, limits.max_comment_chars, "comment")
    row_id = await run_in_threadpool(
        store.add, body.question, body.answer, body.rating, body.comment
    )
    return FeedbackCreated(id=row_id)


@router.get("/feedback")
async def list_feedback(
    _: OperatorDep, store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[FeedbackRow]:
    """Recent feedback, newest first (operator only)."""
    rows = await run_in_threadpool(store.recent, limit)
    return [FeedbackRow(**row) for row in rows]
