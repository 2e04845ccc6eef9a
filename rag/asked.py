"""Does the answer give what the question asks for, or does it leave the question open?

For a question its passages leave open, a small model often writes a sentence about the subject
instead: it gives no amount where one was asked ("Der neue Provisionssatz liegt zwischen den beiden
alten Sätzen", "Eine dritte Ausgabe ist für 2024 angekündigt"), or it says the question back ("Die
Falkenberg GmbH setzt CRM-Software ein" for "Welche CRM-Software setzt die Falkenberg GmbH ein?").
Asked how many or how much, the answer must state a number (digits other than a year, or a number
word); asked for a share or rate, a percentage or a fraction; asked how long or how fast, a unit of
time or the bare figure ("sofort", "drei Wochen"; not "für 2023 ins Produktmarketing" or "64 % der
Materialien"); asked how much something costs or someone earns, a sum of money, a share ("4 % vom
Umsatz") or the bare figure (not "eine 20-minütige Schulung" for a salary); asked who, what, which,
when, where, why or how, at least one word the question does not have. Asked how many or how much
(not a share, a time or a sum, whose kind shows in the answer), a count must stand in a sentence
that shares a word with the question other than its names, else it counts something else ("etwa
290 Mitarbeitende" for how many companies are A accounts). A share answers it (surveys say how many
firms with one), and a figure with units and at most one word beside it ("14 [1]", "1,2 Mio.
Euro", "25 Punkte", "Nur noch sechs statt acht") is the answer itself.
"""

import re
from collections.abc import Set

from rag.citations import MARKER_GROUP
from rag.grounding import UNITS, YEAR
from rag.lexical import same_stem, shares_a_word, tokenize
from rag.sentences import sentence_spans

AMOUNT_QUESTION = re.compile(
    r"\b(?:wie\s+viele?|wie\s+hoch|um\s+wie\s+viel|how\s+(?:many|much)|by\s+how\s+much)\b", re.IGNORECASE
)
SHARE_QUESTION = re.compile(
    r"\w*(?:anteil|quote|prozentsatz)\b|\b(?:rate|share|percentage|proportion|fraction)\b", re.IGNORECASE
)
NUMBER_WORDS = (
    r"eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|zwanzig|dreißig|vierzig|fünfzig|sechzig|"
    r"siebzig|achtzig|neunzig|hundert|tausend|dutzend|million\w*|milliarde\w*|verdoppel\w*|verdreifach\w*|"
    r"halbiert|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen|millions?|billions?|doubled|tripled|halved"
)
# Asked how long or how fast, the answer is a length of time, or says until when ("seconds" only in
# the plural: "every second Wednesday" is no duration).
DURATION_QUESTION = re.compile(
    r"\b(?:wie\s+lange?|wie\s+schnell|wie\s+viel\s+zeit|innerhalb\s+welche[rs]|how\s+(?:long|fast|quickly|soon)|"
    r"how\s+much\s+time|within\s+what)\b",
    re.IGNORECASE,
)
TIME_WORD = re.compile(
    r"\b(?:(?:werk|arbeits)?tag(?:e|en|es)?|wochen?|monat(?:e|en|s)?|jahr(?:e|en|es)?|stunden?|minuten?|sekunden?|"
    r"quartal(?:e|en|s)?|sofort|umgehend|(?:working\s+|business\s+)?days?|weeks?|months?|years?|hours?|minutes?|"
    r"seconds|quarters?|immediately|bis|until|unbegrenzt|dauerhaft|indefinitely|permanently)\b",
    re.IGNORECASE,
)
# Asked what something costs or someone earns (not what it costs in time), the answer is a sum of money.
MONEY_QUESTION = re.compile(
    r"\b(?:verdien\w*|gehalt|gehälter|geld|\w*kost(?:et|en|ete|eten)|gekostet|salary|salaries|earns?|earned|"
    r"earnings|money|costs?|paid)\b",
    re.IGNORECASE,
)
NOT_MONEY = re.compile(r"\b(?:zeit|stunden|tage|aufwand|time|hours|days|effort)\b", re.IGNORECASE)
MONEY = re.compile(
    r"[€$£]|\b(?:euros?|eur|dollars?|usd|pfund|pounds?|gbp|chf|franken|cent|kostenlos|gratis|free)\b", re.IGNORECASE
)
AMOUNT = re.compile(rf"(?<![A-Za-z])\d|\b(?:{NUMBER_WORDS})\b", re.IGNORECASE)
SHARE = re.compile(
    r"%|prozent|percent|hälfte|drittel|viertel|fünftel|zehntel|\bhalf\b|\bthirds?\b|\bquarters?\b|\bfifths?\b|"
    r"\bjede[rsn]?\s+(?:zweite|dritte|vierte|fünfte|zehnte)|\bevery\s+(?:second|third|fourth|fifth|tenth)|"
    r"\d\s+(?:von|of|out\s+of|aus)\s+\d|verdoppel|verdreifach|halbiert|doubled|tripled|halved",
    re.IGNORECASE,
)
# A question after something ("Welche CRM-Software …?", "According to …, what …?"), not yes or no.
WH_QUESTION = re.compile(
    r"\b(?:wer|wen|wem|wessen|was|wann|wo|woher|wohin|womit|wofür|wozu|wie|welche[rsmn]?|warum|weshalb|wieso|"
    r"who|whom|whose|what|when|where|which|why|how)\b",
    re.IGNORECASE,
)


