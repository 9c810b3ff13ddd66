"""Question analysis: answer types from the question's structure, counted nouns, periods, dates
beyond the collection.

Questions are analysed as the pipeline analyses them: with spaCy's tagger for the head noun
of "which/what <noun>" and, where the noun's kind decides, the real embedding head typer.
"""

from __future__ import annotations

import pytest

from rag.answer_types import Form
from rag.chunking import Sentence
from rag.config import Settings
from rag.documents import DocMeta
from rag.embedding import make_embedder
from rag.head_typer import EmbeddingHeadTyper
from rag.nlp import pos_tags
from rag.question import Question, analyse
from rag.schemas import Filters
from rag.scoring import count_near_noun, holds_answer_type
from rag.temporal import after_newest, matches, period_of
from rag.value_patterns import AGENTS, NAMED, NUMBERS, PLACES, TIMES


@pytest.fixture(scope="module")
def typer() -> EmbeddingHeadTyper:
    """The head typer the pipeline uses: the packaged MiniLM model."""
    return EmbeddingHeadTyper(make_embedder(Settings().embedding.model, 32).embed)


def _analysed(question: str, typer: EmbeddingHeadTyper | None = None) -> Question:
    return analyse(question, typer=typer, tags=pos_tags)


# The question word alone, or a head noun with a fixed meaning (date, month, name, a unit),
# decides these: no typer is given, so a rule that needed one would fail here.
@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("When did the talks start?", TIMES),
        ("In what month and year did the mission deploy?", TIMES),
        ("How many villages were handed over?", NUMBERS),
        ("How much did the government spend on the road?", {"MONEY"}),
        ("How much land did Baku regain?", NUMBERS),
        ("What is the name of the envoy?", NAMED),
        # "who" wants an agent: a person, a body, or a country ("who mediated?" - "the US").
        ("Who chairs the commission?", AGENTS),
        ("where did the leaders meet", PLACES),
        # A unit as the head noun: a number in that unit.
        ("how many km of the border were demarcated", NUMBERS),
        ("what percent of voters backed the deal", NUMBERS),
        ("Why does the author oppose the deal?", set()),
    ],
)
def test_expected_answer_types(question: str, labels: set[str]) -> None:
    assert _analysed(question).expected == labels


# "bloc" and "settlement" were in the typer's own noun lists, so these passed by lookup; with
# them taken out (they are the examples), the embedding alone doesn't reach the
# similarity floor.
_UNLISTED_SETTLEMENT = pytest.mark.xfail(
    strict=True, reason="typer: 'settlement' is place 0.49 vs document 0.47, below 0.55"
)
_UNLISTED_BLOC = pytest.mark.xfail(
    strict=True, reason="typer: 'bloc' is organisation 0.42 vs person 0.37, below 0.55"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("What was the monetary value of the deal?", {"MONEY"}),
        ("Who is the chief executive of the operator?", {"PERSON"}),
        # Nouns no rule lists: their meaning decides.
        ("which clergyman led the protests", {"PERSON"}),
        pytest.param("which settlement was handed over", PLACES, marks=_UNLISTED_SETTLEMENT),
        pytest.param(
            "which bloc did armenia freeze its membership in",
            {"ORG", "NORP"},
            marks=_UNLISTED_BLOC,
        ),
        ("which country hosted the summit", PLACES),
        # "article" is as close to an organisation as to a document, so no kind is chosen and
        # any sentence may answer (the old word rules said LAW).
        ("Which article of the statement is disputed?", set()),
        pytest.param(
            "Which humanitarian body urged the release?",
            {"ORG", "NORP"},
            marks=pytest.mark.xfail(
                strict=True,
                reason="the typer sees the bare head noun 'body' (best kind money 0.45, no kind "
                "over 0.55), not 'humanitarian body'; the old rules said ORG/NORP",
            ),
        ),
    ],
)
def test_expected_answer_types_by_head_noun(
    question: str, labels: set[str], typer: EmbeddingHeadTyper
) -> None:
    assert _analysed(question, typer).expected == labels


@pytest.mark.slow
@pytest.mark.parametrize(
    ("noun", "kind"),
    [
        ("archbishop", "person"),
        ("clergyman", "person"),
        pytest.param("settlement", "place", marks=_UNLISTED_SETTLEMENT),
        pytest.param("bloc", "organisation", marks=_UNLISTED_BLOC),
        ("newspaper", "organisation"),
        ("month", "time"),
        ("gift", None),
        ("deal", None),  # as close to money as to a number: no kind
    ],
)
def test_head_nouns_are_typed_by_meaning(
    noun: str, kind: str | None, typer: EmbeddingHeadTyper
) -> None:
    assert typer(noun) == kind


