"""Messages for the language model, built from the plain-text templates in prompts/."""

import re
from functools import cache

from rag.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
LANGUAGE_NAMES = {"de": "German", "en": "English"}
Messages = list[dict[str, str]]


@cache
def template(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8").strip()


def not_covered(lang: str) -> str:
    return template(f"not_covered_{lang}")


@cache
def not_covered_patterns() -> list[re.Pattern[str]]:
    lines = template("not_covered_patterns").splitlines()
    patterns = [re.compile(line, re.IGNORECASE) for line in lines if line.strip() and not line.startswith("#")]
    return patterns + [re.compile(re.escape(not_covered(lang).rstrip(".")), re.IGNORECASE) for lang in ("de", "en")]


def as_data(text: str) -> str:
    """Passage text cannot open or close a delimiter tag: angle brackets become look-alikes."""
    return text.replace("<", "‹").replace(">", "›")


def answer_messages(question: str, passages: list[tuple[int, str, str]], lang: str) -> Messages:
    """System rules plus one user message: numbered (n, title, text) passages, then the question."""
    rendered = "\n".join(
        template(f"passage_{lang}").format(n=n, title=as_data(title).replace('"', "'"), text=as_data(text))
        for n, title, text in passages
    )
    return [
        {"role": "system", "content": template(f"system_{lang}")},
        {"role": "user", "content": template(f"user_{lang}").format(passages=rendered, question=question)},
    ]


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


CITATION_MARKER = re.compile(r"\s*\[\d+\]")
CONDENSE_LABELS = {
    "de": ("Bisherige Frage", "Bisherige Antwort", "Rückfrage", "Umformulierte Frage"),
    "en": ("Earlier question", "Earlier answer", "Follow-up", "Rewritten question"),
}


def condense_messages(question: str, history: list[dict[str, str]], lang: str) -> Messages:
    """History is [{'role': 'user'|'assistant', 'content': ...}]; the last turns matter most."""
    asked, answered, follow_up, rewritten = CONDENSE_LABELS[lang]
    lines = []
    for turn in history[-4:]:
        label = asked if turn["role"] == "user" else answered
        lines.append(f"{label}: {CITATION_MARKER.sub('', turn['content'])[:600]}")
    lines += [f"{follow_up}: {question}", f"{rewritten}:"]
    return [
        {"role": "system", "content": template(f"condense_{lang}")},
        {"role": "user", "content": "\n".join(lines)},
    ]
