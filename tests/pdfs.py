"""PDFs written the way real producers write them: fpdf2, and pypdf's writer with content streams
written by hand (positioned text runs, an inline image, a drawn image, an overlay merged over a page)."""

import base64
import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject

LINE_HEIGHT = 14


def fpdf_pdf(pages: list[str] | tuple[str, ...], title: str | None = None, author: str | None = None) -> bytes:
    """fpdf2, Helvetica 12, each page's text in one multi_cell."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (the encoding the Helvetica resource declares)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def text_lines(lines: list[str], top: int = 720) -> bytes:
    """One BT … ET with a Td move to the next line after every line, the last one included
    (what ReportLab's text objects do, and what makes an extractor end the page with a line break)."""
    operators = [b"BT /F1 12 Tf %d %d Td" % (72, top)]
    for line in lines:
        operators.append(pdf_string(line) + b" Tj 0 -%d Td" % LINE_HEIGHT)
    operators.append(b"ET")
    return b"\n".join(operators) + b"\n"


def positioned_runs(lines: list[str], top: int = 72) -> bytes:
    """Skia's way (Google Docs export): a flipped page matrix, then every word in its own BT … ET
    placed by a Tm, the space after it a run of its own, and an empty run for the closing empty paragraph."""
    operators = [b"1 0 0 -1 0 792 cm"]
    for row, line in enumerate([*lines, ""]):
        x, y = 72.0, top + row * LINE_HEIGHT
        runs = [run for word in line.split(" ") for run in (word, " ")] if line else [""]
        for run in runs:
            operators.append(b"q BT /F1 12 Tf 1 0 0 -1 %.2f %d Tm %s Tj ET Q" % (x, y, pdf_string(run)))
            x += 6.0 * len(run) + 0.5
    return b"\n".join(operators) + b"\n"


def inline_image(x: int = 72, y: int = 500) -> bytes:
    """A 2×2 grey image inside the content stream (BI … ID … EI), with binary bytes as ReportLab writes them."""
    return b"q 40 0 0 40 %d %d cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00\xff\x7f\x0a EI Q\n" % (x, y)


def drawn_image(name: bytes = b"/Im0") -> bytes:
    """The page-filling image ImageMagick draws first (the image named in `content_stream_pdf`'s resources)."""
    return b"q 612 0 0 792 0 0 cm %s Do Q\n" % name


def content_stream_pdf(pages: list[bytes], producer: str | None = None, title: str | None = None) -> bytes:
    """pypdf's writer; each page shows the given content stream with Helvetica (WinAnsi) as /F1 and a
    2×2 grey image, ASCII85-encoded as ImageMagick writes it, as /Im0."""
    writer = PdfWriter()
    image = StreamObject()
    image.set_data(base64.a85encode(bytes([0, 255, 127, 10])) + b"~>")
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(2),
            NameObject("/Height"): NumberObject(2),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/ASCII85Decode"),
        }
    )
    image_ref = writer._add_object(image)
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for content in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
                NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): image_ref}),
            }
        )
        stream = StreamObject()
        stream.set_data(content)
        page[NameObject("/Contents")] = writer._add_object(stream)
    metadata = {key: value for key, value in (("/Producer", producer), ("/Title", title)) if value}
    if metadata:
        writer.add_metadata(metadata)
    return written(writer)


def with_second_content_stream(data: bytes, page_index: int, content: bytes) -> bytes:
    """The page gets another content stream after its own (/Contents becomes an array)."""
    writer = editable(data)
    page = writer.pages[page_index]
    stream = StreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = ArrayObject([page.raw_get("/Contents"), writer._add_object(stream)])
    return written(writer)


def overlaid(base: bytes, overlay: bytes) -> bytes:
    """Every page of `base` with the first page of `overlay` merged over it (a stamp, a letterhead)."""
    stamp = PdfReader(io.BytesIO(overlay)).pages[0]
    writer = editable(base)
    for page in writer.pages:
        page.merge_page(stamp)
    return written(writer)


def editable(data: bytes) -> PdfWriter:
    """A writer holding a copy of the PDF `data`, to change and then save with `written`."""
    return PdfWriter(clone_from=PdfReader(io.BytesIO(data)))


def written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
