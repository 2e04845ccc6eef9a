"""How a source and its passage are shown to a reader, and a conversation as Markdown with its sources, for export."""

import re
from dataclasses import dataclass
from typing import Any

PAGE_LABEL = {"de": "S.", "en": "p."}
SECTION_LABEL = {"de": "Abschnitt", "en": "Section"}
# Said while the streamed answer is being replaced (assistant.Revising), by its step.
REVISING_NOTICE = {
    "de": {
        "translating": "Die Antwort wird in die Sprache der Frage übersetzt …",
        "asking_again": "Das Modell wird noch einmal gefragt, in der Sprache der Quellen …",
    },
    "en": {
        "translating": "Translating the answer into the language of the question …",
        "asking_again": "Asking the model again, in the language of the sources …",
    },
}
# A Markdown heading line inside a chunk (chunks run across headings): its marks, then its text.
HEADING_LINE = re.compile(r"^[ \t]*(#{1,6}[ \t]+)(.*?)([ \t]+#+)?[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class ReadablePassage:
    section: str | None  # the heading its supporting sentence (else its beginning) stands under
    text: str  # without Markdown heading marks
    support_start: int  # the supporting sentence's span, moved with the text
    support_end: int


def readable_passage(text: str, heading: str | None, support_start: int = 0, support_end: int = 0) -> ReadablePassage:
    """The passage without raw "## …" lines. A heading it opens with is left out, one further in keeps
    its words as a line of their own; the section is the last heading before the supporting sentence,
    else the chunk's `heading`."""
    removed: list[tuple[int, int]] = []  # spans of `text` left out, in order
    section, opening = heading, 0  # `opening`: where the heading lines the passage opens with end
    for match in HEADING_LINE.finditer(text):
        opens = not text[opening : match.start()].strip()
        if opens or match.start() <= support_start:
            section = re.sub(r"[*_`]+", "", match.group(2)).strip() or section
        if opens:
            opening = len(text) - len(text[match.end() :].lstrip())
            removed.append((match.start(), opening))
        else:
            removed.append(match.span(1))
            if match.group(3):
                removed.append(match.span(3))
    kept, cursor = [], 0
    for start, end in removed:
        kept.append(text[cursor:start])
        cursor = end
    kept.append(text[cursor:])

    def moved(offset: int) -> int:
        return offset - sum(max(0, min(end, offset) - start) for start, end in removed)

    return ReadablePassage(section, "".join(kept), moved(support_start), moved(support_end))


def source_line(passage: dict[str, Any], lang: str) -> str:
    """`Title — Author, Date (file or URL, p. N)` for a passage or citation as `to_json()` gives it."""
    byline = ", ".join(str(part) for part in (passage.get("author"), passage.get("date")) if part)
    where = passage.get("url") or passage.get("source") or ""
    if passage.get("page"):
        where += f", {PAGE_LABEL.get(lang, 'p.')} {passage['page']}"
    return f"{passage.get('title') or ''}" + (f" — {byline}" if byline else "") + f" ({where})"


def to_markdown(turns: list[dict[str, Any]], title: str) -> str:
    """Turns are `Answer.to_json()` dicts, in order."""
    lines = [f"# {title}", ""]
    for turn in turns:
        lines += [f"## {turn['question']}", "", turn["answer"], ""]
        for citation in turn["citations"]:
            lines.append(f"[{citation['n']}] {source_line(citation, turn.get('lang', 'de'))}")
            lines += ["", "> " + " ".join(citation["text"].split()), ""]
    return "\n".join(lines).rstrip() + "\n"
