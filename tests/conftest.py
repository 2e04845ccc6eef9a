"""Every test gets its own data folder (index, caches) and no RAG_ setting from the caller's shell."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, indexed_settings
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, sync_playwright

from rag.settings import Settings

# CI runs the property tests on a fixed seed, so a submission lands or fails on its own code; a
# developer's runs keep drawing new examples (and print how to reproduce any failure).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One index of the shipped corpus for the tests that only ask questions of it."""
    return indexed_settings(tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright through executable_path (no browser download)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
