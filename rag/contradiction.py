"""Does a claim say the opposite of the passage sentence it cites?

Support (citations.py) measures how much a claim and a sentence share; a small model's "Ja, sie
sollten identische Gedankenwelten haben" shares almost every word with "…dass es nicht das Ziel sein
sollte, identische Gedankenwelten … zu schaffen". Three kinds of disagreement are caught:
- polarity: a negation on one side only, read in the part of the sentence that matches the claim;
- figure: a figure of the claim that neither the cited passage nor its title, author and date contain, or
  that the passage says of something else ("16 Neukunden" where its 16 are "Termine"; a bare "412"
  to "Wie viele Mitarbeitende …?" where the 412 are surveyed companies) or of another year;
- person: a person the cited passage does not name, or, when the question asks who wrote the
  document and the sentence is not about another work, a person who is not its author;
- work: the question asks who wrote a kind of work ("the blog article") the cited document is not
  (a paper's record): its authors are no answer.
"""

import re
from dataclasses import dataclass

from rag.followup import refers_back
from rag.grounding import SPELLED_NUMBERS, UNITS, YEAR, amounts, counts, spelled_numbers
from rag.language import detect_question_language
from rag.lexical import tokenize
from rag.sentences import sentence_spans

NEGATIONS = frozenset(
    "nicht kein keine keinen keinem keiner keines nie niemals nichts weder keineswegs nirgends "
    "not no never none nothing neither nor cannot without".split()
)
ANSWER_NO = re.compile(r"^\s*(?:nein|no)\b", re.IGNORECASE)
# "Ja, …" / "Nein, …" answers a yes/no question with a verdict of its own: it is read against the
# whole cited sentence, since the question's paraphrase ("gleich denken") may share no word with it.
ANSWER_WORD = re.compile(r"^\s*(?:ja|nein|yes|no)\b[\s,.!:;–-]*", re.IGNORECASE)
# A sentence that raises a question rather than answering it: the answer follows.
OPEN_QUESTION = re.compile(
    r"\b(?:ob|inwieweit|inwiefern|wie\s?weit|in\s+welche[mr]\s+(?:maße|umfang|ausmaß)|whether|how\s+far|"
    r"to\s+what\s+(?:extent|degree)|the\s+extent\s+to\s+which)\b",
    re.IGNORECASE,
)
# Negation words that do not deny the statement ("nicht nur A, sondern auch B", "not only").
NOT_DENYING = re.compile(r"\b(?:nicht\s+nur|nicht\s+zuletzt|not\s+only|not\s+just|no\s+doubt)\b", re.IGNORECASE)
# A negation before a contrast word does not reach past it ("nicht A, sondern B").
CONTRASTS = frozenset("sondern aber jedoch doch allerdings während but however whereas instead rather".split())
WORD = re.compile(r"\w+(?:'t)?")
# Words left of the claim's words in which a negation still governs them ("nicht das Ziel sein sollte, identische …").
NEGATION_REACH = 5
# Share of the claim's matched words the sentence region must hold.
REGION_SHARE = 0.6
AUTHORSHIP = re.compile(
    r"\b(?:geschrieben|verfasst|autor(?:in|en)?|verfasser(?:in)?|wrote|written|authors?|authored)\b", re.IGNORECASE
)
# The work a question asks about: the one or two words after a determiner ("den Blogartikel", "the 2007 study").
DOCUMENT_NOUN = re.compile(r"\b(?:den|die|das|dem|des|diesen|diese|dieses|the|this)\s+([\w-]+)(?:\s+([\w-]+))?", re.I)
# A work noun in a question and the document kinds (front matter `kind`) it can mean.
WORK_NOUNS = [
    (re.compile(r"\bblog|\bpost\b", re.IGNORECASE), ("blog", "web")),
    (re.compile(r"\b(?:studie|study|paper|abstract)", re.IGNORECASE), ("abstract",)),
]
ACADEMIC_TITLE = re.compile(r"\b(?:Prof|Dr|Professor|Professorin|Dipl)\.?\s+(?:Dr\.\s+)?((?:[A-ZÄÖÜ][\w-]+\s*){1,3})")
NAME_WITH_YEAR = re.compile(r"\b([A-ZÄÖÜ][\w-]+)(?:\s+(?:und|and|&)\s+([A-ZÄÖÜ][\w-]+))?\s*\((?:19|20)\d\d\b")
# A sentence with this few words besides figures takes what it counts from the sentence before it.
SHORT_SENTENCE = 6
NUMBER_WORDS = frozenset(tokenize(" ".join(SPELLED_NUMBERS)))


@dataclass(frozen=True)
class Contradiction:
    kind: str  # "polarity", "figure", "person", "author" or "work"
    detail: str
    says_otherwise: str = ""  # for polarity: the passage sentence that says what is right


@dataclass(frozen=True)
class Cited:
    """What a claim cites: a sentence of a passage, the passage's title, author and date, and whether the
    passage is in the claim's language (only then can their words be compared)."""

    sentence: str
    passage: str
    fields: dict[str, str]
    same_language: bool = True
    kind: str = ""  # the document's kind: "blog", "abstract", "web", or unknown


