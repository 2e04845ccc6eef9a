"""Articles by URL and from feeds → files in the corpus: `<corpus>/web/<host>/<slug>.md` (or `.pdf`).

What is fetched is saved as a corpus file first and ingested from there like any other file, so
re-ingest, --prune and --rebuild keep working without the network. A file is rewritten only when
its content changed, so an unchanged article is never embedded again."""

import contextlib
import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import trafilatura
import yaml

from ingest.documents import DocumentError, decode_text, detect_language, parse_document
from ingest.feeds import FeedEntry, FeedError, parse_feed
from ingest.html import html_to_markdown
from ingest.pipeline import Reporter, display_source, ingest_lock, sidecar_path
from ingest.web_fetch import Fetched, Fetcher, FetchError, Validators
from ingest.web_state import FetchState, write_atomically
from rag.settings import Settings

WEB_FOLDER = "web"
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf", "application/x-pdf")
MAX_SITEMAP_DEPTH = 2  # a sitemap index may list sitemap indexes once more
MAX_SLUG_CHARS = 80
# Less main text than this is a consent banner, a menu or a JavaScript shell (trafilatura keeps those
# when nothing else is there), not an article.
MIN_ARTICLE_CHARS = 200
URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SLUG_SEGMENT = re.compile(r"[a-z0-9][a-z0-9.-]*")


def looks_like_url(text: str) -> bool:
    """`scheme://…` is a URL (and only http/https will be fetched); anything else is a path."""
    return bool(URL_LIKE.match(text))


def host_folder(url: str) -> str:
    """The URL's host (IDNA, lower case, port if not the default) as a safe folder name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    with contextlib.suppress(UnicodeError):  # a host IDNA refuses is made safe below
        host = host.encode("idna").decode("ascii")
    if parts.port and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host += f"_{parts.port}"
    return re.sub(r"[^a-z0-9._-]+", "-", host.lower()).strip(".-") or "unknown-host"


def slug(url: str, suffix: str) -> str:
    """A readable file name from the URL's path; a short hash of path and query is added whenever
    the readable part alone could stand for another URL of the same host."""
    parts = urlsplit(url)
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if segments and segments[-1].lower().endswith(suffix):
        segments[-1] = segments[-1][: -len(suffix)]
    readable = "_".join(filter(None, (_slug_segment(segment) for segment in segments)))[:MAX_SLUG_CHARS]
    exact = (
        readable == "_".join(segments)
        and not parts.query
        and all(SLUG_SEGMENT.fullmatch(segment) for segment in segments)
    )
    if exact and readable:
        return readable
    digest = hashlib.sha256(json.dumps([segments, parts.query]).encode()).hexdigest()[:10]
    return f"{readable or 'index'}-{digest}"


def _slug_segment(segment: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", segment).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9.]+", "-", ascii_text).strip(".-")


def article_path(url: str, corpus_dir: Path, suffix: str) -> Path:
    return corpus_dir / WEB_FOLDER / host_folder(url) / f"{slug(url, suffix)}{suffix}"


def article_markdown(fetched: Fetched) -> tuple[bytes, str]:
    """The page's main text as Markdown under YAML front matter, and the URL that names the article."""
    html = _decoded(fetched)
    text, _ = html_to_markdown(html)
    if len(text.strip()) < MIN_ARTICLE_CHARS:
        raise DocumentError(
            f"no main text found in the HTML (only {len(text.strip())} characters besides menus and markup)"
        )
    found = trafilatura.extract_metadata(html, default_url=fetched.url, extensive=False)
    canonical = _canonical(fetched.url, found.url if found else None)
    fields = {
        "title": found.title if found else None,
        "author": found.author if found else None,
        "date": found.date if found else None,
        "url": canonical,
        "lang": detect_language(text),
        "kind": "web",
        "site": found.sitename if found else None,
    }
    return markdown_file(fields, text), canonical


def markdown_file(fields: dict[str, str | None], text: str) -> bytes:
    """Markdown under YAML front matter with the fields that have a value."""
    header = yaml.safe_dump({k: v for k, v in fields.items() if v}, allow_unicode=True, sort_keys=False)
    return f"---\n{header}---\n\n{text.strip()}\n".encode()


