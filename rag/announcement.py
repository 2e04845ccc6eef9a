"""An answer resting on a sentence that only announces a list names none of the listed items.

"Sie haben vier konkrete Gegenstandsfelder ausfindig gemacht, in denen Verkauf und Marketing
voneinander lernen können." shares the question's words, so a small model copies it for "Was lernt
der Vertrieb?", but the items follow in the next sentences, often in the next chunk. When a cited
sentence announces (a heading; a count before a plural noun or a closing colon, without listing) and
the answer names none of the items, the listing that follows within LOOKAHEAD sentences of the same
document is quoted after the answer and cited, when the question asks what or which (a count
announced is the answer to how many). An announcing sentence on the way extends the search
("## Das können … lernen", then "Sie haben vier … Felder gefunden", then the list). A listing from a
chunk that was not retrieved joins the passages, so that every citation stays among them.
"""

import re
from collections.abc import Callable

from rag.asked import AMOUNT_QUESTION, SHARE_QUESTION
from rag.citations import LIST_ITEM, MARKER_GROUP, Citation
from rag.lexical import WORD, shares_a_word, tokenize
from rag.retrieval import Passage
from rag.sentences import sentence_spans_or_whole

LOOKAHEAD = 2
GERMAN_COUNT = r"zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|[2-9]|1[0-2]"
ENGLISH_COUNT = r"[Tt]wo|[Tt]hree|[Ff]our|[Ff]ive|[Ss]ix|[Ss]even|[Ee]ight|[Nn]ine|[Tt]en|[2-9]|1[0-2]"
# Counted things that are amounts, not a list: "seit drei Jahren", "in five weeks".
MEASURES = (
    r"(?i:jahre?n?|monate?n?|wochen?|tage?n?|stunden?|minuten?|prozent|euro|mio|mrd|mal|"
    r"years|months|weeks|days|hours|minutes|percent|times)\b"
)
# A count before a noun, with up to two words between ("vier konkrete Gegenstandsfelder", "three
# main reasons"), or a closing colon.
ANNOUNCING = re.compile(
    rf"\b(?:{GERMAN_COUNT})\s+(?:[a-zäöüß-]+\s+){{0,2}}?(?!{MEASURES})[A-ZÄÖÜ][\w-]{{2,}}"
    rf"|\b(?:{ENGLISH_COUNT})\s+(?:[a-z-]+\s+){{0,2}}?(?!{MEASURES})[a-z-]{{2,}}s\b"
    r"|:\s*$"
)
NUMBERED_ITEM = re.compile(r"\(\d{1,2}\)|(?<![\w.,])\d{1,2}\)")
CLOSING_PUNCTUATION = re.compile(r"[.!?…:;]+$")
CONJUNCTION = re.compile(r"\b(?:und|sowie|oder|and|or)\b")
THINGS_QUESTION = re.compile(r"\b(?:was|welche[rsmn]?|what|which)\b", re.IGNORECASE)
# A stretch of a passage's text: (passage, start, end).
Span = tuple[Passage, int, int]


def complete_announced_list(
    answer: str,
    citations: list[Citation],
    passages: list[Passage],
    question: str,
    lang: str,
    following: Callable[[Passage], Passage | None],
) -> tuple[str, list[Citation], list[Passage]]:
    """The answer with the first missing listing quoted and cited after it, its citations and the
    passages (one more if the listing came from the chunk after a retrieved one)."""
    if not _asks_for_things(question):
        return answer, citations, passages
    said = set(WORD.findall(MARKER_GROUP.sub(" ", answer).casefold()))
    announcing = [
        (citation.passage, end, sentence)
        for citation in citations
        if citation.passage.metadata.get("lang") in (None, lang)
        for end, sentence in _announcing_sentences(citation, said)
    ]
    for cited, end, sentence in announcing:
        found = _listing_after(cited, end, sentence, question, following)
        if found is None:
            continue
        passage, start, end = found
        listing = passage.text[start:end].strip()
        if _names_items(answer, listing, sentence, question):
            continue
        known = next((p for p in passages if p.chunk_id == passage.chunk_id), None)
        if known is None:
            passages = [*passages, passage]
        passage = known or passage
        number = next((c.n for c in citations if c.passage.chunk_id == passage.chunk_id), len(citations) + 1)
        # Quoted word for word: the support a literal copy gets.
        added = [] if number <= len(citations) else [Citation(number, passage, start, end, 1.0)]
        separator = "\n" if LIST_ITEM.match(listing) else " "
        return f"{answer.rstrip()}{separator}{_cited(listing, number)}", [*citations, *added], passages
    return answer, citations, passages


