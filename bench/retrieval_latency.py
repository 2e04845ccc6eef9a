"""Retrieval latency: p50/p95 of dense-only (store.query) and hybrid (Retriever.search, one Query) search
at 1k, 10k and 100k chunks, for embedded Chroma and for a Chroma server on loopback.

SYNTHETIC VECTORS: embedding 100k chunks with the real embedder takes ~1.5 h on this machine, so the
index is filled with random unit vectors of the embedder's dimension (512) beside real generated
German-like chunk texts and metadata (rag.store.open_store(...).upsert), with a matching document
registry (rag.registry.Registry.save, chunk ids from rag.registry.chunk_id). Dense-search cost depends
on the number and dimension of vectors, not on their meaning; queries are embedded with the real
embedder. Ranking quality is meaningless here; only time and memory are measured.

Each phase runs in its own process (build; lexical-index build; lexical-index load; queries against
embedded Chroma; queries against `chroma run` on the same files), so memory readings are clean.
Baseline, in the same run: the bare chromadb `collection.query` call. Target: hybrid p95 <= 100 ms
at 100k chunks, embedded.
"""

import argparse
import gc
import hashlib
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import common
import numpy as np

TARGET_MS = 100.0
DIM = 512


# ---------------------------------------------------------------- workers (each in its own process)


def settings_for(spec: dict):
    overrides = {"chroma_host": "127.0.0.1", "chroma_port": spec["port"]} if spec.get("port") else {}
    return common.bench_settings(Path(spec["data_dir"]), **overrides)


