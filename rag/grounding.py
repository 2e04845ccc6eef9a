"""Which documents speak about what the question names? Small models answer a question about one
company with another company's figures; giving them only passages of documents that name it
prevents that without a second model.

A question's identifiers are its numbers and its names: words rare in the corpus that look like a
name (a run of capitalised words, a capitalised word after "bei"/"von"/"at"/"of"…, an acronym,
or in English any capitalised word past the first). German capitalises every noun, hence the
patterns. A document names the question's subject when its text and citation fields contain them all.
"""

import re
from collections.abc import Callable

from rag.language import detect_question_language
from rag.lexical import tokenize
from rag.prompts import said_by

# A word in at most this many documents is an identifier, not a topic word.
RARE_DOCUMENTS = 2
# Acronyms up to this length may be spelled out in a document instead.
ACRONYM_LETTERS = 5
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
GERMAN_NUMBERS = "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf".split()
ENGLISH_NUMBERS = "two three four five six seven eight nine ten eleven twelve".split()
SPELLED_NUMBERS = {word: value for words in (GERMAN_NUMBERS, ENGLISH_NUMBERS) for value, word in enumerate(words, 2)}
# German number words are lower case; a capital one counts only at a sentence's start ("außer Acht" is no 8).
# Compounds are left out: "two-day" is "zweitägig" in the other language.
SPELLED_NUMBER = re.compile(
    rf"(?:\b(?:{'|'.join(GERMAN_NUMBERS)})|(?:^|(?<=[.!?:]\s))(?i:{'|'.join(GERMAN_NUMBERS)})|"
    rf"\b(?i:{'|'.join(ENGLISH_NUMBERS)}))\b(?!-)"
)
# A number word opening a compound that measures: "zweitägige", "dreimonatigen", "two-day".
COMPOUND_NUMBER = re.compile(
    rf"\b(?i:({'|'.join(GERMAN_NUMBERS)})(?=(?:tägig|wöchig|monatig|jährig|stündig|minütig|köpfig|fach|mal|teilig)))|"
    rf"\b(?i:({'|'.join(ENGLISH_NUMBERS)}))-"
)
# Units say how a figure is measured, not what it counts: "42 Mio. Euro" of turnover is no budget.
UNITS = frozenset(
    tokenize(
        "Prozent Prozentpunkte percent percentage points Euro EUR Dollar USD Mio Millionen Mrd Milliarden million "
        "billion Stunden hours Minuten minutes Tage Werktage days Wochen weeks Monate months Jahre years Stück pieces"
    )
)
# Signs that, like a unit, make a single digit an amount: "5 %", "8 €", "$5".
AMOUNT_SIGNS = "%€$£"
# A digit standing alone (not part of 1.5, 12 or 3,4) and the word or sign after it, or a currency sign before it.
SINGLE_DIGIT = re.compile(
    rf"(?<![\d.,])(?:(?<=[{AMOUNT_SIGNS}])\s*(\d)(?![\d.,]?\d)|(\d)(?![\d.,]\d)\s*([{AMOUNT_SIGNS}]|[^\W\d_]+))"
)
WORD = r"[A-ZÄÖÜ][\w-]*"
NAME_PATTERNS = [
    re.compile(rf"\b{WORD}(?:\s+(?:&\s+)?{WORD})+"),  # Orbis Verpackungen, Brandt & Söhne
    re.compile(rf"\b(?:bei|von|laut|für|mit|at|of|from|by|for)\s+({WORD})"),  # bei Rotbach, at Falkenberg
    re.compile(r"\b[A-ZÄÖÜ]{2,}\b"),  # ABM, IFI
]
# "laut der Langzeitstudie zum Datenverfall", "according to the 2023 survey": whose account a question asks for.
SOURCE_PHRASE = re.compile(
    r"\b(?:laut|gemäß|nach Angaben|according to)\s+(?:(?:der|des|dem|den|einer|eines|einem|the|an?)\s+)?([^?!.,;:]+)",
    re.IGNORECASE,
)
SOURCE_PHRASE_WORDS = 6
# Words naming a kind of source or pointing back to one: alone, they describe no source of their own.
NO_SOURCE_OF_ITS_OWN = frozenset(
    tokenize(
        "Studie Umfrage Artikel Beitrag Bericht Autor Autorin Autoren Quelle Quellen Text Analyse Untersuchung "
        "gleichen selben genannten erwähnten obigen vorigen besagten study survey article post report author "
        "authors source sources text paper analysis same mentioned above previous former latter"
    )
)


