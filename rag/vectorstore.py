"""Dense vector search behind one interface: FAISS in process (default) or a shared Milvus.

The index directory stays the source of truth for documents, chunks, BM25 and the exact chunk
vectors. A vector store only answers "nearest chunks to this query vector". FAISS answers from
the index version itself; Milvus holds the vectors once for any number of stateless service
processes, keyed by a hash of each vector, so a new version only inserts what changed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import faiss
import numpy as np
import numpy.typing as npt

from rag.config import VectorStoreSettings
from rag.embedding import Vectors
from rag.errors import IndexMismatch

if TYPE_CHECKING:
    from rag.index_data import IndexData

log = logging.getLogger(__name__)

Keys = npt.NDArray[np.int64]
Ranking = list[tuple[int, float]]  # (chunk row, cosine), best first


class DenseSearch(Protocol):
    """Nearest chunk rows of one loaded index version."""

    def search(self, query: Vectors, k: int) -> Ranking:
        """The ``k`` nearest rows to a normalised query vector."""
        ...


class VectorStore(Protocol):
    """Where the dense search of a published index version runs."""

    name: str

    def prepare(self, data: IndexData) -> None:
        """Before ``data`` goes live: hold a vector for each of its chunks."""
        ...

    def commit(self, data: IndexData) -> None:
        """After ``data`` went live: forget vectors no chunk of it uses."""
        ...

    def searcher(self, data: IndexData) -> DenseSearch:
        """Dense search over ``data``'s chunk rows."""
        ...


# -- FAISS: the index is a file of the version, chosen by collection size ---------------------


def index_kind(n: int, settings: VectorStoreSettings) -> str:
    """Which FAISS index a collection of ``n`` vectors gets: 'flat' (exact) or settings.ann."""
    return "flat" if n < settings.exact_below else settings.ann


