"""RSS, Atom and sitemap XML → the article URLs they list, with each one's date.

Parsed with defusedxml: entity expansion (billion laughs) and external entities are refused."""

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
GZIP_MAGIC = b"\x1f\x8b"


class FeedError(Exception):
    """Data that is not a feed or sitemap; the message is the reason, in one line."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    published: datetime | None  # aware, like updated
    updated: datetime | None  # only a date the feed gives as the last change (RSS pubDate is not one)

    @property
    def date(self) -> datetime | None:
        return self.updated or self.published


@dataclass
class ParsedFeed:
    kind: str  # "RSS", "Atom", "sitemap" or "sitemap index"
    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # child sitemaps of a sitemap index


def parse_feed(data: bytes, feed_url: str, max_bytes: int = 50_000_000) -> ParsedFeed:
    """The entries of an RSS 2.0/1.0 or Atom feed, or of a sitemap (also gzipped, as `.xml.gz`);
    FeedError for anything else."""
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(data, max_bytes)
    try:
        root = fromstring(data)
    except DefusedXmlException as error:
        raise FeedError(f"not a feed: the XML uses {type(error).__name__}, which is refused") from None
    except (ParseError, ValueError) as error:
        raise FeedError(f"not a feed: not well-formed XML ({' '.join(str(error).split())})") from None
    name = _local(root.tag)
    if name in ("rss", "RDF"):  # RSS 2.0, RSS 1.0
        return ParsedFeed("RSS", _rss_entries(root, feed_url))
    if name == "feed":
        return ParsedFeed("Atom", _atom_entries(root, feed_url))
    if name == "urlset":
        return ParsedFeed("sitemap", _sitemap_entries(root, "url", feed_url))
    if name == "sitemapindex":
        return ParsedFeed("sitemap index", sitemaps=[e.url for e in _sitemap_entries(root, "sitemap", feed_url)])
    raise FeedError(f"not an RSS or Atom feed or a sitemap (the document is <{name}>)")


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        xml = inflater.decompress(data, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(f"not a feed: damaged gzip data ({error})") from None
    if len(xml) > max_bytes:
        raise FeedError(f"too large: the gzipped sitemap inflates past {max_bytes / 1e6:g} MB (RAG_MAX_FILE_MB)")
    return xml


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, *names: str) -> str | None:
    for name in names:
        for child in _children(element, name):
            if child.text and child.text.strip():
                return child.text.strip()
    return None


def _rss_entries(root: Element, feed_url: str) -> list[FeedEntry]:
    entries = []
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        link = _text(item, "link")
        if link is None:
            guid = next(iter(_children(item, "guid")), None)
            if guid is not None and guid.get("isPermaLink", "true") != "false":
                link = _text(item, "guid")
        _add(entries, link, feed_url, _text(item, "pubDate", "date", "issued"), _text(item, "updated", "modified"))
    return entries


def _atom_entries(root: Element, feed_url: str) -> list[FeedEntry]:
    base = urljoin(feed_url, root.get(XML_BASE, ""))
    entries = []
    for entry in _children(root, "entry"):
        links = [link for link in _children(entry, "link") if link.get("rel", "alternate") == "alternate"]
        href = links[0].get("href") if links else None
        _add(entries, href, urljoin(base, entry.get(XML_BASE, "")), _text(entry, "published"), _text(entry, "updated"))
    return entries


def _sitemap_entries(root: Element, name: str, feed_url: str) -> list[FeedEntry]:
    entries = []
    for element in _children(root, name):
        _add(entries, _text(element, "loc"), feed_url, None, _text(element, "lastmod"))
    return entries


def _add(entries: list[FeedEntry], link: str | None, base: str, published: str | None, updated: str | None) -> None:
    """An entry whose link is an http(s) URL; others (none, mailto:, javascript:) are left out."""
    if not link:
        return
    try:
        url = urljoin(base, link.strip())
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 bracket)
        return
    if parts.scheme in ("http", "https") and parts.hostname:
        entries.append(FeedEntry(url, parse_date(published), parse_date(updated)))


def parse_date(text: str | None) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 / W3C datetime (Atom, sitemaps) as an aware datetime; None if unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
