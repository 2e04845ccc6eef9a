"""The API's machine-readable description, served at /api/openapi.json."""

from api.openai_compat import MODEL_ID

PASSAGE = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "source": {"type": "string"},
        "title": {"type": ["string", "null"]},
        "author": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"]},
        "kind": {"type": ["string", "null"]},
        "lang": {"type": ["string", "null"]},
        "heading": {"type": ["string", "null"]},
        "page": {"type": ["integer", "null"]},
        "url": {"type": ["string", "null"]},
        "chunk_id": {"type": "string"},
        "score": {"type": "number"},
        "dense_score": {"type": "number"},
        "lexical_score": {"type": "number"},
    },
    "required": ["text", "source", "title", "page", "url", "chunk_id", "score"],
}
CITATION = {
    "allOf": [
        {"$ref": "#/components/schemas/Passage"},
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "support": {
                    "type": "object",
                    "description": "The supporting sentence's span within text.",
                    "properties": {
                        "start": {"type": "integer"},
                        "end": {"type": "integer"},
                        "score": {"type": "number"},
                    },
                },
            },
            "required": ["n", "support"],
        },
    ]
}
ANSWER = {
    "type": "object",
    "properties": {
        "question": {"type": "string"},
        "answer": {"type": "string"},
        "abstained": {"type": "boolean"},
        "citations": {"type": "array", "items": {"$ref": "#/components/schemas/Citation"}},
        "retrieved": {"type": "array", "items": {"$ref": "#/components/schemas/Passage"}},
        "model": {
            "type": "object",
            "properties": {"embedder": {"type": "string"}, "generator": {"type": "string"}},
        },
        "timings_ms": {
            "type": "object",
            "properties": {
                "retrieve": {"type": "number"},
                "first_token": {"type": "number"},
                "total": {"type": "number"},
            },
        },
        "lang": {"type": "string", "enum": ["de", "en"]},
        "standalone_question": {"type": "string"},
        "search_queries": {"type": "array", "items": {"type": "string"}},
        "abstain_reason": {
            "type": ["string", "null"],
            "enum": ["no_passage", "model", "unsupported", "unanswered", "off_subject", "repeated", None],
        },
    },
    "required": ["question", "answer", "abstained", "citations", "retrieved", "model", "timings_ms"],
}
QUESTION = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 1000},
        "history": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["user", "assistant"]},
                    "content": {"type": "string", "maxLength": 4000},
                },
                "required": ["role", "content"],
            },
        },
        "lang": {"type": "string", "enum": ["de", "en"]},
    },
    "required": ["question"],
}
ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error", "message"],
}
OPENAI_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": "string"},
            },
            "required": ["message", "type", "param", "code"],
        }
    },
    "required": ["error"],
}
TEXT_PART = {
    "type": "object",
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
    "required": ["type", "text"],
}
CHAT_REQUEST = {
    "type": "object",
    "description": "The last message is the question and must be the user's; earlier user and assistant messages "
    "are the conversation (the last 20 count); system and developer messages are ignored. Other OpenAI parameters "
    "(temperature, max_tokens, …) are accepted and ignored.",
    "properties": {
        "model": {"const": MODEL_ID},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
                    "content": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "array", "items": TEXT_PART},
                            {"type": "null"},
                        ]
                    },
                },
                "required": ["role"],
            },
        },
        "stream": {"type": "boolean", "default": False},
    },
    "required": ["model", "messages"],
}
CITATIONS = {
    "type": "array",
    "description": "Extra field: the sources of the answer's [n] markers, as in the /api/ask Answer.",
    "items": {"$ref": "#/components/schemas/Citation"},
}
CHAT_COMPLETION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"const": MODEL_ID},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "message": {
                        "type": "object",
                        "properties": {
                            "role": {"const": "assistant"},
                            "content": {"type": "string", "description": "The verified answer with its [n] markers."},
                            "citations": CITATIONS,
                            "standalone_question": {
                                "type": "string",
                                "description": "Extra field: the question as understood (a follow-up rewritten).",
                            },
                            "search_queries": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "Extra field: the texts searched, fused.",
                            },
                        },
                    },
                    "finish_reason": {"const": "stop"},
                },
            },
        },
        "usage": {
            "type": "object",
            "description": "Always zero: the assistant does not count tokens.",
            "properties": {
                name: {"type": "integer"} for name in ("prompt_tokens", "completion_tokens", "total_tokens")
            },
        },
    },
    "required": ["id", "object", "created", "model", "choices", "usage"],
}
MODELS = {
    "type": "object",
    "properties": {
        "object": {"const": "list"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"const": MODEL_ID},
                    "object": {"const": "model"},
                    "created": {"type": "integer"},
                    "owned_by": {"type": "string"},
                },
            },
        },
    },
}
ERROR_DESCRIPTIONS = {
    400: "malformed JSON",
    401: "missing or wrong API key (only when RAG_API_KEY is set)",
    403: "origin not allowed",
    404: "unknown model",
    413: "body or question too long",
    422: "invalid request",
    429: "rate limited (see Retry-After)",
    503: "model loading or unavailable (see Retry-After)",
}