def _decoded(fetched: Fetched) -> str:
    if fetched.charset:
        try:
            return fetched.body.decode(fetched.charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return decode_text(fetched.body)[0]
    except DocumentError as error:
        raise FetchError(f"the HTML cannot be read: {error}") from None


def _canonical(fetched_url: str, declared: str | None) -> str:
    """The page's canonical URL (link rel=canonical, og:url) if it is an http(s) URL, else the fetched one."""
    if declared:
        with contextlib.suppress(ValueError):  # e.g. an unclosed IPv6 bracket
            url = urljoin(fetched_url, declared.strip())
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname:
                return url
    return fetched_url


def save_fetched(fetched: Fetched, settings: Settings) -> tuple[Path, bool]:
    """Write an HTML page as Markdown or a PDF as itself into the corpus; (its path, whether it changed)."""
    max_bytes = int(settings.max_file_mb * 1e6)
    if fetched.content_type in PDF_TYPES or fetched.body.startswith(b"%PDF-"):
        path = article_path(fetched.url, settings.corpus_dir, ".pdf")
        parse_document(path, fetched.body, max_bytes)  # an unreadable PDF never enters the corpus
        data = fetched.body
        # A PDF has no field for the URL it came from: it goes beside it, written before the PDF.
        sidecar = yaml.safe_dump({"url": fetched.url}, allow_unicode=True).encode()
        if not sidecar_path(path).is_file() or sidecar_path(path).read_bytes() != sidecar:
            write_atomically(sidecar_path(path), sidecar)
    elif fetched.content_type in HTML_TYPES:
        data, canonical = article_markdown(fetched)
        # The canonical URL names the file (one file for ?utm_… variants), unless it is on another host.
        named_by = canonical if host_folder(canonical) == host_folder(fetched.url) else fetched.url
        path = article_path(named_by, settings.corpus_dir, ".md")
    else:
        raise FetchError(f"not HTML or PDF (Content-Type: {fetched.content_type or 'none'})")
    if path.is_file() and path.read_bytes() == data:
        return path, False
    write_atomically(path, data)
    return path, True


@dataclass
class WebReport:
    feeds: int = 0
    checked: int = 0
    saved: int = 0
    unchanged: int = 0
    too_old: int = 0
    failed: int = 0
    files: list[Path] = field(default_factory=list)  # corpus files of every URL that went well
    errors: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        feeds = f"{self.feeds} feed{'s' * (self.feeds != 1)}, " if self.feeds else ""
        too_old = f", {self.too_old} older than --since" if self.too_old else ""
        return (
            f"web: {feeds}{self.checked} URL{'s' * (self.checked != 1)} checked, {self.saved} saved, "
            f"{self.unchanged} unchanged, {self.failed} failed{too_old}"
        )


class WebIngest:
    """Fetch articles and feeds into the corpus; the files are then ingested by `Ingestor`."""

    state: FetchState  # read and written under the ingest lock, in run()
    fetcher: Fetcher

    def __init__(self, settings: Settings, report: Reporter = print, sleep=time.sleep) -> None:
        self.settings = settings
        self.report = report
        self.sleep = sleep
        self.result = WebReport()

    def run(self, urls: Sequence[str], feeds: Sequence[str] = (), since: date | None = None) -> WebReport:
        with ingest_lock(self.settings.index_dir):  # one run at a time writes the state and corpus/web
            self.state = FetchState(self.settings.index_dir)
            self.fetcher = Fetcher(self.settings, sleep=self.sleep)
            try:
                for url in dict.fromkeys(urls):
                    self._article(url, None)
                for feed in dict.fromkeys(feeds):
                    self._feed(feed, since)
            finally:
                self.fetcher.close()
                self.state.save()
        self.result.files = list(dict.fromkeys(self.result.files))
        return self.result

    def _feed(self, feed_url: str, since: date | None) -> None:
        self.result.feeds += 1
        entries: dict[str, FeedEntry] = {}
        for entry in self._entries(feed_url, depth=0):
            entries.setdefault(entry.url, entry)  # the first listing of a URL wins
        oldest = datetime.combine(since, datetime.min.time(), UTC) if since else None
        for entry in entries.values():
            if oldest and entry.date and entry.date < oldest:
                self.result.too_old += 1
            else:
                self._article(entry.url, entry.updated.isoformat() if entry.updated else None)

    def _entries(self, feed_url: str, depth: int) -> list[FeedEntry]:
        """Every entry; a feed unchanged since the last run (304) gives what it listed then."""
        known = self.state.feed(feed_url)
        try:
            validators = self.state.url(feed_url).validators() if known else Validators()
            fetched = self.fetcher.get(feed_url, validators)
            parsed = (
                known
                if fetched.not_modified and known
                else parse_feed(fetched.body, fetched.url, int(self.settings.max_file_mb * 1e6))
            )
            if parsed.sitemaps and depth >= MAX_SITEMAP_DEPTH:
                raise FeedError(f"sitemap indexes nested more than {MAX_SITEMAP_DEPTH} deep")
        except (FetchError, FeedError) as error:
            self._fail(f"error: {feed_url}: {error}")
            return []
        self.state.remember_feed(feed_url, fetched, parsed)
        entries = list(parsed.entries)
        for sitemap in parsed.sitemaps:
            entries += self._entries(sitemap, depth + 1)
        return entries

    def _article(self, url: str, listed: str | None) -> None:
        """Fetch one article unless the feed gives the same update date as last time; save it if it changed."""
        self.result.checked += 1
        known = self.state.url(url)
        saved = self.state.saved_file(url)
        if saved and listed and known.listed_date == listed:
            self._keep(saved)
            return
        try:
            fetched = self.fetcher.get(url, known.validators() if saved else Validators())
            if fetched.not_modified and saved:
                path, changed = saved, False
            elif fetched.not_modified:
                raise FetchError("HTTP 304 Not Modified to a request that was not conditional")
            else:
                path, changed = save_fetched(fetched, self.settings)
        except (FetchError, DocumentError) as error:
            self._fail(f"error: {url}: {error}")
            return
        except Exception as error:  # one odd page must never stop the run
            self._fail(f"error: {url}: unexpected {type(error).__name__}: {error}"[:300])
            return
        self.state.remember(url, fetched, listed, path)
        if changed:
            self.result.saved += 1
            self.result.files.append(path)
            self.report(f"saved: {url} → {display_source(path)}")
        else:
            self._keep(path)

    def _keep(self, path: Path) -> None:
        self.result.unchanged += 1
        self.result.files.append(path)

    def _fail(self, line: str) -> None:
        self.result.failed += 1
        self.result.errors.append(line)
        self.report(line)
