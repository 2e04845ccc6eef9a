"""Votes on answers: stored in a local SQLite file, exported as CSV or JSON lines."""

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,
    voted_at TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    embedder TEXT NOT NULL,
    generator TEXT NOT NULL
)
"""
COLUMNS = ("answer_id", "voted_at", "vote", "comment", "question", "answer", "citations", "embedder", "generator")


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per call: browser sessions vote from different threads.
        return sqlite3.connect(self._path, timeout=10)

    def record(self, answer_id: str, vote: str, answer: dict[str, Any], comment: str = "") -> None:
        """Store or replace the vote on one answer (an answer as `Answer.to_json()` gives it)."""
        row = (
            answer_id,
            datetime.now(UTC).isoformat(timespec="seconds"),
            vote,
            comment.strip(),
            answer["question"],
            answer["answer"],
            json.dumps(answer["citations"], ensure_ascii=False),
            answer["model"]["embedder"],
            answer["model"]["generator"],
        )
        with self._connect() as db:
            db.execute(f"INSERT OR REPLACE INTO feedback VALUES ({', '.join('?' * len(COLUMNS))})", row)

    def rows(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY voted_at, rowid")
            return [dict(zip(COLUMNS, row, strict=True)) for row in cursor]

    def export(self, form: str) -> str:
        rows = self.rows()
        if form == "jsonl":
            return "".join(
                json.dumps({**row, "citations": json.loads(row["citations"])}, ensure_ascii=False) + "\n"
                for row in rows
            )
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def feedback_path(data_dir: Path) -> Path:
    return data_dir / "feedback.sqlite3"