def contradiction(claim: str, cited: Cited, question: str) -> Contradiction | None:
    """How `claim` disagrees with what it cites, read as an answer to `question`; None if it does not."""
    for check in (_polarity, _figure, _person):
        found = check(claim, cited, question)
        if found:
            return found
    return None


def _polarity(claim: str, cited: Cited, question: str) -> Contradiction | None:
    """A yes/no verdict against the whole sentence; otherwise each part of the claim between contrast
    words ("keine A, sondern B") against the part of the sentence it matches; parts sharing too few
    words with it are not compared. Across languages often only names and figures match, so the
    sentence's negation may lie outside the matched part: a claim that denies is then contradicted
    only by a sentence that denies nothing."""
    verdict = ANSWER_WORD.match(claim)
    if verdict:
        return _verdict_polarity(claim, verdict.end(), _deciding_sentence(cited), question)
    for index, part in enumerate(_contrast_parts(WORD.findall(claim))):
        region = matching_region(" ".join(part), cited.sentence)
        if region is None:
            continue
        part_negative = _negated(part) or (index == 0 and bool(ANSWER_NO.match(claim)))
        if part_negative == _negated(region):
            continue
        if part_negative and not cited.same_language and _denies(cited.sentence):
            continue
        side = "the claim" if part_negative else "the sentence"
        return Contradiction("polarity", f"a negation in {side} only: {' '.join(region)}", cited.sentence)
    return None


def _deciding_sentence(cited: Cited) -> str:
    """The sentence a verdict is read against: the cited one, or, when that one only raises the
    question ("… untersucht, inwieweit …", "… asked how far …"), the sentence after it."""
    if not OPEN_QUESTION.search(cited.sentence):
        return cited.sentence
    spans = sentence_spans(cited.passage)
    sentences = [cited.passage[start:end] for start, end in spans]
    at = next((i for i, sentence in enumerate(sentences) if cited.sentence.strip() in sentence), None)
    return sentences[at + 1] if at is not None and at + 1 < len(sentences) else cited.sentence


def _verdict_polarity(claim: str, verdict_end: int, sentence: str, question: str) -> Contradiction | None:
    rest = WORD.findall(claim[verdict_end:])
    says_no = bool(ANSWER_NO.match(claim)) or _negated(rest)
    denies = _denies(sentence)
    if says_no != denies:
        verdict, reading = ("no", "affirms") if says_no else ("yes", "denies")
        return Contradiction("polarity", f"answers {verdict}, the sentence {reading}", sentence)
    # "Nein, sie sollten identische Gedankenwelten haben": a no, then the question's statement affirmed.
    first_part = _contrast_parts(rest)[0] if rest else []
    if ANSWER_NO.match(claim) and first_part and not _negated(first_part) and _restates(first_part, question):
        return Contradiction("polarity", "answers no, then affirms what the question asks", sentence)
    return None


def _restates(words: list[str], question: str) -> bool:
    stems = set(tokenize(" ".join(words)))
    return bool(stems) and len(stems & set(tokenize(question))) >= REGION_SHARE * len(stems)


