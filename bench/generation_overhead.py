"""Generation overhead: time to first token and tokens per second through our generator interface
(rag.generators.make_generator(settings).stream) against llama-cpp-python's
Llama.create_chat_completion(stream=True) called directly, for the same real answer prompt.

The prompt is what the assistant sends for a gold-set question on the shipped corpus
(rag.prompts.answer_messages over the retrieved passages, cut to RAG_CONTEXT_CHARS), captured from
Assistant.stream. Both paths use the same loaded model (the packaged Qwen2.5-Coder-1.5B GGUF; the
direct calls go to the very Llama object our generator holds, so threads, context and memory are
identical). llama.cpp reuses its KV cache for a shared prompt prefix, so the cache is reset before
every run (Llama.reset()) and the two paths alternate (ours first in even rounds, direct first in odd
ones); the figures are medians. Tokens per second = streamed pieces after the first / time from the
first to the last. Target: overhead <= 5 % on both.
Also reports the prompt token count our default settings send, for several typical questions.
"""

import argparse
import statistics
import threading
import time

import common

from rag.assistant import Assistant
from rag.components import open_retriever
from rag.generators import make_generator
from rag.prompts import template

TARGET_PCT = 5.0


class PromptRecorder:
    """A generator that passes translation calls to the real model and records the answer prompt."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.uses_model = inner, inner.name, True
        self.answer_systems = {template("system_de"), template("system_en")}
        self.prompts: list[list[dict[str, str]]] = []

    def busy(self) -> bool:
        return False

    def stream(self, messages, max_tokens: int, wait: bool = True, side_task: bool = False):
        if messages[0]["content"] in self.answer_systems:
            self.prompts.append(messages)
            return iter(())
        return self.inner.stream(messages, max_tokens, wait, side_task)


def prompt_tokens(llama, messages) -> int:
    """Tokens of the chat-template-applied prompt, as create_chat_completion would evaluate it."""
    from llama_cpp import llama_chat_format

    formatter = getattr(llama_chat_format, f"format_{(llama.chat_format or '').replace('-', '_')}", None)
    if formatter is None:
        jinja = llama_chat_format.Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=llama._model.token_get_text(llama.token_eos()),
            bos_token=llama._model.token_get_text(llama.token_bos()),
        )
        prompt = jinja(messages=messages).prompt
    else:
        prompt = formatter(messages=messages).prompt
    return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))


def measure(pieces) -> dict:
    started = time.perf_counter()
    first = last = None
    count, text = 0, ""
    for piece in pieces:
        if not piece:
            continue
        now = time.perf_counter()
        first = first or now
        last, count, text = now, count + 1, text + piece
    assert first is not None, "no token streamed"
    decode = last - first
    return {
        "ttft_s": first - started,
        "tokens": count,
        "tokens_per_s": (count - 1) / decode if decode > 0 else float("nan"),
        "total_s": last - started,
        "text": text,
    }


def direct_pieces(llama, messages, max_tokens: int, temperature: float, recorded: list | None = None):
    for chunk in llama.create_chat_completion(
        messages=messages, stream=True, max_tokens=max_tokens, temperature=temperature
    ):
        if recorded is not None:
            recorded.append(chunk)
        yield chunk["choices"][0]["delta"].get("content")


class ReplayLlama:
    """Stands in for Llama: returns recorded stream chunks at once, so only the Python layers are timed."""

    def __init__(self, chunks: list) -> None:
        self.chunks = chunks

    def create_chat_completion(self, **kwargs):
        return iter(self.chunks)


def interface_cost_us(chunks: list, messages, repeats: int = 300) -> dict:
    """Per streamed piece: our LlamaCppGenerator.stream over a replayed stream vs the bare loop over it."""
    from rag.generators import LlamaCppGenerator

    ours = object.__new__(LlamaCppGenerator)  # no model load: the replay stands in for it
    ours.name, ours.temperature, ours.lock, ours._llama = "replay", 0.0, threading.Lock(), ReplayLlama(chunks)
    direct = ReplayLlama(chunks)
    pieces = max(1, sum(1 for c in chunks if c["choices"][0]["delta"].get("content")))
    timings = {"ours": [], "direct": []}
    for _ in range(repeats):
        started = time.perf_counter()
        for _piece in ours.stream(messages, 0):
            pass
        timings["ours"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for chunk in direct.create_chat_completion():
            text = chunk["choices"][0]["delta"].get("content")
            if text:
                pass
        timings["direct"].append(time.perf_counter() - started)
    return {path: statistics.median(t) / pieces * 1e6 for path, t in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of (ours, direct) pairs (default 3)")
    parser.add_argument("--max-tokens", type=int, help="longest answer (default: RAG_MAX_ANSWER_TOKENS, 350)")
    parser.add_argument("--count-questions", type=int, default=6, help="questions whose prompt tokens are counted")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, 24 tokens, 2 prompts counted")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.max_tokens, args.count_questions = 1, args.max_tokens or 24, 2
    started = time.time()

    with common.temp_dir(args.keep) as tmp:
        settings = common.index_shipped_corpus(tmp / "data", model_path=common.default_model_file())
        max_tokens = args.max_tokens or settings.max_answer_tokens
        generator = make_generator(settings)
        llama = generator._llama  # the same loaded model for both paths
        retriever = open_retriever(settings)
        recorder = PromptRecorder(generator)
        assistant = Assistant(settings, retriever.embedder, retriever, recorder)
        questions = [q for q, _ in common.shipped_questions()]
        counted = []
        for question in questions:
            if len(counted) >= args.count_questions:
                break
            before = len(recorder.prompts)
            assistant.ask(question)  # default settings: translation, retrieval, excerpts, prompt
            if len(recorder.prompts) > before:
                counted.append({"question": question, "prompt_tokens": prompt_tokens(llama, recorder.prompts[-1])})
        messages = recorder.prompts[0]
        llama.reset()
        usage = llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)["usage"]
        check = {"template_count": counted[0]["prompt_tokens"], "usage_prompt_tokens": usage["prompt_tokens"]}
        common.print_table(
            "Prompt tokens sent with default settings (chat template applied)",
            ["question", "prompt tokens"],
            [[c["question"][:80], c["prompt_tokens"]] for c in counted],
        )
        print(f"check against the model's usage field for the first prompt: {check}")

        runs: dict[str, list[dict]] = {"ours": [], "direct": []}
        chunks: list = []
        for round_ in range(args.repeats):
            order = ["ours", "direct"] if round_ % 2 == 0 else ["direct", "ours"]
            for path in order:
                llama.reset()  # no KV-cache prefix reuse: both start from the same state
                if path == "ours":
                    result = measure(generator.stream(messages, max_tokens))
                else:
                    recorded: list = []
                    result = measure(direct_pieces(llama, messages, max_tokens, settings.temperature, recorded))
                    chunks = chunks or recorded
                runs[path].append(result)
                print(
                    f"  round {round_ + 1} {path:6}: TTFT {result['ttft_s']:.2f} s, {result['tokens']} tokens, "
                    f"{result['tokens_per_s']:.2f} tok/s",
                    flush=True,
                )

        med = {
            path: {key: statistics.median(r[key] for r in rs) for key in ("ttft_s", "tokens_per_s", "total_s")}
            for path, rs in runs.items()
        }
        ttft_pct = (med["ours"]["ttft_s"] / med["direct"]["ttft_s"] - 1) * 100
        tps_pct = (med["direct"]["tokens_per_s"] / med["ours"]["tokens_per_s"] - 1) * 100
        same_text = len({r["text"] for rs in runs.values() for r in rs}) == 1
        common.print_table(
            f"Generation through our interface vs llama-cpp-python direct (median of {args.repeats}; "
            f"prompt {counted[0]['prompt_tokens']} tokens, max {max_tokens} new)",
            ["path", "TTFT s", "tokens/s", "total s", "tokens"],
            [
                [
                    "baseline: Llama.create_chat_completion",
                    med["direct"]["ttft_s"],
                    med["direct"]["tokens_per_s"],
                    med["direct"]["total_s"],
                    runs["direct"][0]["tokens"],
                ],
                [
                    "ours: generator.stream",
                    med["ours"]["ttft_s"],
                    med["ours"]["tokens_per_s"],
                    med["ours"]["total_s"],
                    runs["ours"][0]["tokens"],
                ],
            ],
            2,
        )
        print(
            f"\noverhead: TTFT {ttft_pct:+.1f} %, tokens/s {tps_pct:+.1f} % (positive = ours slower); "
            f"target <= {TARGET_PCT:.0f} %: {common.verdict(ttft_pct <= TARGET_PCT and tps_pct <= TARGET_PCT)}"
        )
        print(f"identical output text on every run: {same_text}")
        replay = interface_cost_us(chunks, messages)
        per_token_us = 1e6 / med["ours"]["tokens_per_s"]
        replay_pct = (replay["ours"] - replay["direct"]) / per_token_us * 100
        print(
            f"interface cost per streamed piece, replayed stream without the model: ours {replay['ours']:.2f} us, "
            f"bare loop {replay['direct']:.2f} us; difference = {replay_pct:.2g} % of a token's model time "
            f"({per_token_us / 1000:.1f} ms) - insensitive to other load on the machine"
        )

        for rs in runs.values():
            for r in rs:
                r["text"] = r["text"][:200]
        results = {
            "max_tokens": max_tokens,
            "prompt_tokens": counted,
            "prompt_token_check": check,
            "median": med,
            "runs": runs,
            "overhead_pct": {"ttft": ttft_pct, "tokens_per_s": tps_pct},
            "identical_text": same_text,
            "replayed_interface_cost_us_per_piece": replay,
            "replayed_interface_overhead_pct_of_token_time": replay_pct,
            "target": f"overhead <= {TARGET_PCT} % on TTFT and tokens/s",
            "target_met": ttft_pct <= TARGET_PCT and tps_pct <= TARGET_PCT,
            "model": str(common.MODEL_FILE.name),
            "threads": settings.llm_threads,
            "context": settings.llm_context,
        }
        common.write_results("generation_overhead", args, results, started)


if __name__ == "__main__":
    main()
