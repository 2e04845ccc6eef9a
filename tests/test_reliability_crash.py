"""Crash safety of ingest (issue #7): SIGKILL at many points, crashes injected at every write step,
and two ingests (plus a question) on one index at once.

The index is right after a crash and one more ingest run when, for every file, the registry holds
its sha256 and the store holds exactly that version's chunks (each once, with the right text), and
nothing else: no chunk of an older version, of a half-written new document or of a pruned one.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.documents import parse_document
from ingest.pipeline import Ingestor, document_id
from rag.registry import Registry, registry_path
from rag.settings import PROJECT_ROOT, Settings

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
CHUNK_SIZE, CHUNK_OVERLAP = 300, 40
# Small chunks and batches: more write groups per run, so more distinct places for a kill to land.
CRASH_ENV = {"RAG_CHUNK_SIZE": str(CHUNK_SIZE), "RAG_CHUNK_OVERLAP": str(CHUNK_OVERLAP), "RAG_EMBED_BATCH_SIZE": "4"}
FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"

NOUNS = (
    "Marketing Vertrieb Kundschaft Angebot Preisliste Marktanteil Strategie Kampagne Umsatzplanung Zielgruppe "
    "Vertriebsteam Abteilung Zusammenarbeit Information Austausch Jahresplanung Budget Produktlinie Wettbewerb "
    "Beratung Messe Leadqualität Übergabe Kennzahl Rückmeldung"
).split()
VERBS = "plant bespricht prüft verbessert beschreibt misst erhöht teilt unterstützt entwickelt überarbeitet".split()
LOGISTICS = "Lager Spedition Palette Zustellung Lieferkette Kommissionierung Frachtbrief Tourenplanung Rampe".split()

# What the store holds, read by a separate process: an embedded Chroma written by other processes is
# best read fresh. The dense query over all chunks checks the vector index agrees with the records.
READ_STORE = r"""
import json
import numpy as np
from rag.settings import Settings
from rag.store import open_store

store = open_store(Settings(), "use-multilingual", 512)
count = store.count()
chunks = store.all_chunks()
found = set()
if count:
    rng = np.random.default_rng(0)
    for _ in range(2):
        vector = rng.normal(size=512).astype("float32")
        found |= {hit.chunk_id for hit in store.query(vector / np.linalg.norm(vector), count)}
print(json.dumps({"count": count, "chunks": [[c.chunk_id, c.text, c.metadata] for c in chunks],
                  "query_ids": sorted(found)}))
"""


# --- corpus ------------------------------------------------------------------------------------------


def german_sentence(rng: random.Random, nouns: list[str] = NOUNS) -> str:
    words = " ".join(rng.choice(nouns) for _ in range(rng.randint(4, 8)))
    return f"Die {rng.choice(nouns)} {rng.choice(VERBS)} {words} für die nächste Übergabe im Quartal."


def german_document(rng: random.Random, title: str, nouns: list[str] = NOUNS, paragraphs: int | None = None) -> str:
    """A Markdown article of one to three chunks at CHUNK_SIZE."""
    count = paragraphs or rng.randint(1, 3)
    body = "\n\n".join(" ".join(german_sentence(rng, nouns) for _ in range(2)) for _ in range(count))
    return f"---\ntitle: {title}\nlang: de\n---\n# {title}\n\n{body}\n"


class Corpus:
    """A folder of generated articles that the test edits between runs."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.folder = folder
        self.rng = random.Random(seed)
        self.serial = 0
        folder.mkdir(parents=True, exist_ok=True)

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.md"))

    def add(self, count: int) -> None:
        for _ in range(count):
            self.serial += 1
            path = self.folder / f"artikel-{self.serial:03d}.md"
            path.write_text(german_document(self.rng, f"Artikel {self.serial}"), encoding="utf-8")

    def edit(self, count: int) -> None:
        for path in self.rng.sample(self.files(), min(count, len(self.files()))):
            text = path.read_text(encoding="utf-8").rstrip("\n")
            if self.rng.random() < 0.5:  # append a paragraph or rewrite the body
                text += "\n\n" + german_sentence(self.rng) + " " + german_sentence(self.rng)
            else:
                text = german_document(self.rng, path.stem.replace("-", " ").title())
            path.write_text(text + "\n", encoding="utf-8")

    def delete(self, count: int) -> None:
        for path in self.rng.sample(self.files(), count):
            path.unlink()


