"""Every test gets its own data folder (index, caches) and no RAG_ setting from the caller's shell."""

import os
from pathlib import Path

import pytest

from rag.settings import Settings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def settings() -> Settings:
    return Settings()
