"""Follow-up detection and rewriting (pure functions; spaCy's small model, no embeddings)."""

from __future__ import annotations

import pytest

from rag.conversation import check_history, is_follow_up, rewrite, spacy_phrases
from rag.errors import InvalidInput
from rag.schemas import ChatTurn


def _history(*questions: str) -> list[ChatTurn]:
    turns = []
    for q in questions:
        turns.append(ChatTurn(role="user", content=q))
        turns.append(ChatTurn(role="assistant", content="According to someone: something. [1]"))
    return turns


@pytest.mark.parametrize(
    "question",
    [
        "Has it been implemented?",
        "And what did Turkey promise?",
        "When was that signed?",
        "What about Azerbaijan?",
        "What does this mean for Russia?",
        "What did they agree?",
        "Why?",
        "Who signed?",
        "What happened then?",
    ],
)
def test_follow_ups_are_detected(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "When did AzerTelecom and Telecom Armenia sign their agreement?",
        "What did Armenia and Turkey agree on July 1, 2022?",
        "What is a good banana bread recipe?",
        "Who wrote the War on the Rocks article?",
    ],
)
def test_standalone_questions_are_left_alone(question: str) -> None:
    assert not is_follow_up(question)
    assert rewrite(question, _history("Has the border opened?"), spacy_phrases) is None


def test_no_history_means_no_rewrite() -> None:
    assert rewrite("Has it been implemented?", [], spacy_phrases) is None


def test_pronoun_follow_up_carries_the_previous_entities() -> None:
    history = _history("What did Armenia and Turkey agree on July 1, 2022?")
    rewritten = rewrite("Has it been implemented?", history, spacy_phrases)
    assert rewritten is not None
    assert rewritten.startswith("Has it been implemented")
    for needed in ("Armenia", "Turkey", "July 1, 2022"):
        assert needed in rewritten


def test_leading_and_is_dropped_and_context_added() -> None:
    history = _history("What did Armenia and Turkey agree on July 1, 2022?")
    rewritten = rewrite("And what did Turkey promise?", history, spacy_phrases)
    assert rewritten is not None
    assert rewritten.startswith("What did Turkey promise")
    assert "Armenia" in rewritten and rewritten.endswith("?")


def test_a_chain_of_follow_ups_keeps_the_original_topic() -> None:
    history = _history(
        "When did AzerTelecom and Telecom Armenia sign their agreement?", "What does it allow?"
    )
    rewritten = rewrite("When was that signed?", history, spacy_phrases)
    assert rewritten is not None
    assert rewritten.startswith("When was that signed")
    assert "AzerTelecom" in rewritten and "Telecom Armenia" in rewritten


def test_what_about_swaps_the_entity_of_the_same_kind() -> None:
    history = _history("When did Armenia ratify the treaty?")
    assert (
        rewrite("What about Azerbaijan?", history, spacy_phrases)
        == "When did Azerbaijan ratify the treaty?"
    )


def test_only_user_turns_are_read() -> None:
    history = [
        ChatTurn(role="user", content="When did AzerTelecom and Telecom Armenia sign it?"),
        ChatTurn(role="assistant", content="According to The Jamestown Foundation: Moscow."),
    ]
    rewritten = rewrite("What does it allow?", history, spacy_phrases)
    assert rewritten is not None
    assert "AzerTelecom" in rewritten and "Jamestown" not in rewritten and "Moscow" not in rewritten


def test_rewrite_is_pure_given_an_analyzer() -> None:
    from rag.conversation import Phrase

    def fake(text: str) -> tuple[Phrase, ...]:
        i = text.find("Harbor Bridge")
        return (Phrase("Harbor Bridge", "FAC", i, i + 13),) if i >= 0 else ()

    history = _history("How many cables does the Harbor Bridge have?")
    assert rewrite("When was it built?", history, fake) == ("When was it built (Harbor Bridge)?")


def test_history_limits() -> None:
    check_history(_history("a", "b"), max_turns=4, max_chars=100)
    with pytest.raises(InvalidInput, match="history has 6 turns; the limit is 4"):
        check_history(_history("a", "b", "c"), max_turns=4, max_chars=100)
    with pytest.raises(InvalidInput, match=r"history\[0\].content is 101 characters"):
        check_history([ChatTurn(role="user", content="x" * 101)], max_turns=4, max_chars=100)
