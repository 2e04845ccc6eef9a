"""Does the answer give what the question asks for, or does it leave the question open?

For a question its passages leave open, a small model often writes a sentence about the subject
instead: it gives no amount where one was asked ("Der neue Provisionssatz liegt zwischen den beiden
alten Sätzen", "Eine dritte Ausgabe ist für 2024 angekündigt"), or it says the question back ("Die
Falkenberg GmbH setzt CRM-Software ein" for "Welche CRM-Software setzt die Falkenberg GmbH ein?").
Asked how many or how much, the answer must state a number (digits other than a year, or a number
word); asked for a share or rate, a percentage or a fraction; asked how long or how fast, a number or
a unit of time ("sofort", "drei Wochen"; not "für 2023 ins Produktmarketing"); asked who, what, which,
when, where, why or how, at least one word the question does not have.
"""

import re

from rag.citations import MARKER_GROUP
from rag.grounding import YEAR
from rag.lexical import same_stem, tokenize

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
    r"\b(?:wie\s+lange?|wie\s+schnell|innerhalb\s+welche[rs]|how\s+(?:long|fast|quickly|soon)|within\s+what)\b",
    re.IGNORECASE,
)
TIME_WORD = re.compile(
    r"\b(?:(?:werk|arbeits)?tag(?:e|en|es)?|wochen?|monat(?:e|en|s)?|jahr(?:e|en|es)?|stunden?|minuten?|sekunden?|"
    r"quartal(?:e|en|s)?|sofort|umgehend|(?:working\s+|business\s+)?days?|weeks?|months?|years?|hours?|minutes?|"
    r"seconds|quarters?|immediately|bis|until|unbegrenzt|dauerhaft|indefinitely|permanently)\b",
    re.IGNORECASE,
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


def leaves_open(question: str, answer: str) -> bool:
    """The answer gives no amount, share or new word where the question asks for one."""
    text = MARKER_GROUP.sub(" ", answer)
    return _misses_amount(question, YEAR.sub(" ", text)) or _says_the_question_back(question, text)


def _misses_amount(question: str, text: str) -> bool:
    if SHARE_QUESTION.search(question) and not SHARE.search(text):
        return True
    if DURATION_QUESTION.search(question) and not (AMOUNT.search(text) or TIME_WORD.search(text)):
        return True
    return bool(AMOUNT_QUESTION.search(question)) and not AMOUNT.search(text)


def _says_the_question_back(question: str, text: str) -> bool:
    """Every word of the answer is the question's (a yes/no question may be answered so)."""
    if not WH_QUESTION.search(question):
        return False
    asked = set(tokenize(question))
    return all(any(same_stem(word, other) for other in asked) for word in tokenize(text))
