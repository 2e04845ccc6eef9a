"""Files → documents: decoded text, sections (heading or page) and citation metadata."""

import hashlib
import io
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path

import py3langid
import yaml
from pypdf import PdfReader
from pypdf.errors import DependencyError, PdfReadError, PyPdfError

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
METADATA_KEYS = ("title", "author", "date", "url", "lang", "kind")
# Share of control characters above which decoded "text" is really binary data.
MAX_CONTROL_CHAR_SHARE = 0.01
MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
CODE_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
FRONT_MATTER = re.compile(r"\A-{3,}[ \t]*\n(.*?\n)?-{3,}[ \t]*(?:\n|\Z)", re.DOTALL)


class DocumentError(Exception):
    """A file that cannot become a document; the message is one line for the editor."""


@dataclass(frozen=True)
class Section:
    """A span of the document text that shares one heading (or one PDF page)."""

    start: int
    end: int
    heading: str | None = None
    page: int | None = None


@dataclass
class Document:
    path: Path
    text: str
    content_hash: str
    metadata: dict[str, str]
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or a DocumentError saying in one line why not."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise DocumentError("not a regular file (a device, pipe or socket)")
        if status.st_size > max_bytes:
            raise DocumentError(
                f"file is {_megabytes(status.st_size)} MB, over the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)"
            )
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # a file growing while read cannot exceed the limit either
        if len(data) > max_bytes:
            raise DocumentError(f"file grew past the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB) while read")
    except PermissionError:
        raise DocumentError("permission denied: the file cannot be read") from None
    except OSError as error:
        raise DocumentError(f"cannot read the file: {error.strerror or error}") from None
    if not data.strip():
        raise DocumentError("empty file")
    return data


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}" if size >= 1e5 else f"{size / 1e6:.3g}"


def parse_document(path: Path, data: bytes, max_bytes: int | None = None) -> Document:
    """Turn a supported file's bytes into a Document; DocumentError when it holds no usable text.

    `max_bytes` also limits what a PDF's page content inflates to: a small PDF can show one huge
    content stream on every page and become millions of characters."""
    suffix = path.suffix.lower()
    parsers = {
        ".md": _parse_markdown,
        ".markdown": _parse_markdown,
        ".txt": _parse_plain_text,
        ".html": _parse_html,
        ".htm": _parse_html,
        ".pdf": partial(_parse_pdf, max_bytes=max_bytes),
    }
    if suffix not in parsers:
        supported = " ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(f"unsupported file type '{suffix or path.name}' (supported: {supported})")
    document = parsers[suffix](path, data)
    if not document.text.strip():
        raise DocumentError("no text found in the file")
    document.metadata.setdefault("title", _title_from_filename(path))
    document.metadata.setdefault("lang", detect_language(document.text))
    return document


def detect_language(text: str) -> str:
    lang, _ = py3langid.classify(text[:5000])
    return lang


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes as text (BOM-aware UTF-8/16/32, Windows-1252 fallback); reject binary data."""
    warnings: list[str] = []
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                name = encoding.upper()
                raise DocumentError(f"has a {name} byte-order mark but is not valid {name}") from None
            break
    else:
        if b"\x00" in data:
            raise DocumentError("binary content, not text")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            warnings.append("not valid UTF-8; read as Windows-1252 (Latin-1)")
    text = normalize_text(text)
    control = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\n\t\f")
    if control > MAX_CONTROL_CHAR_SHARE * max(len(text), 1):
        raise DocumentError("binary content, not text")
    return text, warnings


def normalize_text(text: str) -> str:
    """One line-ending convention and NFC, so offsets and hashes of equal text agree."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _parse_markdown(path: Path, data: bytes) -> Document:
    raw, warnings = decode_text(data)
    front_matter, text = _split_front_matter(raw.strip())
    metadata = _clean_metadata(front_matter)
    sections = _markdown_sections(text)
    if "title" not in metadata:
        match = MARKDOWN_HEADING.search(text)
        if match and len(match.group(1)) == 1:
            metadata["title"] = match.group(2).strip()
    return Document(path, text, content_hash(data), metadata, sections, warnings)


