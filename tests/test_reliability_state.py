"""Corrupted state (issue #7): a deleted or damaged index, a model file that is not a model, and
undecodable questions on the command line. Each must end in one clear `error:` line that says what to
run (exit 2), never a traceback; and the command it names must repair the damage.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import indexed_settings

from rag.settings import PROJECT_ROOT

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"
REBUILD = "python -m ingest --rebuild"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the shipped corpus indexed; tests damage copies of it."""
    return indexed_settings(tmp_path_factory.mktemp("state") / "data").data_dir


@pytest.fixture
def data_dir(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(pristine, copy)
    return copy


def command(data_dir: Path, *args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("RAG_")}
    environment |= {"RAG_DATA_DIR": str(data_dir), "RAG_GENERATOR": "extractive", **env}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=600,
    )


def ask(data_dir: Path, question: str | bytes = FIVE_FACTORS, **env: str) -> subprocess.CompletedProcess:
    return command(data_dir, "rag", "ask", question, "--json", **env)


def one_error_line(process: subprocess.CompletedProcess) -> str:
    stderr = process.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
    return lines[0]


def answered(process: subprocess.CompletedProcess) -> dict:
    assert process.returncode == 0, process.stderr.decode(errors="replace")[-3000:]
    answer = json.loads(process.stdout)
    assert answer["citations"] and not answer["abstained"]
    return answer


# --- the index ---------------------------------------------------------------------------------------


def test_a_deleted_index_folder_says_how_to_fill_it_and_ingest_does(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "index")
    process = ask(data_dir)
    assert process.returncode == 2
    line = one_error_line(process)
    assert "is empty; fill it with: python -m ingest" in line, line
    assert command(data_dir, "ingest").returncode == 0
    answered(ask(data_dir))


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 800)  # 200 KB that no SQLite reader takes for a database


DAMAGE = {
    "chroma folder deleted": lambda index: shutil.rmtree(index / "chroma"),
    "chroma.sqlite3 emptied": lambda index: (index / "chroma" / "chroma.sqlite3").write_bytes(b""),
    "chroma.sqlite3 overwritten": lambda index: _garbage(index / "chroma" / "chroma.sqlite3"),
    "registry.sqlite3 overwritten": lambda index: _garbage(index / "registry.sqlite3"),
    "registry.sqlite3 emptied": lambda index: (index / "registry.sqlite3").write_bytes(b""),
}
# What the error line must name: the registry emptied reads as an empty index, which plain ingest fills.
HINTS = {name: REBUILD for name in DAMAGE} | {"registry.sqlite3 emptied": "fill it with: python -m ingest"}


@pytest.mark.parametrize(
    "damage",
    [
        name
        for name in DAMAGE  # an overwritten file is not a database at all
    ],
)
def test_a_damaged_index_is_one_error_line_naming_the_repair(data_dir: Path, damage: str) -> None:
    DAMAGE[damage](data_dir / "index")
    process = ask(data_dir)
    assert process.returncode == 2, process.stderr.decode(errors="replace")[-2000:]
    line = one_error_line(process)
    assert HINTS[damage] in line, line


@pytest.mark.parametrize("damage", DAMAGE)
def test_ingest_rebuild_repairs_a_damaged_index(data_dir: Path, damage: str) -> None:
    DAMAGE[damage](data_dir / "index")
    rebuild = command(data_dir, "ingest", "--rebuild")
    assert rebuild.returncode == 0, rebuild.stderr.decode(errors="replace")[-3000:]
    assert rebuild.stdout.decode().startswith("files: 4 seen, 4 added")
    answered(ask(data_dir))


@pytest.mark.parametrize("damage", ["chroma folder deleted", "chroma.sqlite3 emptied"])
def test_plain_ingest_over_a_lost_vector_store_does_not_report_success_and_leave_it_broken(
    data_dir: Path, damage: str
) -> None:
    DAMAGE[damage](data_dir / "index")
    process = command(data_dir, "ingest")
    if process.returncode == 2:
        assert REBUILD in one_error_line(process)
    else:
        assert process.returncode == 0
        answered(ask(data_dir))


# --- the model file ----------------------------------------------------------------------------------


def _truncated_smollm(path: Path) -> None:
    from helpers import smollm_path

    with open(smollm_path(), "rb") as model:
        path.write_bytes(model.read(1_000_000))  # a real GGUF header, cut off


BROKEN_MODELS = {
    "random bytes": lambda path: path.write_bytes(os.urandom(200_000)),
    "GGUF magic then garbage": lambda path: path.write_bytes(b"GGUF\x03\x00\x00\x00" + os.urandom(200_000)),
    "a real GGUF cut off": _truncated_smollm,
    "empty": lambda path: path.write_bytes(b""),
}


@pytest.mark.parametrize("kind", BROKEN_MODELS)
def test_an_unloadable_model_file_is_one_clear_error(data_dir: Path, tmp_path: Path, kind: str) -> None:
    model = tmp_path / "kaputt.gguf"
    BROKEN_MODELS[kind](model)
    process = ask(data_dir, RAG_GENERATOR="llama", RAG_MODEL_PATH=str(model))
    assert process.returncode == 2, process.stderr.decode(errors="replace")[-2000:]
    line = one_error_line(process)
    assert line.startswith(f"error: cannot load {model} as a GGUF model"), line
    assert process.stdout == b""


def test_a_staging_file_left_by_a_killed_assembly_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from rag.models import PackagedModel, assembled_model_path

    parts = [b"GGUF-part-one|", b"part-two"]
    for number, data in enumerate(parts, start=1):
        package = tmp_path / "site" / f"stale_model_part{number}"
        package.mkdir(parents=True)
        (package / "part.bin").write_bytes(data)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'part.bin')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = PackagedModel("stale.gguf", "stale_model_part{n}", 2, hashlib.sha256(b"".join(parts)).hexdigest())
    cache = tmp_path / "models"
    cache.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = cache / f".stale.gguf.{dead.stdout.strip()}.part"  # a process that is gone
    stale.write_bytes(parts[0])

    assert assembled_model_path(model, cache).read_bytes() == b"".join(parts)
    assert not stale.exists(), "the dead process's staging file is still there"


# --- undecodable questions on the command line ------------------------------------------------------


@pytest.mark.parametrize("via", ["argument", "stdin"])
def test_a_question_with_undecodable_bytes_gets_an_error_line_or_an_answer(data_dir: Path, via: str) -> None:
    question = b"Was ist ABM? \xff\xfe"
    if via == "argument":
        process = command(data_dir, "rag", "ask", os.fsdecode(question), "--json")
    else:
        process = command(data_dir, "rag", "ask", "-", "--json", stdin=question + b"\n")
    stderr = process.stderr.decode(errors="replace")
    assert "Traceback" not in stderr, stderr[-2000:]
    assert process.returncode in (0, 1), stderr
    lines = [json.loads(line) for line in process.stdout.decode().splitlines()]
    assert len(lines) == 1 and ("answer" in lines[0] or lines[0]["error"].startswith("question: "))
