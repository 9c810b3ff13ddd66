"""Focus: a value answers only if the question's words stand around it."""

from __future__ import annotations

from rag.config import Settings
from rag.embedding import make_embedder
from rag.focus import asked_terms, focus, tabled
from rag.nlp import pos_tags
from rag.phrase_vectors import PhraseSimilarity
from rag.question import analyse
from rag.text import terms


def _weight(term: str) -> float:
    return 1.0


def test_a_count_about_something_else_is_out_of_focus() -> None:
    question = analyse("how many people died in the ferry crash", tags=pos_tags)
    assert "many" not in asked_terms(question)  # the value itself answers "how many"
    other = terms("Approximately 100,000 people fled to the coast in the days that followed.")
    about = terms("The crash of the Lindell ferry killed 38 people in March.")
    assert focus(question, other, _weight) < 0.2 <= focus(question, about, _weight)


def test_words_of_close_meaning_count() -> None:
    similar = PhraseSimilarity(make_embedder(Settings().embedding.model, 32).embed)
    question = analyse("how much aid did the union give the city", tags=pos_tags)
    span = terms("The union gave the city 40 million in assistance last year.")
    assert focus(question, span, _weight, similar) > focus(question, span, _weight)


def test_the_kind_asked_for_is_not_a_word_to_cover() -> None:
    question = analyse("on what date did the ferry line reopen", tags=pos_tags)
    assert "date" not in asked_terms(question)
    assert focus(question, terms("The ferry line reopened on 3 May."), _weight) == 1.0


def test_a_table_of_word_similarities_gives_the_same_focus() -> None:
    similar = PhraseSimilarity(make_embedder(Settings().embedding.model, 32).embed)
    question = analyse("how much aid did the union give the city", tags=pos_tags)
    spans = [
        terms("The union gave the city 40 million in assistance last year."),
        terms("The harbour authority paid for the new quay."),
    ]
    table = tabled(similar, [w for span in spans for w in span], asked_terms(question))
    for span in spans:
        direct = focus(question, span, _weight, similar, enough=1.0)
        assert abs(focus(question, span, _weight, table, enough=1.0) - direct) < 1e-6


def test_the_noun_asked_for_is_answered_by_the_value_but_its_modifiers_are_not() -> None:
    question = analyse("which yerevan football club has the most titles", tags=pos_tags)
    asked = asked_terms(question)
    assert "club" not in asked  # the value names the club
    assert "football" in asked and "yerevan" in asked  # but it must be about football there
    other = terms("Yerevan is violently opposed to this proposed scheme.")
    about = terms("Ararat, a Yerevan football club, has won the most league titles.")
    assert focus(question, other, _weight) < 0.6 < focus(question, about, _weight) == 1.0


def test_words_naming_an_amount_are_kind_words() -> None:
    question = analyse("how much money did the port authority spend", tags=pos_tags)
    assert "money" not in asked_terms(question)  # "48 million dollars" answers it
    span = terms("The port authority will spend 48 million dollars on the new quay.")
    assert focus(question, span, _weight) == 1.0
