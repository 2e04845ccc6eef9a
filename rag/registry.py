"""The document registry: which file version each indexed document is, in SQLite beside the index.

Chunk ids carry the content hash, so the registry row decides which version of a document is
current; `pending` lists documents whose chunks are being replaced, and `removing` documents whose
rows are gone but whose chunks may not be, for clean-up after a crash.
"""

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS removing (doc_id TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str
    source: str
    title: str
    content_hash: str
    chunk_count: int
    ingested_at: str

    def chunk_ids(self) -> list[str]:
        return [chunk_id(self.doc_id, self.content_hash, number) for number in range(self.chunk_count)]


def index_statistics(index_dir: Path) -> dict[str, Any]:
    """Documents, chunks and when the last ingest finished (None if never), for the page and the API."""
    registry = Registry(registry_path(index_dir))
    try:
        finished = (registry.get_meta("last_ingest") or {}).get("finished_at")
        return {**registry.counts(), "last_ingest": finished}
    finally:
        registry.close()


def registry_path(index_dir: Path) -> Path:
    return index_dir / "registry.sqlite3"


def lexical_path(index_dir: Path) -> Path:
    return index_dir / "lexical"


def chunk_id(doc_id: str, content_hash: str, number: int) -> str:
    return f"{doc_id}:{content_hash[:16]}:{number}"


def content_key(chunk_id: str) -> str:
    """What chunks of byte-identical documents share: the content hash and the chunk's number."""
    return chunk_id.split(":", 1)[1]


class Registry:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def version(self) -> int:
        """Changes whenever another connection commits: a cheap "has anything changed?" check."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def documents(self) -> dict[str, DocumentRecord]:
        rows = self._db.execute(f"SELECT {', '.join(DocumentRecord.__dataclass_fields__)} FROM documents")
        return {row[0]: DocumentRecord(*row) for row in rows}

    def counts(self) -> dict[str, int]:
        documents, chunks = self._db.execute("SELECT COUNT(*), COALESCE(SUM(chunk_count), 0) FROM documents").fetchone()
        return {"documents": documents, "chunks": chunks}

    def save(self, records: Iterable[DocumentRecord]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                [tuple(record.__dict__.values()) for record in records],
            )

    def begin_removal(self, records: Iterable[DocumentRecord]) -> None:
        """Unregister documents in one step, remembering them until their chunks are deleted too."""
        rows = [(record.doc_id, record.source) for record in records]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO removing VALUES (?, ?)", rows)
            self._db.executemany("DELETE FROM documents WHERE doc_id = ?", [(doc_id,) for doc_id, _ in rows])

    def removals(self) -> dict[str, str]:
        """Documents unregistered whose chunks may still be in the store: doc_id → source."""
        return dict(self._db.execute("SELECT doc_id, source FROM removing").fetchall())

    def finish_removal(self, doc_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM removing WHERE doc_id = ?", [(doc_id,) for doc_id in doc_ids])

    def mark_pending(self, doc_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO pending VALUES (?)", [(doc_id,) for doc_id in doc_ids])

    def clear_pending(self, doc_ids: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM pending WHERE doc_id = ?", [(doc_id,) for doc_id in doc_ids])

    def pending(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT doc_id FROM pending")]

    def get_meta(self, key: str) -> dict | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: dict) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
