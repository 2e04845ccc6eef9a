"""Who may call the API and how often: an origin allow-list with CORS, and a per-client rate limit."""

import json
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"content-type"),
    (b"access-control-max-age", b"600"),
]


def parse_origins(setting: str) -> frozenset[str]:
    return frozenset(origin.strip().rstrip("/").lower() for origin in setting.split(",") if origin.strip())


class OriginGuard:
    """ASGI middleware for /api and /widget.js callers: same origin always; others only when listed.

    A listed origin gets CORS headers; any other cross-origin request gets 403 and none.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str], prefix: str = "/api/") -> None:
        self.app = app
        self.allowed = allowed
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
        if not origin or origin == _own_origin(scope, headers):
            await self.app(scope, receive, send)
            return
        if origin not in self.allowed:
            await _send_json(
                send, 403, {"error": "not_enabled", "message": "The assistant is not enabled for this site."}
            )
            return
        if scope["method"] == "OPTIONS":
            await _send_json(send, 204, None, _cors(origin))
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_cors(origin)]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _own_origin(scope: Scope, headers: dict[bytes, bytes]) -> str:
    host = headers.get(b"host", b"").decode("latin-1").lower()
    return f"{scope.get('scheme', 'http')}://{host}"


def _cors(origin: str) -> list[tuple[bytes, bytes]]:
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"), *CORS_HEADERS]


async def _send_json(send: Send, status: int, body: dict | None, extra: list | None = None) -> None:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": payload})


class RateLimiter:
    """At most `per_minute` requests per client in any sliding minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Seconds the client must wait, or None when this request may go ahead (and is counted)."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self.per_minute:
                return max(1, int(60 - (now - times[0])) + 1)
            times.append(now)
            if len(self._seen) > 10_000:  # forget idle clients so the table stays small
                self._seen = {key: value for key, value in self._seen.items() if value}
            return None
