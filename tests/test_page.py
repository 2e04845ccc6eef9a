"""The chat page driven headless with Streamlit's AppTest: real index, real embedder, real generators."""

import json
import sqlite3
from pathlib import Path

import pytest
from pdfs import fpdf_pdf
from streamlit.testing.v1 import AppTest

from rag.feedback import feedback_path
from rag.settings import Settings
from ui.texts import TEXTS

PAGE = str(Path(__file__).resolve().parent.parent / "ui" / "page.py")
FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
DE = TEXTS["de"]


def open_page(monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    page = AppTest.from_file(PAGE, default_timeout=900)
    page.run()
    assert not page.exception, page.exception
    return page


def ask(page: AppTest, question: str) -> AppTest:
    page.chat_input[0].set_value(question).run()
    assert not page.exception, page.exception
    return page


def markdown_text(page: AppTest) -> str:
    return "\n".join(element.value for element in page.markdown)


def test_an_empty_index_is_built_from_the_corpus_on_first_start(monkeypatch: pytest.MonkeyPatch) -> None:
    page = open_page(monkeypatch, RAG_GENERATOR="extractive")
    assert page.status[0].label.startswith("Index aufgebaut: files: 4 seen, 4 added")
    sidebar = " ".join(element.value for element in page.sidebar.caption)
    assert "Dokumente: 4" in sidebar and "Embedder: use\\-multilingual" in sidebar


def test_a_question_gets_an_answer_and_numbered_source_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    page = ask(open_page(monkeypatch, RAG_GENERATOR="extractive"), FIVE_FACTORS)
    assert page.chat_message[0].name == "user" and page.chat_message[1].name == "assistant"
    text = markdown_text(page)
    assert "Informationsaustausch" in text and "\\[1\\]" in text
    cards = [expander.label for expander in page.expander]
    assert cards and cards[0].startswith("\\[1\\] Marketing und Vertrieb")
    card = page.expander[0]
    card_text = " ".join(element.value for element in card.markdown) + " ".join(c.value for c in card.caption)
    assert ":orange-background[" in card_text, "the supporting sentence is highlighted"
    assert "Datei\\: corpus/blog/marketing\\-vertrieb\\-teil\\-1\\.md" in card_text
    assert "Blogartikel" in card_text


def test_an_abstained_answer_says_so_and_shows_no_cards(monkeypatch: pytest.MonkeyPatch) -> None:
    page = ask(open_page(monkeypatch, RAG_GENERATOR="extractive"), "Wie backe ich einen Marmorkuchen?")
    assert page.info[0].value == "Dazu enthalten die Quellen keine Information\\."
    assert len(page.expander) == 0


def test_only_a_follow_up_can_show_the_question_it_was_searched_as(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default model. Whether its rewrite of the follow-up is usable is the model's; that
    a self-contained question never shows one, and a shown one carries the conversation, is ours."""

    def searched_as(page) -> list[str]:
        return [c.value for c in page.main.caption if c.value.startswith("Gesucht nach")]

    page = ask(open_page(monkeypatch), "Was kann das Marketing vom Vertrieb lernen?")
    assert searched_as(page) == [], "a first question is searched as asked"
    page = ask(page, "Und was lernt der Vertrieb daraus?")
    follow_up = searched_as(page)
    assert len(follow_up) <= 1
    assert all("Marketing" in caption and "Vertrieb" in caption for caption in follow_up), follow_up
    page = ask(page, "Wer hat den Blogartikel über Marketing und Vertrieb geschrieben?")
    assert searched_as(page) == follow_up, "a self-contained new question is searched exactly as asked"
    page.sidebar.button[0].click().run()  # new conversation
    assert len(page.chat_message) == 0


def test_the_interface_speaks_english_too(monkeypatch: pytest.MonkeyPatch) -> None:
    page = open_page(monkeypatch, RAG_GENERATOR="extractive")
    page.sidebar.radio[0].set_value("en").run()
    assert page.title[0].value == TEXTS["en"]["title"]
    page = ask(page, "Which five factors shape the collaboration of marketing and sales?")
    assert "Sources" in markdown_text(page)


def test_a_vote_lands_in_sqlite_with_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    page = ask(open_page(monkeypatch, RAG_GENERATOR="extractive"), FIVE_FACTORS)
    page.feedback[0].set_value(0).run()  # thumbs down
    page.text_input[0].set_value("Zu knapp.").run()
    next(b for b in page.button if b.label == DE["feedback_send"]).click().run()
    with sqlite3.connect(feedback_path(Settings().data_dir)) as db:
        rows = db.execute(
            "SELECT vote, comment, question, answer, citations, embedder, generator FROM feedback"
        ).fetchall()
    assert len(rows) == 1
    vote, comment, question, answer, citations, embedder, generator = rows[0]
    assert (vote, comment, question) == ("down", "Zu knapp.", FIVE_FACTORS)
    assert "Informationsaustausch" in answer and json.loads(citations)[0]["n"] == 1
    assert (embedder, generator) == ("use-multilingual", "extractive")


def test_upload_is_hidden_unless_the_setting_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    page = open_page(monkeypatch, RAG_GENERATOR="extractive")
    assert len(page.sidebar.get("file_uploader")) == 0


def test_uploaded_documents_are_ingested_with_per_file_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    page = open_page(monkeypatch, RAG_GENERATOR="extractive", RAG_ALLOW_UPLOAD="true")
    uploader = page.sidebar.get("file_uploader")[0]
    uploader.set_value(
        [
            (
                "quokka.pdf",
                fpdf_pdf(["Das Quokka-Protokoll regelt die Lead-Uebergabe in 12 Stunden."]),
                "application/pdf",
            ),
            ("leer.md", b"", "text/markdown"),
        ]
    ).run()
    next(b for b in page.sidebar.button if b.label == DE["upload_button"]).click().run()
    errors = [e.value for e in page.sidebar.error]
    assert len(errors) == 1 and "leer\\.md" in errors[0] and "empty file" in errors[0]
    assert "1 added" in page.sidebar.success[0].value and "1 failed" in page.sidebar.success[0].value
    page = ask(page, "Was regelt das Quokka-Protokoll?")
    assert "Quokka" in markdown_text(page)
