"""Does a question refer back to the conversation, or can it be searched exactly as asked?

A follow-up leans on what was said before: a pronominal adverb ("daraus", "davon"), a pronoun or
demonstrative with nothing in the question it could stand for ("Was haben sie untersucht?", "this
study"), "umgekehrt" / "the other way round", an ordinal without its noun ("der ersten"), an elliptic
opening ("Und bei …?", "What about …?"), or too few words of its own. A question with none of these
names its own subject and is searched as asked, however related it is to earlier turns.
"""

import re
from functools import cache

from rag.lexical import shared_prefix, tokenize
from rag.prompts import CITATION_MARKER, Messages, is_not_covered, said_by, template, without_declined
from rag.sentences import sentence_spans

# Always back-referring: pronominal adverbs (also spoken "draus", "da raus"), demonstratives, "umgekehrt",
# "das" with no noun after it, a closing article with no noun ("An wen berichtet die?"), "that" after a
# verb or at the end ("Why was that changed?", not "the study that found"),
# an ordinal or "beiden" with no noun after it (nouns by their capital, so those checks ignore the
# IGNORECASE the patterns are searched with).
ADVERBS = {
    "de": r"dar(?:aus|an|auf|über|um|unter|in)|da(?:von|zu|mit|bei|für|gegen|durch|vor|nach|neben|hinter|zwischen)|"
    r"dr(?:aus|an|auf|in|über|um)|da\s+(?:raus|rein|drin|drauf|dran|drüber)|deren|dessen|"
    r"umgekehrt|ebenso|dort|diese[mnrs]?|dies|jene[mnrs]?|das(?=\s+(?-i:[a-zäöüß])|$)|(?:der|die|den|dem|denen)$|"
    r"(?:der|die|das|den|dem)\s+(?:erste|zweite|dritte|letzte|andere|beide)n?(?!\s+(?-i:[A-ZÄÖÜ]))",
    "en": r"vice\s+versa|the\s+other\s+way\s+(?:round|around)|the\s+(?:first|second|third|last|latter|former)"
    r"(?!\s+[a-z]{3,})|the\s+same\s+(?:for|about)|this|these|those|"
    r"(?:is|was|are|were|did|does|do|has|had)\s+that|that$",
}
# Back-referring unless the question itself names what they stand for (a capitalised word before them).
PRONOUNS = {
    "de": r"er|sie|ihm|ihn|ihnen|ihre[mnrs]?|seine[mnrs]?",
    "en": r"it|its|they|them|their|he|she|his|her",
}
# "Und bei …?", "Aber warum?", "And for …?", "What about …?", "How so?"
ELLIPTIC_OPENINGS = {
    "de": r"^(?:und|aber|also|auch|oder|sowie)\b|^(?:wieso|warum|weshalb|wie)\s+(?:das|denn|so)\b",
    "en": r"^(?:and|but|also|or|so)\b|^(?:what|how)\s+about\b|^(?:why|how)\s+(?:so|come)\b",
}
# Fewer stemmed content words than this cannot name a subject of their own ("Warum?", "Und wann war das?").
MIN_OWN_WORDS = 2
# Share of the follow-up's own words a rewrite must keep: it must still ask what was newly asked.
KEPT_SHARE = 2 / 3
# Words from nowhere a rewrite may bring: a paraphrase ("How fast …" → "How quickly …"), not a new topic.
NEW_WORDS = 1
# English pronouns that need no antecedent in "Is there …", "it takes"; German "Sie" is the polite you.
IMPERSONAL = re.compile(
    r"^(?:there\s+(?:is|are|was|were)|(?:is|are|was|were)\s+there|is\s+it\s+(?:true|possible|worth))\b", re.IGNORECASE
)


def refers_back(question: str, lang: str) -> bool:
    """True when the question cannot be understood without the conversation before it."""
    text = " ".join(question.split()).rstrip("?!. ")
    lang = lang if lang in ADVERBS else "de"
    if not text or IMPERSONAL.match(text):
        return False
    if re.search(ELLIPTIC_OPENINGS[lang], text, re.IGNORECASE) or len(tokenize(text)) < MIN_OWN_WORDS:
        return True
    return points_back(text, lang)


