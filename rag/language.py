"""Which of the two supported languages a question is in."""

from functools import cache

SUPPORTED = ("de", "en")


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
