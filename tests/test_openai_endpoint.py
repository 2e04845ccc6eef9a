"""The OpenAI-compatible endpoint (/v1) driven by the official `openai` package against the real app server
(`streamlit run app.py`, as the README starts it): extractive answers for speed, SmolLM2 for a model's stream."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from helpers import (
    ASKED_AGAIN_ANSWER,
    INTRANET,
    KESSLER_QUESTION_EN,
    WITHDRAWN_DRAFT,
    AppServer,
    asked_again_model,
    client_for,
    indexed_settings,
    kessler_index,
    smollm_path,
)
from openai import OpenAI

from api.openai_compat import MODEL_ID
from rag.lexical import tokenize

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
KEY = "sk-intranet-3f9c1e7a5b2d4c6e"
CITATION_KEYS = {"n", "title", "url", "source", "page", "author", "date", "text", "support"}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_settings(tmp_path_factory.mktemp("openai") / "data").data_dir


def serve(index: Path, folder: Path, **env: str) -> AppServer:
    """The app over its own copy of the index (servers running at once never share a Chroma folder)."""
    shutil.copytree(index, folder / "data")
    return AppServer(folder / "data", RAG_API_KEY=KEY, RAG_ALLOWED_ORIGINS=INTRANET, **env)


@pytest.fixture(scope="module")
def app(index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("extractive")
    with serve(index, folder, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="1000") as server:
        yield server


def openai_client(server: AppServer, key: str = KEY) -> OpenAI:
    """No retries (the client would otherwise wait out a 429's Retry-After); no proxy for loopback."""
    return OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, http_client=httpx.Client(trust_env=False))


def http(server: AppServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, trust_env=False, timeout=120)


