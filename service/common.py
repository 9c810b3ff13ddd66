"""Request shapes and dependencies shared by the service's routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from rag.config import Settings
from rag.errors import InvalidInput
from rag.pipeline import Pipeline
from rag.schemas import ChatTurn, Filters


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace")
    return value


# Text a request must carry; the 422 names the field ("question: ... must not be empty").
# The schema says the same: at least one character, and one that is not whitespace.
NonBlank = Annotated[
    str, AfterValidator(_non_blank), Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})
]

# rag.documents.check_doc_id's rule (a letter or digit, then up to 199 of letters, digits,
# '.', '_', '-', never '..') as a JSON Schema pattern; written without a lookahead so every
# schema-driven client can use it. check_doc_id enforces it, with a message that names it.
DOC_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.?$"
DOC_ID_SCHEMA: dict[str, Any] = {"pattern": DOC_ID_PATTERN, "minLength": 1, "maxLength": 200}
DocIdPath = Annotated[
    str, Path(description="A document's file name, e.g. a.txt", json_schema_extra=DOC_ID_SCHEMA)
]


class AskRequest(BaseModel):
    """Body of POST /ask and POST /ask/stream."""

    model_config = ConfigDict(extra="forbid")

    question: NonBlank = Field(description="The question, in plain language.")
    top_k: StrictInt | None = Field(
        None, ge=1, description="Passages to return (1 to service.max_top_k)."
    )
    history: list[ChatTurn] = Field(
        default_factory=list,
        description="Earlier turns, oldest first; a follow-up is rewritten with them. The "
        "server keeps no state: the client sends the conversation each time.",
    )
    filters: Filters | None = Field(
        None, description="Only use documents matching these (doc_ids, publishers, kinds, dates)."
    )


class SearchRequest(BaseModel):
    """Body of POST /search."""

    model_config = ConfigDict(extra="forbid")

    query: NonBlank
    top_k: StrictInt | None = Field(
        None, ge=1, description="Results to return (1 to service.max_top_k)."
    )
    filters: Filters | None = None


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


def check_top_k(top_k: int | None, settings: Settings) -> int | None:
    """``top_k`` if within service.max_top_k; else InvalidInput (a 422, or OpenAI's 400)."""
    limit = settings.service.max_top_k
    if top_k is not None and top_k > limit:
        raise InvalidInput(f"top_k is {top_k}; the limit is {limit} (service.max_top_k)")
    return top_k


def _ask_body(body: AskRequest, settings: SettingsDep) -> AskRequest:
    check_top_k(body.top_k, settings)
    return body


def _search_body(body: SearchRequest, settings: SettingsDep) -> SearchRequest:
    check_top_k(body.top_k, settings)
    return body


# The request bodies with the settings' bounds checked (the question's length, blankness and
# the history's limits are the pipeline's to check: it raises InvalidInput, a 422).
AskBody = Annotated[AskRequest, Depends(_ask_body)]
SearchBody = Annotated[SearchRequest, Depends(_search_body)]
