"""`python -m ingest URL …` and `--feed URL` against a real HTTP server on loopback, with the real
embedder and a real Chroma index. Loopback is allowed explicitly (RAG_FETCH_ALLOW_PRIVATE)."""

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import stored_chunks
from pdfs import fpdf_pdf
from test_page import open_page  # the chat page as its own tests open it
from web_site import Page, Site, article_html, atom, http_date, rss, sitemap

from ingest.__main__ import main
from ingest.web_fetch import Fetcher, FetchError
from rag.settings import Settings
from ui.texts import TEXTS

LEAD_PARAGRAPHS = [
    "Wenn Marketing und Vertrieb über Leads streiten, fehlt meist eine gemeinsame Definition. In vielen "
    "Unternehmen gilt ein Lead für das Marketing als qualifiziert, sobald er ein Whitepaper geladen hat.",
    "Der Vertrieb dagegen wartet auf ein konkretes Budget und einen Ansprechpartner mit Entscheidungsbefugnis. "
    "Ein Service Level Agreement legt fest, dass der Vertrieb jeden übergebenen Lead binnen 24 Stunden anruft.",
    "Im Gegenzug verpflichtet sich das Marketing, nur Leads mit mindestens 60 Punkten im Lead-Scoring zu "
    "übergeben. Beide Seiten prüfen die Quote einmal im Monat gemeinsam im Pipeline-Meeting.",
]


def paragraphs(topic: str, fact: str) -> list[str]:
    return [
        f"{topic} ist in vielen mittelständischen Unternehmen ein Dauerthema zwischen Marketing und Vertrieb. "
        "Beide Abteilungen verfolgen eigene Ziele und messen ihren Erfolg mit unterschiedlichen Kennzahlen.",
        f"Eine Befragung unter Vertriebsleitern zeigt: {fact} Das überrascht viele Geschäftsführer, die "
        "das Problem eher in fehlender Software vermutet hatten als in fehlenden Absprachen.",
        "Wer die Zusammenarbeit verbessern will, beginnt mit einem gemeinsamen Termin pro Woche, einer "
        "geteilten Definition des Kunden und einem Dashboard, das beide Teams jeden Morgen ansehen.",
    ]


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    monkeypatch.setenv("RAG_CORPUS_DIR", str(folder))
    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "true")  # the test site is on loopback
    monkeypatch.setenv("RAG_FETCH_TIMEOUT", "1")
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.2")
    return folder


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, list[str]]:
    """`python -m ingest ARGS` in this process: exit code, stdout, and stderr's message lines."""
    code = main(list(args))
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if re.match(r"^(error|saved|warning|removed|skipped): ", line)]
    return code, out, lines


def chunks_by_url(settings: Settings) -> dict[str, list]:
    found: dict[str, list] = {}
    for chunk in stored_chunks(settings):
        found.setdefault(chunk.metadata.get("url") or chunk.metadata["source"], []).append(chunk)
    return found


def chunk_ids(settings: Settings) -> dict[str, set[str]]:
    return {url: {chunk.chunk_id for chunk in chunks} for url, chunks in chunks_by_url(settings).items()}


