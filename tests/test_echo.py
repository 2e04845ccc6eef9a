"""A follow-up answered with only the previous answer's figures ("29 %" again for "Und ein Jahr später?")
or with its sentences again ("and the other way round?"); not one that picks another of the things
the previous answer listed ("And the second most common one?")."""

import pytest
from helpers import conversation

from rag.echo import echoes_previous_answer


def after(answer: str) -> list[dict[str, str]]:
    return conversation("Wie viele Firmen bewerten die Zusammenarbeit 2022 als gut?", answer)


@pytest.mark.parametrize(
    ("previous", "answer"),
    [
        ("29 % [1]", "29% [1]"),
        ("Im Maschinenbau sind es 29 % [1].", "Ein Jahr später waren es im Maschinenbau 29 Prozent [2]."),
        ("Der Rabatt lag vor der Richtlinie bei 14,8 % [1].", "14,8 % [1]"),
        ("4 % Provision [1]", "Auch für Aufträge aus Marketing-Leads gab es 4 % Provision [1]."),
        ("2022 wurden davon gerade mal 38 % abgerufen [1].", "Nach der Umstellung 2023 waren es 38 % [1]."),
        ("The mean score was 51.8 (SD 12.7) [1].", "In the second wave it was 51.8 [1]."),
        ("Es gingen 1.140 Rückmeldungen ein [1].", "1140 [2]"),
        ("Der Vertrieb hat 3 Werktage Zeit [1].", "Auch danach bleiben es 3 Werktage [1]."),  # a digit with its unit
    ],
)
def test_an_answer_giving_only_figures_said_before_repeats_them(previous: str, answer: str) -> None:
    assert echoes_previous_answer(answer, after(previous))


@pytest.mark.parametrize(
    ("previous", "answer"),
    [
        ("29 % [1]", "35 % [1]"),  # a new figure
        ("29 % [1]", "29 % im Maschinenbau, 35 % in der Chemie [1]"),  # one of them new
        ("Im Maschinenbau sind es 29 % [1].", "Der Vertrieb lernt Markenwissen [1]."),  # no figure at all
        (
            '"Marketing und Vertrieb (Teil 1)" [1]',
            "Teil 1 schrieben Homburg (1) und Jensen (2) [1].",
        ),  # part and list numbers
        ("Die Zahlen stammen aus 2023 [1].", "2023 gab es 3 Abschlüsse [1]."),  # a year carried by the question
        ("", "29 % [1]"),  # nothing said before
        # One of several things the previous answer listed, not the figure it answered with.
        (
            "Am häufigsten war „falscher Ansprechpartner“ (34 %), danach „kein Bedarf“ (26 %) [1].",
            "Der zweithäufigste Code war „kein Bedarf“ mit 26 % [1].",
        ),
        ("Die Nutzung stieg um 46 %, in der Kontrollgruppe um 9 % [1].", "Um 9 % [1]."),
    ],
)
def test_an_answer_with_a_figure_of_its_own_or_none_does_not(previous: str, answer: str) -> None:
    assert not echoes_previous_answer(answer, after(previous))


def test_the_figure_answered_with_is_the_first_the_question_did_not_name() -> None:
    history = conversation(
        "Wohin berichten SDR-Teams laut der Umfrage unter 164 SaaS-Firmen?",
        "Laut der Umfrage unter 164 SaaS-Firmen 72 % an den Vertrieb, 19 % ans Marketing [1].",
    )
    assert echoes_previous_answer("72 % der SDR-Teams berichten an den Vertrieb [1].", history)
    assert not echoes_previous_answer("19 % berichten ans Marketing [1].", history)


def test_only_the_previous_answer_counts() -> None:
    history = [*after("29 % [1]"), *conversation("Und im Handel?", "41 % [1]")]
    assert not echoes_previous_answer("29 % [1]", history), "29 % was two answers ago, the question asks on"
    assert not echoes_previous_answer("29 % [1]", []), "no conversation"


@pytest.mark.parametrize(
    "declined", ["Dazu enthalten die Quellen keine Information.", "The sources contain no information on this."]
)
def test_after_an_exchange_answered_not_covered_the_answer_before_it_counts(declined: str) -> None:
    history = [*after("4 % Provision [1]"), *conversation("Und für Aufträge aus Marketing-Leads?", declined)]
    assert echoes_previous_answer("4 % Provision [1]", history), "the last figures the model saw, given again"
    assert not echoes_previous_answer("3 % Provision [1]", history)


@pytest.mark.parametrize(
    "answer",
    [
        "Christian Homburg says that the Verkaufsmethoden of Marketing can be learned from [1].",
        "christian homburg says that the  Verkaufsmethoden of Marketing can be learned from [2]",  # markers, case
    ],
)
def test_the_previous_answer_said_again_word_for_word_repeats_it(answer: str) -> None:
    previous = "Christian Homburg says that the Verkaufsmethoden of Marketing can be learned from [1]."
    assert echoes_previous_answer(answer, after(previous))


@pytest.mark.parametrize(
    "answer",
    [
        "Ab 15 Punkten übergibt Solvanta einen Kontakt an den Vertrieb [1].",  # its figure is new
        "Ab 65 Punkten übergibt Solvanta einen Kontakt an den Vertrieb [1]. Der Besuch der Preisseite gibt 15 [1].",
        "Der Vertrieb lernt vom Marketing die Markenführung [1].",
    ],
)
def test_an_answer_with_a_sentence_of_its_own_does_not(answer: str) -> None:
    assert not echoes_previous_answer(
        answer, after("Ab 65 Punkten übergibt Solvanta einen Kontakt an den Vertrieb [1].")
    )
