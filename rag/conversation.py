"""How a source is named to a reader, and a conversation as Markdown with its sources, for export."""

from typing import Any

PAGE_LABEL = {"de": "S.", "en": "p."}


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
