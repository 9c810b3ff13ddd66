"""The HTTP service: a thin FastAPI layer over ``rag.pipeline.Pipeline``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from rag.config import Settings
from rag.pipeline import Pipeline
from rag.schemas import AskResponse, SearchResponse, TimelineResponse
from service import (
    docs,
    documents,
    errors,
    feedback,
    middleware,
    openai_api,
    openapi,
    ready,
    stream,
    widget,
)
from service.auth import check_startup
from service.common import AskBody, PipelineDep, SearchBody


class Health(BaseModel):
    """Body of GET /health."""

    status: str
    documents: int
    chunks: int
    index_version: str


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    """Build the app; models and the index load in lifespan, not at import."""
    check_startup(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pipe = pipeline or Pipeline(settings)
        warming: threading.Thread | None = None
        if settings.service.warm_in_background:
            # Answer as soon as the index and the embedder are loaded; spaCy and the word
            # tables follow in a thread (a question that needs them first waits for them).
            await run_in_threadpool(pipe.load_core)
            warming = threading.Thread(target=pipe.warm, name="warm-up", daemon=True)
            warming.start()
        else:
            await run_in_threadpool(pipe.load)
        app.state.pipeline = pipe
        yield
        if warming is not None:
            # no warm-up outlives the app (it writes into the index directory)
            await run_in_threadpool(warming.join)

    app = FastAPI(
        title="Peace-process RAG",
        version="0.1.0",
        description="Answers with verbatim, character-offset citations, or says the documents "
        "don't say.",
        lifespan=lifespan,
        # Served from this process (service/docs.py): no CDN, so /docs works air-gapped.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.feedback = feedback.FeedbackStore(settings.service.data_dir / "feedback.sqlite")
    middleware.install(app, settings)
    errors.install(app)
    for router in (
        ready.router,
        stream.router,
        feedback.router,
        widget.router,
        documents.router,
        openai_api.router,
        docs.router,
    ):
        app.include_router(router)
    openapi.install(app, settings)

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
    async def ask(body: AskBody, pipeline: PipelineDep) -> AskResponse:
        """Answer a question with citations, or abstain."""
        return await run_in_threadpool(
            pipeline.ask, body.question, body.top_k, body.history, body.filters
        )

    @app.post("/search")
    async def search(body: SearchBody, pipeline: PipelineDep) -> SearchResponse:
        """Hybrid search over passages."""
        return await run_in_threadpool(pipeline.search, body.query, body.top_k, body.filters)

    @app.get("/timeline")
    async def timeline(
        pipeline: PipelineDep,
        q: Annotated[str, Query(min_length=1, max_length=2000, description="The topic.")],
        limit: Annotated[
            int | None, Query(ge=1, le=100, description="Events, at most (default 12).")
        ] = None,
    ) -> TimelineResponse:
        """Dated events on a topic, oldest first, each quoted verbatim from its source."""
        return await run_in_threadpool(pipeline.timeline, q, limit)

    return app
