"""Messages for the language model, built from the plain-text templates in prompts/."""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from rag.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
LANGUAGE_NAMES = {"de": "German", "en": "English"}
Messages = list[dict[str, str]]
CITATION_MARKER = re.compile(r"\s*\[\d+\]")
# Earlier answers shown to the model are cut to this length: they are context, not material.
HISTORY_ANSWER_CHARS = 400


@dataclass(frozen=True)
class SourceText:
    """A numbered passage as the model sees it: its text (or an excerpt) and its citation fields."""

    n: int
    text: str
    metadata: dict[str, Any]


@cache
def template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


def not_covered(lang: str) -> str:
    return template(f"not_covered_{lang}")


def is_not_covered(text: str) -> bool:
    """The text is the shipped "not covered" answer, in either language."""
    return text.strip() in (not_covered("de"), not_covered("en"))


def without_declined(history: Messages) -> Messages:
    """The conversation without the exchanges whose answer was "not covered": they tell the model
    nothing, and after one the small model declines the next question far more often."""
    kept: Messages = []
    for turn in history:
        if turn.get("role") == "assistant" and is_not_covered(turn.get("content", "")):
            if kept and kept[-1].get("role") == "user":
                kept.pop()
            continue
        kept.append(turn)
    return kept


def said_by(role: str, history: Messages) -> list[str]:
    """What `role` ("user" or "assistant") said in the conversation, newest first."""
    return [turn["content"] for turn in reversed(history) if turn.get("role") == role]


@cache
def not_covered_patterns() -> list[re.Pattern[str]]:
    lines = template("not_covered_patterns").splitlines()
    patterns = [re.compile(line, re.IGNORECASE) for line in lines if line.strip() and not line.startswith("#")]
    return patterns + [re.compile(re.escape(not_covered(lang).rstrip(".")), re.IGNORECASE) for lang in ("de", "en")]


def as_data(text: str) -> str:
    """Passage text cannot open or close a delimiter tag: angle brackets become look-alikes."""
    return text.replace("<", "‹").replace(">", "›")


def answer_messages(question: str, sources: list[SourceText], lang: str, history: Messages | None = None) -> Messages:
    """System rules, the conversation's recent turns as chat messages, then one user message with
    the numbered passages and the question. A document's passages stand together, and only its first
    carries the title, author and date: they are a fifth of the prompt when given with every passage,
    and processing the prompt is most of the wait for an answer."""
    rendered = "\n".join(_rendered(source, lang, first) for source, first in _by_document(sources))
    earlier = [
        {"role": turn["role"], "content": CITATION_MARKER.sub("", turn["content"])[:HISTORY_ANSWER_CHARS]}
        for turn in history or []
        if turn.get("role") in ("user", "assistant") and turn.get("content")
    ]
    return [
        {"role": "system", "content": template(f"system_{lang}")},
        *earlier,
        {"role": "user", "content": template(f"user_{lang}").format(passages=rendered, question=question)},
    ]


def _by_document(sources: list[SourceText]) -> list[tuple[SourceText, bool]]:
    """The sources, each document's together in the order documents first appear, and whether each
    is its document's first."""
    documents: dict[Any, list[SourceText]] = {}
    for source in sources:
        documents.setdefault(source.metadata.get("doc_id") or id(source), []).append(source)
    return [(source, i == 0) for group in documents.values() for i, source in enumerate(group)]


def _rendered(source: SourceText, lang: str, first_of_document: bool) -> str:
    if not first_of_document:
        return template(f"passage_more_{lang}").format(n=source.n, text=as_data(source.text))
    return template(f"passage_{lang}").format(
        n=source.n,
        title=_attribute(source.metadata.get("title") or source.metadata.get("source")),
        author=_attribute(source.metadata.get("author")),
        date=_attribute(source.metadata.get("date")),
        text=as_data(source.text),
    )


def _attribute(value: Any) -> str:
    return as_data(str(value or "")).replace('"', "'")


def check_messages(question: str, evidence: str, lang: str) -> Messages:
    """Asks whether the evidence (the sentences an answer cites) answers the question: yes or no."""
    return [
        {"role": "system", "content": template(f"check_system_{lang}")},
        {
            "role": "user",
            "content": template(f"check_user_{lang}").format(evidence=as_data(evidence), question=question),
        },
    ]


def translation_messages(question: str, target_lang: str) -> Messages:
    return [
        {"role": "system", "content": template("translate").format(target=LANGUAGE_NAMES[target_lang])},
        {"role": "user", "content": question},
    ]


CONDENSE_LABELS = {
    "de": ("Bisherige Frage", "Bisherige Antwort", "Rückfrage", "Umformulierte Frage"),
    "en": ("Earlier question", "Earlier answer", "Follow-up", "Rewritten question"),
}


def condense_messages(question: str, history: list[dict[str, str]], lang: str) -> Messages:
    """History is [{'role': 'user'|'assistant', 'content': ...}]; only its last exchange is shown."""
    asked, answered, follow_up, rewritten = CONDENSE_LABELS[lang]
    lines = []
    for turn in history[-2:]:  # the last exchange: a follow-up almost always points there
        label = asked if turn["role"] == "user" else answered
        lines.append(f"{label}: {CITATION_MARKER.sub('', turn['content'])[:600]}")
    lines += [f"{follow_up}: {question}", f"{rewritten}:"]
    return [
        {"role": "system", "content": template(f"condense_{lang}")},
        {"role": "user", "content": "\n".join(lines)},
    ]
