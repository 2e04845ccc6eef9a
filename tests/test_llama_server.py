"""RAG_GENERATOR=openai against a real OpenAI-compatible server: `python -m llama_cpp.server` (the same pinned
llama-cpp-python, with its server extras) serving SmolLM2-135M on a loopback port. test_generators.py checks
the protocol details against a hand-written stand-in; here the server is the real one."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROJECT_ROOT, LlamaServer, indexed_settings, smollm_path

from rag.assistant import Done, Sources, Token
from rag.components import open_assistant
from rag.generators import GeneratorError, OpenAICompatibleGenerator, make_generator
from rag.settings import Settings

KEY = "test-key"
MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Name a colour."}]
YES_OR_NO = [{"role": "user", "content": "Is Paris the capital of France? Reply with Yes or No."}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    # The product's default context, so the assistant's full answer prompt fits; an API key, so the
    # Authorization header is checked by a real server too.
    with LlamaServer(
        smollm_path(), tmp_path_factory.mktemp("llama-server"), alias="smollm2", context=4096, api_key=KEY
    ) as running:
        yield running


def settings_for(server: LlamaServer, **overrides: object) -> Settings:
    """RAG_GENERATOR=openai and friends pointed at `server`, as the environment would set them."""
    environment = {name.removeprefix("RAG_").lower(): value for name, value in server.env().items()}
    return Settings(**{**environment, **overrides})


def test_the_server_streams_an_answer_in_pieces(server: LlamaServer) -> None:
    generator = make_generator(settings_for(server))
    assert isinstance(generator, OpenAICompatibleGenerator)
    assert generator.name == f"openai:smollm2@{server.base_url}"
    pieces = list(generator.stream(MESSAGES, max_tokens=12))
    assert len(pieces) > 1, "the answer arrives token by token, not at the end"
    assert "".join(pieces).strip()


def test_the_server_sends_the_log_probabilities_the_yes_no_check_needs(server: LlamaServer) -> None:
    generator = make_generator(settings_for(server))
    probability = generator.yes_probability(YES_OR_NO)
    assert probability is not None, "no top_logprobs came back: the second try's check would never confirm"
    assert 0.0 < probability < 1.0, "graded from both candidates, not a generated word"
    assert generator.yes_probability(YES_OR_NO) == pytest.approx(probability, abs=0.01), "temperature 0: the same"


def test_a_refused_request_is_one_clear_line(server: LlamaServer) -> None:
    wrong_key = make_generator(settings_for(server, openai_api_key="not-the-key"))
    with pytest.raises(GeneratorError, match=r"answered 401: .*Invalid API key") as refused:
        list(wrong_key.stream(MESSAGES, max_tokens=4))
    assert "\n" not in str(refused.value)
    with pytest.raises(GeneratorError, match="answered 401"):
        wrong_key.yes_probability(YES_OR_NO)


def test_a_prompt_beyond_the_servers_context_is_an_error_not_an_empty_answer(server: LlamaServer) -> None:
    generator = make_generator(settings_for(server))
    too_long = [{"role": "user", "content": "Marketing " * 5000}]
    # Streamed, the server has already answered 200 when the prompt fails; it closes the stream unfinished.
    with pytest.raises(GeneratorError, match="ended the answer unfinished") as cut:
        list(generator.stream(too_long, max_tokens=4))
    assert "\n" not in str(cut.value)
    with pytest.raises(GeneratorError, match=r"answered 400: .*maximum context length is 4096 tokens"):
        generator.yes_probability(too_long)


def test_a_stopped_server_is_one_clear_line(tmp_path: Path) -> None:
    with LlamaServer(smollm_path(), tmp_path / "stopped", context=512) as stopped:
        generator = make_generator(settings_for(stopped))
        assert "".join(generator.stream(MESSAGES, max_tokens=4)).strip(), "it answered while it ran"
    with pytest.raises(GeneratorError, match=r"model server .* is not reachable") as unreachable:
        list(generator.stream(MESSAGES, max_tokens=4))
    assert "\n" not in str(unreachable.value)
    with pytest.raises(GeneratorError, match="is not reachable"):
        generator.yes_probability(YES_OR_NO)


def test_the_assistant_answers_over_an_ingested_article_through_the_server(server: LlamaServer, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus" / "blog" / "marketing-vertrieb-teil-1.md", corpus)
    index = indexed_settings(tmp_path / "data", corpus)
    # One request per question, the answer's (no translated second search), with half the passage text: fast.
    settings = settings_for(
        server, data_dir=index.data_dir, max_answer_tokens=48, translation_weight=0, context_chars=1600
    )
    events = list(open_assistant(settings).stream("Was kann das Marketing vom Vertrieb lernen?"))
    assert isinstance(events[0], Sources) and events[0].passages
    assert isinstance(events[-1], Done)
    tokens = [event.text for event in events if isinstance(event, Token)]
    assert len(tokens) >= 3, "the server's tokens reach the caller as they come, not as one text at the end"
    answer = events[-1].answer
    assert answer.model["generator"] == f"openai:smollm2@{server.base_url}"
    assert answer.answer.strip()
    retrieved = {p.chunk_id for p in answer.retrieved}
    assert all(citation.passage.chunk_id in retrieved for citation in answer.citations)
