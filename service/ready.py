"""GET /ready: the index is loaded and agrees with its manifest (503 otherwise)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag.errors import RagError
from rag.pipeline import Pipeline

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    """Body of GET /ready (200 and 503 alike)."""

    ready: bool
    status: str = Field(
        description="ready | degraded (serving another version than CURRENT names) | unavailable"
    )
    serving_version: str | None = None
    current_version: str | None = None
    serving_current: bool = False
    documents: int = 0
    chunks: int = 0
    detail: str = ""


def _unavailable(exc: Exception) -> Readiness:
    return Readiness(ready=False, status="unavailable", detail=str(exc))


def readiness(pipeline: Pipeline | None) -> Readiness:
    """Check the live index against its manifest and against CURRENT."""
    if pipeline is None:
        return Readiness(ready=False, status="unavailable", detail="still starting")
    for _ in range(3):
        try:
            data = pipeline.loaded.data
        except RagError as exc:
            return _unavailable(exc)
        try:
            current = pipeline.store.current_name()
            problem = pipeline.store.check(data)
            break
        except (OSError, ValueError) as exc:
            # A write may have swapped in a new version (and pruned this one) meanwhile: look
            # again; if the same version is still live, its manifest really is unreadable.
            if pipeline.loaded.data.version == data.version:
                return _unavailable(exc)
    else:
        return _unavailable(RuntimeError("the index kept changing while it was checked"))
    base = {
        "serving_version": data.version,
        "current_version": current,
        "serving_current": data.version == current,
        "documents": len(data.documents),
        "chunks": len(data.chunks),
    }
    if problem is not None:
        return Readiness(ready=False, status="unavailable", detail=problem, **base)
    if data.version != current:
        return Readiness(
            ready=True,
            status="degraded",
            # Either CURRENT's version is damaged (the load fell back; the log says why) or a
            # newer one is being switched to (for at most paths.reload_interval_s).
            detail=f"CURRENT names {current}, which is damaged or not yet loaded; serving "
            f"{data.version}",
            **base,
        )
    return Readiness(ready=True, status="ready", **base)


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Index not loaded or inconsistent."}},
)
async def ready(request: Request) -> JSONResponse:
    """Ready to answer: the index is loaded and consistent with its manifest."""
    pipeline = getattr(request.app.state, "pipeline", None)
    result = await run_in_threadpool(readiness, pipeline)
    return JSONResponse(result.model_dump(), status_code=200 if result.ready else 503)
