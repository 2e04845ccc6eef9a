"""Does a follow-up's answer only say again what the previous answer said?

Asked "Und bei großen Firmen?" or "Und ein Jahr später?", the small model often answers with the
figure it gave the turn before: most passages it sees are the earlier question's, and the earlier
answer stands right above the follow-up. In the 43 evaluation dialogues such answers were wrong 7
times in 9 (the other two were right because the answer before them had been wrong). Asked "and the
other way round?", it may give the previous answer again word for word. After an exchange answered
"not covered", the previous answer is the one before it: the last the model saw figures in.
An answer that gives only later figures of the previous answer, not the first one it answered with
(its question's figures aside: "laut der Umfrage unter 164 Firmen"), picks one of the things it
listed ("And the second most common one?", "Und in der Kontrollgruppe?").
"""

from rag.grounding import NUMBER, YEAR, amounts, figures
from rag.prompts import CITATION_MARKER, Messages, said_by, without_declined
from rag.sentences import sentence_spans_or_whole


def echoes_previous_answer(answer: str, history: Messages) -> bool:
    """The answer states figures, all of which the assistant's previous answer (not counting "not
    covered") states, its first among them, or it has only sentences that answer had."""
    previous = previous_answer(history)
    said, stated_before = stated_amounts(answer), stated_amounts(previous)
    if said and said <= stated_before:
        own = stated_before - stated_amounts(_previous_question(history))  # its question's figures aside
        if _first_of(own, previous) in said:
            return True
    sentences = _sentences(answer)
    return bool(sentences) and sentences <= _sentences(previous)


def _sentences(text: str) -> set[str]:
    """The text's sentences without citation markers, case, spacing and closing punctuation."""
    text = CITATION_MARKER.sub("", text)
    sentences = (
        " ".join(text[start:end].casefold().split()).rstrip(".!?") for start, end in sentence_spans_or_whole(text)
    )
    return {sentence for sentence in sentences if sentence}


def _first_of(amounts: set[str], text: str) -> str | None:
    """Which of `amounts` the text states first (an answer's first is what it answered with; later
    ones add to it or list others)."""
    text = CITATION_MARKER.sub(" ", text)
    in_order = (digits for match in NUMBER.finditer(text) for digits in figures(match.group()))
    return next((digits for digits in in_order if digits in amounts), None)


def previous_answer(history: Messages) -> str:
    """The assistant's last answer that was not "not covered"."""
    return next(iter(said_by("assistant", without_declined(history))), "")


def _previous_question(history: Messages) -> str:
    """The question `previous_answer` answered (declined exchanges go with their question)."""
    answered = without_declined(history)
    while answered and answered[-1]["role"] != "assistant":
        answered = answered[:-1]
    return next(iter(said_by("user", answered)), "")


def stated_amounts(text: str) -> set[str]:
    """The text's amounts (`grounding.amounts`), not years, which the question may well carry into both answers."""
    text = CITATION_MARKER.sub(" ", text)
    return amounts(text) - set(YEAR.findall(text))
