"""Time to sources: from question received to the first `Sources` event of rag.assistant.Assistant.stream,
p50/p95, on the shipped corpus (corpus/) with every model already loaded.

Modes, interleaved question by question: `llama` (the default generator: the model translates the
question de<->en first, for a second search), `no-translation` (llama with RAG_TRANSLATION_WEIGHT=0)
and `extractive` (no model). Questions: the gold-set questions about the shipped corpus
(tests/eval/gold.jsonl). Before each llama measurement the model's KV cache is reset (`--kv reset`,
the default), as in real use, where the previous answer's prompt has replaced the translation
prompt in the cache; `--kv keep` measures with the cache left as it is.
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


class TimedGenerator:
    """Delegates to the real generator and records the model time spent before the sources."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.uses_model = inner, inner.name, inner.uses_model
        self.seconds, self.tokens, self.outputs = 0.0, 0, []

    def busy(self) -> bool:
        return self.inner.busy()

    def stream(self, messages, max_tokens: int) -> Iterator[str]:
        started, text = time.perf_counter(), ""
        try:
            for token in self.inner.stream(messages, max_tokens):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the 16 questions (default 2)")
    parser.add_argument("--modes", default="llama,no-translation,extractive", help="modes to measure")
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
        base = common.index_shipped_corpus(tmp / "data", model_path=common.MODEL_FILE)
        retriever = open_retriever(base)
        settings = {
            "llama": base,
            "no-translation": base.model_copy(update={"translation_weight": 0.0}),
            "extractive": base.model_copy(update={"generator": "extractive"}),
        }
        generators, assistants = {}, {}
        for mode in modes:
            generators[mode] = TimedGenerator(make_generator(settings[mode]))
            assistants[mode] = Assistant(settings[mode], retriever.embedder, retriever, generators[mode])
        llama = next((g.inner for g in generators.values() if g.uses_model), None)
        print(f"{len(questions)} questions x {args.repeats} rounds; modes {modes}; KV cache {args.kv}")
        for mode in modes:  # warm-up: first-call costs of embedder, model and Chroma are not the figure
            time_to_sources(assistants[mode], questions[0][0])

        samples: dict[str, list[float]] = {mode: [] for mode in [*modes, "baseline"]}
        model_ms: dict[str, list[float]] = {mode: [] for mode in modes}
        translations = []
        for _ in range(args.repeats):
            for question, _lang in questions:
                _, seconds = common.timed(retriever.search, [Query(question)], base.top_k)
                samples["baseline"].append(seconds * 1000)
                for mode in modes:
                    generator = generators[mode]
                    if llama is not None and generator.uses_model and args.kv == "reset":
                        llama._llama.reset()
                    generator.reset()
                    samples[mode].append(time_to_sources(assistants[mode], question))
                    model_ms[mode].append(generator.seconds * 1000)
                    if mode == "llama" and generator.outputs:
                        translations.append({"question": question, "translation": generator.outputs[0].strip()})

        stats = {mode: common.summarize(values) for mode, values in samples.items()}
        model_stats = {mode: common.summarize(values) for mode, values in model_ms.items()}
        base_p95 = stats["baseline"]["p95"]
        rows = [["baseline: Retriever.search alone", stats["baseline"]["p50"], stats["baseline"]["p95"], 1.0, 0.0]]
        for mode in modes:
            s = stats[mode]
            rows.append(
                [
                    f"{mode}: stream() -> Sources",
                    s["p50"],
                    s["p95"],
                    common.ratio(s["p95"], base_p95),
                    model_stats[mode]["p50"],
                ]
            )
        common.print_table(
            "Time to sources on the shipped corpus (ms; models loaded; ratio = p95 / baseline p95)",
            ["measure", "p50", "p95", "x baseline", "model p50"],
            rows,
        )
        for mode in modes:
            print(f"target p95 <= {TARGET_MS:.0f} ms, {mode}: {common.verdict(stats[mode]['p95'] <= TARGET_MS)}")
        for item in translations[:4]:
            print(f"  translated: {item['question'][:60]!r} -> {item['translation'][:70]!r}")

        results = {
            "questions": len(questions),
            "ms": stats,
            "model_ms_before_sources": model_stats,
            "translations": translations[: len(questions)],
            "target": f"p95 <= {TARGET_MS} ms",
            "target_met": {mode: stats[mode]["p95"] <= TARGET_MS for mode in modes},
        }
        common.write_results("time_to_sources", args, results, started)


if __name__ == "__main__":
    main()
