"""An OpenAI-compatible face: ``GET /v1/models`` and ``POST /v1/chat/completions``.

The service answers as one "model" (``peace-rag``), so the official ``openai`` client and chat
front-ends can use it. The last user message is the question, earlier user/assistant messages
the history (system messages are ignored: the rules of answering are the service's). Citations
appear in the content as [n] with a sources list at the end, and in full in the extra fields
``citations``, ``short_answer`` and ``short_answer_citation`` (the exact answer and the id of
the citation it is copied from; null when there is none) and ``rag`` (the rest of the /ask
body) of the response, or of the final chunk when streaming. Sampling parameters
(temperature, max_tokens, ...) are accepted and ignored.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.concurrency import iterate_in_threadpool

from rag.chunking import get_encoding
from rag.config import Settings
from rag.documents import DocMeta, format_date
from rag.errors import RagError
from rag.events import AskEvent, Delta, Done
from rag.schemas import AskResponse, ChatTurn, Citation, Filters
from service.common import PipelineDep, SettingsDep, check_top_k
from service.errors import HttpError, from_exception

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

MODEL_ID = "peace-rag"
SOURCES_HEADING = "Sources:"
_CREATED = 1_767_225_600  # 2026-01-01: a fixed "created" for the one model


class ChatMessage(BaseModel):
    """One message; content is a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """The fields of a chat-completions request this service reads; others are ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is produced.")
    top_k: StrictInt | None = Field(
        None, ge=1, description="Extension: passages to return (1 to service.max_top_k)."
    )
    filters: Filters | None = Field(None, description="Extension: restrict to some documents.")


class _ApiError(Exception):
    """A request this API refuses before the pipeline sees it, with OpenAI's error code."""

    def __init__(self, error: HttpError, code: str | None = None) -> None:
        super().__init__(error.detail)
        self.error, self.code = error, code

    def response(self, param: str | None = None) -> JSONResponse:
        return self.error.openai_response(self.code, param)


def _invalid(message: str, code: str | None = None) -> _ApiError:
    return _ApiError(HttpError(400, message), code)


def _model_card() -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": _CREATED, "owned_by": "peace-rag"}


@router.get("/models")
async def list_models() -> dict[str, Any]:
    """The one model this service is."""
    return {"object": "list", "data": [_model_card()]}


@router.get("/models/{model_id}", response_model=None)
async def get_model(model_id: str) -> dict[str, Any] | JSONResponse:
    """The model card, or a 404 in OpenAI's error shape."""
    if model_id != MODEL_ID:
        return _unknown_model(model_id).response("model")
    return _model_card()


def _unknown_model(model: str) -> _ApiError:
    message = f"The model `{model}` does not exist; this service serves `{MODEL_ID}`."
    return _ApiError(HttpError(404, message), "model_not_found")


def _text(message: ChatMessage, index: int) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    parts = []
    for part in message.content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise _invalid(f"messages[{index}].content: only text parts are supported")
        parts.append(part["text"])
    return "\n".join(parts)


def _strip_sources(answer: str) -> str:
    # Our own earlier answers come back as history: the sources list is not conversation.
    return answer.split(f"\n\n{SOURCES_HEADING}\n", 1)[0]


def conversation(messages: list[ChatMessage], settings: Settings) -> tuple[str, list[ChatTurn]]:
    """The question (last user message) and the history the pipeline accepts."""
    if messages[-1].role != "user":
        raise _invalid("the last message must have role 'user': it is the question", "messages")
    question = _text(messages[-1], len(messages) - 1)
    if not question.strip():
        raise _invalid("the last user message is empty")
    # Its length is the pipeline's to check (InvalidInput: a 400 here).
    history = []
    for i, message in enumerate(messages[:-1]):
        if message.role not in ("user", "assistant"):
            continue  # system/developer/tool messages: the service sets its own rules
        content = _text(message, i)
        if message.role == "assistant":
            content = _strip_sources(content)
        if content.strip():
            history.append(ChatTurn(role=message.role, content=content))
    # Front-ends send the whole conversation: keep what fits the pipeline's limits.
    turns = settings.service.max_history_turns
    history = history[-turns:] if turns else []
    chars = settings.service.max_history_chars
    return question, [t.model_copy(update={"content": t.content[:chars]}) for t in history]


