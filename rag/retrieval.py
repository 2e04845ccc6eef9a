"""Question → passages: dense search in the store plus BM25, for the question and its translation, fused.

Fusion is a weighted sum of normalised scores by default (`RAG_FUSION=weighted`): on the gold set
it ranks better than reciprocal-rank fusion (`RAG_FUSION=rrf`, kept for comparison); see README.
"""

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embedders import Embedder
from rag.lexical import LexicalIndex
from rag.registry import DocumentRecord, Registry, chunk_id, content_key
from rag.store import StoredChunk, VectorStore

# Part of the lexical fingerprint: a saved index of an older format (chunk-level word counts, copies of
# one content counted apart) is rebuilt.
LEXICAL_FORMAT = "document-frequency-by-document;one-entry-per-content;"
RRF_K = 60  # the usual reciprocal-rank constant: dampens the head of each list


@dataclass(frozen=True)
class Query:
    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Fusion:
    method: str  # "weighted" or "rrf"
    dense_weight: float
    lexical_weight: float


def citation_fields(metadata: dict[str, Any]) -> dict[str, str]:
    """The fields a source is cited by: the quotable ones and its source."""
    return {**quotable_fields(metadata), "source": str(metadata.get("source") or "")}


def quotable_fields(metadata: dict[str, Any]) -> dict[str, str]:
    """Title, author and date, which an answer may quote too; not the source, whose path or address
    has digits no answer takes from it ("pytest-36", "/2023/05/")."""
    return {key: str(metadata.get(key) or "") for key in ("title", "author", "date")}


@dataclass
class Passage:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float  # fused score
    dense_score: float  # best cosine similarity to any query; 0.0 when only BM25 found it
    lexical_score: float  # best BM25 score; 0.0 when only dense search found it

    def to_json(self) -> dict[str, Any]:
        meta = self.metadata
        return {
            "text": self.text,
            "source": meta.get("source"),
            "title": meta.get("title"),
            "author": meta.get("author"),
            "date": meta.get("date"),
            "kind": meta.get("kind"),
            "lang": meta.get("lang"),
            "heading": meta.get("heading"),
            "page": meta.get("page"),
            "url": meta.get("url"),
            "chunk_id": self.chunk_id,
            "score": round(self.score, 4),
            "dense_score": round(self.dense_score, 4),
            "lexical_score": round(self.lexical_score, 4),
        }


class Retriever:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        registry: Registry,
        lexical_dir: Path,
        candidates: int,
        fusion: Fusion,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.registry = registry
        self.lexical_dir = lexical_dir
        self.candidates = candidates
        self.fusion = fusion
        self._lexical: LexicalIndex | None = None
        self._current: dict[str, str] = {}
        self._registry_version: int | None = None
        self._lock = threading.Lock()

    def search(self, queries: list[Query], k: int) -> list[Passage]:
        """The k best passages for the queries, fused. Chunks are told apart by their content: the same
        file ingested from two places (a moved project, a second checkout) is one passage, not two."""
        lexical, current = self._refresh()
        fused: dict[str, float] = {}
        found: dict[str, StoredChunk] = {}
        lexical_ids: dict[str, str] = {}
        best_dense: dict[str, float] = {}
        best_lexical: dict[str, float] = {}
        for query in queries:
            dense: dict[str, StoredChunk] = {}
            for hit in self.store.query(self.embedder.embed_query(query.text), self.candidates):
                if _is_current(hit, current):
                    dense.setdefault(content_key(hit.chunk_id), hit)
            matched = lexical.search(query.text, self.candidates)
            lexical_ids.update((content_key(cid), cid) for cid, _ in matched)
            lexical_hits = [(content_key(cid), score) for cid, score in matched]
            for key, hit in dense.items():
                found.setdefault(key, hit)
                best_dense[key] = max(best_dense.get(key, 0.0), hit.score)
            for key, score in lexical_hits:
                best_lexical[key] = max(best_lexical.get(key, 0.0), score)
            scores = self._fuse([(key, hit.score) for key, hit in dense.items()], lexical_hits)
            for key, score in scores.items():
                fused[key] = fused.get(key, 0.0) + query.weight * score
        top = sorted(fused, key=lambda key: (-fused[key], -best_dense.get(key, 0.0)))[:k]
        missing = [lexical_ids[key] for key in top if key not in found]
        if missing:
            found.update({content_key(chunk.chunk_id): chunk for chunk in self.store.get(missing)})
        return [
            Passage(
                found[key].chunk_id,
                found[key].text,
                found[key].metadata,
                fused[key],
                best_dense.get(key, 0.0),
                best_lexical.get(key, 0.0),
            )
            for key in top
            if key in found
        ]

    def following(self, passage: Passage) -> Passage | None:
        """The chunk after `passage` in its document, unscored."""
        meta = passage.metadata
        if not {"doc_id", "content_hash", "chunk"} <= meta.keys():
            return None
        chunks = self.store.get([chunk_id(meta["doc_id"], meta["content_hash"], int(meta["chunk"]) + 1)])
        return Passage(chunks[0].chunk_id, chunks[0].text, chunks[0].metadata, 0.0, 0.0, 0.0) if chunks else None

    def document_frequency(self, token: str) -> int:
        """In how many current documents a (tokenized) word occurs."""
        lexical, _ = self._refresh()
        return lexical.document_frequency.get(token, 0)

    def _fuse(self, dense: list[tuple[str, float]], lexical: list[tuple[str, float]]) -> dict[str, float]:
        fusion = self.fusion
        scores: dict[str, float] = {}
        if fusion.method == "rrf":
            for ranking in (dense, lexical):
                for rank, (cid, _) in enumerate(ranking):
                    scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            return scores
        for ranking, weight in ((dense, fusion.dense_weight), (lexical, fusion.lexical_weight)):
            for cid, normalised in _min_max(ranking).items():
                scores[cid] = scores.get(cid, 0.0) + weight * normalised
        return scores

    def _refresh(self) -> tuple[LexicalIndex, dict[str, str]]:
        """Follow the registry: the current document versions, and a lexical index that matches them.

        The registry is only re-read after an ingest (another connection) has committed to it.
        """
        with self._lock:
            version = self.registry.version()
            if self._lexical is not None and version == self._registry_version:
                return self._lexical, self._current
            documents = self.registry.documents()
            if self._lexical is None or self._lexical.fingerprint != lexical_fingerprint(documents):
                self._lexical = current_lexical_index(self.store, documents, self.lexical_dir)
            self._current = {doc_id: record.content_hash for doc_id, record in documents.items()}
            self._registry_version = version
            return self._lexical, self._current


