"""A follow-up keeps to the document the previous answer quoted (rag/continuation.py)."""

from pathlib import Path

import pytest
from helpers import SDR_HISTORY, SDR_SURVEY, conversation, indexed_settings, passage, spy_assistant

from rag.continuation import continued_document, quoted_document
from rag.settings import Settings

# Another article of the same theme, written the way blogs are, with its own figures for the size the
# follow-up asks about: what the small model picked up before, instead of the survey's 81 %.
SDR_PAY = (
    "Newsletter abonnieren | Datenschutz | Impressum\n\n"
    "Was verdient ein SDR 2023 wirklich? Wir haben 90 Stellenanzeigen ausgewertet (nicht repräsentativ!!). "
    "Bei Unternehmen mit mehr als 200 Mitarbeitenden lag das Fixum bei 48.000 € , der variable Anteil bei "
    "im Schnitt 35 %. Und ja: SDR-Teams, die an den Vertrieb berichten, bekommen öfter einen Bonus pro "
    "qualifiziertem Termin - bei 64 % der Anzeigen.\n\n"
    "Über den Autor: Tim ist seit 2015 im Inside Sales unterwegs. Kommentare (3)"
)
FOLLOW_UP = "Und bei Unternehmen mit mehr als 200 Mitarbeitenden?"
REWRITE = "An wen berichten SDR-Teams laut der Umfrage bei Unternehmen mit mehr als 200 Mitarbeitenden meistens?"


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("articles")
    (folder / "sdr-umfrage.md").write_text(f"# Wo sitzt das SDR-Team?\n\n{SDR_SURVEY}\n", encoding="utf-8")
    (folder / "sdr-gehalt.md").write_text(f"# SDR-Gehälter im Check\n\n{SDR_PAY}\n", encoding="utf-8")
    return indexed_settings(tmp_path_factory.mktemp("data"), folder, chunk_size=300, chunk_overlap=0)


def sources(passages: list) -> set[str]:
    return {Path(p.metadata["source"]).name for p in passages}


def test_a_follow_up_is_answered_from_the_survey_the_previous_answer_quoted(two_articles: Settings) -> None:
    assistant, spy = spy_assistant(two_articles, REWRITE, "81 % an den Vertrieb [1].")
    answer = assistant.ask(FOLLOW_UP, history=SDR_HISTORY)
    assert sources(answer.retrieved) == {"sdr-umfrage.md"}
    assert "48.000" not in spy.calls[1][-1]["content"], "the other article's figures are not in the prompt"


def test_a_follow_up_about_what_the_quoted_document_does_not_name_keeps_every_document(
    two_articles: Settings,
) -> None:
    assistant, _ = spy_assistant(two_articles, "Wie hoch ist das Fixum eines SDR?", "48.000 € [1].")
    answer = assistant.ask("Und wie hoch ist das Fixum?", history=SDR_HISTORY)
    assert "sdr-gehalt.md" in sources(answer.retrieved), "the survey says nothing of pay"


def test_a_new_question_is_not_held_to_the_document_before(two_articles: Settings) -> None:
    assistant, _ = spy_assistant(two_articles, "48.000 € [1].")
    answer = assistant.ask("Wie hoch ist das Fixum eines SDR bei Unternehmen mit mehr als 200 Mitarbeitenden?",
                           history=SDR_HISTORY)  # fmt: skip
    assert "sdr-gehalt.md" in sources(answer.retrieved)


DOCUMENTS = {"survey": SDR_SURVEY, "pay": SDR_PAY}


def test_the_quoted_document_is_the_one_with_the_answers_words_and_amounts() -> None:
    assert quoted_document("72 % der SDR-Teams berichten an den Vertrieb [1].", DOCUMENTS) == "survey"
    assert quoted_document("Das Fixum lag bei 48.000 € [2].", DOCUMENTS) == "pay"


def test_an_answer_with_an_amount_no_document_states_quotes_none() -> None:
    assert quoted_document("73 % der SDR-Teams berichten an den Vertrieb [1].", DOCUMENTS) is None


def test_an_answer_in_the_other_language_than_its_source_quotes_none() -> None:
    """Translated, it shares too few words with the document to tell which one it was."""
    assert quoted_document("Most SDR teams report to sales, 72 % of them [1].", DOCUMENTS) is None


def test_after_a_declined_follow_up_the_answer_before_it_counts() -> None:
    history = [*SDR_HISTORY, *conversation("Und 2021?", "Dazu enthalten die Quellen keine Information.")]
    passages = [passage(1, SDR_PAY, doc_id="pay"), passage(2, SDR_SURVEY, doc_id="survey")]
    assert continued_document(FOLLOW_UP, "de", history, passages, DOCUMENTS.__getitem__) == "survey"
    assert continued_document("Und bei Agenturen?", "de", history, passages, DOCUMENTS.__getitem__) is None
    assert quoted_document("", DOCUMENTS) is None
