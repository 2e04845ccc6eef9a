"""Documents → chunks: sentence-aligned windows with overlap, each knowing its heading, page and offsets."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from ingest.documents import Document, Section
from rag.sentences import sentence_spans

WHITE_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Chunk:
    number: int
    start: int
    end: int
    text: str
    heading: str | None
    page: int | None


def chunk_document(document: Document, size: int, overlap: int) -> list[Chunk]:
    """Pack whole sentences into chunks of about `size` characters; repeat up to `overlap` characters.

    Chunks run across headings (heading lines become part of the text) but never across PDF pages,
    so every chunk knows its page; its heading is the one in force where it starts.
    """
    chunks: list[Chunk] = []
    for page, sections in groupby(document.sections, key=lambda section: section.page):
        sections = list(sections)
        region = Section(sections[0].start, sections[-1].end, page=page)
        for start, end in _pack(_bounded_spans(document.text, region, size), size, overlap):
            heading = next((s.heading for s in sections if s.end > start), None)
            chunks.append(Chunk(len(chunks), start, end, document.text[start:end], heading, page))
    return chunks


def _bounded_spans(text: str, section: Section, size: int) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than `size` cut at white space (mid-word if it has none)."""
    spans = []
    for start, end in sentence_spans(text, section.start, section.end):
        while end - start > size:
            cut = _cut_point(text, start, start + size)
            spans.append((start, cut))
            start = cut
            while text[start].isspace():  # stops before `end`: a sentence span ends in a non-space
                start += 1
        spans.append((start, end))
    return spans


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to end a piece of text[start:limit]: before its last white space in the second half,
    else at `limit`, moved back off combining marks so that an accent stays with its letter."""
    spaces = list(WHITE_SPACE.finditer(text, start + (limit - start) // 2, limit))
    if spaces:
        cut = spaces[-1].start()
        while text[cut - 1].isspace():  # stops after `start`: a sentence span starts with a non-space
            cut -= 1
        return cut
    cut = limit
    while cut - 1 > start and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1
    return cut


def _pack(spans: list[tuple[int, int]], size: int, overlap: int) -> Iterator[tuple[int, int]]:
    window: list[tuple[int, int]] = []
    for span in spans:
        if window and span[1] - window[0][0] > size:
            yield window[0][0], window[-1][1]
            window = _overlap_tail(window, overlap)
            if window and span[1] - window[0][0] > size:
                window = []
        window.append(span)
    if window:
        yield window[0][0], window[-1][1]


def _overlap_tail(window: list[tuple[int, int]], overlap: int) -> list[tuple[int, int]]:
    tail: list[tuple[int, int]] = []
    for span in reversed(window):
        if window[-1][1] - span[0] > overlap:
            break
        tail.insert(0, span)
    return tail


def embedding_text(title: str, chunk: Chunk) -> str:
    """What the embedder sees: the chunk under its document title and heading, for context."""
    context = " — ".join(part for part in (title, chunk.heading) if part)
    return f"{context}\n\n{chunk.text}" if context else chunk.text
