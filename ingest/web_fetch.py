"""HTTP GET that behaves well and cannot be turned against the intranet.

Only http and https; every address a host resolves to is checked when a connection is opened,
so redirects and DNS answers that change between check and connect are covered too. A clear
User-Agent, timeouts, a size cap, bounded redirects and bounded retries on 429/503.
"""

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx

from rag.settings import Settings

USER_AGENT = "MarketingVertriebAssistant/1.0 (local question-answering assistant; article ingest)"
RETRY_STATUSES = (429, 503)
NOT_MODIFIED = 304


class FetchError(Exception):
    """A URL that could not be fetched; the message is the reason, in one line."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when a conditional request found the resource unchanged
    content_type: str  # media type only, lower case
    charset: str | None
    body: bytes
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == NOT_MODIFIED


@dataclass(frozen=True)
class Validators:
    """What a conditional request sends back: the resource's last ETag and Last-Modified."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def address_refusal(address: str) -> str | None:
    """Why an IP address must not be fetched from (loopback, private, ...), or None for a public one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):  # most specific first
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address"
    return None if ip.is_global else "non-public address"


def resolve_checked(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; FetchError if any address the host resolves to is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchError(f"cannot resolve host {host}: {error.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            if reason := address_refusal(address):
                shown = host if host == address else f"{host} ({address})"
                raise FetchError(f"refused: {shown} is a {reason} (RAG_FETCH_ALLOW_PRIVATE)")
    return addresses[0]


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to checked addresses, and to exactly the one checked."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = resolve_checked(host, port, self.allow_private)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


def _guarded_transport(allow_private: bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(retries=0)
    # httpx offers no public way to choose the network backend of its connection pool.
    transport._pool._network_backend = _GuardedBackend(allow_private)
    return transport


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait (delta-seconds or an HTTP date), or None if absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Fetcher:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.max_bytes = int(settings.max_file_mb * 1e6)
        self.sleep = sleep
        self.client = httpx.Client(
            transport=_guarded_transport(settings.fetch_allow_private),
            headers={"User-Agent": USER_AGENT},
            timeout=settings.fetch_timeout,
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address check
        )

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, validators: Validators = Validators()) -> Fetched:
        """GET with redirects and retries; FetchError with a one-line reason for anything but 200 or 304."""
        seen = {url}
        current = url
        for _ in range(self.settings.fetch_max_redirects + 1):
            fetched, location = self._get_with_retries(current, validators)
            if location is None:
                return fetched
            if location in seen:
                raise FetchError(f"redirect loop ({current} → {location})")
            seen.add(location)
            current = location
        raise FetchError(f"more than {self.settings.fetch_max_redirects} redirects (RAG_FETCH_MAX_REDIRECTS)")

    def _get_with_retries(self, url: str, validators: Validators) -> tuple[Fetched | None, str | None]:
        attempt = 0
        while True:
            try:
                return self._get_once(url, validators)
            except _Retryable as busy:
                wait = busy.retry_after if busy.retry_after is not None else 2.0**attempt
                if wait > self.settings.fetch_max_retry_wait:
                    raise FetchError(
                        f"HTTP {busy.status} with Retry-After {wait:g} s, over the "
                        f"{self.settings.fetch_max_retry_wait:g} s limit (RAG_FETCH_MAX_RETRY_WAIT)"
                    ) from None
                if attempt == self.settings.fetch_retries:
                    raise FetchError(f"HTTP {busy.status} in all {attempt + 1} attempts (RAG_FETCH_RETRIES)") from None
                self.sleep(wait)
                attempt += 1

    def _get_once(self, url: str, validators: Validators) -> tuple[Fetched | None, str | None]:
        _check_scheme(url)
        deadline = time.monotonic() + 3 * self.settings.fetch_timeout
        try:
            with self.client.stream("GET", url, headers=validators.headers()) as response:
                if response.is_redirect and response.next_request:
                    return None, str(response.next_request.url)
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(response.status_code, retry_after_seconds(response.headers.get("Retry-After")))
                if response.status_code not in (200, NOT_MODIFIED):
                    raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                return self._fetched(response, validators, deadline), None
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {self.settings.fetch_timeout:g} s (RAG_FETCH_TIMEOUT)") from None
        except httpx.InvalidURL as error:
            raise FetchError(f"not a valid URL ({error})") from None
        except httpx.HTTPError as error:
            raise FetchError(f"{type(error).__name__}: {' '.join(str(error).split()) or 'connection failed'}") from None

    def _fetched(self, response: httpx.Response, validators: Validators, deadline: float) -> Fetched:
        unchanged = response.status_code == NOT_MODIFIED
        body = b"" if unchanged else self._read_capped(response, deadline)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if unchanged:  # a 304 may leave out validators that stay the same
            etag, modified = etag or validators.etag, modified or validators.last_modified
        return Fetched(
            str(response.url), response.status_code, content_type, response.charset_encoding, body, etag, modified
        )

    def _read_capped(self, response: httpx.Response, deadline: float) -> bytes:
        limit = f"the {self.max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)"
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"too large: {int(declared) / 1e6:.1f} MB, over {limit}")
        parts, size = [], 0
        for part in response.iter_bytes():  # decompressed, so a gzip bomb is cut off too
            size += len(part)
            if size > self.max_bytes:
                raise FetchError(f"too large: over {limit}")
            if time.monotonic() > deadline:
                raise FetchError(f"timed out: still sending after {3 * self.settings.fetch_timeout:g} s")
            parts.append(part)
        return b"".join(parts)


class _Retryable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        self.status = status
        self.retry_after = retry_after


def _check_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not '{scheme or url}'")
