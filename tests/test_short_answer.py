"""The short answer: the exact value a question asks for, copied verbatim from a quote; the
reason clause for "why"; Yes/No decided by the quote; quotes that name what they are about.

Questions are analysed with spaCy's tagger and quotes split and tagged by the real spaCy
splitter, as in the pipeline. Only questions whose kind the question word decides are used
(who, when, where, how many, how much, why, yes/no), so no head typer is needed.
"""

from __future__ import annotations

import pytest

from rag import short_answer
from rag.answer import window
from rag.chunking import Sentence, SpacySplitter
from rag.nlp import pos_tags
from rag.pipeline import Pipeline
from rag.question import Question, analyse
from rag.scoring import Scored

from .conftest import make_settings


@pytest.fixture(scope="module")
def splitter() -> SpacySplitter:
    return SpacySplitter()


def _question(text: str) -> Question:
    return analyse(text, tags=pos_tags)


def _sentences(splitter: SpacySplitter, quote: str) -> list[Sentence]:
    """The quote's sentences with the entities spaCy finds in them."""
    return [
        Sentence(i, "a.txt", start, end, "content", None, tuple(entities))
        for i, (start, end, entities) in enumerate(splitter(quote))
    ]


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        (  # the signing date, not the concession's length
            "when did they sign the concession",
            "Northgate Terminals signed the 35-year concession with the port authority on "
            "14 March 2025.",
            "14 March 2025",
        ),
        (  # a span of time is not a point in time
            "when was the terminal opened",
            "The terminal, planned for 30 years, opened in June 2025.",
            "June 2025",
        ),
        (
            "where did the ministers meet",
            "The ministers met in Batumi in May.",
            "Batumi",
        ),
        (  # the count with its noun, as the text writes the unit
            "how many km of the border were demarcated",
            "The commissions agreed on a 12-kilometer section of the border in April 2024.",
            "12-kilometer",
        ),
        (  # the count of what was asked about, with its noun; not the tugs
            "how many cranes did the port order",
            "The port ordered 2 tugs and 6 cranes last year.",
            "6 cranes",
        ),
        (
            "what percent of the cargo is grain",
            "Grain made up 38 percent of the cargo handled last year.",
            "38 percent",
        ),
        (  # money, not the channel's length
            "how much did the port spend on dredging",
            "Dredging the 12 km channel cost $120 million.",
            "$120 million",
        ),
    ],
)
def test_the_asked_for_value_is_copied_verbatim(
    splitter: SpacySplitter, question: str, quote: str, expected: str
) -> None:
    found = short_answer.value(_question(question), quote, _sentences(splitter, quote))
    assert found == expected
    assert found in quote


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        (  # names typed in lower case are still the question's own
            "who did giorgi beridze meet in batumi",
            "Giorgi Beridze met Nino Kvaratskhelia in Batumi on Friday.",
            "Nino Kvaratskhelia",
        ),
        ("how many of the 12 berths were dredged", "Of the 12 berths, 5 were dredged.", "5"),
        (
            "when did they sign after the 2023 talks",
            "After the 2023 talks, they signed in June 2024.",
            "June 2024",
        ),
        ("when was the 2023 exchange", "The 2023 exchange freed 32 prisoners.", None),
    ],
)
def test_values_stated_in_the_question_are_never_the_answer(
    splitter: SpacySplitter, question: str, quote: str, expected: str | None
) -> None:
    profile = _question(question)
    sentences = _sentences(splitter, quote)
    assert short_answer.value(profile, quote, sentences) == expected
    for start, end in short_answer.value_spans(profile, quote, sentences):
        assert quote[start:end].casefold() not in question


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        ("in what month did they sign", "They signed the deal in 2024."),  # a year is no month
        ("when was the terminal opened", "The terminal has been planned for 30 years."),
        ("how much did the port spend on dredging", "Dredging the 12 km channel took 3 years."),
        # the day of a date counts nothing
        ("how many people were hurt in the harbour fire", "A fire broke out on June 27, 2024."),
    ],
)
def test_no_value_of_the_asked_for_precision_means_no_short_answer(
    splitter: SpacySplitter, question: str, quote: str
) -> None:
    assert short_answer.value(_question(question), quote, _sentences(splitter, quote)) is None


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        (
            "how many jobs will the terminal create",
            "The terminal will create 1,200 permanent jobs, the company said.",
            "1,200 permanent jobs",
        ),
        (  # a duration is no point in time: its number is still a count
            "how many days did the dock strike last",
            "The strike lasted forty-four days, from June 2 to July 15.",
            "forty-four days",
        ),
        (
            "how many cranes has northgate ordered",
            "Northgate has ordered four new cranes from a Finnish maker.",
            "four new cranes",
        ),
    ],
)
def test_a_count_keeps_its_noun_after_a_modifier(
    splitter: SpacySplitter, question: str, quote: str, expected: str
) -> None:
    assert short_answer.value(_question(question), quote, _sentences(splitter, quote)) == expected