# --- reading the index -------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_registry(index_dir: Path) -> dict:
    registry = Registry(registry_path(index_dir))
    try:
        return {"documents": registry.documents(), "pending": registry.pending(), "removing": registry.removals()}
    finally:
        registry.close()


def read_store(env: dict[str, str]) -> dict:
    process = subprocess.run(
        [sys.executable, "-c", READ_STORE], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def expected_chunks(path: Path, size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[str]:
    return [chunk.text for chunk in chunk_document(parse_document(path, path.read_bytes()), size, overlap)]


def check_index(folder: Path, index_dir: Path, env: dict[str, str], pruned: bool) -> dict[str, int]:
    """The invariant after a completed run; returns counts for the report."""
    state = read_registry(index_dir)
    documents = state["documents"]
    assert state["pending"] == [], "a completed run left documents pending"
    assert state["removing"] == {}, "a completed run left documents half removed"
    files = {document_id(path): path for path in sorted(folder.glob("*.md"))}
    missing = set(files) - set(documents)
    assert not missing, f"files not in the registry: {[files[d].name for d in missing]}"
    for doc_id, path in files.items():
        record = documents[doc_id]
        assert record.content_hash == sha256_file(path), f"{path.name}: registry hash is not the file's sha256"
        assert record.chunk_count == len(expected_chunks(path)), f"{path.name}: wrong chunk count"
    gone = set(documents) - set(files)
    if pruned:
        assert not gone, f"pruned documents still registered: {[documents[d].source for d in gone]}"

    store = read_store(env)
    ids = [chunk_id for chunk_id, _, _ in store["chunks"]]
    duplicated = [chunk_id for chunk_id, n in Counter(ids).items() if n > 1]
    assert not duplicated, f"chunks stored more than once: {duplicated}"
    wanted = {chunk_id for record in documents.values() for chunk_id in record.chunk_ids()}
    assert set(ids) - wanted == set(), (
        f"left-over chunks (old versions, half-written or deleted documents): {sorted(set(ids) - wanted)[:10]}"
    )
    assert wanted - set(ids) == set(), f"chunks missing for registered documents: {sorted(wanted - set(ids))[:10]}"
    assert store["count"] == len(ids)
    assert set(store["query_ids"]) == set(ids), "the vector index disagrees with the stored records"
    texts = {doc_id: expected_chunks(path) for doc_id, path in files.items()}
    for chunk_id, text, metadata in store["chunks"]:
        doc_id, number = metadata["doc_id"], metadata["chunk"]
        assert metadata["content_hash"] == documents[doc_id].content_hash
        if doc_id in files:
            assert text == texts[doc_id][number], f"{chunk_id}: text is not the file's chunk"
    return {"documents": len(documents), "chunks": len(ids), "unpruned_deleted": len(gone)}


# --- killing a run -----------------------------------------------------------------------------------


@dataclass
class Probe:
    """What an observer sees of a running ingest: time, lock holder, registry and progress bar."""

    elapsed: float
    lock_pid: str
    fresh: int  # changed files whose new version the registry already lists
    pending: int
    removing: int  # documents unregistered by --prune whose chunks are being deleted
    embedded: int  # chunks the progress bar says are embedded


@dataclass
class Kill:
    round: int
    aim: str
    changes: str
    landed: bool = False
    stage: str = ""
    probe: dict = field(default_factory=dict)
    ingest_seconds: float = 0.0


PROGRESS = re.compile(r"embedding:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")


def probe(process: subprocess.Popen, started: float, index_dir: Path, stderr: Path, targets: dict[str, str]) -> Probe:
    lock = index_dir / "ingest.lock"
    lock_pid = lock.read_text().strip() if lock.exists() else ""
    fresh = pending = removing = 0
    database = registry_path(index_dir)
    if database.exists():
        try:
            connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.05)
            try:
                rows = dict(connection.execute("SELECT doc_id, content_hash FROM documents"))
                pending = connection.execute("SELECT count(*) FROM pending").fetchone()[0]
                removing = connection.execute("SELECT count(*) FROM removing").fetchone()[0]
            finally:
                connection.close()
            fresh = sum(1 for doc_id, digest in targets.items() if rows.get(doc_id) == digest)
        except sqlite3.Error:
            pass
    progress = PROGRESS.findall(stderr.read_text(errors="replace")) if stderr.exists() else []
    embedded = int(progress[-1][0]) if progress else 0
    return Probe(time.monotonic() - started, lock_pid, fresh, pending, removing, embedded)


def stage_of(seen: Probe, pid: int, changed: int) -> str:
    if seen.lock_pid != str(pid):
        return "starting up (no lock yet, nothing written)"
    if seen.removing:
        return "pruning deleted documents (documents being removed)"
    if seen.pending:
        return "writing a group (documents pending)"
    if seen.fresh:
        return "between write groups (some new versions saved)"
    if seen.embedded:
        return "embedding the first group (nothing written yet)"
    return "preparing files (lock held, nothing written yet)"


def run_until(
    args: list[str], env: dict[str, str], index_dir: Path, log_dir: Path, targets: dict[str, str], aim: Callable
) -> tuple[bool, Probe, subprocess.Popen]:
    """Start `python -m ingest ARGS` and SIGKILL it as soon as `aim(probe, pid)` holds."""
    stdout, stderr = log_dir / "out.txt", log_dir / "err.txt"
    with open(stdout, "w") as out, open(stderr, "w") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest", *args], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err
        )
        seen = probe(process, started, index_dir, stderr, targets)
        try:
            while process.poll() is None:
                seen = probe(process, started, index_dir, stderr, targets)
                if aim(seen, process.pid):
                    process.send_signal(signal.SIGKILL)
                    process.wait(timeout=30)
                    return True, seen, process
                assert seen.elapsed < 300, "ingest ran for 5 minutes"
                time.sleep(0.003)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    return False, seen, process