def identifiers(question: str, lang: str, document_frequency: Callable[[str], int]) -> set[str]:
    numbers = {digits for digits in figures(question) if len(digits) >= 2}
    rest = question.split(maxsplit=1)[1] if " " in question else ""  # the first word is capitalised anyway
    if lang == "en":
        candidates = re.findall(rf"\b{WORD}", rest)
    else:
        candidates = [m.group(m.lastindex or 0) for pattern in NAME_PATTERNS for m in pattern.finditer(rest)]
    names = {t for t in tokenize(" ".join(candidates)) if 0 < document_frequency(t) <= RARE_DOCUMENTS}
    return numbers | names


def subject(
    question: str, lang: str, history: list[dict[str, str]], document_frequency: Callable[[str], int]
) -> set[str]:
    """The identifiers the question asks about. One naming none ("Und wer ist dafür verantwortlich?")
    keeps to the names of the last user turn in `history` that named any: not its numbers, since a
    follow-up asks about other years and counts ("Und 2024?", "Und ab 500?"). A turn in between that
    moved on to another source (`names_another_source`) ends the look back."""
    wanted = identifiers(question, lang, document_frequency)
    if wanted:
        return wanted
    asked = said_by("user", history)
    for index, text in enumerate(asked):
        named = identifiers(text, detect_question_language(text), document_frequency)
        names = {name for name in named if not name.isdigit()}
        if names:
            return names
        if names_another_source(text, asked[index + 1 :]):
            return set()
    return set()


def names_another_source(question: str, earlier: list[str]) -> bool:
    """The question says whose account it asks for in words none of the `earlier` questions used
    ("Und laut der Langzeitstudie zum Datenverfall im CRM?" after a question about one company's
    provider): it moves on to that source, and the names asked about before no longer hold."""
    said = {word for text in earlier for word in tokenize(text)}
    for match in SOURCE_PHRASE.finditer(question):
        described = set(tokenize(" ".join(match.group(1).split()[:SOURCE_PHRASE_WORDS])))
        if described - said - NO_SOURCE_OF_ITS_OWN:
            return True
    return False


def names_all(document: str, wanted: set[str]) -> bool:
    """The document (its text and citation fields) contains every identifier in `wanted`; a short
    one also counts when spelled out ("SLA": "Service Level Agreement")."""
    missing = wanted - set(tokenize(document)) - figures(document)
    return all(_spelled_out(word, document) for word in missing)


def _spelled_out(acronym: str, document: str) -> bool:
    """Capitalised words in a row whose initials spell the acronym."""
    if not (acronym.isalpha() and 2 <= len(acronym) <= ACRONYM_LETTERS):
        return False
    words = r"[\s-]+".join(rf"{re.escape(letter.upper())}\w*" for letter in acronym)
    return re.search(rf"\b{words}\b", document) is not None


def figures(text: str) -> set[str]:
    """The text's figures by their digits only, so 58.000, 58,000 and 58000 are one figure."""
    return {_digits(n) for n in NUMBER.findall(text)}


def amounts(text: str) -> set[str]:
    """The text's figures by their digits that are amounts: numbers of two or more digits, and single
    digits with a unit or currency sign after them ("9 Tage", "5 %", "8 €") or a currency sign before them
    ("$5"); other single digits number list items, parts
    and markers as often ("Teil 1", "(2)", "[3]")."""
    measured = set()
    for match in SINGLE_DIGIT.finditer(text):
        signed, digit, after = match.groups()
        unit = set(tokenize(after or ""))  # empty for a stop word: "Teil 1 der Serie"
        if signed or after in AMOUNT_SIGNS or (unit and unit <= UNITS):
            measured.add(signed or digit)
    return {digits for digits in figures(text) if len(digits) >= 2} | measured


def counts(text: str) -> set[str]:
    """The text's figures and spelled-out numbers: "sieben Mitarbeitende" counts as "7 Mitarbeitende",
    "eine zweitägige Klausur" has a 2."""
    compounds = {str(SPELLED_NUMBERS[(m.group(1) or m.group(2)).lower()]) for m in COMPOUND_NUMBER.finditer(text)}
    return figures(text) | spelled_numbers(text) | compounds


def spelled_numbers(text: str) -> set[str]:
    """The numbers from two to twelve the text writes as words, as digits."""
    return {str(SPELLED_NUMBERS[match.group().lower()]) for match in SPELLED_NUMBER.finditer(text)}


def invented_figures(answer: str, sources: list[str]) -> set[str]:
    """Figures of two or more digits in the answer that no source contains; single digits (list
    numbers, markers) are left out."""
    present = set().union(*map(figures, sources))
    return {digits for digits in figures(answer) if len(digits) >= 2} - present


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)