def points_back(text: str, lang: str) -> bool:
    """A word of the text stands for something said before: a pronominal adverb, a demonstrative, a
    pronoun with nothing before it that it could stand for."""
    lang = lang if lang in ADVERBS else "de"
    if re.search(rf"\b(?:{ADVERBS[lang]})\b", text, re.IGNORECASE):
        return True
    return any(_without_antecedent(text, match, lang) for match in re.finditer(rf"\b(?:{PRONOUNS[lang]})\b", text))


def _without_antecedent(text: str, match: re.Match[str], lang: str) -> bool:
    """A pronoun stands for something outside the question unless a capitalised word (a name, or in
    German a noun) comes before it ("What did Homburg find in his study?"). German "Sie"/"Ihre"
    mid-sentence is the polite you."""
    word = match.group(0)
    if lang == "de" and word[0].isupper() and match.start() > 0:
        return False
    words_before = text[: match.start()].split()[1:]  # the first word is capitalised anyway
    return not any(w[0].isupper() for w in words_before)


def answering_history(history: Messages, follows_up: bool) -> Messages:
    """The conversation the answering model sees. A self-contained question does without the
    exchanges answered "not covered": they tell the model nothing, and after one the small model
    declined the next question far more often. A follow-up keeps them, as it may ask about that
    declined question."""
    return history if follows_up else without_declined(history)


def usable_rewrite(rewritten: str, question: str, history: list[dict[str, str]], lang: str) -> bool:
    """The model's rewrite of a follow-up is one question, brings in words of the conversation the
    follow-up lacks and at most NEW_WORDS others (none from the prompt's examples), and keeps most
    of the follow-up's own words (a small model likes to answer, to repeat the earlier question, to
    drop what the follow-up newly asks, or to copy words from the prompt's examples)."""
    own = own_words(question, lang)
    rewritten_words = set(tokenize(rewritten))
    # "Dazu enthalten die Quellen keine Information." says nothing a rewrite could take up.
    said = [turn["content"] for turn in history[-2:] if not is_not_covered(turn["content"])]
    earlier = set(tokenize(" ".join(said)))
    known = earlier | set(tokenize(question))
    return (
        rewritten.endswith("?")
        and "[" not in rewritten
        and len(rewritten) <= 2 * len(question) + 150
        and len(sentence_spans(rewritten)) == 1
        and bool((rewritten_words - set(tokenize(question))) & earlier)
        and sum(_kept(word, rewritten_words) for word in own) >= KEPT_SHARE * len(own)
        and _few_new_words(rewritten_words, known)
    )


def searched_besides(question: str, history: Messages, lang: str) -> list[str]:
    """What a follow-up without a usable rewrite is searched with besides itself: the question before
    it and, for one that names nothing of its own ("Und umgekehrt?", which as a search matches only
    "umgekehrt"), the answer that question got, unless it was "not covered"."""
    earlier = next(iter(said_by("user", history)), "")
    last = history[-1]["content"] if history and history[-1]["role"] == "assistant" else ""
    answered = "" if own_words(question, lang) or is_not_covered(last) else CITATION_MARKER.sub("", last)
    return [text for text in (earlier, answered) if text.strip()]


def _few_new_words(words: set[str], known: set[str]) -> bool:
    """At most NEW_WORDS words the conversation lacks, none of them copied from the prompt's examples."""
    new = {word for word in words if not _kept(word, known)}
    return len(new) <= NEW_WORDS and not new & _example_words()


@cache
def _example_words() -> frozenset[str]:
    return frozenset(tokenize(" ".join(template(f"condense_{lang}") for lang in ADVERBS)))


def _kept(word: str, words: set[str]) -> bool:
    """The stem, or one differing only in its ending ("lernt" and "lern" from "lernen")."""
    return word in words or any(
        len(other) >= 4 and shared_prefix(word, other) >= max(4, min(len(word), len(other)) - 1) for other in words
    )


def own_words(question: str, lang: str) -> set[str]:
    """The follow-up's words besides those that point back: what it newly asks ("Und bei Unternehmen
    mit mehr als 200 Mitarbeitenden?": unternehm, 200, mitarbeit, mehr)."""
    return set(tokenize(_without_back_references(question, lang)))


def _without_back_references(question: str, lang: str) -> str:
    lang = lang if lang in ADVERBS else "de"
    pattern = rf"\b(?:{ADVERBS[lang]}|{PRONOUNS[lang]})\b"
    return re.sub(pattern, " ", re.sub(ELLIPTIC_OPENINGS[lang], " ", question, flags=re.IGNORECASE), flags=re.I)