def aimed(aim: Callable[[Probe, int, int], bool], changed: int) -> Callable[[Probe, int], bool]:
    return lambda seen, pid: aim(seen, pid, changed)


def ingest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    process = subprocess.run(
        [sys.executable, "-m", "ingest", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    assert process.returncode == 0, f"exit {process.returncode}\n{process.stdout}\n{process.stderr[-3000:]}"
    return process


def changed_targets(corpus: Corpus, index_dir: Path) -> dict[str, str]:
    """doc id → sha256 for every file whose current version the registry does not list yet."""
    known = read_registry(index_dir)["documents"] if registry_path(index_dir).exists() else {}
    targets = {}
    for path in corpus.files():
        digest = sha256_file(path)
        doc_id = document_id(path)
        if doc_id not in known or known[doc_id].content_hash != digest:
            targets[doc_id] = digest
    return targets


# Each round: change the corpus, start ingest, kill it where `aim` says, run it again to completion.
# (name, change, aim(probe, pid, changed documents), ingest with --prune)
ROUNDS: list[tuple[str, Callable[[Corpus], str], Callable[[Probe, int, int], bool], bool]] = [
    ("0.25 s after start", lambda c: (c.add(50), "50 added")[1], lambda p, pid, n: p.elapsed >= 0.25, False),
    (
        "lock taken, files being read",
        lambda c: (c.edit(15), "15 edited")[1],
        lambda p, pid, n: p.lock_pid == str(pid),
        False,
    ),
    (
        "first chunks embedded, nothing written",
        lambda c: (c.edit(15), c.add(2), "15 edited, 2 added")[2],
        lambda p, pid, n: p.lock_pid == str(pid) and p.embedded >= 1,
        False,
    ),
    (
        "first group being written",
        lambda c: (c.edit(15), c.delete(1), "15 edited, 1 deleted")[2],
        lambda p, pid, n: p.lock_pid == str(pid) and p.pending > 0,
        False,
    ),
    (
        "first group saved",
        lambda c: (c.edit(15), c.add(3), c.delete(1), "15 edited, 3 added, 1 deleted")[3],
        lambda p, pid, n: p.fresh >= 1 and p.pending == 0,
        False,
    ),
    (
        "a middle group being written",
        lambda c: (c.edit(20), "20 edited")[1],
        lambda p, pid, n: p.fresh >= n // 3 and p.pending > 0,
        False,
    ),
    (
        "two thirds saved",
        lambda c: (c.edit(20), c.delete(1), "20 edited, 1 deleted")[2],
        lambda p, pid, n: p.fresh >= 2 * n // 3,
        False,
    ),
    (
        "new documents being written",
        lambda c: (c.add(12), "12 added")[1],
        lambda p, pid, n: p.fresh >= 2 and p.pending > 0,
        False,
    ),
    (
        "prune deleting documents",
        lambda c: (c.delete(10), "10 deleted, run with --prune")[1],
        lambda p, pid, n: p.lock_pid == str(pid) and p.removing > 0,
        True,
    ),
    (
        "last groups being written",
        lambda c: (c.edit(20), c.add(1), c.delete(2), "20 edited, 1 added, 2 deleted")[3],
        lambda p, pid, n: p.fresh >= n // 2 and p.pending > 0,
        False,
    ),
]


@pytest.mark.slow
def test_ingest_killed_ten_times_leaves_exactly_the_current_chunks(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    index_dir = data_dir / "index"
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), **CRASH_ENV}
    corpus = Corpus(tmp_path / "corpus", seed=7)
    kills: list[Kill] = []
    for number, (aim_name, change, aim, prune) in enumerate(ROUNDS):
        kill = Kill(number, aim_name, change(corpus))
        targets = changed_targets(corpus, index_dir)
        args = [str(corpus.folder), *(["--prune"] if prune else [])]
        kill.landed, seen, process = run_until(args, env, index_dir, tmp_path, targets, aimed(aim, len(targets)))
        kill.stage = (
            stage_of(seen, process.pid, len(targets))
            if kill.landed
            else f"missed: ingest exited {process.returncode} first"
        )
        kill.probe = {**seen.__dict__, "changed": len(targets)}
        started = time.monotonic()
        ingest(args, env)
        kill.ingest_seconds = round(time.monotonic() - started, 1)
        kill.probe["after"] = check_index(corpus.folder, index_dir, env, pruned=prune)
        kills.append(kill)

    final = ingest([str(corpus.folder), "--prune"], env)
    counts = check_index(corpus.folder, index_dir, env, pruned=True)
    report = {"kills": [kill.__dict__ for kill in kills], "final": counts, "final_summary": final.stdout.strip()}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "reliability_crash.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    for kill in kills:
        print(f"kill {kill.round}: aimed at {kill.aim!r} ({kill.changes}): {kill.stage}; {kill.probe}")
    print("final:", counts, final.stdout.strip())
    landed = [kill for kill in kills if kill.landed]
    # Every aim but the short prune window is reached by any run that finishes; the prune one nearly always.
    assert len(landed) >= 9, [kill.stage for kill in kills]
    assert {kill.stage for kill in landed} >= {
        "starting up (no lock yet, nothing written)",
        "preparing files (lock held, nothing written yet)",
        "embedding the first group (nothing written yet)",
        "writing a group (documents pending)",
        "between write groups (some new versions saved)",
    }
    assert counts["documents"] == len(corpus.files()) >= 50


# --- crashes injected at every write step (in-process, deterministic) --------------------------------


class SimulatedCrash(BaseException):
    """Raised where a kill would land: nothing in ingest catches it, as nothing survives a SIGKILL."""


def crash_after(monkeypatch: pytest.MonkeyPatch, owner: type, method: str, call: int = 1, half: bool = False) -> None:
    """Make `owner.method` crash right after its `call`-th call (with `half`, after writing half its ids)."""
    original = getattr(owner, method)
    calls = []

    def crashing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == call and half:
            ids, vectors, texts, metadatas = args
            keep = max(1, len(ids) // 2)
            original(self, ids[:keep], vectors[:keep], texts[:keep], metadatas[:keep])
            raise SimulatedCrash(f"{method} half done")
        result = original(self, *args, **kwargs)
        if len(calls) == call:
            raise SimulatedCrash(f"after {method}")
        return result

    monkeypatch.setattr(owner, method, crashing)


def crash_settings(data_dir: Path, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "index_dir": data_dir / "index",
        "chunk_size": CHUNK_SIZE,
        "chunk_overlap": CHUNK_OVERLAP,
        "embed_batch_size": 1,  # write groups of four chunks
        **overrides,
    }
    return Settings(**values)


def check_in_process(folder: Path, settings: Settings, pruned: bool = True) -> None:
    """check_index's invariant, reading the store in this process (which did all the writing)."""
    from helpers import stored_chunks

    state = read_registry(settings.index_dir)
    documents = state["documents"]
    assert state["pending"] == [] and state["removing"] == {}
    files = {document_id(path): path for path in sorted(folder.glob("*.md"))}
    assert set(files) <= set(documents), "a file is not registered"
    if pruned:
        assert set(documents) == set(files), "a deleted file is still registered"
    for doc_id, path in files.items():
        assert documents[doc_id].content_hash == sha256_file(path), path.name
        assert documents[doc_id].chunk_count == len(expected_chunks(path, settings.chunk_size, settings.chunk_overlap))
    chunks = stored_chunks(settings)
    ids = Counter(chunk.chunk_id for chunk in chunks)
    wanted = {chunk_id for record in documents.values() for chunk_id in record.chunk_ids()}
    assert set(ids) - wanted == set(), f"left-over chunks: {sorted(set(ids) - wanted)}"
    assert wanted - set(ids) == set(), f"missing chunks: {sorted(wanted - set(ids))}"
    for chunk in chunks:
        if chunk.metadata["doc_id"] in files:
            path = files[chunk.metadata["doc_id"]]
            texts = expected_chunks(path, settings.chunk_size, settings.chunk_overlap)
            assert chunk.text == texts[chunk.metadata["chunk"]]


@pytest.fixture(scope="module")
def base_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Eight articles, ingested once. Document ids name the file's path, so every test gets this
    corpus back at this very path (tests run one after another) and a copy of the index."""
    root = tmp_path_factory.mktemp("crash_base")
    corpus = Corpus(root / "corpus", seed=11)
    corpus.add(8)
    settings = crash_settings(root / "data")
    report = Ingestor(settings, report=lambda line: None, progress=False).run([corpus.folder])
    assert (report.added, report.failed) == (8, 0)
    shutil.copytree(corpus.folder, root / "pristine")
    return corpus.folder, root / "data"


@pytest.fixture
def crash_copy(base_index: tuple[Path, Path], tmp_path: Path) -> tuple[Corpus, Settings]:
    folder, data_dir = base_index
    shutil.rmtree(folder)
    shutil.copytree(folder.parent / "pristine", folder)
    shutil.copytree(data_dir, tmp_path / "data")
    corpus = Corpus(folder, seed=12)
    corpus.serial = 100
    return corpus, crash_settings(tmp_path / "data")


def run_quietly(settings: Settings, folder: Path, **options: bool):
    return Ingestor(settings, report=lambda line: None, progress=False).run([folder], **options)


WRITE_STEPS = [
    ("Registry", "mark_pending", False),
    ("ChromaStore", "upsert", True),  # half of the group's chunks written
    ("ChromaStore", "upsert", False),
    ("Registry", "save", False),
    ("ChromaStore", "delete_ids", False),
    ("Registry", "clear_pending", False),
]


@pytest.mark.parametrize(
    ("owner", "method", "half"), WRITE_STEPS, ids=[f"{o}.{m}{'-half' * h}" for o, m, h in WRITE_STEPS]
)
@pytest.mark.parametrize("call", [1, 2], ids=["first-group", "second-group"])
def test_a_crash_at_any_write_step_is_repaired_by_the_next_run(
    crash_copy: tuple[Corpus, Settings], monkeypatch: pytest.MonkeyPatch, owner: str, method: str, half: bool, call: int
) -> None:
    from rag.store import ChromaStore

    corpus, settings = crash_copy
    corpus.edit(5)
    corpus.add(2)
    corpus.delete(1)
    owners = {"Registry": Registry, "ChromaStore": ChromaStore}
    with monkeypatch.context() as patch:
        crash_after(patch, owners[owner], method, call, half)
        with pytest.raises(SimulatedCrash):
            run_quietly(settings, corpus.folder, prune=True)
    report = run_quietly(settings, corpus.folder, prune=True)
    assert report.failed == 0
    check_in_process(corpus.folder, settings)


def test_a_crash_during_prune_is_repaired_by_the_next_prune(
    crash_copy: tuple[Corpus, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.store import ChromaStore

    corpus, settings = crash_copy
    corpus.delete(3)
    with monkeypatch.context() as patch:
        crash_after(patch, ChromaStore, "delete_document", call=2)
        with pytest.raises(SimulatedCrash):
            run_quietly(settings, corpus.folder, prune=True)
    report = run_quietly(settings, corpus.folder, prune=True)
    assert report.failed == 0 and report.removed == 3
    check_in_process(corpus.folder, settings)


def test_a_file_restored_after_a_crashed_prune_is_indexed_again(
    crash_copy: tuple[Corpus, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.store import ChromaStore

    corpus, settings = crash_copy
    victims = corpus.files()[:2]
    saved = {path: path.read_bytes() for path in victims}
    for path in victims:
        path.unlink()
    with monkeypatch.context() as patch:
        crash_after(patch, ChromaStore, "delete_document", call=2)  # both documents' chunks deleted
        with pytest.raises(SimulatedCrash):
            run_quietly(settings, corpus.folder, prune=True)
    for path, data in saved.items():  # the editor restores the files from a backup
        path.write_bytes(data)
    report = run_quietly(settings, corpus.folder, prune=True)
    assert report.failed == 0
    check_in_process(corpus.folder, settings)


def test_a_crashed_re_chunking_is_finished_by_the_next_run(
    crash_copy: tuple[Corpus, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, _ = crash_copy
    smaller = crash_settings(crash_copy[1].data_dir, chunk_size=150, chunk_overlap=0)
    with monkeypatch.context() as patch:
        crash_after(patch, Ingestor, "_write_group", call=1)
        with pytest.raises(SimulatedCrash):
            run_quietly(smaller, corpus.folder)
    report = run_quietly(smaller, corpus.folder)
    assert report.failed == 0
    check_in_process(corpus.folder, smaller)


# --- two ingests at once, and a question meanwhile --------------------------------------------------


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"ingest exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.01)


def test_a_second_ingest_stops_at_once_and_questions_are_answered_meanwhile(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    index_dir = data_dir / "index"
    # Small chunks (~5 per document, the same for both ingests) make the first ingest outlast the question
    # even on an idle machine, where 160 one-chunk documents took only 5 s.
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data_dir),
        "RAG_GENERATOR": "extractive",
        "RAG_EMBED_BATCH_SIZE": "8",
        "RAG_CHUNK_SIZE": "300",
        "RAG_CHUNK_OVERLAP": "50",
    }
    ingest([str(PROJECT_ROOT / "corpus")], env)  # the earlier state: the shipped articles
    before = read_registry(index_dir)["documents"]

    big = tmp_path / "logistik"
    big.mkdir()
    rng = random.Random(3)
    for number in range(160):  # long enough to outlast a second ingest and a question on any machine here
        title = f"Lagerlogistik {number}"
        (big / f"lager-{number:03d}.md").write_text(german_document(rng, title, LOGISTICS, 4), encoding="utf-8")
    targets = {document_id(path): sha256_file(path) for path in big.glob("*.md")}

    with open(tmp_path / "big.err", "w") as err:
        first = subprocess.Popen(
            [sys.executable, "-m", "ingest", str(big)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        try:
            # Wait until the first ingest is writing: some new documents saved, more to come.
            wait_until(
                lambda: probe(first, 0, index_dir, tmp_path / "big.err", targets).fresh >= 1,
                first,
                300,
                "document written by the first ingest",
            )
            started = time.monotonic()
            second = subprocess.Popen(
                [sys.executable, "-m", "ingest", str(PROJECT_ROOT / "corpus")],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            ask = subprocess.Popen(
                [sys.executable, "-m", "rag", "ask", FIVE_FACTORS, "--json"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, second_err = second.communicate(timeout=120)
            second_seconds = time.monotonic() - started
            ask_out, ask_err = ask.communicate(timeout=300)
            ask_seconds = time.monotonic() - started
            still_running = first.poll() is None
            written_meanwhile = probe(first, 0, index_dir, tmp_path / "big.err", targets).fresh
            first_out, _ = first.communicate(timeout=600)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(timeout=30)
    print(
        f"second ingest refused after {second_seconds:.1f} s; answer after {ask_seconds:.1f} s, "
        f"{written_meanwhile} of {len(targets)} new documents written by then; first ingest: {first_out.strip()}"
    )

    assert second.returncode == 2, second_err
    assert "another ingest" in second_err and f"pid {first.pid}" in second_err, second_err
    assert "Traceback" not in second_err and second_seconds < 60
    assert still_running, "the first ingest finished before the question was answered: make the corpus larger"

    assert ask.returncode == 0, ask_err[-3000:]
    assert "Traceback" not in ask_err
    answer = json.loads(ask_out)
    assert answer["citations"] and not answer["abstained"]
    earlier = {record.source for record in before.values()}
    assert {citation["source"] for citation in answer["citations"]} <= earlier

    assert first.returncode == 0, first_out
    assert first_out.startswith(f"files: {len(targets)} seen, {len(targets)} added"), first_out
    documents = read_registry(index_dir)["documents"]
    assert all(documents[doc_id].content_hash == digest for doc_id, digest in targets.items())
    assert {doc_id: record.content_hash for doc_id, record in documents.items() if doc_id in before} == {
        doc_id: record.content_hash for doc_id, record in before.items()
    }
