"""axe-core, the engine behind Lighthouse's accessibility audit, on the chat page and the open widget,
in German and in English: no serious or critical violation. And the widget zoomed to 200 % and on a
360 px wide phone: the panel fits the viewport and can still be used."""

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from helpers import AppServer, StaticSite, ask_and_open_the_first_card, indexed_settings, open_widget, widget_demo
from playwright.sync_api import Browser, Page, expect

FIVE_FACTORS = {
    "de": "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?",
    "en": "Which five factors shape how marketing and sales work together?",
}
LOCALES = {"de": "de-DE", "en": "en-US"}
NEW_CONVERSATION = {"de": "Neues Gespräch", "en": "New conversation"}  # shows the page's language
FILE_LABEL = {"de": "Datei: corpus/", "en": "File: corpus/"}  # inside a source card, shown once it is open
# A plain intranet page: over the demo page's overlapping content axe cannot judge the widget's contrast.
PLAIN_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Intranet</title></head>
<body><main><h1>Intranet</h1><p>Vertrieb &amp; Marketing</p></main>
<script src="{assistant}/widget.js" data-lang="{lang}" async></script></body></html>
"""
ANSWER_DONE = "[data-testid='stFeedback']"  # the vote buttons appear once the answer is final
BLOCKING = ("serious", "critical")
SIDEBAR = "[data-testid='stSidebar']"


def blocking_violations(page: Page, context: str | dict | None = None, all_contrast_judged: bool = False) -> list[str]:
    """axe-core's serious and critical findings on the page (or in `context`), one line per element;
    with `all_contrast_judged`, also text whose contrast axe could not judge, so that a check that did
    not happen cannot pass (icon-only text aside: it has no contrast to judge)."""
    response = Axe().run(page, context=context, options={"resultTypes": ["violations", "incomplete"]}).response
    found = [
        f"{rule['id']} ({rule['impact']}) {node['html'][:120]}: {node['failureSummary']}"
        for rule in response["violations"]
        if rule["impact"] in BLOCKING
        for node in rule["nodes"]
    ]
    if all_contrast_judged:
        found += [
            f"contrast not judged: {node['html'][:120]}: {node['any'][0]['message']}"
            for rule in response["incomplete"]
            if rule["id"] == "color-contrast"
            for node in rule["nodes"]
            if node["any"][0]["data"]["messageKey"] != "nonBmp"
        ]
    return found


def chat_page_findings(page: Page) -> list[str]:
    """The page but its sidebar with every contrast judged, then the sidebar: axe cannot judge its captions
    (their opacity inside the sidebar's stacking context); the theme's text colour gives them 4.9:1."""
    return blocking_violations(page, {"exclude": [[SIDEBAR]]}, all_contrast_judged=True) + blocking_violations(
        page, SIDEBAR
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    with StaticSite(tmp_path_factory.mktemp("intranet")) as intranet:
        yield intranet


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, site: StaticSite) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("accessibility") / "data"
    indexed_settings(data)
    with AppServer(data, RAG_GENERATOR="extractive", RAG_ALLOWED_ORIGINS=site.url) as server:
        yield server


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_chat_page_empty_answered_and_with_a_card_open(browser: Browser, app: AppServer, lang: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale=LOCALES[lang])
    page.goto(app.url)
    chat_input = page.locator("[data-testid='stChatInput'] textarea")
    expect(chat_input).to_be_visible(timeout=180_000)
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text(NEW_CONVERSATION[lang])
    assert chat_page_findings(page) == [], "empty page"
    chat_input.fill(FIVE_FACTORS[lang])
    page.keyboard.press("Enter")
    expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=120_000)
    assert chat_page_findings(page) == [], "with an answer"
    card = page.locator("[data-testid='stChatMessage'] [data-testid='stExpander']").first
    card.locator("summary").click()
    expect(card.get_by_text(FILE_LABEL[lang])).to_be_visible()
    page.wait_for_function("document.getAnimations().length === 0")  # axe cannot judge a card still opening
    assert chat_page_findings(page) == [], "with a source card open"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_open_widget_with_an_answer_and_a_card(
    browser: Browser, site: StaticSite, app: AppServer, lang: str
) -> None:
    url = site.add(f"plain-{lang}.html", PLAIN_PAGE.format(lang=lang, assistant=app.url))
    page = open_widget(browser, url)
    assert blocking_violations(page, "marketing-sales-widget", all_contrast_judged=True) == [], "open, empty"
    ask_and_open_the_first_card(page, FIVE_FACTORS[lang])
    found = blocking_violations(page, "marketing-sales-widget", all_contrast_judged=True)
    assert found == [], "with an answer and a card open"


@pytest.mark.parametrize(
    "viewport",
    [{"width": 640, "height": 400}, {"width": 360, "height": 740}],
    ids=["laptop-at-200-percent-zoom", "phone-360-px"],
)
def test_the_widget_fits_and_works_on_a_small_viewport(
    browser: Browser, site: StaticSite, app: AppServer, viewport: dict[str, int]
) -> None:
    # device_scale_factor 2: a 1280 px screen at 200 % zoom is a 640 px CSS viewport at 2 device pixels each.
    page = open_widget(browser, widget_demo(site, "demo.html", app.url), viewport, device_scale_factor=2)
    panel = page.locator("section.panel")
    for part in (panel, panel.locator("header h2"), panel.locator("textarea"), panel.locator("form button")):
        box = part.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0, part
        assert box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"], part
    assert panel.evaluate("p => p.scrollWidth <= p.clientWidth"), "the panel scrolls sideways"
    ask_and_open_the_first_card(page, FIVE_FACTORS["de"])
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.locator("button.launcher")).to_be_in_viewport()
