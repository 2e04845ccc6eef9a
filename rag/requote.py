"""A follow-up answered with the previous answer's figure again: the one passage sentence that answers it, quoted.

Asked "Und bei Unternehmen mit mehr als 200 Mitarbeitenden?" after "72 % der SDR-Teams berichten an
den Vertrieb", the small model gives the 72 % again, and `rag/echo.py` declines that. The
follow-up's own words name what it adds; a passage sentence that names every one of them and states
an amount neither the previous answer nor the follow-up has ("Bei Unternehmen mit mehr als 200
Mitarbeitenden waren es sogar 81 % …") answers it. If exactly one sentence in the question's
language does, it is quoted and cited: the small model chooses and copies better than it writes.
With several or none, the answer stays declined.
"""

from rag.echo import previous_answer, stated_amounts
from rag.followup import own_words
from rag.lexical import same_stem, tokenize
from rag.prompts import Messages
from rag.retrieval import Passage
from rag.sentences import sentence_spans


def requoted_answer(follow_up: str, lang: str, passages: list[Passage], history: Messages) -> str | None:
    """The passage sentence that answers the follow-up, cited ("… 81 % an den Vertrieb … [2]"), or None."""
    own = own_words(follow_up, lang)
    if not own:
        return None
    said = stated_amounts(previous_answer(history)) | stated_amounts(follow_up)  # "mehr als 200" is no answer
    found: dict[str, int] = {}  # sentence → the first passage that has it (overlapping chunks repeat it)
    for number, passage in enumerate(passages, start=1):
        if passage.metadata.get("lang") not in (None, lang):
            continue
        for start, end in sentence_spans(passage.text):
            sentence = " ".join(passage.text[start:end].split())
            if stated_amounts(sentence) - said and _names_all(sentence, own):
                found.setdefault(sentence, number)
    if len(found) != 1:
        return None
    ((sentence, number),) = found.items()
    return f"{sentence} [{number}]"


def _names_all(sentence: str, words: set[str]) -> bool:
    """Every word is in the sentence: a figure exactly ("2023" is not "2024"), another word by its stem."""
    present = set(tokenize(sentence))
    return all(
        word in present or (not word.isdigit() and any(same_stem(word, other) for other in present)) for word in words
    )
