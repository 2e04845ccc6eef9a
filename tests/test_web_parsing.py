"""Property-based tests for the hand-written parts of web ingest: file names from URLs, feed and
sitemap parsing, dates, Retry-After, the address check and the front matter of saved pages.
No deadlines: tests are not timed here (a shared machine; the first example may load a model)."""

import gzip
import ipaddress
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web_site import atom, rss, sitemap

from ingest.documents import parse_document
from ingest.feeds import FeedError, ParsedFeed, parse_date, parse_feed
from ingest.web import article_path, host_folder, looks_like_url, markdown_file
from ingest.web_fetch import address_refusal, retry_after_seconds

CORPUS = Path("/srv/corpus")
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# Characters XML 1.0 can carry: no control characters, surrogates or non-characters.
XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn")), max_size=40)
SEGMENT = st.one_of(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), st.text(max_size=15))
HOST = st.from_regex(
    r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,2}\.[a-z]{2,6}", fullmatch=True
)
SUFFIX = st.sampled_from([".md", ".pdf"])
MOMENT = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")


PORT = st.one_of(st.none(), st.integers(1, 65535))


@st.composite
def urls(draw, host: str | None = None, port: st.SearchStrategy = PORT) -> str:
    host = host or draw(HOST)
    port = draw(port)
    segments = draw(st.lists(SEGMENT, max_size=5))
    query = draw(st.one_of(st.none(), st.text(max_size=20)))
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    netloc = f"{host}:{port}" if port else host
    return f"{draw(st.sampled_from(['http', 'https']))}://{netloc}{path}" + (f"?{quote(query)}" if query else "")


def location_key(url: str, suffix: str) -> tuple:
    """What identifies the article behind a URL on its host (empty segments and one trailing suffix aside)."""
    parts = urlsplit(url)
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if segments and segments[-1].lower().endswith(suffix):
        segments[-1] = segments[-1][: -len(suffix)]
    return tuple(segments), parts.query


@settings(max_examples=200, deadline=None)
@given(urls(), SUFFIX)
def test_every_url_gets_a_safe_file_inside_its_host_folder(url: str, suffix: str) -> None:
    path = article_path(url, CORPUS, suffix)
    assert path.parent == CORPUS / "web" / host_folder(url)
    assert SAFE_NAME.match(path.parent.name) and path.parent.name not in (".", "..")
    assert path.name.endswith(suffix) and SAFE_NAME.match(path.name) and len(path.name) <= 100
    assert article_path(url, CORPUS, suffix) == path


@settings(max_examples=200, deadline=None)
@given(HOST, PORT, st.data(), SUFFIX)
def test_different_articles_of_one_host_get_different_files(host: str, port, data: st.DataObject, suffix: str) -> None:
    first, second = data.draw(urls(host, st.just(port))), data.draw(urls(host, st.just(port)))
    same = location_key(first, suffix) == location_key(second, suffix)
    assert (article_path(first, CORPUS, suffix) == article_path(second, CORPUS, suffix)) == same


@settings(deadline=None)
@given(st.text(max_size=30))
def test_only_scheme_and_slashes_make_a_url(text: str) -> None:
    assert looks_like_url(text) == bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text))
    assert looks_like_url(f"https://example.org/{text}")
    assert not looks_like_url(f"corpus/{text}")


ENTRIES = st.lists(st.tuples(urls(), XML_TEXT, MOMENT, st.one_of(st.none(), MOMENT)), max_size=6)


