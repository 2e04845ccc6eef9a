"""Figures written as words count as the figures they are; a follow-up naming nothing keeps to the
names asked about before."""

import pytest
from helpers import conversation
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.grounding import (
    ENGLISH_NUMBERS,
    GERMAN_NUMBERS,
    SPELLED_NUMBERS,
    counts,
    names_another_source,
    spelled_numbers,
    subject,
)
from rag.lexical import tokenize

PROSE = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüß ,;-()"), max_size=40)


@given(PROSE, st.sampled_from(sorted(SPELLED_NUMBERS)), PROSE)
def test_a_number_word_inside_prose_counts_as_its_digits(before: str, word: str, after: str) -> None:
    text = f"{before} {word} {after}"
    assert str(SPELLED_NUMBERS[word]) in spelled_numbers(text)
    assert str(SPELLED_NUMBERS[word]) in counts(text.replace(word, str(SPELLED_NUMBERS[word])))


@given(PROSE, st.sampled_from(GERMAN_NUMBERS))
def test_a_capitalised_german_number_word_counts_only_at_a_sentences_start(before: str, word: str) -> None:
    assert spelled_numbers(f"Wir lassen {before} {word.capitalize()}-Werte weg.") == spelled_numbers(before)
    assert str(SPELLED_NUMBERS[word]) in spelled_numbers(f"Gut so. {word.capitalize()} Leute kamen.")


def test_parts_of_longer_words_are_no_number() -> None:
    assert spelled_numbers("zweistufig, die zweite Welle, vierteljährlich, Zehnkampf, often, seventy") == set()
    assert spelled_numbers("a two-day retreat, ein zwei- bis dreimal jährlicher Termin") == set()


@given(PROSE, st.sampled_from(GERMAN_NUMBERS), st.sampled_from(["tägige", "wöchigen", "monatiger", "fach", "mal"]))
def test_a_number_word_opening_a_measure_counts_in_a_passage(before: str, word: str, measure: str) -> None:
    """A passage's "zweitägige Klausur" holds the 2 of an answer's "2 Tage"; a claim's compounds are
    not asked for ("two-day" may be "zweitägig" in the passage)."""
    digits = str(SPELLED_NUMBERS[word])
    assert digits in counts(f"{before} eine {word}{measure} Sache")
    english = ENGLISH_NUMBERS[GERMAN_NUMBERS.index(word)]
    assert digits in counts(f"a {english}-day retreat") and digits not in spelled_numbers(f"a {english}-day retreat")


def test_words_that_only_begin_like_a_number_are_no_number() -> None:
    assert counts("zweifellos, Zweitens, Achtung, Viertel, Dreieck, Elfmeter, zehntausendste") == set()


# Three articles on one theme; the two companies are each named in one of them.
ARTICLES = [
    "Weidmann Haustechnik GmbH, Bielefeld: 2023 stieg das Wachstumsbudget auf 1,2 Mio. Euro. Bei "
    "Uneinigkeit zwischen Marketing und Vertrieb entscheidet der Finanzvorstand.",
    "Orbis Verpackungen (Hamburg) misst seit 2021 jeden Lead; Marketing und Vertrieb teilen ein Budget.",
    "Marketing und Vertrieb: wer entscheidet über das Budget, wenn die beiden Abteilungen uneinig sind?",
]


def _frequency(token: str) -> int:
    return sum(token in tokenize(article) for article in ARTICLES)


WEIDMANN = set(tokenize("Weidmann Haustechnik"))
FOLLOW_UP = "Wer entscheidet, wenn sich die beiden nicht einig sind?"


def test_a_follow_up_naming_nothing_keeps_to_the_names_asked_before_not_their_year() -> None:
    history = conversation("Wie hoch war 2023 das Wachstumsbudget bei Weidmann Haustechnik?", "1,2 Mio. Euro [1].")
    assert subject(FOLLOW_UP, "de", [], _frequency) == set()
    assert subject(FOLLOW_UP, "de", history, _frequency) == WEIDMANN


def test_the_last_question_naming_any_counts_not_an_answer_or_a_question_naming_none() -> None:
    history = conversation(
        "Wie hoch war 2023 das Wachstumsbudget bei Weidmann Haustechnik?",
        "Anders als Orbis Verpackungen gab Weidmann 1,2 Mio. Euro aus [1].",
        "Und 2024?",
        "Dazu sagen die Quellen nichts.",
    )
    assert subject(FOLLOW_UP, "de", history, _frequency) == WEIDMANN


def test_a_question_naming_its_own_subject_keeps_to_it() -> None:
    history = conversation("Wie hoch war das Wachstumsbudget bei Weidmann Haustechnik?", "1,2 Mio. Euro [1].")
    assert subject("Und wie misst Orbis Verpackungen seit 2021?", "de", history, _frequency) == {
        *tokenize("Orbis Verpackungen"),
        "2021",
    }


def test_a_question_moving_on_to_a_source_it_describes_ends_the_look_back() -> None:
    history = conversation(
        "Wie hoch war 2023 das Wachstumsbudget bei Weidmann Haustechnik?",
        "1,2 Mio. Euro [1].",
        "Und laut der Umfrage unter Fachhändlern im Sanitärbereich?",
        "Dazu sagen die Quellen nichts.",
    )
    assert subject(FOLLOW_UP, "de", history, _frequency) == set()


ASKED_BEFORE = "Wie schnell veralten B2B-Kontaktdaten laut dem Dienstleister von Falkenberg?"


@pytest.mark.parametrize(
    "question",
    [
        "Und laut der Langzeitstudie zum Datenverfall im CRM?",
        "und  laut einer Umfrage unter 300 Vertriebsleitern",
        "Und gemäß dem Benchmark der Messeveranstalter, wie lange dauert es?",
        "Wie sieht das nach Angaben des Verbands der Maschinenbauer aus?",
        "And according to the long-term study of CRM data decay?",
        "what about according to Gartner's 2023 survey",
    ],
)
def test_a_source_described_in_words_not_asked_before_is_another_one(question: str) -> None:
    assert names_another_source(question, [ASKED_BEFORE])


@pytest.mark.parametrize(
    "question",
    [
        "Und laut der Studie?",  # a kind of source only: the one asked about
        "Und laut dem Artikel, wer entscheidet?",
        "And according to the same survey?",
        "Und laut ihr?",
        "Und laut dem Dienstleister, woran liegt das?",  # the source asked about before
        "Was sagt die Langzeitstudie zum Datenverfall?",  # no word saying whose account it asks for
    ],
)
def test_a_source_pointed_back_to_or_named_before_is_no_other_one(question: str) -> None:
    assert not names_another_source(question, [ASKED_BEFORE])


@settings(deadline=None)  # a first example can take longer than the rest on a busy machine
@given(st.lists(st.from_regex(r"[A-ZÄÖÜ][a-zäöüß]{3,12}", fullmatch=True), min_size=1, max_size=4))
def test_a_source_described_in_the_words_of_an_earlier_question_is_the_same(words: list[str]) -> None:
    described = " ".join(words)
    assert not names_another_source(f"Und laut der {described}?", [f"Was steht in der {described} zum Budget?"])
