"""More bad input for ingest (issue #7), beyond tests/test_bad_input.py.

Every file either yields one `error: <file>: <reason>` line or is ingested correctly, and the rest of
the folder goes in. PDF bombs (page count, decompression) and a huge file are also run alone, with the
ingest process's peak memory (VmHWM, polled) and run time recorded in
tests/artifacts/reliability_inputs.json and printed (`pytest -s`).
"""

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import time
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from pdfs import editable, fpdf_pdf, written
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, NameObject, StreamObject

from rag.settings import PROJECT_ROOT, Settings

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
MAX_RSS_MB = 1500
SUMMARY = re.compile(
    r"^files: (?P<seen>\d+) seen, (?P<added>\d+) added, (?P<updated>\d+) updated, "
    r"(?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed, (?P<failed>\d+) failed, "
    r"(?P<skipped>\d+) skipped; (?P<chunks>\d+) chunks written in \d+\.\d s$"
)

CONTROL = "# Kontrolle\n\nMarketing und Vertrieb treffen sich jeden Montag und planen gemeinsam die Woche.\n"
PDF_PAGES = (
    "Seite eins: Marketing und Vertrieb legen die Preise gemeinsam fest.",
    "Seite zwei: Der Vertrieb meldet Wünsche der Kunden an das Marketing.",
)
UMLAUTS = "Übergabe im März: Müller prüft die Größe der Straßenkampagne, Öl und Äpfel inklusive."
MIXED_ENDINGS = (
    b"Zeile eins: Marketing plant.\r\nZeile zwei: Vertrieb verkauft.\rZeile drei: Kunden kaufen.\n"
    b"Zeile vier ohne Ende\r\n\r\nZweiter Absatz: Der Vertrieb spricht mit dem Marketing.\r"
    b"Dritter Absatz nach einem alten Mac-Zeilenende.\r\n"
)
HTML_PARAGRAPHS = (
    "Marketing und Vertrieb vereinbaren gemeinsame Ziele für jedes Quartal und prüfen sie monatlich.",
    "Der Vertrieb meldet, welche Kampagnen zu Aufträgen geführt haben, und das Marketing passt die Planung an.",
)
SCRIPT_LINE = "var geheim = 'SKRIPTINHALT'; trackiere(nutzer);\n"
UMLAUT_NAME = "Übergabe Leitfaden März.md"
UMLAUT_TEXT = "Der Vertrieb übernimmt qualifizierte Leads binnen zwei Tagen und meldet dem Marketing jede Absage."
SPACE_BOMB_TEXT = "Marketing und Vertrieb teilen Informationen über Kunden."


# --- file makers -------------------------------------------------------------------------------------


def corrupt_xref_offsets(data: bytes) -> bytes:
    """Every in-use entry of the last xref table points to a wrong byte offset."""
    head, separator, tail = data.rpartition(b"\nxref\n")
    assert separator, "no xref table"
    tail = re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m.group(1)) * 7 + 13), tail)
    return head + separator + tail


def blank_pages_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    return written(writer)


