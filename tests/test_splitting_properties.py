"""Properties of sentence splitting, chunking and PDF page assembly, on any text Hypothesis can think of:
form feeds, NUL and other control characters, combining marks, right-to-left text, one 100,000-character
token, white space at the end, empty pages. Examples are bounded so that `make test` stays fast."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pdfs import content_stream_pdf, text_lines

from ingest.chunking import Chunk, chunk_document
from ingest.documents import Document, DocumentError, Section, join_pages, parse_document
from rag.sentences import sentence_spans

PIECES = [
    *"Marketing Vertrieb Übergabe Straße z.B. u.a. S. 43 Prof. Dr. am 3. Mai ca. 30 % e.g. Mr. Nr. 1. 2) - * •".split(),
    *". ! ? … ... „ “ » « ( ) [ ] # ## '".split(),
    "שלום עולם.",  # right-to-left
    "مرحبا بالعالم؟",
    "\u202eumgekehrt\u202c",  # right-to-left override
    "e\u0301",  # e + combining acute
    "\u0301\u0308",  # combining marks with nothing before them
    "\u200b",  # zero-width space: not white space
    "\ufeff",
    "\ud7ff",
    "🙂",
]
SEPARATORS = [" ", "  ", "\n", "\n\n", "\n \n", "\n- ", "\n1. ", "\t", "\f", "\v", "\r", "\r\n"]
SEPARATORS += ["\x00", "\x1c", "\x1f", "\x85", "\u00a0", "\u2028", "\u2029", "\u3000", "\x7f"]

pieces = st.sampled_from(PIECES) | st.sampled_from(SEPARATORS) | st.text(max_size=8)
messy_text = st.lists(pieces, max_size=60).map("".join)
long_token = st.builds(
    lambda before, unit, after: before + unit * (100_000 // len(unit)) + after,
    messy_text,
    st.sampled_from(["x", "ab", "e\u0301", "ש", "\u0301", "\x00"]),
    messy_text,
)
# One example in ten has the long token: enough to exercise it, few enough to stay fast.
any_text = st.integers(0, 9).flatmap(lambda n: long_token if n == 0 else messy_text | st.text())
LONG_TOKEN = "Ein Satz. " + "x" * 100_000 + " Ende.\n"

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_spans_cover_the_text(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    """Within text[start:end], ordered, non-overlapping, trimmed spans, with only white space between them."""
    cursor = start
    for span_start, span_end in spans:
        assert cursor <= span_start < span_end <= end, f"span {span_start}:{span_end} after {cursor}, limit {end}"
        assert text[cursor:span_start].strip() == "", f"non-space text left out before {span_start}"
        assert not text[span_start].isspace() and not text[span_end - 1].isspace(), "span not trimmed"
        cursor = span_end
    assert text[cursor:end].strip() == "", f"non-space text left out after {cursor}"


@PROPERTY_SETTINGS
@given(any_text)
@example(LONG_TOKEN)
@example("Satz.\f\x00 \u0301 \n")
def test_sentence_spans_cover_every_non_space_character_once(text: str) -> None:
    assert_spans_cover_the_text(text, sentence_spans(text), 0, len(text))


@PROPERTY_SETTINGS
@given(st.data(), any_text)
def test_sentence_spans_of_a_part_stay_inside_it(data: st.DataObject, text: str) -> None:
    start = data.draw(st.integers(0, len(text)), label="start")
    end = data.draw(st.integers(start, len(text)), label="end")
    assert_spans_cover_the_text(text, sentence_spans(text, start, end), start, end)


def test_sentence_spans_refuse_bounds_outside_the_text() -> None:
    with pytest.raises(ValueError, match="outside the text"):
        sentence_spans("Satz eins.\n", 0, 12)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """Text cut into sections the way parsers make them: headings (no page) or one section per PDF page,
    with gaps (heading lines, page breaks) between them."""
    text = draw(any_text)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = list(zip([0, *cuts], [*cuts, len(text)], strict=True))
    paged = draw(st.booleans())
    sections = [
        Section(start, end, heading=None if paged else f"Abschnitt {number}", page=number if paged else None)
        for number, (start, end) in enumerate(bounds, start=1)
        if start < end and draw(st.booleans())
    ]
    return Document(Path("eigenschaften.md"), text, "hash", {}, sections or [Section(0, len(text))])


def assert_chunks_point_at_their_text(document: Document, chunks: list[Chunk], size: int) -> None:
    text = document.text
    for number, chunk in enumerate(chunks):
        assert chunk.number == number
        assert 0 <= chunk.start < chunk.end <= len(text) and text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= size
    regions: dict[int | None, list[Section]] = {}
    for section in document.sections:
        regions.setdefault(section.page, []).append(section)
    for page, sections in regions.items():
        start, end = sections[0].start, sections[-1].end
        on_page = [c for c in chunks if c.page == page]
        assert all(start <= c.start and c.end <= end for c in on_page), f"a chunk of page {page} lies outside it"
        assert [c.start for c in on_page] == sorted(c.start for c in on_page)
        cursor = start
        for chunk in sorted(on_page, key=lambda c: c.start):
            assert text[cursor : chunk.start].strip() == "", f"page {page}: text at {cursor} is in no chunk"
            cursor = max(cursor, chunk.end)
        assert text[cursor:end].strip() == "", f"page {page}: text at {cursor} is in no chunk"


@PROPERTY_SETTINGS
@given(documents(), st.integers(8, 400), st.integers(0, 400))
@example(Document(Path("lang.txt"), LONG_TOKEN, "hash", {}, [Section(0, len(LONG_TOKEN))]), 100, 25)
def test_chunks_cover_their_sections_and_point_at_their_own_text(document: Document, size: int, overlap: int) -> None:
    chunks = chunk_document(document, size, min(overlap, size))
    assert_chunks_point_at_their_text(document, chunks, size)


@settings(max_examples=60, deadline=None)
@given(messy_text | st.text(), st.sampled_from([".txt", ".md", ".html"]))
@example(LONG_TOKEN, ".txt")
@example("# Titel\n\nText am Ende \n\n\f", ".md")
def test_parsed_text_files_chunk_cleanly(text: str, suffix: str) -> None:
    try:
        document = parse_document(Path(f"beliebig{suffix}"), text.encode())
    except DocumentError:
        return  # binary-looking or empty input is refused with a message, which is correct
    assert all(0 <= s.start < s.end <= len(document.text) for s in document.sections)
    assert_chunks_point_at_their_text(document, chunk_document(document, 300, 60), 300)


pages = st.lists(any_text | st.sampled_from(["", " \n", "\f", "Letzte Zeile.\n", "\n\n"]), max_size=8)


@PROPERTY_SETTINGS
@given(pages)
@example(["Seite eins.\n", "", "Seite drei endet mit Zeilenumbruch.\n"])
def test_joined_pages_keep_each_page_text_at_its_offsets(page_texts: list[str]) -> None:
    text, sections = join_pages(page_texts)
    with_text = [number for number, page in enumerate(page_texts, start=1) if page.strip()]
    assert [section.page for section in sections] == with_text
    for section in sections:
        assert 0 <= section.start < section.end <= len(text), f"page {section.page} lies outside the text"
        assert text[section.start : section.end] == page_texts[section.page - 1].strip()
    gaps = zip([s.end for s in sections], [s.start for s in sections[1:]], strict=False)
    assert all(text[end:start] == "\n\n" for end, start in gaps)
    assert text == text.strip()


pdf_lines = st.lists(
    st.text(st.characters(codec="cp1252", exclude_categories=["Cc"]), max_size=40) | st.sampled_from(PIECES[:30]),
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(st.lists(pdf_lines, min_size=1, max_size=4))
def test_a_written_pdf_is_parsed_into_pages_that_chunk_cleanly(lines_per_page: list[list[str]]) -> None:
    """Real PDFs (pypdf's writer, a Td move after every line, as ReportLab does), read by the real parser."""
    data = content_stream_pdf([text_lines(lines) for lines in lines_per_page])
    try:
        document = parse_document(Path("seiten.pdf"), data)
    except DocumentError as error:
        assert "no text layer" in str(error)
        return
    assert all(0 <= s.start < s.end <= len(document.text) for s in document.sections), "a page outside the text"
    assert_chunks_point_at_their_text(document, chunk_document(document, 200, 50), 200)