def worker_build(spec: dict) -> dict:
    """Generated texts + random unit vectors into the store, registry rows whose chunk ids match."""
    from rag.registry import DocumentRecord, Registry, chunk_id, registry_path
    from rag.store import open_store

    settings = settings_for(spec)
    size, per_doc = spec["size"], spec["chunks_per_doc"]
    text = common.GermanLikeText()
    rng = np.random.default_rng(6)
    store = open_store(settings, "use-multilingual", DIM)
    registry = Registry(registry_path(settings.index_dir))
    registry.set_meta("embedder", {"name": "use-multilingual"})
    generate_s = upsert_s = 0.0
    batch_docs = max(1, 4000 // per_doc)
    docs = (size + per_doc - 1) // per_doc
    for first in range(0, docs, batch_docs):
        started = time.perf_counter()
        ids, texts, metadatas, records = [], [], [], []
        for d in range(first, min(docs, first + batch_docs)):
            count = min(per_doc, size - d * per_doc)
            doc_id = hashlib.sha256(f"doc-{d}".encode()).hexdigest()[:16]
            content = hashlib.sha256(f"content-{d}".encode()).hexdigest()
            title = f"{text.title()} ({d})"
            source = f"corpus/generated/artikel-{d:06d}.md"
            records.append(DocumentRecord(doc_id, f"/bench/{source}", source, title, content, count, "2025-01-01"))
            for n in range(count):
                ids.append(chunk_id(doc_id, content, n))
                texts.append(text.paragraph(text.rng.randint(900, 1450)))
                metadatas.append(
                    {
                        "doc_id": doc_id,
                        "content_hash": content,
                        "source": source,
                        "title": title,
                        "author": f"Autor {d % 37}",
                        "date": "2024-05-01",
                        "lang": "de",
                        "kind": "blog",
                        "heading": " ".join(text.words(3)).capitalize() if n else None,
                        "chunk": n,
                        "start": n * 1200,
                        "end": n * 1200 + len(texts[-1]),
                    }
                )
        vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        generate_s += time.perf_counter() - started
        started = time.perf_counter()
        store.upsert(ids, vectors, texts, metadatas)
        registry.save(records)
        upsert_s += time.perf_counter() - started
        print(f"  built {min(size, (first + batch_docs) * per_doc)}/{size} chunks", file=sys.stderr, flush=True)
    registry.close()
    return {"chunks": store.count(), "documents": docs, "generate_s": generate_s, "upsert_s": upsert_s}


def clear_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (peak RSS) of this process


def worker_lexical_build(spec: dict) -> dict:
    """The product's start-up path with no lexical index on disk: read all chunks, build BM25, save."""
    from rag import retrieval
    from rag.components import open_retriever
    from rag.lexical import LexicalIndex
    from rag.registry import lexical_path

    settings = settings_for(spec)
    retriever = open_retriever(settings)
    timings: dict[str, float] = {}

    def timing(name, fn):
        def wrapped(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - started

        return wrapped

    retriever.store.all_chunks = timing("read_all_chunks_s", retriever.store.all_chunks)
    original_build, original_save = LexicalIndex.build, LexicalIndex.save
    LexicalIndex.build = classmethod(timing("bm25_build_s", original_build.__func__))
    LexicalIndex.save = timing("save_s", original_save)
    gc.collect()
    rss_before = common.rss_mb()
    clear_peak_rss()
    started = time.perf_counter()
    retriever._refresh()  # registry → fingerprint → no index on disk → build and save
    total = time.perf_counter() - started
    peak = common.peak_rss_mb()
    gc.collect()
    folder = lexical_path(settings.index_dir)
    return {
        **timings,
        "total_s": total,
        "rss_before_mb": rss_before,
        "peak_rss_increase_mb": peak - rss_before,
        "rss_retained_increase_mb": common.rss_mb() - rss_before,
        "disk_mb": common.folder_bytes(folder) / 2**20,
        "vocabulary": len(retriever._lexical.document_frequency),
        "fingerprint_ok": retriever._lexical.fingerprint
        == retrieval.lexical_fingerprint(retriever.registry.documents()),
    }


def worker_lexical_load(spec: dict) -> dict:
    """Start-up with the lexical index on disk: load time, its memory (RSS delta, tracemalloc)."""
    import bm25s  # noqa: F401  (imports are not the index's cost)

    from rag.components import open_retriever
    from rag.lexical import LexicalIndex
    from rag.registry import lexical_path

    settings = settings_for(spec)
    folder = lexical_path(settings.index_dir)
    gc.collect()
    rss_before = common.rss_mb()
    started = time.perf_counter()
    index = LexicalIndex.load(folder)
    load_s = time.perf_counter() - started
    rss_delta = common.rss_mb() - rss_before
    assert index is not None
    del index
    gc.collect()
    tracemalloc.start()
    index = LexicalIndex.load(folder)
    traced_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del index
    gc.collect()
    retriever = open_retriever(settings)
    started = time.perf_counter()
    retriever._refresh()  # what the first question pays: registry, fingerprint, load from disk
    first_refresh_s = time.perf_counter() - started
    return {
        "load_s": load_s,
        "rss_increase_mb": rss_delta,
        "tracemalloc_mb": traced_mb,
        "first_refresh_s": first_refresh_s,
    }


def worker_lexical_trace(spec: dict) -> dict:
    """Where the lexical build's memory goes: tracemalloc snapshot as bm25s starts indexing (the peak)."""
    import bm25s

    from rag.embedders import make_embedder
    from rag.lexical import LexicalIndex
    from rag.retrieval import lexical_text
    from rag.store import open_store

    settings = settings_for(spec)
    store = open_store(settings, make_embedder(settings.embedder).name, DIM)
    snapshots = []
    original_index = bm25s.BM25.index

    def index(self, *args, **kwargs):
        snapshots.append(tracemalloc.take_snapshot())
        return original_index(self, *args, **kwargs)

    bm25s.BM25.index = index
    tracemalloc.start()
    chunks = [
        (chunk.chunk_id, str(chunk.metadata.get("doc_id")), lexical_text(chunk.metadata, chunk.text))
        for chunk in store.all_chunks()
    ]
    after_read = tracemalloc.get_traced_memory()[0]
    LexicalIndex.build(chunks, "trace")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    top = snapshots[0].statistics("lineno")[:8] if snapshots else []
    return {
        "traced_after_read_all_chunks_mb": after_read / 2**20,
        "traced_peak_mb": peak / 2**20,
        "top_at_bm25_index": [
            {"where": f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}", "mb": s.size / 2**20}
            for s in top
        ],
    }


def worker_measure(spec: dict) -> dict:
    """Per query: embed, store.query, bare collection.query, BM25, registry refresh, hybrid search."""
    from rag.components import open_retriever
    from rag.retrieval import Query

    settings = settings_for(spec)
    retriever = open_retriever(settings)
    store, embedder, k = retriever.store, retriever.embedder, retriever.candidates
    collection = store._collection
    generator = common.GermanLikeText(sample_seed=99)
    questions = [generator.question() for _ in range(spec["queries"])]
    started = time.perf_counter()
    retriever.search([Query(questions[0])], settings.top_k)
    first_search_s = time.perf_counter() - started
    for question in questions[: spec["warmup"]]:
        retriever.search([Query(question)], settings.top_k)
    lexical = retriever._lexical
    times: dict[str, list[float]] = {
        name: [] for name in ("embed_query", "dense_store_query", "bare_collection_query", "bm25", "refresh", "hybrid")
    }

    def clock(name, fn, *args):
        began = time.perf_counter()
        result = fn(*args)
        times[name].append((time.perf_counter() - began) * 1000)
        return result

    for question in questions:
        vector = clock("embed_query", embedder.embed_query, question)
        clock("dense_store_query", store.query, vector, k)
        clock(
            "bare_collection_query",
            lambda v: collection.query(
                query_embeddings=[v], n_results=k, include=["documents", "metadatas", "distances"]
            ),
            vector,
        )
        clock("bm25", lexical.search, question, k)
        clock("refresh", retriever._refresh)
        clock("hybrid", retriever.search, [Query(question)], settings.top_k)
    result = {"first_search_s": first_search_s, "ms": {name: common.summarize(v) for name, v in times.items()}}
    if spec.get("profile"):
        _, rows, _ = common.profile(
            lambda: [retriever.search([Query(q)], settings.top_k) for q in questions[:30]], top=22
        )
        result["profile_top"] = rows
        _, rows, _ = common.profile(
            lambda: [retriever.search([Query(q)], settings.top_k) for q in questions[:30]], top=12, sort="tottime"
        )
        result["profile_top_own_time"] = rows
    return result


WORKERS = {
    "build": worker_build,
    "lexical-build": worker_lexical_build,
    "lexical-load": worker_lexical_load,
    "lexical-trace": worker_lexical_trace,
    "measure": worker_measure,
}


def run_worker(name: str, spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--spec", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- orchestration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts (default 1000,10000,100000)")
    parser.add_argument("--queries", type=int, default=100, help="timed queries per size and backend (default 100)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed queries first (default 5)")
    parser.add_argument("--chunks-per-doc", type=int, default=3, help="chunks per registry document (default 3)")
    parser.add_argument("--backends", default="embedded,server", help="embedded, server or both (default both)")
    parser.add_argument(
        "--trace-lexical", action="store_true", help="also trace the lexical build's memory (largest size; slow)"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip cProfile of hybrid search at the largest size")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 and 2,000 chunks, 20 queries")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.spec)), default=float))
        return
    if args.quick:
        args.sizes, args.queries, args.warmup = "500,2000", 20, 3
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    started = time.time()
    print("NOTE: vectors are SYNTHETIC (random unit vectors, 512 dimensions) beside real generated texts and")
    print("metadata: embedding 100k chunks takes ~1.5 h here; query vectors come from the real embedder.")

    results: dict = {"synthetic_vectors": True, "sizes": {}}
    with common.temp_dir(args.keep) as tmp:
        for size in sizes:
            data_dir = tmp / f"data-{size}"
            spec = {"data_dir": str(data_dir), "size": size, "chunks_per_doc": args.chunks_per_doc}
            print(f"\n== {size} chunks: building the index", flush=True)
            entry: dict = {"build": run_worker("build", spec)}
            entry["lexical_build"] = run_worker("lexical-build", spec)
            entry["lexical_load"] = run_worker("lexical-load", spec)
            if args.trace_lexical and size == max(sizes):
                entry["lexical_trace"] = trace = run_worker("lexical-trace", spec)
                common.print_table(
                    f"Lexical build memory at {size} chunks (tracemalloc; peak {trace['traced_peak_mb']:.0f} MB, "
                    f"after reading all chunks {trace['traced_after_read_all_chunks_mb']:.0f} MB)",
                    ["allocated at (snapshot when bm25s starts indexing)", "MB"],
                    [[row["where"], row["mb"]] for row in trace["top_at_bm25_index"]],
                )
            measure = {**spec, "queries": args.queries, "warmup": args.warmup}
            for backend in backends:
                print(f"== {size} chunks: queries against {backend} Chroma", flush=True)
                profile = not args.no_profile and size == max(sizes) and backend == "embedded"
                if backend == "embedded":
                    entry[backend] = run_worker("measure", {**measure, "profile": profile})
                else:
                    settings = common.bench_settings(data_dir)
                    with common.chroma_server(settings.index_dir / "chroma") as port:
                        entry[backend] = run_worker("measure", {**measure, "port": port})
            results["sizes"][str(size)] = entry
            report_size(size, entry, backends)

        largest = results["sizes"][str(max(sizes))]
        if "embedded" in largest:
            p95 = largest["embedded"]["ms"]["hybrid"]["p95"]
            results["target"] = f"hybrid p95 <= {TARGET_MS} ms at 100k chunks, embedded"
            results["largest_size_hybrid_p95_ms"] = p95
            results["target_met"] = p95 <= TARGET_MS if max(sizes) >= 100_000 else None
            print(
                f"\nhybrid p95 at {max(sizes)} chunks, embedded: {p95:.1f} ms; target <= {TARGET_MS:.0f} ms "
                f"at 100k: {common.verdict(p95 <= TARGET_MS) if max(sizes) >= 100_000 else 'not measured'}"
            )
            if "profile_top" in largest["embedded"]:
                common.print_profile(
                    "cProfile of 30 hybrid searches, largest size (cumulative)", largest["embedded"]["profile_top"]
                )
                common.print_profile("... by own time", largest["embedded"]["profile_top_own_time"])
        common.write_results("retrieval_latency", args, results, started)


