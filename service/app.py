"""The HTTP service: a thin FastAPI layer over ``rag.pipeline.Pipeline``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.config import Settings
from rag.errors import (
    Conflict,
    Forbidden,
    IndexMismatch,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RagError,
    Unauthorized,
    UnsupportedFormat,
)
from rag.pipeline import Pipeline
from rag.schemas import AskResponse, Filters, SearchResponse
from service import documents, feedback, hardening, openai_api, stream, widget
from service.auth import check_startup
from service.common import AskRequest, NonBlank, PipelineDep, check_length

log = logging.getLogger(__name__)


class SearchRequest(BaseModel):
    """Body of POST /search."""

    model_config = ConfigDict(extra="forbid")

    query: NonBlank
    top_k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None


class Health(BaseModel):
    """Body of GET /health."""

    status: str
    documents: int
    chunks: int
    index_version: str


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message})


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the app; models and the index load in lifespan, not at import."""
    check_startup(settings)

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
    app.state.feedback = feedback.FeedbackStore(settings.service.data_dir / "feedback.sqlite")
    # Limits, security headers, request ids and /ready; CORS (added next) wraps them.
    hardening.install(app, settings)
    # The widget needs no cookies, so credentials stay off and a "*" origin is never paired
    # with them.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.service.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        allow_credentials=False,
        max_age=600,
    )
    app.include_router(stream.router)
    app.include_router(feedback.router)
    app.include_router(widget.router)
    app.include_router(documents.router)
    app.include_router(openai_api.router)

    @app.exception_handler(RagError)
    async def _rag_error(_: Request, exc: RagError) -> JSONResponse:
        if isinstance(exc, UnsupportedFormat):
            return _error(415, str(exc))
        if isinstance(exc, PayloadTooLarge):
            return _error(413, str(exc))
        if isinstance(exc, InvalidInput):
            return _error(422, str(exc))
        if isinstance(exc, Conflict):
            return _error(409, str(exc))
        if isinstance(exc, Unauthorized):
            return JSONResponse(
                status_code=401,
                content={"detail": str(exc)},
                headers={"WWW-Authenticate": "Bearer"},
            )
        if isinstance(exc, Forbidden):
            return _error(403, str(exc))
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
        check_length(body.question, settings.service.max_question_chars, "question")
        return await run_in_threadpool(
            pipeline.ask, body.question, body.top_k, body.history, body.filters
        )

    @app.post("/search")
    async def search(body: SearchRequest, pipeline: PipelineDep) -> SearchResponse:
        """Hybrid search over passages."""
        check_length(body.query, settings.service.max_question_chars, "query")
        return await run_in_threadpool(pipeline.search, body.query, body.top_k, body.filters)

    return app
