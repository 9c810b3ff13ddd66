"""A packaged sentence-transformers model exported to ONNX here, once, and cached with checksums.

Nothing is downloaded: the transformer is traced from the local weights with ``torch.onnx``
(opset 17) and, for ``onnx-int8``, quantised by ONNX Runtime's dynamic quantiser. The cache is a
directory per model::

    <onnx_dir>/<model name>/
        model.onnx         float32 graph: (input_ids, attention_mask) -> last_hidden_state
        model-int8.onnx    int8 weights, per output channel (activations quantised at run time)
        export.json        the source weights (size, mtime, sha256), the exporters' versions,
                           pooling, normalisation, max length and each file's sha256

Loading a cached export needs no torch: `cached_export` checks the record against the source
weights (a fresh sha256 only when their size or mtime moved) and the file against its checksum.
Pooling and normalisation happen in `rag.onnx_embedder`, in numpy, as sentence-transformers
does them.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rag.checksums import sha256_file
from rag.errors import InvalidInput

OPSET = 17
FILES = {"onnx": "model.onnx", "onnx-int8": "model-int8.onnx"}
EXPORT_RECORD = "export.json"
# Per output channel, every op the quantiser supports: on MiniLM this keeps cosine to the
# float model at 0.989 min / 0.993 mean over 128 questions and passages; per-tensor gives
# 0.94 / 0.96 (measured in session 7, see docs/benchmarks.md).
QUANTISATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": False}


@dataclass(frozen=True)
class ModelSpec:
    """What the embedder needs beside the graph: how sentence-transformers pools and cuts."""

    source: Path  # the model directory (tokenizer.json, weights, configs)
    pooling: str  # "mean" or "cls"
    normalize: bool
    max_seq_length: int


def read_spec(source: Path) -> ModelSpec:
    """Pooling, normalisation and length limit from a sentence-transformers model directory."""
    if not (source / "tokenizer.json").is_file():
        raise InvalidInput(
            f"{source} has no tokenizer.json; the ONNX backend needs a fast tokenizer"
        )
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    types = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if types[:2] != ["Transformer", "Pooling"] or any(t != "Normalize" for t in types[2:]):
        raise InvalidInput(
            f"{source}: modules {types} are not Transformer, Pooling[, Normalize]; only that "
            "layout can run on the ONNX backend (use embedding.backend=torch)"
        )
    pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    pool = json.loads((source / pooling_dir / "config.json").read_text(encoding="utf-8"))
    modes = [k for k in ("mean_tokens", "cls_token") if pool.get(f"pooling_mode_{k}")]
    others = [k for k, v in pool.items() if k.startswith("pooling_mode_") and v]
    if len(modes) != 1 or len(others) != 1:
        raise InvalidInput(f"{source}: pooling {others} is not supported on ONNX (mean or cls)")
    config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return ModelSpec(
        source=source,
        pooling="mean" if modes == ["mean_tokens"] else "cls",
        normalize="Normalize" in types,
        max_seq_length=int(config.get("max_seq_length", 512)),
    )


def weights_file(source: Path) -> Path:
    """The model's weights file (safetensors preferred)."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (source / name).is_file():
            return source / name
    raise InvalidInput(f"{source} has neither model.safetensors nor pytorch_model.bin")


def _source_record(weights: Path) -> dict[str, Any]:
    stat = weights.stat()
    return {
        "weights": weights.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": sha256_file(weights),
    }


def _same_source(recorded: dict[str, Any], weights: Path) -> bool:
    stat = weights.stat()
    if recorded.get("size") == stat.st_size and recorded.get("mtime_ns") == stat.st_mtime_ns:
        return True
    # Moved or touched (a reinstall): the content decides.
    return bool(recorded.get("sha256") == sha256_file(weights))


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cache_dir(onnx_dir: Path, model: str) -> Path:
    """Where one model's exports live: a folder named after the model (its last path part)."""
    return onnx_dir / Path(model).name


def cached_export(onnx_dir: Path, model: str, source: Path, backend: str) -> Path | None:
    """The exported graph for ``backend`` if the cache holds a valid one; None otherwise.

    Valid: exported from these very weights, and the file still matches its checksum.
    """
    folder = cache_dir(onnx_dir, model)
    record_path = folder / EXPORT_RECORD
    graph = folder / FILES[backend]
    if not record_path.is_file() or not graph.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _same_source(record.get("source", {}), weights_file(source)):
        return None
    if record.get("files", {}).get(graph.name) != sha256_file(graph):
        return None
    return graph


@contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    """One exporter per model at a time, across processes (a second waits, then reuses)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_atomically(folder: Path, name: str, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export_float(source: Path, out: Path) -> None:
    """Trace the transformer to ONNX with dynamic batch and sequence axes (needs torch)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(source))
    model.eval()

    class Encoder(torch.nn.Module):  # keyword call: positional order differs across versions
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = torch.ones((1, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Encoder(model),
            (example, example),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,
        )


def _quantise(float_graph: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(float_graph),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=bool(QUANTISATION["per_channel"]),
        reduce_range=bool(QUANTISATION["reduce_range"]),
    )


def ensure_export(onnx_dir: Path, model: str, source: Path, backend: str) -> Path:
    """The graph for ``backend``, exporting (and quantising) it first when the cache lacks it."""
    if backend not in FILES:
        raise InvalidInput(f"embedding.backend {backend!r} has no ONNX graph; use {list(FILES)}")
    found = cached_export(onnx_dir, model, source, backend)
    if found is not None:
        return found
    spec = read_spec(source)
    folder = cache_dir(onnx_dir, model)
    with _export_lock(folder):
        found = cached_export(onnx_dir, model, source, backend)  # another process may have finished
        if found is not None:
            return found
        weights = weights_file(source)
        record_path = folder / EXPORT_RECORD
        record: dict[str, Any] = {}
        if record_path.is_file():
            try:
                record = json.loads(record_path.read_text(encoding="utf-8"))
            except ValueError:
                record = {}
        source_record = _source_record(weights)
        files: dict[str, str] = dict(record.get("files", {}))
        if record.get("source", {}).get("sha256") != source_record["sha256"]:
            files = {}  # other weights: nothing cached is theirs
        float_graph = folder / FILES["onnx"]
        recorded = files.get(float_graph.name)
        if recorded is None or not float_graph.is_file() or sha256_file(float_graph) != recorded:
            _replace_atomically(folder, float_graph.name, lambda p: _export_float(source, p))
            files = {float_graph.name: sha256_file(float_graph)}
        if backend == "onnx-int8":
            int8 = folder / FILES["onnx-int8"]
            _replace_atomically(folder, int8.name, lambda p: _quantise(float_graph, p))
            files[int8.name] = sha256_file(int8)
        record = {
            "source": {"path": str(source), **source_record},
            "exporter": {
                "method": f"torch.onnx.export (TorchScript), opset {OPSET}",
                **{pkg: _version(pkg) for pkg in ("torch", "transformers", "onnx", "onnxruntime")},
            },
            "quantisation": QUANTISATION,
            "pooling": spec.pooling,
            "normalize": spec.normalize,
            "max_seq_length": spec.max_seq_length,
            "files": files,
        }
        _replace_atomically(
            folder,
            EXPORT_RECORD,
            lambda p: p.write_text(json.dumps(record, indent=2), encoding="utf-8"),
        )
    graph = cached_export(onnx_dir, model, source, backend)
    if graph is None:
        raise RuntimeError(f"exported {backend} graph under {folder} fails its own checksum")
    return graph
