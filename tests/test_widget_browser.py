"""The widget on a host page from another origin, in Debian's chromium driven by Playwright."""

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import ARTIFACTS, AppServer, indexed_settings
from playwright.sync_api import Browser, Page, expect

from rag.settings import PROJECT_ROOT

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
PAYLOAD = """---
title: "Quokka <img src=x onerror=\\"window.__xss='title'\\">"
kind: blog
---
Das Quokka-Protokoll regelt die Übergabe <script>window.__xss='script'</script> von Leads binnen 12 Stunden.
Dazu: <img src=x onerror="window.__xss='img'"> und <a href="javascript:window.__xss='link'">Link</a>.
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """Two intranet origins on loopback serving the shipped demo page: one will be listed, one not."""
    folder = tmp_path_factory.mktemp("intranet")
    servers = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield *(f"http://127.0.0.1:{s.server_address[1]}" for s in servers), folder
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, hosts: tuple[str, str, Path]) -> Iterator[AppServer]:
    allowed, _, folder = hosts
    data = tmp_path_factory.mktemp("widget") / "data"
    articles = tmp_path_factory.mktemp("articles")
    (articles / "quokka.md").write_text(PAYLOAD, encoding="utf-8")
    indexed_settings(data, PROJECT_ROOT / "corpus", articles)
    with AppServer(data, RAG_GENERATOR="extractive", RAG_ALLOWED_ORIGINS=allowed) as app:
        demo = (PROJECT_ROOT / "widget" / "demo.html").read_text(encoding="utf-8")
        (folder / "demo.html").write_text(demo.replace("http://localhost:8501", app.url), encoding="utf-8")
        yield app


def open_widget(browser: Browser, url: str, dialogs: list[str] | None = None) -> Page:
    """The demo page with the widget opened; any alert/confirm/prompt is recorded in `dialogs`."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    seen = dialogs if dialogs is not None else []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.locator("button.launcher").click()
    expect(page.locator("section.panel")).to_be_visible()
    return page


def ask(page: Page, question: str) -> None:
    page.locator("section.panel textarea").fill(question)
    page.keyboard.press("Enter")


def test_the_widget_answers_with_sources_on_an_allowed_site(
    browser: Browser, hosts: tuple[str, str, Path], assistant: AppServer
) -> None:
    allowed, _, _ = hosts
    page = open_widget(browser, f"{allowed}/demo.html")
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


def test_the_widget_works_with_the_keyboard_alone(
    browser: Browser, hosts: tuple[str, str, Path], assistant: AppServer
) -> None:
    allowed, _, _ = hosts
    page = browser.new_page()
    page.goto(f"{allowed}/demo.html")
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


def test_an_unlisted_site_sees_the_not_enabled_state(
    browser: Browser, hosts: tuple[str, str, Path], assistant: AppServer
) -> None:
    _, unlisted, _ = hosts
    page = open_widget(browser, f"{unlisted}/demo.html")
    expect(page.locator("section.panel")).to_contain_text("nicht freigeschaltet")
    expect(page.locator("section.panel textarea")).to_be_disabled()


def test_a_hostile_document_stays_text_in_the_widget(
    browser: Browser, hosts: tuple[str, str, Path], assistant: AppServer
) -> None:
    allowed, _, _ = hosts
    dialogs: list[str] = []
    page = open_widget(browser, f"{allowed}/demo.html", dialogs)
    ask(page, "Was regelt das Quokka-Protokoll?")
    answer = page.locator(".msg.bot").last
    expect(answer.locator("button.marker").first).to_be_visible(timeout=120_000)
    for marker in answer.locator("button.marker").all():
        marker.click()
    expect(answer).to_contain_text("<script>window.__xss='script'</script>")
    assert page.evaluate("window.__xss") is None and dialogs == []
    assert page.locator("section.panel img, section.panel script, section.panel a[href^='javascript']").count() == 0
