"""One answer against its gold question: where the gold passage ranked, citations, keywords, loops."""

import re
from dataclasses import dataclass

from evaluation.gold import GoldQuestion
from rag.assistant import Answer
from rag.repetition import repeated_run


@dataclass
class Outcome:
    question: GoldQuestion
    rank: int | None  # 1-based rank of the first retrieved passage holding a gold string
    citation_hit: bool | None  # a cited passage holds a gold string; None when nothing was cited
    keyword_recall: float | None
    abstained: bool
    abstain_reason: str | None
    citations_outside_retrieved: int
    seconds: float
    searched: str  # the question the assistant searched with (its rewrite of a follow-up)
    answer: str  # as shown to the reader
    repeated: str | None  # a run of 8+ words the answer says twice
    polluted: bool = False  # the searched question took words from earlier turns that the question lacks


def normalise(text: str) -> str:
    """Case, white space, thousands and decimal separators don't matter when looking for gold strings:
    an answer's "1146" or "1.146" is an English abstract's "1,146", its "6,8" is "6.8"."""
    text = re.sub(r"(?<=\d)[,.](?=\d{3}(?!\d))", "", text.casefold())
    text = re.sub(r"(\d)[,.](\d)", r"\1.\2", text)
    return " ".join(text.split())


def judge(question: GoldQuestion, answer: Answer, seconds: float) -> Outcome:
    def holds_gold(text: str) -> bool:
        return any(normalise(gold) in normalise(text) for gold in question.gold)

    rank = next((i for i, p in enumerate(answer.retrieved, start=1) if holds_gold(p.text)), None)
    cited = [c.passage for c in answer.citations]
    retrieved_ids = {p.chunk_id for p in answer.retrieved}
    keyword_recall = None
    if question.keywords and not answer.abstained:
        found = sum(normalise(k) in normalise(answer.answer) for k in question.keywords)
        keyword_recall = found / len(question.keywords)
    return Outcome(
        question,
        rank,
        any(holds_gold(p.text) for p in cited) if cited else None,
        keyword_recall,
        answer.abstained,
        answer.abstain_reason,
        sum(p.chunk_id not in retrieved_ids for p in cited),
        seconds,
        answer.standalone_question,
        answer.answer,
        repeated_run(answer.answer),
    )