def _errors(*codes: int, schema: str = "Error") -> dict:
    return {
        str(code): {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
        for code in codes
    }


def _json(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _ask_operation(summary: str, response: dict) -> dict:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Question"}}},
            },
            "responses": {"200": response, **_errors(400, 403, 413, 422, 429, 503)},
        }
    }


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Marketing × Vertrieb – Wissensassistent",
        "version": "1.0.0",
        "description": "Answers from the indexed articles, with verified citations.",
    },
    "paths": {
        "/api/ask": _ask_operation(
            "Answer a question",
            {
                "description": "the answer",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}},
            },
        ),
        "/api/ask/stream": _ask_operation(
            "Answer a question as Server-Sent Events",
            {
                "description": "events in this order: `sources` {passages, standalone_question}, at once from the "
                "question, and once more if the search with the model's translation of it changes them; `waiting` "
                "when queued behind another question; `token` {text} while the model writes; `revising` {step, "
                "message} when the streamed text will be replaced and that takes another model call (`step` "
                "`translating` or `asking_again`); `done` with the Answer; or `error` {error, message}",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
        ),
        "/v1/chat/completions": {
            "post": {
                "summary": "OpenAI-compatible chat completion: the answer to the last user message, with citations",
                "security": [{}, {"apiKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}},
                },
                "responses": {
                    "200": {
                        "description": "without `stream`: a chat.completion. With `stream: true`: Server-Sent "
                        "Events, each `data:` a chat.completion.chunk: the role, the tokens as `content` deltas, "
                        "then a chunk with finish_reason `stop` whose delta carries `citations`, "
                        "`standalone_question`, `search_queries` and `verified_content` (the verified answer, "
                        "replacing the streamed tokens); then `data: [DONE]`. A comment line `: waiting …` says "
                        "the question is queued, `: revising …` that the streamed tokens will be replaced.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(400, 401, 403, 404, 413, 422, 429, 503, schema="OpenAIError"),
                },
            }
        },
        "/v1/models": {
            "get": {
                "summary": "The one model: the assistant",
                "security": [{}, {"apiKey": []}],
                "responses": {"200": _json("the model list", "Models"), **_errors(401, 403, schema="OpenAIError")},
            }
        },
        "/api/health": {
            "get": {
                "summary": "Index statistics and model status",
                "responses": {
                    "200": {"description": "status", "content": {"application/json": {"schema": {"type": "object"}}}},
                    **_errors(403),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Passage": PASSAGE,
            "Citation": CITATION,
            "Answer": ANSWER,
            "Question": QUESTION,
            "Error": ERROR,
            "ChatRequest": CHAT_REQUEST,
            "ChatCompletion": CHAT_COMPLETION,
            "Models": MODELS,
            "OpenAIError": OPENAI_ERROR,
        },
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "RAG_API_KEY; /v1 only, when it is set"}
        },
    },
}
