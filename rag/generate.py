"""Answer writers behind ``Pipeline.ask``: the extractive composer (the default) and chat models.

Every writer gets the extractive answer first (cheap, and the fallback) and yields the events
of ``Pipeline.ask_stream``: Delta pieces, then Done. A model's answer is read sentence by
sentence as it streams; each sentence is checked against the passages it cites
(``rag.verify``) before any of it is shown, so an unsupported sentence is never streamed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from rag import prompt
from rag.answer import ABSTAIN_TEXT, Answer
from rag.chat_clients import ChatClient, LlamaCppChat, OpenAIChat
from rag.citing import cite
from rag.config import GeneratorSettings
from rag.embedding import Vectors
from rag.errors import GeneratorUnavailable
from rag.events import Delta, pieces
from rag.generated_text import SentenceBuffer
from rag.idf import SentenceIdf
from rag.index_data import IndexData
from rag.prompt import numbered_sources
from rag.schemas import Citation, SentenceSupport
from rag.text import normalise
from rag.verdict import Check, Problem, Source, SpanRef
from rag.verify import Verifier

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evidence:
    """What a writer may use besides the extractive answer."""

    query: str  # the standalone question (a follow-up already rewritten)
    data: IndexData
    idf: SentenceIdf
    embed: Callable[[Sequence[str]], Vectors]
    passages: tuple[tuple[str, str], ...] = ()  # (doc_id, chunk_id) of the shown passages


@dataclass(frozen=True)
class Generation:
    """How the answer was written: by which writer, and what verification kept or removed."""

    generator: str = "extractive"
    sentences: tuple[SentenceSupport, ...] = ()
    generated_sentences: int = 0
    dropped_sentences: int = 0
    dropped: tuple[SentenceSupport, ...] = ()
    fallback: str | None = None  # why a model's answer was replaced
    generate_ms: float | None = None  # time spent in the model (None: no model ran)


@dataclass(frozen=True)
class Written:
    """The writer's last event: the final answer and how it was written."""

    answer: Answer
    generation: Generation = Generation()


WriterEvent = Delta | Written


class Generator(Protocol):
    """Writes the answer: yields Delta pieces that join to the answer, then Written."""

    name: str

    def respond(self, extractive: Answer, evidence: Evidence) -> Iterator[WriterEvent]:
        """Events for one answer, given the extractive one."""
        ...


class Extractive:
    """Quotes the best sentences verbatim (``rag.answer``): no model."""

    name = "extractive"

    def respond(self, extractive: Answer, evidence: Evidence) -> Iterator[WriterEvent]:
        """The extractive answer, in pieces."""
        del evidence
        for piece in pieces(extractive.text):
            yield Delta(piece)
        yield Written(extractive)


class _Assembler:
    """Builds the verified answer: citation ids, the text shown, the per-sentence report."""

    def __init__(self, data: IndexData, flag: bool) -> None:
        self.data = data
        self.flag = flag
        self.citations: list[Citation] = []
        self.ids: dict[tuple[str, int, int], int] = {}
        self.sentences: list[SentenceSupport] = []
        self.shown: list[str] = []
        self.pending: list[str] = []  # flagged sentences held back until one is supported
        self.seen: set[str] = set()
        self.generated = 0
        self.dropped = 0
        self.removed: list[SentenceSupport] = []  # what was dropped, and why (never shown)
        self.kept = 0

    def add(self, check: Check) -> Iterator[str]:
        """Record a checked sentence; yield the text to show now."""
        self.generated += 1
        key = normalise(check.claim)
        if key in self.seen:
            self.dropped += 1  # a model looping on the same sentence
            repeat = (Problem.REPEAT, "repeats an earlier sentence")
            self.removed.append(_support(check, check.claim, [], repeat))
            return
        self.seen.add(key)
        if check.supported:
            ids = [self._cite(span) for span in check.spans]
            text = _with_markers(check.claim, ids)
            self.kept += 1
            self._report(check, text, ids)
            for line in [*self.pending, text]:
                yield self._show(line)
            self.pending = []
        elif self.flag:
            self._report(check, check.claim, [])
            if self.kept:
                yield self._show(check.claim)
            else:
                self.pending.append(check.claim)
        else:
            self.dropped += 1
            self.removed.append(_support(check, check.claim, []))
            log.info("dropped unsupported sentence (%s): %.200s", check.reason, check.claim)

    def _show(self, text: str) -> str:
        piece = text if not self.shown else " " + text
        self.shown.append(piece)
        return piece

    def _report(self, check: Check, text: str, ids: list[int]) -> None:
        self.sentences.append(_support(check, text, ids))

    def _cite(self, span: SpanRef) -> int:
        key = (span.doc_id, span.start, span.end)
        if key not in self.ids:
            self.ids[key] = len(self.citations) + 1
            doc = self.data.documents[span.doc_id]
            self.citations.append(cite(self.ids[key], doc, span.section, span.start, span.end))
        return self.ids[key]