def test_the_value_among_the_questions_words_wins(splitter: SpacySplitter) -> None:
    profile = _question("how much did the ferry terminal cost")
    quote = (
        "Repairs to the Harbor Bridge, finished in March after two years of work, cost "
        "$48 million in total. Separately, the city spent $12 million building a ferry terminal "
        "on the north shore."
    )
    spans = short_answer.value_spans(profile, quote, _sentences(splitter, quote))
    assert sorted(quote[s:e] for s, e in spans) == ["$12 million", "$48 million"]

    def overlap(value: str, weight: dict[str, float]) -> float:
        at = quote.index(value)
        span = (at, at + len(value))
        return short_answer.context_overlap(profile, quote, span, lambda t: weight.get(t, 1.0))

    assert overlap("$12 million", {}) > overlap("$48 million", {})
    # Rare words count more: with "ferry" and "terminal" rare, the gap widens.
    rare = {"ferry": 5.0, "terminal": 5.0}
    gap = overlap("$12 million", rare) - overlap("$48 million", rare)
    assert gap > overlap("$12 million", {}) - overlap("$48 million", {})


# -- why ---------------------------------------------------------------------------------------


def test_why_is_answered_by_the_reason_clause(splitter: SpacySplitter) -> None:
    quote = "The council delayed the vote because residents had not seen the environmental report."
    profile = _question("why did the council delay the vote")
    assert short_answer.value(profile, quote, _sentences(splitter, quote)) == (
        "because residents had not seen the environmental report"
    )


@pytest.mark.parametrize(
    ("quote", "clause"),
    [
        ("The port closed after a storm damaged the quay.", "after a storm damaged the quay"),
        (
            "The ministry froze the project in response to the audit; work resumed later.",
            "in response to the audit",
        ),
        ("The port handled 310,000 containers in 2024.", None),  # no stated cause
        (  # the clause ends where the dash closes the aside
            "The dredging question — the port's wish to deepen the channel as larger ships "
            "arrive — is still open.",
            "as larger ships arrive",
        ),
        (  # a cause-and-effect verb: the cause stands before it
            "Fuel prices and a shortage of crews have led to the ferry line cutting its winter "
            "timetable.",
            "Fuel prices and a shortage of crews",
        ),
        (  # a strong cue still wins
            "The strike, which prompted delays, began because the crews were not paid.",
            "because the crews were not paid",
        ),
    ],
)
def test_reason_clauses(quote: str, clause: str | None) -> None:
    assert short_answer.reason(quote) == clause


def test_a_long_reason_is_shortened_verbatim() -> None:
    quote = (
        "The council delayed the vote because residents had not seen the environmental report, "
        "which the ministry had withheld for months despite repeated requests from the council."
    )
    clause = short_answer.reason(quote)
    assert clause is not None and clause.startswith("because residents")
    assert len(clause.split()) == short_answer.MAX_REASON_WORDS
    assert clause in quote


def test_a_long_reason_without_a_comma_stops_at_a_content_word() -> None:
    quote = (
        "The ferry stopped because the operator could not find crews willing to work the "
        "night crossings between the islands and the mainland in the winter months."
    )
    clause = short_answer.reason(quote)
    assert clause is not None and clause in quote
    assert len(clause.split()) <= short_answer.MAX_REASON_WORDS
    assert clause.split()[-1] not in ("and", "the", "between", "in")


@pytest.mark.parametrize(
    "quote",
    [
        "Over 300 dockworkers walked out on Monday because the operator cut overtime pay.",
        "Since 2019 the port has grown because grain exports doubled.",
        "The council, as the mayor put it, delayed the vote because residents were not asked.",
    ],
)
def test_because_beats_an_earlier_word_that_is_no_cause(quote: str) -> None:
    clause = short_answer.reason(quote)
    assert clause is not None and clause.startswith("because")


# -- yes / no ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        ("did they sign the treaty", "The treaty was signed in Washington on 8 August.", "Yes"),
        ("did they sign the treaty", "The treaty was not signed in Washington.", "No"),
        ("has the port ever been sold", "The port has never been sold.", "No"),
        ("is it true that the lease runs for 49 years", "The lease runs for 49 years.", "Yes"),
        ("is it true that the lease runs for 49 years", "The lease runs for 25 years.", "No"),
        ("did Armenia sign the treaty", "Armenia signed the treaty in Washington.", "Yes"),
        ("did Armenia sign the treaty", "Azerbaijan signed the treaty in Washington.", "No"),
        (  # the negation stands by another form of a claim word ("internationally")
            "was the enclave ever recognised internationally as independent",
            "The enclave gained de facto independence after the war, though it never garnered "
            "international recognition.",
            "No",
        ),
    ],
)
def test_yes_or_no_is_decided_by_the_quote(question: str, quote: str, expected: str) -> None:
    assert short_answer.yes_no(_question(question), quote) == expected


