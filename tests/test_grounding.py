"""Figures written as words count as the figures they are."""

from hypothesis import given
from hypothesis import strategies as st

from rag.grounding import ENGLISH_NUMBERS, GERMAN_NUMBERS, SPELLED_NUMBERS, counts, spelled_numbers

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
