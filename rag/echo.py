"""Does a follow-up's answer only say again what the previous answer said?

Asked "Und bei großen Firmen?" or "Und ein Jahr später?", the small model often answers with the
figure it gave the turn before: most passages it sees are the earlier question's, and the earlier
answer stands right above the follow-up. In the 43 evaluation dialogues such answers were wrong 7
times in 9 (the other two were right because the answer before them had been wrong). Asked "and the
other way round?", it may give the previous answer again word for word. After an exchange answered
"not covered", the previous answer is the one before it: the last the model saw figures in.
"""

from rag.grounding import YEAR, amounts
from rag.prompts import CITATION_MARKER, Messages, without_declined
from rag.sentences import sentence_spans_or_whole


def echoes_previous_answer(answer: str, history: Messages) -> bool:
    """The answer states figures, all of which the assistant's previous answer (not counting "not
    covered") states, or it has only sentences that answer had."""
    previous = previous_answer(history)
    said = stated_amounts(answer)
    if said and said <= stated_amounts(previous):
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


def previous_answer(history: Messages) -> str:
    """The assistant's last answer that was not "not covered"."""
    answered = without_declined(history)
    return next((turn["content"] for turn in reversed(answered) if turn["role"] == "assistant"), "")


def stated_amounts(text: str) -> set[str]:
    """The text's amounts (`grounding.amounts`), not years, which the question may well carry into both answers."""
    text = CITATION_MARKER.sub(" ", text)
    return amounts(text) - set(YEAR.findall(text))
