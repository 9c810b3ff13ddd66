"""Documents, their metadata, and loading from disk.

A loader turns a file into canonical text (for .txt/.md, the decoded file itself, so citation
offsets index the file as stored). New formats register a loader in ``LOADERS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import InvalidInput


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
        return cls(**values)


@dataclass
class Document:
    """A source document: its canonical text and metadata."""

    doc_id: str
    text: str
    meta: DocMeta
    source_path: str | None = None
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = content_hash(self.text)


def meta_text(meta: DocMeta) -> str:
    """Title, publisher and authors as one string (for lexical matching)."""
    return " ".join([meta.title, meta.publisher, *meta.authors])


def content_hash(text: str) -> str:
    """SHA-256 of UTF-8 text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_plain_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path.name}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    if "\x00" in text:
        raise InvalidInput(f"{path.name}: contains NUL bytes; looks like binary data, not text")
    if not text.strip():
        raise InvalidInput(f"{path.name}: document is empty")
    return text


# Extension -> function producing canonical text. HTML and PDF loaders slot in here.
LOADERS: dict[str, Callable[[Path], str]] = {
    ".txt": _read_plain_text,
    ".md": _read_plain_text,
}


def load_sources(directory: Path, filename: str) -> dict[str, DocMeta]:
    """Read the per-file metadata (``sources.json``) of a directory, if present."""
    path = directory / filename
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {doc_id: DocMeta.from_json(entry) for doc_id, entry in data.items()}


def load_document(path: Path, meta: DocMeta | None = None) -> Document:
    """Load one file with the loader for its extension."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise InvalidInput(
            f"{path.name}: unsupported format {path.suffix!r}; supported: {sorted(LOADERS)}"
        )
    text = loader(path)
    if meta is None:
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
        meta = DocMeta(title=first_line[:200])
    return Document(doc_id=path.name, text=text, meta=meta, source_path=str(path))


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
