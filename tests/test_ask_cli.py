"""`python -m rag ask`: the JSON contract, stdin mode, and the answer as a terminal and a pipe get it."""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from helpers import (
    ASKED_AGAIN_ANSWER,
    KESSLER_QUESTION_EN,
    WITHDRAWN_DRAFT,
    asked_again_model,
    assert_answer_contract,
    indexed_settings,
    kessler_index,
    smollm_path,
)

from rag.assistant import Token
from rag.components import open_assistant
from rag.settings import PROJECT_ROOT, Settings

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


def test_piped_output_is_the_checked_answer_once_then_the_sources(index_dir: Path) -> None:
    checked = json.loads(ask(FIVE_FACTORS, "--json", "--index", str(index_dir), RAG_GENERATOR="extractive").stdout)
    result = ask(FIVE_FACTORS, "--index", str(index_dir), RAG_GENERATOR="extractive")
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nQuellen:\n")
    assert answer.strip() == checked["answer"] and "Informationsaustausch" in answer and "[1]" in answer
    assert sources.startswith("[1] Marketing und Vertrieb – wie die Zusammenarbeit gelingt")
    assert "»" in sources and "«" in sources, "the supporting sentence is set off"
    assert any("\n## " in citation["text"] for citation in checked["citations"]), "a passage spans a heading"
    assert not re.search(r"#{1,6} [A-ZÄÖÜ]", sources), "no raw Markdown heading marks"
    section = "    Abschnitt: Durch diese Faktoren wird die Schnittstelle von Marketing und Vertrieb beeinflusst\n"
    assert section in sources.split("[2]")[0], "the heading the five factors sentence stands under"


def test_in_a_terminal_the_checked_answer_replaces_the_streamed_one(index_dir: Path) -> None:
    checked = json.loads(ask(FIVE_FACTORS, "--json", "--index", str(index_dir), RAG_GENERATOR="extractive").stdout)
    written = ask_in_terminal(FIVE_FACTORS, index_dir, RAG_GENERATOR="extractive")
    assert "\x1b[" in written, "drawn with terminal control sequences"
    screen = " ".join(render(written).split())
    answer = " ".join(checked["answer"].split())
    streamed_differs = " ".join(streamed_text(index_dir).split()) != answer
    assert streamed_differs, "the checked answer differs from the stream, so a leftover stream would show"
    assert screen.split(" Quellen:")[0] == answer, "only the checked answer is left on the screen"


def test_in_a_terminal_an_answer_being_replaced_says_so_then_gives_way(tmp_path: Path) -> None:
    """The model (scripted: see asked_again_model) streams an answer with a figure its article lacks."""
    index = kessler_index(tmp_path).index_dir
    with asked_again_model(delay=0) as model:
        written = ask_in_terminal(KESSLER_QUESTION_EN, index, **model.env())
    assert WITHDRAWN_DRAFT in written and "in the language of the sources …" in written, "both drawn on the way"
    screen = " ".join(render(written).split())
    assert screen.split(" Sources:")[0] == ASKED_AGAIN_ANSWER, "only the checked answer is left on the screen"


def ask_in_terminal(question: str, index: Path, **env: str) -> str:
    """`python -m rag ask` writing to a pseudo-terminal 200 columns wide: everything it wrote there."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    command = [sys.executable, "-m", "rag", "ask", question, "--index", str(index)]
    environment = {**os.environ, **env, "TERM": "xterm-256color"}
    with subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stdout=terminal, stderr=subprocess.PIPE
    ) as process:
        os.close(terminal)
        written = read_all(controller)
        assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
    return written.decode()


def streamed_text(index_dir: Path) -> str:
    settings = Settings(index_dir=index_dir, generator="extractive")
    tokens = open_assistant(settings).stream(FIVE_FACTORS)
    return "".join(event.text for event in tokens if isinstance(event, Token))


def read_all(controller: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return b"".join(chunks)


def render(output: str) -> str:
    """What a terminal shows after `output`: enough of VT100 for what rich's Live writes (text, CR, LF,
    cursor up, erase line); other control sequences are ignored."""
    lines, row, column = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\r":
            column = 0
        elif token == "\n":
            row, column = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token.startswith("\x1b["):
            count = int(re.sub(r"\D", "", token[2:-1]) or 1)
            if token[-1] == "A":
                row = max(0, row - count)
            elif token[-1] == "K":
                lines[row] = "" if token[2:-1] == "2" else lines[row][:column]
        else:
            line = lines[row].ljust(column)
            lines[row] = line[:column] + token + line[column + len(token) :]
            column += len(token)
    return "\n".join(lines)


def test_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    result = ask(FIVE_FACTORS, "--index", str(tmp_path / "nothing"), RAG_GENERATOR="extractive")
    assert result.returncode == 2
    assert "is empty; fill it with: python -m ingest" in result.stderr
