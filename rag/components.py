"""Settings → ready-to-use parts: the retriever and the assistant, each part from its factory."""

from rag.assistant import Assistant
from rag.embedders import make_embedder
from rag.generators import Generator, make_generator
from rag.registry import Registry, lexical_path, registry_path
from rag.retrieval import Fusion, Retriever
from rag.settings import Settings
from rag.store import REBUILD_HINT, IndexUnusableError, open_store


def open_retriever(settings: Settings) -> Retriever:
    registry = Registry(registry_path(settings.index_dir))
    if not registry.documents():
        raise IndexUnusableError(f"the index at {settings.index_dir} is empty; fill it with: python -m ingest")
    embedder = make_embedder(settings.embedder)
    store = open_store(settings, embedder.name, embedder.dim)
    if store.count() == 0:
        raise IndexUnusableError(f"the index at {store.location()} lists documents but holds no chunks; {REBUILD_HINT}")
    fusion = Fusion(settings.fusion, settings.dense_weight, settings.lexical_weight)
    return Retriever(embedder, store, registry, lexical_path(settings.index_dir), settings.candidates, fusion)


def open_assistant(settings: Settings, generator: Generator | None = None) -> Assistant:
    retriever = open_retriever(settings)
    return Assistant(settings, retriever.embedder, retriever, generator or make_generator(settings))
