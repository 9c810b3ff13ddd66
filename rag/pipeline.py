"""The one place that reads Settings and wires the stages together.

ask: rewrite a follow-up (conversation) -> analyse the question once (question) -> embed and
retrieve (retrieve) -> answer extractively or abstain (answer) -> a writer streams the final
answer (generate) -> the HTTP-shaped response.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag import conversation, generate, temporal
from rag.answer import Answer, extract
from rag.answer_types import Form
from rag.chunking import SentenceSplitter
from rag.collection import Collection, Loaded
from rag.config import Settings
from rag.documents import Document
from rag.embedding import CachedEmbedder, Embedder, Vectors
from rag.errors import InvalidInput
from rag.events import AskEvent, Done, Retrieved
from rag.generate import Evidence, Generation, Written
from rag.head_typer import EmbeddingHeadTyper
from rag.index_data import IndexData
from rag.indexer import Progress
from rag.lexicon import common_terms, load_word_tables
from rag.nlp import parse, pos_tags
from rag.perspective import CONCEPT_WORDS, perspective_of, topic_of
from rag.perspective_answer import SourcesAnswer, answer_perspective
from rag.phrase_vectors import PhraseSimilarity
from rag.query_encoder import QueryEncoder
from rag.question import Question, analyse
from rag.retrieve import Hit, Mask
from rag.schemas import (
    AskResponse,
    ChatTurn,
    DocumentChange,
    DocumentDetail,
    DocumentInfo,
    Filters,
    Passage,
    SearchResponse,
    SearchResult,
    TimelineResponse,
)
from rag.store import IndexStore
from rag.timeline import events
from rag.vectorstore import VectorStore
from rag.viewpoints import score_all


class Pipeline:
    """Ingest, search and ask over one index directory."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        splitter: SentenceSplitter | None = None,
    ) -> None:
        self.settings = settings
        self.collection = Collection(settings, embedder, splitter)
        self._encoder: QueryEncoder | None = None
        self._typer: EmbeddingHeadTyper | None = None
        self._similar: PhraseSimilarity | None = None
        self.analyze: conversation.Analyzer = conversation.spacy_phrases
        # Writes the answer: extractive by default, or a model whose sentences are verified.
        self.generator: generate.Generator = generate.make_generator(settings.generator)

    # -- the collection ----------------------------------------------------------------------
    @property
    def store(self) -> IndexStore:
        """The index directory."""
        return self.collection.store

    @property
    def vector_store(self) -> VectorStore:
        """Unfiltered dense search: FAISS from the index version, or a shared Milvus."""
        return self.collection.vector_store

    @property
    def embedder(self) -> CachedEmbedder:
        """The embedder, wrapped in the content-hash cache."""
        return self.collection.embedder

    @property
    def splitter(self) -> SentenceSplitter:
        """Sentence splitter and entity tagger."""
        return self.collection.splitter

    @property
    def loaded(self) -> Loaded:
        """The live index version (loaded on first use, reloaded when another process
        publishes a new one)."""
        return self.collection.loaded

    def load(self) -> None:
        """Load models and the index now, then everything questions may need."""
        self.load_core()
        self.warm()

    def load_core(self) -> None:
        """What every question needs: the index and the embedder (~0.5 s)."""
        _ = self.loaded
        self.embed_query("warm-up")

    def warm(self) -> None:
        """What some questions need, loaded ahead of them (~1.5 s): wordfreq's tables and the
        warm word vectors, spaCy (question analysis, follow-ups) and the answer kinds' nouns.
        Each also loads on first use, so this may run in the background while questions are
        answered (service.warm_in_background)."""
        load_word_tables()  # wordfreq (~0.3 s)
        self.loaded.lexicon.repair("azerbijan")
        self._warm_words()
        self.analyze("Has it been signed?")  # loads spaCy, so the first follow-up is not slow
        pos_tags("which official")
        self.head_typer("official")  # embeds the answer kinds' nouns

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IndexData:
        """Replace the collection with the documents under ``paths``; unchanged ones are reused."""
        data = self.collection.ingest(paths, progress)
        self._warm_words()  # into the persistent cache too: serving then only loads them
        return data

    def _warm_words(self) -> None:
        """Load the vectors of the collection's words and names and of common English words
        (embedded once, into the persistent cache): ranking by focus compares them with the
        question's words, and a value's fit with the noun asked for reads them, so a new question
        needs no model call beyond its own embedding. Other phrases stay in memory only."""
        idf = self.loaded.idf
        # every word a sentence's bag holds: its own and its source's title, outlet, authors
        words = {w for bag in idf.sentence_terms.values() for w in bag if w.isalpha()}
        names = {text for sent in idf.by_id.values() for _, text in sent.entities}
        common = common_terms(self.settings.answer.common_words)
        self.phrase_similarity.warm_from_snapshot(
            sorted(words | names) + common + list(CONCEPT_WORDS),
            self.embedder.embed,
            self.store.cache_path.parent / "warm-vectors",
            self.embedder.name,
        )

    def add_document(self, doc: Document, replace_existing: bool = False) -> DocumentChange:
        """Add (or, with ``replace_existing``, replace) one document."""
        return self.collection.add_document(doc, replace_existing)

    def remove_document(self, doc_id: str) -> DocumentChange:
        """Remove one document from every index."""
        return self.collection.remove_document(doc_id)

    def get_document(self, doc_id: str) -> DocumentDetail:
        """Metadata plus the canonical text that citation offsets index."""
        return self.collection.get_document(doc_id)

    def documents(self) -> list[DocumentInfo]:
        """The collection with metadata and chunk counts."""
        return self.collection.documents()

    @property
    def head_typer(self) -> EmbeddingHeadTyper:
        """Types "which <noun>" questions' nouns with the embedder."""
        if self._typer is None:
            # the word vectors loaded up front serve the head nouns too
            self._typer = EmbeddingHeadTyper(self.phrase_similarity.vectors)
        return self._typer

    @property
    def phrase_similarity(self) -> PhraseSimilarity:
        """How close a candidate value is to the noun a question asks for."""
        if self._similar is None:
            self._similar = PhraseSimilarity(self.embedder.inner.embed)
        return self._similar

    # -- queries -----------------------------------------------------------------------------
    def embed_query(self, text: str) -> Vectors:
        """Query embedding, cached for repeated questions."""
        if self._encoder is None:
            self._encoder = QueryEncoder(
                self.embedder.inner.embed, self.settings.embedding.query_batch
            )
        return self._encoder(text)

    def _retrieve(
        self, loaded: Loaded, query: str, top_k: int | None, filters: Filters | None = None
    ) -> tuple[Vectors, list[Hit], dict[str, float]]:
        t0 = time.perf_counter()
        qvec = self.embed_query(query)
        t1 = time.perf_counter()
        k = max(top_k or self.settings.retrieval.top_k, self.settings.answer.passages_considered)
        hits, timings = loaded.retriever.search_timed(query, qvec, k, _mask(loaded.data, filters))
        t2 = time.perf_counter()
        timings["embed_query"] = round((t1 - t0) * 1000, 3)
        timings["retrieve"] = round((t2 - t1) * 1000, 3)
        return qvec, hits, timings

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[ChatTurn] = (),
        filters: Filters | None = None,
    ) -> AskResponse:
        """Answer from the documents with verbatim citations, or abstain."""
        for event in self.ask_stream(question, top_k, history, filters):
            if isinstance(event, Done):
                return event.response
        raise AssertionError("ask_stream ended without Done")

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        history: Sequence[ChatTurn] = (),
        filters: Filters | None = None,
    ) -> Iterator[AskEvent]:
        """Check the input now (InvalidInput), then yield Retrieved, Delta… and Done."""
        question = _clean_query(question, self.settings.service.max_question_chars, "question")
        limits = self.settings.service
        conversation.check_history(history, limits.max_history_turns, limits.max_history_chars)
        return self._ask_events(question, top_k, list(history), filters)

    def _ask_events(
        self,
        asked: str,
        top_k: int | None,
        history: list[ChatTurn],
        filters: Filters | None = None,
    ) -> Iterator[AskEvent]:
        start = time.perf_counter()
        timings: dict[str, float] = {}
        loaded = self.loaded
        rewritten = self._rewrite(loaded, asked, history) if history else None
        if history:
            timings["rewrite"] = round((time.perf_counter() - start) * 1000, 3)
        t_analyse = time.perf_counter()
        text = rewritten or asked
        if self.settings.answer.repair:
            text = loaded.lexicon.repair(text).text
        question = analyse(
            text,
            asked,
            loaded.data.newest_date,
            self.settings.answer.temporal,
            typer=self.head_typer,
            tags=pos_tags,
        )
        timings["analyse"] = round((time.perf_counter() - t_analyse) * 1000, 3)
        if question.period is not None and (filters is None or filters.date_to is None):
            # "As of 2024, ..." asks what the sources said by then: later ones are out of scope.
            base = filters or Filters()
            filters = base.model_copy(update={"date_to": question.period.date_to})
        qvec, hits, stage_ms = self._retrieve(loaded, question.text, top_k, filters)
        timings |= stage_ms
        passages = _passages(loaded.data, hits[: top_k or self.settings.retrieval.top_k])
        yield Retrieved(passages, rewritten)
        t0 = time.perf_counter()
        previous = next((t.content for t in reversed(history) if t.role == "assistant"), "")

        def direct() -> Answer:
            return extract(
                question,
                qvec,
                hits,
                loaded.data,
                loaded.idf,
                self.settings.answer,
                previous,
                self.phrase_similarity,
            )

        about_sources = self._about_sources(loaded, question, filters, direct)
        answer = about_sources.answer if about_sources is not None else direct()
        timings["answer"] = round((time.perf_counter() - t0) * 1000, 3)
        timings["total"] = round((time.perf_counter() - start) * 1000, 3)
        shown = () if answer.abstained else tuple((p.doc_id, p.chunk_id) for p in passages)
        evidence = Evidence(
            question.text, loaded.data, loaded.idf, self.embedder.inner.embed, shown
        )
        # Viewpoints and timelines are quoted as they are: a model rewriting them could merge
        # one outlet's opinion into another's or reorder events.
        writer = self.generator if about_sources is None else generate.Extractive()
        for event in writer.respond(answer, evidence):
            if isinstance(event, Written):
                response = _response(question, rewritten, event, passages, timings)
                if about_sources is not None:
                    response.viewpoints = about_sources.viewpoints
                    response.timeline = about_sources.timeline
                yield Done(response)
            else:
                yield event

    def _about_sources(
        self,
        loaded: Loaded,
        question: Question,
        filters: Filters | None,
        direct: Callable[[], Answer],
    ) -> SourcesAnswer | None:
        """Viewpoints or the latest events, when the question is about the sources as a whole
        (not under filters: a filtered question is about the sources it keeps)."""
        if not self.settings.perspective.enabled or filters is not None:
            return None
        view = perspective_of(
            question.text,
            loaded.data,
            loaded.idf.weight,
            self.phrase_similarity.matrix_known,  # a word never seen is no concept word
            parse,
        )
        if view is None:
            return None
        subject_vec = self.embed_query(view.subject)
        return answer_perspective(
            view,
            subject_vec,
            loaded.data,
            loaded.idf,
            self.settings.perspective,
            direct,
            wants_value=question.form == Form.VALUE,
            recency=question.recency,
        )

    def timeline(self, topic: str, limit: int | None = None) -> TimelineResponse:
        """Dated events on ``topic``, oldest first, each quoted verbatim."""
        topic = _clean_query(topic, self.settings.service.max_question_chars, "q")
        start = time.perf_counter()
        loaded = self.loaded
        text = loaded.lexicon.repair(topic).text if self.settings.answer.repair else topic
        text = topic_of(text, parse) or text  # "is the treaty signed yet?" -> "treaty signed"
        settings = self.settings.perspective
        scored = score_all(
            text, self.embed_query(text), loaded.data, loaded.idf, settings.lexical_weight
        )
        shown = events(scored, loaded.data, settings, limit or settings.timeline_limit)
        return TimelineResponse(
            query=topic,
            events=shown,
            as_of=loaded.data.newest_date or None,
            timings_ms={"total": round((time.perf_counter() - start) * 1000, 3)},
        )

    def _rewrite(self, loaded: Loaded, asked: str, history: list[ChatTurn]) -> str | None:
        """The follow-up made standalone, with every user turn's spelling and casing repaired
        first: spaCy finds the names of "the pakistan arms deal" only once they are capitalised."""
        if not self.settings.answer.repair:
            return conversation.rewrite(asked, history, self.analyze)
        fix = loaded.lexicon.repair
        turns = [
            t.model_copy(update={"content": fix(t.content).text}) if t.role == "user" else t
            for t in history
        ]
        return conversation.rewrite(fix(asked).text, turns, self.analyze)

    def search(
        self, query: str, top_k: int | None = None, filters: Filters | None = None
    ) -> SearchResponse:
        """Hybrid search over chunks."""
        query = _clean_query(query, self.settings.service.max_question_chars, "query")
        loaded = self.loaded
        _, hits, timings = self._retrieve(loaded, query, top_k, filters)
        hits = hits[: top_k or self.settings.retrieval.top_k]
        results = [
            SearchResult(
                doc_id=h.chunk.doc_id,
                chunk_id=h.chunk.chunk_id,
                score=round(h.score, 6),
                text=h.chunk.text,
                start=h.chunk.start,
                end=h.chunk.end,
                title=loaded.data.documents[h.chunk.doc_id].meta.title,
                section=h.chunk.section,
            )
            for h in hits
        ]
        return SearchResponse(query=query, results=results, timings_ms=timings)


