"""Request shapes and dependencies shared by the service's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rag.config import Settings
from rag.errors import InvalidInput
from rag.pipeline import Pipeline
from rag.schemas import ChatTurn, Filters


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace")
    return value


# Text a request must carry; the 422 names the field ("question: ... must not be empty").
NonBlank = Annotated[str, AfterValidator(_non_blank)]


class AskRequest(BaseModel):
    """Body of POST /ask and POST /ask/stream."""

    model_config = ConfigDict(extra="forbid")

    question: NonBlank = Field(description="The question, in plain language.")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to return (1-50).")
    history: list[ChatTurn] = Field(
        default_factory=list,
        description="Earlier turns, oldest first; a follow-up is rewritten with them. The "
        "server keeps no state: the client sends the conversation each time.",
    )
    filters: Filters | None = Field(
        None, description="Only use documents matching these (doc_ids, publishers, kinds, dates)."
    )


def get_pipeline(request: Request) -> Pipeline:
    """The app's pipeline (created in lifespan)."""
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def check_length(text: str, limit: int, what: str) -> None:
    """Raise InvalidInput (a 422) when ``text`` is longer than ``limit``."""
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {limit}")
