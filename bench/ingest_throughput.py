"""Ingest throughput: the full pipeline's chunks per second against the bare embedder on the same texts.

Pipeline: ingest.pipeline.Ingestor over N generated German-like Markdown documents into a fresh
temporary index. Baseline, in the same run: rag.embedders.make_embedder().embed over exactly the
texts the pipeline embeds (ingest.chunking.embedding_text(title, chunk)), in batches of
RAG_EMBED_BATCH_SIZE. Order: baseline, pipeline, baseline (per repeat); the baseline figure is the
median. Target: pipeline / baseline >= 0.85.
"""

import argparse
import statistics
import time
from pathlib import Path

import common

from ingest.chunking import chunk_document, embedding_text
from ingest.documents import parse_document, read_file
from ingest.pipeline import Ingestor
from rag.embedders import make_embedder

TARGET = 0.85


def chunk_texts(paths: list[Path], settings) -> list[str]:
    """The exact texts the pipeline hands the embedder, in the same order."""
    texts = []
    for path in sorted(paths):
        document = parse_document(path, read_file(path, int(settings.max_file_mb * 1e6)))
        for chunk in chunk_document(document, settings.chunk_size, settings.chunk_overlap):
            texts.append(embedding_text(document.metadata["title"], chunk))
    return texts


def bare_embed(embedder, texts: list[str], batch: int) -> tuple[float, float]:
    """(wall s, CPU s) to embed texts in batches."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start : start + batch])
    return time.perf_counter() - wall, time.process_time() - cpu


class EmbedRecorder:
    """Wraps the (cached) embedder instance's embed to record texts and time spent inside it."""

    def __init__(self, embedder) -> None:
        self.embedder, self.texts, self.seconds = embedder, [], 0.0
        self._embed = embedder.embed

    def __enter__(self) -> "EmbedRecorder":
        def embed(texts):
            started = time.perf_counter()
            try:
                return self._embed(texts)
            finally:
                self.seconds += time.perf_counter() - started
                self.texts.extend(texts)

        self.embedder.embed = embed
        return self

    def __exit__(self, *exc: object) -> None:
        del self.embedder.embed


def run_pipeline(settings, corpus: Path) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    report = Ingestor(settings, report=lambda line: None, progress=False).run([corpus])
    return report, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200, help="generated documents (default 200)")
    parser.add_argument("--min-chars", type=int, default=2000, help="shortest document body (default 2000)")
    parser.add_argument("--max-chars", type=int, default=4000, help="longest document body (default 4000)")
    parser.add_argument("--repeats", type=int, default=1, help="baseline/pipeline rounds (default 1)")
    parser.add_argument("--profile", action="store_true", help="also run the pipeline once under cProfile")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 16 documents of 1-2k characters")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.min_chars, args.max_chars = 16, 1000, 2000
    started = time.time()

    with common.temp_dir(args.keep) as tmp:
        corpus = tmp / "corpus"
        paths = common.write_corpus(corpus, args.docs, args.min_chars, args.max_chars)
        settings = common.bench_settings(tmp / "data")
        texts = chunk_texts(paths, settings)
        chars = sum(len(t) for t in texts)
        print(f"{args.docs} documents, {len(texts)} chunks, {chars / len(texts):.0f} characters per embedded text")
        embedder = make_embedder(settings.embedder)
        embedder.embed(texts[: settings.embed_batch_size])  # load and warm up outside both measurements

        baselines, pipelines = [], []
        recorder_texts: list[str] = []
        for round_ in range(args.repeats):
            baselines.append(bare_embed(embedder, texts, settings.embed_batch_size))
            round_settings = common.bench_settings(tmp / f"data-{round_}")
            with EmbedRecorder(embedder) as recorder:
                report, wall, cpu = run_pipeline(round_settings, corpus)
            recorder_texts = recorder.texts
            pipelines.append((wall, cpu, recorder.seconds, report.chunks_written))
            baselines.append(bare_embed(embedder, texts, settings.embed_batch_size))

        same_texts = sorted(recorder_texts) == sorted(texts)
        n = len(texts)
        base_wall = statistics.median(b[0] for b in baselines)
        base_cpu = statistics.median(b[1] for b in baselines)
        pipe_wall = statistics.median(p[0] for p in pipelines)
        pipe_cpu = statistics.median(p[1] for p in pipelines)
        pipe_embed = statistics.median(p[2] for p in pipelines)
        written = pipelines[-1][3]
        wall_ratio = common.ratio(n / pipe_wall, n / base_wall)
        cpu_ratio = common.ratio(n / pipe_cpu, n / base_cpu)

        common.print_table(
            "Ingest throughput (chunks per second; baseline = bare embedder on the same texts, same run)",
            ["measure", "wall s", "chunks/s (wall)", "CPU s", "chunks/s (CPU)"],
            [
                ["baseline: embedder.embed", base_wall, n / base_wall, base_cpu, n / base_cpu],
                ["pipeline: Ingestor.run", pipe_wall, n / pipe_wall, pipe_cpu, n / pipe_cpu],
                ["  of which inside embed", pipe_embed, n / pipe_embed, float("nan"), float("nan")],
                ["  of which outside embed", pipe_wall - pipe_embed, float("nan"), float("nan"), float("nan")],
            ],
            2,
        )
        print(f"\nratio pipeline/baseline: {wall_ratio:.3f} (wall), {cpu_ratio:.3f} (CPU time)")
        print(f"target >= {TARGET}: {common.verdict(wall_ratio >= TARGET)} (wall)")
        print(f"chunks written by the pipeline: {written}; embedded texts identical to baseline: {same_texts}")
        print("baseline runs (wall/CPU s):", ", ".join(f"{b[0]:.2f}/{b[1]:.2f}" for b in baselines))
        print("pipeline runs (wall/CPU s):", ", ".join(f"{p[0]:.2f}/{p[1]:.2f}" for p in pipelines))

        profile_rows = []
        if args.profile:
            profile_settings = common.bench_settings(tmp / "data-profile")
            _, profile_rows, _ = common.profile(lambda: run_pipeline(profile_settings, corpus), top=25)
            common.print_profile("cProfile of one pipeline run (cumulative)", profile_rows)

        results = {
            "chunks": n,
            "embedded_chars": chars,
            "chunks_written": written,
            "embedded_texts_identical": same_texts,
            "baseline": {"wall_s": base_wall, "cpu_s": base_cpu, "chunks_per_s": n / base_wall},
            "baseline_runs_wall_s": [b[0] for b in baselines],
            "pipeline": {
                "wall_s": pipe_wall,
                "cpu_s": pipe_cpu,
                "chunks_per_s": n / pipe_wall,
                "inside_embed_s": pipe_embed,
                "outside_embed_s": pipe_wall - pipe_embed,
            },
            "pipeline_runs_wall_s": [p[0] for p in pipelines],
            "ratio_wall": wall_ratio,
            "ratio_cpu": cpu_ratio,
            "target": f">= {TARGET}",
            "target_met": wall_ratio >= TARGET,
            "profile_top": profile_rows,
        }
        common.write_results("ingest_throughput", args, results, started)


if __name__ == "__main__":
    main()