def render(kind: str, entries: list) -> bytes:
    """The entries as the test site writes its feeds."""
    if kind == "rss":
        return rss(
            [(title, url, format_datetime(published), iso(updated)) for url, title, published, updated in entries]
        )
    if kind == "atom":
        return atom([(title, url, published.isoformat(), iso(updated)) for url, title, published, updated in entries])
    return sitemap([(url, iso(updated)) for url, _, _, updated in entries])


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["rss", "atom", "sitemap"]), ENTRIES)
def test_feeds_give_back_every_entry_with_its_dates(kind: str, entries: list) -> None:
    parsed = parse_feed(render(kind, entries), "https://feed.example/feed.xml")
    assert [entry.url for entry in parsed.entries] == [url for url, *_ in entries]
    assert [entry.updated for entry in parsed.entries] == [updated for *_, updated in entries]
    if kind != "sitemap":
        assert [entry.published for entry in parsed.entries] == [published for _, _, published, _ in entries]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        XML_TEXT.map(str.encode),
        st.binary(max_size=300).map(lambda data: b"\x1f\x8b" + data),  # damaged gzip
        st.binary(max_size=300).map(gzip.compress),
    )
)
def test_any_bytes_are_a_feed_or_one_clear_error(data: bytes) -> None:
    try:
        parsed = parse_feed(data, "https://feed.example/")
    except FeedError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert isinstance(parsed, ParsedFeed)


@settings(max_examples=200, deadline=None)
@given(XML_TEXT, XML_TEXT)
def test_any_link_and_date_in_a_feed_item_are_kept_or_left_out(link: str, date: str) -> None:
    data = f"<rss><channel><item><link>{escape(link)}</link><pubDate>{escape(date)}</pubDate></item></channel></rss>"
    for entry in parse_feed(data.encode(), "https://feed.example/").entries:
        assert urlsplit(entry.url).scheme in ("http", "https")


@settings(deadline=None)
@given(MOMENT)
def test_rss_and_iso_dates_read_back_as_the_same_moment(moment: datetime) -> None:
    assert parse_date(format_datetime(moment)) == moment
    assert parse_date(moment.isoformat()) == moment
    assert parse_date(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")) == moment


@settings(deadline=None)
@given(st.text(max_size=40))
def test_any_date_text_is_a_moment_or_nothing(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or parsed.tzinfo is not None


@settings(deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_retry_after_reads_seconds_and_http_dates(seconds: int, ahead: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(str(seconds)) == seconds
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=ahead), usegmt=True), now) == ahead
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=ahead), usegmt=True), now) == 0


@settings(deadline=None)
@given(st.text(max_size=40))
def test_any_retry_after_is_a_wait_or_nothing(text: str) -> None:
    wait = retry_after_seconds(text)
    assert wait is None or wait >= 0


NON_PUBLIC = [
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
]


@settings(deadline=None)
@given(st.sampled_from(NON_PUBLIC), st.integers(0, 2**32 - 1))
def test_loopback_private_and_link_local_addresses_are_refused_also_as_ipv6(network, offset: int) -> None:
    address = network[offset % network.num_addresses]
    assert address_refusal(str(address)) is not None
    assert address_refusal(f"::ffff:{address}") == address_refusal(str(address))


@settings(deadline=None)
@given(st.ip_addresses(v=4))
def test_an_ipv4_address_and_its_ipv6_mapping_are_judged_alike(address: ipaddress.IPv4Address) -> None:
    assert address_refusal(f"::ffff:{address}") == address_refusal(str(address))


FIELD = st.one_of(st.none(), XML_TEXT, st.sampled_from(["2024-05-02", "yes", "null", "--- x", "a: b", "#1", "'q'"]))


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({key: FIELD for key in ("title", "author", "date", "url", "site")}), XML_TEXT)
def test_front_matter_of_a_saved_page_reads_back_as_written(fields: dict, text: str) -> None:
    body = f"# Artikel\n\n{text}\n\nDer Vertrieb ruft binnen 24 Stunden an."
    document = parse_document(Path("seite.md"), markdown_file({**fields, "kind": "web"}, body))
    for key in ("title", "author", "date", "url"):
        if fields[key] and fields[key].strip():
            # The reader puts the whole file in NFC (ingest/documents.py), front matter included.
            assert document.metadata[key] == unicodedata.normalize("NFC", " ".join(fields[key].split()))
    assert document.metadata["kind"] == "web" and "binnen 24 Stunden" in document.text
