"""Safe rendering: text from documents and from the model is shown as text, never as markup."""

import re
from typing import Any

import streamlit as st

from rag.conversation import PAGE_LABEL, SECTION_LABEL, readable_passage
from ui.texts import TEXTS

# Backslash-escaping every Markdown punctuation character makes links, images, emphasis, HTML,
# LaTeX, emoji codes and Streamlit's :color[...] directives print as the characters they are.
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")
SAFE_URL = re.compile(r"^https?://[^\s<>\"'`]+$")


def inert(text: str) -> str:
    """Text as Markdown that renders exactly this text, line breaks kept."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", text).replace("\n", "  \n")


def highlighted(text: str, start: int, end: int) -> str:
    """The passage with its supporting sentence on a coloured background."""
    if not 0 <= start < end <= len(text):
        return inert(text)
    return f"{inert(text[:start])}:orange-background[{inert(text[start:end])}]{inert(text[end:])}"


def source_card(number: int, passage: dict[str, Any], lang: str, support: dict[str, int] | None = None) -> None:
    """One numbered source: title, author, date, kind, link or file and page, and the passage."""
    texts = TEXTS[lang]
    with st.expander(f"\\[{number}\\] {inert(passage.get('title') or passage.get('source') or '')}"):
        kind = texts.get(f"kind_{passage.get('kind')}", passage.get("kind") or "")
        byline = " · ".join(str(part) for part in (passage.get("author"), passage.get("date"), kind) if part)
        if byline:
            st.caption(inert(byline))
        url = passage.get("url") or ""
        if SAFE_URL.match(url):
            st.link_button(texts["open_source"], url)
        location = f"{texts['file']}: {passage.get('source') or ''}"
        if passage.get("page"):
            location += f", {PAGE_LABEL[lang]} {passage['page']}"
        st.caption(inert(location))
        start, end = (support["start"], support["end"]) if support else (0, 0)
        shown = readable_passage(passage.get("text") or "", passage.get("heading"), start, end)
        if shown.section:
            st.caption(inert(f"{SECTION_LABEL[lang]}: {shown.section}"))
        if support:
            st.markdown(highlighted(shown.text, shown.support_start, shown.support_end))
        else:
            st.markdown(inert(shown.text))