def _contrast_parts(words: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        if word.lower() in CONTRASTS:
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def _figure(claim: str, cited: Cited, question: str) -> Contradiction | None:
    wanted = amounts(claim) | spelled_numbers(claim)
    missing = wanted - counts(" ".join([cited.passage, *cited.fields.values()]))
    if missing:
        return Contradiction("figure", ", ".join(sorted(missing)))
    answered = wanted - counts(question) - counts(" ".join(cited.fields.values()))
    reading = _read_with_question(claim, question)
    misplaced = sorted(
        digits for digits in answered if not _said_of(digits, reading, cited.passage, cited.same_language)
    )
    return Contradiction("figure", f"said of something else: {', '.join(misplaced)}") if misplaced else None


def _read_with_question(claim: str, question: str) -> str:
    """A bare figure ("412") answers the question, whose words say what it counts; a follow-up's
    words ("Und bei den kleinen?") lean on earlier turns and cannot say it."""
    if _counted(claim) or not question or refers_back(question, detect_question_language(question)):
        return claim
    return f"{question} {claim}"


def _counted(claim: str) -> set[str]:
    return {stem for stem in _words(claim) if stem not in UNITS}


def _words(text: str) -> set[str]:
    """The text's stems that are no number, in digits or words."""
    return {stem for stem in tokenize(text) if not stem.isdigit() and stem not in NUMBER_WORDS}


def _said_of(digits: str, claim: str, passage: str, same_language: bool = True) -> bool:
    """The passage has the figure in a sentence sharing a word with the claim (units left out: they
    say how a figure is measured, not what it counts; a short sentence such as "Zuletzt waren es 16."
    together with the one before it) and not naming only other years than the claim. Across
    languages only the years can be compared: "12 people" shares no word with "12 Personen"."""
    counted = _counted(claim) if same_language else set()
    years = set(YEAR.findall(claim)) - {digits}
    if not counted and not years:
        return True
    sentences = [passage[start:end] for start, end in sentence_spans(passage)]
    words = [_words(sentence) for sentence in sentences]
    for i, sentence in enumerate(sentences):
        if digits not in counts(sentence):
            continue
        said = words[i] | (words[i - 1] if i > 0 and len(words[i]) <= SHORT_SENTENCE else set())
        if (not counted or counted & said) and _of_the_year(years, sentence):
            return True
    return False


def _of_the_year(years: set[str], sentence: str) -> bool:
    """A sentence naming years says its figures of those: "538 Kontakte auf der LogiMAT 2024" are no
    answer for 2023."""
    named = set(YEAR.findall(sentence))
    return not years or not named or bool(years & named)


def _person(claim: str, cited: Cited, question: str) -> Contradiction | None:
    passage, fields = cited.passage, cited.fields
    asks_author = bool(AUTHORSHIP.search(question))
    asked = asked_kinds(question) if asks_author else set()
    if asked and cited.kind and cited.kind not in asked:
        # A paper's record that mentions "the blog article" does not say who wrote it.
        return Contradiction("work", f"asks about a {'/'.join(sorted(asked))}, not a {cited.kind}")
    known = person_names(passage) | person_names(fields.get("author", ""), listed=True)
    named = {word for word in WORD.findall(claim) if word in known} | person_names(claim)
    if not named:
        return None
    author = set(WORD.findall(fields.get("author", "")))
    if asks_author and not _names_the_document(cited.sentence, question):
        wrong = named - author
        return Contradiction("author", f"not the author: {', '.join(sorted(wrong))}") if wrong else None
    in_passage = set(WORD.findall(passage))
    unnamed = {name for name in named - in_passage - author if not _initialled(name, named & in_passage, passage)}
    return Contradiction("person", f"not named in the passage: {', '.join(sorted(unnamed))}") if unnamed else None


def _initialled(first_name: str, surnames: set[str], passage: str) -> bool:
    """The passage gives the first name as its initial next to a surname of the claim ("Binckebanck,
    L." or "L. Binckebanck" for "Lars Binckebanck"), as references do."""
    initial = re.escape(first_name[0])
    return any(
        re.search(rf"\b{initial}\.\s*{re.escape(surname)}\b|\b{re.escape(surname)},\s*{initial}\.", passage)
        for surname in surnames
    )


def asked_kinds(question: str) -> set[str]:
    """The document kinds a question's work noun stands for ("den Blogartikel" → blog or web page)."""
    nouns = " ".join(word for match in DOCUMENT_NOUN.finditer(question) for word in match.groups() if word)
    return {kind for pattern, kinds in WORK_NOUNS for kind in kinds if pattern.search(nouns)}


def matching_region(claim: str, sentence: str) -> list[str] | None:
    """The sentence's words around the densest run of the claim's words, plus the words before it in
    which a negation still governs them; None if the two share fewer than two words."""
    words = WORD.findall(sentence)
    stems = [set(tokenize(word)) for word in words]
    wanted = set(tokenize(claim))
    hits = [(i, stem) for i, word_stems in enumerate(stems) for stem in word_stems & wanted]
    distinct = {stem for _, stem in hits}
    if len(distinct) < 2:
        return None
    needed = max(2, round(REGION_SHARE * len(distinct)))
    start, end = _densest_window(hits, needed)
    reach = start
    while reach > 0 and start - reach < NEGATION_REACH and words[reach - 1].lower() not in CONTRASTS:
        reach -= 1
    return words[reach : end + 1]


def _densest_window(hits: list[tuple[int, str]], needed: int) -> tuple[int, int]:
    """The shortest span of word positions holding `needed` distinct stems."""
    best = (hits[0][0], hits[-1][0])
    for left in range(len(hits)):
        seen: set[str] = set()
        for position, stem in hits[left:]:
            seen.add(stem)
            if len(seen) >= needed:
                if position - hits[left][0] < best[1] - best[0]:
                    best = (hits[left][0], position)
                break
    return best


def _denies(text: str) -> bool:
    """A negation anywhere in the text, "nicht nur" and "not only" aside."""
    return _negated(WORD.findall(NOT_DENYING.sub(" ", text)))


def _negated(words: list[str]) -> bool:
    return any(word.lower() in NEGATIONS or word.lower().endswith("n't") for word in words)


def _names_the_document(sentence: str, question: str) -> bool:
    """The sentence speaks of what the question asks the authorship of ("die Studie", "the article")."""
    words = " ".join(word for match in DOCUMENT_NOUN.finditer(question) for word in match.groups() if word)
    nouns = {stem for stem in tokenize(words) if not stem.isdigit()}
    return bool(nouns & set(tokenize(sentence)))


def person_names(text: str, listed: bool = False) -> set[str]:
    """Names of people in a text: after an academic title, before a year ("Homburg und Jensen (2007)"),
    or, for an author field (`listed`), every capitalised word."""
    if listed:
        return {word for word in WORD.findall(text) if word[:1].isupper()}
    names = {word for match in ACADEMIC_TITLE.finditer(text) for word in match.group(1).split()}
    names |= {name for match in NAME_WITH_YEAR.finditer(text) for name in match.groups() if name}
    return {name for name in names if name[:1].isupper()}
