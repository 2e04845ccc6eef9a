"""Time to sources: from question received to the first `Sources` event of rag.assistant.Assistant.stream,
p50/p95, on the shipped corpus (corpus/) with every model already loaded.

Modes, interleaved question by question: `llama` (the default generator) and `extractive` (no
model). With `llama` the first sources come from the question; the model then translates it for a
second search, which may refine them: that time, up to the moment the answer's generation would
start, is reported as `llama: refined sources`.
Questions: the gold-set questions about the shipped corpus (tests/eval/gold.jsonl). Before each
llama measurement the model's KV cache is reset (`--kv reset`, the default), as in real use, where
the previous answer's prompt has replaced the translation prompt in the cache; `--kv keep`
measures with the cache left as it is.
Baseline, in the same run: the retrieval call alone (Retriever.search with the question).
Target: p95 <= 300 ms.
"""

import argparse
import time
from collections.abc import Iterator

import common

from rag.assistant import Assistant, Sources
from rag.components import open_retriever
from rag.generators import make_generator
from rag.retrieval import Query

TARGET_MS = 300.0


class AnswerStarts(Exception):
    """Raised when the assistant asks the model for the answer: every search is done by then."""


class TimedGenerator:
    """Delegates to the real generator and records the model time spent before the sources."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.uses_model = inner, inner.name, inner.uses_model
        self.seconds, self.tokens, self.outputs = 0.0, 0, []
        self.stop_before_answer = False

    def busy(self) -> bool:
        return self.inner.busy()

    def stream(self, messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
        # Without history the model is called to translate, then to answer.
        if self.stop_before_answer and len(self.outputs) == 1:
            raise AnswerStarts
        started, text = time.perf_counter(), ""
        try:
            for token in self.inner.stream(messages, max_tokens, wait, side_task):
                self.tokens += 1
                text += token
                yield token
        finally:
            self.seconds += time.perf_counter() - started
            self.outputs.append(text)

    def reset(self) -> None:
        self.seconds, self.tokens, self.outputs = 0.0, 0, []


def time_to_sources(assistant: Assistant, question: str) -> float:
    started = time.perf_counter()
    events = assistant.stream(question)
    try:
        first = next(events)
        elapsed = time.perf_counter() - started
        assert isinstance(first, Sources), f"first event is {type(first).__name__}, not Sources"
        return elapsed * 1000
    finally:
        events.close()  # the answer itself is not part of this measure


def time_to_refined_sources(assistant: Assistant, generator: TimedGenerator, question: str) -> float:
    """Question → the last `Sources` event (after the translated search), stopped before the answer."""
    started = time.perf_counter()
    generator.stop_before_answer = True
    try:
        for _ in assistant.stream(question):
            pass
    except AnswerStarts:
        return (time.perf_counter() - started) * 1000
    finally:
        generator.stop_before_answer = False
    raise AssertionError("the assistant answered without calling the model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the 16 questions (default 2)")
    parser.add_argument("--modes", default="llama,extractive", help="modes to measure")
    parser.add_argument("--kv", choices=["reset", "keep"], default="reset", help="model KV cache between questions")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 questions, 1 round")
    args = parser.parse_args()
    questions = common.shipped_questions()
    if args.quick:
        args.repeats, questions = 1, questions[:2] + questions[-2:]
    modes = args.modes.split(",")
    started = time.time()

    with common.temp_dir(args.keep) as tmp:
        base = common.index_shipped_corpus(tmp / "data", model_path=common.default_model_file())
        retriever = open_retriever(base)
        settings = {
            "llama": base,
            "extractive": base.model_copy(update={"generator": "extractive"}),
        }
        generators, assistants = {}, {}
        for mode in modes:
            generators[mode] = TimedGenerator(make_generator(settings[mode]))
            assistants[mode] = Assistant(settings[mode], retriever.embedder, retriever, generators[mode])
        print(f"{len(questions)} questions x {args.repeats} rounds; modes {modes}; KV cache {args.kv}")
        for mode in modes:  # warm-up: first-call costs of embedder, model and Chroma are not the figure
            time_to_sources(assistants[mode], questions[0][0])

        samples: dict[str, list[float]] = {mode: [] for mode in [*modes, "baseline"]}
        refined, translation_ms, translations = [], [], []
        for _ in range(args.repeats):
            for question, _lang in questions:
                _, seconds = common.timed(retriever.search, [Query(question)], base.top_k)
                samples["baseline"].append(seconds * 1000)
                for mode in modes:
                    samples[mode].append(time_to_sources(assistants[mode], question))
                    if mode != "llama":
                        continue
                    generator = generators[mode]
                    if args.kv == "reset":
                        generator.inner._llama.reset()
                    generator.reset()
                    refined.append(time_to_refined_sources(assistants[mode], generator, question))
                    translation_ms.append(generator.seconds * 1000)
                    translations.append({"question": question, "translation": generator.outputs[0].strip()})

        stats = {mode: common.summarize(values) for mode, values in samples.items()}
        base_p95 = stats["baseline"]["p95"]
        rows = [["baseline: Retriever.search alone", stats["baseline"]["p50"], stats["baseline"]["p95"], 1.0]]
        for mode in modes:
            rows.append(
                [
                    f"{mode}: first Sources",
                    stats[mode]["p50"],
                    stats[mode]["p95"],
                    common.ratio(stats[mode]["p95"], base_p95),
                ]
            )
        if refined:
            stats["llama: refined sources"] = common.summarize(refined)
            stats["llama: translation"] = common.summarize(translation_ms)
            for name in ("llama: refined sources", "llama: translation"):
                rows.append([name, stats[name]["p50"], stats[name]["p95"], common.ratio(stats[name]["p95"], base_p95)])
        common.print_table(
            "Time to sources on the shipped corpus (ms; models loaded; ratio = p95 / baseline p95)",
            ["measure", "p50", "p95", "x baseline"],
            rows,
        )
        for mode in modes:
            print(f"target p95 <= {TARGET_MS:.0f} ms, {mode}: {common.verdict(stats[mode]['p95'] <= TARGET_MS)}")
        for item in translations[:4]:
            print(f"  translated: {item['question'][:60]!r} -> {item['translation'][:70]!r}")

        results = {
            "questions": len(questions),
            "ms": stats,
            "translations": translations[: len(questions)],
            "target": f"p95 <= {TARGET_MS} ms",
            "target_met": {mode: stats[mode]["p95"] <= TARGET_MS for mode in modes},
        }
        common.write_results("time_to_sources", args, results, started)


if __name__ == "__main__":
    main()
