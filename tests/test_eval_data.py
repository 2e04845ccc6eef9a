"""The evaluation data holds together: gold strings occur in their sources, ids are unique, fields and turns valid."""

import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from rag.settings import PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "tests" / "eval"
GOLD_LENGTH = range(8, 61)
GOLD_FIELDS = {"id", "question", "lang", "answerable", "cross_language", "gold", "keywords", "source", "holdout"}
TURN_FIELDS = GOLD_FIELDS - {"id", "holdout"} | {"kind", "refers_back"}
KINDS = {"opening", "followup", "switch", "language_switch", "unanswerable"}


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def front_matter_and_body(source: str) -> tuple[dict, str]:
    match = re.match(r"---\n(.*?)\n---\n(.*)", (PROJECT_ROOT / source).read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"{source}: no front matter"
    return yaml.safe_load(match.group(1)), match.group(2)


def item_problems(item: dict) -> list[str]:
    """What is wrong with one gold question or dialogue turn (the fields they share)."""
    problems = []
    if item["lang"] not in ("de", "en"):
        problems.append(f"lang {item['lang']!r}")
    if not isinstance(item["answerable"], bool) or not isinstance(item["cross_language"], bool):
        problems.append("answerable and cross_language must be booleans")
    if not item["answerable"]:
        if item["gold"] or item["keywords"] or item["source"] is not None or item["cross_language"]:
            problems.append("unanswerable with gold, keywords, source or cross_language")
        return problems
    if not 1 <= len(item["gold"]) <= 3 or not 1 <= len(item["keywords"]) <= 4:
        problems.append("answerable needs 1-3 gold strings and 1-4 keywords")
    if not (PROJECT_ROOT / str(item["source"])).is_file():
        return [*problems, f"source {item['source']!r} is not a file"]
    meta, body = front_matter_and_body(item["source"])
    for gold in item["gold"]:
        if len(gold) not in GOLD_LENGTH:
            problems.append(f"gold {gold!r} is {len(gold)} characters long")
        if gold not in body:
            problems.append(f"gold {gold!r} is not in {item['source']}")
    if item["cross_language"] != (item["lang"] != meta["lang"]):
        problems.append(f"cross_language is {item['cross_language']} but the source is in {meta['lang']}")
    return problems


def turn_problems(turn: dict, previous: dict | None) -> list[str]:
    if set(turn) != TURN_FIELDS:
        return [f"fields {sorted(set(turn) ^ TURN_FIELDS)} missing or unknown"]
    problems = item_problems(turn)
    kind = turn["kind"]
    if kind not in KINDS:
        return [*problems, f"kind {kind!r}"]
    if (kind == "opening") != (previous is None):
        problems.append("a dialogue opens with exactly one 'opening' turn")
    if kind in ("opening", "switch") and turn["refers_back"]:
        problems.append(f"a {kind} turn does not refer back")
    if kind == "followup" and not turn["refers_back"]:
        problems.append("a followup turn refers back")
    if kind == "unanswerable" and turn["answerable"]:
        problems.append("an unanswerable turn is not answerable")
    changes_language = previous is not None and turn["lang"] != previous["lang"]
    if kind in ("followup", "switch") and changes_language:
        problems.append(f"a {kind} turn keeps the language (else it is a language_switch)")
    if kind == "language_switch" and not changes_language:
        problems.append("a language_switch turn changes the language")
    return problems


GOLD = read_jsonl(EVAL_DIR / "gold.jsonl")
DIALOGUES = read_jsonl(EVAL_DIR / "conversations.jsonl")


@pytest.mark.parametrize("question", GOLD, ids=[q["id"] for q in GOLD])
def test_gold_question_is_valid(question: dict) -> None:
    assert GOLD_FIELDS - {"holdout"} <= set(question) <= GOLD_FIELDS
    assert question.get("holdout", False) in (True, False)
    assert item_problems(question) == []


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=[d["id"] for d in DIALOGUES])
def test_dialogue_is_valid(dialogue: dict) -> None:
    assert {"id", "turns"} <= set(dialogue) <= {"id", "turns", "holdout"}
    assert dialogue.get("holdout", False) in (True, False)
    assert 2 <= len(dialogue["turns"]) <= 4
    problems = []
    for number, turn in enumerate(dialogue["turns"]):
        previous = dialogue["turns"][number - 1] if number else None
        problems += [f"turn {number + 1}: {problem}" for problem in turn_problems(turn, previous)]
    assert problems == []


@pytest.mark.parametrize(("items", "pattern"), [(GOLD, r"q\d{3}"), (DIALOGUES, r"d\d{3}")], ids=["gold", "dialogues"])
def test_ids_are_unique_and_numbered(items: list[dict], pattern: str) -> None:
    ids = [item["id"] for item in items]
    assert all(re.fullmatch(pattern, i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_evaluation_article_is_marked_fictional() -> None:
    for path in sorted((EVAL_DIR / "corpus").glob("*.md")):
        meta, body = front_matter_and_body(str(path.relative_to(PROJECT_ROOT)))
        assert meta.get("fictional") is True, path.name
        assert body.lstrip().startswith("> Fi"), f"{path.name}: no opening disclaimer line"
