"""Response and request shapes shared by the CLI (--json) and the HTTP service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Citation(BaseModel):
    """A verbatim span: ``document_text[start:end] == quote``."""

    id: int = Field(description="The n of the [n] marker in the answer.")
    doc_id: str
    title: str
    publisher: str
    authors: list[str] = []
    date: str | None = Field(None, description="ISO date of the source.")
    date_estimated: bool = False
    kind: str = "unknown"
    section: str = Field(
        "content", description="content | caption | related (teaser summary) | bio (author note)"
    )
    start: int
    end: int
    quote: str


class Passage(BaseModel):
    """A retrieved chunk."""

    rank: int
    chunk_id: str
    doc_id: str
    title: str
    publisher: str
    date: str | None = None
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    section: str
    heading: str | None = None
    start: int
    end: int
    text: str


class ChatTurn(BaseModel):
    """One earlier message of a conversation the client keeps."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class AskResponse(BaseModel):
    """The body of POST /ask, and what `rag ask --json` prints."""

    question: str
    rewritten_question: str | None = Field(
        None,
        description="The standalone question asked of the documents, when a follow-up "
        "was rewritten using the history; null when the question was used as typed.",
    )
    answer: str
    abstained: bool
    support: float = Field(description="Evidence score of the best sentence (abstention signal).")
    citations: list[Citation]
    passages: list[Passage]
    related: list[Passage] = Field(
        default_factory=list, description="On abstention: the closest passages found."
    )
    timings_ms: dict[str, float]


class SearchResult(BaseModel):
    """One search hit."""

    doc_id: str
    chunk_id: str
    score: float
    text: str
    start: int
    end: int
    title: str
    section: str


class SearchResponse(BaseModel):
    """The body of POST /search."""

    query: str
    results: list[SearchResult]
    timings_ms: dict[str, float]


class DocumentInfo(BaseModel):
    """A document in the collection."""

    doc_id: str
    title: str
    publisher: str
    authors: list[str]
    date: str | None
    date_estimated: bool
    kind: str
    stance: str | None
    url: str | None
    sha256: str
    chars: int
    chunks: int
