"""Corpus statistics over the indexed sentences: term idf, term bags, source recency."""

from __future__ import annotations

import math
from collections import Counter

from rag.chunking import Sentence
from rag.documents import meta_text
from rag.index_data import IndexData
from rag.text import terms


class SentenceIdf:
    """Inverse document frequency of terms over the indexed sentences."""

    def __init__(self, data: IndexData) -> None:
        self.sentence_terms: dict[int, frozenset[str]] = {}
        df: Counter[str] = Counter()
        meta = {d: frozenset(terms(meta_text(doc.meta))) for d, doc in data.documents.items()}
        for sent in data.sentences:
            doc = data.documents[sent.doc_id]
            bag = frozenset(terms(doc.text[sent.start : sent.end]))
            df.update(bag)
            # A sentence also "mentions" its source's title, outlet and authors.
            self.sentence_terms[sent.sent_id] = bag | meta[sent.doc_id]
        self.by_id = {s.sent_id: s for s in data.sentences}
        labels: dict[str, Counter[str]] = {}
        for sent in data.sentences:
            for label, text in sent.entities:
                labels.setdefault(text.casefold(), Counter())[label] += 1
        # What the collection usually calls a name: "Yerevan" is a GPE even where the tagger
        # once read it as a PERSON.
        self.usual_label = {
            text: counts.most_common(1)[0][0]
            for text, counts in labels.items()
            if sum(counts.values()) >= 3
            and counts.most_common(1)[0][1] >= 0.6 * sum(counts.values())
        }
        self._texts = {
            s.sent_id: data.documents[s.doc_id].text[s.start : s.end] for s in data.sentences
        }
        self.row_of = {s.sent_id: i for i, s in enumerate(data.sentences)}
        # 1.0 for the newest source, 0.0 for the oldest (undated sources count as oldest).
        dates = sorted({d.meta.date or "" for d in data.documents.values()})
        span = max(1, len(dates) - 1)
        self.recency = {
            doc_id: dates.index(doc.meta.date or "") / span
            for doc_id, doc in data.documents.items()
        }
        n = max(1, len(data.sentences))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.default_idf = math.log(1 + n)
        self.vocabulary = frozenset(df)

    def weight(self, term: str) -> float:
        """idf of a term; unseen terms weigh the most."""
        return self.idf.get(term, self.default_idf)

    def text_of(self, sentence: Sentence) -> str:
        """The sentence's text."""
        return self._texts[sentence.sent_id]
