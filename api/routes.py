"""HTTP routes beside the chat page: ask (JSON or Server-Sent Events), health, the API description, the widget."""

import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from api.openai_compat import OpenAICompatible, openai_error_response, openai_refusal
from api.openapi import OPENAPI
from api.security import OriginGuard, RateLimiter, RequestError, parse_origins, read_json_object
from rag.assistant import Assistant, Done, QuestionError, Revising, Sources, Token, Waiting, is_valid_unicode
from rag.components import open_retriever, shared_model
from rag.conversation import REVISING_NOTICE
from rag.generators import GeneratorError
from rag.registry import index_statistics
from rag.retrieval import Retriever
from rag.settings import PROJECT_ROOT, Settings
from rag.store import IndexUnusableError

WIDGET = PROJECT_ROOT / "widget"
MODEL_WAIT_SECONDS = 120
log = logging.getLogger(__name__)


class Api:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = shared_model(settings.model_dump_json())
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self._retriever: Retriever | None = None
        self._retriever_lock = threading.Lock()  # concurrent first requests must open it once

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/ask", self.ask, methods=["POST"]),
            Route("/api/ask/stream", self.ask_stream, methods=["POST"]),
            Route("/api/health", self.health, methods=["GET"]),
            Route("/api/openapi.json", self.openapi, methods=["GET"]),
            Route("/widget.js", widget_file("widget.js", "application/javascript"), methods=["GET"]),
            Route("/widget.css", widget_file("widget.css", "text/css"), methods=["GET"]),
            *OpenAICompatible(self.settings, self.limiter, self._assistant).routes(),
        ]

    async def ask(self, request: Request) -> Response:
        try:
            question, history, lang = await self._question(request)
            assistant = await run_in_threadpool(self._assistant)
            answer = await run_in_threadpool(assistant.ask, question, history, lang)
        except RequestError as error:
            return api_error(error)
        except QuestionError as error:
            return api_error(RequestError(422, "invalid_request", str(error)))
        return JSONResponse(answer.to_json())

    async def ask_stream(self, request: Request) -> Response:
        try:
            question, history, lang = await self._question(request)
            assistant = await run_in_threadpool(self._assistant)
        except RequestError as error:
            return api_error(error)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _server_sent_events(assistant, question, history, lang), media_type="text/event-stream", headers=headers
        )

    async def health(self, request: Request) -> Response:
        model: dict[str, Any] = {"embedder": self.settings.embedder, "ready": self.model.ready()}
        if self.model.ready():
            try:
                model["generator"] = self.model.get().name
            except GeneratorError as error:
                model["error"] = str(error)
        index = index_statistics(self.settings.index_dir)
        return JSONResponse({"status": "ok", "index": index, "model": model})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def _question(self, request: Request) -> tuple[str, list[dict[str, str]], str | None]:
        """The checked request: size, JSON shape and rate limit; RequestError says what is wrong."""
        data = await read_json_object(request, self.settings.max_body_kb * 1024)
        question, history, lang = data.get("question"), data.get("history", []), data.get("lang")
        if not isinstance(question, str):
            raise RequestError(422, "invalid_request", "question: must be a string.")
        if not is_valid_unicode(question):
            raise RequestError(422, "invalid_request", "question: contains characters that are not valid Unicode.")
        if len(question) > self.settings.max_question_chars:
            raise RequestError(
                413,
                "question_too_long",
                f"question: {len(question)} characters, over the limit of {self.settings.max_question_chars}.",
            )
        if lang not in (None, "de", "en"):
            raise RequestError(422, "invalid_request", "lang: must be 'de' or 'en'.")
        history = _checked_history(history)
        self.limiter.admit(request)
        if not " ".join(question.split()):
            raise RequestError(422, "invalid_request", "question: must not be empty.")
        return question, history, lang

    def _assistant(self) -> Assistant:
        try:
            generator = self.model.get(timeout=MODEL_WAIT_SECONDS)
            with self._retriever_lock:
                if self._retriever is None:
                    self._retriever = open_retriever(self.settings)
        except TimeoutError:
            raise RequestError(503, "model_loading", "The model is still loading.", {"Retry-After": "10"}) from None
        except (GeneratorError, IndexUnusableError) as error:
            log.error("assistant unavailable: %s", error)
            raise RequestError(503, "unavailable", "The assistant is not available right now.") from None
        return Assistant(self.settings, self._retriever.embedder, self._retriever, generator)


