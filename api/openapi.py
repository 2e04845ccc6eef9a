"""The API's machine-readable description, served at /api/openapi.json."""

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
            "enum": ["no_passage", "model", "unsupported", "off_subject", None],
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


def _errors(*codes: int) -> dict:
    descriptions = {
        400: "malformed JSON",
        403: "origin not allowed",
        413: "body or question too long",
        422: "invalid request",
        429: "rate limited (see Retry-After)",
        503: "model loading or unavailable (see Retry-After)",
    }
    return {
        str(code): {
            "description": descriptions[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
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
                "when queued behind another question; `token` {text} while the model writes; `done` with the "
                "Answer; or `error` {error, message}",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
        ),
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
        "schemas": {"Passage": PASSAGE, "Citation": CITATION, "Answer": ANSWER, "Question": QUESTION, "Error": ERROR}
    },
}
