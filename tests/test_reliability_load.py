"""Load (issue #7): the real server (`streamlit run app.py`, as the README starts it, here bound to
127.0.0.1) under 50 concurrent POST /api/ask with the extractive generator, and 8 with the default
model (slow). Every request is answered 200 or refused cleanly (429/503 with Retry-After), the server
stays up, and its memory after the load is within 10 % of before (after a warm-up).
"""

import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import AppServer, free_port, indexed_settings

from rag.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
QUESTIONS = [
    "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?",
    "What can marketing learn from sales?",
    "Was ist Job-Rotation zwischen Marketing und Vertrieb?",
    "Warum arbeiten Marketing und Vertrieb oft gegeneinander?",
    "How do marketing and sales share information?",
]
# Answered "not covered" right after retrieval: ~0.3 s each instead of ~3 s on this 2-core machine.
OFF_TOPIC = [
    "Wie backe ich Brot?",
    "Wie wird das Wetter morgen in Hamburg?",
    "What is the capital of France?",
    "Wann fährt der nächste Zug nach Köln?",
    "How do I change a bicycle tyre?",
]


class LoopbackServer(AppServer):
    """helpers.AppServer, but listening on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"app-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "streamlit", "run", "app.py"]
        command += ["--server.port", str(self.port), "--server.address", "127.0.0.1"]
        environment = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
        environment |= {"RAG_DATA_DIR": str(data_dir), **env}
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


@dataclass
class Result:
    status: int
    seconds: float
    retry_after: str | None
    body: dict


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy


def post(url: str, question: str, timeout: float) -> Result:
    data = json.dumps({"question": question}).encode()
    request = urllib.request.Request(f"{url}/api/ask", data=data, headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with OPENER.open(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return Result(status, time.monotonic() - started, headers.get("Retry-After"), json.loads(body))


def check(result: Result, question: str) -> str:
    if result.status == 200:
        assert result.body["question"] == question and result.body["answer"].strip()
        return "200"
    assert result.status in (429, 503), result
    assert result.retry_after and result.retry_after.isdigit(), result
    assert set(result.body) == {"error", "message"}
    return str(result.status)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load(server: LoopbackServer, requests: int, workers: int, timeout: float, on_topic: int | None = None) -> dict:
    """`requests` questions, `workers` at a time; `on_topic` of them need a full answer (default: all)."""
    on_topic = requests if on_topic is None else on_topic
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(on_topic)]
    questions += [OFF_TOPIC[n % len(OFF_TOPIC)] for n in range(requests - on_topic)]
    random.Random(requests).shuffle(questions)
    barrier = threading.Barrier(workers)

    def one(question: str) -> Result:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)  # the first `workers` requests leave together
        return post(server.url, question, timeout)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, questions))
    seconds = time.monotonic() - started
    outcomes = [check(result, question) for result, question in zip(results, questions, strict=True)]
    latencies = [result.seconds for result in results]
    return {
        "requests": requests,
        "concurrency": workers,
        "seconds": round(seconds, 1),
        "outcomes": {name: outcomes.count(name) for name in sorted(set(outcomes))},
        "errors": sum(1 for name in outcomes if name != "200"),
        "p50_s": round(statistics.median(latencies), 2),
        "p95_s": round(percentile(latencies, 0.95), 2),
        "max_s": round(max(latencies), 2),
    }


def record(name: str, figures: dict) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "reliability_load.json"
    everything = json.loads(path.read_text()) if path.exists() else {}
    everything[name] = figures
    path.write_text(json.dumps(everything, indent=2, ensure_ascii=False))
    print(f"\n{name}: {figures}")


def warm_up(server: LoopbackServer, timeout: float, count: int = len(QUESTIONS)) -> None:
    """Lazy loading (retriever, BM25, model) is not counted: some questions one at a time first."""
    for question in QUESTIONS[:count]:
        result = post(server.url, question, timeout)
        assert result.status == 200, result


def still_up(server: LoopbackServer) -> None:
    assert server.process.poll() is None, "the server died under load"
    health = OPENER.open(f"{server.url}/api/health", timeout=30)
    assert health.status == 200 and json.loads(health.read())["status"] == "ok"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_settings(tmp_path_factory.mktemp("load") / "data").data_dir


def test_fifty_concurrent_questions_are_all_answered(data_dir: Path) -> None:
    """50 at once, 10 of them needing a full extractive answer (all 50 of those: the slow test below)."""
    with LoopbackServer(data_dir, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="1000") as server:
        warm_up(server, timeout=300)
        time.sleep(1)
        before = server.rss_mb()
        figures = load(server, requests=50, workers=50, timeout=300, on_topic=10)
        time.sleep(2)
        figures |= {"rss_before_mb": round(before), "rss_after_mb": round(server.rss_mb())}
        still_up(server)
    record("extractive, 50 concurrent, 10 on topic (first burst)", figures)
    assert figures["outcomes"].get("200", 0) + figures["errors"] == 50
    assert figures["outcomes"].get("200", 0) >= 40, "most questions should be answered, not refused"
    # The first burst raises the allocator's high-water mark once (about +60 % here: 40 worker threads
    # answering at once); the 10 % criterion is checked across repeated bursts in the slow test below.
    assert figures["rss_after_mb"] <= 2 * figures["rss_before_mb"], figures


@pytest.mark.slow
def test_memory_returns_within_ten_percent_after_repeated_concurrent_load(data_dir: Path) -> None:
    with LoopbackServer(data_dir, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="1000") as server:
        warm_up(server, timeout=300)
        burst = load(server, requests=50, workers=50, timeout=600)  # warm-up: the pool and allocator grow once
        time.sleep(2)
        before = server.rss_mb()
        rounds = []
        for _ in range(2):
            rounds.append(load(server, requests=50, workers=50, timeout=600))
            time.sleep(2)
            rounds[-1]["rss_mb"] = round(server.rss_mb())
        still_up(server)
    figures = {"warm_up_burst": burst, "rss_before_mb": round(before), "rounds": rounds}
    record("extractive, 2 x 50 concurrent after a warm-up burst", figures)
    assert all(r["errors"] == 0 for r in rounds)
    assert max(r["rss_mb"] for r in rounds) <= before * 1.10, figures


def test_over_the_rate_limit_concurrent_questions_are_refused_cleanly(data_dir: Path) -> None:
    with LoopbackServer(data_dir, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="10") as server:
        warm_up(server, timeout=300, count=1)
        figures = load(server, requests=30, workers=30, timeout=300)
        still_up(server)
    record("extractive, 30 concurrent over a limit of 10/min", figures)
    assert figures["outcomes"] == {"200": 9, "429": 21}


def test_concurrent_first_questions_to_a_fresh_server_are_answered(data_dir: Path) -> None:
    with LoopbackServer(data_dir, RAG_GENERATOR="extractive", RAG_RATE_LIMIT_PER_MINUTE="1000") as server:
        try:
            figures = load(server, requests=12, workers=12, timeout=300)
        finally:
            log = server.log.read_text(errors="replace")
        still_up(server)
    record("extractive, 12 concurrent first requests to a fresh server", figures)
    assert figures["outcomes"] == {"200": 12}, log[-2000:]


@pytest.mark.slow
def test_eight_concurrent_questions_to_the_default_model(data_dir: Path) -> None:
    from rag.models import QWEN_CODER_1_5B, assembled_model_path

    model = assembled_model_path(QWEN_CODER_1_5B, PROJECT_ROOT / "data" / "models")
    with LoopbackServer(data_dir, RAG_MODEL_PATH=str(model), RAG_RATE_LIMIT_PER_MINUTE="1000") as server:
        warm_up(server, timeout=900, count=1)
        time.sleep(1)
        before = server.rss_mb()
        figures = load(server, requests=8, workers=8, timeout=1800)
        time.sleep(2)
        figures |= {"rss_before_mb": round(before), "rss_after_mb": round(server.rss_mb())}
        still_up(server)
    record("default model (Qwen 1.5B), 8 concurrent", figures)
    assert figures["outcomes"].get("200", 0) + figures["errors"] == 8
    assert figures["outcomes"].get("200", 0) >= 1
    assert figures["rss_after_mb"] <= figures["rss_before_mb"] * 1.10, figures
