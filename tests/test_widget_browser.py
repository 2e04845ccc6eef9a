"""The widget on a host page from another origin, in Debian's chromium driven by Playwright."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    ARTIFACTS,
    ASKED_AGAIN_ANSWER,
    KESSLER_QUESTION_EN,
    WITHDRAWN_DRAFT,
    AppServer,
    StaticSite,
    ask_and_open_the_first_card,
    asked_again_model,
    indexed_settings,
    kessler_index,
    open_widget,
    widget_demo,
)
from playwright.sync_api import Browser, Page, expect

from rag.prompts import not_covered
from rag.settings import PROJECT_ROOT

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
PAYLOAD = """---
title: "Quokka <img src=x onerror=\\"window.__xss='title'\\">"
kind: blog
---
Das Quokka-Protokoll regelt die Übergabe <script>window.__xss='script'</script> von Leads binnen 12 Stunden.
Dazu: <img src=x onerror="window.__xss='img'"> und <a href="javascript:window.__xss='link'">Link</a>.
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StaticSite, StaticSite]]:
    """Two intranet origins on loopback: one will be listed, one not."""
    with (
        StaticSite(tmp_path_factory.mktemp("intranet")) as listed,
        StaticSite(tmp_path_factory.mktemp("other")) as other,
    ):
        yield listed, other


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, sites: tuple[StaticSite, StaticSite]) -> Iterator[AppServer]:
    listed, _ = sites
    data = tmp_path_factory.mktemp("widget") / "data"
    articles = tmp_path_factory.mktemp("articles")
    (articles / "quokka.md").write_text(PAYLOAD, encoding="utf-8")
    indexed_settings(data, PROJECT_ROOT / "corpus", articles)
    with AppServer(data, RAG_GENERATOR="extractive", RAG_ALLOWED_ORIGINS=listed.url) as app:
        yield app


@pytest.fixture(scope="module")
def demo(sites: tuple[StaticSite, StaticSite], assistant: AppServer) -> str:
    """The shipped demo page on the listed origin."""
    return widget_demo(sites[0], "demo.html", assistant.url)


def ask(page: Page, question: str) -> None:
    page.locator("section.panel textarea").fill(question)
    page.keyboard.press("Enter")


def test_the_widget_answers_with_sources_on_an_allowed_site(browser: Browser, demo: str) -> None:
    page = open_widget(browser, demo)
    expect(page.locator("header h2")).to_have_text("Wissensassistent Marketing × Vertrieb")
    ask(page, FIVE_FACTORS)
    answer = page.locator(".msg.bot").last
    expect(answer.locator("button.marker").first).to_be_visible(timeout=120_000)
    expect(answer).to_contain_text("Informationsaustausch")
    answer.locator("button.marker").first.click()
    card = answer.locator(".card").first
    expect(card).to_be_visible()
    expect(card).to_contain_text("Marketing und Vertrieb")
    expect(card.locator("mark")).to_contain_text("fünf große Themenbereiche")
    # The host page paints every button hotpink with !important; the Shadow DOM keeps the widget's own look.
    send = page.locator("section.panel form button")
    assert send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 83, 148)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "widget.png")
    page.reload()  # the conversation survives in sessionStorage
    expect(page.locator(".msg.user")).to_have_text(FIVE_FACTORS)


def test_the_widget_works_with_the_keyboard_alone(browser: Browser, demo: str) -> None:
    page = browser.new_page()
    page.goto(demo)
    launcher = page.locator("button.launcher")
    expect(launcher).to_be_visible()
    for _ in range(10):  # tab through the host page until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("b => b.getRootNode().activeElement === b"):
            break
    page.keyboard.press("Enter")
    textarea = page.locator("section.panel textarea")
    expect(textarea).to_be_focused()
    page.keyboard.type("Was ist Job-Rotation?")
    page.keyboard.press("Enter")
    expect(page.locator(".msg.bot").last).to_contain_text("Job", timeout=120_000)
    page.keyboard.press("Escape")
    expect(page.locator("section.panel")).to_be_hidden()
    expect(launcher).to_be_focused()


@pytest.mark.parametrize(
    ("draft", "shown_meanwhile"),
    [(WITHDRAWN_DRAFT, WITHDRAWN_DRAFT), (not_covered("en"), "")],  # a refusal is held back, never shown
    ids=["withdrawn", "declined"],
)
def test_while_the_model_is_asked_again_the_widget_says_so_and_greys_what_it_streamed(
    browser: Browser, sites: tuple[StaticSite, StaticSite], tmp_path: Path, draft: str, shown_meanwhile: str
) -> None:
    """The model (scripted: see asked_again_model) streams an answer with a figure its article lacks, or declines."""
    data_dir = kessler_index(tmp_path).data_dir
    with (
        asked_again_model(draft=draft) as model,
        AppServer(data_dir, RAG_ALLOWED_ORIGINS=sites[0].url, **model.env()) as app,
    ):
        page = open_widget(browser, widget_demo(sites[0], "asked-again.html", app.url, data_lang="en"))
        ask(page, KESSLER_QUESTION_EN)
        status = page.locator("section.panel .note").last
        expect(status).to_have_text("Asking the model again, in the language of the sources …", timeout=60_000)
        provisional = page.locator(".msg.bot").last
        expect(provisional).to_have_text(shown_meanwhile)
        expect(provisional).to_have_class(re.compile(r"\bprovisional\b"))
        answer = page.locator(".msg.bot").last
        expect(answer.locator("button.marker").first).to_be_visible(timeout=120_000)
        expect(answer).to_contain_text(ASKED_AGAIN_ANSWER.removesuffix(" [1]."))
        expect(page.locator("section.panel")).not_to_contain_text("36 hours")
        expect(page.locator("section.panel")).not_to_contain_text("Asking the model again")


