"""Does a follow-up's answer only give the previous answer's figures again?

Asked "Und bei großen Firmen?" or "Und ein Jahr später?", the small model often answers with the
figure it gave the turn before: most passages it sees are the earlier question's, and the earlier
answer stands right above the follow-up. In the 43 evaluation dialogues such answers were wrong 7
times in 9 (the other two were right because the answer before them had been wrong).
"""

import re

from rag.grounding import NUMBER, YEAR, figures
from rag.prompts import CITATION_MARKER, Messages

# A lone digit without a percent sign numbers a part or a list item ("Teil 1", "(2)"), not an amount.
PERCENT = re.compile(r"\s*(?:%|Prozent|percent)")


def repeats_previous_figures(answer: str, history: Messages) -> bool:
    """The answer states figures, and the assistant's previous answer states every one of them."""
    previous = next((turn["content"] for turn in reversed(history) if turn["role"] == "assistant"), "")
    said = _amounts(answer)
    return bool(said) and said <= _amounts(previous)


def _amounts(text: str) -> set[str]:
    """The text's amounts by their digits: numbers of two or more digits, or one with a percent sign;
    not years, which the question may well carry into both answers."""
    text = CITATION_MARKER.sub(" ", text)
    amounts = set()
    for number in NUMBER.finditer(text):
        digits = figures(number.group()).pop()
        if not YEAR.fullmatch(number.group()) and (len(digits) > 1 or PERCENT.match(text, number.end())):
            amounts.add(digits)
    return amounts