def widget_file(name: str, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    """A file of the widget, readable from any page: the script fetches its stylesheet cross-origin
    (also on sites not listed, to show them a styled "not enabled"); the API decides who may ask."""
    path = WIDGET / name

    async def endpoint(request: Request) -> Response:
        text = path.read_text(encoding="utf-8")
        return Response(text, media_type=media_type, headers={"Access-Control-Allow-Origin": "*"})

    return endpoint


def _checked_history(history: Any) -> list[dict[str, str]]:
    if not isinstance(history, list) or len(history) > 20:
        raise RequestError(422, "invalid_request", "history: must be a list of at most 20 turns.")
    for turn in history:
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
            or len(turn["content"]) > 4000
            or not is_valid_unicode(turn["content"])
        ):
            raise RequestError(
                422,
                "invalid_request",
                "history: each turn needs role 'user' or 'assistant' and content (≤ 4000 chars).",
            )
    return history


def _server_sent_events(
    assistant: Assistant, question: str, history: list[dict[str, str]], lang: str | None
) -> Iterator[str]:
    """`sources`, then `waiting` if queued, `token`s, `revising` while the streamed text is being replaced,
    and `done` with the verified answer (or `error`)."""
    try:
        for event in assistant.stream(question, history, lang):
            if isinstance(event, Sources):
                passages = [passage.to_json() for passage in event.passages]
                yield _event("sources", {"passages": passages, "standalone_question": event.standalone_question})
            elif isinstance(event, Waiting):
                yield _event("waiting", {"message": "queued: the model is answering another question"})
            elif isinstance(event, Token):
                yield _event("token", {"text": event.text})
            elif isinstance(event, Revising):
                yield _event("revising", {"step": event.step, "message": REVISING_NOTICE[event.lang][event.step]})
            elif isinstance(event, Done):
                yield _event("done", event.answer.to_json())
    except QuestionError as error:
        yield _event("error", {"error": "invalid_request", "message": str(error)})
    except GeneratorError as error:
        log.error("generation failed: %s", error)
        yield _event("error", {"error": "unavailable", "message": "The model failed to answer."})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def server_parts(settings: Settings) -> dict[str, Any]:
    """Routes, middleware and error handler of the HTTP side, for st.App (and for tests, a Starlette app)."""
    allowed = parse_origins(settings.allowed_origins)
    return {
        "routes": Api(settings).routes(),
        "middleware": [
            Middleware(OriginGuard, allowed=allowed),
            Middleware(OriginGuard, allowed=allowed, prefix="/v1/", refusal=openai_refusal()),
        ],
        "exception_handlers": {HTTPException: http_error, Exception: internal_error},
    }


def api_error(error: RequestError) -> JSONResponse:
    return JSONResponse({"error": error.code, "message": error.message}, error.status, headers=error.headers)


async def http_error(request: Request, error: HTTPException) -> Response:
    """Unknown API paths and wrong methods answer in the API's JSON error shape."""
    if not request.url.path.startswith("/api/"):
        return PlainTextResponse(error.detail, error.status_code, headers=error.headers)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse({"error": code, "message": error.detail}, error.status_code, headers=error.headers)


async def internal_error(request: Request, error: Exception) -> Response:
    """Whatever went wrong is logged here; the client gets no trace of it."""
    log.exception("unhandled error on %s", request.url.path, exc_info=error)
    failure = RequestError(500, "internal_error", "Something went wrong on the server.")
    return openai_error_response(failure) if request.url.path.startswith("/v1/") else api_error(failure)
