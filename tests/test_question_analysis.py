"""Question analysis: answer types, counted nouns, periods, dates beyond the collection."""

from __future__ import annotations

import pytest

from rag.chunking import Sentence
from rag.documents import DocMeta
from rag.question import analyse
from rag.schemas import Filters
from rag.scoring import count_near_noun, holds_answer_type
from rag.temporal import after_newest, matches, period_of


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("When did the talks start?", {"DATE", "TIME"}),
        ("In what month and year did the mission deploy?", {"DATE", "TIME"}),
        ("How many villages were handed over?", {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
        ("What was the monetary value of the deal?", {"MONEY"}),
        ("Which article of the statement is disputed?", {"LAW"}),
        ("Who chairs the commission?", {"PERSON", "ORG"}),
        ("Who is the chief executive of the operator?", {"PERSON"}),
        ("How much did the government spend on the road?", {"MONEY"}),
        ("How much land did Baku regain?", {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
        (
            "What bandwidth, in gigabits per second, does it give?",
            {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"},
        ),
        (
            "What is the name of the envoy?",
            {
                "PERSON",
                "ORG",
                "GPE",
                "LOC",
                "FAC",
                "NORP",
                "PRODUCT",
                "EVENT",
                "LAW",
                "WORK_OF_ART",
            },
        ),
        ("Which humanitarian body urged the release?", {"ORG", "NORP"}),
        ("Why does the author oppose the deal?", set()),
    ],
)
def test_expected_answer_types(question: str, labels: set[str]) -> None:
    assert analyse(question).expected == labels


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many Armenian prisoners were released?", "prisoner"),
        ("How many people fled Karabakh?", "people"),
        ("How many points were in the declaration?", "point"),
        ("When was it signed?", None),
    ],
)
def test_counted_noun(question: str, noun: str | None) -> None:
    assert analyse(question).expects.counted == noun


def test_count_must_stand_next_to_the_counted_noun() -> None:
    profile = analyse("How many prisoners were released in the 2023 exchange?")
    assert count_near_noun("Azerbaijan released 32 prisoners in December.", profile)
    assert not count_near_noun(
        "The fate of prisoners held since the 2020 war remains a major unresolved issue, "
        "one of 17 articles still open.",
        profile,
    )
    assert not count_near_noun("The 2023 exchange freed prisoners.", profile)  # from question


def _sentence(text: str, *entities: tuple[str, str]) -> tuple[Sentence, str]:
    return Sentence(0, "a.txt", 0, len(text), "body", None, tuple(entities)), text


@pytest.mark.parametrize(
    ("question", "answers", "not_answers"),
    [
        (  # "on what date" wants a day, not just a month
            "On what date was the group dissolved?",
            _sentence("It was dissolved on 1 December 2023.", ("DATE", "1 December 2023")),
            _sentence("It worked until July 2023.", ("DATE", "July 2023")),
        ),
        (
            "In what month and year did the mission deploy?",
            _sentence("It deployed in February 2023.", ("DATE", "February 2023")),
            _sentence("It deployed in 2023.", ("DATE", "2023")),
        ),
        (  # money questions want an amount of money, not any number
            "How much did the government spend on the road?",
            _sentence("The road cost $12 million to build.", ("MONEY", "$12 million")),
            _sentence("The road is 12 km long and took 3 years.", ("QUANTITY", "12 km")),
        ),
        (  # the asked-for unit must come with the value
            "What bandwidth, in gigabits per second, does the link provide?",
            _sentence("The link carries 400 gigabits per second.", ("CARDINAL", "400")),
            _sentence("The link is one of 3 routes.", ("CARDINAL", "3")),
        ),
        (
            "Who is the chief executive of the operator?",
            _sentence("Its chief executive, Jane Doe, signed.", ("PERSON", "Jane Doe")),
            _sentence("The operator belongs to Acme Holding.", ("ORG", "Acme Holding")),
        ),
    ],
)
def test_answers_must_have_the_asked_for_precision(
    question: str, answers: tuple[Sentence, str], not_answers: tuple[Sentence, str]
) -> None:
    profile = analyse(question)
    assert holds_answer_type(*answers, profile)
    assert not holds_answer_type(*not_answers, profile)


def test_periods_and_dates_beyond_the_collection() -> None:
    assert period_of("As of 2024, how many articles were unresolved?").date_to == "2024-12-31"
    assert period_of("As of mid-2023, who brokered the talks?").date_to == "2023-08-31"
    assert period_of("What happened in 2024?") is None  # no cut-off asked for
    assert after_newest("What happened in December 2026?", "2026-06-22") == "December 2026"
    assert after_newest("What was signed in June 2026?", "2026-06-22") is None
    assert after_newest("Who will win in 2030?", "2026-06-22") == "2030"


def test_filters_match_metadata() -> None:
    meta = DocMeta(title="t", publisher="EVN Report", kind="news", date="2024-12")
    assert matches(meta, "a.txt", Filters(publishers=["evn report"], date_to="2024-12-31"))
    assert not matches(meta, "a.txt", Filters(date_from="2025-01-01"))
    assert not matches(meta, "a.txt", Filters(doc_ids=["b.txt"]))
    assert not matches(DocMeta(title="t"), "a.txt", Filters(date_to="2025"))  # undated
