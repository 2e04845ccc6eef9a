"""Settings → ready-to-use parts: the retriever and the assistant, each part from its factory."""

import sqlite3
import threading
from functools import lru_cache

from chromadb.errors import ChromaError

from rag.assistant import Assistant
from rag.embedders import make_embedder
from rag.generators import Generator, GeneratorError, make_generator
from rag.registry import Registry, lexical_path, registry_path
from rag.retrieval import Fusion, Retriever
from rag.settings import Settings
from rag.store import REBUILD_HINT, IndexUnusableError, open_store


def open_retriever(settings: Settings) -> Retriever:
    embedder = make_embedder(settings.embedder)
    try:
        registry = Registry(registry_path(settings.index_dir))
        if not registry.documents():
            raise IndexUnusableError(f"the index at {settings.index_dir} is empty; fill it with: python -m ingest")
        store = open_store(settings, embedder.name, embedder.dim)
        count = store.count()
    except (sqlite3.DatabaseError, ChromaError) as error:
        reason = " ".join(str(error).split())[:200]
        raise IndexUnusableError(f"the index at {settings.index_dir} is damaged ({reason}); {REBUILD_HINT}") from None
    if count == 0:
        raise IndexUnusableError(f"the index at {store.location()} lists documents but holds no chunks; {REBUILD_HINT}")
    fusion = Fusion(settings.fusion, settings.dense_weight, settings.lexical_weight)
    return Retriever(embedder, store, registry, lexical_path(settings.index_dir), settings.candidates, fusion)


class BackgroundModel:
    """Loads the generator in a thread, so a page is usable while a large model loads."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loaded = threading.Event()
        self._generator: Generator | None = None
        self._error: GeneratorError | None = None
        threading.Thread(target=self._load, name="model-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            self._generator = make_generator(self._settings)
        except GeneratorError as error:
            self._error = error
        finally:
            self._loaded.set()

    def ready(self) -> bool:
        return self._loaded.is_set()

    def get(self, timeout: float | None = None) -> Generator:
        """The loaded generator; GeneratorError when loading failed, TimeoutError when still loading."""
        if not self._loaded.wait(timeout):
            raise TimeoutError("the model is still loading")
        if self._error is not None:
            raise self._error
        assert self._generator is not None
        return self._generator


@lru_cache(maxsize=4)
def shared_model(settings_json: str) -> BackgroundModel:
    """One background-loaded generator per process and settings: the page and the API share it."""
    return BackgroundModel(Settings.model_validate_json(settings_json))


def open_assistant(settings: Settings, generator: Generator | None = None) -> Assistant:
    retriever = open_retriever(settings)
    return Assistant(settings, retriever.embedder, retriever, generator or make_generator(settings))
