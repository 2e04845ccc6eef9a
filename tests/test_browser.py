"""The chat page in a real headless browser: Debian's chromium driven by Playwright (no browser download)."""

from pathlib import Path

import pytest
from helpers import (
    ARTIFACTS,
    ASKED_AGAIN_ANSWER,
    KESSLER_QUESTION_EN,
    WITHDRAWN_DRAFT,
    AppServer,
    asked_again_model,
    indexed_settings,
    kessler_index,
)
from playwright.sync_api import Browser, Page, expect

from rag.prompts import not_covered

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
ANSWER_DONE = "[data-testid='stFeedback']"  # the vote buttons appear once the answer is final

XSS_ARTICLE = """---
title: "Quokka-Leitfaden <img src=x onerror=\\"window.__xss='title'\\">"
author: "<script>window.__xss='author'</script>"
kind: blog
---
## Das Quokka-Protokoll

Das Quokka-Protokoll regelt die Übergabe von Leads <script>window.__xss='script'</script> binnen 12 Stunden.
Ein Bild: ![x](javascript:window.__xss='image') und ein Link [hier klicken](javascript:window.__xss='link').
Rohes HTML: <img src=x onerror="window.__xss='img'"> <iframe src="javascript:window.__xss='frame'"></iframe> <b>fett</b>
Streamlit-Direktive: :red[rot] und LaTeX $x^2$ und Emoji :smile: bleiben Text.
"""


def ask(page: Page, question: str) -> None:
    page.locator("[data-testid='stChatInput'] textarea").fill(question)
    page.keyboard.press("Enter")


def test_a_question_streams_an_answer_with_source_cards(browser: Browser, tmp_path: Path) -> None:
    """With the default model: the answer streams in, then the cards; screenshots for the README."""
    with AppServer(tmp_path / "data") as app:
        page = browser.new_page(viewport={"width": 1280, "height": 1500}, locale="de-DE")
        page.goto(app.url)
        expect(page.locator("[data-testid='stChatInput'] textarea")).to_be_visible(timeout=180_000)
        ask(page, FIVE_FACTORS)
        # Sources show before the answer is written; then the answer streams in behind a cursor.
        expect(page.get_by_text("Gefundene Passagen")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("▌")).to_be_visible(timeout=120_000)
        expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=300_000)
        answer = page.locator("[data-testid='stChatMessage']").nth(1)
        expect(answer).to_contain_text("Informationsaustausch")
        cards = answer.locator("[data-testid='stExpander']")
        expect(cards.first).to_contain_text("[1]")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "chat.png", full_page=True)
        cards.first.locator("summary").click()
        expect(cards.first).to_contain_text("fünf große Themenbereiche")
        page.screenshot(path=ARTIFACTS / "chat-source-open.png", full_page=True)


