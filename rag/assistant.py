"""Question → answer events: sources first, then streamed tokens, then the verified answer.

Used alike by the CLI, the chat page and the HTTP API.
"""

import collections.abc
import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.announcement import complete_announced_list
from rag.asked import leaves_open
from rag.citations import Citation, verify
from rag.continuation import continued_document
from rag.echo import echoes_previous_answer
from rag.ellipsis import completed_ellipsis
from rag.embedders import Embedder
from rag.focus import Focus
from rag.followup import answering_history, refers_back, searched_besides, usable_rewrite
from rag.generators import Generator
from rag.grounding import identifiers, names_all, names_another_source, subject
from rag.language import detect_question_language, in_other_language, other_language
from rag.loops import without_loops
from rag.period import speaks_of_another_year
from rag.prompts import (
    SourceText,
    answer_messages,
    check_messages,
    condense_messages,
    not_covered,
    said_by,
    translation_messages,
)
from rag.refusal import declines, may_decline, without_appended_refusal
from rag.requote import requoted_answer
from rag.retrieval import Passage, Query, Retriever, citation_fields
from rag.settings import Settings

EXTRACTIVE_SENTENCES = 3
# Why a draft is no answer (Answer.abstain_reason) when, across languages, it gets a second try: the
# model declined, or the checks withdrew it.
RETRIED = ("model", "unsupported", "unanswered")
REWRITE_TOKENS = 120
# A follow-up is searched with its rewrite and, at this weight, as asked; without a usable rewrite,
# as asked and, at this weight, with the question it follows (searches fused, never one glued text).
FOLLOWUP_WEIGHT = 0.5
# Turns of the conversation the model sees before the question (a turn: a question and its answer).
HISTORY_TURNS = 2
# How many times top_k passages are searched for one of a document naming what the question asks about,
# when none of the top_k is.
SUBJECT_SEARCH_DEPTH = 4
# Questions after one fact (who, when, how many) get a short answer: long ones wander off.
SHORT_ANSWER_TOKENS = 120
FACT_QUESTION = re.compile(
    r"^\s*(?:wer|wann|wie\s+(?:viele?|hoch|lange|groß)|in\s+welchem\s+jahr|welche[rs]?\s+(?:zahl|anteil|jahr)|"
    r"who|when|how\s+(?:many|much|long|high|large)|in\s+what\s+year|what\s+(?:share|percentage|year))\b",
    re.IGNORECASE,
)


class QuestionError(ValueError):
    """The question cannot be asked as it is; the message names the field and the reason."""


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    retrieved: list[Passage]
    model: dict[str, str]
    timings_ms: dict[str, float]
    lang: str
    standalone_question: str
    search_queries: list[str] = field(default_factory=list)
    # Why it abstained: "no_passage" (retrieval), "off_subject" (no passage's document names what
    # was asked about), "model" (said so, and a second try found nothing it confirmed) or
    # "unsupported" (no claim backed by a passage; a claim with a figure no passage has is not) or
    # "unanswered" (it gives no amount where one was asked, says the question back, or cites only
    # sentences about another year than the one asked about) or "repeated"
    # (a follow-up answered with only the previous answer's figures or sentences).
    abstain_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [citation.to_json() for citation in self.citations],
            "retrieved": [passage.to_json() for passage in self.retrieved],
            "model": self.model,
            "timings_ms": {name: round(value, 1) for name, value in self.timings_ms.items()},
            "lang": self.lang,
            "standalone_question": self.standalone_question,
            "search_queries": self.search_queries,
            "abstain_reason": self.abstain_reason,
        }


@dataclass
class Sources:
    """The passages found. Sent at once from the question; sent again when the translated question's
    search changes them (the later list is the one the answer uses)."""

    passages: list[Passage]
    standalone_question: str


@dataclass
class Token:
    text: str


@dataclass
class Waiting:
    """The model is answering another question; this one is queued."""


@dataclass
class Revising:
    """The text streamed so far (maybe none) will be replaced, which takes a model call or more: `step`
    is "translating" (it is in the other language than the question) or "asking_again" (the model
    declined or its answer did not hold up against the passages, and it is asked again in their language)."""

    step: str
    lang: str


@dataclass
class Done:
    answer: Answer


