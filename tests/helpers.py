"""Shared test helpers: run ingest in-process or as the CLI, and read back what the index holds."""

import os
import subprocess
import sys
from pathlib import Path

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