def _response(
    question: Question,
    rewritten: str | None,
    written: Written,
    passages: list[Passage],
    timings: dict[str, float],
) -> AskResponse:
    """The HTTP-shaped answer: the final answer, how it was written, and the passages."""
    answer: Answer = written.answer
    gen: Generation = written.generation
    timings = dict(timings)
    if gen.generate_ms is not None:
        timings["generate"] = gen.generate_ms
        timings["total"] = round(timings["total"] + gen.generate_ms, 3)
    return AskResponse(
        question=question.asked,
        rewritten_question=rewritten,
        answer=answer.text,
        short_answer=answer.short_answer,
        short_answer_citation=answer.short_answer_citation,
        abstained=answer.abstained,
        support=round(answer.support, 4),
        citations=list(answer.citations),
        passages=[] if answer.abstained else passages,
        related=passages if answer.abstained else [],
        timings_ms=timings,
        generator=gen.generator,
        sentences=list(gen.sentences),
        generated_sentences=gen.generated_sentences,
        dropped_sentences=gen.dropped_sentences,
        dropped=list(gen.dropped),
        fallback=gen.fallback,
    )


def _passages(data: IndexData, hits: list[Hit]) -> list[Passage]:
    out = []
    for rank, hit in enumerate(hits, start=1):
        meta = data.documents[hit.chunk.doc_id].meta
        out.append(
            Passage(
                rank=rank,
                chunk_id=hit.chunk.chunk_id,
                doc_id=hit.chunk.doc_id,
                title=meta.title,
                publisher=meta.publisher,
                date=meta.date,
                date_estimated=meta.date_estimated,
                score=round(hit.score, 6),
                dense_score=None if hit.dense is None else round(hit.dense, 6),
                lexical_score=None if hit.lexical is None else round(hit.lexical, 6),
                section=hit.chunk.section,
                heading=hit.chunk.heading,
                start=hit.chunk.start,
                end=hit.chunk.end,
                text=hit.chunk.text,
            )
        )
    return out


def _mask(data: IndexData, filters: Filters | None) -> Mask | None:
    """Chunk rows whose documents pass the filters; None when nothing is filtered."""
    if filters is None or not filters.active():
        return None
    passing = {
        doc_id
        for doc_id, doc in data.documents.items()
        if temporal.matches(doc.meta, doc_id, filters)
    }
    return np.fromiter(
        (c.doc_id in passing for c in data.chunks), dtype=bool, count=len(data.chunks)
    )


def _clean_query(text: str, max_chars: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    if len(text) > max_chars:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_chars}")
    return text.strip()
