"""Ingest into a real Chroma server (`chroma run`) instead of the embedded index."""

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from helpers import free_port, run_ingest, stop_process

from ingest.documents import SUPPORTED_SUFFIXES
from rag.settings import PROJECT_ROOT, Settings

CHROMA = PROJECT_ROOT / ".venv" / "bin" / "chroma"
CORPUS = PROJECT_ROOT / "corpus"
STARTUP_SECONDS = 60
# Straight to 127.0.0.1, whatever proxy the environment names.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class ChromaServer:
    process: subprocess.Popen
    port: int
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def heartbeat_answers(port: int) -> bool:
    try:
        with LOCAL.open(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: run `make test` to install the venv")
    port = free_port()
    log = tmp_path / "chroma.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ChromaServer(process, port, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not heartbeat_answers(port):
            if process.poll() is not None:
                pytest.fail(f"chroma run exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no heartbeat from chroma on port {port} after {STARTUP_SECONDS} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        stop_process(process)
        assert process.poll() is not None, f"chroma server (pid {process.pid}) is still running"


def test_ingest_into_chroma_server(
    chroma_server: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("RAG_CHROMA_PORT", str(chroma_server.port))
    settings = Settings()
    assert (settings.chroma_host, settings.chroma_port) == ("127.0.0.1", chroma_server.port)
    files = [
        path
        for path in CORPUS.rglob("*")
        if path.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(CORPUS).parts)
    ]
    assert files, f"no articles in {CORPUS}"

    report, lines = run_ingest(settings, [CORPUS])

    assert (report.added, report.failed, report.updated) == (len(files), 0, 0), lines
    assert report.chunks_written > 0
    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_server.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(settings.collection)
    assert collection.count() == report.chunks_written
    stored = collection.get(include=["metadatas"])
    assert {meta["source"] for meta in stored["metadatas"]} == {str(p.relative_to(PROJECT_ROOT)) for p in files}
    # The server holds the vectors; no embedded index was created beside the registry.
    assert not (settings.index_dir / "chroma").exists()

    again, lines = run_ingest(settings, [CORPUS])

    assert (again.unchanged, again.added, again.updated, again.failed) == (len(files), 0, 0, 0), lines
    assert again.chunks_written == 0
    assert collection.count() == report.chunks_written
    assert chroma_server.process.poll() is None, chroma_server.log_tail()