def assert_openai_error(response: httpx.Response, status: int, code: str) -> dict:
    """OpenAI's error shape, exactly: {"error": {"message", "type", "param", "code"}}."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code and body["error"]["message"] and body["error"]["type"]
    return body["error"]


def assert_cited(content: str, citations: list[dict]) -> None:
    """Every citation has its fields, its marker in the answer, and a supporting span inside its passage."""
    assert citations, "no citations"
    for n, citation in enumerate(citations, start=1):
        assert set(citation) >= CITATION_KEYS and citation["n"] == n and f"[{n}]" in content
        start, end = citation["support"]["start"], citation["support"]["end"]
        assert 0 <= start < end <= len(citation["text"]) and citation["text"][start:end].strip()


def test_the_models_list_names_the_assistant(app: AppServer) -> None:
    assert [model.id for model in openai_client(app).models.list()] == [MODEL_ID]


@pytest.mark.parametrize(
    "question",
    [
        FIVE_FACTORS,
        # The list-of-parts form some front-ends send; the parts are joined.
        [{"type": "text", "text": "Welche fünf Faktoren beeinflussen"}, {"type": "text", "text": FIVE_FACTORS[34:]}],
    ],
)
def test_a_completion_is_the_verified_answer_with_citations(app: AppServer, question: str | list) -> None:
    messages = [
        {"role": "system", "content": "You are a pirate. Answer in English only."},  # ignored, as documented
        {"role": "user", "content": question},
    ]
    completion = openai_client(app).chat.completions.create(model=MODEL_ID, messages=messages)
    assert completion.object == "chat.completion" and completion.model == MODEL_ID
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "Informationsaustausch" in choice.message.content
    assert_cited(choice.message.content, choice.message.model_extra["citations"])
    with http(app) as client:  # the same assistant as /api/ask
        same = client.post("/api/ask", json={"question": FIVE_FACTORS}).json()
    assert choice.message.content == same["answer"]
    assert choice.message.model_extra["citations"] == same["citations"]


def test_a_stream_sends_tokens_then_the_citations(app: AppServer) -> None:
    stream = openai_client(app).chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": FIVE_FACTORS}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    tokens = [chunk.choices[0].delta.content for chunk in chunks[1:-1]]
    assert len(tokens) >= 2 and all(tokens), "the answer arrives in pieces"
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop" and all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    verified = last.delta.model_extra["verified_content"]
    assert "Informationsaustausch" in verified and "Informationsaustausch" in "".join(tokens)
    assert_cited(verified, last.delta.model_extra["citations"])
    assert len({chunk.id for chunk in chunks}) == 1 and {chunk.object for chunk in chunks} == {"chat.completion.chunk"}


def test_the_stream_on_the_wire_is_data_lines_ending_with_done(app: AppServer) -> None:
    body = {"model": MODEL_ID, "messages": [{"role": "user", "content": "Was ist ABM?"}], "stream": True}
    with http(app) as client:
        response = client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.strip().split("\n\n")
    assert all(event.startswith(("data: ", ": ")) for event in events)
    assert events[-1] == "data: [DONE]"
    final = json.loads(events[-2].removeprefix("data: "))
    assert final["choices"][0]["finish_reason"] == "stop" and "citations" in final["choices"][0]["delta"]


def test_a_missing_or_wrong_key_is_refused_when_one_is_set(app: AppServer) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        openai_client(app, key="sk-wrong").chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": FIVE_FACTORS}]
        )
    error = assert_openai_error(refused.value.response, 401, "invalid_api_key")
    assert KEY not in error["message"]
    with http(app) as client:
        body = {"model": MODEL_ID, "messages": [{"role": "user", "content": FIVE_FACTORS}]}
        assert_openai_error(client.post("/v1/chat/completions", json=body), 401, "invalid_api_key")
        assert_openai_error(client.get("/v1/models"), 401, "invalid_api_key")
        assert_openai_error(client.get("/v1/models", headers={"Authorization": KEY}), 401, "invalid_api_key")


def test_an_overlong_question_or_body_is_refused_with_413(app: AppServer) -> None:
    with pytest.raises(openai.APIStatusError) as refused:
        openai_client(app).chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": "Warum? " * 200}]
        )
    error = assert_openai_error(refused.value.response, 413, "question_too_long")
    assert error["param"] == "messages" and "1400 characters, over the limit of 1000" in error["message"]
    history = [{"role": "user", "content": "Vertrieb " * 8000}]  # 72 KB, over RAG_MAX_BODY_KB
    with pytest.raises(openai.APIStatusError) as too_large:
        openai_client(app).chat.completions.create(
            model=MODEL_ID, messages=[*history, {"role": "user", "content": "?"}]
        )
    assert_openai_error(too_large.value.response, 413, "body_too_large")


def chat(*messages: dict, **fields: object) -> dict:
    return {"model": MODEL_ID, "messages": list(messages), **fields}


ABM = {"role": "user", "content": "Was ist ABM?"}


@pytest.mark.parametrize(
    ("body", "status", "code", "param"),
    [
        (chat(ABM, model="gpt-4o"), 404, "model_not_found", "model"),
        (chat(ABM, model=None), 422, "invalid_request", "model"),
        (chat(), 422, "invalid_request", "messages"),
        (chat(ABM, {"role": "assistant", "content": "ABM ist …"}), 422, "invalid_request", "messages"),
        (chat({"role": "tool", "content": "42"}, ABM), 422, "invalid_request", "messages[0].role"),
        (
            chat({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:"}}]}),
            422,
            "invalid_request",
            "messages[0].content",
        ),
        (chat({"role": "user", "content": " \n "}), 422, "invalid_request", "messages"),
        (chat(ABM, stream="ja"), 422, "invalid_request", "stream"),
        (chat(ABM, stream=1), 422, "invalid_request", "stream"),
    ],
)
def test_a_wrong_request_names_the_field_in_the_openai_error_shape(
    app: AppServer, body: dict, status: int, code: str, param: str
) -> None:
    with http(app) as client:
        response = client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert assert_openai_error(response, status, code)["param"] == param


def test_malformed_json_unknown_paths_and_other_origins_get_the_openai_error_shape(app: AppServer) -> None:
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with http(app) as client:
        malformed = client.post("/v1/chat/completions", content=b"{not json", headers=auth)
        assert_openai_error(malformed, 400, "malformed_json")
        assert_openai_error(client.post("/v1/embeddings", headers=auth), 404, "not_found")
        assert (
            "GET /v1/chat/completions"
            in assert_openai_error(client.get("/v1/chat/completions"), 404, "not_found")["message"]
        )
        refused = client.get("/v1/models", headers={**auth, "Origin": "http://evil.example"})
        assert_openai_error(refused, 403, "not_enabled")
        assert "access-control-allow-origin" not in refused.headers
        listed = client.get("/v1/models", headers={**auth, "Origin": INTRANET})
        assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == INTRANET
        preflight = client.options(
            "/v1/chat/completions",
            headers={
                "Origin": INTRANET,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204 and "authorization" in preflight.headers["access-control-allow-headers"]


def test_the_openapi_description_has_the_v1_routes(app: AppServer) -> None:
    with http(app) as client:
        spec = client.get("/api/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert schemas["ChatRequest"]["properties"]["model"]["const"] == MODEL_ID
    choice = schemas["ChatCompletion"]["properties"]["choices"]["items"]
    assert "citations" in choice["properties"]["message"]["properties"]


def test_too_many_questions_get_429_with_retry_after(index: Path, tmp_path: Path) -> None:
    with serve(index, tmp_path, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="2") as server:
        client = openai_client(server)
        question = [{"role": "user", "content": "Was ist ABM?"}]
        for _ in range(2):
            assert client.chat.completions.create(model=MODEL_ID, messages=question).choices[0].message.content
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model=MODEL_ID, messages=question)
    response = refused.value.response
    assert response.headers["retry-after"].isdigit() and 1 <= int(response.headers["retry-after"]) <= 61
    assert assert_openai_error(response, 429, "rate_limited")["type"] == "rate_limit_error"


def test_an_internal_error_shows_no_trace(index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, since only there can a bug be put into the core (the patch stands in for one)."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail from /srv/internal")

    monkeypatch.setattr("rag.assistant.Assistant.ask", broken)
    response = client_for(index, monkeypatch, RAG_API_KEY=KEY).post(
        "/v1/chat/completions", json=chat(ABM), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert assert_openai_error(response, 500, "internal_error")["type"] == "server_error"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_streamed_tokens_replaced_by_a_second_try_are_flagged_and_clients_skip_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model (scripted: see asked_again_model) streams an answer with a figure its article lacks; the
    openai client reads the stream (in-process, through the TestClient) past the `: revising` comment."""
    data_dir = kessler_index(tmp_path).data_dir
    with asked_again_model(delay=0, rounds=2) as model:
        client = client_for(data_dir, monkeypatch, **model.env())
        messages = [{"role": "user", "content": KESSLER_QUESTION_EN}]
        raw = client.post("/v1/chat/completions", json={"model": MODEL_ID, "messages": messages, "stream": True})
        chunks = list(
            OpenAI(
                base_url="http://testserver/v1", api_key="-", max_retries=0, http_client=client
            ).chat.completions.create(model=MODEL_ID, messages=messages, stream=True)
        )
    assert ": revising: asking_again\n\n" in raw.text
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks[:-1]) == WITHDRAWN_DRAFT
    assert chunks[-1].choices[0].delta.model_extra["verified_content"] == ASKED_AGAIN_ANSWER


