"""Which of the two supported languages a question or an answer is in."""

from functools import cache

from rag.prompts import CITATION_MARKER

SUPPORTED = ("de", "en")
# Fewer words than this ("18 % [1]", "Ab 25 Punkten") say too little to tell the language by.
MIN_ANSWER_WORDS = 6
# How sure the identifier must be that an answer is in the other language: German answers are full of
# English terms ("Customer Insights", "Smarketing-Weekly").
OTHER_LANGUAGE_CERTAINTY = 0.9


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED))
    return identifier


def detect_question_language(text: str) -> str:
    lang, _ = _identifier().classify(text)
    return lang


def other_language(lang: str) -> str:
    return "en" if lang == "de" else "de"


def in_other_language(answer: str, lang: str) -> bool:
    """The answer is written in the other language than `lang`, beyond doubt."""
    text = CITATION_MARKER.sub(" ", answer)
    if len(text.split()) < MIN_ANSWER_WORDS:
        return False
    found, certainty = _identifier().classify(text)
    return found != lang and certainty >= OTHER_LANGUAGE_CERTAINTY