def test_a_negation_in_a_condition_does_not_make_it_no() -> None:
    quote = (
        "The national environment agency approved it on 9 May 2025, but only on condition that "
        "no dredging takes place between March and May."
    )
    profile = _question("did the environment agency approve the dredging")
    assert short_answer.yes_no(profile, quote) == "Yes"


# -- quotes name what they are about ----------------------------------------------------------

FERRY = (
    "The city council approved a new ferry route on Monday. It will link the old harbour with "
    "the north shore from June.\n"
    "\n"
    "The route will be run by Bay Ferries. Its chief executive, Ana Ruiz, said fares would not "
    "rise. The council will review the route in 2027.\n"
)


@pytest.fixture(scope="module")
def ferry(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """A one-document collection (hash embedder: the sentences matter, not the vectors)."""
    docs = tmp_path_factory.mktemp("ferry-docs")
    (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
    settings = make_settings(
        tmp_path_factory.mktemp("ferry-index"), docs, embedding={"model": "hash"}
    )
    pipeline = Pipeline(settings)
    pipeline.ingest([docs])
    return pipeline


def _span(pipeline: Pipeline, opening: str, sentences: int = 1) -> Scored:
    """A candidate span: the sentence starting ``opening``, or it and the ones after it."""
    data = pipeline.loaded.data
    text = data.documents["ferry.txt"].text
    at = next(i for i, s in enumerate(data.sentences) if text[s.start :].startswith(opening))
    first, last = data.sentences[at], data.sentences[at + sentences - 1]
    return Scored(last, 1.0, 1.0, 1.0, True, 0, first.start, last.end)


def _quote(pipeline: Pipeline, item: Scored) -> str:
    return pipeline.loaded.data.documents["ferry.txt"].text[item.start : item.end]


def test_a_quote_opening_with_it_includes_the_sentence_before(ferry: Pipeline) -> None:
    widened = window(_span(ferry, "It will link"), ferry.loaded.idf)
    assert _quote(ferry, widened).startswith("The city council approved a new ferry route")
    assert _quote(ferry, widened).endswith("from June.")


def test_a_quote_that_names_its_subject_is_not_widened(ferry: Pipeline) -> None:
    item = _span(ferry, "The route will be run")
    assert window(item, ferry.loaded.idf) == item


def test_a_two_sentence_quote_opening_with_its_includes_the_sentence_before(
    ferry: Pipeline,
) -> None:
    widened = window(_span(ferry, "Its chief executive", sentences=2), ferry.loaded.idf)
    assert _quote(ferry, widened).startswith("The route will be run by Bay Ferries.")


# -- "which <noun>": an instance of the noun -------------------------------------------------


def test_a_name_standing_before_the_head_noun_answers(splitter: SpacySplitter) -> None:
    # The tagger reads "Corran’s Westmoor" as one organisation; the structure "<Name> district"
    # still says which district, and the possessive before it is not part of the name.
    quote = (
        "The ministry wants the new line to run through Corran’s Westmoor district, while "
        "the council prefers the coast."
    )
    profile = analyse("which district should the new line run through", tags=pos_tags)
    assert profile.expects.head == "district"
    spans = short_answer.value_spans(profile, quote, _sentences(splitter, quote))
    assert "Westmoor district" in [quote[s:e] for s, e in spans]


def test_a_claim_word_in_its_negative_form_says_no() -> None:
    profile = _question("is it true the harbour treaty is signed already")
    quote = "The harbour treaty remains initialed but unsigned, and contested in both capitals."
    assert short_answer.yes_no(profile, quote) == "No"
    assert short_answer.yes_no(profile, "The harbour treaty was signed in May.") == "Yes"


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        (
            "was the ferry deal signed by the cities or the operators",
            "The two operators signed the ferry deal in March.",
            "operators",
        ),
        (
            "is the harbour treaty signed or just initialed",
            "The ministers initialed the harbour treaty on 8 August.",
            "initialed",
        ),
        (  # both stated: the quote doesn't choose
            "is the harbour treaty signed or just initialed",
            "The ministers initialed the treaty; it will be signed next year.",
            None,
        ),
    ],
)
def test_an_either_or_question_is_answered_by_the_choice_the_quote_states(
    question: str, quote: str, expected: str | None
) -> None:
    assert short_answer.choice(_question(question), quote) == expected


@pytest.mark.parametrize(
    "question",
    [
        "did the city or the port pay for the dredging",  # who did it: yes or no
        "is the ferry still running or not",
    ],
)
def test_or_inside_a_yes_no_question_offers_no_choice(question: str) -> None:
    assert short_answer.options(_question(question)) is None
