"""What the last web runs learnt, per URL: validators for conditional requests, the feed's date for
it, the corpus file it was saved to, and a feed's entries. One JSON file beside the index, replaced
atomically; losing it costs only full downloads, never documents (the corpus files are the truth)."""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from ingest.feeds import FeedEntry, ParsedFeed, parse_date
from ingest.web_fetch import Fetched, Validators

STATE_FILE = "web_fetch.json"


@dataclass(frozen=True)
class UrlState:
    etag: str | None = None
    last_modified: str | None = None
    listed_date: str | None = None  # the entry's date in the feed when it was last fetched
    file: str | None = None

    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


class FetchState:
    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / STATE_FILE
        try:
            self._saved = self.path.read_bytes()
            raw = json.loads(self._saved)
            self._urls = {url: UrlState(**fields) for url, fields in raw["urls"].items()}
            self._feeds: dict[str, dict] = raw["feeds"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):  # missing or damaged: start afresh
            self._saved, self._urls, self._feeds = b"", {}, {}

    def url(self, url: str) -> UrlState:
        return self._urls.get(url, UrlState())

    def saved_file(self, url: str) -> Path | None:
        """The corpus file this URL was saved to, if it is still there."""
        file = self._urls.get(url, UrlState()).file
        return Path(file) if file and Path(file).is_file() else None

    def remember(self, url: str, fetched: Fetched, listed_date: str | None, file: Path | None) -> None:
        self._urls[url] = UrlState(fetched.etag, fetched.last_modified, listed_date, str(file) if file else None)

    def feed(self, feed_url: str) -> ParsedFeed | None:
        """What the feed listed when it last changed."""
        feed = self._feeds.get(feed_url)
        if feed is None:
            return None
        entries = [
            FeedEntry(url, parse_date(published), parse_date(updated)) for url, published, updated in feed["entries"]
        ]
        return ParsedFeed(feed["kind"], entries, feed["sitemaps"])

    def remember_feed(self, feed_url: str, fetched: Fetched, parsed: ParsedFeed) -> None:
        self.remember(feed_url, fetched, None, None)
        entries = [[e.url, _iso(e.published), _iso(e.updated)] for e in parsed.entries]
        self._feeds[feed_url] = {"kind": parsed.kind, "entries": entries, "sitemaps": parsed.sitemaps}

    def save(self) -> None:
        """Write the state if it changed (a run that found nothing new writes nothing)."""
        state = {"urls": {url: asdict(known) for url, known in self._urls.items()}, "feeds": self._feeds}
        data = json.dumps(state, indent=1, ensure_ascii=False).encode("utf-8")
        if data != self._saved:
            write_atomically(self.path, data)
            self._saved = data


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