def report_size(size: int, entry: dict, backends: list[str]) -> None:
    rows = []
    names = [
        ("hybrid", "hybrid: Retriever.search"),
        ("dense_store_query", "dense-only: store.query"),
        ("bare_collection_query", "baseline: collection.query"),
        ("embed_query", "  query embedding"),
        ("bm25", "  BM25 search"),
        ("refresh", "  registry refresh (per search)"),
    ]
    for backend in backends:
        ms = entry[backend]["ms"]
        base = ms["bare_collection_query"]["p95"]
        for key, label in names:
            rows.append([backend, label, ms[key]["p50"], ms[key]["p95"], common.ratio(ms[key]["p95"], base)])
    common.print_table(
        f"Retrieval latency at {size} chunks (ms; synthetic vectors; ratio = p95 / bare collection.query p95)",
        ["backend", "measure", "p50", "p95", "x baseline"],
        rows,
    )
    b, lb, ll = entry["build"], entry["lexical_build"], entry["lexical_load"]
    common.print_table(
        f"Index at {size} chunks ({b['documents']} documents)",
        ["measure", "value"],
        [
            ["generate texts + vectors, s", b["generate_s"]],
            ["upsert into embedded Chroma, s", b["upsert_s"]],
            ["lexical build total (first search, none on disk), s", lb["total_s"]],
            ["  read all chunks from Chroma, s", lb.get("read_all_chunks_s", float("nan"))],
            ["  tokenize + BM25 index, s", lb.get("bm25_build_s", float("nan"))],
            ["  save, s", lb.get("save_s", float("nan"))],
            ["lexical build peak RSS increase, MB", lb["peak_rss_increase_mb"]],
            ["lexical index on disk, MB", lb["disk_mb"]],
            ["lexical load at start-up, s", ll["load_s"]],
            ["lexical index in memory (RSS increase), MB", ll["rss_increase_mb"]],
            ["lexical index in memory (tracemalloc), MB", ll["tracemalloc_mb"]],
            ["first refresh at start-up (registry + load), s", ll["first_refresh_s"]],
        ]
        + [[f"first search, {backend}, s", entry[backend]["first_search_s"]] for backend in backends],
        2,
    )


if __name__ == "__main__":
    main()
