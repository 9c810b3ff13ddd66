"""Documents, their metadata, and loading from files or uploaded bytes.

A loader turns raw bytes into canonical text plus metadata hints. For .txt/.md the canonical
text is the decoded file itself, so citation offsets index the file as stored; for converted
formats (.html, .pdf) it is the extracted text, stored with the index, and offsets index that.
New formats register a loader in ``LOADERS``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.dates import display_date
from rag.errors import InvalidInput, UnsupportedFormat


@dataclass(frozen=True)
class DocMeta:
    """Who said it and when: shown with every citation."""

    title: str
    publisher: str = "unknown"
    authors: tuple[str, ...] = ()
    date: str | None = None  # ISO 8601 (YYYY-MM-DD)
    date_estimated: bool = False
    kind: str = "unknown"  # news | analysis | think-tank brief | opinion | ...
    stance: str | None = None
    url: str | None = None
    language: str | None = None
    notes: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        data = asdict(self)
        data["authors"] = list(self.authors)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocMeta:
        """Inverse of ``to_json``; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        extra = set(data) - known
        if extra:
            raise InvalidInput(
                f"unknown metadata fields {sorted(extra)}; accepted: {sorted(known)}"
            )
        values = dict(data)
        values["authors"] = tuple(values.get("authors") or ())
        if not values.get("title"):
            raise InvalidInput("metadata needs a non-empty title")
        date = values.get("date")
        if date is not None and not _DATE_RE.match(str(date)):
            raise InvalidInput(f"date {date!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
        return cls(**values)

    def updated(self, overrides: dict[str, Any]) -> DocMeta:
        """A copy with the non-empty ``overrides`` applied (validated like ``from_json``)."""
        merged = {**self.to_json(), **{k: v for k, v in overrides.items() if v not in (None, "")}}
        return DocMeta.from_json(merged)


_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class Document:
    """A source document: its canonical text and metadata."""

    doc_id: str
    text: str
    meta: DocMeta
    source_path: str | None = None
    sha256: str = field(default="")
    pages: tuple[int, ...] = ()  # start offset of each page in ``text`` (PDF), else empty

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = content_hash(self.text)

    def page_of(self, offset: int) -> int | None:
        """1-based page holding a character offset, for paged formats."""
        if not self.pages:
            return None
        page = 0
        for i, start in enumerate(self.pages):
            if start <= offset:
                page = i
        return page + 1


def format_date(meta: DocMeta) -> str:
    """'22 June 2026', or 'c. July 2023' for an estimated date."""
    return display_date(meta.date, meta.date_estimated)


def meta_text(meta: DocMeta) -> str:
    """Title, publisher and authors as one string (for lexical matching)."""
    return " ".join([meta.title, meta.publisher, *meta.authors])


def content_hash(text: str) -> str:
    """SHA-256 of UTF-8 text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Extracted:
    """What a loader returns: canonical text, metadata found in the file, page offsets."""

    text: str
    hints: dict[str, Any] = field(default_factory=dict)
    pages: tuple[int, ...] = ()


def _decode(name: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{name}: not valid UTF-8 ({exc.reason} at byte {exc.start}); "
            "convert the file to UTF-8 and upload again"
        ) from exc
    text = text.removeprefix("\ufeff")
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if "\x00" in text or control > max(8, len(text) // 100):
        raise InvalidInput(f"{name}: looks like binary data, not text ({control} control bytes)")
    return text


def _require_text(name: str, text: str) -> None:
    if not text.strip():
        raise InvalidInput(f"{name}: document is empty (no text to index)")


def _load_plain(name: str, raw: bytes) -> Extracted:
    text = _decode(name, raw)
    _require_text(name, text)
    return Extracted(text)


def _load_html(name: str, raw: bytes) -> Extracted:
    import trafilatura

    html = _decode(name, raw)
    result = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=True
    )
    text = (getattr(result, "text", None) or "") if result is not None else ""
    _require_text(name, text)
    hints: dict[str, Any] = {}
    if result is not None:
        for ours, theirs in (
            ("title", "title"),
            ("publisher", "sitename"),
            ("date", "date"),
            ("url", "url"),
            ("language", "language"),
        ):
            value = getattr(result, theirs, None)
            if value:
                hints[ours] = str(value)
        author = getattr(result, "author", None)
        if author:
            hints["authors"] = [a.strip() for a in re.split(r";|\band\b", author) if a.strip()]
    return Extracted(text, hints)


# Hard cap on text pulled out of one PDF, checked page by page: a few hundred KB of compressed
# content streams can expand to tens of millions of characters.
MAX_PDF_CHARS = 10_000_000


def _load_pdf(name: str, raw: bytes, max_pages: int = 500) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise InvalidInput(f"{name}: PDF is encrypted; upload an unencrypted copy")
        if len(reader.pages) > max_pages:
            raise InvalidInput(
                f"{name}: PDF has {len(reader.pages)} pages; the limit is {max_pages}"
            )
        pages: list[int] = []
        parts: list[str] = []
        length = 0
        for page in reader.pages:
            content = (page.extract_text() or "").strip()
            pages.append(length)
            parts.append(content)
            length += len(content) + 2  # the "\n\n" that joins pages
            if length > MAX_PDF_CHARS:  # a compression bomb: stop extracting now
                raise InvalidInput(
                    f"{name}: PDF text is over {MAX_PDF_CHARS} characters; not indexed"
                )
        info = reader.metadata
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        # PyPdfError covers read errors and the decompression limits (LimitReachedError).
        raise InvalidInput(f"{name}: not a readable PDF ({exc})") from exc
    except (IndexError, AttributeError, AssertionError, RecursionError, ZeroDivisionError) as exc:
        # Crafted files can trip pypdf's parser itself: still just an unreadable upload.
        raise InvalidInput(f"{name}: not a readable PDF ({type(exc).__name__})") from exc
    text = "\n\n".join(parts)
    _require_text(name, text)
    hints: dict[str, Any] = {}
    if info is not None:
        if info.title:
            hints["title"] = str(info.title)
        if info.author:
            hints["authors"] = [str(info.author)]
        created = getattr(info, "creation_date", None)
        if created is not None:
            hints["date"] = created.date().isoformat()
    return Extracted(text, hints, tuple(pages))


# Extension -> loader producing canonical text from raw bytes.
LOADERS: dict[str, Callable[[str, bytes], Extracted]] = {
    ".txt": _load_plain,
    ".md": _load_plain,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}
# Formats whose canonical text is the file itself (offsets index the file as stored).
VERBATIM_FORMATS = frozenset({".txt", ".md"})


def load_sources(directory: Path, filename: str) -> dict[str, DocMeta]:
    """Read the per-file metadata (``sources.json``) of a directory, if present."""
    path = directory / filename
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {doc_id: DocMeta.from_json(entry) for doc_id, entry in data.items()}


_DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_doc_id(doc_id: str) -> str:
    """A document id is a plain file name: no paths, no traversal."""
    if not _DOC_ID_RE.match(doc_id) or ".." in doc_id:
        raise InvalidInput(
            f"invalid doc_id {doc_id!r}: use 1-200 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, with no '..'"
        )
    return doc_id


def load_bytes(
    name: str, raw: bytes, meta: DocMeta | None = None, overrides: dict[str, Any] | None = None
) -> Document:
    """Build a Document from raw bytes named ``name`` (the extension picks the loader)."""
    suffix = Path(name).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise UnsupportedFormat(
            f"{name}: unsupported format {suffix or '(no extension)'!r}; "
            f"supported: {', '.join(sorted(LOADERS))}"
        )
    extracted = loader(name, raw)
    if meta is None:
        first = next((ln.strip() for ln in extracted.text.splitlines() if ln.strip()), name)
        base = {"title": first.lstrip("# ")[:200]}
        base.update({k: v for k, v in extracted.hints.items() if v})
        if base.get("date") and not _DATE_RE.match(str(base["date"])):
            base.pop("date")
        meta = DocMeta.from_json(base)
    if overrides:
        meta = meta.updated(overrides)
    return Document(
        doc_id=check_doc_id(Path(name).name),
        text=extracted.text,
        meta=meta,
        pages=extracted.pages,
    )


def load_document(path: Path, meta: DocMeta | None = None) -> Document:
    """Load one file with the loader for its extension."""
    doc = load_bytes(path.name, path.read_bytes(), meta)
    return replace(doc, source_path=str(path))


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand directories to the supported files in them, sorted; files pass through."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.iterdir()) if p.suffix.lower() in LOADERS)
        elif path.exists():
            found.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or directory")
    return found


def load_documents(paths: Iterable[Path], sources_file: str = "sources.json") -> list[Document]:
    """Load files and directories, attaching metadata from each directory's sources file."""
    docs: list[Document] = []
    meta_cache: dict[Path, dict[str, DocMeta]] = {}
    for path in discover(paths):
        parent = path.parent
        if parent not in meta_cache:
            meta_cache[parent] = load_sources(parent, sources_file)
        docs.append(load_document(path, meta_cache[parent].get(path.name)))
    return docs
