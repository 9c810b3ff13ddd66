"""The ONNX backends: same vectors as torch within a stated tolerance, an export cached with
checksums, indexes that record their backend, and a serving path that never imports torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import embedder_name, make_embedder, resolve_model_path
from rag.errors import IndexMismatch
from rag.onnx_export import FILES, cached_export, ensure_export, read_spec
from rag.pipeline import Pipeline
from tests.conftest import DATA, REPO, SEEDS, make_settings

MODEL = "all-MiniLM-L6-v2"
ONNX_DIR = REPO / "models" / "onnx"  # the cache `make run` fills; shared with other tests


def _texts() -> list[str]:
    questions = [
        json.loads(line)["question"]
        for line in (REPO / "eval" / "questions" / "chat.jsonl").read_text().splitlines()[:40]
    ]
    seed = (SEEDS / "002_c7b824baeb8dafed.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in seed.split("\n") if len(p) > 40][:40]
    return questions + paragraphs  # short and long (some past the 256-piece limit)


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return make_embedder(MODEL, 32).embed(_texts())


@pytest.mark.slow
def test_onnx_float_matches_torch(torch_vectors: np.ndarray) -> None:
    embedder = make_embedder(MODEL, 32, "onnx", ONNX_DIR)
    cosines = (embedder.embed(_texts()) * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.99
    assert embedder.name == "all-MiniLM-L6-v2#onnx"
    assert embedder.dim == 384


@pytest.mark.slow
def test_onnx_int8_stays_close_to_torch(torch_vectors: np.ndarray) -> None:
    # int8 weights cost a little fidelity: measured min 0.978, mean 0.993 on these texts.
    embedder = make_embedder(MODEL, 32, "onnx-int8", ONNX_DIR)
    cosines = (embedder.embed(_texts()) * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.95
    assert cosines.mean() >= 0.98


@pytest.mark.slow
def test_batching_and_order_do_not_change_vectors() -> None:
    embedder = make_embedder(MODEL, 4, "onnx", ONNX_DIR)
    texts = _texts()[:12]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_export_is_cached_and_a_damaged_file_is_exported_again(tmp_path: Path) -> None:
    source = Path(resolve_model_path(MODEL))
    if (ONNX_DIR / MODEL).is_dir():  # start from the shared export: no second trace
        shutil.copytree(ONNX_DIR / MODEL, tmp_path / MODEL)
    graph = ensure_export(tmp_path, MODEL, source, "onnx")
    record = json.loads((graph.parent / "export.json").read_text())
    assert record["source"]["sha256"] and record["exporter"]["torch"]
    assert record["pooling"] == "mean" and record["max_seq_length"] == 256
    stamp = graph.stat().st_mtime_ns
    assert ensure_export(tmp_path, MODEL, source, "onnx") == graph
    assert graph.stat().st_mtime_ns == stamp  # reused, not exported again

    with graph.open("r+b") as f:  # flip bytes inside the file: the checksum no longer holds
        f.seek(1000)
        f.write(b"\x00" * 16)
    assert cached_export(tmp_path, MODEL, source, "onnx") is None
    again = ensure_export(tmp_path, MODEL, source, "onnx")
    assert cached_export(tmp_path, MODEL, source, "onnx") == again


def test_model_layout_is_read_from_its_config() -> None:
    spec = read_spec(Path(resolve_model_path(MODEL)))
    assert (spec.pooling, spec.normalize, spec.max_seq_length) == ("mean", True, 256)
    assert set(FILES) == {"onnx", "onnx-int8"}
    assert embedder_name(MODEL, "torch") == MODEL  # torch keeps the names caches were built with
    assert embedder_name("hash", "onnx") == "hash"


def test_index_records_its_backend_and_refuses_another(tmp_path: Path) -> None:
    built = make_settings(tmp_path / "index", DATA, embedding={"model": "hash", "backend": "torch"})
    Pipeline(built).ingest([DATA])
    manifest = next((tmp_path / "index" / "versions").glob("*/manifest.json"))
    assert json.loads(manifest.read_text())["backend"] == "torch"
    other = make_settings(
        tmp_path / "index", DATA, embedding={"model": "hash", "backend": "onnx-int8"}
    )
    with pytest.raises(
        IndexMismatch, match="backend: index has 'torch', settings want 'onnx-int8'"
    ):
        _ = Pipeline(other).loaded


def test_an_index_written_before_backends_were_recorded_loads_as_torch(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "index", DATA, embedding={"model": "hash", "backend": "torch"}
    )
    Pipeline(settings).ingest([DATA])
    manifest = next((tmp_path / "index" / "versions").glob("*/manifest.json"))
    record = json.loads(manifest.read_text())
    del record["backend"]
    manifest.write_text(json.dumps(record))
    assert Pipeline(settings).loaded.data.params["backend"] == "torch"


SERVE_WITHOUT_TORCH = """
import json, sys
from rag.config import Settings
from rag.pipeline import Pipeline
settings = Settings.model_validate(json.loads(sys.argv[1]))
pipeline = Pipeline(settings)
pipeline.ingest([settings.paths.seeds_dir])
pipeline.load()
response = pipeline.ask("when was the internet transit deal signed?")
print(json.dumps({
    "torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")),
    "sentence_transformers": "sentence_transformers" in sys.modules,
    "citations": len(response.citations),
}))
"""


@pytest.mark.slow
def test_serving_on_onnx_imports_no_torch(tmp_path: Path) -> None:
    ensure_export(ONNX_DIR, MODEL, Path(resolve_model_path(MODEL)), "onnx-int8")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "000_3482da4db516eed0.txt", seeds)
    settings = {
        "paths": {
            "seeds_dir": str(seeds),
            "index_dir": str(tmp_path / "index"),
            "onnx_dir": str(ONNX_DIR),
        },
        "embedding": {"backend": "onnx-int8"},
        "answer": {"common_words": 0},
    }
    run = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH, json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {"torch": [], "sentence_transformers": False, "citations": seen["citations"]}
    assert seen["citations"] >= 1
