"""Gold questions and dialogues asked of the assistant; a dialogue's history holds its own answers, as in the chat."""

import time
from collections.abc import Callable, Iterable

from evaluation.gold import Dialogue, GoldQuestion
from evaluation.judge import Outcome, judge
from rag.assistant import Assistant
from rag.lexical import tokenize


def ask_questions(
    assistant: Assistant, questions: Iterable[GoldQuestion], progress: Callable[[Outcome], None]
) -> list[Outcome]:
    outcomes = []
    for question in questions:
        outcome = _ask(assistant, question, [])
        progress(outcome)
        outcomes.append(outcome)
    return outcomes


def ask_dialogues(
    assistant: Assistant, dialogues: Iterable[Dialogue], progress: Callable[[Outcome], None]
) -> list[Outcome]:
    outcomes = []
    for dialogue in dialogues:
        history: list[dict[str, str]] = []
        for turn in dialogue.turns:
            outcome = _ask(assistant, turn, history)
            progress(outcome)
            outcomes.append(outcome)
            history += [{"role": "user", "content": turn.question}, {"role": "assistant", "content": outcome.answer}]
    return outcomes


def _ask(assistant: Assistant, question: GoldQuestion, history: list[dict[str, str]]) -> Outcome:
    started = time.perf_counter()
    answer = assistant.ask(question.question, list(history))
    outcome = judge(question, answer, time.perf_counter() - started)
    outcome.polluted = polluted(answer.standalone_question, question.question, history)
    return outcome


def polluted(searched: str, question: str, history: list[dict[str, str]]) -> bool:
    """The searched question holds content words of earlier turns that the question itself lacks."""
    earlier = {token for message in history for token in tokenize(message["content"])}
    return bool((set(tokenize(searched)) - set(tokenize(question))) & earlier)


def searched_as_asked(outcome: Outcome) -> bool:
    return " ".join(outcome.searched.split()) == " ".join(outcome.question.question.split())
