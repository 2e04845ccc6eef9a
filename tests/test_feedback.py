"""Votes in SQLite and their export; the conversation as Markdown."""

import csv
import io
import json
import subprocess
import sys

from rag.conversation import to_markdown
from rag.feedback import FeedbackStore, feedback_path
from rag.settings import PROJECT_ROOT, Settings

ANSWER = {
    "question": "Was ist Job-Rotation?",
    "answer": "Mitarbeiter wechseln zwischen Marketing und Vertrieb [1].",
    "lang": "de",
    "model": {"embedder": "use-multilingual", "generator": "extractive"},
    "citations": [
        {
            "n": 1,
            "title": "Teil 1",
            "author": "Andreas",
            "date": None,
            "source": "corpus/blog/a.md",
            "page": 2,
            "url": None,
            "text": "Empfohlen werden gemeinsame Trainings\noder Job-Rotation.",
        }
    ],
}


def test_votes_are_exported_as_csv_and_jsonl_by_the_cli(settings: Settings) -> None:
    store = FeedbackStore(feedback_path(settings.data_dir))
    store.record("a1", "up", ANSWER)
    store.record("a1", "down", ANSWER, comment="  Quelle passt nicht.  ")  # the same answer, vote changed
    store.record("a2", "up", {**ANSWER, "question": "Zweite Frage?"})

    def export(form: str) -> str:
        command = [sys.executable, "-m", "rag", "feedback", "--export", form]
        result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
        return result.stdout

    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    assert [(r["answer_id"], r["vote"], r["comment"]) for r in rows] == [
        ("a1", "down", "Quelle passt nicht."),
        ("a2", "up", ""),
    ]
    lines = [json.loads(line) for line in export("jsonl").splitlines()]
    assert lines[0]["citations"][0]["source"] == "corpus/blog/a.md" and lines[1]["question"] == "Zweite Frage?"
    assert lines[0]["generator"] == "extractive" and lines[0]["voted_at"]


def test_a_conversation_exports_as_markdown_with_its_sources() -> None:
    markdown = to_markdown([ANSWER], "Gespräch")
    assert markdown.startswith("# Gespräch\n\n## Was ist Job-Rotation?\n\nMitarbeiter wechseln")
    assert "[1] Teil 1 — Andreas (corpus/blog/a.md, S. 2)" in markdown
    assert "> Empfohlen werden gemeinsame Trainings oder Job-Rotation." in markdown
