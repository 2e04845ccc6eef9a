"""Which document does a follow-up continue? The one the previous answer quoted.

"Und bei Unternehmen mit mehr als 1.000 Mitarbeitenden?" asks the survey that gave the previous
figure, not another article that has a figure for that size. Retrieval ranks passages by the
follow-up's words, and in a corpus of articles on one theme other documents with such figures fill
the top places; the small model then gives one of theirs. A conversation's history holds only text,
so the document is found by the previous answer's words: the one that has all its amounts and the
most of its words.
"""

from collections.abc import Callable

from rag.echo import previous_answer, stated_amounts
from rag.followup import own_words
from rag.grounding import figures
from rag.lexical import tokenize
from rag.prompts import CITATION_MARKER, Messages
from rag.retrieval import Passage

# Share of the previous answer's words the quoted document must have: an answer copies or closely
# paraphrases its passage; one translated from it, or written from several documents, names no source.
SOURCE_SHARE = 2 / 3


def continued_document(
    question: str, lang: str, history: Messages, passages: list[Passage], document_text: Callable[[str], str]
) -> str | None:
    """Of the documents of `passages`, the one the previous answer quoted, if it also names everything
    the follow-up newly asks ("Und bei Unternehmen mit mehr als 1.000 Mitarbeitenden?": 1.000,
    Unternehmen, Mitarbeitende); else None."""
    texts = {doc_id: document_text(doc_id) for doc_id in dict.fromkeys(p.metadata.get("doc_id") for p in passages)}
    source = quoted_document(previous_answer(history), texts)
    return source if source is not None and _names(texts[source], own_words(question, lang)) else None


def quoted_document(answer: str, documents: dict[str, str]) -> str | None:
    """The document (id → text) that states all the answer's amounts and the largest share of its
    words, at least SOURCE_SHARE; the first of equals. None if no document does."""
    words = set(tokenize(CITATION_MARKER.sub(" ", answer)))
    amounts = stated_amounts(answer)
    shares = [
        (len(words & set(tokenize(text))) / len(words), doc_id)
        for doc_id, text in documents.items()
        if words and amounts <= figures(text)
    ]
    share, source = max(shares, key=lambda scored: scored[0], default=(0.0, None))
    return source if share >= SOURCE_SHARE else None


def _names(text: str, words: set[str]) -> bool:
    return words <= set(tokenize(text)) | figures(text)