def test_a_refusal_held_back_for_a_second_try_reaches_a_plain_client_as_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model (scripted) declines at first: no token streams, and a client that reads only `content`
    gets the second try's answer in the last chunk."""
    data_dir = kessler_index(tmp_path).data_dir
    with asked_again_model(delay=0, draft="The sources contain no information on this.") as model:
        client = client_for(data_dir, monkeypatch, **model.env())
        chunks = list(
            OpenAI(
                base_url="http://testserver/v1", api_key="-", max_retries=0, http_client=client
            ).chat.completions.create(
                model=MODEL_ID, messages=[{"role": "user", "content": KESSLER_QUESTION_EN}], stream=True
            )
        )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == ASKED_AGAIN_ANSWER
    assert chunks[-1].choices[0].delta.model_extra["verified_content"] == ASKED_AGAIN_ANSWER


def test_a_conversation_with_a_model_streams_and_follows_up(index: Path, tmp_path: Path) -> None:
    """SmolLM2 through llama.cpp: the first answer streams token by token and ends with its citations;
    the follow-up, sent with that conversation, is searched with words from it."""
    first = "Was kann das Marketing vom Vertrieb lernen?"
    follow_up = "Und umgekehrt?"
    env = {"RAG_MODEL_PATH": str(smollm_path()), "RAG_MAX_ANSWER_TOKENS": "48", "RAG_TRANSLATION_WEIGHT": "0"}
    with serve(index, tmp_path, RAG_GENERATOR="llama", **env) as server:
        client = openai_client(server)
        chunks = list(
            client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": first}], stream=True)
        )
        tokens = [chunk.choices[0].delta.content for chunk in chunks[1:-1]]
        assert len(tokens) >= 5, "the model's tokens arrive one by one"
        final = chunks[-1].choices[0].delta.model_extra
        assert final["standalone_question"] == first and final["search_queries"] == [first]
        assert_cited(final["verified_content"], final["citations"])
        conversation = [
            {"role": "user", "content": first},
            {"role": "assistant", "content": final["verified_content"]},
            {"role": "user", "content": follow_up},
        ]
        message = client.chat.completions.create(model=MODEL_ID, messages=conversation).choices[0].message
    searched = " ".join([message.model_extra["standalone_question"], *message.model_extra["search_queries"]])
    brought_in = set(tokenize(searched)) - set(tokenize(follow_up))
    assert brought_in & set(tokenize(first + final["verified_content"])), searched
