"""Messages → streamed answer tokens. One interface, three implementations, one cached factory."""

import contextlib
import json
import threading
from collections import abc
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import numpy as np

from rag.prompts import Messages
from rag.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama

# A generated run of this many tokens is never repeated: greedy decoding of a small model otherwise
# falls into loops. Long enough (about six words) that a phrase like "von Marketing und Vertrieb" may recur.
NO_REPEAT_TOKENS = 10
# Side tasks (translation, rewrite, yes/no check) have short prompts.
SIDE_TASK_CONTEXT = 2048
# Side contexts, each keeping the system prompt it processed last: a follow-up's rewrite and the
# question's translation take turns, and each finds its own prompt processed.
SIDE_CONTEXTS = 2
# How a reply to a yes/no question starts.
YES_WORDS = ("Ja", "Yes", "ja", "yes")
NO_WORDS = ("Nein", "No", "nein", "no")


class GeneratorError(Exception):
    """The model cannot be used; the message says why in one line."""


class Generator(Protocol):
    name: str
    uses_model: bool  # False for the extractive generator: no prompt, no rewriting

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
        """The answer's pieces as they come. With wait=False, nothing at all if the model is busy.
        A side task (translation, rewrite) must not evict the answer prompt a generator keeps cached."""
        ...

    def yes_probability(self, messages: Messages) -> float | None:
        """How likely the reply to a yes/no question starts with yes rather than no: a graded answer
        where a generated word would be all or nothing. None if the generator cannot tell."""
        ...

    def busy(self) -> bool:
        """Another request is using the model right now; this one would wait."""
        ...


class LlamaCppGenerator:
    """A GGUF model in this process, loaded once; one generation at a time (llama.cpp state is shared).

    Contexts share the model's weights (loaded once): answers run on one, side tasks on the others,
    each side task on the context that last processed its system prompt. llama.cpp reuses the
    longest prompt prefix a context has already processed, so the answer's system prompt is processed
    once, not again after every translation or rewrite, and a follow-up's rewrite prompt is not
    processed again after the translation that follows it.
    """

    uses_model = True

    def __init__(
        self, model_path: Path, threads: int, context: int, temperature: float, lookup_tokens: int = 0
    ) -> None:
        self.name = f"llama.cpp:{model_path.name}"
        self.temperature = temperature
        self.lock = threading.Lock()
        if not model_path.is_file():
            raise GeneratorError(f"model file {model_path} does not exist (RAG_MODEL_PATH)")
        self._llama = _load(model_path, threads, context, lookup_tokens)
        side_context = min(context, SIDE_TASK_CONTEXT)
        # (system prompt it last processed, context), the most recently used first.
        self._sides: list[tuple[str, Llama]] = [
            ("", _load(model_path, threads, side_context, 0, lender=self._llama)) for _ in range(SIDE_CONTEXTS)
        ]
        self._yes_tokens, self._no_tokens = self._first_tokens(YES_WORDS), self._first_tokens(NO_WORDS)

    def _first_tokens(self, words: tuple[str, ...]) -> list[int]:
        spellings = [spelling.encode() for word in words for spelling in (word, " " + word)]
        return sorted({self._llama.tokenize(text, add_bos=False)[0] for text in spellings})

    def busy(self) -> bool:
        return self.lock.locked()

    def _side_for(self, messages: Messages) -> "Llama":
        """The side context that last processed these messages' system prompt, else the least recently used."""
        system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
        prompts = [prompt for prompt, _ in self._sides]
        _, context = self._sides.pop(prompts.index(system) if system in prompts else len(self._sides) - 1)
        self._sides.insert(0, (system, context))
        return context

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
        # Checking and taking the lock in one step: an optional call never ends up queued unannounced.
        if not self.lock.acquire(blocking=wait):
            return
        from llama_cpp import LogitsProcessorList

        try:
            chunks = (self._side_for(messages) if side_task else self._llama).create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=max_tokens,
                temperature=self.temperature,
                logits_processor=LogitsProcessorList([NoRepeatedRun(NO_REPEAT_TOKENS)]),
            )
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    yield text
        finally:
            self.lock.release()

    def yes_probability(self, messages: Messages) -> float | None:
        from llama_cpp import LogitsProcessorList

        first: list[np.ndarray] = []

        def keep_first_logits(_: np.ndarray, logits: np.ndarray) -> np.ndarray:
            if not first:
                first.append(np.array(logits, dtype=np.float64))
            return logits

        with self.lock:
            self._side_for(messages).create_chat_completion(
                messages=messages,
                max_tokens=1,
                temperature=0.0,
                logits_processor=LogitsProcessorList([keep_first_logits]),
            )
        probabilities = np.exp(first[0] - first[0].max())
        return _yes_share(probabilities[self._yes_tokens].sum(), probabilities[self._no_tokens].sum())


