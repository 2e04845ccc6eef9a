"""HTML → main text as Markdown (no script, style, navigation or footer) plus citation metadata."""

import trafilatura

from ingest.documents import DocumentError


def html_to_markdown(html: str) -> tuple[str, dict]:
    markdown = trafilatura.extract(
        html,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_recall=True,
    )
    if not markdown or not markdown.strip():
        raise DocumentError("no main text found in the HTML")
    found = trafilatura.extract_metadata(html, extensive=False)  # no dates guessed from "© 2024"
    metadata = {}
    if found is not None:
        metadata = {"title": found.title, "author": found.author, "date": found.date, "url": found.url}
    return markdown, metadata
