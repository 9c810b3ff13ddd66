"""The sentence-transformers model on ONNX Runtime: tokenizers + onnxruntime + numpy, no torch.

Same tokenizer (the model's own tokenizer.json), same truncation (its max_seq_length), same
pooling and normalisation as sentence-transformers; cosine to the torch vectors is 1.0000 for
the float graph and >= 0.98 for int8 (tests/test_onnx_embedder.py states both).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.onnx_export import ModelSpec
from rag.vectors import Vectors, normalise


def pad_id(tokenizer: Any, source: Path) -> int:
    """The id of the model's padding token (0 for BERT's [PAD], 1 for MPNet's <pad>)."""
    special = source / "special_tokens_map.json"
    token: Any = "[PAD]"
    if special.is_file():
        token = json.loads(special.read_text(encoding="utf-8")).get("pad_token", token)
    if isinstance(token, dict):
        token = token.get("content", "[PAD]")
    found = tokenizer.token_to_id(str(token))
    return int(found) if found is not None else 0


class OnnxEmbedder:
    """One exported graph in an ONNX Runtime session on the CPU."""

    def __init__(
        self, name: str, graph: Path, spec: ModelSpec, batch_size: int = 32, threads: int = 0
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.batch_size = batch_size
        self._spec = spec
        tokenizer = Tokenizer.from_file(str(spec.source / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=spec.max_seq_length)
        tokenizer.no_padding()  # padded per batch below, to the batch's longest text
        self._tokenizer = tokenizer
        self._pad_id = pad_id(tokenizer, spec.source)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per physical core
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in batches of similar length (less padding), in their own order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._pooled([encodings[i] for i in rows])
        return normalise(out) if self._spec.normalize else out

    def _pooled(self, encodings: list[Any]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        with self._lock:  # 2 cores: serialise rather than oversubscribe
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        if self._spec.pooling == "cls":
            return np.asarray(hidden[:, 0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        return np.asarray(summed / np.clip(weights.sum(axis=1), 1e-9, None), dtype=np.float32)
