"""The evaluation files: gold questions (one per line) and dialogues (one per line, 2–4 turns each).

Formats: tests/eval/README.md. Which kind a file holds is read from its content, not its name.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("opening", "followup", "switch", "language_switch", "unanswerable")


class EvalFileError(ValueError):
    """An evaluation file cannot be read; the message names the file, the line and the field."""


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    lang: str
    answerable: bool
    cross_language: bool
    gold: list[str]
    keywords: list[str]
    holdout: bool  # written after the last tuning step: reported in a column of its own


@dataclass(frozen=True)
class Turn(GoldQuestion):
    """One turn of a dialogue, judged like a gold question as understood in its conversation."""

    dialogue: str
    kind: str
    refers_back: bool


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: list[Turn]


def load_eval_file(path: Path) -> list[GoldQuestion] | list[Dialogue]:
    """Gold questions, or dialogues when the file's first object has `turns`."""
    try:
        lines = [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise EvalFileError(f"{path}: cannot be read ({error})") from error
    objects = [(n, _json_object(path, n, line)) for n, line in lines]
    if not objects:
        raise EvalFileError(f"{path}: holds no questions")
    if "turns" in objects[0][1]:
        return [_dialogue(path, n, line) for n, line in objects]
    return [_gold_question(path, n, line, line.get("holdout")) for n, line in objects]


def _json_object(path: Path, n: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise EvalFileError(f"{path}:{n}: not JSON ({error.msg})") from error
    if not isinstance(value, dict):
        raise EvalFileError(f"{path}:{n}: expected a JSON object per line")
    return value


def _dialogue(path: Path, n: int, line: dict[str, Any]) -> Dialogue:
    turns = line.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(turn, dict) for turn in turns):
        raise EvalFileError(f"{path}:{n}: field 'turns' must be a list of turn objects")
    dialogue_id = _field(path, n, line, "id", str)
    return Dialogue(
        dialogue_id, [_turn(path, n, dialogue_id, i, turn, line.get("holdout")) for i, turn in enumerate(turns, 1)]
    )


def _turn(path: Path, n: int, dialogue_id: str, number: int, turn: dict[str, Any], holdout: Any) -> Turn:
    where = f"turns[{number - 1}]."
    kind = _field(path, n, turn, "kind", str, where)
    if kind not in KINDS:
        raise EvalFileError(f"{path}:{n}: field '{where}kind' is {kind!r}, expected one of {', '.join(KINDS)}")
    question = _gold_question(path, n, {**turn, "id": f"{dialogue_id}.{number}"}, holdout, where)
    return Turn(
        **vars(question), dialogue=dialogue_id, kind=kind, refers_back=_field(path, n, turn, "refers_back", bool, where)
    )


def _gold_question(path: Path, n: int, line: dict[str, Any], holdout: Any, where: str = "") -> GoldQuestion:
    return GoldQuestion(
        id=_field(path, n, line, "id", str, where),
        question=_field(path, n, line, "question", str, where),
        lang=line.get("lang") or "",
        answerable=_field(path, n, line, "answerable", bool, where),
        cross_language=bool(line.get("cross_language")),
        gold=_strings(path, n, line, "gold", where),
        keywords=_strings(path, n, line, "keywords", where),
        holdout=bool(holdout),
    )


def _field(path: Path, n: int, line: dict[str, Any], name: str, kind: type, where: str = "") -> Any:
    value = line.get(name)
    if not isinstance(value, kind) or value == "":
        raise EvalFileError(f"{path}:{n}: field '{where}{name}' must be a {'text' if kind is str else 'true/false'}")
    return value


def _strings(path: Path, n: int, line: dict[str, Any], name: str, where: str) -> list[str]:
    value = line.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EvalFileError(f"{path}:{n}: field '{where}{name}' must be a list of texts")
    return value
