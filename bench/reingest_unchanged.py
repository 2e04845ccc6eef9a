"""Re-ingest of an unchanged corpus: the second run over N documents, in seconds.

N generated German-like Markdown documents (default 2,000 of 600-900 characters) are ingested
once into a fresh temporary index (timed, not the figure); then the unchanged corpus is ingested
again, in process (Ingestor.run) and in a fresh process (`python -m ingest`, import time included,
as the editor runs it). Baseline, in the same run: reading and sha256-hashing all N files.
Target: second run <= 2 s, with no embedding and no full read of the index.
"""

import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import common

from ingest.pipeline import Ingestor
from rag.embedders import make_embedder

TARGET_S = 2.0


def read_and_hash(paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - started


def in_process_run(settings, corpus: Path) -> tuple[object, float, int]:
    """(report, seconds, embedder calls)."""
    embedder = make_embedder(settings.embedder)
    calls = []
    original = embedder.embed
    embedder.embed = lambda texts: calls.append(len(texts)) or original(texts)
    try:
        started = time.perf_counter()
        report = Ingestor(settings, report=lambda line: None, progress=False).run([corpus])
        return report, time.perf_counter() - started, len(calls)
    finally:
        del embedder.embed


def fresh_process(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=common.ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    return done, time.perf_counter() - started


def import_times(env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """The slowest imports of `python -m ingest` (python -X importtime, cumulative ms)."""
    done, _ = fresh_process(["-X", "importtime", "-c", "import ingest.__main__"], env)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:  # indentation shows nesting
            rows.append((match.group(3)[1:] + match.group(4), int(match.group(2)) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000, help="generated documents (default 2000)")
    parser.add_argument("--min-chars", type=int, default=600, help="shortest document body (default 600)")
    parser.add_argument("--max-chars", type=int, default=900, help="longest document body (default 900)")
    parser.add_argument("--repeats", type=int, default=3, help="timed unchanged runs of each kind (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 60 documents")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.repeats = 60, 2
    started = time.time()

    with common.temp_dir(args.keep) as tmp:
        corpus = tmp / "corpus"
        paths = common.write_corpus(corpus, args.docs, args.min_chars, args.max_chars)
        settings = common.bench_settings(tmp / "data")
        first, first_s, first_calls = in_process_run(settings, corpus)
        print(f"initial ingest: {first.summary_line()} (wall {first_s:.1f} s, {first_calls} embedder calls)")
        env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_INDEX_DIR": str(settings.index_dir)}

        baseline, in_proc, fresh, summaries, calls = [], [], [], [], []
        for _ in range(args.repeats):
            baseline.append(read_and_hash(paths))
            report, seconds, embed_calls = in_process_run(settings, corpus)
            in_proc.append(seconds)
            calls.append(embed_calls)
            summaries.append(report.summary_line())
            done, seconds = fresh_process(["-m", "ingest", str(corpus)], env)
            fresh.append(seconds)
            summaries.append(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:])
        baseline.append(read_and_hash(paths))
        interpreter = statistics.median(fresh_process(["-c", "pass"], env)[1] for _ in range(3))
        imports = statistics.median(fresh_process(["-c", "import ingest.__main__"], env)[1] for _ in range(3))
        unchanged_ok = all(f"{args.docs} unchanged" in line and " 0 chunks written" in line for line in summaries)

        base, inp, frs = statistics.median(baseline), statistics.median(in_proc), statistics.median(fresh)
        common.print_table(
            f"Re-ingest of {args.docs} unchanged documents (seconds, median of {args.repeats}; same run)",
            ["measure", "seconds", "x baseline"],
            [
                ["baseline: read + sha256 all files", base, 1.0],
                ["second run, in process (Ingestor.run)", inp, common.ratio(inp, base)],
                ["second run, fresh process (python -m ingest)", frs, common.ratio(frs, base)],
                ["  of which interpreter start (python -c pass)", interpreter, common.ratio(interpreter, base)],
                ["  of which imports (import ingest.__main__)", imports, common.ratio(imports, base)],
            ],
            3,
        )
        print(
            f"\ntarget <= {TARGET_S} s: in process {common.verdict(inp <= TARGET_S)}, "
            f"fresh process {common.verdict(frs <= TARGET_S)}"
        )
        print(
            f"embedder calls in the unchanged runs: {calls}; every run reported all unchanged, 0 chunks: {unchanged_ok}"
        )
        print(f"last summary line: {summaries[-1]}")

        _, profile_rows, _ = common.profile(
            lambda: Ingestor(settings, report=lambda line: None, progress=False).run([corpus]), top=20
        )
        common.print_profile("cProfile of one unchanged in-process run (cumulative)", profile_rows)
        slow_imports = import_times(env)
        common.print_table(
            "Slowest imports of python -m ingest (-X importtime, cumulative)",
            ["module", "ms"],
            [list(row) for row in slow_imports],
        )

        results = {
            "documents": args.docs,
            "initial_ingest": {"wall_s": first_s, "chunks": first.chunks_written, "summary": first.summary_line()},
            "baseline_read_sha256_s": base,
            "baseline_runs_s": baseline,
            "in_process_s": inp,
            "in_process_runs_s": in_proc,
            "fresh_process_s": frs,
            "fresh_process_runs_s": fresh,
            "interpreter_start_s": interpreter,
            "import_ingest_s": imports,
            "ratio_in_process": common.ratio(inp, base),
            "ratio_fresh_process": common.ratio(frs, base),
            "embedder_calls_unchanged_runs": calls,
            "all_unchanged_no_chunks": unchanged_ok,
            "summaries": summaries,
            "target": f"<= {TARGET_S} s",
            "target_met_in_process": inp <= TARGET_S,
            "target_met_fresh_process": frs <= TARGET_S,
            "profile_top": profile_rows,
            "slowest_imports_ms": slow_imports,
        }
        common.write_results("reingest_unchanged", args, results, started)


if __name__ == "__main__":
    main()