def deflated(unit: bytes, total: int) -> bytes:
    """zlib data that inflates to `total` bytes of `unit` repeated, compressed in 1 MB steps (fast)."""
    compressor = zlib.compressobj(9)
    block = unit * (1_000_000 // len(unit))
    parts, done = [], 0
    while done < total:
        parts.append(compressor.compress(block))
        done += len(block)
    parts.append(compressor.flush())
    return b"".join(parts)


def flate_bomb_pdf(unit: bytes, total: int, text: str = SPACE_BOMB_TEXT, pages: int = 1) -> bytes:
    """A text PDF whose page gets a second content stream that inflates to `total` bytes; with `pages`,
    more pages with the same fonts show that same stream again (one object, so the file stays small)."""
    writer = editable(fpdf_pdf((text,)))
    page = writer.pages[0]
    bomb = StreamObject()
    bomb._data = deflated(unit, total)  # raw, already compressed bytes
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    bomb_ref = writer._add_object(bomb)
    page[NameObject("/Contents")] = ArrayObject([page.raw_get("/Contents"), bomb_ref])
    for _ in range(pages - 1):
        extra = writer.add_blank_page(612, 792)
        extra[NameObject("/Resources")] = page.raw_get("/Resources")
        extra[NameObject("/Contents")] = bomb_ref
    return written(writer)


def sparse_file(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space and no time to write."""
    with open(path, "wb") as handle:
        handle.truncate(size)


def html_with_big_script() -> bytes:
    script = SCRIPT_LINE * (1_000_000 // len(SCRIPT_LINE) + 1)
    return f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Gemeinsame Ziele</title>
<script>{script}</script></head><body><main><article><h1>Gemeinsame Ziele</h1>
<p>{HTML_PARAGRAPHS[0]}</p><script>{script}</script>
<p>{HTML_PARAGRAPHS[1]}</p>
</article></main></body></html>""".encode()


# --- running ingest, measured -----------------------------------------------------------------------


@dataclass
class Run:
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.stderr.replace("\r", "\n").splitlines() if line.strip()]

    def naming(self, path: Path) -> list[str]:
        return [line for line in self.lines if str(path) in line]

    def counts(self) -> dict[str, int]:
        lines = self.stdout.strip().splitlines()
        assert len(lines) == 1, f"stdout should be the summary line only: {self.stdout!r}"
        match = SUMMARY.match(lines[0])
        assert match, lines[0]
        return {key: int(value) for key, value in match.groupdict().items()}


def run_measured(
    paths: list[Path], env: dict[str, str], timeout: float, prefix: tuple[str, ...] = (), preexec=None
) -> Run:
    """`python -m ingest PATHS`, killed after `timeout` s; peak RSS is read from /proc every 20 ms."""
    logs = Path(env["RAG_DATA_DIR"])
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "ingest.out", logs / "ingest.err"
    started = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "ingest", *map(str, paths)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=err,
            preexec_fn=preexec,
        )
        returncode, peak_kb = None, 0
        while True:
            peak_kb = max(peak_kb, high_water_kb(process.pid))
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = returncode if returncode is not None else -9  # reaped here, not by Popen
    return Run(
        returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        time.monotonic() - started,
        peak_kb / 1024,
    )


def high_water_kb(pid: int) -> int:
    """The process's peak RSS so far (VmHWM). Not rusage's ru_maxrss: that also counts the memory of this
    (large) pytest process that the child had between fork and exec."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
    return {**env, "RAG_DATA_DIR": str(data_dir), **extra}


def stored(data_dir: Path) -> dict[str, list]:
    """source → its chunks, sorted by number (read in this process; no other process writes any more)."""
    from helpers import stored_chunks

    chunks: dict[str, list] = {}
    for chunk in stored_chunks(Settings(data_dir=data_dir, index_dir=data_dir / "index")):
        chunks.setdefault(chunk.metadata["source"], []).append(chunk)
    return {source: sorted(found, key=lambda c: c.metadata["chunk"]) for source, found in chunks.items()}


def record(name: str, run: Run, outcome: str) -> None:
    """Add one measured run to tests/artifacts/reliability_inputs.json and print it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "reliability_inputs.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = {
        "seconds": round(run.seconds, 1),
        "max_rss_mb": round(run.max_rss_mb),
        "exit": run.returncode,
        "outcome": outcome,
    }
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"{name}: {figures[name]}")


# --- the mixed folder -------------------------------------------------------------------------------

