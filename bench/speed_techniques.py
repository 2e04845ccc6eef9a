"""Each speed technique on and off, on the same model calls, in the same run.

The assistant answers the gold-set questions about the shipped corpus once with the default model;
every model call it makes (the translation for the second search, the answer) is recorded. The
calls are then replayed, question by question in the order the assistant made them, on one loaded
generator per variant; the variant order rotates every question. Measured per answer call: time to
its first piece (prompt processing, after whatever the context kept from the calls before) and to
its last; and whether its text is identical to the default variant's (temperature 0).

Variants:
- this code: side tasks on their own llama.cpp context, no prompt lookup decoding;
- side tasks on the answer's context (the answer context loses its processed system prompt);
- prompt lookup decoding with 2 or 4 draft tokens copied from the prompt.
"""

import argparse
import statistics
import time
from typing import Any

import common

from rag.assistant import Assistant
from rag.components import open_retriever
from rag.generators import LlamaCppGenerator, make_generator

VARIANTS: dict[str, dict[str, Any]] = {
    "this code": {"lookup_tokens": 0, "one_context": False},
    "side tasks on the answer's context": {"lookup_tokens": 0, "one_context": True},
    "prompt lookup decoding, 2 tokens": {"lookup_tokens": 2, "one_context": False},
    "prompt lookup decoding, 4 tokens": {"lookup_tokens": 4, "one_context": False},
}
Call = tuple[list[dict[str, str]], int, bool]  # messages, max tokens, side task


class CallRecorder:
    """Passes every call to the real generator and records it."""

    def __init__(self, inner: LlamaCppGenerator) -> None:
        self.inner, self.name, self.uses_model = inner, inner.name, True
        self.calls: list[Call] = []

    def busy(self) -> bool:
        return False

    def yes_probability(self, messages):
        return self.inner.yes_probability(messages)

    def stream(self, messages, max_tokens: int, wait: bool = True, side_task: bool = False):
        self.calls.append((messages, max_tokens, side_task))
        return self.inner.stream(messages, max_tokens, wait, side_task)


def replay(generator: LlamaCppGenerator, calls: list[Call]) -> dict[str, Any]:
    """The calls in order; timings of the last answer call (not a side task)."""
    result: dict[str, Any] = {}
    for messages, max_tokens, side_task in calls:
        started, first, text = time.perf_counter(), None, ""
        for piece in generator.stream(messages, max_tokens, side_task=side_task):
            first = first if first is not None else time.perf_counter() - started
            text += piece
        if not side_task:
            total = time.perf_counter() - started
            result = {"first_s": first if first is not None else total, "total_s": total, "text": text}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, help="only the first N shipped-corpus questions")
    parser.add_argument("--quick", action="store_true", help="3 questions")
    args = parser.parse_args()
    started = time.time()
    common.warn_if_busy()
    questions = [q for q, _ in common.shipped_questions()][: 3 if args.quick else args.questions]
    with common.temp_dir() as tmp:
        settings = common.index_shipped_corpus(tmp / "data", model_path=common.default_model_file())
        recorder = CallRecorder(make_generator(settings))
        retriever = open_retriever(settings)
        assistant = Assistant(settings, retriever.embedder, retriever, recorder)
        recorded = []
        for question in questions:
            recorder.calls = []
            assistant.ask(question)
            if any(not side for _, _, side in recorder.calls):
                recorded.append(recorder.calls)
        generators = {name: variant_generator(settings, **variant) for name, variant in VARIANTS.items()}
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
        order = list(VARIANTS)
        for number, calls in enumerate(recorded, start=1):
            order = order[1:] + order[:1]
            for name in order:
                results[name].append(replay(generators[name], calls))
            print(f"question {number}/{len(recorded)} replayed", flush=True)
    report(results)
    common.write_results("speed_techniques", args, results, started)


def variant_generator(settings, lookup_tokens: int, one_context: bool) -> LlamaCppGenerator:
    generator = LlamaCppGenerator(
        settings.model_path, settings.llm_threads, settings.llm_context, settings.temperature, lookup_tokens
    )
    if one_context:
        generator._sides = [("", generator._llama)]  # side tasks on the answer's context
    return generator


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    reference = [r["text"] for r in results["this code"]]
    rows = []
    for name, runs in results.items():
        identical = sum(r["text"] == ref for r, ref in zip(runs, reference, strict=True))
        rows.append(
            [
                name,
                len(runs),
                round(statistics.median(r["first_s"] for r in runs), 2),
                round(statistics.median(r["total_s"] for r in runs), 2),
                round(max(r["total_s"] for r in runs), 2),
                f"{identical}/{len(runs)}",
            ]
        )
    headers = ["variant", "answers", "first piece p50 s", "answer p50 s", "answer max s", "same text"]
    common.print_table("Speed techniques on the same recorded calls, default model", headers, rows)


if __name__ == "__main__":
    main()
