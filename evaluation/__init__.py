"""Evaluation above `rag/` and `ingest/`: gold questions and dialogues → figures (`python -m rag eval`)."""