def _cited(text: str, number: int) -> str:
    """The marker before the closing punctuation; after a closing parenthesis or quote, so that an
    aside stays whole ("… (vorher: 4,2 Tage!) [1]")."""
    end = CLOSING_PUNCTUATION.search(text)
    cut = end.start() if end else len(text)
    return f"{text[:cut]} [{number}]{text[cut:]}"


def _announcing_sentences(citation: Citation, said: set[str]) -> list[tuple[int, str]]:
    """End and text of the cited sentence if it announces, and of the cited passage's other sentences
    whose count and counted noun the answer (its casefolded words: `said`) says again ("vier
    Gegenstandsfelder"): several claims may cite one passage, and its citation keeps only the sentence
    that supports one of them best."""
    text = citation.passage.text
    cited = text[citation.support_start : citation.support_end]
    found = [(citation.support_end, cited)] if _announces(cited) else []
    for start, end in sentence_spans_or_whole(text):
        sentence = text[start:end]
        if end != citation.support_end and _announces(sentence) and _restated(sentence, said):
            found.append((end, sentence))
    return found


def _restated(sentence: str, said: set[str]) -> bool:
    """The answer's words include an announced count and the noun it counts."""
    for match in ANNOUNCING.finditer(sentence):
        words = WORD.findall(match.group().casefold())
        if len(words) >= 2 and {words[0], words[-1]} <= said:
            return True
    return False


def _announces(sentence: str) -> bool:
    """A heading, or a sentence that counts or opens what it does not list."""
    sentence = sentence.strip()
    return sentence.startswith("#") or (bool(ANNOUNCING.search(sentence)) and not _lists(sentence))


def _asks_for_things(question: str) -> bool:
    """What or which, not how many or what share: a count announced is the answer to those."""
    return bool(THINGS_QUESTION.search(question)) and not (
        AMOUNT_QUESTION.search(question) or SHARE_QUESTION.search(question)
    )


def _lists(sentence: str) -> bool:
    """Names two or more items: numbered "(1) … (2)", or two commas and "und"/"and" after the last
    ("A, B und C"; not an aside: "Die Weidmann AG, ein Hersteller von Pumpen und Anlagen, hat …")."""
    if len(NUMBERED_ITEM.findall(sentence)) >= 2:
        return True
    return sentence.count(",") >= 2 and bool(CONJUNCTION.search(sentence.rsplit(",", 1)[1]))


def _listing_after(
    cited: Passage, offset: int, announcing: str, question: str, following: Callable[[Passage], Passage | None]
) -> Span | None:
    """The first listing among the LOOKAHEAD sentences after the cited one in its document (a run of
    list items counts as one sentence); one further on must share a word with the announcement and
    with the question (after "vier Felder …" the sentence on what sales learns is no answer to what
    marketing learns). A heading ends the search."""
    candidates = _sentences_after(cited, offset)
    if len(candidates) < LOOKAHEAD and (next_passage := following(cited)) is not None:
        seen = cited.text
        candidates += [
            (next_passage, start, end)
            for start, end in sentence_spans_or_whole(next_passage.text)
            if next_passage.text[start:end].strip() not in seen
        ]
    budget = LOOKAHEAD
    for index, (passage, start, end) in enumerate(candidates):
        text = passage.text[start:end].strip()
        if budget == 0 or text.startswith("#"):
            return None
        if LIST_ITEM.match(text):
            return passage, start, _item_run(candidates[index:])
        if _lists(text) and (
            budget == LOOKAHEAD or (shares_a_word(text, announcing) and shares_a_word(text, question))
        ):
            return passage, start, end
        if _announces(text):  # "Sie haben vier … gefunden" after a heading
            announcing, budget = text, LOOKAHEAD
        else:
            budget -= 1
    return None


def _item_run(candidates: list[Span]) -> int:
    """End of the run of list items that starts the candidates, within the first one's passage."""
    first = candidates[0][0]
    end = candidates[0][2]
    for passage, start, stop in candidates[1:]:
        if passage is not first or not LIST_ITEM.match(passage.text[start:stop]):
            break
        end = stop
    return end


def _sentences_after(passage: Passage, offset: int) -> list[Span]:
    return [(passage, start, end) for start, end in sentence_spans_or_whole(passage.text) if start >= offset]


def _names_items(answer: str, listing: str, announcing: str, question: str) -> bool:
    """The answer already names listed items: two of the words only the listing has (one if it has one)."""
    listed = set(tokenize(NUMBERED_ITEM.sub(" ", listing)))
    items = listed - set(tokenize(announcing)) - set(tokenize(question))
    return len(items & set(tokenize(MARKER_GROUP.sub(" ", answer)))) >= min(2, len(items))
