"""Does the model's answer decline ("the sources don't cover this"), and where?"""

from rag.prompts import CITATION_MARKER, is_not_covered, not_covered, not_covered_patterns
from rag.sentences import sentence_spans


def declines(text: str, lang: str) -> bool:
    """Nothing written, the prescribed refusal or its beginning, or a refusal in the model's own words."""
    return not_covered(lang).startswith(text.strip()) or _says_not_covered(text)


def may_decline(text: str, lang: str, in_own_words: bool) -> bool:
    """The text so far may still be a refusal: it begins the prescribed sentence, or, when a refusal
    in the model's own words would be retried, its first sentence is unfinished or declines."""
    if not_covered(lang).startswith(text.lstrip()):
        return True
    return in_own_words and (len(sentence_spans(text)) < 2 or _says_not_covered(text))


def _says_not_covered(text: str) -> bool:
    """The model declined: its first sentence says the sources don't answer."""
    spans = sentence_spans(text)
    first = text[spans[0][0] : spans[0][1]] if spans else text
    return any(pattern.search(first) for pattern in not_covered_patterns())


def without_appended_refusal(text: str, lang: str) -> str:
    """An answer without the prescribed "not covered" sentence the model sometimes adds after it ("Yes,
    Orbis reached its target. The sources contain no information on this."): shown together, the two
    contradict each other, and the answer before it is what the checks judge. A refusal that opens
    the text stays: then the model declined."""
    if declines(text, lang):
        return text
    spans = sentence_spans(text)
    refusals = [(start, end) for start, end in spans if is_not_covered(CITATION_MARKER.sub("", text[start:end]))]
    for start, end in reversed(refusals):
        text = text[:start].rstrip(" ") + text[end:]
    return text.rstrip()
