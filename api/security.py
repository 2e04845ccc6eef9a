"""Who may call the API, how often and how much: an origin allow-list with CORS, a per-client rate
limit, a body size limit, and an optional bearer key.

Both HTTP APIs (/api and the OpenAI-compatible /v1) use these guards; each renders RequestError in its own shape.
"""

import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_HEADERS = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"content-type, authorization"),
    (b"access-control-max-age", b"600"),
]
NOT_ENABLED = "The assistant is not enabled for this site."


class RequestError(Exception):
    """What is wrong with a request: HTTP status, a stable code, a one-line message, and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.param = status, code, message, headers or {}, param


def parse_origins(setting: str) -> frozenset[str]:
    return frozenset(origin.strip().rstrip("/").lower() for origin in setting.split(",") if origin.strip())


class OriginGuard:
    """ASGI middleware for the callers of paths under `prefix`: same origin always; others only when listed.

    A listed origin gets CORS headers; any other cross-origin request gets 403 with `refusal` and none.
    Requests without an Origin header (scripts, servers) pass: browsers always send one cross-origin.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed: frozenset[str],
        prefix: str = "/api/",
        refusal: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.prefix = prefix
        self.refusal = refusal or {"error": "not_enabled", "message": NOT_ENABLED}

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
            await _send_json(send, 403, self.refusal)
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

    def admit(self, request: Request) -> None:
        """Count the request, or raise 429 with Retry-After when its client must wait."""
        retry = self.retry_after(request.client.host if request.client else "unknown")
        if retry is not None:
            raise RequestError(
                429, "rate_limited", f"Too many questions; try again in {retry} s.", {"Retry-After": str(retry)}
            )

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


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, "body_too_large", f"The request body is over {limit // 1024} KB.")
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise RequestError(413, "body_too_large", f"The request body is over {limit // 1024} KB.")
    return body


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The request body as a JSON object, at most `limit` bytes long."""
    body = await _read_limited(request, limit)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # bad syntax or encoding, too deep, numbers past 4300 digits
        raise RequestError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise RequestError(422, "invalid_request", "The request body must be a JSON object.")
    return data


def check_bearer_key(request: Request, key: str | None) -> None:
    """With a key set, the request must send `Authorization: Bearer <key>`; compared in constant time."""
    if not key:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        raise RequestError(
            401, "invalid_api_key", "Authorization: missing or wrong API key (send 'Bearer <RAG_API_KEY>')."
        )
