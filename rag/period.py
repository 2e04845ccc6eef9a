"""Does the answer speak of the year the question asks about?

Articles that follow a story over the years (a trade fair in 2023 and again in 2024, a study's first
and second wave) hold passages that differ only in the year. Asked about one year, a small model
readily answers with another year's figure from the passage beside it ("24 Stunden" for the 2023
fair, where the 48 hours of 2023 stand in the other article). A cited sentence speaks of the years it
names; one that names none, of those the nearest sentence before it in its paragraph names, or the
heading above that ("## Die Zahlen 2024" … "Aus den B-Kontakten entstanden 23 Opportunities.").
A day's date counts for no year: bylines stand right before an article's first sentence.
"""

import re
from collections.abc import Iterator

from rag.citations import Citation
from rag.grounding import YEAR
from rag.sentences import sentence_spans

BLANK_LINE = re.compile(r"\n[ \t]*\n")
MONTH = (
    r"(?:jan(?:uar|uary)?|feb(?:ruar|ruary)?|märz|mär|mar(?:ch)?|apr(?:il)?|mai|may|jun[ie]?|jul[iy]?|"
    r"aug(?:ust)?|sep(?:t|tember)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)"
)
# A day's date ("23.04.2024", "2023-11-14", "9. Mai 2023", "Nov 20, 2023") mostly stamps when an
# article was written or updated, in its byline: no year its sentences speak of.
DATE = re.compile(
    rf"\b(?:\d{{1,2}}[./]\d{{1,2}}[./]\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\.?\s+{MONTH}\.?\s+\d{{4}}|"
    rf"{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})(?!\d)",
    re.IGNORECASE,
)
HEADING = re.compile(r"^\s*#")


def speaks_of_another_year(question: str, citations: list[Citation]) -> bool:
    """The question names a year and every cited sentence speaks of other years only."""
    asked = set(YEAR.findall(question))
    if not asked or not citations:
        return False
    spoken = [_years_spoken_of(c.passage.text, c.support_start, c.support_end) for c in citations]
    return all(years and not years & asked for years in spoken)


def _years_spoken_of(text: str, start: int, end: int) -> set[str]:
    """The years the sentence at text[start:end] names, else those of the nearest sentence before it
    in its paragraph that names any ("aus den Jahren 2007 und 2008"), else those of the heading right
    above the paragraph; empty if none does."""
    for words in _sentence_and_context(text, start, end):
        named = set(YEAR.findall(DATE.sub(" ", words)))
        if named:
            return named
    return set()


def _sentence_and_context(text: str, start: int, end: int) -> Iterator[str]:
    yield text[start:end]
    breaks = [m.end() for m in BLANK_LINE.finditer(text, 0, start)]
    paragraph_start = breaks[-1] if breaks else 0
    for before_start, before_end in reversed(sentence_spans(text, paragraph_start, start)):
        yield text[before_start:before_end]
    line_above = text[:paragraph_start].rstrip().rsplit("\n", 1)[-1]
    if HEADING.match(line_above):
        yield line_above
