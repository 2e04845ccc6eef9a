"""Generators: in-process llama.cpp with a real small GGUF, and a real local OpenAI-compatible server."""

import gc
import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from helpers import smollm_path

from rag.generators import GeneratorError, LlamaCppGenerator, OpenAICompatibleGenerator, make_generator
from rag.settings import Settings

MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Name a colour."}]


def test_llama_cpp_streams_tokens_from_a_real_gguf() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    tokens = list(generator.stream(MESSAGES, max_tokens=12))
    assert len(tokens) > 1, "the answer arrives in several pieces"
    assert "".join(tokens).strip()
    assert generator.name == "llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf"


def test_an_optional_call_to_a_busy_model_returns_nothing_at_once_instead_of_queueing() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    with generator.lock:  # another question is being answered
        assert list(generator.stream(MESSAGES, max_tokens=12, wait=False)) == []
    assert "".join(generator.stream(MESSAGES, max_tokens=12, wait=False)).strip(), "idle: it answers"
    assert not generator.busy()


def test_llama_cpp_gives_the_probability_of_a_yes_from_the_first_token() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    ask = [{"role": "user", "content": "Is Paris the capital of France? Reply with Yes or No."}]
    probability = generator.yes_probability(ask)
    assert probability is not None and 0.0 < probability < 1.0, "graded, not a generated word"
    assert generator.yes_probability(ask) == pytest.approx(probability, abs=0.05), "the same question, the same verdict"
    assert not generator.busy()


def test_each_side_task_finds_its_system_prompt_processed_on_a_context_of_its_own() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    rewrite = [{"role": "system", "content": "Rewrite the follow-up as a question of its own. " * 8}, MESSAGES[1]]
    translate = [{"role": "system", "content": "Translate into German."}, MESSAGES[1]]
    contexts = {}
    for messages in (rewrite, translate, rewrite, translate):
        "".join(generator.stream(messages, max_tokens=4, side_task=True))
        contexts.setdefault(messages[0]["content"], set()).add(id(generator._sides[0][1]))
    assert [len(used) for used in contexts.values()] == [1, 1], "each prompt stays on its context"
    rewriting = next(side for prompt, side in generator._sides if prompt == rewrite[0]["content"])
    system_tokens = len(rewriting.tokenize(rewrite[0]["content"].encode(), add_bos=False))
    assert rewriting.n_tokens > system_tokens, "the rewrite prompt is still processed there"


def test_a_side_task_leaves_the_answers_processed_prompt_in_place() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    answer = "".join(generator.stream(MESSAGES, max_tokens=8))
    processed = generator._llama.input_ids[: generator._llama.n_tokens].tolist()
    translate = [{"role": "user", "content": "Translate into German: Name a colour."}]
    assert "".join(generator.stream(translate, max_tokens=8, side_task=True)).strip()
    assert generator._llama.input_ids[: generator._llama.n_tokens].tolist() == processed, "llama.cpp reuses it"
    assert "".join(generator.stream(MESSAGES, max_tokens=8)) == answer


def test_the_side_context_runs_on_the_weights_the_answer_context_loaded() -> None:
    generator = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    weights = generator._llama._model.model  # llama.cpp's model pointer
    assert all(side._model.model is weights for _, side in generator._sides), "loaded once, not once per context"
    side = "".join(generator.stream(MESSAGES, max_tokens=8, side_task=True))
    assert side == "".join(generator.stream(MESSAGES, max_tokens=8)), "same weights, same greedy answer"
    own = LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)
    assert "".join(own.stream(MESSAGES, max_tokens=8, side_task=True)) == side
    kept = generator._sides[0][1]
    del generator  # a side context still in use keeps the weights it borrowed alive
    gc.collect()
    reply = kept.create_chat_completion(messages=MESSAGES, max_tokens=8, temperature=0.0)
    assert reply["choices"][0]["message"]["content"] == side


