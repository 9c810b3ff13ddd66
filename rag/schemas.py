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
    page: int | None = Field(None, description="1-based page, for paged formats (PDF).")
    quote: str


class Passage(BaseModel):
    """A retrieved chunk."""

    rank: int
    chunk_id: str
    doc_id: str
    title: str
    publisher: str
    date: str | None = None
    date_estimated: bool = False
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


class SentenceSupport(BaseModel):
    """One generated sentence and the evidence check it passed or failed."""

    text: str = Field(description="As shown in the answer, with the answer's [n] markers.")
    supported: bool
    citation_ids: list[int] = Field(
        default_factory=list, description="Ids of the citations that support it."
    )
    cited_sources: list[int] = Field(
        default_factory=list, description="The source numbers the model cited ([n] of the prompt)."
    )
    ignored_markers: list[int] = Field(
        default_factory=list, description="[n] markers that named no source, removed."
    )
    lexical: float = Field(0.0, description="Share of its content words found in the span.")
    similarity: float = Field(0.0, description="Embedding cosine with the span.")
    reason: str | None = Field(None, description="Why it is not supported.")
    problems: list[str] = Field(
        default_factory=list,
        description="Why it is not supported, as codes (new_numbers, new_names, new_words, "
        "low_similarity, repeat, ...; see rag.verify.Problem).",
    )


class Viewpoint(BaseModel):
    """One source's say on the subject of a comparing question, with its quotes' citation ids."""

    doc_id: str
    title: str
    publisher: str
    authors: list[str] = []
    date: str | None = None
    date_estimated: bool = False
    kind: str = "unknown"
    citation_ids: list[int] = Field(description="Ids into the response's citations.")


class TimelineEvent(BaseModel):
    """A dated happening, quoted verbatim from the earliest-published source that tells it."""

    date: str = Field(description="YYYY-MM-DD, YYYY-MM or YYYY, as precise as the sentence.")
    date_precision: Literal["day", "month", "year"]
    date_estimated: bool = Field(
        description="The year (or the whole date) was inferred from the source's date: "
        "'on April 19', 'last month'."
    )
    text: str = Field(description="The sentence that states it (verbatim).")
    citation: Citation
    also_reported_by: list[Citation] = Field(
        [], description="The same happening in other sources (later-published ones)."
    )
    score: float = Field(0.0, description="How closely the sentence speaks to the topic.")


class TimelineResponse(BaseModel):
    """GET /timeline: dated events on a topic, oldest first."""

    query: str
    events: list[TimelineEvent]
    as_of: str | None = Field(None, description="ISO date of the newest source.")
    timings_ms: dict[str, float] = {}


class AskResponse(BaseModel):
    """The body of POST /ask, and what `rag ask --json` prints."""

    question: str
    rewritten_question: str | None = Field(
        None,
        description="The standalone question asked of the documents, when a follow-up "
        "was rewritten using the history; null when the question was used as typed.",
    )
    answer: str
    short_answer: str | None = Field(
        None,
        description="The exact answer - a name, date, number with its unit, place or title, or "
        "'Yes'/'No' for a yes/no question - copied verbatim from citation "
        "`short_answer_citation`'s quote; null when there is none (or on abstention).",
    )
    short_answer_citation: int | None = Field(
        None, description="Id of the citation whose quote holds `short_answer`."
    )
    abstained: bool
    support: float = Field(description="Evidence score of the best sentence (abstention signal).")
    citations: list[Citation]
    passages: list[Passage]
    related: list[Passage] = Field(
        default_factory=list, description="On abstention: the closest passages found."
    )
    timings_ms: dict[str, float]
    generator: str = Field(
        "extractive",
        description="What wrote the answer: 'extractive' (quotes) or 'openai:<model>' / "
        "'llama-cpp:<file>' (a model, every kept sentence checked against its sources).",
    )
    sentences: list[SentenceSupport] = Field(
        default_factory=list,
        description="Generated answers: each sentence of the answer and how it was checked.",
    )
    generated_sentences: int = Field(0, description="Sentences the model wrote.")
    dropped_sentences: int = Field(
        0, description="Generated sentences removed because their sources don't support them."
    )
    dropped: list[SentenceSupport] = Field(
        default_factory=list,
        description="Generated answers: the sentences verification removed (never shown in "
        "`answer`), each with the reason — what the model said that its sources don't support.",
    )
    viewpoints: list[Viewpoint] | None = Field(
        None,
        description="For a question comparing the sources: one entry per source that speaks "
        "to the subject, newest first; its quotes are in citations.",
    )
    timeline: list[TimelineEvent] | None = Field(
        None,
        description="For a 'what's the latest on' / 'how has it developed' question: the "
        "topic's dated events, oldest first.",
    )
    fallback: str | None = Field(
        None,
        description="Why a configured model's answer was replaced by the extractive one "
        "(or an abstention); null when it was not.",
    )


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


class Filters(BaseModel):
    """Restrict retrieval to some documents; every given field must match."""

    model_config = ConfigDict(extra="forbid")

    doc_ids: list[str] | None = None
    publishers: list[str] | None = Field(None, description="Case-insensitive exact match.")
    kinds: list[str] | None = Field(None, description="e.g. news, analysis, opinion.")
    # ASCII digits: the pattern means the same to pydantic (Unicode \d) and JSON Schema.
    date_from: str | None = Field(
        None, pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", description="YYYY[-MM[-DD]]"
    )
    date_to: str | None = Field(
        None, pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$", description="YYYY[-MM[-DD]]"
    )

    def active(self) -> bool:
        """Whether any restriction is set."""
        return any(v is not None for v in self.model_dump().values())


class DocumentDetail(DocumentInfo):
    """A document with the canonical text that citation offsets index."""

    pages: list[int] = Field(default_factory=list, description="Page start offsets (PDF).")
    text: str


class DocumentChange(BaseModel):
    """Result of adding, replacing or removing a document."""

    doc_id: str
    action: str  # added | replaced | removed
    chunks: int
    index_version: str
    embedded_texts: int = Field(description="Texts newly embedded by this change.")
