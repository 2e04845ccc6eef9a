"""The assistant behind the OpenAI chat-completions API (/v1), for front-ends and scripts that speak it.

The last message is the question and must be the user's; earlier user and assistant messages are the
conversation. System messages are ignored: the assistant's own prompt decides how it answers. The reply
is the verified answer with its [n] markers, its sources in the extra field `citations`, and how the
question was understood and searched in `standalone_question` and `search_queries`.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from api.security import NOT_ENABLED, RateLimiter, RequestError, check_bearer_key, read_json_object
from rag.assistant import Answer, Assistant, Done, QuestionError, Revising, Token, Waiting, is_valid_unicode
from rag.generators import GeneratorError
from rag.settings import Settings

MODEL_ID = "marketing-vertrieb-assistant"
MAX_HISTORY_TURNS = 20  # the most recent ones; the assistant reads only the last few
ROLES = ("system", "developer", "user", "assistant")
ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
# The assistant does not count tokens: an answer takes several model calls (rewrite, translation, check).
NO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
log = logging.getLogger(__name__)


class OpenAICompatible:
    """`POST /v1/chat/completions` (JSON or a stream of chunks) and `GET /v1/models`."""

    def __init__(self, settings: Settings, limiter: RateLimiter, assistant: Callable[[], Assistant]) -> None:
        self.settings = settings
        self.limiter = limiter  # shared with /api: one budget per client
        self.assistant = assistant
        self.started = int(time.time())

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            # Else the chat page's catch-all would answer an OpenAI client with HTML.
            Route("/v1/{path:path}", self.unknown, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
        ]

    async def unknown(self, request: Request) -> Response:
        served = "POST /v1/chat/completions and GET /v1/models"
        message = f"{request.method} {request.url.path}: not served here; this server has {served}."
        return openai_error_response(RequestError(404, "not_found", message))

    async def models(self, request: Request) -> Response:
        try:
            check_bearer_key(request, self.settings.api_key)
        except RequestError as error:
            return openai_error_response(error)
        model = {"id": MODEL_ID, "object": "model", "created": self.started, "owned_by": "self-hosted"}
        return JSONResponse({"object": "list", "data": [model]})

    async def chat_completions(self, request: Request) -> Response:
        try:
            question, history, stream = await self._request(request)
            assistant = await run_in_threadpool(self.assistant)
            if stream:
                headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
                chunks = _chunks(assistant, question, history)
                return StreamingResponse(chunks, media_type="text/event-stream", headers=headers)
            answer = await run_in_threadpool(assistant.ask, question, history)
        except RequestError as error:
            return openai_error_response(error)
        except QuestionError as error:
            return openai_error_response(RequestError(422, "invalid_request", str(error), param="messages"))
        except GeneratorError as error:
            log.error("generation failed: %s", error)
            return openai_error_response(RequestError(503, "unavailable", "The model failed to answer."))
        return JSONResponse(_Completion().whole(answer))

    async def _request(self, request: Request) -> tuple[str, list[dict[str, str]], bool]:
        """Key, size, JSON shape and rate limit checked: the question, the conversation, and whether to stream."""
        check_bearer_key(request, self.settings.api_key)
        data = await read_json_object(request, self.settings.max_body_kb * 1024)
        model, stream = data.get("model"), data.get("stream")
        if model is None:
            raise RequestError(422, "invalid_request", f"model: required; use {MODEL_ID!r}.", param="model")
        if model != MODEL_ID:
            shown = repr(model)[:80]  # the client's own text, cut short
            raise RequestError(
                404, "model_not_found", f"model: {shown} is not served here; use {MODEL_ID!r}.", param="model"
            )
        if stream is not None and not isinstance(stream, bool):
            raise RequestError(422, "invalid_request", "stream: must be true or false.", param="stream")
        question, history = conversation(data.get("messages"))
        if len(question) > self.settings.max_question_chars:
            raise RequestError(
                413,
                "question_too_long",
                f"messages: the question has {len(question)} characters, over the limit of "
                f"{self.settings.max_question_chars}.",
                param="messages",
            )
        self.limiter.admit(request)
        if not question.strip():
            raise RequestError(422, "invalid_request", "messages: the last user message is empty.", param="messages")
        return question, history, stream is True


def conversation(messages: Any) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, which must be the user's) and the earlier user and assistant turns."""
    if not isinstance(messages, list) or not messages:
        raise RequestError(422, "invalid_request", "messages: must be a non-empty list.", param="messages")
    turns = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestError(
                422,
                "invalid_request",
                f"messages[{index}].role: must be one of {', '.join(ROLES)}.",
                param=f"messages[{index}].role",
            )
        turns.append({"role": message["role"], "content": _text(message.get("content"), f"messages[{index}].content")})
    if turns[-1]["role"] != "user":
        raise RequestError(
            422, "invalid_request", "messages: the last message must be the user's question.", param="messages"
        )
    history = [turn for turn in turns[:-1] if turn["role"] in ("user", "assistant") and turn["content"].strip()]
    return turns[-1]["content"], history[-MAX_HISTORY_TURNS:]


