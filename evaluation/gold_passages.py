"""`rag eval --gold-passages`: the answers as they would be with a perfect retrieval.

Each gold question is answered from only the passages that hold its gold string, with the same
prompt and checks. Against the figures of a run without the flag, this tells what better retrieval
could still win from what stays missing because of the model's reading.
"""

from collections.abc import Iterable
from typing import Any

from evaluation.gold import GoldQuestion
from evaluation.judge import normalise
from rag.retrieval import Passage, Query, Retriever


class GoldPassagesRetriever:
    """For a gold question, only the passages holding its gold, best first (at most k); everything
    else is the wrapped retriever's. The question as asked is always the first search query."""

    def __init__(self, retriever: Retriever, questions: Iterable[GoldQuestion]) -> None:
        self._retriever = retriever
        self._gold = {question.question: [normalise(gold) for gold in question.gold] for question in questions}

    def search(self, queries: list[Query], k: int) -> list[Passage]:
        gold = self._gold[queries[0].text]
        ranked = self._retriever.search(queries, self._retriever.store.count())
        return [p for p in ranked if any(text in normalise(p.text) for text in gold)][:k]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)