# name → the reason its error line must carry (None: it must be ingested; "either": error or ingested)
EXPECTED = {
    "kontrolle.md": None,
    "abgeschnitten.pdf": "either",  # the last 30 bytes (startxref, %%EOF) cut off
    "xref-halb.pdf": "either",  # cut in the middle of the xref table
    "xref-versetzt.pdf": "either",  # every xref offset wrong
    "xref-kaputt.pdf": "either",  # the xref keyword itself damaged
    "leer.pdf": "empty file",
    "leer.html": "empty file",
    "utf16le.txt": None,
    "utf16be.md": None,
    "zeilenenden.txt": None,
    "riesig.txt": "RAG_MAX_FILE_MB",
    "schleife-a.md": "cannot read the file: Too many levels of symbolic links",
    "schleife-b.md": "cannot read the file: Too many levels of symbolic links",
    "skript.html": None,
    "kein-yaml.md": "front matter is not valid YAML",
    "yaml-code.md": "front matter is not valid YAML",
    UMLAUT_NAME: None,
    "seiten.pdf": "PDF has no text layer",
    "flate-bombe.pdf": "not a readable PDF",
    "leerzeichen-bombe.pdf": None,
}
PAGES = 20_000
# Spaces that inflate to just under the 20 MB limit on page content: ingested, the one real sentence kept.
SPACE_BOMB_BYTES = 19_000_000
BIG_FILE_BYTES = 50_000_001


def write_inputs(folder: Path, marker: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    good_pdf = fpdf_pdf(PDF_PAGES)
    files: dict[str, bytes] = {
        "kontrolle.md": CONTROL.encode(),
        "abgeschnitten.pdf": good_pdf[:-30],
        "xref-halb.pdf": good_pdf[: good_pdf.rindex(b"\nxref\n") + 40],
        "xref-versetzt.pdf": corrupt_xref_offsets(good_pdf),
        "xref-kaputt.pdf": good_pdf.replace(b"\nxref\n", b"\nxrXf\n"),
        "leer.pdf": b"",
        "leer.html": b"",
        "utf16le.txt": f"{UMLAUTS}\r\nZweite Zeile über die Übergabe.\r\n".encode("utf-16"),  # BOM + LE
        "utf16be.md": b"\xfe\xff" + f"# Überschrift\n\n{UMLAUTS}\n".encode("utf-16-be"),
        "zeilenenden.txt": MIXED_ENDINGS,
        "skript.html": html_with_big_script(),
        "kein-yaml.md": b"---\ntitle: [nicht geschlossen\nautor: {auch nicht\n---\n# Text\n\nMarketing und Vertrieb.\n",
        "yaml-code.md": (
            f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n# Text\n\nMarketing und Vertrieb.\n"
        ).encode(),
        UMLAUT_NAME: f"{UMLAUT_TEXT}\n".encode(),
        "seiten.pdf": blank_pages_pdf(PAGES),
        "flate-bombe.pdf": flate_bomb_pdf(b"\0", 300_000_000),
        "leerzeichen-bombe.pdf": flate_bomb_pdf(b" ", SPACE_BOMB_BYTES),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sparse_file(folder / "riesig.txt", BIG_FILE_BYTES)
    os.symlink("schleife-b.md", folder / "schleife-a.md")
    os.symlink("schleife-a.md", folder / "schleife-b.md")
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED)


@dataclass
class Mixed:
    folder: Path
    data_dir: Path
    run: Run
    chunks: dict[str, list]
    marker: Path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Mixed:
    root = tmp_path_factory.mktemp("inputs")
    folder, data_dir, marker = root / "eingang", root / "data", root / "PWNED-marker"
    started = time.monotonic()
    write_inputs(folder, marker)
    print(f"inputs written in {time.monotonic() - started:.1f} s")
    run = run_measured([folder], clean_env(data_dir), timeout=600)
    record("mixed folder (all inputs, one run)", run, f"exit {run.returncode}")
    return Mixed(folder, data_dir, run, stored(data_dir), marker)


def text_of(mixed: Mixed, name: str) -> str:
    return "\n".join(chunk.text for chunk in mixed.chunks.get(str(mixed.folder / name), []))


def test_the_run_finishes_with_exit_1_and_no_traceback(mixed: Mixed) -> None:
    assert mixed.run.returncode == 1, mixed.run.stderr[-3000:]
    assert "Traceback" not in mixed.run.stderr
    stray = [line for line in mixed.run.lines if not line.startswith(("error: ", "warning: ", "embedding:"))]
    assert not stray, stray
    counts = mixed.run.counts()
    errors = [line for line in mixed.run.lines if line.startswith("error: ")]
    assert counts["failed"] == len(errors)
    assert counts["seen"] == len(EXPECTED) and counts["added"] + counts["failed"] == len(EXPECTED)
    assert mixed.run.max_rss_mb < MAX_RSS_MB


@pytest.mark.parametrize("name", EXPECTED)
def test_each_input_is_one_clear_error_or_ingested(mixed: Mixed, name: str) -> None:
    path = mixed.folder / name
    lines = mixed.run.naming(path)
    chunks = mixed.chunks.get(str(path), [])
    expected = EXPECTED[name]
    if expected == "either":
        assert len(lines) == 1 or chunks, f"{name}: neither an error line nor chunks"
        expected = "not a readable PDF" if lines else None
        print(f"{name}: {lines[0] if lines else 'ingested'}")
    if expected is None:
        assert lines == [], lines
        assert chunks, f"{name} was not ingested"
        assert all("\r" not in chunk.text and "\x00" not in chunk.text for chunk in chunks)
    else:
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), lines
        assert expected in lines[0] and f"{path}: unexpected " not in lines[0], lines[0]
        assert len(lines[0]) < 400
        assert not chunks, f"{name} failed but has chunks"


