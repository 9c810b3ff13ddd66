"""The pieces of verification: sentences, markers, numbers, names, quotations."""

from __future__ import annotations

import pytest

from rag.claim_facts import names_in, numbers_in, ordinals_in, quotations_in
from rag.generate import _with_markers
from rag.generated_text import SentenceBuffer, parse_markers, split_sentences

ANSWER = (
    "The bridge reopened on March 3, 2025 [1]. It cost 48.5 million dollars, per Mr. Reyes. [2]"
    "\nThe U.S. ambassador attended [3][4]! Did anyone object?\n- Tolls stay at $2 [1]\n"
    "According to Dr. Lopez (4 March 2025), e.g. cyclists cross free [2].\n"
    "2. The deck was resurfaced in 2024. [1]"
)


def test_sentences_keep_markers_and_skip_abbreviations_and_decimals() -> None:
    assert split_sentences(ANSWER) == [
        "The bridge reopened on March 3, 2025 [1].",
        "It cost 48.5 million dollars, per Mr. Reyes. [2]",
        "The U.S. ambassador attended [3][4]!",
        "Did anyone object?",
        "- Tolls stay at $2 [1]",
        "According to Dr. Lopez (4 March 2025), e.g. cyclists cross free [2].",
        "2. The deck was resurfaced in 2024. [1]",
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_streamed_pieces_give_the_same_sentences(size: int) -> None:
    buffer = SentenceBuffer()
    out: list[str] = []
    for i in range(0, len(ANSWER), size):
        out += buffer.feed(ANSWER[i : i + size])
    out += buffer.flush()
    assert out == split_sentences(ANSWER)


def test_a_sentence_is_released_only_once_its_markers_are_complete() -> None:
    buffer = SentenceBuffer()
    assert buffer.feed("The bridge reopened. [") == []
    assert buffer.feed("1] It") == ["The bridge reopened. [1]"]
    assert buffer.flush() == ["It"]


@pytest.mark.parametrize(
    ("sentence", "text", "numbers"),
    [
        ("It reopened [1].", "It reopened.", [1]),
        ("It reopened [1, 3] and closed [2].", "It reopened and closed.", [1, 3, 2]),
        ("It reopened [1-3].", "It reopened.", [1, 2, 3]),
        ("It reopened [Source 2][source 4].", "It reopened.", [2, 4]),
        ("It reopened [1][1].", "It reopened.", [1]),
        ("- It reopened [1]", "It reopened", [1]),
        ("2. It reopened [1]", "It reopened", [1]),
        ("It cost [about] 5.", "It cost [about] 5.", []),
    ],
)
def test_markers(sentence: str, text: str, numbers: list[int]) -> None:
    assert parse_markers(sentence) == (text, numbers)


def test_numbers_are_normalised() -> None:
    assert numbers_in("On the 3rd, seven of 1,200 (12%) paid $1.6 billion in 2025.") == {
        "3",
        "7",
        "1200",
        "12",
        "1.6",
        "2025",
    }
    assert numbers_in("Article 09 and twenty cables") == {"9", "20"}


def test_names_skip_the_first_word_months_and_prompt_words() -> None:
    assert names_in("Armenia and Azerbaijan met in March, Source 2 says, at Harbor Bridge.") == [
        "Azerbaijan",
        "Harbor",
        "Bridge",
    ]
    assert names_in("“Reyes said so,” wrote PWNED.") == ["PWNED"]


def test_quotations_of_three_words_or_more() -> None:
    assert quotations_in('He called it "a triumph of engineering" and “fine”.') == [
        "a triumph of engineering"
    ]


def test_markers_go_before_the_final_stop() -> None:
    assert _with_markers("It reopened in 2025.", [2, 1, 2]) == "It reopened in 2025 [2][1]."
    assert _with_markers("It reopened", [1]) == "It reopened [1]"
    assert _with_markers('He said "fine."', [1]) == 'He said "fine." [1]'


def test_ordinals_as_words_or_digits() -> None:
    assert ordinals_in("the second war, the 11th draft, the 3rd of May, secondly") == {
        "2nd",
        "11th",
        "3rd",
    }
