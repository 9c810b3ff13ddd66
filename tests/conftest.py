"""Shared fixtures: a small real collection with the hash embedder, and the seed collection
with the real all-MiniLM-L6-v2 model (built once per session). Helpers that are not fixtures
(live servers, fakes) are in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.chunking import SentenceSplitter, SpacySplitter  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DATA = Path(__file__).resolve().parent / "data"


def make_settings(
    index_dir: Path, seeds_dir: Path = SEEDS, **groups: dict[str, object]
) -> Settings:
    """Settings for a test: its own index directory, nothing from the environment."""
    data: dict[str, object] = {
        "paths": {"seeds_dir": str(seeds_dir), "index_dir": str(index_dir)},
        # Tests run the service in the explicit local-only mode unless they set a token.
        "service": {"local_only": True},
        # Tests hammer /ask from one client; the rate limiter has its own tests.
        "limits": {"rate_limit": ""},
    }
    data.update(groups)
    return Settings.model_validate(data)


def with_service(settings: Settings, **changes: object) -> Settings:
    """A copy of ``settings`` with some service settings changed (validated)."""
    service = settings.service.model_dump() | changes
    return settings.model_copy(update={"service": type(settings.service).model_validate(service)})


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    """Hash embedder over tests/data: fast, deterministic."""
    return make_settings(tmp_path / "index", DATA, embedding={"model": "hash"})


@pytest.fixture
def splitter() -> SentenceSplitter:
    """small_pipeline's sentence splitter: spaCy, as in production. A test module that reads
    neither spaCy's sentence boundaries nor its entities overrides this fixture with
    ``tests.support.FakeSplitter`` and loads no language model."""
    return SpacySplitter()


@pytest.fixture
def small_pipeline(small_settings: Settings, splitter: SentenceSplitter) -> Pipeline:
    """A pipeline with tests/data ingested."""
    pipeline = Pipeline(small_settings, splitter=splitter)
    pipeline.ingest([DATA])
    return pipeline


@pytest.fixture(scope="session")
def seed_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The five seed articles with the real embedding model."""
    settings = make_settings(tmp_path_factory.mktemp("seed-index"))
    pipeline = Pipeline(settings)
    pipeline.ingest([SEEDS])
    pipeline.load()
    yield pipeline