def _load(model_path: Path, threads: int, context: int, lookup_tokens: int, lender: "Llama | None" = None) -> "Llama":
    """A llama.cpp context on the model file; with `lender`, on the weights that one has loaded (a
    second load would hold a second copy: llama.cpp repacks the weights into memory of its own)."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    # Drafts copied from the prompt: answers quote names, figures and phrases of the passages.
    draft = LlamaPromptLookupDecoding(num_pred_tokens=lookup_tokens) if lookup_tokens else None
    # With a draft model llama-cpp-python keeps every position's logits and fails to store them for a
    # prompt evaluated in more than one batch (0.3.36): one batch for the whole context.
    batch = context if draft else 512
    try:
        with _lent(lender._model) if lender else contextlib.nullcontext():
            loaded = Llama(
                model_path=str(model_path),
                n_ctx=context,
                n_batch=batch,
                n_ubatch=512,
                n_threads=threads,
                draft_model=draft,
                verbose=False,
            )
    except (ValueError, RuntimeError) as error:
        raise GeneratorError(f"cannot load {model_path} as a GGUF model: {error}") from None
    if lender:
        # The weights are freed with the lender: it stays alive as long as this context does, and if
        # both go in one garbage collection, closing it closes this context first.
        loaded._lender = lender
        lender._stack.callback(loaded.close)
    return loaded


@contextlib.contextmanager
def _lent(model: Any) -> Iterator[None]:
    """While it lasts, a new Llama takes `model` instead of loading its file: llama-cpp-python has no
    parameter for a loaded model."""
    from llama_cpp import llama

    loader = llama.internals.LlamaModel
    llama.internals.LlamaModel = lambda **_: _Borrowed(model)
    try:
        yield
    finally:
        llama.internals.LlamaModel = loader


class _Borrowed:
    """Another context's loaded model, lent: closing the borrower leaves it loaded."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def close(self) -> None:
        pass


class NoRepeatedRun:
    """A llama.cpp logits processor: a token that would complete a run of `size` generated tokens
    already generated once is ruled out, so the model must go on differently."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.prompt_length: int | None = None
        self.followers: dict[tuple[int, ...], set[int]] = {}

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.prompt_length is None:
            self.prompt_length = len(input_ids)
        generated = [int(token) for token in input_ids[self.prompt_length :]]
        prefix_length = self.size - 1
        if len(generated) > prefix_length:
            # The run that ended with the last token: remember what followed its prefix.
            self.followers.setdefault(tuple(generated[-self.size : -1]), set()).add(generated[-1])
        banned = self.followers.get(tuple(generated[-prefix_length:]), set()) if len(generated) >= prefix_length else ()
        for token in banned:
            scores[token] = -np.inf
        return scores


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

    def yes_probability(self, messages: Messages) -> float | None:
        """From the first token's top log-probabilities; None if the server sends none."""
        body = {**self._body(messages, 1, stream=False), "logprobs": True, "top_logprobs": 10}
        try:
            response = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        if response.status_code != 200:
            raise self._refused(response)
        try:
            candidates = response.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            logprobs = {item["token"].strip(): float(item["logprob"]) for item in reversed(candidates)}
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return _yes_share(
            sum(np.exp(logprobs[word]) for word in YES_WORDS if word in logprobs),
            sum(np.exp(logprobs[word]) for word in NO_WORDS if word in logprobs),
        )

    def _body(self, messages: Messages, max_tokens: int, stream: bool) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "stream": stream,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
        }

    def _unreachable(self, error: httpx.HTTPError) -> GeneratorError:
        return GeneratorError(f"model server {self.url} is not reachable: {error}")

    def _refused(self, response: httpx.Response) -> GeneratorError:
        body = " ".join(response.text.split())[:200]  # one line, whatever the server's error page looks like
        return GeneratorError(f"model server {self.url} answered {response.status_code}: {body}")

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
        body = self._body(messages, max_tokens, stream=True)
        try:
            with httpx.stream("POST", self.url, json=body, headers=self.headers, timeout=self.timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._refused(response)
                if not (yield from _server_sent_deltas(response.iter_lines())):
                    # llama_cpp.server, for one, has sent 200 before a prompt too long for its context fails.
                    raise GeneratorError(f"model server {self.url} ended the answer unfinished; its log says why")
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None


def _yes_share(yes: float, no: float) -> float | None:
    """P(yes) among the yes and no replies; None when the model gave neither any weight."""
    return float(yes / (yes + no)) if yes + no > 0 else None


def _server_sent_deltas(lines: Iterator[str]) -> abc.Generator[str, None, bool]:
    """The streamed text pieces; returns whether the stream ended as finished ([DONE] or a finish_reason)."""
    finished = False
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return True
        try:
            choices = json.loads(data).get("choices") or [{}]
        except json.JSONDecodeError:
            raise GeneratorError(f"model server sent a line that is not JSON: {data[:100]}") from None
        finished = finished or bool(choices[0].get("finish_reason"))
        text = (choices[0].get("delta") or {}).get("content")
        if text:
            yield text
    return finished


class ExtractiveGenerator:
    """No language model: the answering layer quotes the best supporting sentences itself."""

    name = "extractive"
    uses_model = False

    def busy(self) -> bool:
        return False

    def yes_probability(self, messages: Messages) -> float | None:
        return None

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
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
    return _llama_generator(
        _model_path(settings),
        settings.llm_threads,
        settings.llm_context,
        settings.temperature,
        settings.prompt_lookup_tokens,
    )


@lru_cache(maxsize=2)
def _llama_generator(
    model_path: Path, threads: int, context: int, temperature: float, lookup_tokens: int
) -> LlamaCppGenerator:
    return LlamaCppGenerator(model_path, threads, context, temperature, lookup_tokens)


def _model_path(settings: Settings) -> Path:
    if settings.model_path:
        return settings.model_path
    from rag.models import QWEN_CODER_1_5B, ModelFileError, assembled_model_path

    try:
        return assembled_model_path(QWEN_CODER_1_5B, settings.data_dir / "models")
    except (ModelFileError, OSError) as error:
        raise GeneratorError(str(error)) from None
