"""BM25 over the indexed chunks, in our process (local Chroma has no lexical ranking).

Tokens are lower-cased, stemmed with the Snowball German stemmer and folded (ä→a, ß→ss), so
"Märkte", "Markt" and "markte" meet; German and English stop words are dropped.
"""

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Set
from pathlib import Path

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(STOPWORDS_GERMAN) | frozenset(STOPWORDS_EN)
FOLDING = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_stemmer = Stemmer.Stemmer("german")


def tokenize(text: str) -> list[str]:
    words = [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return [stem.translate(FOLDING) for stem in _stemmer.stemWords(words) if stem not in STOPWORDS]


def shared_prefix(a: str, b: str) -> int:
    """How many leading characters two tokens have in common."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def same_stem(a: str, b: str) -> bool:
    """Two tokens of one word: equal, or differing only in an ending the stemmer left on ("lernt"
    and "lern" from "lernen"; "use" and "used", since English words get the German stemmer)."""
    shared = shared_prefix(a, b)
    return a == b or (shared >= 3 and shared >= max(len(a), len(b)) - 2)


def shares_a_word(text: str, other: str, besides: Set[str] = frozenset()) -> bool:
    """The two texts have a word in common (tokenized, endings aside) other than the tokens `besides`."""
    theirs = set(tokenize(other)) - besides
    return any(same_stem(word, their) for word in set(tokenize(text)) for their in theirs)


class LexicalIndex:
    """An immutable BM25 index over (chunk id, text) pairs, saved with the fingerprint it was built for."""

    def __init__(
        self, model: bm25s.BM25 | None, chunk_ids: list[str], fingerprint: str, document_frequency: dict[str, int]
    ) -> None:
        self._model = model
        self.chunk_ids = chunk_ids
        self.fingerprint = fingerprint
        self.document_frequency = document_frequency  # token → number of documents holding it
        self._vocab = model.vocab_dict if model is not None else {}

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str, str]], fingerprint: str) -> "LexicalIndex":
        """From (chunk id, document id, text) triples. Frequencies count documents, not chunks: an
        article naming its company in every chunk must not make the name look common."""
        chunk_ids, token_lists = [], []
        words_of_document: dict[str, set[str]] = {}
        for chunk_id, doc_id, text in chunks:
            chunk_ids.append(chunk_id)
            tokens = tokenize(text)
            words_of_document.setdefault(doc_id, set()).update(tokens)
            token_lists.append(tokens or ["\u2205"])  # bm25s needs one token per document
        if not chunk_ids:
            return cls(None, [], fingerprint, {})
        model = bm25s.BM25()
        model.index(token_lists, show_progress=False)
        frequency = Counter(word for words in words_of_document.values() for word in words)
        return cls(model, chunk_ids, fingerprint, dict(frequency))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if self._model is None or not tokens:
            return []
        k = min(k, len(self.chunk_ids))
        indices, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [(self.chunk_ids[i], float(s)) for i, s in zip(indices[0], scores[0], strict=True) if s > 0]

    def save(self, folder: Path) -> None:
        """Write to a temporary folder, then swap it in, so a reader never sees half an index."""
        staging = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self._model is not None:
            self._model.save(str(staging), show_progress=False)
        manifest = {
            "fingerprint": self.fingerprint,
            "chunk_ids": self.chunk_ids,
            "document_frequency": self.document_frequency,
        }
        (staging / "chunks.json").write_text(json.dumps(manifest))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex | None":
        try:
            manifest = json.loads((folder / "chunks.json").read_text())
            fingerprint, chunk_ids = manifest["fingerprint"], manifest["chunk_ids"]
            model = bm25s.BM25.load(str(folder), show_progress=False) if chunk_ids else None
            return cls(model, chunk_ids, fingerprint, manifest["document_frequency"])
        except (OSError, ValueError, KeyError):
            return None
