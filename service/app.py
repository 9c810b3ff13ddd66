"""The HTTP service: a thin FastAPI layer over ``rag.pipeline.Pipeline``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.config import Settings
from rag.errors import IndexMismatch, InvalidInput, NotFound, RagError
from rag.pipeline import Pipeline
from rag.schemas import AskResponse, DocumentInfo, SearchResponse

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    """Body of POST /ask."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in plain language.")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to return (1-50).")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question must not be empty or whitespace")
        return value


class SearchRequest(BaseModel):
    """Body of POST /search."""

    model_config = ConfigDict(extra="forbid")

    query: str
    top_k: int | None = Field(None, ge=1, le=50)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must not be empty or whitespace")
        return value


class Health(BaseModel):
    """Body of GET /health."""

    status: str
    documents: int
    chunks: int
    index_version: str


def get_pipeline(request: Request) -> Pipeline:
    """The app's pipeline (created in lifespan)."""
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message})


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the app; models and the index load in lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pipe = pipeline or Pipeline(settings)
        await run_in_threadpool(pipe.load)
        app.state.pipeline = pipe
        yield

    app = FastAPI(
        title="Peace-process RAG",
        version="0.1.0",
        description="Answers with verbatim, character-offset citations, or says the documents "
        "don't say.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.exception_handler(RagError)
    async def _rag_error(_: Request, exc: RagError) -> JSONResponse:
        if isinstance(exc, InvalidInput):
            return _error(422, str(exc))
        if isinstance(exc, NotFound):
            return _error(404, str(exc))
        if isinstance(exc, IndexMismatch):
            return _error(503, str(exc))
        log.exception("unexpected library error")
        return _error(500, "internal error")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            if err.get("type") == "json_invalid":
                reason = (err.get("ctx") or {}).get("error", "")
                problems.append(f"body is not valid JSON (at position {loc[-1]}: {reason})")
            else:
                where = ".".join(p for p in loc if p != "body") or "body"
                problems.append(f"{where}: {err.get('msg')}")
            errors.append({"loc": loc, "msg": str(err.get("msg")), "type": str(err.get("type"))})
        return JSONResponse(
            status_code=422, content={"detail": "; ".join(problems), "errors": errors}
        )

    @app.get("/health")
    async def health(pipeline: PipelineDep) -> Health:
        """Process up and index loaded."""
        data = pipeline.loaded.data
        return Health(
            status="ok",
            documents=len(data.documents),
            chunks=len(data.chunks),
            index_version=data.version,
        )

    @app.post("/ask")
    async def ask(body: AskRequest, pipeline: PipelineDep) -> AskResponse:
        """Answer a question with citations, or abstain."""
        _check_length(body.question, settings, "question")
        return await run_in_threadpool(pipeline.ask, body.question, body.top_k)

    @app.post("/search")
    async def search(body: SearchRequest, pipeline: PipelineDep) -> SearchResponse:
        """Hybrid search over passages."""
        _check_length(body.query, settings, "query")
        return await run_in_threadpool(pipeline.search, body.query, body.top_k)

    @app.get("/documents")
    async def documents(pipeline: PipelineDep) -> list[DocumentInfo]:
        """The documents in the collection."""
        return pipeline.documents()

    return app


def _check_length(text: str, settings: Settings, what: str) -> None:
    limit = settings.service.max_question_chars
    if len(text) > limit:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {limit}")
