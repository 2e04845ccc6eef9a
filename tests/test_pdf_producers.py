"""PDFs built the way real producers build them are read with all their text, on the right pages.

Regression for four real PDFs (a Google Docs export, ReportLab with an inline image, ReportLab with an
overlay, an ImageMagick file) that were lost with an IndexError: their last page's text ends in a line
break, and the page's section ran past the end of the document text."""

import re
from pathlib import Path

import pytest
from helpers import run_ingest, stored_chunks
from pdfs import (
    content_stream_pdf,
    drawn_image,
    fpdf_pdf,
    inline_image,
    overlaid,
    positioned_runs,
    text_lines,
    with_second_content_stream,
)

from ingest.chunking import chunk_document
from ingest.documents import parse_document
from rag.settings import Settings

FIRST_PAGE = [
    "Marketing und Vertrieb planen das Jahr gemeinsam, z.B. im Quartalsgespräch.  ",
    "Prof. Dr. Homburg nennt u.a. fünf Faktoren (S. 43), die die Schnittstelle prägen.",
    "Der Vertrieb meldet ca. 30 % der Leads als nicht qualifiziert zurück.",
]
THIRD_PAGE = [
    "Die Übergabe am 3. Mai regelt, wer den Erstkontakt übernimmt.",
    "Offene Fragen klärt das Team bis Ende Mai - danach gilt das Service Level.   ",
]
OVERLAY = "VERTRAULICH"
FOOTER = "Seite 3 von 3"
REPORTLAB = "ReportLab PDF Library - www.reportlab.com"
GOOGLE_DOCS = "Skia/PDF m131 Google Docs Renderer"
IMAGEMAGICK = "ImageMagick 6.9.12-98 Q16 x86_64 https://legacy.imagemagick.org"

# Page 2 has no text (an image only, or nothing), so page numbers must come from the PDF, not from counting.
PRODUCERS = {
    "fpdf2": lambda: fpdf_pdf(["\n".join(FIRST_PAGE) + "\n", "", "\n".join(THIRD_PAGE) + "\n\n"]),
    "reportlab-inline-image": lambda: content_stream_pdf(
        [text_lines(FIRST_PAGE) + inline_image(), inline_image(), text_lines(THIRD_PAGE) + inline_image()],
        producer=REPORTLAB,
    ),
    "reportlab-overlay": lambda: overlaid(
        content_stream_pdf([text_lines(FIRST_PAGE), b"", text_lines(THIRD_PAGE)], producer=REPORTLAB),
        content_stream_pdf([text_lines([OVERLAY], top=400)]),
    ),
    "pypdf-second-content-stream": lambda: with_second_content_stream(
        content_stream_pdf([text_lines(FIRST_PAGE), inline_image(), text_lines(THIRD_PAGE)]),
        2,
        text_lines([FOOTER], top=40),
    ),
    "imagemagick": lambda: content_stream_pdf(
        [drawn_image() + text_lines(FIRST_PAGE), drawn_image(), drawn_image() + text_lines(THIRD_PAGE)],
        producer=IMAGEMAGICK,
    ),
    "google-docs": lambda: content_stream_pdf(
        [positioned_runs(FIRST_PAGE), b"", positioned_runs(THIRD_PAGE)], producer=GOOGLE_DOCS, title="Jahresplanung"
    ),
}
# Text that producers add to pages: the overlay is stamped on every page, the empty one too.
EXTRA_TEXT = {
    "reportlab-overlay": {1: OVERLAY, 2: OVERLAY, 3: OVERLAY},
    "pypdf-second-content-stream": {3: FOOTER},
}


def squeezed(text: str) -> str:
    """Text without white space: extractors differ in the spaces and line breaks they put between runs."""
    return re.sub(r"\s+", "", text)


def expected_pages(producer: str) -> dict[int, str]:
    pages = {1: " ".join(FIRST_PAGE), 3: " ".join(THIRD_PAGE)}
    for page, extra in EXTRA_TEXT.get(producer, {}).items():
        pages[page] = pages.get(page, "") + extra
    return {page: squeezed(text) for page, text in sorted(pages.items())}


@pytest.mark.parametrize("producer", PRODUCERS)
@pytest.mark.parametrize("size", [1500, 120])
def test_every_producer_s_text_is_chunked_whole_on_its_page(producer: str, size: int) -> None:
    document = parse_document(Path(f"{producer}.pdf"), PRODUCERS[producer]())
    expected = expected_pages(producer)
    assert [section.page for section in document.sections] == list(expected)
    chunks = chunk_document(document, size, 0)
    assert all(document.text[c.start : c.end] == c.text for c in chunks)
    assert {page: squeezed("".join(c.text for c in chunks if c.page == page)) for page in expected} == expected


def test_pdfs_of_every_producer_are_ingested_with_their_pages(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for producer, build in PRODUCERS.items():
        (folder / f"{producer}.pdf").write_bytes(build())
    report, lines = run_ingest(settings, [folder])
    assert (report.added, report.failed, report.errors) == (len(PRODUCERS), 0, []), lines
    pages: dict[str, set[int]] = {}
    for chunk in stored_chunks(settings):
        pages.setdefault(Path(chunk.metadata["source"]).stem, set()).add(chunk.metadata["page"])
    assert pages == {producer: set(expected_pages(producer)) for producer in PRODUCERS}
    assert any("fünf Faktoren (S. 43)" in chunk.text for chunk in stored_chunks(settings))
