"""The vector index: Chroma, embedded in the index folder or as a server (`chroma run`)."""

import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rag.settings import Settings

REBUILD_HINT = "rebuild it with: python -m ingest --rebuild"


class IndexUnusableError(Exception):
    """The index cannot be used as it is; the message says what to run."""


class IndexMismatchError(IndexUnusableError):
    pass


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity for a query; 0.0 when not from a query


class VectorStore(Protocol):
    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]
    ) -> None: ...

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def delete_document(self, doc_id: str) -> None:
        """Remove all of a document's chunks."""
        ...

    def query(self, vector: np.ndarray, k: int) -> list[StoredChunk]: ...

    def count(self) -> int: ...

    def all_chunks(self) -> list[StoredChunk]: ...

    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...

    def document_chunks(self, doc_id: str) -> list[StoredChunk]: ...

    def location(self) -> str: ...


def check_embedder(recorded_name: str, recorded_dim: int | None, name: str, dim: int | None, where: str) -> None:
    """Refuse to mix vectors of two embedders in one index."""
    if recorded_name != name or (dim is not None and recorded_dim is not None and recorded_dim != dim):
        raise IndexMismatchError(
            f"the index at {where} was built with embedder {recorded_name!r}"
            f"{f' ({recorded_dim} dimensions)' if recorded_dim else ''}, but RAG_EMBEDDER is {name!r}; "
            f"{REBUILD_HINT} (or set RAG_EMBEDDER={recorded_name!r})"
        )


class ChromaStore:
    def __init__(self, client: Any, collection_name: str, where: str, embedder_name: str, dim: int) -> None:
        self._client = client
        self._where = where
        existing = {collection.name for collection in client.list_collections()}
        if collection_name in existing:
            self._collection = client.get_collection(collection_name, embedding_function=None)
            recorded = self._collection.metadata or {}
            check_embedder(recorded.get("embedder", "?"), recorded.get("dim"), embedder_name, dim, where)
        else:
            self._collection = client.create_collection(
                collection_name,
                metadata={"embedder": embedder_name, "dim": dim},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        self._max_batch = client.get_max_batch_size()

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(texts[start:end]),
                metadatas=[_chroma_metadata(m) for m in metadatas[start:end]],
            )

    def _batches(self, ids: Sequence[str]) -> Iterator[list[str]]:
        for start in range(0, len(ids), self._max_batch):
            yield list(ids[start : start + self._max_batch])

    def delete_ids(self, ids: Sequence[str]) -> None:
        for batch in self._batches(ids):
            self._collection.delete(ids=batch)

    def delete_document(self, doc_id: str) -> None:
        self._collection.delete(where={"doc_id": doc_id})

    def query(self, vector: np.ndarray, k: int) -> list[StoredChunk]:
        result = self._collection.query(
            query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"]
        )
        return [
            StoredChunk(chunk_id, text, dict(metadata or {}), 1.0 - float(distance))
            for chunk_id, text, metadata, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]

    def count(self) -> int:
        return self._collection.count()

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        chunks = []
        for batch in self._batches(ids):
            chunks += _stored_chunks(self._collection.get(ids=batch, include=["documents", "metadatas"]))
        return chunks

    def document_chunks(self, doc_id: str) -> list[StoredChunk]:
        return _stored_chunks(self._collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"]))

    def all_chunks(self) -> list[StoredChunk]:
        chunks = []
        for offset in range(0, self.count(), self._max_batch):
            page = self._collection.get(include=["documents", "metadatas"], limit=self._max_batch, offset=offset)
            chunks += _stored_chunks(page)
        return chunks

    def location(self) -> str:
        return self._where


def _stored_chunks(page: dict) -> list[StoredChunk]:
    """A Chroma `get` result (ids, documents, metadatas) as chunks."""
    return [
        StoredChunk(chunk_id, text, dict(metadata or {}), 0.0)
        for chunk_id, text, metadata in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
    ]


def _chroma_metadata(metadata: dict) -> dict:
    """Chroma stores no None values: leave the key out instead."""
    return {key: value for key, value in metadata.items() if value is not None}


def open_store(settings: Settings, embedder_name: str, dim: int) -> VectorStore:
    """The store the settings name: a Chroma server when RAG_CHROMA_HOST is set, else embedded Chroma."""
    client, where = _chroma_client(settings)
    return ChromaStore(client, settings.collection, where, embedder_name, dim)


def reset_store(settings: Settings) -> None:
    """Delete the collection; an embedded index folder too damaged to open is removed instead."""
    try:
        client, _ = _chroma_client(settings)
        if settings.collection in {collection.name for collection in client.list_collections()}:
            client.delete_collection(settings.collection)
    except Exception:
        if settings.chroma_host:
            raise
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        shutil.rmtree(settings.index_dir / "chroma", ignore_errors=True)


def _chroma_client(settings: Settings) -> tuple[Any, str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        where = f"chroma server {settings.chroma_host}:{settings.chroma_port}, collection {settings.collection!r}"
        return client, where
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings), str(settings.index_dir)
