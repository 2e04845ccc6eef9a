"""Which sentences of the retrieved passages matter for the question: what the model is shown, and
what the extractive answer quotes.

Relevance is the mean of embedding similarity and the share of the question's stemmed words the
sentence contains: similarity alone favours sentences that merely sound like the question.
"""

import numpy as np

from rag.embedders import Embedder
from rag.lexical import tokenize
from rag.retrieval import Passage
from rag.sentences import sentence_spans_or_whole


class Focus:
    def __init__(self, question: str, passages: list[Passage], embedder: Embedder) -> None:
        self.passages = passages
        self.spans = [sentence_spans_or_whole(p.text) for p in passages]
        self.flat = [(p, i) for p, spans in enumerate(self.spans) for i in range(len(spans))]
        texts = [self._sentence(p, i) for p, i in self.flat]
        vectors = embedder.embed([question, *texts])
        question_words = set(tokenize(question))
        overlap = np.array([len(question_words & set(tokenize(t))) / max(len(question_words), 1) for t in texts])
        self.scores = (vectors[1:] @ vectors[0] + overlap) / 2
        self.quotable = [_quotable(t) for t in texts]

    def _sentence(self, passage_index: int, sentence_index: int) -> str:
        start, end = self.spans[passage_index][sentence_index]
        return self.passages[passage_index].text[start:end]

    def excerpts(self, budget: int) -> list[str]:
        """Each passage cut to its share of `budget` characters: consecutive sentences around its most
        relevant one (the sentences near an answer usually carry its subject)."""
        share = budget // max(len(self.passages), 1)
        return [self._excerpt(p, share) for p in range(len(self.passages))]

    def _excerpt(self, passage_index: int, limit: int) -> str:
        text, spans = self.passages[passage_index].text, self.spans[passage_index]
        if len(text) <= limit:
            return text
        scores = [self.scores[k] for k, (p, _) in enumerate(self.flat) if p == passage_index]
        low = high = int(np.argmax(scores))
        if spans[low][1] - spans[low][0] > limit:
            return text[spans[low][0] : spans[low][0] + limit].rsplit(" ", 1)[0]
        while True:
            candidates = [i for i in (low - 1, high + 1) if 0 <= i < len(spans)]
            candidates = [i for i in candidates if spans[max(high, i)][1] - spans[min(low, i)][0] <= limit]
            if not candidates:
                break
            pick = max(candidates, key=lambda i: scores[i])
            low, high = min(low, pick), max(high, pick)
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
