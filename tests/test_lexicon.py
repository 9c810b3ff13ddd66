"""The collection's lexicon repairs typed questions: misspelt words and names, lower-case names,
chat shorthand - and leaves alone the English words the collection merely doesn't use."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.lexicon import Lexicon, Repair

DATA = Path(__file__).resolve().parent / "data"

VISIT = (
    "Armenian Prime Minister Nikol Pashinyan visited Tavush on Tuesday, where residents of four "
    "border villages asked him about the new demarcation line. In Yerevan, critics said "
    "Pashinyan had given away land without a vote. The one thing everyone agreed on was that "
    "the road to Georgia must stay open.\n"
)
TALKS = (
    "Border Talks Resume In Tavush Province\n"
    "\n"
    "Officials said the commissions of Armenia and Azerbaijan had stepped up their work. Under "
    "the premise of the talks, each side keeps the villages it holds. Residents said the next "
    "round would be held in Azerbaijan. Many people in Tavush learned of the deal from "
    "Facebook, and some said they had not been consulted.\n"
)


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon([VISIT, TALKS])


@pytest.mark.parametrize(
    ("typed", "repaired"),
    [
        ("when did pashinian visit tavush", "when did Pashinyan visit Tavush"),
        ("what did azerbijan say", "what did Azerbaijan say"),
        ("who sits on the comissions", "who sits on the commissions"),
        ("how many villiages were consulted", "how many villages were consulted"),
    ],
)
def test_misspellings_are_repaired_to_the_collections_words(
    lexicon: Lexicon, typed: str, repaired: str
) -> None:
    assert lexicon.repair(typed).text == repaired


def test_repairs_are_listed(lexicon: Lexicon) -> None:
    repair = lexicon.repair("did pashinian go to yerevan")
    assert repair.changes == (("pashinian", "Pashinyan"), ("yerevan", "Yerevan"))
    assert lexicon.repair("did the villages agree").changes == ()


def test_common_english_words_the_collection_lacks_are_not_misspellings(
    lexicon: Lexicon,
) -> None:
    # Each is one letter from a word the collection uses, so only their being common English
    # keeps them from being "repaired" into it.
    assert lexicon.nearest("think") == "thing"
    assert lexicon.nearest("promise") == "premise"
    assert lexicon.nearest("stopped") == "stepped"
    typed = "do you think they stopped talking after the promise"
    assert lexicon.repair(typed) == Repair(typed, ())


@pytest.mark.parametrize(
    ("typed", "repaired"),
    [
        ("what did pashinyan say in yerevan", "what did Pashinyan say in Yerevan"),
        ("armenias border with azerbaijan", "Armenia's border with Azerbaijan"),
        ("tavush villages", "Tavush villages"),
        ("What did Pashinyan say?", "What did Pashinyan say?"),  # already cased: unchanged
    ],
)
def test_names_are_recased_as_the_collection_writes_them(
    lexicon: Lexicon, typed: str, repaired: str
) -> None:
    assert lexicon.repair(typed).text == repaired


def test_chat_shorthand_is_expanded(lexicon: Lexicon) -> None:
    assert lexicon.repair("how many ppl live thru tavush").text == (
        "how many people live through Tavush"
    )
    assert lexicon.repair("whats the govt plan abt the road").text == (
        "what is the government plan about the road"
    )
    assert lexicon.repair("whens the next round").text == "when is the next round"


def test_sentence_openers_and_title_case_headings_make_no_names(lexicon: Lexicon) -> None:
    # "Border", "Talks", "Resume", "Province" are capitalised only in the heading; "Officials",
    # "Residents", "Many", "Under" only where they open a sentence.
    for word in ("border", "talks", "resume", "province", "officials", "residents", "many"):
        assert word not in lexicon.names
    typed = "many residents say the border talks resume under officials in the province"
    assert lexicon.repair(typed).text == typed
    # Real names next to them still are.
    assert {"pashinyan", "tavush", "azerbaijan", "yerevan"} <= set(lexicon.names)


def test_a_name_that_often_opens_sentences_is_still_a_name() -> None:
    lexicon = Lexicon(
        [
            "Pashinyan said the deal was close. Pashinyan added that talks would go on. "
            "Critics of Nikol Pashinyan disagreed."
        ]
    )
    assert lexicon.repair("when did pashinyan speak").text == "when did Pashinyan speak"


def test_short_markdown_headings_make_no_names() -> None:
    lexicon = Lexicon([(DATA / "river_park.md").read_text(encoding="utf-8")])
    typed = "is there any opposition to the park and where does the funding come from"
    assert lexicon.repair(typed).text == typed


def test_a_word_of_the_collection_is_no_possessive_of_a_name() -> None:
    # "U.S." makes "U" a name; "us" is still "us", while "armenias" is "Armenia's"
    lexicon = Lexicon(["Officials of the U.S. and of Armenia told us the talks went on."])
    assert lexicon.repair("the us mediated talks told us").text == "the us mediated talks told us"
    assert lexicon.repair("armenias talks").text == "Armenia's talks"


def test_the_fast_word_tables_agree_with_wordfreq() -> None:
    from wordfreq import top_n_list, zipf_frequency

    from rag.lexicon import ENGLISH_ZIPF, _common_english, top_words

    assert top_words(20000) == top_n_list("en", 20000)  # digits skipped the same way
    seed = (DATA.parent.parent / "seeds" / "002_c7b824baeb8dafed.txt").read_text(encoding="utf-8")
    words = set(top_words(30000)[-3000:]) | {w.lower() for w in seed.split() if w.isalpha()}
    words |= {"azerbijan", "armenai", "pashinian", "qwxz", "Treaty", "don't", "1990s"}
    for word in sorted(words):
        assert _common_english(word) == (zipf_frequency(word, "en") >= ENGLISH_ZIPF), word


def test_wordfreq_still_finds_its_data_with_the_cheap_locate() -> None:
    import wordfreq
    from wordfreq.util import data_path

    from rag.lexicon import load_word_tables

    load_word_tables()
    assert data_path().is_dir()
    assert data_path() == Path(wordfreq.__file__).parent / "data"