def _split_front_matter(text: str) -> tuple[dict, str]:
    """YAML between leading '---' lines → (mapping, rest). Anything else there is an error, never dropped."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        front_matter = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as error:
        first_line = str(error).strip().splitlines()[0]
        raise DocumentError(f"front matter is not valid YAML: {first_line}") from None
    if front_matter is None:
        front_matter = {}
    if not isinstance(front_matter, dict):
        raise DocumentError("front matter is not a YAML mapping of keys to values")
    return front_matter, text[match.end() :].strip()


def _markdown_sections(text: str) -> list[Section]:
    fenced = _fenced_ranges(text)
    headings = [m for m in MARKDOWN_HEADING.finditer(text) if not any(a <= m.start() < b for a, b in fenced)]
    return _sections_between(text, [(m.start(), m.end(), _strip_inline_markdown(m.group(2))) for m in headings])


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    marks = [m.start() for m in CODE_FENCE.finditer(text)]
    return list(zip(marks[::2], marks[1::2] + [len(text)] * (len(marks) % 2), strict=True))


def _strip_inline_markdown(heading: str) -> str:
    return re.sub(r"[*_`]+", "", heading).strip()


def _sections_between(text: str, headings: list[tuple[int, int, str]]) -> list[Section]:
    """Sections from heading spans (start, end, heading text); text before the first has no heading."""
    sections: list[Section] = []
    cursor, current = 0, None
    for start, end, heading in headings:
        if text[cursor:start].strip():
            sections.append(Section(cursor, start, current))
        cursor, current = end, heading
    if text[cursor:].strip():
        sections.append(Section(cursor, len(text), current))
    return sections


def _parse_plain_text(path: Path, data: bytes) -> Document:
    text, warnings = decode_text(data)
    headings = _plain_text_headings(text)
    return Document(path, text, content_hash(data), {}, _sections_between(text, headings), warnings)


def _plain_text_headings(text: str) -> list[tuple[int, int, str]]:
    """A short one-line paragraph without closing punctuation, followed by more text, reads as a heading."""
    headings = []
    for match in re.finditer(r"(?:^|\n\n)([^\n]{3,120})(?=\n\n[^\n])", text):
        line = match.group(1).strip()
        if line and line[-1] not in ".!?:;,…\"“”'»)" and not line.startswith(("-", "*", "•")):
            headings.append((match.start(1), match.end(1), line))
    return headings


def _parse_html(path: Path, data: bytes) -> Document:
    from ingest.html import html_to_markdown

    raw, warnings = decode_text(data)
    markdown, metadata = html_to_markdown(raw)
    text = normalize_text(markdown)
    return Document(path, text, content_hash(data), _clean_metadata(metadata), _markdown_sections(text), warnings)


def _parse_pdf(path: Path, data: bytes, max_bytes: int | None) -> Document:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF that needs a password")
        if max_bytes is not None:
            _check_content_size(reader, max_bytes)
        pages = [normalize_text(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (
        PdfReadError,
        PyPdfError,
        DependencyError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
    ) as error:
        raise DocumentError(f"not a readable PDF ({_one_line(error)})") from None
    if not any(page.strip() for page in pages):
        raise DocumentError("PDF has no text layer (scanned?); run OCR on it first")
    text, sections = join_pages(pages)
    metadata = {}
    if info:
        metadata = _clean_metadata({"title": info.title, "author": info.author, "date": _pdf_date(info)})
    return Document(path, text, content_hash(data), metadata, sections)


def join_pages(pages: list[str]) -> tuple[str, list[Section]]:
    """The pages' text, blank-line separated, and one section per page with text (numbered from 1).

    Each page is stripped before its offsets are taken: extractors end a page with the line break of
    the last text move, and stripping the joined text afterwards left the last section ending past it."""
    text, sections = "", []
    for number, page_text in enumerate(pages, start=1):
        page_text = page_text.strip()
        if page_text:
            text += "\n\n" if text else ""
            sections.append(Section(len(text), len(text) + len(page_text), page=number))
            text += page_text
    return text, sections


def _check_content_size(reader: PdfReader, max_bytes: int) -> None:
    """Refuse a PDF whose pages' content streams add up to more than the file size limit, before extracting."""
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        contents = page.get_contents()
        total += len(contents.get_data()) if contents is not None else 0
        if total > max_bytes:
            raise DocumentError(
                f"page content inflates past the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB) by page {number}"
            )


def _pdf_date(info) -> str | None:
    try:
        created = info.creation_date
    except (ValueError, TypeError):
        return None
    return created.date().isoformat() if created else None


def _clean_metadata(raw: dict) -> dict[str, str]:
    """Citation fields as non-empty strings; dates as ISO text, lists joined."""
    cleaned = {}
    for key in METADATA_KEYS:
        value = raw.get(key)
        if key == "author" and not value and raw.get("authors"):
            value = raw["authors"]
        if isinstance(value, (datetime, date)):
            value = value.isoformat()[:10]
        elif isinstance(value, (list, tuple)):
            value = "; ".join(str(item) for item in value)
        if value is not None and str(value).strip():
            cleaned[key] = " ".join(str(value).split())
    return cleaned


def _title_from_filename(path: Path) -> str:
    """NFC like the text: macOS writes names decomposed (NFD), which BM25 would split apart."""
    return unicodedata.normalize("NFC", re.sub(r"[-_]+", " ", path.stem).strip() or path.name)


def _one_line(error: Exception) -> str:
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}"[:200] if message else type(error).__name__
