"""POST /ask/stream: the /ask answer as Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool

from rag.events import AskEvent, Delta, Retrieved
from service.common import AskBody, PipelineDep
from service.errors import from_exception

router = APIRouter()

_STREAM_DOC = {
    200: {
        "description": "Events in order: `retrieval` {rewritten_question, passages}, `delta` "
        "{text} (pieces of the answer), `citation` (one per [n]), `done` (the /ask body); or "
        "`error` {detail}.",
        "content": {"text/event-stream": {}},
    }
}


@router.post("/ask/stream", response_class=EventSourceResponse, responses=_STREAM_DOC)  # type: ignore[arg-type]
async def ask_stream(body: AskBody, pipeline: PipelineDep) -> EventSourceResponse:
    """Answer a question as Server-Sent Events; bad input gets a 422 before streaming starts."""
    # ask_stream checks the question and history eagerly, so InvalidInput is raised here and
    # becomes a JSON 422, not an event in a 200 stream.
    events = pipeline.ask_stream(body.question, body.top_k, body.history, body.filters)
    return EventSourceResponse(_sse(events))


def _event(name: str, data: str) -> ServerSentEvent:
    return ServerSentEvent(data=data, event=name)


async def _sse(events: Iterator[AskEvent]) -> AsyncIterator[ServerSentEvent]:
    try:
        # Each step runs in a worker thread: retrieval and scoring are blocking NumPy/FAISS work.
        async for event in iterate_in_threadpool(events):
            if isinstance(event, Retrieved):
                payload = {
                    "rewritten_question": event.rewritten_question,
                    "passages": [p.model_dump(mode="json") for p in event.passages],
                }
                yield _event("retrieval", json.dumps(payload, ensure_ascii=False))
            elif isinstance(event, Delta):
                yield _event("delta", json.dumps({"text": event.text}, ensure_ascii=False))
            else:
                for citation in event.response.citations:
                    yield _event("citation", citation.model_dump_json())
                yield _event("done", event.response.model_dump_json())
    except Exception as exc:  # noqa: BLE001 - the stream has started: report the failure in it
        error = from_exception(exc)  # logs what it does not expect
        yield _event("error", json.dumps(error.sse_data(), ensure_ascii=False))