def current_lexical_index(store: VectorStore, documents: dict[str, DocumentRecord], folder: Path) -> LexicalIndex:
    """The saved BM25 index if it matches the registry's documents, else one built from the store and saved."""
    fingerprint = lexical_fingerprint(documents)
    loaded = LexicalIndex.load(folder)
    if loaded is not None and loaded.fingerprint == fingerprint:
        return loaded
    current = {doc_id: record.content_hash for doc_id, record in documents.items()}
    chunks: dict[str, tuple[str, str, str]] = {}  # by content: a second copy must not count its words twice
    for chunk in store.all_chunks():
        if _is_current(chunk, current):
            text = lexical_text(chunk.metadata, chunk.text)
            chunks.setdefault(content_key(chunk.chunk_id), (chunk.chunk_id, str(chunk.metadata.get("doc_id")), text))
    built = LexicalIndex.build(chunks.values(), fingerprint)
    built.save(folder)
    return built


def _is_current(chunk: StoredChunk, current: dict[str, str]) -> bool:
    """The chunk belongs to its document's version the registry lists (`current`: doc id → content hash);
    a run killed between storing chunks and updating the registry may leave others behind."""
    return current.get(chunk.metadata.get("doc_id")) == chunk.metadata.get("content_hash")


def _min_max(ranking: list[tuple[str, float]]) -> dict[str, float]:
    """Scores mapped onto 0..1 between the weakest and the strongest candidate of one list."""
    if not ranking:
        return {}
    values = [score for _, score in ranking]
    low, high = min(values), max(values)
    if high <= low:
        return {chunk_id: 1.0 for chunk_id, _ in ranking}
    return {chunk_id: (score - low) / (high - low) for chunk_id, score in ranking}


def lexical_text(metadata: dict[str, Any], text: str) -> str:
    """Title and heading count as words of the chunk, as they do for the embedder."""
    return " ".join(part for part in (metadata.get("title"), metadata.get("heading"), text) if part)


def lexical_fingerprint(documents: dict[str, DocumentRecord]) -> str:
    """Names the exact chunk set: each document's id, content hash and chunk count."""
    digest = hashlib.sha256(LEXICAL_FORMAT.encode())
    for doc_id in sorted(documents):
        record = documents[doc_id]
        digest.update(f"{doc_id}:{record.content_hash}:{record.chunk_count};".encode())
    return digest.hexdigest()
