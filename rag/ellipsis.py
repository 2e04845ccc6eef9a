"""An elliptic follow-up ("Und bei Brandt & Söhne?", "And for won deals?", "Und 2024?") completed from the
question it continues.

The small model's rewrite of such a follow-up often repeats the earlier question or gives the follow-up
back unchanged. Their grammar is regular, though: a conjunction, then one phrase that swaps or adds a
condition of the earlier question. The phrase takes the place of the earlier question's closing phrase
with the same preposition ("… gilt bei Kessler?" + "Und bei Brandt?" → "… gilt bei Brandt?"), a year
takes the place of its year, and any other phrase is added at its end.
"""

import re
from dataclasses import dataclass

from rag.followup import points_back, refers_back
from rag.grounding import YEAR
from rag.language import detect_question_language
from rag.prompts import Messages, said_by

OPENINGS = {"de": r"und|aber|oder|auch|sowie", "en": r"and|but|or|also|what\s+about|how\s+about"}
# Each preposition with its contracted forms: "im" swaps with "in der", "beim" with "bei".
PREPOSITIONS = {
    "de": "bei|beim in|im an|am zu|zum|zur von|vom für mit ohne unter über nach vor auf laut seit ab bis aus während",
    "en": "for in at with without among under over after before on from by since during",
}
# "Und bei wem?", "And since when?" ask something new rather than swap a condition.
QUESTION_WORDS = {
    "de": r"wer|wen|wem|wessen|was|wann|wie|wo|wohin|woher|warum|wieso|weshalb|welche[mnrs]?",
    "en": r"who|whom|whose|what|when|how|where|why|which",
}
# A shift in time with nothing to replace: "Und ein Jahr später?", "And two months later?"
LATER = {
    "de": r"(?:ein|einen|eine|zwei|drei|\d+)\s+(?:Jahr|Jahre|Monat|Monate|Quartal|Quartale)\s+(?:später|früher)",
    "en": r"(?:a|one|two|three|\d+)\s+(?:year|years|month|months|quarter|quarters)\s+(?:later|earlier)",
}
# A closing phrase with more words after its preposition holds more than one condition.
MAX_REPLACED_WORDS = 5
MAX_PHRASE_WORDS = 8


@dataclass(frozen=True)
class _Phrase:
    text: str
    key: str  # the preposition's forms ("bei|beim"), "year" or "later"


@dataclass(frozen=True)
class _Whole:
    stem: str  # the question without its closing "?" and without `added`
    added: _Phrase | None = None  # the phrase an earlier completion added at its end

    def question(self) -> str:
        return " ".join(part for part in (self.stem, self.added.text if self.added else "") if part) + "?"


def completed_ellipsis(question: str, history: Messages, lang: str) -> str | None:
    """The follow-up as a whole question, or None when it is no such ellipsis or the question it
    continues (in the same language, itself whole or such an ellipsis) cannot be recovered."""
    phrase = _elliptic_phrase(question, lang)
    whole = _recovered(said_by("user", history), lang) if phrase else None
    return _with_phrase(whole, phrase, lang).question() if whole and phrase else None


def _elliptic_phrase(question: str, lang: str) -> _Phrase | None:
    lang = lang if lang in OPENINGS else "de"
    text = " ".join(question.split()).rstrip("?!. ")
    match = re.fullmatch(rf"(?:{OPENINGS[lang]})\s+(.+)", text, re.IGNORECASE)
    phrase = match.group(1) if match else ""
    if (
        not phrase
        or len(phrase.split()) > MAX_PHRASE_WORDS
        or points_back(phrase, lang)
        or re.search(rf"\b(?:{QUESTION_WORDS[lang]})\b", phrase, re.IGNORECASE)
    ):
        return None
    if YEAR.fullmatch(phrase):
        return _Phrase(phrase, "year")
    if re.fullmatch(LATER[lang], phrase, re.IGNORECASE):
        return _Phrase(phrase, "later")
    first = phrase.split()[0].casefold()
    preposition = next((forms for forms in PREPOSITIONS[lang].split() if first in forms.split("|")), None)
    return _Phrase(phrase, preposition) if preposition else None


def _recovered(questions: list[str], lang: str) -> _Whole | None:
    """The first of `questions` (newest first) as a whole question: as asked, or completed like the follow-up."""
    if not questions or detect_question_language(questions[0]) != lang:
        return None
    newest, *before = questions
    if not refers_back(newest, lang):
        return _Whole(" ".join(newest.split()).rstrip("?!. "))
    phrase = _elliptic_phrase(newest, lang)
    whole = _recovered(before, lang) if phrase else None
    return _with_phrase(whole, phrase, lang) if whole and phrase else None


def _with_phrase(whole: _Whole, phrase: _Phrase, lang: str) -> _Whole:
    if whole.added and whole.added.key == phrase.key:
        return _Whole(whole.stem, phrase)  # "und bei den kleinen" after "Und bei den großen"
    stem = whole.question().rstrip("?")
    if phrase.key == "later":
        return _Whole(stem, phrase)
    if phrase.key == "year":
        years = list(YEAR.finditer(stem))
        if years:
            return _Whole(stem[: years[-1].start()] + phrase.text + stem[years[-1].end() :])
        return _Whole(stem, phrase)
    closing = list(re.finditer(rf"\b(?:{phrase.key})\b", stem, re.IGNORECASE))
    if closing and _one_condition(stem[closing[-1].end() :], lang):
        return _Whole(stem[: closing[-1].start()].rstrip(), phrase)
    return _Whole(stem, phrase)


def _one_condition(rest: str, lang: str) -> bool:
    """The words after a preposition that closes a question are one condition, not more: few, no
    comma, and in German not ending in the verb ("im Feldexperiment gestiegen" is not replaced)."""
    words = rest.split()
    if not words or len(words) > MAX_REPLACED_WORDS or "," in rest:
        return False
    return lang != "de" or not words[-1][0].islower()