def _text(content: Any, field: str) -> str:
    """A message's text: a string, or the text parts of a list joined by newlines; null is empty."""
    if content is None:
        return ""
    if isinstance(content, list) and all(_is_text_part(part) for part in content):
        content = "\n".join(part["text"] for part in content)
    if not isinstance(content, str):
        raise RequestError(
            422,
            "invalid_request",
            f'{field}: must be a string or a list of text parts ({{"type": "text", "text": …}}).',
            param=field,
        )
    if not is_valid_unicode(content):
        raise RequestError(
            422, "invalid_request", f"{field}: contains characters that are not valid Unicode.", param=field
        )
    return content


def _is_text_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)


class _Completion:
    """One answer in the chat.completion shape, whole or as chunks."""

    def __init__(self) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def whole(self, answer: Answer) -> dict[str, Any]:
        message = {"role": "assistant", "content": answer.answer, **_extras(answer)}
        choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
        return {**self._head("chat.completion"), "choices": [choice], "usage": NO_USAGE}

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return _data({**self._head("chat.completion.chunk"), "choices": [choice]})

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL_ID}


def _chunks(assistant: Assistant, question: str, history: list[dict[str, str]]) -> Iterator[str]:
    """The role, then the tokens as the model writes them, then a last chunk with the verified answer
    (`verified_content`, which replaces the tokens: markers repaired) and its `citations`; then [DONE].
    When no token came (a refusal held back for a second try), the last chunk carries the answer as
    `content` too, so that a plain client shows it."""
    completion = _Completion()
    yield completion.chunk({"role": "assistant", "content": ""})
    streamed = False
    try:
        for event in assistant.stream(question, history):
            if isinstance(event, Waiting):
                yield ": waiting: the model is answering another question\n\n"  # an SSE comment; clients skip it
            elif isinstance(event, Token):
                streamed = True
                yield completion.chunk({"content": event.text})
            elif isinstance(event, Revising):
                yield f": revising: {event.step}\n\n"  # the tokens so far will be replaced by verified_content
            elif isinstance(event, Done):
                final = {"verified_content": event.answer.answer, **_extras(event.answer)}
                yield completion.chunk(final if streamed else {"content": event.answer.answer, **final}, "stop")
    except QuestionError as error:
        yield _data(openai_error(RequestError(422, "invalid_request", str(error), param="messages")))
        return
    except GeneratorError as error:
        log.error("generation failed: %s", error)
        yield _data(openai_error(RequestError(503, "unavailable", "The model failed to answer.")))
        return
    yield "data: [DONE]\n\n"


def _extras(answer: Answer) -> dict[str, Any]:
    """Beyond OpenAI's fields: the sources of the [n] markers, and how the question was understood and
    searched (a follow-up rewritten with the conversation, or searched with the question before it)."""
    return {
        "citations": [citation.to_json() for citation in answer.citations],
        "standalone_question": answer.standalone_question,
        "search_queries": answer.search_queries,
    }


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def openai_error(error: RequestError) -> dict[str, Any]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    kind = ERROR_TYPES.get(error.status, "server_error" if error.status >= 500 else "invalid_request_error")
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.code}}


def openai_error_response(error: RequestError) -> JSONResponse:
    return JSONResponse(openai_error(error), error.status, headers=error.headers)


def openai_refusal() -> dict[str, Any]:
    """What a page on an unlisted origin gets from /v1 (403)."""
    return openai_error(RequestError(403, "not_enabled", NOT_ENABLED))
