"""Messages → streamed answer tokens. One interface, three implementations, one cached factory."""

import json
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import httpx

from rag.prompts import Messages
from rag.settings import Settings


class GeneratorError(Exception):
    """The model cannot be used; the message says why in one line."""


class Generator(Protocol):
    name: str
    uses_model: bool  # False for the extractive generator: no prompt, no rewriting

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True) -> Iterator[str]:
        """The answer's pieces as they come. With wait=False, nothing at all if the model is busy."""
        ...

    def busy(self) -> bool:
        """Another request is using the model right now; this one would wait."""
        ...


class LlamaCppGenerator:
    """A GGUF model in this process, loaded once; one generation at a time (llama.cpp state is shared)."""

    uses_model = True

    def __init__(self, model_path: Path, threads: int, context: int, temperature: float) -> None:
        from llama_cpp import Llama

        self.name = f"llama.cpp:{model_path.name}"
        self.temperature = temperature
        self.lock = threading.Lock()
        if not model_path.is_file():
            raise GeneratorError(f"model file {model_path} does not exist (RAG_MODEL_PATH)")
        try:
            self._llama = Llama(model_path=str(model_path), n_ctx=context, n_threads=threads, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise GeneratorError(f"cannot load {model_path} as a GGUF model: {error}") from None

    def busy(self) -> bool:
        return self.lock.locked()

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True) -> Iterator[str]:
        # Checking and taking the lock in one step: an optional call never ends up queued unannounced.
        if not self.lock.acquire(blocking=wait):
            return
        try:
            chunks = self._llama.create_chat_completion(
                messages=messages, stream=True, max_tokens=max_tokens, temperature=self.temperature
            )
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    yield text
        finally:
            self.lock.release()


class OpenAICompatibleGenerator:
    """Any server speaking the OpenAI chat-completions API with streaming (llama.cpp server, Ollama, vLLM)."""

    uses_model = True

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float, temperature: float) -> None:
        self.name = f"openai:{model}@{base_url}"
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.temperature = temperature
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout

    def busy(self) -> bool:
        return False  # the server queues requests itself

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True) -> Iterator[str]:
        body = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
        }
        try:
            with httpx.stream("POST", self.url, json=body, headers=self.headers, timeout=self.timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise GeneratorError(
                        f"model server {self.url} answered {response.status_code}: {response.text[:200]}"
                    )
                yield from _server_sent_deltas(response.iter_lines())
        except httpx.HTTPError as error:
            raise GeneratorError(f"model server {self.url} is not reachable: {error}") from None


def _server_sent_deltas(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            choices = json.loads(data).get("choices") or [{}]
        except json.JSONDecodeError:
            raise GeneratorError(f"model server sent a line that is not JSON: {data[:100]}") from None
        text = (choices[0].get("delta") or {}).get("content")
        if text:
            yield text


class ExtractiveGenerator:
    """No language model: the answering layer quotes the best supporting sentences itself."""

    name = "extractive"
    uses_model = False

    def busy(self) -> bool:
        return False

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True) -> Iterator[str]:
        raise GeneratorError("the extractive generator writes no text from a prompt")


def make_generator(settings: Settings) -> Generator:
    """The generator RAG_GENERATOR names; the in-process model is loaded once per process and path."""
    if settings.generator == "extractive":
        return ExtractiveGenerator()
    if settings.generator == "openai":
        return OpenAICompatibleGenerator(
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key,
            settings.openai_timeout,
            settings.temperature,
        )
    return _llama_generator(_model_path(settings), settings.llm_threads, settings.llm_context, settings.temperature)


@lru_cache(maxsize=2)
def _llama_generator(model_path: Path, threads: int, context: int, temperature: float) -> LlamaCppGenerator:
    return LlamaCppGenerator(model_path, threads, context, temperature)


def _model_path(settings: Settings) -> Path:
    if settings.model_path:
        return settings.model_path
    from rag.models import QWEN_CODER_1_5B, ModelFileError, assembled_model_path

    try:
        return assembled_model_path(QWEN_CODER_1_5B, settings.data_dir / "models")
    except (ModelFileError, OSError) as error:
        raise GeneratorError(str(error)) from None
