"""Dates as sentences state them: parsed with dateparser against the source's date, never more
precise than the sentence, inferred years marked, forecasts left out."""

from __future__ import annotations

import pytest

from rag.event_dates import dates_in

REVIEW = "2024-12-27"  # a year-in-review's date


@pytest.mark.parametrize(
    ("sentence", "published", "expected"),
    [
        ("The agreement, signed on June 22, 2026, is remarkable.", "2026-06-22",
         ("2026-06-22", "day", False, "June 22, 2026")),
        ("On 8 August 2025 the leaders met at the White House.", "2025-08-15",
         ("2025-08-08", "day", False, "8 August 2025")),
        ("The commissions met on April 19 in Gazakh.", REVIEW,
         ("2024-04-19", "day", True, "April 19")),
        ("In May, a 12-kilometer section was delimited.", REVIEW,
         ("2024-05", "month", True, "In May")),
        ("By mid-May, both sides had signed a protocol.", REVIEW,
         ("2024-05", "month", True, "By mid-May")),
        ("Turkey closed the border in 1993.", "2025-01-15", ("1993", "year", False, "1993")),
        ("Talks stalled in late 2023.", "2025-01-15", ("2023", "year", False, "late 2023")),
        ("Fighting resumed in September 2023.", "2026-06-22",
         ("2023-09", "month", False, "September 2023")),
        ("Last month the ministers met in Almaty.", "2023-07-15",
         ("2023-06", "month", True, "Last month")),
        ("This November, Baku hosted the climate summit.", REVIEW,
         ("2024-11", "month", True, "This November")),
        ("Talks were held on June 27-29, 2023 in Arlington.", "2023-07-15",
         ("2023-06-27", "day", False, "June 27-29, 2023")),
        ("Interviews on December 18-19 set out the positions.", REVIEW,
         ("2024-12-18", "day", True, "December 18-19")),
    ],
)  # fmt: skip
def test_the_date_a_sentence_states(
    sentence: str, published: str, expected: tuple[str, str, bool, str]
) -> None:
    found = dates_in(sentence, published)
    assert found, sentence
    first = found[0]
    date, precision, estimated, words = expected
    assert (first.date, first.precision, first.estimated) == (date, precision, estimated)
    assert sentence[first.start : first.end] == words


@pytest.mark.parametrize(
    "sentence",
    [
        "The deal is worth $2,000 million and 1,993 jobs.",  # money and counts are no years
        "The 1990s were a decade of war.",  # a decade is not a year
        "Four years after the 2020 war, talks go on.",  # a year naming a war: no happening date
        "Turkey could honor its 2022 commitment.",
        "Elections are scheduled for June 2027.",  # after the source: a plan, not an event
        "Nothing dated here at all.",
    ],
)
def test_no_date_where_there_is_none(sentence: str) -> None:
    assert dates_in(sentence, "2026-06-22") == []


def test_without_a_source_date_partial_dates_are_not_guessed() -> None:
    assert dates_in("They met on April 19.", None) == []
    assert [d.date for d in dates_in("They met in 2019.", None)] == ["2019"]


def test_a_coarser_date_sorts_after_the_finer_ones_it_contains() -> None:
    year, day = dates_in("in 2024", None)[0], dates_in("on 2 May 2024", None)[0]
    assert sorted([year, day], key=lambda d: d.sort_key) == [day, year]