def test_an_unlisted_site_sees_the_not_enabled_state(
    browser: Browser, sites: tuple[StaticSite, StaticSite], assistant: AppServer
) -> None:
    page = open_widget(browser, widget_demo(sites[1], "demo.html", assistant.url))
    expect(page.locator("section.panel")).to_contain_text("nicht freigeschaltet")
    expect(page.locator("section.panel textarea")).to_be_disabled()


def test_a_hostile_document_stays_text_in_the_widget(browser: Browser, demo: str) -> None:
    dialogs: list[str] = []
    page = open_widget(browser, demo, dialogs=dialogs)
    ask(page, "Was regelt das Quokka-Protokoll?")
    answer = page.locator(".msg.bot").last
    expect(answer.locator("button.marker").first).to_be_visible(timeout=120_000)
    for marker in answer.locator("button.marker").all():
        marker.click()
    expect(answer).to_contain_text("<script>window.__xss='script'</script>")
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.locator("section.panel img, section.panel script, section.panel a[href^='javascript']").count() == 0


# Every CSP violation, also one inside the widget's shadow root (the event is composed), and the console's
# "Refused to …" lines. Playwright's init scripts are not subject to the page's CSP.
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`), true);
"""
# A browser without constructable stylesheets (Safari before 16.4, Firefox before 101).
WITHOUT_CONSTRUCTABLE_STYLESHEETS = "delete ShadowRoot.prototype.adoptedStyleSheets;"
CONFIGURED_COLOUR = ("#7a1f5c", "rgb(122, 31, 92)")
VIEWPORT = {"width": 1280, "height": 860}


def strict_page(browser: Browser, url: str, constructable: bool) -> tuple[Page, list[str]]:
    """A page with violations watched; returns it and the console lines reporting one."""
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(WATCH_CSP)
    if not constructable:
        page.add_init_script(WITHOUT_CONSTRUCTABLE_STYLESHEETS)
    refused: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    page.goto(url)
    return page, refused


def assert_launcher_in_its_corner(page: Page) -> None:
    launcher = page.locator("button.launcher")
    expect(launcher).to_be_visible()
    style = launcher.evaluate("b => [getComputedStyle(b).position, getComputedStyle(b).backgroundColor]")
    assert style == ["fixed", CONFIGURED_COLOUR[1]]
    box = launcher.bounding_box()
    assert box is not None
    assert (box["x"] + box["width"], box["y"] + box["height"]) == (VIEWPORT["width"] - 20, VIEWPORT["height"] - 20)


@pytest.mark.parametrize("constructable", [True, False], ids=["constructed-stylesheet", "link-fallback"])
def test_the_widget_keeps_its_look_under_a_strict_content_security_policy(
    browser: Browser, sites: tuple[StaticSite, StaticSite], assistant: AppServer, constructable: bool
) -> None:
    """The ordinary intranet policy: the assistant's origin allowed, no 'unsafe-inline' anywhere."""
    policy = (
        f"default-src 'self'; script-src 'self' {assistant.url}; style-src 'self' {assistant.url}; "
        f"connect-src 'self' {assistant.url}"
    )
    url = widget_demo(sites[0], "strict.html", assistant.url, policy, data_color=CONFIGURED_COLOUR[0])
    page, refused = strict_page(browser, url, constructable)
    assert_launcher_in_its_corner(page)
    page.locator("button.launcher").click()
    panel = page.locator("section.panel")
    expect(panel).to_be_visible()
    assert panel.evaluate("p => getComputedStyle(p).position") == "fixed"
    ask_and_open_the_first_card(page, FIVE_FACTORS)
    answer = page.locator(".msg.bot").last
    expect(answer.locator(".card mark").first).to_contain_text("fünf große Themenbereiche")
    send = panel.locator("form button")
    assert send.evaluate("b => getComputedStyle(b).backgroundColor") == CONFIGURED_COLOUR[1]
    if constructable:
        answer.evaluate("a => a.scrollIntoView({block: 'start'})")  # the answer's start, then its open card
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "widget-csp.png")
    assert page.evaluate("window.__violations") == [] and refused == []


def test_a_nonce_on_the_snippet_lets_the_widget_in_where_only_nonces_are_trusted(
    browser: Browser, sites: tuple[StaticSite, StaticSite], assistant: AppServer
) -> None:
    """Scripts and styles only by nonce, not by origin: the <link> fallback needs the snippet's nonce."""
    nonce = "r4nd0m+N0nce/42=="
    policy = (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; connect-src {assistant.url}"
    )
    url = widget_demo(sites[0], "nonce.html", assistant.url, policy, data_color=CONFIGURED_COLOUR[0], nonce=nonce)
    page, refused = strict_page(browser, url, constructable=False)
    assert_launcher_in_its_corner(page)
    assert page.evaluate("window.__violations") == [] and refused == []
