"""The index as a directory of plain files, written atomically, with a manifest.

Layout::

    index/CURRENT                 name of the live version (replaced atomically)
    index/versions/<name>/        manifest.json, documents.jsonl, chunks.jsonl,
                                  sentences.jsonl, chunks.faiss, sentences.npy
                                  (+ chunks.npy, the exact vectors, when
                                  chunks.faiss is approximate)
    index/embeddings.sqlite       embedding cache keyed by content hash

A version is built in a temporary directory, renamed into place, and only then named in
CURRENT, so a crash at any point leaves the previous version live.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.checksums import sha256_file
from rag.chunking import Chunk, Sentence
from rag.documents import DocMeta, Document
from rag.errors import IndexMismatch, NotFound
from rag.index_data import IndexData
from rag.vectorstore import is_exact

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_DATA_FILES = (
    "documents.jsonl",
    "chunks.jsonl",
    "sentences.jsonl",
    "chunks.faiss",
    "sentences.npy",
)
# Parameters manifests gained later, with the value every index written before them had.
RECORDED_BEFORE: dict[str, Any] = {"backend": "torch"}


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexStore:
    """Reads and writes index versions under one directory."""

    def __init__(self, root: Path, keep_versions: int = 3, cache_path: Path | None = None) -> None:
        self.root = root
        self.versions = root / "versions"
        self.keep_versions = keep_versions
        self.cache_path = cache_path or root / "embeddings.sqlite"

    def current_name(self) -> str | None:
        """The live version's name, if any."""
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        return pointer.read_text(encoding="utf-8").strip() or None

    def exists(self) -> bool:
        """Whether a live version is recorded."""
        name = self.current_name()
        return name is not None and (self.versions / name / "manifest.json").exists()

    def check(self, data: IndexData) -> str | None:
        """Why loaded ``data`` disagrees with its version's manifest on disk; None if intact.

        Raises OSError or ValueError when the manifest cannot be read (e.g. pruned meanwhile).
        """
        path = self.versions / data.version / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        problems = []
        vectors = len(data.chunk_vectors)
        if manifest.get("n_chunks") != len(data.chunks) or vectors != len(data.chunks):
            problems.append(
                f"chunks: manifest {manifest.get('n_chunks')}, loaded {len(data.chunks)}, "
                f"vectors {vectors}"
            )
        if manifest.get("n_sentences") != len(data.sentences):
            problems.append("sentence count differs from the manifest")
        if manifest.get("documents") != {d.doc_id: d.sha256 for d in data.documents.values()}:
            problems.append("documents differ from the manifest")
        return "; ".join(problems) or None

    def save(self, data: IndexData) -> str:
        """Write ``data`` as a new version and make it live; returns the version name."""
        self.versions.mkdir(parents=True, exist_ok=True)
        tmp = self.versions / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            _write_jsonl(
                tmp / "documents.jsonl",
                [
                    {
                        "doc_id": d.doc_id,
                        "sha256": d.sha256,
                        "source_path": d.source_path,
                        "meta": d.meta.to_json(),
                        "pages": list(d.pages),
                        "text": d.text,
                    }
                    for d in data.documents.values()
                ],
            )
            _write_jsonl(tmp / "chunks.jsonl", [c.to_json() for c in data.chunks])
            _write_jsonl(tmp / "sentences.jsonl", [s.to_json() for s in data.sentences])
            faiss.write_index(data.faiss_index, str(tmp / "chunks.faiss"))
            np.save(tmp / "sentences.npy", data.sentence_vectors, allow_pickle=False)
            files = list(_DATA_FILES)
            if not is_exact(data.faiss_index):
                # An approximate index gives back lossy vectors; filtered search and reuse on
                # rebuild need the exact ones.
                np.save(tmp / "chunks.npy", data.chunk_vectors, allow_pickle=False)
                files.append("chunks.npy")
            manifest = {
                "format_version": FORMAT_VERSION,
                **data.params,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "n_chunks": len(data.chunks),
                "n_sentences": len(data.sentences),
                "documents": {d.doc_id: d.sha256 for d in data.documents.values()},
                "files": {name: sha256_file(tmp / name) for name in files},
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            for name in (*files, "manifest.json"):
                with (tmp / name).open("rb") as fh:
                    os.fsync(fh.fileno())
            # Microseconds too: pruning and the fallback to an older version go by name, so
            # versions saved within one second must still sort by age.
            seconds, micros = divmod(time.time_ns() // 1000, 10**6)
            stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}.{micros:06d}"
            name = f"v{stamp}-{uuid.uuid4().hex[:6]}"
            os.rename(tmp, self.versions / name)
            _fsync_dir(self.versions)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        pointer_tmp = self.root / f".CURRENT.{uuid.uuid4().hex}"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, self.root / "CURRENT")
        _fsync_dir(self.root)
        data.version = name
        self._prune(keep=name)
        return name

    def _prune(self, keep: str) -> None:
        names = sorted(
            (p for p in self.versions.iterdir() if p.is_dir() and p.name.startswith("v")),
            key=lambda p: p.name,
        )
        for path in names[: max(0, len(names) - self.keep_versions)]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.versions.glob(".tmp-*"):  # left by a crashed build
            shutil.rmtree(path, ignore_errors=True)

    def load(self, expected: dict[str, Any]) -> IndexData:
        """Load the live version, checking it against ``expected`` params and its manifest.

        If the live version is damaged, the newest intact older version is used instead.
        """
        name = self.current_name()
        if name is None:
            raise NotFound(f"no index in {self.root}; run `rag ingest` to build one")
        try:
            return self._load_version(name, expected)
        except IndexMismatch:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.error("index version %s is damaged (%s); trying older versions", name, exc)
            for older in sorted((p.name for p in self.versions.glob("v*")), reverse=True):
                if older == name:
                    continue
                try:
                    return self._load_version(older, expected)
                except (OSError, ValueError, KeyError, RuntimeError):
                    continue
            raise IndexMismatch(
                f"index version {name} is damaged ({exc}) and no intact older version exists; "
                "run `rag ingest` to rebuild"
            ) from exc

    def _load_version(self, name: str, expected: dict[str, Any]) -> IndexData:
        path = self.versions / name
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(
                f"index format {manifest.get('format_version')} != {FORMAT_VERSION}; "
                "run `rag ingest` to rebuild"
            )
        recorded = {**RECORDED_BEFORE, **manifest}
        diffs = [
            f"{key}: index has {recorded.get(key)!r}, settings want {value!r}"
            for key, value in expected.items()
            if recorded.get(key) != value
        ]
        if diffs:
            raise IndexMismatch(
                "index does not match settings (" + "; ".join(diffs) + "); run `rag ingest` "
                "to rebuild it with the current settings"
            )
        for file_name, sha in manifest["files"].items():
            if sha256_file(path / file_name) != sha:
                raise ValueError(f"{file_name} does not match its manifest checksum")
        documents = {}
        for row in _read_jsonl(path / "documents.jsonl"):
            documents[row["doc_id"]] = Document(
                doc_id=row["doc_id"],
                text=row["text"],
                meta=DocMeta.from_json(row["meta"]),
                source_path=row.get("source_path"),
                sha256=row["sha256"],
                pages=tuple(row.get("pages") or ()),
            )
        chunks = [Chunk.from_json(r) for r in _read_jsonl(path / "chunks.jsonl")]
        sentences = [Sentence.from_json(r) for r in _read_jsonl(path / "sentences.jsonl")]
        index = faiss.read_index(str(path / "chunks.faiss"))
        sentence_vectors = np.load(path / "sentences.npy", allow_pickle=False)
        if index.ntotal != len(chunks) or len(sentence_vectors) != len(sentences):
            raise ValueError("vector counts do not match chunk/sentence counts")
        if "chunks.npy" in manifest["files"]:
            # Memory-mapped: filtered search and re-scoring touch few rows; the ANN index is
            # what must be resident.
            chunk_vectors = np.load(path / "chunks.npy", mmap_mode="r", allow_pickle=False)
        else:
            chunk_vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else None
        params = {key: recorded[key] for key in expected}
        return IndexData(
            params=params,
            documents=documents,
            chunks=chunks,
            sentences=sentences,
            chunk_vectors=(
                chunk_vectors
                if chunk_vectors is not None
                else np.zeros((0, int(params["dim"])), dtype=np.float32)
            ),
            sentence_vectors=sentence_vectors,
            version=name,
            faiss_index=index,
        )
