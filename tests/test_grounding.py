"""Figures written as words count as the figures they are; a follow-up naming nothing keeps to the
names asked about before."""

from hypothesis import given
from hypothesis import strategies as st

from rag.grounding import ENGLISH_NUMBERS, GERMAN_NUMBERS, SPELLED_NUMBERS, counts, spelled_numbers, subject
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


def _turns(*texts: str) -> list[dict[str, str]]:
    return [{"role": ("user", "assistant")[i % 2], "content": text} for i, text in enumerate(texts)]


WEIDMANN = set(tokenize("Weidmann Haustechnik"))
FOLLOW_UP = "Wer entscheidet, wenn sich die beiden nicht einig sind?"


def test_a_follow_up_naming_nothing_keeps_to_the_names_asked_before_not_their_year() -> None:
    history = _turns("Wie hoch war 2023 das Wachstumsbudget bei Weidmann Haustechnik?", "1,2 Mio. Euro [1].")
    assert subject(FOLLOW_UP, "de", [], _frequency) == set()
    assert subject(FOLLOW_UP, "de", history, _frequency) == WEIDMANN


def test_the_last_question_naming_any_counts_not_an_answer_or_a_question_naming_none() -> None:
    history = _turns(
        "Wie hoch war 2023 das Wachstumsbudget bei Weidmann Haustechnik?",
        "Anders als Orbis Verpackungen gab Weidmann 1,2 Mio. Euro aus [1].",
        "Und 2024?",
        "Dazu sagen die Quellen nichts.",
    )
    assert subject(FOLLOW_UP, "de", history, _frequency) == WEIDMANN


def test_a_question_naming_its_own_subject_keeps_to_it() -> None:
    history = _turns("Wie hoch war das Wachstumsbudget bei Weidmann Haustechnik?", "1,2 Mio. Euro [1].")
    assert subject("Und wie misst Orbis Verpackungen seit 2021?", "de", history, _frequency) == {
        *tokenize("Orbis Verpackungen"),
        "2021",
    }