@pytest.mark.parametrize("name", ["abgeschnitten.pdf", "xref-halb.pdf", "xref-versetzt.pdf", "xref-kaputt.pdf"])
def test_a_damaged_pdf_that_is_read_keeps_its_text_and_pages(mixed: Mixed, name: str) -> None:
    chunks = mixed.chunks.get(str(mixed.folder / name), [])
    if not chunks:
        pytest.skip(f"{name} was refused with a clear error (asserted above)")
    pages = {chunk.metadata["page"]: chunk.text for chunk in chunks}
    assert sorted(pages) == [1, 2]
    assert "Marketing und Vertrieb legen die Preise gemeinsam fest" in pages[1]
    assert "Wünsche der Kunden" in pages[2]


def test_utf16_with_a_bom_keeps_its_umlauts(mixed: Mixed) -> None:
    for name in ("utf16le.txt", "utf16be.md"):
        text = text_of(mixed, name)
        assert UMLAUTS in text, text
        assert "\ufeff" not in text and "\ufffd" not in text
    assert "Zweite Zeile über die Übergabe." in text_of(mixed, "utf16le.txt")


def test_mixed_line_endings_become_one_and_offsets_stay_valid(mixed: Mixed) -> None:
    expected = MIXED_ENDINGS.decode().replace("\r\n", "\n").replace("\r", "\n")
    chunks = mixed.chunks[str(mixed.folder / "zeilenenden.txt")]
    for chunk in chunks:
        assert "\r" not in chunk.text
        assert expected[chunk.metadata["start"] : chunk.metadata["end"]] == chunk.text
    joined = " ".join(chunk.text for chunk in chunks)
    for line in ("Zeile drei: Kunden kaufen.", "Dritter Absatz nach einem alten Mac-Zeilenende."):
        assert line in joined


def test_a_file_over_the_size_limit_names_the_setting(mixed: Mixed) -> None:
    (line,) = mixed.run.naming(mixed.folder / "riesig.txt")
    assert "file is 50.0 MB, over the 20 MB limit (RAG_MAX_FILE_MB)" in line