def _support(
    check: Check, text: str, ids: list[int], override: tuple[Problem, str] | None = None
) -> SentenceSupport:
    """The public record of one checked sentence (``override``: a problem found outside the
    check, such as a repeat)."""
    problems = [override[0]] if override else check.problems
    return SentenceSupport(
        text=text,
        supported=check.supported and override is None,
        citation_ids=ids,
        cited_sources=check.cited,
        ignored_markers=check.ignored,
        lexical=check.lexical,
        similarity=check.similarity,
        reason=override[1] if override else check.reason,
        problems=[str(p) for p in problems],
    )


def _short_in(short: str | None, citations: list[Citation]) -> dict[str, Any]:
    """The extractive short answer kept only where a generated answer's citation quotes it."""
    for citation in citations:
        if short and short in citation.quote:
            return {"short_answer": short, "short_answer_citation": citation.id}
    return {"short_answer": None, "short_answer_citation": None}


def _with_markers(claim: str, ids: list[int]) -> str:
    """The sentence with its citation markers before the final punctuation."""
    marks = "".join(f"[{i}]" for i in dict.fromkeys(ids))
    body = claim.rstrip()
    if not marks:
        return body
    if body[-1:] in (".", "!", "…"):
        end = len(body.rstrip(".!…"))
        return f"{body[:end].rstrip()} {marks}{body[end:]}"
    return f"{body} {marks}"


class Verified:
    """A chat model whose answer keeps only sentences the cited passages support."""

    def __init__(self, client: ChatClient, settings: GeneratorSettings) -> None:
        self.client = client
        self.settings = settings
        self.name = client.name

    def respond(self, extractive: Answer, evidence: Evidence) -> Iterator[WriterEvent]:
        """Stream verified sentences; fall back when none survives."""
        if extractive.abstained or not evidence.passages:
            yield from Extractive().respond(extractive, evidence)
            return
        t0 = time.perf_counter()
        sources = numbered_sources(
            evidence.passages,
            evidence.data,
            self.settings.max_sources,
            self.settings.max_source_chars,
        )
        verify = self.settings.verify
        verifier = Verifier(evidence.data, evidence.idf, evidence.embed, sources, verify)
        out = _Assembler(evidence.data, flag=verify.unsupported == "flag")
        failure = None
        try:
            for sentence in self._sentences(evidence.query, sources, out):
                for piece in out.add(verifier.check(sentence)):
                    yield Delta(piece)
        except GeneratorUnavailable as exc:
            log.warning("generator failed: %s", exc)
            failure = f"the model failed: {exc}"
        report = Generation(
            generated_sentences=out.generated,
            dropped_sentences=out.dropped,
            dropped=tuple(out.removed),
            generate_ms=round((time.perf_counter() - t0) * 1000, 3),
        )
        if out.kept:
            answer = replace(
                extractive,
                text="".join(out.shown),
                citations=tuple(out.citations),
                **_short_in(extractive.short_answer, out.citations),
            )
            yield Written(
                answer, replace(report, generator=self.name, sentences=tuple(out.sentences))
            )
            return
        reason = failure or (
            f"none of the {out.generated} generated sentences was supported by its sources"
            if out.generated
            else "the model wrote nothing"
        )
        yield from self._fallback(extractive, replace(report, fallback=reason))

    def _sentences(self, question: str, sources: list[Source], out: _Assembler) -> Iterator[str]:
        messages = prompt.messages(question, sources, self.settings.verify.max_sentences)
        buffer = SentenceBuffer()
        stream = self.client.stream(messages)
        try:
            for piece in stream:
                yield from buffer.feed(piece)
                if out.kept >= self.settings.verify.max_sentences:
                    return  # enough: closing the stream stops the model
            yield from buffer.flush()
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _fallback(self, extractive: Answer, report: Generation) -> Iterator[WriterEvent]:
        answer = extractive
        if self.settings.verify.fallback == "abstain":
            answer = Answer(
                f"{ABSTAIN_TEXT} The model's answer was not supported by the sources.",
                abstained=True,
                support=extractive.support,
            )
        for piece in pieces(answer.text):
            yield Delta(piece)
        yield Written(answer, report)


def make_generator(settings: GeneratorSettings) -> Generator:
    """The writer the settings name (models load on first use, not here)."""
    if settings.kind == "openai":
        return Verified(OpenAIChat(settings), settings)
    if settings.kind == "llama-cpp":
        return Verified(LlamaCppChat(settings), settings)
    return Extractive()
