"""Degenerate repetition: a run of words that an answer says twice."""

import re

from rag.prompts import CITATION_MARKER

WORD = re.compile(r"\w+")


def repeated_run(text: str, words: int = 8) -> str | None:
    """The longest run of at least `words` words that occurs twice in `text`, or None.

    Words are compared case-insensitively; punctuation and citation markers like [2] do not count,
    so "… ihre Fähigkeiten nutzen [1]. Ihre Fähigkeiten nutzen …" repeats across the sentence end.
    The two occurrences may overlap: "a b a b a b a b a b" repeats "a b a b a b a b".
    """
    tokens = WORD.findall(CITATION_MARKER.sub(" ", text).casefold())
    first_seen: dict[tuple[str, ...], int] = {}
    longest: list[str] = []
    for later in range(len(tokens) - words + 1):
        earlier = first_seen.setdefault(tuple(tokens[later : later + words]), later)
        if earlier == later:
            continue
        length = words
        while later + length < len(tokens) and tokens[earlier + length] == tokens[later + length]:
            length += 1
        if length > len(longest):
            longest = tokens[earlier : earlier + length]
    return " ".join(longest) or None
