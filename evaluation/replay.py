"""A generator that keeps every reply it got from the model and gives it again for the same input.

The model decodes greedily, so its reply to the same messages is the same every time (on one build
of llama.cpp). With the replies of an earlier run stored, an evaluation of a change to the checks,
which changes no prompt, needs no model call and takes seconds instead of an hour; a changed prompt
goes to the model and is stored too. `python -m rag eval --replay FILE` uses it.
"""

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from rag.generators import Generator
from rag.prompts import Messages

SCHEMA = "CREATE TABLE IF NOT EXISTS reply (key TEXT PRIMARY KEY, pieces TEXT, complete INTEGER)"


class ReplayMismatchError(RuntimeError):
    """The model, asked to complete a stored reply, began it differently: the store was made with
    another build of llama.cpp or with sampling, and its replies cannot stand for this model's."""


class ReplayGenerator:
    """Stores `model`'s streamed pieces and yes-probabilities in an SQLite file, keyed by the model's
    name and the exact call. A stream the reader stopped early (a loop cut off) is stored as far as
    it was read; a later reader that reads further gets the rest from the model, which must begin its
    reply with the stored pieces (ReplayMismatchError otherwise)."""

    def __init__(self, model: Generator, store: Path) -> None:
        self.model = model
        self.name = model.name
        self.uses_model = model.uses_model
        self._db = sqlite3.connect(store, check_same_thread=False)
        self._db.execute(SCHEMA)
        self.calls = {"replayed": 0, "asked": 0}

    def busy(self) -> bool:
        return self.model.busy()

    def stream(self, messages: Messages, max_tokens: int, wait: bool = True, side_task: bool = False) -> Iterator[str]:
        key = self._key("stream", messages, max_tokens)
        stored = self._get(key)
        pieces, complete = (json.loads(stored[0]), bool(stored[1])) if stored else ([], False)
        self.calls["replayed" if stored else "asked"] += 1
        yield from pieces
        if complete or (not wait and self.model.busy()):
            return
        fresh: list[str] = []
        try:
            for piece in self.model.stream(messages, max_tokens, wait, side_task):
                fresh.append(piece)
                if len(fresh) > len(pieces):
                    yield piece
                elif piece != pieces[len(fresh) - 1]:
                    raise ReplayMismatchError(
                        f"{self.name}: the stored reply begins {''.join(pieces)[:60]!r}, the model's "
                        f"{''.join(fresh)[:60]!r}; start a new replay file"
                    )
            complete = True
        finally:  # also when the reader stops early: keep what the model said so far
            if len(fresh) > len(pieces) or complete:
                self._put(key, json.dumps(fresh), complete)

    def yes_probability(self, messages: Messages) -> float | None:
        key = self._key("yes", messages, 1)
        stored = self._get(key)
        self.calls["replayed" if stored else "asked"] += 1
        if stored:
            return json.loads(stored[0])
        probability = self.model.yes_probability(messages)
        self._put(key, json.dumps(probability), True)
        return probability

    def _key(self, call: str, messages: Messages, max_tokens: int) -> str:
        described = json.dumps([self.name, call, max_tokens, messages], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(described.encode()).hexdigest()

    def _get(self, key: str) -> tuple[str, int] | None:
        return self._db.execute("SELECT pieces, complete FROM reply WHERE key = ?", (key,)).fetchone()

    def _put(self, key: str, pieces: str, complete: bool) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO reply VALUES (?, ?, ?)", (key, pieces, int(complete)))