def test_the_shipped_articles_yes_no_author_and_follow_up_questions_answer_as_the_article_says(
    browser: Browser, tmp_path: Path
) -> None:
    """Issue 13's shipped-corpus cases, default model: the study says identical thought worlds
    should not be the aim (the model's "Ja"/"Nein, … sollten identische …" is replaced by the cited
    sentence), the blog article's author is the one in its author field, and "Und was lernt der
    Vertrieb daraus?" after the five factors names what sales learns (the model restates the
    sentence announcing the four fields; the listing after it completes the answer)."""
    with AppServer(tmp_path / "data") as app:
        page = browser.new_page(viewport={"width": 1280, "height": 1200}, locale="de-DE")
        page.goto(app.url)
        expect(page.locator("[data-testid='stChatInput'] textarea")).to_be_visible(timeout=180_000)
        answers = page.locator("[data-testid='stChatMessage']")
        ask(page, "Sollten Marketing und Vertrieb identische Gedankenwelten haben?")
        expect(page.locator(ANSWER_DONE)).to_have_count(1, timeout=300_000)
        thought_worlds = answers.nth(1).locator("[data-testid='stMarkdownContainer']").first
        expect(thought_worlds).to_contain_text("nicht das Ziel")
        expect(thought_worlds).not_to_contain_text("Ja,")
        page.goto(app.url)  # a new conversation
        expect(page.locator("[data-testid='stChatInput'] textarea")).to_be_visible(timeout=60_000)
        ask(page, "Wer hat den Blogartikel über Marketing und Vertrieb geschrieben?")
        expect(page.locator(ANSWER_DONE)).to_have_count(1, timeout=300_000)
        expect(answers.nth(1).locator("[data-testid='stMarkdownContainer']").first).to_contain_text("Andreas")
        page.goto(app.url)
        expect(page.locator("[data-testid='stChatInput'] textarea")).to_be_visible(timeout=60_000)
        ask(page, "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?")
        expect(page.locator(ANSWER_DONE)).to_have_count(1, timeout=300_000)
        ask(page, "Und was lernt der Vertrieb daraus?")
        expect(page.locator(ANSWER_DONE)).to_have_count(2, timeout=300_000)
        learned = answers.nth(3).locator("[data-testid='stMarkdownContainer']").first
        expect(learned).to_contain_text("Beziehungsmanagement")
        expect(learned).to_contain_text("Markenwissen")
        page.screenshot(path=ARTIFACTS / "chat-follow-up.png", full_page=True)


@pytest.mark.parametrize(
    ("draft", "streamed"),
    [(WITHDRAWN_DRAFT, True), (not_covered("en"), False)],  # a refusal is held back for the second try
    ids=["withdrawn", "declined"],
)
def test_an_answer_asked_again_says_so_then_gives_way(
    browser: Browser, tmp_path: Path, draft: str, streamed: bool
) -> None:
    """The model (scripted: see asked_again_model) streams an answer with a figure its article lacks, or
    declines. While it is asked again the page says so (under the streamed text, if any); the checked
    answer then takes its place."""
    data_dir = kessler_index(tmp_path).data_dir
    with asked_again_model(draft=draft) as model, AppServer(data_dir, **model.env()) as app:
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
        page.goto(app.url)
        expect(page.locator("[data-testid='stChatInput'] textarea")).to_be_visible(timeout=180_000)
        ask(page, KESSLER_QUESTION_EN)
        answer = page.locator("[data-testid='stChatMessage']").nth(1)
        expect(answer.get_by_text("Asking the model again, in the language of the sources")).to_be_visible(
            timeout=120_000
        )
        if streamed:
            expect(answer).to_contain_text(WITHDRAWN_DRAFT.removesuffix(" [1]."))
        else:
            expect(answer).not_to_contain_text("no information")
        expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=120_000)
        expect(answer).to_contain_text(ASKED_AGAIN_ANSWER.removesuffix(" [1]."))
        expect(answer).not_to_contain_text("36 hours")
        expect(answer).not_to_contain_text("Asking the model again")
        assert len(model.asked) == 4, "translation, draft, second try, translation back"


def test_a_document_carrying_script_and_markup_renders_inert(browser: Browser, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "quokka.md").write_text(XSS_ARTICLE, encoding="utf-8")
    indexed_settings(tmp_path / "data", folder)
    with AppServer(tmp_path / "data", RAG_GENERATOR="extractive") as app:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(app.url)
        ask(page, "Was regelt das Quokka-Protokoll?")
        expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=120_000)
        for card in page.locator("[data-testid='stExpander'] summary").all():
            card.click()
        body = page.locator("body")
        expect(body).to_contain_text("<script>window.__xss='script'</script>")  # shown as text
        expect(body).to_contain_text("![x](javascript:window.__xss='image')")
        expect(body).to_contain_text(":red[rot]")
        assert page.evaluate("window.__xss") is None, "a payload ran"
        assert dialogs == []
        messages = page.locator("[data-testid='stChatMessage']")
        assert messages.count() == 2
        injected = messages.locator("img[src='x'], iframe, a[href^='javascript'], b, script")
        assert injected.count() == 0, "markup from the document was rendered"
