"""A follow-up the model answered with the previous answer's figure again: the one passage sentence that
names what the follow-up adds, with an amount the previous answer lacks, quoted instead."""

from helpers import SDR_HISTORY, SDR_SURVEY, conversation, passage

from rag.requote import requoted_answer

LARGE_FIRMS = "Und bei Unternehmen mit mehr als 200 Mitarbeitenden?"
QUOTE = (
    "Bei Unternehmen mit mehr als 200 Mitarbeitenden waren es sogar 81 % an den Vertrieb, bei kleineren Startups "
    "war es fast ausgeglichen (54 % zu 46 %)."
)


def test_the_sentence_naming_what_the_follow_up_adds_is_quoted_and_cited() -> None:
    passages = [passage(1, "Im Mittelstand sitzen SDRs meist im Vertrieb."), passage(2, SDR_SURVEY)]
    assert requoted_answer(LARGE_FIRMS, "de", passages, SDR_HISTORY) == f"{QUOTE} [2]"


def test_a_sentence_in_two_overlapping_passages_counts_once_and_cites_the_first() -> None:
    passages = [passage(1, SDR_SURVEY), passage(2, SDR_SURVEY[200:])]
    assert requoted_answer(LARGE_FIRMS, "de", passages, SDR_HISTORY) == f"{QUOTE} [1]"


def test_two_sentences_that_could_answer_leave_it_declined() -> None:
    older = "Bei Unternehmen mit mehr als 200 Mitarbeitenden lag der Anteil 2021 noch bei 77 Prozent."
    assert requoted_answer(LARGE_FIRMS, "de", [passage(1, SDR_SURVEY), passage(2, older)], SDR_HISTORY) is None


def test_a_follow_up_without_words_of_its_own_gets_nothing() -> None:
    assert requoted_answer("Und umgekehrt?", "de", [passage(1, SDR_SURVEY)], SDR_HISTORY) is None


def test_a_sentence_with_only_the_previous_answers_amounts_is_no_answer() -> None:
    history = [SDR_HISTORY[0], {"role": "assistant", "content": "81 % an den Vertrieb, 54 % zu 46 % [1]."}]
    assert requoted_answer(LARGE_FIRMS, "de", [passage(1, SDR_SURVEY)], history) is None


def test_a_sentence_in_the_other_language_is_not_quoted() -> None:
    english = "At companies with more than 200 employees (Unternehmen, Mitarbeitenden), 81 % reported to sales."
    assert requoted_answer(LARGE_FIRMS, "de", [passage(1, english, lang="en")], SDR_HISTORY) is None


def test_a_year_must_be_the_one_asked_for() -> None:
    history = conversation(
        "Wie hoch war die Frühkündigungsquote bei Quenzer vor dem Steckbrief?", "Sie lag bei 9 % [1]."
    )
    later = passage(1, "Im Jahr 2024 lag die Frühkündigungsquote bei 3 %, so die Auswertung vom 05.03.2024.")
    assert requoted_answer("Und 2023?", "de", [later], history) is None
    that_year = passage(2, "Die Frühkündigungsquote lag 2023 bei 4 % - ein Jahr davor waren es noch 9 %.")
    assert requoted_answer("Und 2023?", "de", [later, that_year], history) == (
        "Die Frühkündigungsquote lag 2023 bei 4 % - ein Jahr davor waren es noch 9 %. [1]"
    ).replace("[1]", "[2]")
