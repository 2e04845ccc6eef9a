"""llama.cpp builds compared: prompt processing and generation speed of the default model under two
or more llama-cpp-python installs, e.g. the Makefile's build against an AVX2-only one.

Each build is an install folder (`pip install --target DIR llama-cpp-python`, or a venv's
site-packages) measured in its own worker process, with that folder first on the import path; the
builds take turns, round after round. The prompt is the start of the shipped article (~600 tokens,
about what one passage of an answer prompt is); generation is 40 greedy tokens after it. Figures are
medians; the first build listed is the baseline of the ratios.

    .venv/bin/python bench/llama_build.py --build avx2=/tmp/llama-avx2 --build make=.venv/lib/python3.11/site-packages
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import common

PROMPT_CHARS = 2400
GENERATED_TOKENS = 40


def measure(model: str, rounds: int) -> dict[str, list[float]]:
    """Worker: tokens per second of prompt processing and of generation, one value per round."""
    from llama_cpp import Llama

    llama = Llama(model, n_ctx=4096, n_threads=len(os.sched_getaffinity(0)), verbose=False)
    text = common.SEED_ARTICLE.read_text()[:PROMPT_CHARS]
    figures: dict[str, list[float]] = {"prompt_tok_s": [], "generate_tok_s": []}
    for n in range(rounds):
        llama.reset()
        tokens = llama.tokenize(f"{n} {text}".encode())  # a new first token: no cached prefix
        _, seconds = common.timed(llama.eval, tokens)
        figures["prompt_tok_s"].append(len(tokens) / seconds)
        started, generated = time.perf_counter(), 0
        for _token in llama.generate(llama.tokenize(b" Zusammenfassung:", add_bos=False), temp=0.0, reset=False):
            generated += 1
            if generated == GENERATED_TOKENS:
                break
        figures["generate_tok_s"].append(generated / (time.perf_counter() - started))
    return figures


def run_worker(folder: str, model: str, rounds: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, str(common.ROOT)])}
    command = [sys.executable, __file__, "--worker", "--model", model, "--rounds", str(rounds)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append", default=[], help="NAME=FOLDER, the first is the baseline")
    parser.add_argument("--turns", type=int, default=3, help="turns each build takes (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="prompts measured per turn (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 turn of 1 round")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.model, args.rounds)))
        return
    if len(args.build) < 2:
        parser.error("give at least two --build NAME=FOLDER")
    if args.quick:
        args.turns, args.rounds = 1, 1
    started = time.time()
    common.warn_if_busy()
    builds = dict(build.split("=", 1) for build in args.build)
    model = str(common.default_model_file())
    figures: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in builds}
    for _turn in range(args.turns):
        for name, folder in builds.items():
            for key, values in run_worker(folder, model, args.rounds).items():
                figures[name][key] += values
    medians = {name: {key: statistics.median(v) for key, v in f.items()} for name, f in figures.items()}
    baseline = medians[next(iter(builds))]
    common.print_table(
        "llama.cpp builds, default model, tokens/s (median)",
        ["build", "prompt", "ratio", "generation", "ratio"],
        [
            [
                name,
                m["prompt_tok_s"],
                common.ratio(m["prompt_tok_s"], baseline["prompt_tok_s"]),
                m["generate_tok_s"],
                common.ratio(m["generate_tok_s"], baseline["generate_tok_s"]),
            ]
            for name, m in medians.items()
        ],
        digits=2,
    )
    common.write_results("llama_build", args, {"builds": builds, "medians": medians, "all": figures}, started)


if __name__ == "__main__":
    main()
