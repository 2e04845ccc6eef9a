"""Concurrency: C clients asking at once through POST /api/ask/stream against the real server with the
default model: throughput (answers per minute), p95 latency, errors, and how many requests received
a `waiting` event.

The real server (tests/helpers.AppServer: `streamlit run app.py`) on a loopback port over a fresh index
of the shipped corpus, default generator and packaged model, RAG_RATE_LIMIT_PER_MINUTE=1000. After a
warm-up question, the baseline runs: one client alone asking the same questions one after another.
Then C client threads start together (a barrier) and each asks its --rounds questions in sequence.

A request "waited" for the model when another request finished (its `done` event) between this
request's `sources` event and its first `token`: with one in-process model, answers are made one at
a time, so that answer held the model while this one queued (counted for generators with a model).
Target: zero errors, and every request that waited was told so (a `waiting` event).

With --llama-server, the app answers through a model server instead (RAG_GENERATOR=openai):
`python -m llama_cpp.server` (tests/helpers.LlamaServer) serving the same packaged model with the
in-process model's default threads and context. Results go to concurrency.llama-server.json.
"""

import argparse
import contextlib
import threading
import time
from pathlib import Path

import common


def run_clients(url: str, questions: list[list[str]]) -> tuple[list[dict], float]:
    """One thread per client list; all start at once. (records, wall seconds)."""
    records: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(questions) + 1)

    def client_thread(client_id: int, mine: list[str]) -> None:
        with common.http_client() as client:
            barrier.wait()
            for question in mine:
                sent = time.perf_counter()
                record = common.ask_stream(client, url, question)
                record["client"], record["started_at"] = client_id, sent
                with lock:
                    records.append(record)

    threads = [threading.Thread(target=client_thread, args=(i, qs)) for i, qs in enumerate(questions)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return records, time.perf_counter() - started


def absolute(record: dict, event: str) -> float | None:
    """When an event arrived, on the shared perf_counter clock."""
    offset = record["events"].get(event)
    return None if offset is None else record["started_at"] + offset


def waited_for_model(record: dict, others: list[dict]) -> bool:
    sources, token = absolute(record, "sources"), absolute(record, "token")
    if sources is None or token is None:
        return False
    return any(o is not record and (done := absolute(o, "done")) and sources < done < token for o in others)


def summarize_run(records: list[dict], wall: float) -> dict:
    ok = [r for r in records if not r["error"]]
    return {
        "requests": len(records),
        "answers": len(ok),
        "errors": len(records) - len(ok),
        "error_messages": [r["error"] for r in records if r["error"]][:10],
        "wall_s": wall,
        "answers_per_minute": len(ok) / wall * 60 if wall else float("nan"),
        "latency_s": common.summarize([r["total_s"] for r in ok]),
        "time_to_sources_s": common.summarize([r["events"]["sources"] for r in ok if "sources" in r["events"]]),
        "time_to_first_token_s": common.summarize([r["events"]["token"] for r in ok if "token" in r["events"]]),
        "waiting_events": sum(r["waiting"] for r in records),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="clients asking at once (default 8)")
    parser.add_argument("--rounds", type=int, default=1, help="questions each client asks in turn (default 1)")
    parser.add_argument("--generator", default="llama", help="RAG_GENERATOR (default llama)")
    parser.add_argument(
        "--llama-server",
        action="store_true",
        help="answer through `python -m llama_cpp.server` serving the packaged model (RAG_GENERATOR=openai)",
    )
    parser.add_argument("--max-answer-tokens", type=int, help="RAG_MAX_ANSWER_TOKENS (default: product default)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 clients, answers of at most 32 tokens")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.max_answer_tokens = 3, args.max_answer_tokens or 32
    if args.llama_server:
        args.generator = "openai"
    started = time.time()
    common.warn_if_busy()
    pool = [q for q, _ in common.shipped_questions()]
    per_client = [[pool[(c * args.rounds + r) % len(pool)] for r in range(args.rounds)] for c in range(args.clients)]

    with common.temp_dir(args.keep) as tmp:
        common.index_shipped_corpus(tmp / "data")
        env = common.server_env(args.generator, args.max_answer_tokens)
        model_server = None
        with contextlib.ExitStack() as servers:
            if args.llama_server:
                model_server = servers.enter_context(common.llama_server(tmp / "logs"))
                # The model server queues requests itself, and a non-streamed one (the yes/no check) gets no
                # bytes until its turn: give it the clients' own timeout, not the default 120 s.
                env.update(model_server.env(), RAG_OPENAI_TIMEOUT="600")
            app = servers.enter_context(common.app_server(tmp / "data", **env))
            health = common.wait_model_ready(app.url)
            with common.http_client() as client:
                common.ask_stream(client, app.url, pool[-1])  # warm-up: index, embedder, model
            print(f"baseline: 1 client, {args.clients * args.rounds} questions in sequence", flush=True)
            solo, solo_wall = run_clients(app.url, [[q for qs in per_client for q in qs]])
            print(f"concurrent: {args.clients} clients x {args.rounds} questions", flush=True)
            together, together_wall = run_clients(app.url, per_client)

        base, conc = summarize_run(solo, solo_wall), summarize_run(together, together_wall)
        uses_model = args.generator != "extractive"
        waited = [r for r in together if uses_model and waited_for_model(r, together)]
        untold = [r for r in waited if not r["waiting"]]
        told_unfinished = [r for r in together if r["waiting"] and r["error"]]
        rows = []
        for label, s in (("baseline: 1 client, sequential", base), (f"{args.clients} clients at once", conc)):
            rows.append(
                [
                    label,
                    s["answers"],
                    s["errors"],
                    s["answers_per_minute"],
                    s["latency_s"].get("p50"),
                    s["latency_s"].get("p95"),
                    s["time_to_sources_s"].get("p95"),
                    s["waiting_events"],
                ]
            )
        answered_by = "openai: python -m llama_cpp.server" if args.llama_server else args.generator
        common.print_table(
            f"Concurrency through POST /api/ask/stream ({answered_by}; latency in s)",
            ["run", "answers", "errors", "answers/min", "p50", "p95", "sources p95", "waiting"],
            rows,
            2,
        )
        ratio = common.ratio(conc["answers_per_minute"], base["answers_per_minute"])
        print(f"\nthroughput ratio concurrent/baseline: {ratio:.2f}")
        print(
            f"requests that waited for the model (another answer finished between their sources and first token): "
            f"{len(waited)}; "
            f"told with a waiting event: {len(waited) - len(untold)}; not told: {len(untold)}"
        )
        print(f"waiting events received: {conc['waiting_events']} of {len(together)} requests")
        target = conc["errors"] == 0 and not untold and not told_unfinished
        print(f"target (zero errors, every waiting request told): {common.verdict(target)}")
        if args.llama_server:
            print(
                "note: the app does not see the model server's queue (its generator is never busy), so it tells no one"
            )
        for r in sorted(together, key=lambda r: r["events"].get("sources", 0)):
            ev = r["events"]
            print(
                f"  client {r['client']}: sources {ev.get('sources', float('nan')):6.1f} s, "
                f"first token {ev.get('token', float('nan')):6.1f} s, done {ev.get('done', float('nan')):6.1f} s, "
                f"waiting={r['waiting']}, error={r['error']}"
            )

        results = {
            "generator": args.generator,
            "model": health.get("model"),
            "model_server": [Path(part).name if part.startswith("/") else part for part in model_server.command]
            if model_server
            else None,
            "baseline": base,
            "concurrent": conc,
            "throughput_ratio": ratio,
            "waited": len(waited),
            "waited_not_told": len(untold),
            "told_waiting_but_failed": len(told_unfinished),
            "requests": [
                {k: r[k] for k in ("client", "question", "status", "events", "waiting", "error", "total_s") if k in r}
                for r in together
            ],
            "target": "zero errors; every request that waited received a waiting event",
            "target_met": target,
        }
        common.write_results("concurrency.llama-server" if args.llama_server else "concurrency", args, results, started)


if __name__ == "__main__":
    main()
