"""Text → sentences, for German and English prose, as offsets into the text.

A regular expression plus an abbreviation list rather than a maintained segmenter: on the labelled
sample of bench/sentence_splitting.py it gets more sentence ends right than somajo, syntok and
sentencex (which split "im 20. Jahrhundert" and "der 1. FC"), it gives offsets, and it runs about a
thousand times faster than the embedder (somajo, only ~7 times faster, would add a seventh to ingest).
"""

import re
from collections.abc import Iterator

# Lower-cased, without the final period. Multi-part ones ("z.b") are matched with inner periods.
ABBREVIATIONS = frozenset(
    (
        "z.b u.a bzw prof dr nr s ca vgl usw etc d.h u.u ggf inkl zzgl evtl bspw sog hrsg abb tab kap jh "
        "mio mrd str st e.v i.d.r o.ä u.ä z.t u.v.m dipl ing mag abs bd hg jhd lt min max mind sek std "
        "tel usf v.a vs zb dt engl frz lat med phil rer nat pol oec geb gegr jan feb mär apr jun jul "
        "aug sep sept okt nov dez mr mrs ms e.g i.e et al cf fig no nos p pp vol eds ed inc ltd co corp "
        "approx dept est jr sr resp"
    ).split()
)
# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by white space.
SENTENCE_END = re.compile(r"[.!?…]+[\"'“”‘’»«)\]]*(?=\s)")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•]|\d+[.)])[ \t])")
WORD_BEFORE_PERIOD = re.compile(r"([\w.\-]+)\.$")
# Abbreviations that close a list ("Preise, Rabatte usw."): before a capital they end the sentence too.
LIST_ENDINGS = frozenset("usw usf etc u.v.m u.ä o.ä".split())
# "am 3. Mai", "im 20. Jahrhundert": a small number with a period is an ordinal after these words or before these.
ORDINAL_PRECEDERS = frozenset("am vom zum zur bis ab seit im den dem der des die das ihr ihre sein seine".split())
ORDINAL_FOLLOWERS = frozenset(
    (
        "januar februar märz april mai juni juli august september oktober november dezember "
        "jahrhundert jahrestag geburtstag platz stelle rang auflage kapitel quartal kalenderwoche"
    ).split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in text[start:end], white space trimmed."""
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {start}:{end} lies outside the text of {len(text)} characters")
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text, start, end):
        cursor = para_start
        for match in SENTENCE_END.finditer(text, para_start, para_end):
            if _is_sentence_end(text, match.start(), match.end(), para_end):
                spans.append((cursor, match.end()))
                cursor = match.end()
        spans.append((cursor, para_end))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def sentence_spans_or_whole(text: str) -> list[tuple[int, int]]:
    """The text's sentences, or the whole text as one span when it has none (blank text)."""
    return sentence_spans(text) or [(0, len(text))]


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    cursor = start
    for match in PARAGRAPH_BREAK.finditer(text, start, end):
        yield cursor, match.start()
        cursor = match.end()
    yield cursor, end


def _is_sentence_end(text: str, mark_start: int, mark_end: int, limit: int) -> bool:
    following = text[mark_end:limit].lstrip()
    if not following:
        return True
    if following[0].islower():
        return False
    if text[mark_start] != "." or text[mark_start:mark_end].startswith(".."):
        return True
    word_match = WORD_BEFORE_PERIOD.search(text, max(0, mark_start - 40), mark_start + 1)
    if not word_match:
        return True
    word = word_match.group(1).lower().split("-")[-1]
    if word in LIST_ENDINGS:
        return True
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial, as in "Homburg, C. & Jensen"
    if word.isdigit() and not text[text.rfind("\n", 0, word_match.start()) + 1 : word_match.start()].strip():
        return False  # a list enumerator at the start of a line: "1. Informationsaustausch"
    if word.isdigit() and len(word) <= 2:
        return not _is_ordinal(text, word_match.start(), following)
    return True


def _is_ordinal(text: str, number_start: int, following: str) -> bool:
    before = text[max(0, number_start - 20) : number_start].split()
    next_word = following.split(maxsplit=1)[0].strip(".,;:").lower()
    return bool(before and before[-1].lower() in ORDINAL_PRECEDERS) or next_word in ORDINAL_FOLLOWERS


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None
