"""Memory of the serving process: peak RSS after N questions via POST /api/ask, and RSS after question
N/2 against after question N (it should not grow).

The real server (tests/helpers.AppServer: `streamlit run app.py`) on a loopback port, over a fresh
index of the shipped corpus, with the default generator and the packaged default model
(RAG_MODEL_PATH points at the already assembled file in data/models, so no 1.1 GB copy is made),
RAG_RATE_LIMIT_PER_MINUTE=1000. RSS is read from /proc for the server process and its children,
after every answer and by a sampler every --interval seconds; the peak is the larger of the sampled
maximum and the kernel's high-water mark (VmHWM) of the server process.
Baseline, in the same run: RSS right after start-up with the model loaded and one warm-up question
answered (the first question opens the index and the embedder). Target: peak <= 2.5 GiB.
"""

import argparse
import threading
import time

import common
import numpy as np

TARGET_MB = 2.5 * 1024


class Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb, self.samples = pid, interval, 0.0, 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                self.peak_mb = max(self.peak_mb, common.tree_rss_mb(self.pid))
                self.samples += 1
            except OSError:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20, help="questions after the warm-up (default 20)")
    parser.add_argument("--generator", default="llama", help="RAG_GENERATOR (default llama)")
    parser.add_argument("--max-answer-tokens", type=int, help="RAG_MAX_ANSWER_TOKENS (default: product default)")
    parser.add_argument("--interval", type=float, default=0.2, help="RSS sampling interval, s (default 0.2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 questions, answers of at most 32 tokens")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.max_answer_tokens = 4, args.max_answer_tokens or 32
    started = time.time()
    common.warn_if_busy()
    questions = [q for q, _ in common.shipped_questions()]

    with common.temp_dir(args.keep) as tmp:
        common.index_shipped_corpus(tmp / "data")
        env = common.server_env(args.generator, args.max_answer_tokens)
        with common.app_server(tmp / "data", **env) as app, common.http_client() as client:
            pid = app.process.pid
            rss = {"started": common.tree_rss_mb(pid)}
            health = common.wait_model_ready(app.url)
            rss["model_loaded"] = common.tree_rss_mb(pid)
            sampler = Sampler(pid, args.interval)
            sampler.start()
            warmup = common.ask_json(client, app.url, questions[0])
            rss["baseline_after_warmup"] = common.tree_rss_mb(pid)
            after, answers = [], []
            for number in range(1, args.questions + 1):
                answer = common.ask_json(client, app.url, questions[number % len(questions)])
                answers.append(answer)
                after.append(common.tree_rss_mb(pid))
                print(
                    f"  question {number:2}: HTTP {answer['status']} in {answer['seconds']:.1f} s, "
                    f"RSS {after[-1]:.0f} MB",
                    flush=True,
                )
            sampler.halt.set()
            sampler.join()
            hwm = common.peak_rss_mb(pid)
            children = len(common.process_tree(pid)) - 1

        half = args.questions // 2
        peak = max(sampler.peak_mb, hwm, *after)
        growth = after[-1] - after[half - 1] if half else float("nan")
        errors = [a for a in [warmup, *answers] if a["error"]]
        rows = [
            ["after start-up (model still loading)", rss["started"], float("nan")],
            ["model loaded (GET /api/health ready)", rss["model_loaded"], float("nan")],
            ["baseline: after the warm-up question", rss["baseline_after_warmup"], 1.0],
            [f"after question {half}", after[half - 1] if half else float("nan"), float("nan")],
            [f"after question {args.questions}", after[-1], float("nan")],
            ["peak (sampled max, VmHWM)", peak, common.ratio(peak, rss["baseline_after_warmup"])],
        ]
        rows[3][2] = common.ratio(rows[3][1], rss["baseline_after_warmup"])
        rows[4][2] = common.ratio(after[-1], rss["baseline_after_warmup"])
        common.print_table(
            f"Serving process memory, RSS in MB ({args.generator}; process + {children} children)",
            ["moment", "RSS MB", "x baseline"],
            rows,
            2,
        )
        slope = float(np.polyfit(range(len(after)), after, 1)[0]) if len(after) > 1 else float("nan")
        print(f"\ngrowth from question {half} to {args.questions}: {growth:+.1f} MB; trend {slope:+.2f} MB/question")
        print(f"peak {peak / 1024:.2f} GiB; target <= 2.5 GiB: {common.verdict(peak <= TARGET_MB)}")
        print(f"errors: {len(errors)}; model: {health.get('model')}")

        results = {
            "generator": args.generator,
            "model": health.get("model"),
            "rss_mb": rss,
            "rss_after_each_question_mb": after,
            "growth_half_to_end_mb": growth,
            "growth_trend_mb_per_question": slope,
            "peak_mb": peak,
            "vmhwm_mb": hwm,
            "sampled_peak_mb": sampler.peak_mb,
            "samples": sampler.samples,
            "answer_seconds": [a["seconds"] for a in answers],
            "errors": [a["error"] for a in errors],
            "target": "peak RSS <= 2.5 GiB, no growth from question 10 to 20",
            "target_met": peak <= TARGET_MB,
        }
        common.write_results("memory", args, results, started)


if __name__ == "__main__":
    main()
