"""Files → documents → chunks → vectors in the index, incrementally and crash-safe.

Write order per batch of documents: mark them pending, upsert the new chunks (ids carry the
content hash), save the registry rows, delete the previous versions' chunks, clear pending.
Removal unregisters first and deletes chunks after. A kill at any point leaves either the old or
the new version current in the registry, and the next run removes the leftovers of whatever was
pending or being removed. Chunk settings count as changed until a run with them has finished.
"""

import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from tqdm import tqdm

from ingest.chunking import Chunk, chunk_document, embedding_text
from ingest.documents import (
    METADATA_KEYS,
    SUPPORTED_SUFFIXES,
    DocumentError,
    content_hash,
    parse_document,
    read_file,
)
from rag.embedders import Embedder, make_embedder
from rag.registry import DocumentRecord, Registry, chunk_id, lexical_path, registry_path
from rag.retrieval import current_lexical_index
from rag.settings import PROJECT_ROOT, Settings
from rag.store import VectorStore, check_embedder, open_store, reset_store

Reporter = Callable[[str], None]


class IngestBusyError(Exception):
    pass


@dataclass
class IngestReport:
    seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    skipped: int = 0
    chunks_written: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        return (
            f"files: {self.seen} seen, {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.failed} failed, {self.skipped} skipped; "
            f"{self.chunks_written} chunks written in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class FoundFile:
    path: Path
    named: bool  # given on the command line rather than found in a folder


@dataclass
class PreparedDocument:
    record: DocumentRecord
    previous: DocumentRecord | None
    chunks: list[Chunk]
    metadata: dict[str, str]


def document_id(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16]


def sidecar_path(path: Path) -> Path:
    """Hidden YAML beside a file that cannot carry its own citation fields: a PDF fetched from a URL."""
    return path.with_name(f".{path.name}.yaml")


def sidecar_metadata(path: Path) -> dict[str, str]:
    try:
        fields = yaml.safe_load(sidecar_path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise DocumentError(f"{sidecar_path(path).name} beside it is not readable YAML") from None
    if not isinstance(fields, dict):
        return {}
    return {key: str(fields[key]) for key in METADATA_KEYS if fields.get(key)}


def display_source(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def find_files(paths: list[Path]) -> tuple[list[FoundFile], list[str], list[str]]:
    """Supported files under `paths` (hidden ones left out), errors for paths that aren't there, skip lines."""
    found: dict[Path, FoundFile] = {}
    errors, skipped = [], []
    for given in paths:
        path = Path(os.path.abspath(given))
        if path.is_dir():
            for file in _walk(path):
                if file.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.setdefault(file, FoundFile(file, named=False))
                else:
                    skipped.append(
                        f"skipped: {display_source(file)}: unsupported file type '{file.suffix or file.name}'"
                    )
        elif path.exists() or path.is_symlink():
            found[path] = FoundFile(path, named=True)
        else:
            errors.append(f"error: {given}: no such file or folder")
    return list(found.values()), errors, skipped


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


@contextmanager
def ingest_lock(index_dir: Path) -> Iterator[None]:
    """One ingest per index at a time; a second one stops at once with a clear message."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / "ingest.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise IngestBusyError(
                f"another ingest (pid {holder}) is writing to {index_dir}; wait for it to finish and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        report: Reporter = print,
        progress: bool = True,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.report = report
        self.progress = progress
        self.on_progress = on_progress  # (chunks embedded, chunks to embed), for a progress bar in a page
        self._embedder: Embedder | None = None
        self._store: VectorStore | None = None
        self._rechunk = False

    def run(self, paths: list[Path], rebuild: bool = False, prune: bool = False) -> IngestReport:
        started = time.monotonic()
        result = IngestReport()
        with ingest_lock(self.settings.index_dir):
            if rebuild:
                reset_store(self.settings)
                registry_path(self.settings.index_dir).unlink(missing_ok=True)
                shutil.rmtree(lexical_path(self.settings.index_dir), ignore_errors=True)
            registry = Registry(registry_path(self.settings.index_dir))
            try:
                self._check_embedder(registry)
                chunking = self._check_chunking(registry)
                self._recover(registry)
                self._finish_removals(registry, result)
                incomplete = self._documents_missing_chunks(registry)
                prepared = self._prepare(paths, registry, result, incomplete)
                if prepared:
                    self._write(prepared, registry, result)
                if prune:
                    self._prune(paths, registry, result)
                if result.added or result.updated or result.removed:
                    # Built here, so the first question after an ingest doesn't wait for it.
                    current_lexical_index(
                        self._open_store(), registry.documents(), lexical_path(self.settings.index_dir)
                    )
                registry.set_meta("chunking", chunking)
                registry.set_meta("last_ingest", {"finished_at": _now(), **registry.counts()})
            finally:
                registry.close()
        result.seconds = time.monotonic() - started
        return result

    def _check_embedder(self, registry: Registry) -> None:
        recorded = registry.get_meta("embedder")
        if recorded is None:
            registry.set_meta("embedder", {"name": self.settings.embedder})
        else:
            check_embedder(recorded["name"], None, self.settings.embedder, None, str(self.settings.index_dir))

    def _check_chunking(self, registry: Registry) -> dict[str, int]:
        """Chunks made with other size or overlap settings are remade, not kept beside new ones.

        The settings are recorded when the run finishes, so a re-chunking cut short is redone."""
        chunking = {"size": self.settings.chunk_size, "overlap": self.settings.chunk_overlap}
        recorded = registry.get_meta("chunking")
        if recorded is None:
            registry.set_meta("chunking", chunking)
        self._rechunk = recorded is not None and recorded != chunking
        if self._rechunk:
            self.report(f"chunk settings changed ({recorded} → {chunking}): re-chunking every document")
        return chunking

    def _recover(self, registry: Registry) -> None:
        """Remove chunks left by a run that died between upsert and clean-up: all but the registered version's."""
        pending = registry.pending()
        if not pending:
            return
        documents = registry.documents()
        store = self._open_store()
        for doc_id in pending:
            current = set(documents[doc_id].chunk_ids()) if doc_id in documents else set()
            leftovers = [chunk.chunk_id for chunk in store.document_chunks(doc_id) if chunk.chunk_id not in current]
            store.delete_ids(leftovers)
        registry.clear_pending(pending)

    def _finish_removals(self, registry: Registry, result: IngestReport) -> None:
        """Delete the chunks of unregistered documents: those of this run's prune, or of one that died."""
        removals = registry.removals()
        if not removals:
            return
        store = self._open_store()
        for doc_id, source in removals.items():
            store.delete_document(doc_id)
            self.report(f"removed: {source}")
        registry.finish_removal(removals)
        result.removed += len(removals)

    def _documents_missing_chunks(self, registry: Registry) -> set[str]:
        """Registered documents whose chunks the vector store lacks (its data lost or replaced): embed them again."""
        expected = registry.counts()["chunks"]
        if not expected:
            return set()
        store = self._open_store()
        if store.count() == expected:
            return set()
        documents = registry.documents()
        wanted = [cid for record in documents.values() for cid in record.chunk_ids()]
        present = {chunk.chunk_id for chunk in store.get(wanted)}
        missing = {record.doc_id for record in documents.values() if not present.issuperset(record.chunk_ids())}
        if missing:
            self.report(
                f"repair: {len(missing)} documents have chunks missing from the vector store at "
                f"{store.location()}; embedding them again"
            )
        return missing

    def _prepare(
        self, paths: list[Path], registry: Registry, result: IngestReport, incomplete: set[str]
    ) -> list[PreparedDocument]:
        files, errors, skipped = find_files(paths)
        for error in errors:
            self._fail(result, error)
        for line in skipped:
            self.report(line)
        result.skipped = len(skipped)
        result.seen = len(files) + len(errors) + len(skipped)
        known = registry.documents()
        max_bytes = int(self.settings.max_file_mb * 1e6)
        prepared = []
        for file in files:
            source = display_source(file.path)
            try:
                data = read_file(file.path, max_bytes)
                doc_id = document_id(file.path)
                previous = known.get(doc_id)
                unchanged = previous and previous.content_hash == content_hash(data) and doc_id not in incomplete
                if unchanged and not self._rechunk:
                    result.unchanged += 1
                    continue
                prepared.append(self._prepare_one(file.path, data, previous))
            except DocumentError as error:
                self._fail(result, f"error: {source}: {error}")
            except Exception as error:  # one odd file must never stop the run
                self._fail(result, f"error: {source}: unexpected {type(error).__name__}: {error}"[:300])
        return prepared

    def _prepare_one(self, path: Path, data: bytes, previous: DocumentRecord | None) -> PreparedDocument:
        document = parse_document(path, data, int(self.settings.max_file_mb * 1e6))
        document.metadata = {**sidecar_metadata(path), **document.metadata}
        for warning in document.warnings:
            self.report(f"warning: {display_source(path)}: {warning}")
        chunks = chunk_document(document, self.settings.chunk_size, self.settings.chunk_overlap)
        if not chunks:
            raise DocumentError("no text found in the file")
        record = DocumentRecord(
            doc_id=document_id(path),
            path=str(path),
            source=display_source(path),
            title=document.metadata["title"],
            content_hash=document.content_hash,
            chunk_count=len(chunks),
            ingested_at=_now(),
        )
        return PreparedDocument(record, previous, chunks, document.metadata)

    def _write(self, prepared: list[PreparedDocument], registry: Registry, result: IngestReport) -> None:
        total = sum(len(item.chunks) for item in prepared)
        with tqdm(total=total, unit="chunk", desc="embedding", disable=not self.progress) as bar:
            for group in _groups(prepared, 4 * self.settings.embed_batch_size):
                texts = [embedding_text(item.record.title, c) for item in group for c in item.chunks]
                vectors = self._embed(texts, bar)
                self._write_group(group, vectors, registry)
        for item in prepared:
            if item.previous:
                result.updated += 1
            else:
                result.added += 1
        result.chunks_written = total

    def _embed(self, texts: list[str], bar: tqdm):
        import numpy as np

        embedder = self._get_embedder()
        batch = self.settings.embed_batch_size
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(embedder.embed(texts[start : start + batch]))
            bar.update(len(parts[-1]))
            if self.on_progress:
                self.on_progress(bar.n, bar.total)
        return np.concatenate(parts)

    def _write_group(self, group: list[PreparedDocument], vectors, registry: Registry) -> None:
        store = self._open_store()
        doc_ids = [item.record.doc_id for item in group]
        ids, texts, metadatas = [], [], []
        for item in group:
            for chunk in item.chunks:
                ids.append(chunk_id(item.record.doc_id, item.record.content_hash, chunk.number))
                texts.append(chunk.text)
                metadatas.append(_chunk_metadata(item, chunk))
        registry.mark_pending(doc_ids)
        store.upsert(ids, vectors, texts, metadatas)
        registry.save(item.record for item in group)
        # Re-chunking an unchanged file reuses ids: only the ids the new version lacks are stale.
        written = set(ids)
        stale = [cid for item in group if item.previous for cid in item.previous.chunk_ids() if cid not in written]
        if stale:
            store.delete_ids(stale)
        registry.clear_pending(doc_ids)

    def _prune(self, paths: list[Path], registry: Registry, result: IngestReport) -> None:
        """Drop documents whose files are gone from the given folders (never for a missing folder)."""
        folders = [Path(os.path.abspath(p)) for p in paths if Path(p).is_dir()]
        gone = [
            record
            for record in registry.documents().values()
            if any(Path(record.path).is_relative_to(folder) for folder in folders) and not os.path.lexists(record.path)
        ]
        registry.begin_removal(gone)
        self._finish_removals(registry, result)

    def _fail(self, result: IngestReport, line: str) -> None:
        result.failed += 1
        result.errors.append(line)
        self.report(line)

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embedder)
        return self._embedder

    def _open_store(self) -> VectorStore:
        if self._store is None:
            embedder = self._get_embedder()
            self._store = open_store(self.settings, embedder.name, embedder.dim)
        return self._store


def _groups(prepared: list[PreparedDocument], min_chunks: int) -> Iterator[list[PreparedDocument]]:
    group: list[PreparedDocument] = []
    size = 0
    for item in prepared:
        group.append(item)
        size += len(item.chunks)
        if size >= min_chunks:
            yield group
            group, size = [], 0
    if group:
        yield group


def _chunk_metadata(item: PreparedDocument, chunk: Chunk) -> dict:
    meta = item.metadata
    return {
        "doc_id": item.record.doc_id,
        "content_hash": item.record.content_hash,
        "source": item.record.source,
        "title": meta.get("title"),
        "author": meta.get("author"),
        "date": meta.get("date"),
        "url": meta.get("url"),
        "lang": meta.get("lang"),
        "kind": meta.get("kind"),
        "heading": chunk.heading,
        "page": chunk.page,
        "chunk": chunk.number,
        "start": chunk.start,
        "end": chunk.end,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
