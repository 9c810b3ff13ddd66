"""POST /feedback (anyone) and GET /feedback (the operator)."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from rag.errors import Forbidden, Unauthorized
from service.auth import is_loopback
from service.common import NonBlank, SettingsDep, check_length
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


def require_operator(request: Request, settings: SettingsDep) -> None:
    """Bearer token when RAG_API_TOKEN is set; otherwise loopback clients only."""
    token = settings.api_token
    if token is None:
        if is_loopback(request.client.host if request.client else None):
            return
        raise Forbidden(
            "reading feedback is only allowed from this machine; set RAG_API_TOKEN on the "
            "server and send 'Authorization: Bearer <token>' to read it remotely"
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("send 'Authorization: Bearer <RAG_API_TOKEN>' to read feedback")
    # Constant-time comparison; the token is never logged.
    if not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise Forbidden("wrong token")


@router.post("/feedback", status_code=status.HTTP_201_CREATED)
async def post_feedback(
    body: FeedbackIn, settings: SettingsDep, store: StoreDep
) -> FeedbackCreated:
    """Store a thumbs up/down on an answer; the row is committed before the 201."""
    limits = settings.service
    check_length(body.question, limits.max_question_chars, "question")
    check_length(body.answer, limits.max_feedback_chars, "answer")
    if body.comment is not None:
        check_length(body.comment, limits.max_comment_chars, "comment")
    row_id = await run_in_threadpool(
        store.add, body.question, body.answer, body.rating, body.comment
    )
    return FeedbackCreated(id=row_id)


@router.get("/feedback", dependencies=[Depends(require_operator)])
async def list_feedback(
    store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[FeedbackRow]:
    """Recent feedback, newest first (operator only)."""
    rows = await run_in_threadpool(store.recent, limit)
    return [FeedbackRow(**row) for row in rows]