def _when(c: Citation) -> str:
    meta = DocMeta(title=c.title, date=c.date, date_estimated=c.date_estimated)
    return format_date(meta)


def sources_list(citations: list[Citation]) -> str:
    """The appendix of the content: one line per [n], with outlet, date, title and quote."""
    if not citations:
        return ""
    lines = [f"\n\n{SOURCES_HEADING}"]
    for c in citations:
        quote = re.sub(r"\s+", " ", c.quote).strip()
        lines.append(
            f"[{c.id}] {c.publisher}, {_when(c)}, “{c.title}” ({c.doc_id}, "
            f"chars {c.start}-{c.end}): “{quote}”"
        )
    return "\n".join(lines)


def _details(response: AskResponse) -> dict[str, Any]:
    """The extension fields of a completion (or of the final chunk of its stream)."""
    return {
        "citations": [c.model_dump(mode="json") for c in response.citations],
        # Next to the citations they point into; `rag` keeps them too (it is the whole body).
        "short_answer": response.short_answer,
        "short_answer_citation": response.short_answer_citation,
        "rag": response.model_dump(mode="json", exclude={"answer", "citations"}),
    }


class _Tokens:
    """Token counts for ``usage`` (cl100k, as the index counts tokens)."""

    def __init__(self, settings: Settings) -> None:
        self.encoding = get_encoding(settings.chunking.tokenizer)

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text))

    def usage(self, question: str, history: list[ChatTurn], content: str) -> dict[str, int]:
        prompt = self.count(question) + sum(self.count(t.content) for t in history)
        completion = self.count(content)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, pipeline: PipelineDep, settings: SettingsDep
) -> JSONResponse | StreamingResponse:
    """Answer the last user message with citations, as a chat completion (or its stream)."""
    try:
        try:
            body = ChatCompletionRequest.model_validate(await request.json())
        except ValueError as exc:  # JSON or ValidationError
            raise _invalid(_validation_message(exc)) from exc
        if body.model != MODEL_ID:
            raise _unknown_model(body.model)
        check_top_k(body.top_k, settings)
        question, history = conversation(body.messages, settings)
        ident = f"chatcmpl-{uuid.uuid4().hex}"
        if body.stream:
            # Checks the question and history now, so bad input is a 400, not a broken stream.
            events = pipeline.ask_stream(question, body.top_k, history, body.filters)
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            chunks = _chunks(ident, events, include_usage, question, history, settings)
            return StreamingResponse(
                chunks,
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        response = await run_in_threadpool(
            pipeline.ask, question, body.top_k, history, body.filters
        )
    except _ApiError as exc:
        return exc.response()
    except RagError as exc:
        return from_exception(exc).openai_response()
    content = response.answer + sources_list(response.citations)
    completion = {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _Tokens(settings).usage(question, history, content),
        **_details(response),
    }
    return JSONResponse(completion)


def _validation_message(exc: ValueError) -> str:
    if not isinstance(exc, ValidationError):
        return f"body is not valid JSON: {exc}"
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        problems.append(f"{where}: {err.get('msg')}")
    return "; ".join(problems)


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def _chunks(
    ident: str,
    events: Iterator[AskEvent],
    include_usage: bool,
    question: str,
    history: list[ChatTurn],
    settings: Settings,
) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return _sse(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "choices": [choice],
                **extra,
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    try:
        # Each step runs in a worker thread: retrieval, scoring and the model call block.
        async for event in iterate_in_threadpool(events):
            if isinstance(event, Delta):
                yield chunk({"content": event.text})
            elif isinstance(event, Done):
                response = event.response
                sources = sources_list(response.citations)
                if sources:
                    yield chunk({"content": sources})
                yield chunk({}, "stop", **_details(response))
                if include_usage:
                    usage = _Tokens(settings).usage(question, history, response.answer + sources)
                    yield _sse(
                        {
                            "id": ident,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": MODEL_ID,
                            "choices": [],
                            "usage": usage,
                        }
                    )
    except Exception as exc:  # noqa: BLE001 - the stream has started: report the failure in it
        yield _sse({"error": from_exception(exc).openai_error()})  # logs what it did not expect
    yield "data: [DONE]\n\n"