@pytest.mark.parametrize(
    ("question", "form", "wh", "head"),
    [
        ("why did the talks stall", Form.REASON, "why", None),
        ("did they sign the treaty", Form.YES_NO, "yes/no", None),
        ("is it true that the border reopened", Form.YES_NO, "yes/no", None),
        ("ok so what does the author say about russia", Form.DESCRIBE, "what", None),
        ("how did the talks go", Form.DESCRIBE, "how", None),
        ("can you tell me when the mission deployed", Form.VALUE, "when", None),
        ("what gift did he bring", Form.VALUE, "what", "gift"),
        ("which azeri news site reported it", Form.VALUE, "which", "site"),
        # a name alone after "who is" asks what the person is, not for another person
        ("who is Nikol Pashinyan", Form.DESCRIBE, "who", None),
        ("who is the harbour master", Form.VALUE, "who", "harbour master"),
        # what someone is doing / what happened: an account, not one value
        ("what is the EU doing in Armenia", Form.DESCRIBE, "what", None),
        ("what happened at the port", Form.DESCRIBE, "what", None),
    ],
)
def test_question_form_and_head_noun(question: str, form: Form, wh: str, head: str | None) -> None:
    expects = _analysed(question).expects
    assert (expects.form, expects.wh, expects.head) == (form, wh, head)


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many Armenian prisoners were released?", "prisoner"),
        ("How many people fled Karabakh?", "people"),
        ("How many points were in the declaration?", "point"),
        ("how many km of the border were demarcated", "km"),
        ("what percent of voters backed the deal", "percent"),
        ("When was it signed?", None),
        ("how many people live in tavush", "people"),
        ("how many countries support the plan", "country"),
    ],
)
def test_counted_noun(question: str, noun: str | None) -> None:
    assert _analysed(question).expects.counted == noun


def test_count_must_stand_next_to_the_counted_noun() -> None:
    profile = _analysed("How many prisoners were released in the 2023 exchange?")
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
        (  # the asked-for unit must come with the value, however it is written
            "how many km of the border have been demarcated",
            _sentence("A 12-kilometer section was demarcated.", ("QUANTITY", "12-kilometer")),
            _sentence("The border is one of 3 disputed lines.", ("CARDINAL", "3")),
        ),
        (
            "what percent of voters backed the deal",
            _sentence("Some 58% of voters backed it.", ("PERCENT", "58%")),
            _sentence("Only 58 voters backed it.", ("CARDINAL", "58")),
        ),
    ],
)
def test_answers_must_have_the_asked_for_precision(
    question: str, answers: tuple[Sentence, str], not_answers: tuple[Sentence, str]
) -> None:
    profile = _analysed(question)
    assert holds_answer_type(*answers, profile)
    assert not holds_answer_type(*not_answers, profile)


@pytest.mark.slow
def test_a_role_asks_for_a_person(typer: EmbeddingHeadTyper) -> None:
    profile = _analysed("Who is the chief executive of the operator?", typer)
    assert holds_answer_type(
        *_sentence("Its chief executive, Jane Doe, signed.", ("PERSON", "Jane Doe")), profile
    )
    assert not holds_answer_type(
        *_sentence("The operator belongs to Acme Holding.", ("ORG", "Acme Holding")), profile
    )


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


def test_the_name_question_asks_for_what_is_named() -> None:
    profile = analyse("what is the official name of the harbour treaty they signed", tags=pos_tags)
    assert profile.expects.head == "name"
    assert profile.expects.target == "harbour treaty"


def test_a_value_the_question_names_in_another_form_is_stated() -> None:
    question = analyse("whats the newest step in armenia azerbaijan normalization", tags=pos_tags)
    assert question.states("Armenian") and question.states("Armenia-Azerbaijan")
    assert not question.states("AzerTelecom")
    dated = analyse("Which article of the November 9 statement is disputed?", tags=pos_tags)
    assert not dated.states("Article 9")  # numbers count only as written


def test_an_abbreviation_in_the_question_states_the_words_it_stands_for() -> None:
    question = analyse("whos the head of the eu monitoring mission in armenia", tags=pos_tags)
    assert question.states("the European Union Monitoring Mission")
    assert not question.states("the European Commission")  # "EC" is not in the question
    assert not question.states("Mher Grigoryan")


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("what did the ferry terminal cost", {"MONEY"}),
        ("what did the new quay cost the port authority", {"MONEY"}),
        ("what did the mayor promise", set()),  # a promise is no amount: described
        ("what did the audit find about the budget", set()),  # "the budget" is a noun
    ],
)
def test_a_closing_verb_of_amount_asks_for_a_number(
    typer: EmbeddingHeadTyper, question: str, labels: set[str]
) -> None:
    assert set(_analysed(question, typer).expected) == labels
