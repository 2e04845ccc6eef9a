"""A degenerate loop cut from a streamed answer before a reader sees it.

Greedy decoding of a small model can fall into "… ihre Macht nutzen und ihre Macht nutzen …". The
decoder is kept from repeating itself (generators.py); what slips through is cut here: the stream is
held back by the words that could still turn out to be a repetition's beginning, and a run of
`LOOP_WORDS` words said twice ends the answer where the
repetition began, at the last complete sentence before it.
"""

import re
from collections.abc import Iterable, Iterator

LOOP_WORDS = 8
# A word; citation markers "[1]" don't count as words.
WORD = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]|(\w+)")
SENTENCE_END = re.compile(r"[.!?…:](?:\s*\[\d+\])*[\"'“”»)]*\s")


def without_loops(pieces: Iterable[str]) -> Iterator[str]:
    """The streamed pieces, held back by up to LOOP_WORDS - 1 words, stopping before a loop."""
    text, shown, runs = "", 0, _Runs()
    for piece in pieces:
        text += piece
        words = _words(text)
        complete = words if text[-1:].isspace() or not text[-1:].isalnum() else words[:-1]
        cut = runs.loop_start(complete)
        if cut is not None:
            ending = _last_sentence_end(text, cut, shown)
            if ending > shown:
                yield text[shown:ending]
            return
        safe = complete[-(LOOP_WORDS - 1)][1] if len(complete) >= LOOP_WORDS - 1 else 0
        if safe > shown:
            yield text[shown:safe]
            shown = safe
    cut = runs.loop_start(_words(text))
    end = len(text) if cut is None else _last_sentence_end(text, cut, shown)
    if end > shown:
        yield text[shown:end]


def _words(text: str) -> list[tuple[str, int]]:
    """(lower-cased word, start offset) for every word of the text."""
    return [(m.group(1).casefold(), m.start()) for m in WORD.finditer(text) if m.group(1)]


class _Runs:
    """The runs of LOOP_WORDS words seen so far, each word position examined once. A run counts as
    said again also where it overlaps its first saying ("a b a b a b …"), as in rag.repetition."""

    def __init__(self) -> None:
        self.first_seen: dict[tuple[str, ...], int] = {}
        self.examined = LOOP_WORDS  # runs ending before this word index were examined

    def loop_start(self, words: list[tuple[str, int]]) -> int | None:
        """Offset where the text starts repeating itself: the first word of a run that stood before."""
        tokens = [word for word, _ in words]
        for end in range(self.examined, len(tokens) + 1):
            self.examined = end + 1
            first = self.first_seen.setdefault(tuple(tokens[end - LOOP_WORDS : end]), end - LOOP_WORDS)
            if first != end - LOOP_WORDS:
                return words[_repeat_begins(tokens[:end], first, LOOP_WORDS)][1]
        return None


def _repeat_begins(tokens: list[str], first: int, size: int) -> int:
    """Index of the word where the text starts saying again what it said from `first` on."""
    tail_start = len(tokens) - size
    period = tail_start - first
    begin = tail_start
    while begin - period > first and tokens[begin - 1] == tokens[begin - 1 - period]:
        begin -= 1
    return begin


def _last_sentence_end(text: str, cut: int, shown: int) -> int:
    """Where the last sentence ending before `cut` ends, but never before what was already shown."""
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, cut + 1)]
    return max([shown, *ends]) if ends else max(shown, cut)