def test_prompt_lookup_decoding_writes_exactly_what_plain_decoding_writes() -> None:
    # Longer than one default batch of 512 tokens, as an answer prompt with five passages is.
    notes = " ".join(f"Note {n}: marketing hands over leads with a score of {n * 7} points." for n in range(60))
    copying = [
        {"role": "system", "content": "Repeat the customer's sentence word for word."},
        {
            "role": "user",
            "content": f"{notes}\nSentence: The sales team follows up every qualified lead within 24 hours.",
        },
    ]
    plain = LlamaCppGenerator(smollm_path(), threads=2, context=2048, temperature=0.0)
    drafted = LlamaCppGenerator(smollm_path(), threads=2, context=2048, temperature=0.0, lookup_tokens=4)
    assert len(plain._llama.tokenize(str(copying).encode())) > 512
    expected = "".join(plain.stream(copying, max_tokens=30))
    assert "qualified lead" in expected, "the prompt makes the model copy, so drafts are accepted"
    assert "".join(drafted.stream(copying, max_tokens=30)) == expected


def test_the_factory_loads_the_model_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL_PATH", str(smollm_path()))
    assert make_generator(Settings()) is make_generator(Settings())


def test_an_unreadable_gguf_gives_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(GeneratorError, match=r"cannot load .*broken.gguf as a GGUF model"):
        LlamaCppGenerator(broken, threads=1, context=256, temperature=0.0)
    with pytest.raises(GeneratorError, match="does not exist"):
        LlamaCppGenerator(tmp_path / "missing.gguf", threads=1, context=256, temperature=0.0)


class ChatServer(BaseHTTPRequestHandler):
    """Speaks the OpenAI chat-completions streaming protocol; records what it was sent."""

    requests: ClassVar[list[dict]] = []
    words: ClassVar[list[str]] = ["Gemeinsame ", "Planung ", "hilft ", "[1]."]

    top_logprobs: ClassVar[list[dict] | None] = None  # the first token's candidates, for yes/no questions

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ChatServer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if not body["stream"]:
            self._reply_once()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in self.words:
            chunk = {"choices": [{"index": 0, "delta": {"content": word}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')

    def _reply_once(self) -> None:
        choice: dict = {"index": 0, "message": {"role": "assistant", "content": "Ja"}}
        if self.top_logprobs is not None:
            choice["logprobs"] = {"content": [{"token": "Ja", "logprob": -0.1, "top_logprobs": self.top_logprobs}]}
        payload = json.dumps({"choices": [choice]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def chat_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ChatServer.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    thread.join(timeout=5)


def test_openai_compatible_server_streams_and_gets_the_settings(
    chat_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_GENERATOR", "openai")
    monkeypatch.setenv("RAG_OPENAI_BASE_URL", chat_server)
    monkeypatch.setenv("RAG_OPENAI_MODEL", "qwen2.5:1.5b")
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "secret")
    generator = make_generator(Settings())
    assert isinstance(generator, OpenAICompatibleGenerator)
    assert list(generator.stream(MESSAGES, max_tokens=50)) == ChatServer.words
    (request,) = ChatServer.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer secret"
    assert request["body"]["model"] == "qwen2.5:1.5b" and request["body"]["stream"] is True
    assert request["body"]["messages"] == MESSAGES and request["body"]["max_tokens"] == 50


def test_openai_compatible_server_gives_the_probability_of_a_yes_from_its_log_probabilities(chat_server: str) -> None:
    generator = OpenAICompatibleGenerator(chat_server, "m", None, timeout=5, temperature=0)
    ChatServer.top_logprobs = [
        {"token": "Ja", "logprob": math.log(0.6)},
        {"token": " Nein", "logprob": math.log(0.2)},
        {"token": "Die", "logprob": math.log(0.1)},
    ]
    assert generator.yes_probability(MESSAGES) == pytest.approx(0.75)
    body = ChatServer.requests[0]["body"]
    assert body["stream"] is False and body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"]
    ChatServer.top_logprobs = None
    assert generator.yes_probability(MESSAGES) is None, "a server without log-probabilities gives no verdict"


def test_an_unreachable_model_server_gives_a_clear_error() -> None:
    generator = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "m", None, timeout=2, temperature=0)
    with pytest.raises(GeneratorError, match="is not reachable"):
        list(generator.stream(MESSAGES, max_tokens=5))
    with pytest.raises(GeneratorError, match="is not reachable"):
        generator.yes_probability(MESSAGES)
