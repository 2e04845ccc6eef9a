"""`python -m rag eval`: gold questions and dialogues on a real index, tables per file, details per turn."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import conversation, indexed_settings, smollm_path
from hypothesis import given
from hypothesis import strategies as st

from evaluation.conversations import ask_dialogues, polluted
from evaluation.gold import Dialogue, EvalFileError, load_eval_file
from evaluation.gold_passages import GoldPassagesRetriever
from evaluation.judge import normalise
from rag.components import open_assistant
from rag.retrieval import Query
from rag.settings import PROJECT_ROOT, Settings

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"


def question(id: str, question: str, answerable: bool, gold: list[str], keywords: list[str], **extra) -> dict:
    lang = "en" if question.startswith(("What", "Did", "According")) else "de"
    return {"id": id, "question": question, "lang": lang, "answerable": answerable, "cross_language": False,
            "gold": gold, "keywords": keywords, "source": None, **extra}  # fmt: skip


def turn(text: str, kind: str, refers_back: bool, gold: list[str], keywords: list[str], **extra) -> dict:
    fields = question("", text, kind != "unanswerable", gold, keywords, kind=kind, refers_back=refers_back, **extra)
    del fields["id"]
    return fields


GOLD = [
    question("q001", FIVE_FACTORS, True, ["Informationsaustausch, strukturelle Bindungen"], ["Informationsaustausch"]),
    question(
        "q010",
        "According to the blog post, what role does a salesperson play for the brand?",
        True,
        ["Verkäufer als Markenbotschafter"],
        ["brand ambassador"],
        cross_language=True,
        holdout=True,
    ),
    question("q107", "Wie hoch war das Marketingbudget von Lidl im Jahr 2019?", False, [], []),
]
DIALOGUES = [
    {
        "id": "d001",
        "turns": [
            turn(FIVE_FACTORS, "opening", False, ["Informationsaustausch, strukturelle Bindungen"], ["Macht"]),
            turn("Und was lernt der Vertrieb daraus?", "followup", True, ["Beziehungsmanagement"], ["Markenwissen"]),
            turn(
                "Welche beiden Ausrichtungen einer Abteilung unterscheidet die Studie von Homburg, Jensen und Krohmer?",
                "switch",
                False,
                ["customer-oriented versus product-oriented"],
                ["produktorientiert"],
            ),
        ],
    },
    {
        "id": "d002",
        "holdout": True,
        "turns": [
            turn(
                "Did Homburg and Jensen argue that marketing and sales should think exactly alike?",
                "opening",
                False,
                ["identical thought worlds should not be the goal"],
                ["different orientations"],
            ),
            turn(
                "Was empfehlen Homburg und Jensen, damit Mitarbeiter in beiden Abteilungen arbeiten können?",
                "language_switch",
                False,
                ["joint training and job rotation"],
                ["Rotation"],
                cross_language=True,
            ),
            turn("Und wie viel Budget bekam das Marketing dafür?", "unanswerable", True, [], []),
        ],
    },
]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return indexed_settings(tmp_path_factory.mktemp("eval"), generator="extractive")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("eval-files")
    # Written the way people leave such files: a blank line, trailing blanks, no final line break.
    gold = [json.dumps(line, ensure_ascii=False) for line in GOLD]
    (folder / "gold.jsonl").write_text(f"{gold[0]}\n\n{gold[1]}   \n{gold[2]}", encoding="utf-8")
    lines = [json.dumps(dialogue, ensure_ascii=False) for dialogue in DIALOGUES]
    (folder / "conversations.jsonl").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return folder / "gold.jsonl", folder / "conversations.jsonl"


def run_eval(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rag", "eval", *args, "--corpus", str(PROJECT_ROOT / "corpus")]
    return subprocess.run(
        [*command, "--index", str(settings.index_dir)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RAG_DATA_DIR": str(settings.data_dir), **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def tables(stdout: str) -> list[dict[str, dict[str, str]]]:
    """Each printed table as {row: {column: cell}}."""
    result = []
    for block in stdout.split("\nfigure")[1:]:
        header, *rows = ("figure" + block).strip().split("\n\n")[0].splitlines()
        columns = header.split()[1:]
        result.append({row.split()[0]: dict(zip(columns, row.split()[1:], strict=True)) for row in rows})
    return result


def test_questions_and_dialogues_each_get_their_table_and_every_turn_a_detail_line(
    settings: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    details = tmp_path / "details.jsonl"
    result = run_eval(settings, str(files[0]), str(files[1]), "--details", str(details), RAG_GENERATOR="extractive")
    assert result.returncode == 0, result.stderr
    assert f"{files[0]}: 3 questions · embedder use-multilingual · generator extractive" in result.stdout
    assert f"{files[1]}: 2 dialogues, 6 turns" in result.stdout
    gold, dialogues = tables(result.stdout)

    assert list(gold["questions"]) == ["all", "same_language", "cross_language", "holdout"]
    assert gold["questions"] == {"all": "3", "same_language": "2", "cross_language": "1", "holdout": "1"}
    assert gold["abstained_unanswerable"]["all"] == "1.000", "the extractive generator finds no Lidl budget"
    assert gold["repetition_loops"]["all"] == "0" and "latency_median_s" in gold
    assert "polluted" not in gold, "conversation figures only for dialogues"

    kinds = ["opening", "followup", "switch", "language_switch", "unanswerable"]
    assert list(dialogues["questions"]) == ["all", *kinds, "holdout"]
    assert dialogues["questions"] == dict(zip(["all", *kinds, "holdout"], "6 2 1 1 1 1 3".split(), strict=True))
    # Without a model nothing is rewritten: every turn is searched as asked, none polluted.
    assert dialogues["searched_as_asked"]["switch"] == "1.000" and dialogues["polluted"]["switch"] == "0.000"
    assert dialogues["searched_as_asked"]["opening"] == "–", "an opening has no history to leak"
    assert dialogues["rewritten"]["followup"] == "0.000" and dialogues["rewritten"]["switch"] == "–"
    assert dialogues["citation_hit_rate"]["opening"] == "1.000"

    lines = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == "q001 q010 q107 d001.1 d001.2 d001.3 d002.1 d002.2 d002.3".split()
    followup = lines[4]
    assert followup["dialogue"] == "d001" and followup["kind"] == "followup" and followup["holdout"] is False
    assert followup["question"] == followup["searched"] == "Und was lernt der Vertrieb daraus?"
    assert followup["answer"] and followup["repeated"] is None
    assert lines[0]["kind"] is None and lines[0]["dialogue"] is None and "Informationsaustausch" in lines[0]["answer"]


def test_a_second_run_with_replay_gives_the_same_figures_without_asking_the_generator(
    settings: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    replies = tmp_path / "replies.sqlite"
    small = {"RAG_MODEL_PATH": str(smollm_path()), "RAG_MAX_ANSWER_TOKENS": "24"}
    first, second = (run_eval(settings, str(files[0]), "--replay", str(replies), **small) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    asked = int(first.stdout.split(" replayed from ")[1].split(", ")[1].split()[0])
    assert f"model calls: 0 replayed from {replies}, {asked} asked" in first.stdout and asked >= 3
    assert f"model calls: {asked} replayed from {replies}, 0 asked" in second.stdout
    without_latency = [{row: cells for row, cells in table.items() if not row.startswith("latency")} for table in
                       (tables(first.stdout)[0], tables(second.stdout)[0])]  # fmt: skip
    assert without_latency[0] == without_latency[1]


def test_replay_refuses_a_sampling_model_before_asking_anything(
    settings: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    result = run_eval(settings, str(files[0]), "--replay", str(tmp_path / "r.sqlite"), RAG_TEMPERATURE="0.7")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "error: --replay needs RAG_TEMPERATURE=0: a sampled reply differs from run to run"
    assert not (tmp_path / "r.sqlite").exists()


@pytest.mark.slow  # three turns of rewriting, answering and checking with SmolLM2: ten minutes on this machine
def test_limit_takes_the_first_dialogues_and_a_real_model_sees_the_history(
    settings: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    details = tmp_path / "details.jsonl"
    result = run_eval(
        settings,
        str(files[1]),
        "--limit",
        "1",
        "--details",
        str(details),
        RAG_MODEL_PATH=str(smollm_path()),
        RAG_MAX_ANSWER_TOKENS="24",
    )
    assert result.returncode == 0, result.stderr
    assert "2 dialogues" not in result.stdout and f"{files[1]}: 1 dialogues, 3 turns" in result.stdout
    (dialogues,) = tables(result.stdout)
    lines = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [line["kind"] for line in lines] == ["opening", "followup", "switch"]
    assert lines[0]["searched"] == lines[0]["question"], "a first turn has no history to rewrite with"
    followup_rewritten = lines[1]["searched"] != lines[1]["question"]
    assert dialogues["rewritten"]["followup"] == f"{float(followup_rewritten):.3f}"
    switch_as_asked = lines[2]["searched"] == lines[2]["question"]
    assert dialogues["searched_as_asked"]["switch"] == f"{float(switch_as_asked):.3f}"
    assert dialogues["polluted"]["switch"] == f"{float(lines[2]['polluted']):.3f}"


def test_each_turn_is_asked_with_the_earlier_questions_and_the_answers_shown(
    settings: Settings, files: tuple[Path, Path]
) -> None:
    class Recording:
        """The real assistant, with each history it was given noted (observed, not faked)."""

        def __init__(self) -> None:
            self.assistant = open_assistant(settings)
            self.histories: list[list[dict[str, str]]] = []

        def ask(self, question: str, history: list[dict[str, str]]):
            self.histories.append([dict(message) for message in history])
            return self.assistant.ask(question, history)

    recording = Recording()
    dialogue = load_eval_file(files[1])[0]
    outcomes = ask_dialogues(recording, [dialogue], lambda outcome: None)  # type: ignore[arg-type]
    questions = [t.question for t in dialogue.turns]
    assert recording.histories[0] == []
    assert recording.histories[2] == [
        {"role": "user", "content": questions[0]},
        {"role": "assistant", "content": outcomes[0].answer},
        {"role": "user", "content": questions[1]},
        {"role": "assistant", "content": outcomes[1].answer},
    ]
    assert "Informationsaustausch" in outcomes[0].answer


@pytest.mark.parametrize(
    ("keyword", "answer"),
    [("1,146", "1146 [1]"), ("1,146", "1.146 Interviews"), ("46.000", "46000 Euro"), ("6.8", "um 6,8 Punkte")],
)
def test_a_keyword_figure_is_found_whatever_its_separators(keyword: str, answer: str) -> None:
    assert normalise(keyword) in normalise(answer)


@given(st.integers(min_value=1000, max_value=10**9), st.sampled_from([",", "."]))
def test_a_number_with_thousands_separators_reads_as_its_digits(number: int, separator: str) -> None:
    assert normalise(f"{number:,}".replace(",", separator)) == str(number)


@pytest.mark.parametrize(("keyword", "answer"), [("14,8", "148 Leads"), ("51.8", "5.18"), ("1,146", "11,46 %")])
def test_different_figures_stay_different(keyword: str, answer: str) -> None:
    assert normalise(keyword) not in normalise(answer)


def test_a_search_question_that_borrows_words_from_earlier_turns_is_polluted() -> None:
    history = conversation(
        "Wer hat den Blogartikel über Marketing und Vertrieb geschrieben?", "Andreas #derNabicht [1]."
    )
    asked = "What did Homburg and Jensen find in their 2007 study?"
    glued = "Wer hat den Blogartikel … geschrieben? What did Homburg and Jensen find in their 2007 study?"
    assert polluted(glued, asked, history)
    assert not polluted(asked, asked, history)
    assert not polluted("Findings of the 2007 study by Homburg and Jensen on thought worlds", asked, history)
    assert polluted("Was fand Homburg 2007 über Andreas' Blogartikel?", "Was fand Homburg 2007?", history)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "q1", "question": "", "answerable": true}', "gold.jsonl:1: field 'question' must be a text"),
        (
            '{"id": "q1", "question": "Was?", "answerable": "ja"}',
            "gold.jsonl:1: field 'answerable' must be a true/false",
        ),
        ('{"id": "q1", "question": "Was?", "answerable": true, "gold": "Job-Rotation"}', "field 'gold' must be a list"),
        ('\n{"id": "q1", "question": "Was?",}\n', "gold.jsonl:2: not JSON"),
        ("[1, 2]", "gold.jsonl:1: expected a JSON object per line"),
        ("\n \n", "gold.jsonl: holds no questions"),
        ('{"id": "d1", "turns": []}', "gold.jsonl:1: field 'turns' must be a list of turn objects"),
        (
            json.dumps({"id": "d1", "turns": [{**DIALOGUES[0]["turns"][0], "kind": "follow-up"}]}),
            "gold.jsonl:1: field 'turns[0].kind' is 'follow-up', expected one of opening, followup",
        ),
        (
            json.dumps(
                {"id": "d1", "turns": [{k: v for k, v in DIALOGUES[0]["turns"][0].items() if k != "refers_back"}]}
            ),
            "field 'turns[0].refers_back' must be a true/false",
        ),
    ],
)
def test_a_broken_file_is_named_with_its_line_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match="^" + str(path).replace(".", r"\.")) as error:
        load_eval_file(path)
    assert message in str(error.value)


def test_a_broken_file_stops_the_run_before_indexing_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "conversations.jsonl"
    bad.write_bytes(b'{"id": "d1", "turns": [{"question": "Wie?\xff"}]}\n')
    result = subprocess.run(
        [sys.executable, "-m", "rag", "eval", str(bad)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RAG_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: cannot be read ('utf-8' codec can't decode byte 0xff in position 41: invalid start byte)"
    ]
    assert not (tmp_path / "data").exists(), "nothing was indexed"


def test_dialogue_files_are_told_from_gold_files_by_their_content(files: tuple[Path, Path]) -> None:
    questions, dialogues = load_eval_file(files[0]), load_eval_file(files[1])
    assert [(q.id, q.holdout) for q in questions] == [("q001", False), ("q010", True), ("q107", False)]
    assert all(isinstance(d, Dialogue) for d in dialogues) and [d.id for d in dialogues] == ["d001", "d002"]
    assert [t.holdout for t in dialogues[1].turns] == [True] * 3, "a dialogue's hold-out mark holds for its turns"
    assert dialogues[0].turns[1].kind == "followup" and dialogues[0].turns[1].refers_back


def test_gold_passages_give_each_answerable_question_only_the_passages_holding_its_gold(
    settings: Settings, files: tuple[Path, Path], tmp_path: Path
) -> None:
    details = tmp_path / "details.jsonl"
    result = run_eval(settings, str(files[0]), "--gold-passages", "--details", str(details), RAG_GENERATOR="extractive")
    assert result.returncode == 0, result.stderr
    assert f"{files[0]}: 2 questions" in result.stdout, "the unanswerable question has no gold passage to give"
    lines = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [(line["id"], line["rank"]) for line in lines] == [("q001", 1), ("q010", 1)], "the gold passage first"
    assert lines[0]["citation_hit"] is True


def test_gold_passages_are_the_retrievers_own_ranking_of_those_holding_the_gold(
    settings: Settings, files: tuple[Path, Path]
) -> None:
    retriever = open_assistant(settings).retriever
    wrapped = GoldPassagesRetriever(retriever, load_eval_file(files[0]))
    everything = retriever.search([Query(FIVE_FACTORS)], retriever.store.count())
    holding = [p for p in everything if "informationsaustausch, strukturelle bindungen" in normalise(p.text)]
    assert holding and len(holding) < len(everything)
    assert wrapped.search([Query(FIVE_FACTORS), Query("five factors", 0.5)], 5)[0].chunk_id == holding[0].chunk_id
    assert [p.chunk_id for p in wrapped.search([Query(FIVE_FACTORS)], 5)] == [p.chunk_id for p in holding][:5]
    assert wrapped.document_frequency("marketing") == retriever.document_frequency("marketing")


def test_gold_passages_refuse_dialogues_before_indexing(settings: Settings, files: tuple[Path, Path]) -> None:
    result = run_eval(settings, str(files[1]), "--gold-passages", RAG_GENERATOR="extractive")
    assert result.returncode == 2 and "--gold-passages takes gold question files" in result.stderr
    assert "files:" not in result.stderr, "nothing indexed"
