"""Answer latency of this code against a baseline commit, in the same run, on the same index
(each speed technique on its own: bench/speed_techniques.py).

What a reader waits for with the default model: time to the first shown token and to the full
answer, for single questions (the gold-set questions about the shipped corpus) and for the turns of
dialogues (tests/eval/conversations.jsonl, those with follow-ups, not the held-out ones, over the
shipped and the evaluation corpus), asked with the history of the answers actually given. Turns
are reported by kind: follow-ups (which refer back and get the model's rewrite), and other later
turns (topic and language switches, unanswerable ones), apart from the dialogues' openings.
Each code version runs in its own worker process (its own `rag` from its own tree, models loaded
once); a question goes to the two one after the other, never at the same time, the order rotated
every question. Targets (issue 16): median first token <= 3 s, median full
answer <= 6 s, p95 <= 12 s; follow-up turns median full answer <= 8 s.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

CONVERSATIONS = common.ROOT / "tests" / "eval" / "conversations.jsonl"
EVAL_CORPUS = common.ROOT / "tests" / "eval" / "corpus"
# Dialogue turns of these kinds are reported by kind; every other later turn as LATER.
TURN_KINDS = ("opening", "followup")
LATER = "later turn"
REPORTED = ("single", *TURN_KINDS, LATER)
TARGETS_S = {"single": 6.0, "followup": 8.0}
FIRST_TOKEN_TARGET_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="aec5904", help="commit to compare with (default: before issue 13)")
    parser.add_argument("--questions", type=int, help="only the first N single questions")
    parser.add_argument("--dialogues", type=int, default=10, help="dialogues with follow-ups to ask")
    parser.add_argument("--quick", action="store_true", help="4 questions and 2 dialogues")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return serve(args.worker, args.data)
    started = time.time()
    common.warn_if_busy()
    singles = [question for question, _ in common.shipped_questions()][: 4 if args.quick else args.questions]
    dialogues = dialogues_with_followups()[: 2 if args.quick else args.dialogues]
    with common.temp_dir() as data, baseline_tree(args.baseline) as old:
        common.ingest_quietly(common.bench_settings(data), [common.ROOT / "corpus", EVAL_CORPUS])
        from rag.models import QWEN_CODER_1_5B, assembled_model_path

        assembled_model_path(QWEN_CODER_1_5B, data / "models")  # once, before both workers load it
        workers = {}
        for name, tree in (("this code", common.ROOT), (f"baseline {args.baseline}", old)):
            workers[name] = Worker(tree, data)
            workers[name].wait_ready()  # one at a time: the two warm-ups would slow each other
        timings = run(workers, singles, dialogues)
        for worker in workers.values():
            worker.close()
    report(timings)
    common.write_results("answer_latency", args, timings, started)


def dialogues_with_followups() -> list[list[tuple[str, str]]]:
    """(question, kind) of every turn of the dialogues that have a follow-up, held-out ones left out."""
    rows = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = [row for row in rows if not row.get("holdout") and any(t["kind"] == "followup" for t in row["turns"])]
    return [[(turn["question"], turn["kind"]) for turn in row["turns"]] for row in chosen]


class baseline_tree:
    """A git worktree of the baseline commit in a temporary folder."""

    def __init__(self, commit: str) -> None:
        self.commit = commit

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="rag-baseline-"))
        subprocess.run(["git", "worktree", "add", "--detach", str(self.path), self.commit], cwd=common.ROOT, check=True)
        return self.path

    def __exit__(self, *_: Any) -> None:
        subprocess.run(["git", "worktree", "remove", "--force", str(self.path)], cwd=common.ROOT, check=False)


class Worker:
    """One code version answering questions sent as JSON lines."""

    def __init__(self, tree: Path, data: Path) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree), "--data", str(data)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
        )

    def wait_ready(self) -> None:
        """Until the worker has loaded its models and answered a warm-up question: a worker still
        warming up would share the cores with the other one's measurements."""
        assert self.process.stdout
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def ask(self, question: str, history: list[dict[str, str]]) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"question": question, "history": history}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        common.stop(self.process)


def serve(tree: Path, data: Path) -> None:
    """Worker: answer each question on stdin with its timings, with this tree's own `rag`."""
    sys.path.insert(0, str(tree))
    from rag.assistant import Done, Token
    from rag.components import open_assistant

    assistant = open_assistant(common.bench_settings(data))
    assistant.ask("Was ist Marketing?")  # loads every model before the first measurement
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started, first = time.perf_counter(), None
        for event in assistant.stream(request["question"], request["history"]):
            if isinstance(event, Token) and first is None:
                first = time.perf_counter() - started
            if isinstance(event, Done):
                answer = event.answer.answer
        total = time.perf_counter() - started
        print(json.dumps({"first_token_s": first or total, "total_s": total, "answer": answer}), flush=True)


def run(workers: dict[str, Worker], singles: list[str], dialogues: list[list[tuple[str, str]]]) -> dict[str, Any]:
    timings: dict[str, Any] = {name: {**{kind: [] for kind in REPORTED}, "answers": []} for name in workers}
    order = list(workers)
    for question in singles:
        order = order[1:] + order[:1]
        for name in order:
            reply = workers[name].ask(question, [])
            print(f"{name}: {reply['total_s']:.1f} s · {question}", file=sys.stderr, flush=True)
            timings[name]["single"].append(reply)
            timings[name]["answers"].append([question, reply["answer"]])
    for turns in dialogues:
        order = order[1:] + order[:1]
        for name in order:
            history: list[dict[str, str]] = []
            for question, kind in turns:
                reply = workers[name].ask(question, history)
                print(f"{name}: {reply['total_s']:.1f} s · {kind} · {question}", file=sys.stderr, flush=True)
                timings[name][kind if kind in TURN_KINDS else LATER].append(reply)
                history += [{"role": "user", "content": question}, {"role": "assistant", "content": reply["answer"]}]
    return timings


def report(timings: dict[str, Any]) -> None:
    rows = []
    for name, kinds in timings.items():
        for kind in REPORTED:
            firsts = common.summarize([r["first_token_s"] for r in kinds[kind]])
            totals = common.summarize([r["total_s"] for r in kinds[kind]])
            measured = name == "this code" and kind in TARGETS_S
            met = common.verdict(_meets(kind, firsts, totals)) if measured else "compared"
            rows.append([name, kind, firsts["n"], firsts.get("p50"), totals.get("p50"), totals.get("p95"), met])
    headers = ["code", "questions", "n", "first token p50 s", "full answer p50 s", "full answer p95 s", "target"]
    common.print_table("Answer latency, default model", headers, rows)


def _meets(kind: str, firsts: dict[str, Any], totals: dict[str, Any]) -> bool:
    if kind == "followup":
        return totals.get("p50", 0) <= TARGETS_S[kind]
    return (
        firsts.get("p50", 0) <= FIRST_TOKEN_TARGET_S
        and totals.get("p50", 0) <= TARGETS_S[kind]
        and (totals.get("p95", 0) <= 2 * TARGETS_S[kind])
    )


if __name__ == "__main__":
    main()
