"""`python -m rag ask`: the JSON contract, stdin mode and the human-readable stream."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_answer_contract, indexed_settings, smollm_path

from rag.settings import PROJECT_ROOT

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return indexed_settings(tmp_path_factory.mktemp("ask")).index_dir


def ask(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag", "ask", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_json_answer_with_the_extractive_generator(index_dir: Path) -> None:
    result = ask(FIVE_FACTORS, "--json", "--index", str(index_dir), RAG_GENERATOR="extractive")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert_answer_contract(answer, FIVE_FACTORS)
    assert answer["model"] == {"embedder": "use-multilingual", "generator": "extractive"}
    assert not answer["abstained"] and answer["citations"] and "Informationsaustausch" in answer["answer"]


def test_stdin_answers_every_line_in_one_process_with_a_real_model(index_dir: Path) -> None:
    questions = [FIVE_FACTORS, "", "What can marketing learn from sales?", "x" * 1200, "Was ist Job-Rotation?"]
    result = ask(
        "-",
        "--json",
        "--index",
        str(index_dir),
        stdin="\n".join(questions) + "\n",
        RAG_MODEL_PATH=str(smollm_path()),
        RAG_MAX_ANSWER_TOKENS="24",
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4, "the blank line is skipped, every other line answered"
    assert lines[2] == {"question": "x" * 1200, "error": "question: 1200 characters, over the limit of 1000"}
    for line, question in zip([lines[0], lines[1], lines[3]], [questions[0], questions[2], questions[4]], strict=True):
        assert_answer_contract(line, question)
        assert line["model"]["generator"] == "llama.cpp:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert result.returncode == 1, "one line failed"


def test_the_human_output_streams_the_answer_then_the_sources(index_dir: Path) -> None:
    result = ask(FIVE_FACTORS, "--index", str(index_dir), RAG_GENERATOR="extractive")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nQuellen:\n")
    assert "Informationsaustausch" in answer and "[1]" in answer
    assert sources.startswith("[1] Marketing und Vertrieb – wie die Zusammenarbeit gelingt")
    assert "»" in sources and "«" in sources, "the supporting sentence is set off"


def test_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    result = ask(FIVE_FACTORS, "--index", str(tmp_path / "nothing"), RAG_GENERATOR="extractive")
    assert result.returncode == 2
    assert "is empty; fill it with: python -m ingest" in result.stderr