def build_faiss_index(vectors: Vectors, settings: VectorStoreSettings | None = None) -> Any:
    """An inner-product index over ``vectors``: exact when small, approximate and compact when
    large (a million 384-d float32 rows are 1.5 GB; 8-bit codes are a quarter of that)."""
    settings = settings or VectorStoreSettings()
    n, dim = vectors.shape
    kind = index_kind(n, settings)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if kind == "flat":
        index: Any = faiss.IndexFlatIP(dim)
    elif kind == "hnsw_sq8":
        index = faiss.index_factory(dim, f"HNSW{settings.hnsw_m},SQ8", faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.hnsw_ef_construction
        index.train(_sample(x, 200_000))
    else:  # ivf_sq8
        # ~4*sqrt(n) cells; never more than n/39, the fewest points per cell k-means accepts.
        nlist = max(1, min(settings.ivf_lists or int(4 * np.sqrt(n)), n // 39))
        index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        index.train(_sample(x, max(40 * nlist, 100_000)))
    if n:
        for start in range(0, n, 100_000):  # bounded temporary memory while adding
            index.add(x[start : start + 100_000])
    tune(index, settings)
    return index


def tune(index: Any, settings: VectorStoreSettings) -> None:
    """Apply the search-time knobs (they are not part of the built index)."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = settings.hnsw_ef_search
    if hasattr(index, "nprobe"):
        index.nprobe = settings.ivf_probes


def describe(index: Any) -> str:
    """A short name for an index, e.g. 'IndexIVFScalarQuantizer(nlist=4000, nprobe=32)'."""
    name = type(index).__name__
    if hasattr(index, "hnsw"):
        return f"{name}(ef_search={index.hnsw.efSearch})"
    if hasattr(index, "nprobe"):
        return f"{name}(nlist={index.nlist}, nprobe={index.nprobe})"
    return name


def is_exact(index: Any) -> bool:
    """Whether ``index`` stores the vectors losslessly (reconstruct gives them back exactly)."""
    return isinstance(index, faiss.IndexFlat)


def _sample(x: Vectors, limit: int) -> Vectors:
    if len(x) <= limit:
        return x
    rows = np.random.default_rng(0).choice(len(x), size=limit, replace=False)
    out: Vectors = x[np.sort(rows)]
    return out


class FaissSearch:
    """Dense search with the version's own FAISS index."""

    def __init__(self, index: Any, exact: Vectors | None = None, rerank: int = 1) -> None:
        self.index = index
        # 8-bit codes blur near-ties: re-score a few more candidates with the exact vectors.
        self.exact = exact if rerank > 1 and not is_exact(index) else None
        self.rerank = rerank

    def search(self, query: Vectors, k: int) -> Ranking:
        """Top ``k`` rows by inner product (cosine: vectors are normalised)."""
        n = int(self.index.ntotal)
        if n == 0 or k <= 0:
            return []
        fetch = min(n, k * self.rerank if self.exact is not None else k)
        scores, rows = self.index.search(query.reshape(1, -1), fetch)
        found = rows[0][rows[0] >= 0]
        if self.exact is None:
            return [(int(r), float(s)) for r, s in zip(found, scores[0], strict=False)]
        found = np.sort(found)  # ascending rows: sequential reads from a memory-mapped file
        exact = np.asarray(self.exact[found] @ query.reshape(-1), dtype=np.float32)
        return [(int(found[i]), float(exact[i])) for i in np.argsort(-exact)[:k]]


class FaissStore:
    """The embedded default: nothing outside the index directory."""

    name = "faiss"

    def __init__(self, settings: VectorStoreSettings) -> None:
        self.settings = settings

    def prepare(self, data: IndexData) -> None:
        """Nothing to do: the FAISS index is written with the version."""

    def commit(self, data: IndexData) -> None:
        """Nothing to do: old versions are pruned with their index files."""

    def searcher(self, data: IndexData) -> DenseSearch:
        """The version's FAISS index, with this process's search-time settings."""
        tune(data.faiss_index, self.settings)
        return FaissSearch(data.faiss_index, data.chunk_vectors, self.settings.rerank)


# -- Milvus: one shared collection, keyed by vector content -----------------------------------


def vector_keys(vectors: Vectors) -> Keys:
    """A positive 63-bit key per row from a hash of its float32 bytes: same vector, same key."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    keys = np.empty(len(x), dtype=np.int64)
    for i, row in enumerate(x):
        digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF
    return keys


def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MilvusSearch:
    """Dense search in a Milvus collection, mapped back to this version's chunk rows."""

    def __init__(self, store: MilvusStore, rows_of: dict[int, list[int]]) -> None:
        self.store = store
        self.rows_of = rows_of

    def search(self, query: Vectors, k: int) -> Ranking:
        """Top ``k`` rows; keys this version does not hold (a newer version's) are skipped."""
        if not self.rows_of or k <= 0:
            return []
        # Over-fetch: during a switch the collection briefly holds another version's chunks too.
        limit = min(16_384, 2 * k + 8)
        out: Ranking = []
        for key, score in self.store.nearest(query, limit):
            for row in self.rows_of.get(key, ()):
                out.append((row, score))
            if len(out) >= k:
                break
        return out[:k]


class MilvusStore:
    """Chunk vectors in a Milvus collection shared by every service process.

    ``uri`` is a Milvus server (``http://host:19530``) or, for one process only, a milvus-lite
    data path ending in ``.db``. One writer (the ingesting process) calls prepare/commit.
    """

    name = "milvus"

    def __init__(self, settings: VectorStoreSettings) -> None:
        if not settings.milvus_uri:
            raise IndexMismatch(
                "vector_store.backend is 'milvus' but vector_store.milvus_uri is empty; set "
                "RAG_VECTOR_STORE__MILVUS_URI (e.g. http://127.0.0.1:19530)"
            )
        self.settings = settings
        self.collection = settings.milvus_collection
        self._client: Any = None
        self._dim: int | None = None

    @property
    def client(self) -> Any:
        """The pymilvus client, connected on first use."""
        if self._client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise IndexMismatch(
                    "vector_store.backend is 'milvus' but pymilvus is not installed; "
                    "pip install 'peace-rag[milvus]'"
                ) from exc
            token = self.settings.milvus_token
            self._client = MilvusClient(
                uri=self.settings.milvus_uri,
                token=token.get_secret_value() if token else "",
                timeout=self.settings.milvus_timeout_s,
            )
        return self._client

    def _ensure(self, dim: int) -> None:
        if self._dim == dim:
            return
        client = self.client
        if not client.has_collection(self.collection):
            from pymilvus import DataType, MilvusClient

            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("key", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            index = client.prepare_index_params()
            index.add_index(
                field_name="vector",
                index_type="HNSW",
                metric_type="IP",
                params={"M": self.settings.hnsw_m, "efConstruction": 128},
            )
            client.create_collection(self.collection, schema=schema, index_params=index)
        else:
            fields = client.describe_collection(self.collection).get("fields", [])
            have = next(
                (f.get("params", {}).get("dim") for f in fields if f.get("name") == "vector"), None
            )
            if have is not None and int(have) != dim:
                raise IndexMismatch(
                    f"Milvus collection {self.collection!r} holds {have}-d vectors; the index "
                    f"has {dim}-d: use another vector_store.milvus_collection"
                )
        self._dim = dim

    def _existing(self, keys: list[int]) -> set[int]:
        found: set[int] = set()
        for batch in _batches(keys, 1000):
            rows = self.client.query(
                self.collection, filter=f"key in {batch}", output_fields=["key"]
            )
            found.update(int(r["key"]) for r in rows)
        return found

    def _all_keys(self) -> set[int]:
        keys: set[int] = set()
        iterator = self.client.query_iterator(
            self.collection, batch_size=4096, filter="", output_fields=["key"]
        )
        try:
            while batch := iterator.next():
                keys.update(int(r["key"]) for r in batch)
        finally:
            iterator.close()
        return keys

    def prepare(self, data: IndexData) -> None:
        """Insert the vectors of chunks the collection does not hold yet (new or changed)."""
        vectors = data.chunk_vectors
        self._ensure(int(vectors.shape[1]))
        keys = vector_keys(vectors)
        first = {int(k): i for i, k in reversed(list(enumerate(keys)))}
        missing = sorted(set(first) - self._existing(list(first)))
        t0 = time.perf_counter()
        for batch in _batches(missing, 1000):
            self.client.insert(
                self.collection,
                [{"key": k, "vector": vectors[first[k]].tolist()} for k in batch],
            )
        if missing:
            # Sealed segments are searched through the ANN index; growing ones by brute force.
            self.client.flush(self.collection)
        log.info(
            "milvus: %d of %d chunk vectors inserted in %.2f s",
            len(missing),
            len(first),
            time.perf_counter() - t0,
        )

    def commit(self, data: IndexData) -> None:
        """Delete vectors that no chunk of the now-live version uses."""
        self._ensure(int(data.chunk_vectors.shape[1]))
        live = {int(k) for k in vector_keys(data.chunk_vectors)}
        stale = sorted(self._all_keys() - live)
        for batch in _batches(stale, 1000):
            self.client.delete(self.collection, ids=batch)
        if stale:
            log.info("milvus: %d stale chunk vectors deleted", len(stale))

    def count(self) -> int:
        """Vectors in the collection."""
        stats = self.client.get_collection_stats(self.collection)
        return int(stats.get("row_count", 0))

    def nearest(self, query: Vectors, limit: int) -> list[tuple[int, float]]:
        """(key, inner product) of the nearest vectors in the collection."""
        result = self.client.search(
            self.collection,
            data=[np.asarray(query, dtype=np.float32).reshape(-1).tolist()],
            limit=limit,
            anns_field="vector",
            output_fields=["key"],
            search_params={
                "metric_type": "IP",
                "params": {"ef": max(self.settings.hnsw_ef_search, limit)},
            },
        )
        return [(int(hit["key"]), float(hit["distance"])) for hit in result[0]]

    def searcher(self, data: IndexData) -> DenseSearch:
        """Search the shared collection; results map back to ``data``'s rows by vector key."""
        rows_of: dict[int, list[int]] = {}
        for row, key in enumerate(vector_keys(data.chunk_vectors)):
            rows_of.setdefault(int(key), []).append(row)
        if rows_of:
            self._ensure(int(data.chunk_vectors.shape[1]))
            held = self.count()
            if held < len(rows_of):
                log.warning(
                    "milvus collection %r holds %d vectors, the index %d: run `rag ingest` "
                    "with vector_store.backend=milvus to publish them",
                    self.collection,
                    held,
                    len(rows_of),
                )
        return MilvusSearch(self, rows_of)


def make_vector_store(settings: VectorStoreSettings) -> VectorStore:
    """The configured backend (nothing connects until first use)."""
    if settings.backend == "milvus":
        return MilvusStore(settings)
    return FaissStore(settings)
