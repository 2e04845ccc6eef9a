"""A local web site for the web-ingest tests: articles as real sites write them (cookie banner,
navigation, scripts, comments), a PDF, feeds and sitemaps, ETag/Last-Modified, and failure routes.
It runs on a free loopback port and logs every request with its conditional headers."""

import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape, quoteattr

from helpers import free_port


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    busy_first: int = 0  # answer busy_status with retry_after this many times first
    busy_status: int = 503
    retry_after: str = "1"


@dataclass(frozen=True)
class Request:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int

    @property
    def conditional(self) -> bool:
        return bool(self.if_none_match or self.if_modified_since)


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Site":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def paths_requested(self) -> list[str]:
        return [request.path for request in self.requests]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = site.pages.get(self.path)
            if page is None:
                return self._answer(Page(b"<html><body><h1>Nicht gefunden</h1></body></html>", status=404))
            if page.delay:
                time.sleep(page.delay)
            if page.busy_first:
                page.busy_first -= 1
                return self._answer(Page(b"busy", status=page.busy_status, headers={"Retry-After": page.retry_after}))
            if self._unchanged(page):
                return self._answer(Page(b"", status=304, etag=page.etag, last_modified=page.last_modified))
            self._answer(page)

        def _unchanged(self, page: Page) -> bool:
            if page.etag and self.headers.get("If-None-Match"):
                return self.headers["If-None-Match"] == page.etag
            return bool(page.last_modified) and self.headers.get("If-Modified-Since") == page.last_modified

        def _answer(self, page: Page) -> None:
            site.requests.append(
                Request(
                    self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), page.status
                )
            )
            self.send_response(page.status)
            if page.status != 304:
                self.send_header("Content-Type", page.content_type)
            for name, value in (("ETag", page.etag), ("Last-Modified", page.last_modified), *page.headers.items()):
                if value:
                    self.send_header(name, value)
            if page.send_length:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def http_date(year: int, month: int, day: int) -> str:
    from datetime import UTC, datetime

    return format_datetime(datetime(year, month, day, 8, 0, tzinfo=UTC), usegmt=True)


def article_html(
    title: str, author: str, published: str, canonical: str, paragraphs: list[str], site_name: str = "Vertriebsblog"
) -> bytes:
    """An article page as a CMS writes it: the text buried in banners, menus, scripts and comments."""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="de"><head>
<meta charset="utf-8">
<title>{title} | {site_name}</title>
<meta name="author" content="{author}">
<meta property="og:site_name" content="{site_name}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}T08:15:00+02:00">
<link rel="canonical" href="{canonical}">
<link rel="stylesheet" href="/assets/site.css?v=3.2.1">
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}
gtag('js',new Date());</script>
<style>.cookie-banner{{position:fixed;bottom:0}}</style>
</head><body class="post-template-default single">
<div class="cookie-banner" id="cmp"><p>Wir verwenden Cookies, um Ihnen das beste Erlebnis zu bieten.
<a href="/datenschutz">Datenschutzerklärung</a> <button onclick="acceptAll()">Alle akzeptieren</button></p></div>
<header class="site-header"><a href="/" class="logo">{site_name}</a>
<nav class="main-nav"><ul><li><a href="/">Start</a></li><li><a href="/themen/marketing">Marketing</a></li>
<li><a href="/themen/vertrieb">Vertrieb</a></li><li><a href="/newsletter">Newsletter abonnieren</a></li></ul></nav>
</header>
<main id="content"><article class="post">
<h1 class="entry-title">{title}</h1>
<div class="byline">Von <span class="author vcard"><a href="/autor/x" rel="author">{author}</a></span>
· <time datetime="{published}">{published}</time> · 6 Min. Lesezeit</div>
<div class="share-buttons"><a href="https://twitter.com/share">Teilen</a> <a href="mailto:?subject=x">E-Mail</a></div>
<div class="entry-content">
{body}
</div>
<aside class="related"><h3>Das könnte Sie auch interessieren</h3><ul><li><a href="/x">Zehn Tipps für Ihr CRM</a></li>
</ul></aside>
</article>
<section id="comments" class="comments-area"><h2>3 Kommentare</h2>
<div class="comment"><p>Toller Artikel, genau so erlebe ich das auch bei uns im Mittelstand!</p></div>
<div class="comment"><p>Gibt es dazu auch eine Checkliste zum Herunterladen?</p></div>
</section></main>
<footer class="site-footer"><p>© 2024 {site_name} · <a href="/impressum">Impressum</a></p></footer>
<script src="/assets/app.js" async></script>
<script>document.querySelectorAll('.share-buttons a').forEach(function(a){{a.target='_blank'}});</script>
</body></html>""".encode()


def rss(items: list[tuple[str, str, str, str | None]]) -> bytes:
    """RSS 2.0 as WordPress writes it, from (title, link, pubDate, atom:updated or None) items."""
    entries = "\n".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><pubDate>{date}</pubDate>"
        + (f"<atom:updated>{updated}</atom:updated>" if updated else "")
        + f'<guid isPermaLink="false">{escape(link)}#guid</guid>'
        f"<description>{escape(f'<p>Auszug: {title} …</p>')}</description></item>"
        for title, link, date, updated in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>Vertriebsblog</title><link>http://127.0.0.1/</link><description>Marketing &amp; Vertrieb</description>
<language>de-DE</language>
{entries}
</channel></rss>""".encode()


def atom(entries: list[tuple[str, str, str | None, str | None]], base: str = "/magazin/") -> bytes:
    """Atom under an xml:base, from (title, href, published, updated) entries (each date may be None)."""
    items = "\n".join(
        f'<entry><title type="html">{escape(title)}</title>'
        f'<link rel="alternate" type="text/html" href={quoteattr(href)}/><link rel="replies" href="#comments"/>'
        f"<id>tag:x,2024:{escape(href)}</id>"
        + (f"<published>{published}</published>" if published else "")
        + (f"<updated>{updated}</updated>" if updated else "")
        + f"<summary>{escape(title)}</summary></entry>"
        for title, href, published, updated in entries
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}"><title>Magazin</title><id>tag:x,2024:feed</id>
<updated>2025-01-01T00:00:00Z</updated>
{items}
</feed>""".encode()


def sitemap(locations: list[tuple[str, str | None]], index: bool = False) -> bytes:
    tag, item = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    rows = "\n".join(
        f"<{item}><loc>{escape(loc)}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</{item}>"
        for loc, lastmod in locations
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{rows}
</{tag}>""".encode()