def leaves_open(question: str, answer: str, names: Set[str] = frozenset()) -> bool:
    """The answer gives no amount, share or new word where the question asks for one. `names`: the
    question's identifiers (`rag.grounding.identifiers`), which say whom it asks about, not what."""
    text = MARKER_GROUP.sub(" ", answer)
    return (
        _misses_amount(question, YEAR.sub(" ", text))
        or _counts_something_else(question, text, names)
        or _says_the_question_back(question, text)
    )


def _misses_amount(question: str, text: str) -> bool:
    if SHARE_QUESTION.search(question) and not SHARE.search(text):
        return True
    if DURATION_QUESTION.search(question) and not (TIME_WORD.search(text) or _is_bare_figure(text)):
        return True
    if _asks_money(question) and not (MONEY.search(text) or SHARE.search(text) or _is_bare_figure(text)):
        return True
    return bool(AMOUNT_QUESTION.search(question)) and not AMOUNT.search(text)


def _asks_kind(question: str) -> bool:
    """Asked for a share, a length of time or a sum of money, which the answer's kind shows."""
    return bool(SHARE_QUESTION.search(question) or DURATION_QUESTION.search(question) or _asks_money(question))


def _asks_money(question: str) -> bool:
    return bool(AMOUNT_QUESTION.search(question) and MONEY_QUESTION.search(question) and not NOT_MONEY.search(question))


def _counts_something_else(question: str, text: str, names: Set[str]) -> bool:
    """Asked how many or how much (not a share, time or money), no sentence with a figure (years
    aside) gives a share (surveys answer how many firms with one), is the bare figure, or shares a
    word with what the question asks besides its names."""
    if not AMOUNT_QUESTION.search(question) or _asks_kind(question):
        return False
    asked = AMOUNT_QUESTION.sub(" ", question)
    with_figure = [s for s in (text[a:b] for a, b in sentence_spans(text)) if AMOUNT.search(YEAR.sub(" ", s))]
    return bool(with_figure) and not any(
        SHARE.search(sentence) or _is_bare_figure(sentence) or shares_a_word(sentence, asked, besides=names)
        for sentence in with_figure
    )


def _is_bare_figure(sentence: str) -> bool:
    return len([word for word in tokenize(AMOUNT.sub(" ", sentence)) if word not in UNITS]) <= 1


def _says_the_question_back(question: str, text: str) -> bool:
    """Every word of the answer is the question's (a yes/no question may be answered so)."""
    if not WH_QUESTION.search(question):
        return False
    asked = set(tokenize(question))
    return all(any(same_stem(word, other) for other in asked) for word in tokenize(text))
