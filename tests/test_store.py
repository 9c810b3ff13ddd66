"""Index persistence: save/load, settings mismatch, atomic rebuild, incremental updates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag import store as store_mod
from rag.chunking import SentenceSplitter
from rag.config import Settings
from rag.documents import load_documents
from rag.embedding import HashEmbedder, Vectors
from rag.errors import IndexMismatch, NotFound
from rag.pipeline import Pipeline

from .conftest import DATA, make_settings
from .support import FakeSplitter


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return super().embed(texts)


@pytest.fixture
def splitter() -> SentenceSplitter:
    """Persistence reads no spaCy sentence or entity: the rule-based splitter (overrides
    conftest's)."""
    return FakeSplitter()


def test_save_load_round_trip(small_pipeline: Pipeline, small_settings: Settings) -> None:
    before = small_pipeline.loaded.data
    fresh = Pipeline(small_settings)
    after = fresh.loaded.data
    assert after.version == before.version
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert (after.chunk_vectors == before.chunk_vectors).all()
    manifest = small_settings.paths.index_dir / "versions" / after.version / "manifest.json"
    assert '"model": "hash"' in manifest.read_text()
    for chunk in after.chunks:
        assert after.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    pipeline = Pipeline(make_settings(tmp_path / "none", DATA, embedding={"model": "hash"}))
    with pytest.raises(NotFound, match="rag ingest"):
        _ = pipeline.loaded


def test_mismatched_settings_are_refused_with_what_to_rebuild(
    small_pipeline: Pipeline, small_settings: Settings
) -> None:
    other = small_settings.with_overrides({"chunking.max_tokens": "100"})
    with pytest.raises(
        IndexMismatch, match=r"max_tokens: index has 180, settings want 100.*rag ingest"
    ):
        _ = Pipeline(other).loaded


def test_corrupted_version_falls_back_to_previous(
    small_pipeline: Pipeline, small_settings: Settings
) -> None:
    first = small_pipeline.loaded.data.version
    small_pipeline.ingest([DATA / "river_park.md"])
    second = small_pipeline.loaded.data.version
    assert second != first
    (small_settings.paths.index_dir / "versions" / second / "chunks.jsonl").write_text("{}\n")
    recovered = Pipeline(small_settings).loaded.data
    assert recovered.version == first


def test_crash_during_build_leaves_previous_index_live(
    small_pipeline: Pipeline, small_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = small_pipeline.loaded.data.version

    def crash(*_: object) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(store_mod.faiss, "write_index", crash)
    with pytest.raises(OSError, match="simulated"):
        small_pipeline.ingest([DATA / "river_park.md"])
    monkeypatch.undo()
    reloaded = Pipeline(small_settings).loaded.data
    assert reloaded.version == live
    assert len(reloaded.documents) == 2
    leftovers = list((small_settings.paths.index_dir / "versions").glob(".tmp-*"))
    assert leftovers == []


def test_adding_and_removing_a_document_embeds_only_that_document(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "idx", DATA, embedding={"model": "hash"})
    counter = CountingEmbedder()
    pipeline = Pipeline(settings, embedder=counter, splitter=FakeSplitter())
    pipeline.ingest([DATA / "harbor_bridge.txt"])
    first = len(counter.texts)
    assert first > 0
    park = load_documents([DATA])[1]
    pipeline.add_document(park)
    added = counter.texts[first:]
    assert added and all("Harbor Bridge reopened" not in t for t in added)
    assert all(t in park.text or "River Park" in t for t in added)
    n = len(counter.texts)
    pipeline.remove_document("river_park.md")
    assert len(counter.texts) == n  # removal embeds nothing
    data = pipeline.loaded.data
    assert set(data.documents) == {"harbor_bridge.txt"}
    assert all(c.doc_id == "harbor_bridge.txt" for c in data.chunks)
    assert data.faiss_index.ntotal == len(data.chunks)
    hits = pipeline.search("River Park parking garage").results
    assert all(h.doc_id != "river_park.md" for h in hits)


def test_a_second_process_sees_new_versions(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "idx", DATA, embedding={"model": "hash"}).with_overrides(
        {"paths.reload_interval_s": "0.01"}
    )
    writer = Pipeline(settings, splitter=FakeSplitter())
    writer.ingest([DATA / "harbor_bridge.txt"])
    reader = Pipeline(settings)
    assert set(reader.loaded.data.documents) == {"harbor_bridge.txt"}
    writer.add_document(load_documents([DATA])[1])
    import time

    time.sleep(0.02)
    assert set(reader.loaded.data.documents) == {"harbor_bridge.txt", "river_park.md"}


def test_optional_embedder_is_never_downloaded_at_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embedding import resolve_model_path
    from rag.errors import InvalidInput

    monkeypatch.chdir(tmp_path)  # no models/ here
    with pytest.raises(InvalidInput, match="make mpnet"):
        resolve_model_path("all-mpnet-base-v2")
    with pytest.raises(InvalidInput, match="never downloaded"):
        resolve_model_path("sentence-transformers/some-hub-model")
