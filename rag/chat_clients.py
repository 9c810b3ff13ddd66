"""Chat models a generator can stream from: any OpenAI-compatible endpoint, or a local GGUF
model run in-process by llama-cpp-python."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from rag.config import GeneratorSettings
from rag.errors import GeneratorUnavailable

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

Messages = list[dict[str, str]]


class ChatClient(Protocol):
    """A chat-completions model, streamed."""

    name: str

    def stream(self, messages: Messages) -> Iterator[str]:
        """Text pieces of the reply; GeneratorUnavailable when the model fails."""
        ...


class OpenAIChat:
    """Any OpenAI-compatible chat-completions endpoint (llama.cpp server, vLLM, OpenAI…)."""

    def __init__(self, settings: GeneratorSettings) -> None:
        from openai import OpenAI

        self.model = settings.model or "default"
        self.name = f"openai:{self.model}"
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "unused"
        self._client = OpenAI(
            base_url=settings.base_url, api_key=key, timeout=settings.timeout_s, max_retries=1
        )

    def stream(self, messages: Messages) -> Iterator[str]:
        """Stream the reply; closing this iterator closes the HTTP response."""
        import httpx
        import openai

        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
            )
            with response:
                for chunk in response:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise GeneratorUnavailable(f"{self.name} at {self.settings.base_url}: {exc}") from exc


class LlamaCppChat:
    """A local GGUF model run in-process by llama-cpp-python (the ``local-llm`` extra)."""

    def __init__(self, settings: GeneratorSettings) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise GeneratorUnavailable(
                "generator.kind=llama-cpp needs llama-cpp-python: pip install '.[local-llm]'"
            )
        self.path = Path(settings.model)
        if not self.path.is_file():
            raise GeneratorUnavailable(f"generator.model: no GGUF file at {self.path}")
        self.name = f"llama-cpp:{self.path.name}"
        self.settings = settings
        self._llm: Any = None
        self._lock = threading.Lock()  # a llama.cpp context serves one request at a time

    def _model(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=self.settings.context_tokens,
                n_threads=self.settings.threads or os.cpu_count(),
                verbose=False,
            )
        return self._llm

    def stream(self, messages: Messages) -> Iterator[str]:
        """Stream the reply from the local model."""
        with self._lock:
            try:
                chunks = self._model().create_chat_completion(
                    messages=messages,
                    stream=True,
                    max_tokens=self.settings.max_tokens,
                    temperature=self.settings.temperature,
                )
                for chunk in chunks:
                    content = chunk["choices"][0]["delta"].get("content")
                    if content:
                        yield content
            except (ValueError, RuntimeError) as exc:
                raise GeneratorUnavailable(f"{self.name}: {exc}") from exc
