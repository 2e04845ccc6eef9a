"""Which sentences of the retrieved passages matter for the question: what the model is shown, and
what the extractive answer quotes.

Relevance is the mean of embedding similarity and the share of the question's stemmed words the
sentence contains: similarity alone favours sentences that merely sound like the question.
"""

import numpy as np

from rag.embedders import Embedder
from rag.lexical import tokenize
from rag.retrieval import Passage
from rag.sentences import sentence_spans


class Focus:
    def __init__(self, question: str, passages: list[Passage], embedder: Embedder) -> None:
        self.passages = passages
        self.spans = [sentence_spans(p.text) or [(0, len(p.text))] for p in passages]
        self.flat = [(p, i) for p, spans in enumerate(self.spans) for i in range(len(spans))]
        texts = [self._sentence(p, i) for p, i in self.flat]
        vectors = embedder.embed([question, *texts])
        question_words = set(tokenize(question))
        overlap = np.array([len(question_words & set(tokenize(t))) / max(len(question_words), 1) for t in texts])
        self.scores = (vectors[1:] @ vectors[0] + overlap) / 2
        self._position = {pair: k for k, pair in enumerate(self.flat)}
        self.quotable = [_quotable(t) for t in texts]

    def _sentence(self, passage_index: int, sentence_index: int) -> str:
        start, end = self.spans[passage_index][sentence_index]
        return self.passages[passage_index].text[start:end]

    def excerpts(self, budget: int) -> list[str]:
        """Each passage cut to consecutive sentences around its most relevant one (the sentences near
        an answer usually carry its subject). Every passage keeps its best sentence; the rest of
        `budget` characters goes to the most relevant neighbouring sentence of any passage, so the
        sentence after an answer's introduction in a relevant passage comes before the filler of an
        irrelevant one."""
        share = budget // max(len(self.passages), 1)
        windows = [self._best_sentence(p) for p in range(len(self.passages))]
        texts = [self._text(p, low, high, share) for p, (low, high) in enumerate(windows)]
        while True:
            grown = [
                (self._score(p, i), p, self._text(p, min(low, i), max(high, i), share), (min(low, i), max(high, i)))
                for p, (low, high) in enumerate(windows)
                for i in (low - 1, high + 1)
                if 0 <= i < len(self.spans[p])
            ]
            used = sum(map(len, texts))
            fitting = [g for g in grown if used - len(texts[g[1]]) + len(g[2]) <= budget]
            if not fitting:
                return texts
            _, p, texts[p], windows[p] = max(fitting, key=lambda g: g[0])

    def _score(self, passage_index: int, sentence_index: int) -> float:
        return float(self.scores[self._position[passage_index, sentence_index]])

    def _best_sentence(self, passage_index: int) -> tuple[int, int]:
        best = max(range(len(self.spans[passage_index])), key=lambda i: self._score(passage_index, i))
        return best, best

    def _text(self, passage_index: int, low: int, high: int, limit: int) -> str:
        """The window's text; the whole passage if the window holds all its sentences; a single
        sentence longer than `limit` cut at a word."""
        text, spans = self.passages[passage_index].text, self.spans[passage_index]
        if low == 0 and high == len(spans) - 1 and len(text) <= limit:
            return text
        if low == high and spans[low][1] - spans[low][0] > limit:
            return text[spans[low][0] : spans[low][0] + limit].rsplit(" ", 1)[0]
        return text[spans[low][0] : spans[high][1]]

    def best_sentences(self, count: int, threshold: float) -> list[tuple[int, int, int]]:
        """The `count` most relevant quotable sentences reaching `threshold`: (passage, start, end)."""
        ranked = sorted(
            ((float(self.scores[k]), p, i) for k, (p, i) in enumerate(self.flat) if self.quotable[k]),
            reverse=True,
        )
        return [(p, *self.spans[p][i]) for score, p, i in ranked[:count] if score >= threshold]


def _quotable(sentence: str) -> bool:
    """A statement worth quoting: no question, heading or fragment."""
    sentence = sentence.strip()
    return len(sentence.split()) >= 6 and not sentence.endswith("?") and not sentence.startswith("#")