def test_html_with_a_megabyte_of_script_keeps_only_the_article(mixed: Mixed) -> None:
    text = text_of(mixed, "skript.html")
    for paragraph in HTML_PARAGRAPHS:
        assert paragraph in text
    assert "SKRIPTINHALT" not in text and "trackiere" not in text and "var geheim" not in text
    assert len(text) < 1000


def test_yaml_in_front_matter_cannot_run_code(mixed: Mixed) -> None:
    assert not mixed.marker.exists(), "a YAML tag in front matter ran a command"


def test_a_file_name_with_spaces_and_umlauts_is_ingested_and_cited_by_its_path(mixed: Mixed) -> None:
    path = mixed.folder / UMLAUT_NAME
    chunks = mixed.chunks[str(path)]
    assert chunks[0].text.strip() == UMLAUT_TEXT
    assert chunks[0].metadata["title"] == "Übergabe Leitfaden März"
    process = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "Wie schnell übernimmt der Vertrieb qualifizierte Leads?", "--json"],
        cwd=PROJECT_ROOT,
        env=clean_env(mixed.data_dir, RAG_GENERATOR="extractive"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    answer = json.loads(process.stdout)
    assert str(path) in {citation["source"] for citation in answer["citations"]}, answer
    assert "Übergabe Leitfaden März" in process.stdout  # JSON keeps the umlauts as they are


def test_the_space_bomb_keeps_its_one_real_sentence(mixed: Mixed) -> None:
    assert SPACE_BOMB_TEXT in text_of(mixed, "leerzeichen-bombe.pdf")


# --- bombs and huge files alone: peak memory and time ------------------------------------------------

TEXT_OPERATORS = b"BT /F1 12 Tf 72 700 Td (Marketing und Vertrieb teilen alles. ) Tj ET\n"
BOMBS = {
    # name: (file maker, reason of its error line or None when it must be ingested)
    "text-bombe-70mb.pdf": (  # 0.24 MB; refused before extraction: its content inflates past the file limit
        lambda path: path.write_bytes(flate_bomb_pdf(TEXT_OPERATORS, 70_000_000)),
        "RAG_MAX_FILE_MB",
    ),
    "seiten.pdf": (lambda path: path.write_bytes(blank_pages_pdf(PAGES)), "PDF has no text layer"),
    "flate-bombe.pdf": (lambda path: path.write_bytes(flate_bomb_pdf(b"\0", 300_000_000)), "not a readable PDF"),
    "leerzeichen-bombe.pdf": (lambda path: path.write_bytes(flate_bomb_pdf(b" ", SPACE_BOMB_BYTES)), None),
    "riesig.txt": (lambda path: sparse_file(path, BIG_FILE_BYTES), "RAG_MAX_FILE_MB"),
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_alone_stays_within_memory_and_time(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "bombe"
    folder.mkdir()
    make, reason = BOMBS[name]
    started = time.monotonic()
    make(folder / name)
    built = time.monotonic() - started
    run = run_measured([folder], clean_env(tmp_path / "data"), timeout=180)
    record(f"{name} alone", run, (run.naming(folder / name) or ["ingested"])[0][:120])
    print(f"{name}: {(folder / name).stat().st_size} bytes, built in {built:.1f} s")
    assert run.returncode is not None, f"{name}: ingest still running after 180 s"
    assert run.max_rss_mb < MAX_RSS_MB, f"{name}: peak RSS {run.max_rss_mb:.0f} MB"
    assert "Traceback" not in run.stderr
    if reason:
        assert run.returncode == 1
        (line,) = run.naming(folder / name)
        assert reason in line
    else:
        assert run.returncode == 0 and run.counts()["added"] == 1


def test_a_text_bomb_pdf_is_refused_in_bounded_time(tmp_path: Path) -> None:
    folder = tmp_path / "bombe"
    folder.mkdir()
    (folder / "text-bombe.pdf").write_bytes(flate_bomb_pdf(TEXT_OPERATORS, 5_000_000, pages=20))
    assert (folder / "text-bombe.pdf").stat().st_size < 50_000
    run = run_measured([folder], clean_env(tmp_path / "data"), timeout=180)
    record("text-bombe.pdf (25 KB, 20 pages x 5 MB of Tj operators)", run, f"exit {run.returncode}")
    assert run.returncode is not None, "ingest still busy after 180 s"
    assert run.max_rss_mb < MAX_RSS_MB
    (line,) = run.naming(folder / "text-bombe.pdf")
    assert line.startswith(f"error: {folder / 'text-bombe.pdf'}: page content inflates past the 20 MB limit"), line


# --- files that cannot be read -----------------------------------------------------------------------


def without_file_permission_override() -> tuple[str, ...]:
    """Root reads any file; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH it obeys the mode bits."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root and util-linux setpriv is missing: no way to make a file unreadable")
    return (setpriv, "--bounding-set", "-dac_override,-dac_read_search")


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "eingang"
    folder.mkdir()
    locked = folder / "gesperrt.md"
    locked.write_text("# Geheim\n\nMarketing und Vertrieb planen die geheime Kampagne.\n", encoding="utf-8")
    locked.chmod(0)
    (folder / "kontrolle.md").write_text(CONTROL, encoding="utf-8")
    prefix = without_file_permission_override()
    try:
        run = run_measured([folder], clean_env(tmp_path / "data"), timeout=300, prefix=prefix)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.naming(locked) == [f"error: {locked}: permission denied: the file cannot be read"]
    assert run.counts()["added"] == 1
    assert list(stored(tmp_path / "data")) == [str(folder / "kontrolle.md")]


def limit_memory() -> None:
    """In the child: at most 2 GB of address space, so a runaway read fails instead of eating the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_a_named_pipe_in_the_folder_does_not_hang_ingest(tmp_path: Path) -> None:
    folder = tmp_path / "eingang"
    folder.mkdir()
    os.mkfifo(folder / "pipe.md")  # alone: without it, this run takes a second
    run = run_measured([folder], clean_env(tmp_path / "data"), timeout=20)
    assert run.returncode == 1, "ingest did not finish within 20 s" if run.returncode is None else run.stderr
    (line,) = run.naming(folder / "pipe.md")
    assert line.startswith(f"error: {folder / 'pipe.md'}: ") and ": unexpected " not in line


def test_a_symlink_to_a_device_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    folder = tmp_path / "eingang"
    folder.mkdir()
    os.symlink("/dev/zero", folder / "null.txt")
    run = run_measured([folder], clean_env(tmp_path / "data"), timeout=60, preexec=limit_memory)
    record("symlink to /dev/zero (2 GB address-space limit)", run, (run.naming(folder / "null.txt") or ["-"])[0])
    assert run.returncode == 1, run.stderr[-2000:]
    (line,) = run.naming(folder / "null.txt")
    assert ": unexpected " not in line and "MemoryError" not in line, line
    assert run.max_rss_mb < MAX_RSS_MB


# --- front matter and file names ---------------------------------------------------------------------


def test_front_matter_that_is_not_a_mapping_is_an_error_not_silently_dropped(tmp_path: Path) -> None:
    from ingest.documents import DocumentError, parse_document

    data = "---\nDieser Absatz steht zwischen zwei Trennlinien und ist kein YAML-Schlüssel\n---\n\nRest.\n"
    with pytest.raises(DocumentError, match="front matter is not a YAML mapping"):
        parse_document(tmp_path / "absatz.md", data.encode())


def test_a_title_from_an_nfd_file_name_is_nfc_like_the_text(tmp_path: Path) -> None:
    from ingest.documents import parse_document

    path = tmp_path / unicodedata.normalize("NFD", UMLAUT_NAME)
    document = parse_document(path, f"{UMLAUT_TEXT}\n".encode())
    assert document.metadata["title"] == unicodedata.normalize("NFC", "Übergabe Leitfaden März")
