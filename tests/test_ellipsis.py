"""Elliptic follow-ups ("Und bei …?", "And for …?") completed from the question they continue, for the
searches and the answering model, when the model's rewrite is unusable."""

import pytest
from helpers import conversation
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ellipsis import completed_ellipsis


def asked(*questions: str) -> list[dict[str, str]]:
    """The history of a conversation in which these questions were asked (answers do not matter here)."""
    return conversation(*(text for question in questions for text in (question, "…")))


@pytest.mark.parametrize(
    ("earlier", "follow_up", "whole"),
    [
        # the same preposition closes the earlier question: its phrase is swapped
        (
            "Welche Reaktionsfrist für Leads gilt bei Kessler Antriebstechnik?",
            "Und bei Brandt & Söhne?",
            "Welche Reaktionsfrist für Leads gilt bei Brandt & Söhne?",
        ),
        (
            "Wie schnell veralten B2B-Kontaktdaten laut dem Dienstleister von Falkenberg ?",
            "und laut der Langzeitstudie zum Datenverfall im CRM?",
            "Wie schnell veralten B2B-Kontaktdaten laut der Langzeitstudie zum Datenverfall im CRM?",
        ),
        (
            "what reason did buyers give most often for losing?",
            "And for won deals?",
            "what reason did buyers give most often for won deals?",
        ),
        (
            "What was the mean Interface Friction Index score in the first wave?",
            "And in the second wave?",
            "What was the mean Interface Friction Index score in the second wave?",
        ),
        # a contracted form is its preposition
        (
            "Wie hoch ist die Quote im Maschinenbau?",
            "Und in der Chemiebranche?",
            "Wie hoch ist die Quote in der Chemiebranche?",
        ),
        # a year swaps with the year
        (
            "Wie schnell musste der Außendienst bei Grothe nach der LogiMAT 2023 die A-Kontakte anrufen?",
            "Und 2024?",
            "Wie schnell musste der Außendienst bei Grothe nach der LogiMAT 2024 die A-Kontakte anrufen?",
        ),
        # nothing to swap: the phrase is added
        (
            "Wie viele Firmen bewerten laut Schnittstellenreport 2022 die Zusammenarbeit als gut?",
            "Und im Maschinenbau?",
            "Wie viele Firmen bewerten laut Schnittstellenreport 2022 die Zusammenarbeit als gut im Maschinenbau?",
        ),
        # a German question ending in its verb keeps it: the preposition before it opens more than one condition
        (
            "Wie stark ist die Content-Nutzung im Feldexperiment bei Meridian gestiegen?",
            "Und in der Kontrollgruppe?",
            "Wie stark ist die Content-Nutzung im Feldexperiment bei Meridian gestiegen in der Kontrollgruppe?",
        ),
        (
            "What share of leads did field sales never contact before the SLA?",
            "And a year later?",
            "What share of leads did field sales never contact before the SLA a year later?",
        ),
    ],
)
def test_the_phrase_swaps_or_adds_one_condition(earlier: str, follow_up: str, whole: str) -> None:
    lang = "en" if follow_up.startswith("And") else "de"
    assert completed_ellipsis(follow_up, asked(earlier), lang) == whole


def test_a_chain_of_ellipses_goes_back_to_the_last_whole_question() -> None:
    history = asked(
        "Wie viele Entscheider misstrauen dem Lead Scoring?", "Und bei Firmen mit mehr als 1.000 Mitarbeitenden?"
    )
    assert completed_ellipsis("und bei den kleinen unter 250?", history, "de") == (
        "Wie viele Entscheider misstrauen dem Lead Scoring bei den kleinen unter 250?"
    ), "the condition the previous follow-up added is swapped, not stacked"
    history = asked("Wie viele Firmen bewerten die Zusammenarbeit als gut?", "Und im Maschinenbau?")
    assert completed_ellipsis("Und ein Jahr später?", history, "de") == (
        "Wie viele Firmen bewerten die Zusammenarbeit als gut im Maschinenbau ein Jahr später?"
    )


@pytest.mark.parametrize(
    ("questions", "follow_up", "lang"),
    [
        (["Wie viele Leads kamen 2023 über Messen?"], "Und was lernt der Vertrieb daraus?", "de"),  # no ellipsis
        (["Wie viele Leads kamen 2023 über Messen?"], "Und bei denen?", "de"),  # the phrase itself points back
        (["Welche Reaktionsfrist gilt bei Kessler?"], "Und bei wem nicht?", "de"),  # asks something new
        (["Who approves discounts at Lorenz?"], "And since when?", "en"),
        (["Wie viele Leads kamen 2023 über Messen?"], "And for webinars?", "en"),  # never across languages
        (["Wie viele Leads kamen 2023 über Messen?", "Wer entscheidet darüber?"], "Und bei Brandt?", "de"),
        ([], "Und bei Brandt?", "de"),
    ],
)
def test_no_completion_without_an_ellipsis_or_a_whole_question_before_it(
    questions: list[str], follow_up: str, lang: str
) -> None:
    assert completed_ellipsis(follow_up, asked(*questions), lang) is None


NAMES = st.builds(str.capitalize, st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=3, max_size=9))
# Words of German questions, among them prepositions that may close one, a year and a closing verb.
PARTS = st.one_of(NAMES, st.sampled_from([*"bei im für laut nach mit 500 2023 gestiegen".split(), "der Messe"]))


@settings(deadline=None)  # the first call loads the language identifier
@given(
    st.lists(PARTS, max_size=8),
    st.sampled_from(["bei", "für", "im", "in der", "laut", "nach"]),
    st.lists(PARTS, min_size=1, max_size=4),
    st.lists(NAMES, max_size=2),
)
def test_the_completion_is_the_earlier_question_with_one_phrase_swapped_or_added(
    earlier_words: list[str], preposition: str, phrase_words: list[str], older: list[str]
) -> None:
    """Never two questions glued: the completion is one question, ends with the whole phrase, and takes
    every other word, in order, from the beginning of the last whole question before it."""
    earlier = " ".join(["Wie viele Leads übergibt das Marketing dem Vertrieb", *earlier_words]) + "?"
    phrase = " ".join([preposition, *phrase_words])
    whole = completed_ellipsis(f"Und {phrase}?", asked(*(f"Was macht {name}?" for name in older), earlier), "de")
    assert whole is not None
    assert whole.count("?") == 1 and whole.endswith(f" {phrase}?")
    kept = whole.removesuffix(f" {phrase}?").split()
    assert kept == earlier.rstrip("?").split()[: len(kept)] and len(kept) >= 8
