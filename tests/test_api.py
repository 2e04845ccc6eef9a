"""The HTTP API with Starlette's TestClient: the same routes, middleware and error handler app.py serves."""

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    ASKED_AGAIN_ANSWER,
    INTRANET,
    KESSLER_QUESTION_EN,
    WITHDRAWN_DRAFT,
    asked_again_model,
    assert_answer_contract,
    client_for,
    indexed_settings,
    kessler_index,
    smollm_path,
)
from starlette.testclient import TestClient

from rag.settings import Settings

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_settings(tmp_path_factory.mktemp("api") / "data").data_dir


@pytest.fixture
def client(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    return client_for(data_dir, monkeypatch)


def events(body: str) -> Iterator[tuple[str, dict]]:
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        yield lines["event"], json.loads(lines["data"])


def test_ask_returns_the_same_json_as_the_cli(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": FIVE_FACTORS})
    assert response.status_code == 200
    answer = response.json()
    assert_answer_contract(answer, FIVE_FACTORS)
    assert answer["citations"] and "Informationsaustausch" in answer["answer"]


def test_history_and_language_are_taken(client: TestClient) -> None:
    history = [{"role": "user", "content": "Hallo"}, {"role": "assistant", "content": "Guten Tag."}]
    response = client.post("/api/ask", json={"question": "Wie backe ich Brot?", "history": history, "lang": "en"})
    assert response.status_code == 200
    assert response.json()["answer"] == "The sources contain no information on this."


def test_the_stream_sends_sources_then_tokens_then_the_verified_answer(client: TestClient) -> None:
    response = client.post("/api/ask/stream", json={"question": FIVE_FACTORS})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    received = list(events(response.text))
    names = [name for name, _ in received]
    assert names[0] == "sources" and names[-1] == "done"
    assert set(names[1:-1]) == {"token"}
    assert received[0][1]["passages"] and "chunk_id" in received[0][1]["passages"][0]
    done = received[-1][1]
    assert "".join(data["text"] for name, data in received if name == "token").strip()
    assert done["citations"] and done["abstained"] is False
    retrieved = {p["chunk_id"] for p in received[0][1]["passages"]}
    assert {c["chunk_id"] for c in done["citations"]} <= retrieved


def test_a_queued_request_is_told_it_waits(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(
        data_dir,
        monkeypatch,
        RAG_GENERATOR="llama",
        RAG_MODEL_PATH=str(smollm_path()),
        RAG_MAX_ANSWER_TOKENS="16",
        RAG_TRANSLATION_WEIGHT="0",
    )
    assert client.get("/api/health").status_code == 200
    from rag.components import shared_model

    generator = shared_model(Settings().model_dump_json()).get(timeout=60)
    generator.lock.acquire()  # another question is being answered
    threading.Timer(1.0, generator.lock.release).start()
    started = time.monotonic()
    response = client.post("/api/ask/stream", json={"question": FIVE_FACTORS})
    names = [name for name, _ in events(response.text)]
    assert names[:2] == ["sources", "waiting"] and names[-1] == "done"
    assert time.monotonic() - started >= 1.0


def test_the_stream_says_when_the_streamed_text_will_be_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model (scripted: see asked_again_model) streams an answer with a figure its article lacks."""
    data_dir = kessler_index(tmp_path).data_dir
    with asked_again_model(delay=0) as model:
        response = client_for(data_dir, monkeypatch, **model.env()).post(
            "/api/ask/stream", json={"question": KESSLER_QUESTION_EN}
        )
    received = list(events(response.text))
    *before, (revising, notice), (done, answer) = received
    assert (revising, done) == ("revising", "done")
    assert notice == {
        "step": "asking_again",
        "message": "Asking the model again, in the language of the sources …",
    }
    assert "".join(data["text"] for name, data in before if name == "token") == WITHDRAWN_DRAFT
    assert answer["answer"] == ASKED_AGAIN_ANSWER and not answer["abstained"]


def test_an_allowed_origin_gets_cors_headers_and_preflight(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": FIVE_FACTORS}, headers={"Origin": INTRANET})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == INTRANET
    preflight = client.options(
        "/api/ask/stream",
        headers={
            "Origin": INTRANET,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == INTRANET
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_another_origin_is_refused_without_cors_headers(client: TestClient) -> None:
    for method, path in (("post", "/api/ask"), ("get", "/api/health"), ("options", "/api/ask")):
        response = getattr(client, method)(path, headers={"Origin": "http://evil.example"})
        assert response.status_code == 403
        assert response.json()["error"] == "not_enabled"
        assert "access-control-allow-origin" not in response.headers


def test_the_same_origin_needs_no_listing(client: TestClient) -> None:
    response = client.get("/api/health", headers={"Origin": "http://testserver"})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


def test_too_many_questions_get_429_with_retry_after(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(data_dir, monkeypatch, RAG_RATE_LIMIT_PER_MINUTE="2")
    assert [client.post("/api/ask", json={"question": "Was ist ABM?"}).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/api/ask", json={"question": "Was ist ABM?"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit() and 1 <= int(refused.headers["retry-after"]) <= 61
    assert refused.json()["error"] == "rate_limited"


def test_an_overlong_question_and_body_are_refused_clearly(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "x" * 1001})
    assert response.status_code == 413
    assert response.json() == {
        "error": "question_too_long",
        "message": "question: 1001 characters, over the limit of 1000.",
    }
    huge = client.post("/api/ask", content=b'{"question": "' + b"y" * 100_000 + b'"}')
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "must be a JSON object"),
        (b'{"question": 42}', 422, "question: must be a string"),
        (b'{"question": "   "}', 422, "question: must not be empty"),
        (b'{"question": "Hallo?", "lang": "fr"}', 422, "lang: must be"),
        (b'{"question": "Hallo?", "history": [{"role": "system", "content": "x"}]}', 422, "history:"),
    ],
)
def test_malformed_requests_get_a_json_error_and_the_server_goes_on(
    client: TestClient, body: bytes, status: int, message: str
) -> None:
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status and message in response.json()["message"]
    assert client.post("/api/ask", json={"question": FIVE_FACTORS}).status_code == 200


def test_an_internal_error_shows_no_trace(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:  # stands in for a bug deep in the core
        raise RuntimeError("secret detail from /srv/internal")

    monkeypatch.setattr("rag.assistant.Assistant.ask", broken)
    response = client.post("/api/ask", json={"question": FIVE_FACTORS})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "Something went wrong on the server."}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_health_openapi_and_widget(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["index"]["documents"] == 4 and health["model"]["embedder"]
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and {"/api/ask", "/api/ask/stream", "/api/health"} <= set(spec["paths"])
    widget = client.get("/widget.js")
    assert widget.status_code == 200 and widget.headers["content-type"].startswith("application/javascript")
    assert "attachShadow" in widget.text
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", widget.text)
