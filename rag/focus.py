"""Whether a quoted value is about what the question asks: the question's words around it.

"how many people died in the airline crash" is not answered by "100,000 people fled": the
count is of the right kind, but "died", "airline" and "crash" are nowhere near it. The focus of
a span is the weighted share of the question's content words it covers - literally, as another
form of the word, or by a word of close meaning ("assistance" for "aid") - where a word weighs
by its rarity in the collection and in English (so "going" or "actually" barely count). The
words that name what is asked for ("which <region>", "how many", "what date") are left out:
the value itself answers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from rag.phrase_vectors import PhraseSimilarity, Similarity
from rag.question import Question
from rag.scoring import has_term
from rag.text import terms
from rag.value_patterns import NUMBERS

# words that only say what kind of answer is wanted (and wh-words that survive as "what's")
_KIND_WORDS = frozenset(
    terms("date name kind type sort year month day time money amount number figure sum")
) | {
    "what",
    "who",
    "which",
}
NEAR = 0.5  # word cosine (MiniLM) below which two words are unrelated
SAME = 0.75  # and above which one stands for the other


@lru_cache(maxsize=65536)
def informativeness(word: str) -> float:
    """1 for a rare English word ("brandy", "airline"), down to 0.1 for the most common
    ("going", "get"): a question's filler words shouldn't decide what it is about."""
    from wordfreq import zipf_frequency

    return min(1.0, max(0.1, (7.0 - zipf_frequency(word, "en")) / 4.0))


def asked_terms(question: Question) -> tuple[str, ...]:
    """The question's content words, without those naming the kind of value it asks for.

    A noun the value instances ("which <region>": "Meghri") is answered by the value itself;
    a quantity's noun ("the <population> of Baku", "what did the road <cost>") is not: the
    number must stand by it."""
    expects = question.expects
    named = expects.target is not None or not (expects.labels & NUMBERS)
    head = expects.head if named else None
    # the noun the value instances is answered by it, not that noun's modifiers: "which
    # <yerevan football> club" still asks about Yerevan and football
    target = expects.target.split()[-1] if expects.target else None
    kind_words = " ".join(w for w in (expects.wh, head, target) if w)
    skip = set(terms(kind_words)) | _KIND_WORDS
    return tuple(t for t in question.terms if t not in skip)


def tabled(similar: PhraseSimilarity, words: Iterable[str], targets: Iterable[str]) -> Similarity:
    """``similar`` computed once for every pair of ``words`` and ``targets`` (one matrix
    product): for scoring many spans whose words overlap against one question (words outside
    the table score 0)."""
    vocab = sorted({w for w in words if w.isalpha()})
    wanted = list(dict.fromkeys(targets))
    cos = similar.matrix(vocab, wanted) if vocab and wanted else None
    table = {
        t: dict(zip(vocab, cos[:, j].tolist(), strict=True)) if cos is not None else {}
        for j, t in enumerate(wanted)
    }

    def lookup(phrases: Sequence[str], target: str) -> list[float]:
        row = table.get(target)
        if row is None:
            return similar(phrases, target)
        return [row.get(p, 0.0) for p in phrases]

    return lookup


def focus(
    question: Question,
    span_terms: Iterable[str],
    weight: Callable[[str], float],
    similar: Similarity | None = None,
    enough: float = 1.0,
) -> float:
    """Weighted share of the question's words that ``span_terms`` cover (1.0: no words).
    Words of close meaning are only looked for while the literal share is below ``enough``
    (the caller's threshold): they can only raise it."""
    asked = asked_terms(question)
    if not asked:
        return 1.0
    bag = frozenset(span_terms)
    weights = {t: weight(t) * informativeness(t) for t in asked}
    cover = {t: 1.0 for t in asked if has_term(t, bag)}
    missing = [t for t in asked if t not in cover]
    total = sum(weights.values())
    literal = sum(weights[t] for t in cover) / total if total else 1.0
    if missing and similar is not None and bag and literal < enough:
        words = sorted(w for w in bag if w.isalpha())
        for t in missing:
            best = max(similar(words, t), default=0.0) if words else 0.0
            cover[t] = min(1.0, max(0.0, (best - NEAR) / (SAME - NEAR)))
    return sum(w * cover.get(t, 0.0) for t, w in weights.items()) / total if total else 1.0