Event = Sources | Waiting | Token | Revising | Done


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder, retriever: Retriever, generator: Generator) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self.generator = generator
        self.model = {"embedder": embedder.name, "generator": generator.name}

    def ask(self, question: str, history: list[dict[str, str]] | None = None, lang: str | None = None) -> Answer:
        for event in self.stream(question, history, lang):
            if isinstance(event, Done):
                return event.answer
        raise RuntimeError("the answer stream ended without an answer")

    def stream(
        self, question: str, history: list[dict[str, str]] | None = None, lang: str | None = None
    ) -> Iterator[Event]:
        started = time.perf_counter()
        question = self._checked(question)
        lang = lang if lang in ("de", "en") else detect_question_language(question)
        history = history or []
        follows_up = bool(history) and refers_back(question, lang)
        turn = _Turn(question, lang, started)
        translated, told_waiting = yield from self._search(turn, history, follows_up)
        if not turn.passages or max(p.dense_score for p in turn.passages) < self.settings.abstain_below:
            yield from self._declined(turn, "no_passage")
            return
        on_subject = self._on_subject(turn, history, follows_up)
        if not on_subject:
            yield from self._declined(turn, "off_subject")
            return
        if [p.chunk_id for p in on_subject] != [p.chunk_id for p in turn.passages]:
            turn.passages = on_subject
            yield Sources(turn.passages, turn.standalone)
        if not told_waiting and self.generator.busy():
            yield Waiting()
        draft, retry_with = _Draft(), self._second_try_query(translated, turn.passages, lang)
        asked = self._question_for_model(turn.standalone, lang, translated, turn.passages)
        for token in self._written_answer(
            asked, lang, turn.passages, draft, answering_history(history, follows_up), retry_with
        ):
            turn.timings.setdefault("first_token", _ms(started))
            yield Token(token)
        conversation = history if follows_up else []
        checked = yield from self._final_answer(
            draft, turn.standalone, lang, retry_with, turn.passages, question, conversation
        )
        turn.passages = checked.passages
        yield Done(turn.answer(self.model, checked.text, checked.citations, checked.reason))

    def _search(
        self, turn: "_Turn", history: list[dict[str, str]], follows_up: bool
    ) -> collections.abc.Generator[Event, None, tuple[Query | None, bool]]:
        """Finds `turn`'s passages, sending them as soon as they are known and again if the search
        with the model's translation of the question changes them. Returns that translation and
        whether the reader was told to wait for the model."""
        turn.standalone, turn.queries = self._search_queries(turn.question, history, turn.lang, follows_up)
        turn.passages = self.retriever.search(turn.queries, self.settings.top_k)
        turn.timings["retrieve"] = _ms(turn.started)
        yield Sources(turn.passages, turn.standalone)
        told_waiting = self.generator.busy()
        if told_waiting:
            yield Waiting()
        translated = self._translated_query(turn.standalone, turn.lang)
        if translated:
            turn.queries.append(translated)
            refined = self.retriever.search(turn.queries, self.settings.top_k)
            turn.timings["retrieve"] = _ms(turn.started)  # until the passages the answer uses were known
            if [p.chunk_id for p in refined] != [p.chunk_id for p in turn.passages]:
                turn.passages = refined
                yield Sources(turn.passages, turn.standalone)
        return translated, told_waiting

    def _on_subject(self, turn: "_Turn", history: list[dict[str, str]], follows_up: bool) -> list[Passage]:
        """`turn`'s passages of documents naming what it asks about: for a follow-up, those of the
        document it continues, and the names asked before unless it names another source."""
        deeper = functools.cache(
            lambda: self.retriever.search(turn.queries, SUBJECT_SEARCH_DEPTH * self.settings.top_k)
        )
        continued = self._of_continued_document(turn.question, turn.lang, history, deeper) if follows_up else None
        keeps_earlier = (
            follows_up and not continued and not names_another_source(turn.question, said_by("user", history))
        )
        wanted = subject(
            turn.standalone, turn.lang, history if keeps_earlier else [], self.retriever.document_frequency
        )
        return self._naming_the_subject(wanted, deeper, continued or turn.passages)

    def _declined(self, turn: "_Turn", reason: str) -> Iterator[Event]:
        yield Token(not_covered(turn.lang))
        yield Done(turn.answer(self.model, "", [], reason))

    def _final_answer(
        self,
        draft: "_Draft",
        question: str,
        lang: str,
        retry_with: Query | None,
        passages: list[Passage],
        asked: str,
        conversation: list[dict[str, str]],
    ) -> collections.abc.Generator[Revising, None, "_Checked"]:
        """The checked draft. A refusal, or a draft the checks withdraw, written over passages mostly in
        the other language, gets a second try with `retry_with` (the small model declines many such
        questions and misreads figures and roles across languages); its answer replaces the draft if it
        passes the same checks and the model confirms it. A follow-up's answer that only repeats the
        previous one is replaced by the passage sentence that answers it, if exactly one does
        (`rag/requote.py`). `asked` is the question as asked, `conversation` the history it continues
        (empty for a question that does not refer back)."""
        checked = yield from self._checked_draft(draft, question, lang, passages, conversation)
        if checked.reason == "repeated":
            replacement = _Draft(requoted_answer(asked, lang, passages, conversation) or "")
        elif checked.reason in RETRIED and retry_with is not None:
            yield Revising("asking_again", lang)
            replacement = _Draft("".join(self._second_try(retry_with, passages, lang)), second_try=True)
        else:
            return checked
        if not replacement.text:
            return checked
        rechecked = yield from self._checked_draft(replacement, question, lang, passages, conversation)
        return checked if rechecked.reason else rechecked

    def _checked_draft(
        self, draft: "_Draft", question: str, lang: str, passages: list[Passage], conversation: list[dict[str, str]]
    ) -> collections.abc.Generator[Revising, None, "_Checked"]:
        """The model's answer in the question's language with verified citations, the passages it may
        cite (an announced list completed may add one), and why it is no answer, if it is none."""
        draft.text = without_appended_refusal(draft.text, lang)
        if self.generator.uses_model and not declines(draft.text, lang) and in_other_language(draft.text, lang):
            # The model followed its passages' or the conversation's language; what was streamed is replaced.
            yield Revising("translating", lang)
            draft.text = "".join(self._translated_answer(draft.text, lang))
        verified, citations = verify(
            draft.text, passages, self.embedder, self.settings.support_threshold, question, lang
        )
        verified, citations, passages = complete_announced_list(
            verified, citations, passages, question, lang, self.retriever.following
        )
        reason = self._abstain_reason(draft.text, verified, citations, question, passages, lang, conversation)
        if reason is None and draft.second_try and not self._confirmed(question, citations, lang):
            reason = "model"
        return _Checked(verified, citations, passages, reason)

    def _written_answer(
        self,
        question: str,
        lang: str,
        passages: list[Passage],
        draft: "_Draft",
        history: list[dict[str, str]],
        retry_with: Query | None,
    ) -> Iterator[str]:
        """The model's answer as it streams into `draft`. Text that may still become a refusal is held
        back: if it does and a second try will follow, the refusal must not be shown before it."""
        held = True
        for token in self._generate(question, passages, lang, history):
            draft.text += token
            if not held:
                yield token
            elif not may_decline(draft.text, lang, in_own_words=retry_with is not None):
                held = False
                yield draft.text
        if held and not declines(draft.text, lang):
            yield draft.text  # one sentence, held back to its end
        elif held and retry_with is None:
            yield not_covered(lang)

    def _second_try_query(self, translated: Query | None, passages: list[Passage], lang: str) -> Query | None:
        """The question to ask again in the passages' language, if a second try is possible."""
        if self.settings.answer_check_below > 0 and _mostly_other_language(passages, lang):
            return translated
        return None

    def _second_try(self, translated: Query, passages: list[Passage], lang: str) -> Iterator[str]:
        """A small model declines many questions asked in the other language than its passages, even
        with the translation beside them; asked wholly in the passages' language it often answers.
        That answer is checked there, where claim and passage share words, and only then translated back."""
        written = "".join(self._generate(translated.text, passages, other_language(lang))).strip()
        if self._holds(written, translated.text, other_language(lang), passages):
            yield from self._translated_answer(written, lang)

    def _holds(self, text: str, question: str, lang: str, passages: list[Passage]) -> bool:
        """`text`, the answer to `question` in `lang`, passes the checks of its claims against the passages."""
        verified, citations = verify(text, passages, self.embedder, self.settings.support_threshold, question, lang)
        return self._abstain_reason(text, verified, citations, question, passages, lang, []) is None

    def _translated_answer(self, text: str, lang: str) -> Iterator[str]:
        """An answer put into `lang` by the model, streamed (the answer's length, not a question's)."""
        return self.generator.stream(translation_messages(text, lang), self.settings.max_answer_tokens)

    def _confirmed(self, question: str, citations: list[Citation], lang: str) -> bool:
        """The model, asked whether the sentences the answer cites answer the question, says yes with at
        least RAG_ANSWER_CHECK_BELOW probability; a second try overrides its first "not covered"."""
        evidence = "\n".join(c.passage.text[c.support_start : c.support_end].strip() for c in citations)
        probability = self.generator.yes_probability(check_messages(question, evidence, lang))
        return probability is not None and probability >= self.settings.answer_check_below

    def _naming_the_subject(
        self, wanted: set[str], deeper: Callable[[], list[Passage]], passages: list[Passage]
    ) -> list[Passage]:
        """The passages whose documents name every name and figure in `wanted` (all, if it is empty).
        When none of the best passages does, the best of the next ones that do: in a corpus with many
        articles on one theme, similar articles can fill the top places and push the one about the
        company or study asked about just below them. `deeper` gives the passages SUBJECT_SEARCH_DEPTH
        times as deep."""
        if not wanted:
            return passages
        naming = self._of_documents_naming(passages, wanted)
        if naming:
            return naming
        return self._of_documents_naming(deeper(), wanted)[: self.settings.top_k]

    def _of_continued_document(
        self, question: str, lang: str, history: list[dict[str, str]], deeper: Callable[[], list[Passage]]
    ) -> list[Passage] | None:
        """A follow-up's best passages of the document the previous answer quoted (`rag/continuation.py`),
        searched as deep as a subject is; None when it continues no document it names its words in."""
        further = deeper()
        source = continued_document(question, lang, history, further, self._document_text)
        return [p for p in further if p.metadata.get("doc_id") == source][: self.settings.top_k] if source else None

    def _of_documents_naming(self, passages: list[Passage], wanted: set[str]) -> list[Passage]:
        doc_ids = dict.fromkeys(p.metadata.get("doc_id") for p in passages)
        naming = {doc_id for doc_id in doc_ids if names_all(self._document_text(doc_id), wanted)}
        return [p for p in passages if p.metadata.get("doc_id") in naming]

    def _document_text(self, doc_id: str) -> str:
        chunks = self.retriever.store.document_chunks(doc_id)
        fields = citation_fields(chunks[0].metadata if chunks else {})
        return " ".join([*fields.values(), *(chunk.text for chunk in chunks)])

    def _abstain_reason(
        self,
        text: str,
        shown: str,
        citations: list[Citation],
        question: str,
        passages: list[Passage],
        lang: str,
        conversation: list[dict[str, str]],
    ) -> str | None:
        """Why the model's `text`, verified into `shown`, is no answer (None if it is one).
        `conversation` is the history a follow-up continues, empty for any other question."""
        if declines(text, lang):
            return "model"
        if not citations:
            return "unsupported"
        if leaves_open(question, shown, identifiers(question, lang, self.retriever.document_frequency)):
            return "unanswered"
        if speaks_of_another_year(question, citations):
            return "unanswered"
        if echoes_previous_answer(shown, conversation):
            return "repeated"
        return None

    def _checked(self, question: str) -> str:
        question = " ".join(str(question).split())
        if not question:
            raise QuestionError("question: must not be empty")
        if not is_valid_unicode(question):
            raise QuestionError("question: contains characters that are not valid Unicode (lone surrogates)")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"question: {len(question)} characters, over the limit of {self.settings.max_question_chars}"
            )
        return question

    def _search_queries(
        self, question: str, history: list[dict[str, str]], lang: str, follows_up: bool
    ) -> tuple[str, list[Query]]:
        """The question to search and show, and the searches to fuse. A question that does not refer
        back is searched exactly as asked; a follow-up ("Und was lernt der Vertrieb daraus?") with the
        model's rewrite of it (or, an elliptic one, completed without it), else together with what it
        follows (`searched_besides`)."""
        if not follows_up:
            return question, [Query(question)]
        rewritten = self._complete(condense_messages(question, history, lang)) if self.generator.uses_model else ""
        if usable_rewrite(rewritten, question, history, lang):
            return rewritten, [Query(rewritten), Query(question, FOLLOWUP_WEIGHT)]
        completed = completed_ellipsis(question, history, lang)
        if completed:
            return completed, [Query(question), Query(completed, FOLLOWUP_WEIGHT)]
        return question, [
            Query(question),
            *(Query(text, FOLLOWUP_WEIGHT) for text in searched_besides(question, history, lang)),
        ]

    def _translated_query(self, question: str, lang: str) -> Query | None:
        """The question in the other language, for lexical search in articles written in it."""
        if self.settings.translation_weight <= 0 or not self.generator.uses_model:
            return None
        # With the model busy, translating would only add to the queue: skip it.
        translated = self._complete(translation_messages(question, other_language(lang)), wait=False)
        if not translated or translated.casefold() == question.casefold():
            return None
        return Query(translated, self.settings.translation_weight)

    @staticmethod
    def _question_for_model(question: str, lang: str, translated: Query | None, passages: list[Passage]) -> str:
        """With most passages in the other language, the question in that language too: a small model
        otherwise often finds nothing in them that answers the question."""
        if translated and _mostly_other_language(passages, lang):
            return f"{question} ({translated.text})"
        return question

    def _complete(self, messages: list[dict[str, str]], wait: bool = True) -> str:
        text = "".join(self.generator.stream(messages, REWRITE_TOKENS, wait, side_task=True)).strip()
        return " ".join(text.split()).strip("\"'„“”")[: self.settings.max_question_chars]

    def _generate(
        self, question: str, passages: list[Passage], lang: str, history: list[dict[str, str]] | None = None
    ) -> Iterator[str]:
        focus = Focus(question, passages, self.embedder)
        if not self.generator.uses_model:
            yield from self._extract(focus, passages)
            return
        excerpts = focus.excerpts(self.settings.context_chars)
        numbered = [
            SourceText(n, excerpt, passage.metadata)
            for n, (excerpt, passage) in enumerate(zip(excerpts, passages, strict=True), start=1)
        ]
        messages = answer_messages(question, numbered, lang, (history or [])[-2 * HISTORY_TURNS :])
        yield from without_loops(self.generator.stream(messages, self._answer_tokens(question)))

    def _answer_tokens(self, question: str) -> int:
        limit = self.settings.max_answer_tokens
        return min(limit, SHORT_ANSWER_TOKENS) if FACT_QUESTION.match(question) else limit

    def _extract(self, focus: Focus, passages: list[Passage]) -> Iterator[str]:
        """The extractive answer: the passage sentences closest to the question, each cited."""
        picked = focus.best_sentences(EXTRACTIVE_SENTENCES, self.settings.extractive_min_similarity)
        for rank, (passage_index, start, end) in enumerate(picked):
            sentence = passages[passage_index].text[start:end].strip()
            yield ("" if rank == 0 else " ") + f"{sentence} [{passage_index + 1}]"


@dataclass
class _Turn:
    """One question on its way to an answer: what was searched and found for it, and when."""

    question: str
    lang: str
    started: float
    standalone: str = ""
    queries: list[Query] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def answer(
        self, model: dict[str, str], text: str, citations: list[Citation], abstain_reason: str | None = None
    ) -> Answer:
        self.timings.setdefault("first_token", _ms(self.started))
        self.timings["total"] = _ms(self.started)
        if abstain_reason:
            text, citations = not_covered(self.lang), []
        return Answer(
            self.question,
            text,
            abstain_reason is not None,
            citations,
            self.passages,
            model,
            self.timings,
            self.lang,
            self.standalone,
            [query.text for query in self.queries],
            abstain_reason,
        )


@dataclass
class _Draft:
    text: str = ""
    second_try: bool = False  # written when the model was asked again in the passages' language


@dataclass
class _Checked:
    text: str
    citations: list[Citation]
    passages: list[Passage]
    reason: str | None  # why it is no answer (Answer.abstain_reason)


def _mostly_other_language(passages: list[Passage], lang: str) -> bool:
    return sum(p.metadata.get("lang") not in (None, lang) for p in passages) * 2 > len(passages)


def is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
