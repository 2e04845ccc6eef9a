"""Bad input never costs the index anything: each bad file is one `error:` line, the rest goes in.

One module-scoped run ingests a folder of good files in-process, then adds bad files and runs the
CLI over the folder plus a missing path and an explicit .docx; most tests below assert on that one
run. The corrupted-file and size-limit tests run the CLI once more each.
"""

import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fpdf import FPDF
from helpers import run_ingest, run_ingest_cli, stored_chunks
from pdfs import editable, fpdf_pdf, written

from rag.settings import PROJECT_ROOT, Settings
from rag.store import StoredChunk

SUMMARY = re.compile(
    r"^files: (?P<seen>\d+) seen, (?P<added>\d+) added, (?P<updated>\d+) updated, "
    r"(?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed, (?P<failed>\d+) failed, "
    r"(?P<skipped>\d+) skipped; (?P<chunks>\d+) chunks written in \d+\.\d s$"
)
LATIN1_WARNING = "not valid UTF-8; read as Windows-1252 (Latin-1)"

MARKDOWN = """---
title: Marketing und Vertrieb im Dialog
author: Erika Mustermann
date: 2024-03-01
---
# Marketing und Vertrieb im Dialog

Marketing plant Kampagnen für Zielgruppen, der Vertrieb spricht mit einzelnen Kunden. Beide Seiten
brauchen dieselben Informationen über Bedarf, Preise und Wettbewerb.

## Gemeinsame Ziele

Gemeinsame Kennzahlen wie der Kundenwert verhindern, dass beide Abteilungen gegeneinander arbeiten.
"""
PLAIN_TEXT = (
    "Kundenwert im Vertrieb\n\n"
    "Der Kundenwert fasst zusammen, was ein Kunde über die ganze Geschäftsbeziehung einbringt. "
    "Vertriebsteams priorisieren Besuche nach diesem Wert und nicht nach dem letzten Auftrag.\n"
)
PDF_PAGES = (
    "Marketing und Vertrieb: Seite eins beschreibt die Zusammenarbeit bei der Preisgestaltung.",
    "Seite zwei beschreibt gemeinsame Kundenbesuche und den Austausch von Marktinformationen.",
)
LATIN1_TEXT = "Müller über Größe: Herr Müller spricht über den Markt und über Preise für Äpfel.\n"
HTML_PARAGRAPHS = (
    "Der Vertrieb kennt die Zahlungsbereitschaft der Kunden oft besser als jede Marktforschung, "
    "weil er täglich mit ihnen verhandelt.",
    "Deshalb sollte das Marketing die Preisstrategie gemeinsam mit dem Vertrieb festlegen und regelmäßig überprüfen.",
)
HTML = f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Preisstrategie im Vertrieb</title>
<style>body {{ color: red; }} .stilregel-marker {{ display: none; }}</style>
<script>alert('x'); var trackingCode = "verfolgungscode";</script>
</head><body>
<nav><ul><li><a href="/">Startseite</a></li><li><a href="/produkte">Navigationsmenü Produkte</a></li></ul></nav>
<main><article>
<h1>Preisstrategie im Vertrieb</h1>
<p>{HTML_PARAGRAPHS[0]}</p>
<img src="fehlt.png" onerror="alert('bild')">
<p onmouseover="alert('maus')">{HTML_PARAGRAPHS[1]}</p>
<script>document.write("<p>eingeschleuster Absatz</p>"); alert('inline');</script>
</article></main>
<footer><p>Fußzeile: Beispiel GmbH, alle Rechte vorbehalten.</p></footer>
</body></html>
"""
# Text that must not reach the index from the HTML page: script, handlers, style, navigation, footer.
HTML_JUNK = (
    "alert",
    "<script",
    "onerror",
    "onmouseover",
    "verfolgungscode",
    "eingeschleust",
    "color: red",
    "stilregel",
    "Startseite",
    "Navigationsmenü",
    "Fußzeile",
    "Rechte vorbehalten",
)

GOOD_FILES = ("article.md", "kundenwert.txt", "vertrieb.pdf")
# Each bad input: its file name and the reason phrase its `error:` line must carry.
BAD_INPUTS = {
    "broken.pdf": "not a readable PDF",
    "truncated.pdf": "not a readable PDF",
    "encrypted.pdf": "encrypted PDF that needs a password",
    "scanned.pdf": "PDF has no text layer",
    "empty.md": "empty file",
    "blank.txt": "empty file",
    "binary.txt": "binary content, not text",
    "random-bytes.txt": "binary content, not text",
    "missing.md": "no such file or folder",
    "notes.docx": "unsupported file type '.docx'",
}


# --- file makers -------------------------------------------------------------------------------


def scanned_pdf() -> bytes:
    """Two pages of drawings only, as a scan without OCR looks to a text extractor."""
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.set_fill_color(80, 80, 80)
        pdf.rect(20, 20, 120, 60, style="F")
        pdf.line(20, 100, 180, 250)
    return bytes(pdf.output())


def encrypted_pdf(data: bytes, user_password: str = "secret") -> bytes:
    writer = editable(data)
    writer.encrypt(user_password=user_password, owner_password="owner")
    return written(writer)


def aes_encrypted_pdf_without_user_password(data: bytes) -> bytes:
    """A real AES-256 PDF with an empty user password (an "owner password only" file, common in the wild)."""
    writer = editable(data)
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    data = written(writer)
    assert b"/AESV3" in data
    return data


def write_good_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in GOOD_FILES}
    paths["article.md"].write_text(MARKDOWN, encoding="utf-8")
    paths["kundenwert.txt"].write_text(PLAIN_TEXT, encoding="utf-8")
    paths["vertrieb.pdf"].write_bytes(fpdf_pdf(PDF_PAGES))
    return paths


def write_bad_files(folder: Path, elsewhere: Path) -> dict[str, Path]:
    """The bad inputs (plus the latin-1 and HTML files that must go in); missing.md is not created."""
    rng = random.Random(20240301)
    good_pdf = fpdf_pdf(PDF_PAGES)
    elsewhere.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in BAD_INPUTS}
    paths["missing.md"] = elsewhere / "missing.md"
    paths["notes.docx"] = elsewhere / "notes.docx"
    paths["broken.pdf"].write_bytes(b"%PDF-1.4\n" + rng.randbytes(4000))
    paths["truncated.pdf"].write_bytes(good_pdf[: len(good_pdf) // 2])
    paths["encrypted.pdf"].write_bytes(encrypted_pdf(good_pdf))
    paths["scanned.pdf"].write_bytes(scanned_pdf())
    paths["empty.md"].write_bytes(b"")
    paths["blank.txt"].write_bytes(b"  \n\t\n   \r\n")
    paths["binary.txt"].write_bytes(bytes(range(256)) * 40)
    paths["random-bytes.txt"].write_bytes(bytes(rng.randrange(1, 256) for _ in range(5000)))  # no NUL
    paths["notes.docx"].write_bytes(b"PK\x03\x04 not really a docx, but not empty either")
    paths["latin1.txt"] = folder / "latin1.txt"
    paths["latin1.txt"].write_bytes(LATIN1_TEXT.encode("latin-1"))
    paths["page.html"] = folder / "page.html"
    paths["page.html"].write_text(HTML, encoding="utf-8")
    paths["minutes.docx"] = folder / "minutes.docx"
    paths["minutes.docx"].write_bytes(b"PK\x03\x04 a docx inside the folder")
    return paths


# --- reading results ---------------------------------------------------------------------------


def chunks_by_id(settings: Settings) -> dict[str, StoredChunk]:
    return {chunk.chunk_id: chunk for chunk in stored_chunks(settings)}


def chunks_of(chunks: dict[str, StoredChunk], path: Path) -> dict[str, StoredChunk]:
    return {cid: chunk for cid, chunk in chunks.items() if chunk.metadata["source"] == str(path)}


def text_of(chunks: dict[str, StoredChunk], path: Path) -> str:
    selected = sorted(chunks_of(chunks, path).values(), key=lambda chunk: chunk.metadata["chunk"])
    return "\n".join(chunk.text for chunk in selected)


def summary_counts(stdout: str) -> dict[str, int]:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout should be the summary line only: {stdout!r}"
    match = SUMMARY.match(lines[0])
    assert match, f"not a summary line: {lines[0]!r}"
    return {key: int(value) for key, value in match.groupdict().items()}


def stderr_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.replace("\r", "\n").splitlines() if line.strip()]


def lines_naming(lines: list[str], path: Path) -> list[str]:
    return [line for line in lines if path.name in line]


# --- the mixed run -----------------------------------------------------------------------------


@dataclass
class MixedRun:
    folder: Path
    good: dict[str, Path]
    bad: dict[str, Path]
    before: dict[str, StoredChunk]
    after: dict[str, StoredChunk]
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return stderr_lines(self.stderr)

    @property
    def errors(self) -> list[str]:
        return [line for line in self.lines if line.startswith("error: ")]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> MixedRun:
    root = tmp_path_factory.mktemp("bad_input")
    data_dir = root / "data"
    # The autouse isolation is per test; this module-wide run isolates itself the same way.
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("RAG_"):
                patch.delenv(name)
        patch.setenv("RAG_DATA_DIR", str(data_dir))
        settings = Settings()
        env = dict(os.environ)

    folder = root / "articles"
    good = write_good_files(folder)
    report, lines = run_ingest(settings, [folder])
    assert (report.added, report.failed) == (3, 0), lines
    before = chunks_by_id(settings)

    bad = write_bad_files(folder, root / "elsewhere")
    process = subprocess.run(
        [sys.executable, "-m", "ingest", str(folder), str(bad["missing.md"]), str(bad["notes.docx"])],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    after = chunks_by_id(settings)
    return MixedRun(folder, good, bad, before, after, process.returncode, process.stdout, process.stderr)


def test_good_files_were_indexed_before_the_bad_ones_arrived(mixed_run: MixedRun) -> None:
    for path in mixed_run.good.values():
        assert chunks_of(mixed_run.before, path), f"no chunks for {path.name}"
    pages = {
        chunk.metadata.get("page") for chunk in chunks_of(mixed_run.before, mixed_run.good["vertrieb.pdf"]).values()
    }
    assert pages == {1, 2}
    article = next(iter(chunks_of(mixed_run.before, mixed_run.good["article.md"]).values()))
    assert article.metadata["title"] == "Marketing und Vertrieb im Dialog"
    assert article.metadata["author"] == "Erika Mustermann"
    assert "---" not in text_of(mixed_run.before, mixed_run.good["article.md"])  # front matter is not text


def test_run_exits_1_and_summary_counts_every_file(mixed_run: MixedRun) -> None:
    assert "Traceback" not in mixed_run.stderr, mixed_run.stderr
    assert mixed_run.returncode == 1, mixed_run.stderr
    counts = summary_counts(mixed_run.stdout)
    assert counts["failed"] == len(BAD_INPUTS)
    assert (counts["added"], counts["updated"], counts["unchanged"], counts["removed"]) == (2, 0, 3, 0)
    assert counts["seen"] == counts["added"] + counts["unchanged"] + counts["failed"] + counts["skipped"]
    new_chunks = set(mixed_run.after) - set(mixed_run.before)
    assert counts["chunks"] == len(new_chunks) > 0


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_each_bad_input_is_one_error_line_with_its_reason(mixed_run: MixedRun, name: str) -> None:
    path = mixed_run.bad[name]
    naming = lines_naming(mixed_run.lines, path)
    assert len(naming) == 1, f"expected one line naming {name}, got {naming}\n{mixed_run.stderr}"
    assert naming[0].startswith(f"error: {path}: "), naming[0]
    assert BAD_INPUTS[name] in naming[0]


def test_no_error_lines_beyond_the_bad_inputs(mixed_run: MixedRun) -> None:
    expected = {str(mixed_run.bad[name]) for name in BAD_INPUTS}
    named = {line.removeprefix("error: ").split(": ", 1)[0] for line in mixed_run.errors}
    assert len(mixed_run.errors) == len(BAD_INPUTS), mixed_run.errors
    assert named == expected
    for path in mixed_run.good.values():
        assert not lines_naming(mixed_run.lines, path), f"{path.name} was reported: {mixed_run.stderr}"


def test_docx_inside_the_folder_is_skipped_not_failed(mixed_run: MixedRun) -> None:
    path = mixed_run.bad["minutes.docx"]
    assert lines_naming(mixed_run.lines, path) == [f"skipped: {path}: unsupported file type '.docx'"]


def test_nothing_from_bad_inputs_reaches_the_index(mixed_run: MixedRun) -> None:
    sources = {chunk.metadata["source"] for chunk in mixed_run.after.values()}
    expected = {str(path) for path in mixed_run.good.values()}
    expected |= {str(mixed_run.bad["latin1.txt"]), str(mixed_run.bad["page.html"])}
    assert sources == expected


def test_good_files_are_unchanged_and_keep_their_chunks(mixed_run: MixedRun) -> None:
    for path in mixed_run.good.values():
        before, after = chunks_of(mixed_run.before, path), chunks_of(mixed_run.after, path)
        assert before
        assert after.keys() == before.keys(), path.name
        for chunk_id, chunk in before.items():
            assert after[chunk_id].text == chunk.text
            assert after[chunk_id].metadata == chunk.metadata


def test_latin1_text_is_read_with_a_warning_not_an_error(mixed_run: MixedRun) -> None:
    path = mixed_run.bad["latin1.txt"]
    assert lines_naming(mixed_run.lines, path) == [f"warning: {path}: {LATIN1_WARNING}"]
    text = text_of(mixed_run.after, path)
    assert "Müller über Größe" in text
    assert "Äpfel" in text
    assert "\ufffd" not in text and "Ã" not in text


def test_html_keeps_the_paragraphs_and_drops_scripts_navigation_and_footer(mixed_run: MixedRun) -> None:
    path = mixed_run.bad["page.html"]
    assert not lines_naming(mixed_run.lines, path)
    text = text_of(mixed_run.after, path)
    for paragraph in HTML_PARAGRAPHS:
        assert paragraph in text
    found = [junk for junk in HTML_JUNK if junk.lower() in text.lower()]
    assert not found, f"HTML junk in the index: {found}\n{text}"
    assert {chunk.metadata["title"] for chunk in chunks_of(mixed_run.after, path).values()} == {
        "Preisstrategie im Vertrieb"
    }


def test_summary_counts_the_skipped_file(mixed_run: MixedRun) -> None:
    assert summary_counts(mixed_run.stdout)["skipped"] == 1


def test_stderr_holds_only_report_lines_and_progress(mixed_run: MixedRun) -> None:
    stray = [
        line for line in mixed_run.lines if not line.startswith(("error: ", "warning: ", "skipped: ", "embedding:"))
    ]
    assert not stray


# --- later damage, size limit, AES ---------------------------------------------------------------


def test_corrupted_file_fails_and_keeps_its_previous_chunks(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "articles"
    good = write_good_files(folder)
    article, plain = good["article.md"], good["kundenwert.txt"]
    original = article.read_bytes()
    report, lines = run_ingest(settings, [folder])
    assert (report.added, report.failed) == (3, 0), lines
    before = chunks_by_id(settings)

    article.write_bytes(bytes(range(256)) * 40)  # overwritten by binary junk
    plain.write_text(PLAIN_TEXT + "\nNeuer Absatz: Der Vertrieb meldet Wünsche der Kunden an das Marketing.\n")
    new = folder / "neu.txt"
    new.write_text("Neue Notiz über Messen. Messen bringen Marketing und Vertrieb an einen Stand.\n")
    process = run_ingest_cli(str(folder))

    assert process.returncode == 1, process.stderr
    counts = summary_counts(process.stdout)
    assert (counts["added"], counts["updated"], counts["unchanged"], counts["failed"]) == (1, 1, 1, 1)
    lines = stderr_lines(process.stderr)
    assert lines_naming(lines, article) == [f"error: {article}: binary content, not text"]
    after = chunks_by_id(settings)
    old_article = chunks_of(before, article)
    assert old_article
    assert {cid: (c.text, c.metadata) for cid, c in chunks_of(after, article).items()} == {
        cid: (c.text, c.metadata) for cid, c in old_article.items()
    }
    assert "Neuer Absatz" in text_of(after, plain)
    assert not set(chunks_of(after, plain)) & set(chunks_of(before, plain)), "old version of the .txt left behind"
    assert "Messen bringen Marketing" in text_of(after, new)

    # The registry still holds the old version: restoring the file needs no work at all.
    article.write_bytes(original)
    report, lines = run_ingest(settings, [folder])
    assert (report.unchanged, report.failed, report.chunks_written) == (4, 0, 0), lines


def test_file_over_the_size_limit_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.001")  # 1000 bytes
    folder = tmp_path / "articles"
    folder.mkdir()
    big, small = folder / "gross.txt", folder / "klein.txt"
    big.write_text("Der Vertrieb besucht Kunden und berichtet dem Marketing. " * 90, encoding="utf-8")
    small.write_text("Kurze Notiz: Marketing und Vertrieb treffen sich jeden Montag.\n", encoding="utf-8")
    assert big.stat().st_size > 5000 and small.stat().st_size < 1000

    process = run_ingest_cli(str(folder))

    assert process.returncode == 1, process.stderr
    lines = lines_naming(stderr_lines(process.stderr), big)
    assert len(lines) == 1 and lines[0].startswith(f"error: {big}: "), process.stderr
    assert "over the 0.001 MB limit" in lines[0] and "RAG_MAX_FILE_MB" in lines[0]
    counts = summary_counts(process.stdout)
    assert (counts["added"], counts["failed"]) == (1, 1)
    sources = {chunk.metadata["source"] for chunk in chunks_by_id(Settings()).values()}
    assert sources == {str(small)}


def test_aes_encrypted_pdf_with_an_empty_user_password_is_read(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    pdf = folder / "aes.pdf"
    pdf.write_bytes(aes_encrypted_pdf_without_user_password(fpdf_pdf(PDF_PAGES)))
    (folder / "kundenwert.txt").write_text(PLAIN_TEXT, encoding="utf-8")

    report, lines = run_ingest(settings, [folder])

    sources = {chunk.metadata["source"] for chunk in stored_chunks(settings)}
    assert sources == {str(folder / "kundenwert.txt"), str(pdf)}, lines
    assert (report.added, report.failed) == (2, 0)