def modification_times(folder: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


def test_an_article_by_url_is_saved_with_its_metadata_and_rebuilds_without_the_network(
    site: Site, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    canonical = site.url("/blog/lead-uebergabe")
    site.pages["/blog/lead-uebergabe?utm_source=newsletter&utm_medium=email"] = Page(
        article_html("Wer bekommt den Lead?", "Eva Beispiel", "2024-05-02", canonical, LEAD_PARAGRAPHS)
    )
    local = tmp_path / "other" / "notiz.md"
    local.parent.mkdir()
    local.write_text("# Notiz\n\nDas Pipeline-Meeting findet montags statt.\n", encoding="utf-8")

    code, out, lines = run(capsys, site.url("/blog/lead-uebergabe?utm_source=newsletter&utm_medium=email"), str(local))

    assert code == 0, lines
    saved = corpus / "web" / f"127.0.0.1_{site.port}" / "blog_lead-uebergabe.md"
    assert lines == [f"saved: {site.url('/blog/lead-uebergabe?utm_source=newsletter&utm_medium=email')} → {saved}"]
    assert "1 saved" in out and "2 added" in out
    front_matter = yaml.safe_load(saved.read_text(encoding="utf-8").split("---")[1])
    assert front_matter == {
        "title": "Wer bekommt den Lead?",
        "author": "Eva Beispiel",
        "date": "2024-05-02",
        "url": canonical,
        "lang": "de",
        "kind": "web",
        "site": "Vertriebsblog",
    }
    settings = Settings()
    chunks = chunks_by_url(settings)[canonical]
    assert {(c.metadata["title"], c.metadata["author"], c.metadata["date"], c.metadata["kind"]) for c in chunks} == {
        ("Wer bekommt den Lead?", "Eva Beispiel", "2024-05-02", "web")
    }
    text = " ".join(chunk.text for chunk in chunks)
    assert "binnen 24 Stunden" in text and "60 Punkten" in text
    for clutter in ("Cookies", "Alle akzeptieren", "Newsletter abonnieren", "Toller Artikel", "dataLayer", "Impressum"):
        assert clutter not in text
    assert any(c.metadata["source"].endswith("notiz.md") for c in stored_chunks(settings))
    assert site.paths_requested() == ["/blog/lead-uebergabe?utm_source=newsletter&utm_medium=email"]

    site.pages.clear()
    code, out, lines = run(capsys, "--rebuild", str(corpus))
    assert code == 0 and "1 added" in out and lines == []
    assert len(site.requests) == 1, "rebuilding the index touched the network"
    assert {c.metadata["url"] for c in stored_chunks(settings)} == {canonical}


def test_a_pdf_url_is_saved_and_ingested_as_a_pdf(site: Site, corpus: Path, capsys: pytest.CaptureFixture) -> None:
    text = "Studie 2024: Unternehmen mit gemeinsamen Umsatzzielen wachsen um 19 Prozent schneller."
    site.pages["/downloads/Studie%202024.pdf"] = Page(fpdf_pdf([text], "Gemeinsame Ziele"), "application/pdf")

    code, out, _ = run(capsys, site.url("/downloads/Studie%202024.pdf"))

    assert code == 0 and "1 added" in out
    [saved] = (corpus / "web").rglob("*.pdf")
    assert saved.read_bytes().startswith(b"%PDF-") and saved.parent.name == f"127.0.0.1_{site.port}"
    [chunk] = stored_chunks(Settings())
    assert "19 Prozent" in chunk.text and chunk.metadata["page"] == 1
    assert chunk.metadata["title"] == "Gemeinsame Ziele"
    assert chunk.metadata["url"] == site.url("/downloads/Studie%202024.pdf"), "the card must link to the PDF"


def rss_site(site: Site) -> None:
    for slug, title, fact in (
        ("lead-scoring", "Lead-Scoring gemeinsam festlegen", "Nur 31 Prozent haben ein gemeinsames Scoring."),
        ("pipeline-meeting", "Das Pipeline-Meeting", "Wöchentliche Meetings halbieren die Zahl verlorener Leads."),
    ):
        site.pages[f"/blog/{slug}"] = Page(
            article_html(title, "Jonas Muster", "2024-06-01", site.url(f"/blog/{slug}"), paragraphs(title, fact)),
            etag=f'"{slug}-v1"',
            last_modified=http_date(2024, 6, 1),
        )
    site.pages["/papers/kpi.pdf"] = Page(
        fpdf_pdf(["Gemeinsame KPIs senken die Zahl der Eskalationen um ein Drittel."], "KPI-Studie"),
        "application/pdf",
        etag='"kpi-v1"',
    )
    site.pages["/feed/"] = Page(
        rss(
            [
                ("Lead-Scoring", site.url("/blog/lead-scoring"), "Sat, 01 Jun 2024 08:00:00 +0200", None),
                ("Pipeline", site.url("/blog/pipeline-meeting"), "Sun, 02 Jun 2024 08:00:00 +0200", None),
                ("KPI-Studie", site.url("/papers/kpi.pdf"), "Mon, 03 Jun 2024 08:00:00 +0200", None),
            ]
        ),
        "application/rss+xml; charset=UTF-8",
        etag='W/"feed-v1"',
    )


def test_a_feed_is_followed_with_conditional_requests_and_only_changes_are_embedded(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture
) -> None:
    rss_site(site)
    feed = site.url("/feed/")
    code, out, lines = run(capsys, "--feed", feed)
    assert code == 0, lines
    assert "3 saved" in out and "3 added" in out
    settings = Settings()
    before, files_before = chunk_ids(settings), modification_times(corpus)
    assert sorted(path.name for path in files_before) == [
        ".papers_kpi.pdf.yaml",  # the PDF's URL, which the PDF cannot hold
        "blog_lead-scoring.md",
        "blog_pipeline-meeting.md",
        "papers_kpi.pdf",
    ]
    state_file = settings.index_dir / "web_fetch.json"
    state_written = state_file.stat().st_mtime_ns

    site.requests.clear()
    code, out, lines = run(capsys, "--feed", feed)

    assert code == 0 and lines == []
    assert "0 saved, 3 unchanged" in out and "0 added, 0 updated, 3 unchanged" in out
    assert {r.path for r in site.requests} == {
        "/feed/",
        "/blog/lead-scoring",
        "/blog/pipeline-meeting",
        "/papers/kpi.pdf",
    }
    assert all(r.conditional and r.status == 304 for r in site.requests), site.requests
    assert modification_times(corpus) == files_before
    assert chunk_ids(settings) == before
    assert state_file.stat().st_mtime_ns == state_written, "the fetch state was rewritten"

    changed = site.pages["/blog/pipeline-meeting"]
    changed.body = changed.body.replace(b"halbieren die Zahl", b"senken um 40 Prozent die Zahl")
    changed.etag = '"pipeline-meeting-v2"'
    site.pages["/blog/forecast"] = Page(
        article_html(
            "Forecast-Runden",
            "Jonas Muster",
            "2024-07-01",
            site.url("/blog/forecast"),
            paragraphs("Der Forecast", "Gemeinsame Forecasts treffen die Zahlen doppelt so oft."),
        )
    )
    site.pages["/feed/"] = Page(
        rss(
            [
                ("Forecast", site.url("/blog/forecast"), "Mon, 01 Jul 2024 08:00:00 +0200", None),
                ("Lead-Scoring", site.url("/blog/lead-scoring"), "Sat, 01 Jun 2024 08:00:00 +0200", None),
                ("Pipeline", site.url("/blog/pipeline-meeting"), "Sun, 02 Jun 2024 08:00:00 +0200", None),
                ("KPI-Studie", site.url("/papers/kpi.pdf"), "Mon, 03 Jun 2024 08:00:00 +0200", None),
            ]
        ),
        "application/rss+xml",
        etag='W/"feed-v2"',
    )
    code, out, lines = run(capsys, "--feed", feed)

    assert code == 0 and len(lines) == 2
    assert "2 saved, 2 unchanged" in out and "1 added, 1 updated, 2 unchanged" in out
    after = chunk_ids(settings)
    pipeline = site.url("/blog/pipeline-meeting")
    assert after[pipeline].isdisjoint(before[pipeline]), "the changed article kept its old chunks"
    assert "40 Prozent" in " ".join(c.text for c in chunks_by_url(settings)[pipeline])
    unchanged = [url for url in before if url != pipeline]
    assert {url: after[url] for url in unchanged} == {url: before[url] for url in unchanged}
    assert site.url("/blog/forecast") in after


def test_an_atom_feed_with_update_dates_needs_no_article_request_when_unchanged(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture
) -> None:
    for slug in ("abstimmung", "kennzahlen"):
        site.pages[f"/magazin/{slug}.html"] = Page(
            article_html(
                f"Magazin: {slug}",
                "Mara Test",
                "2024-03-01",
                site.url(f"/magazin/{slug}.html"),
                paragraphs(slug.title(), f"Die {slug.title()} entscheidet über den Erfolg."),
            ),
            last_modified=http_date(2024, 3, 1),
        )
    site.pages["/magazin/atom.xml"] = Page(
        atom(
            [
                ("Abstimmung & Budget", "abstimmung.html", "2024-03-01T09:00:00+01:00", "2024-03-01T10:00:00Z"),
                ("Kennzahlen", "kennzahlen.html", None, "2024-03-02T10:00Z"),
            ]
        ),
        "application/atom+xml",
        last_modified=http_date(2024, 3, 2),
    )
    code, out, lines = run(capsys, "--feed", site.url("/magazin/atom.xml"))
    assert code == 0 and "2 saved" in out, lines

    site.requests.clear()
    code, out, lines = run(capsys, "--feed", site.url("/magazin/atom.xml"))

    assert code == 0 and "0 saved, 2 unchanged" in out
    assert [(r.path, r.if_modified_since, r.status) for r in site.requests] == [
        ("/magazin/atom.xml", http_date(2024, 3, 2), 304)
    ]

    (Settings().index_dir / "web_fetch.json").write_text('{"urls": {"http://x/": {"etag": [', encoding="utf-8")
    site.requests.clear()
    code, out, lines = run(capsys, "--feed", site.url("/magazin/atom.xml"))
    assert code == 0 and lines == [] and "0 saved, 2 unchanged" in out, "a damaged state must cost downloads only"
    assert len(site.requests) == 3 and not any(r.conditional for r in site.requests)


def test_a_sitemap_index_with_a_gzipped_sitemap_and_no_validators_falls_back_to_the_content_hash(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture
) -> None:
    for slug, title in (("rollen", "Rollen klären"), ("uebergabe", "Übergabe"), ("archiv-2021", "Alt")):
        site.pages[f"/wissen/{slug}"] = Page(
            article_html(title, "Team", "2021-01-01", site.url(f"/wissen/{slug}"), paragraphs(title, "Eins zu zwei."))
        )
    site.pages["/sitemap.xml"] = Page(sitemap([(site.url("/sitemap-wissen.xml.gz"), None)], index=True), "text/xml")
    site.pages["/sitemap-wissen.xml.gz"] = Page(
        gzip.compress(
            sitemap(
                [
                    (site.url("/wissen/rollen"), "2025-02-01"),
                    (site.url("/wissen/uebergabe"), None),
                    (site.url("/wissen/archiv-2021"), "2021-01-01T00:00:00+00:00"),
                ]
            )
        ),
        "application/x-gzip",
    )
    code, out, lines = run(capsys, "--feed", site.url("/sitemap.xml"), "--since", "2024-01-01")
    assert code == 0 and "2 saved" in out and "1 older than --since" in out, lines
    assert "/wissen/archiv-2021" not in site.paths_requested()
    files, ids = modification_times(corpus), chunk_ids(Settings())

    site.requests.clear()
    code, out, lines = run(capsys, "--feed", site.url("/sitemap.xml"), "--since", "2024-01-01")

    assert code == 0 and lines == []
    # No validators: the sitemaps and the undated page are fetched in full, the dated one not at all.
    assert sorted(site.paths_requested()) == ["/sitemap-wissen.xml.gz", "/sitemap.xml", "/wissen/uebergabe"]
    assert "0 saved, 2 unchanged" in out and "0 added, 0 updated, 2 unchanged" in out
    assert modification_times(corpus) == files and chunk_ids(Settings()) == ids


def failure_site(site: Site) -> None:
    good = article_html("Gute Seite", "Eva Beispiel", "2024-01-10", site.url("/gut"), LEAD_PARAGRAPHS)
    site.pages["/gut"] = Page(good)
    site.pages["/ueberlastet"] = Page(
        article_html("Später", "Eva", "2024-01-11", site.url("/ueberlastet"), paragraphs("Geduld", "Sie lohnt.")),
        busy_first=1,
    )
    site.pages["/gedrosselt"] = Page(good, busy_first=1, busy_status=429, retry_after="3600")
    site.pages["/langsam"] = Page(good, delay=3)
    site.pages["/bild.png"] = Page(b"\x89PNG\r\n\x1a\n" + bytes(500), "image/png")
    site.pages["/riesig"] = Page(good + b"<!-- " + b"x" * 300_000 + b" -->", send_length=False)
    site.pages["/schleife-a"] = Page(b"", status=302, headers={"Location": "/schleife-b"})
    site.pages["/schleife-b"] = Page(b"", status=301, headers={"Location": site.url("/schleife-a")})
    site.pages["/leer"] = Page(  # rendered by JavaScript: nothing but a consent banner and the menu without it
        b"<!DOCTYPE html><html><head><title>Kundenportal</title><script src='/app.js' defer></script></head><body>"
        b"<div id='cc' class='cc-window'><p>Wir verwenden Cookies, um Inhalte zu personalisieren und die Zugriffe "
        b"auf unsere Website zu analysieren.</p><a class='cc-btn'>OK</a></div>"
        b"<nav><a href='/'>Start</a> <a href='/kontakt'>Kontakt</a></nav><div id='app'></div>"
        b"<noscript>Bitte aktivieren Sie JavaScript.</noscript></body></html>"
    )
    site.pages["/feed.xml"] = Page(good)  # the feed URL answers with the blog's HTML page
    site.pages["/lachen.xml"] = Page(
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><rss version="2.0"><channel><item><title>&lol3;</title>'
        b"<link>http://127.0.0.1/x</link></item></channel></rss>",
        "application/rss+xml",
    )


def test_each_network_failure_is_one_line_and_the_rest_is_ingested(
    site: Site, corpus: Path, capsys: pytest.CaptureFixture
) -> None:
    failure_site(site)
    failing = {
        "/fehlt": "HTTP 404 Not Found",
        "/gedrosselt": "HTTP 429 with Retry-After 3600 s, over the 30 s limit (RAG_FETCH_MAX_RETRY_WAIT)",
        "/langsam": "timed out after 1 s (RAG_FETCH_TIMEOUT)",
        "/bild.png": "not HTML or PDF (Content-Type: image/png)",
        "/riesig": "too large: over the 0.2 MB limit (RAG_MAX_FILE_MB)",
        "/schleife-a": f"redirect loop ({site.url('/schleife-b')} → {site.url('/schleife-a')})",
        "/leer": "no main text found in the HTML",
    }
    feeds = {
        "/feed.xml": "not a feed: not well-formed XML",
        "/lachen.xml": "not a feed: the XML uses EntitiesForbidden, which is refused",
    }
    urls = [site.url(path) for path in failing] + [site.url("/gut"), site.url("/ueberlastet"), "file:///etc/passwd"]
    feed_args = [arg for path in feeds for arg in ("--feed", site.url(path))]

    code, out, lines = run(capsys, *urls, *feed_args)

    assert code == 1
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == len(failing) + len(feeds) + 1, "\n".join(lines)
    for path, reason in {**failing, **feeds}.items():
        [line] = [line for line in errors if line.startswith(f"error: {site.url(path)}: ")]
        assert reason in line
    assert "error: file:///etc/passwd: only http and https URLs are fetched, not 'file'" in errors
    assert "2 saved" in out and "10 failed" in out and "2 added" in out
    titles = {chunk.metadata["title"] for chunk in stored_chunks(Settings())}
    assert titles == {"Gute Seite", "Später"}
    assert [r.status for r in site.requests if r.path == "/ueberlastet"] == [503, 200]


def test_loopback_and_private_addresses_are_refused_unless_allowed(
    site: Site, corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "false")
    site.pages["/intern"] = Page(article_html("Intern", "IT", "2024-01-01", site.url("/intern"), LEAD_PARAGRAPHS))
    fetcher = Fetcher(Settings())
    refused = {
        site.url("/intern"): r"127\.0\.0\.1 is a loopback address",
        f"http://localhost:{site.port}/intern": r"localhost \((127\.0\.0\.1|::1)\) is a loopback address",
        f"http://[::1]:{site.port}/intern": r"::1 is a loopback address",
        "http://10.20.30.40/wiki": r"10\.20\.30\.40 is a private address",
        "http://192.168.178.1/": r"192\.168\.178\.1 is a private address",
        "http://169.254.169.254/latest/meta-data/": r"169\.254\.169\.254 is a link-local address",
        "http://[::ffff:10.0.0.1]/": r"::ffff:10\.0\.0\.1 is a private address",
    }
    for url, reason in refused.items():
        with pytest.raises(FetchError, match=rf"^refused: {reason} \(RAG_FETCH_ALLOW_PRIVATE\)$"):
            fetcher.get(url)
    assert site.requests == [], "a refused address was connected to"

    code, _, lines = run(capsys, site.url("/intern"))
    assert code == 1
    assert lines == [
        f"error: {site.url('/intern')}: refused: 127.0.0.1 is a loopback address (RAG_FETCH_ALLOW_PRIVATE)"
    ]

    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "true")
    assert run(capsys, site.url("/intern"))[0] == 0


def test_a_redirect_into_the_intranet_is_refused(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hop is checked. The test site stands in for a public server: only 127.0.0.1 counts as
    public here (no public address can be reached from the test machine)."""
    from ingest import web_fetch

    real_refusal = web_fetch.address_refusal
    monkeypatch.setattr(web_fetch, "address_refusal", lambda ip: None if ip == "127.0.0.1" else real_refusal(ip))
    site.pages["/weiter"] = Page(b"", status=302, headers={"Location": "http://10.1.2.3/admin"})
    with pytest.raises(FetchError, match=r"^refused: 10\.1\.2\.3 is a private address"):
        Fetcher(Settings()).get(site.url("/weiter"))
    assert site.paths_requested() == ["/weiter"]


def test_the_chat_page_upload_takes_urls(site: Site, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site.pages["/blog/lead-uebergabe"] = Page(
        article_html(
            "Wer bekommt den Lead?", "Eva Beispiel", "2024-05-02", site.url("/blog/lead-uebergabe"), LEAD_PARAGRAPHS
        )
    )
    page = open_page(monkeypatch, RAG_GENERATOR="extractive", RAG_ALLOW_UPLOAD="true")
    page.sidebar.text_area[0].set_value(f"{site.url('/blog/lead-uebergabe')}\n{site.url('/fehlt')}").run()
    next(b for b in page.sidebar.button if b.label == TEXTS["de"]["upload_button"]).click().run()

    assert not page.exception, page.exception
    [error] = [e.value for e in page.sidebar.error]
    assert "fehlt" in error and "HTTP 404 Not Found" in error
    assert "1 added" in page.sidebar.success[0].value
    assert (corpus / "web" / f"127.0.0.1_{site.port}" / "blog_lead-uebergabe.md").is_file()
    assert {c.metadata["url"] for c in stored_chunks(Settings())} == {site.url("/blog/lead-uebergabe")}
