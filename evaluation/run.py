"""`python -m rag eval FILE...`: index the corpora into an index of their own, ask, print the figures."""

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from evaluation.conversations import ask_dialogues, ask_questions
from evaluation.gold import Dialogue, EvalFileError, Turn, load_eval_file
from evaluation.gold_passages import GoldPassagesRetriever
from evaluation.judge import Outcome
from evaluation.replay import ReplayGenerator
from evaluation.report import dialogue_report, format_report, question_report
from ingest.pipeline import Ingestor
from rag.components import open_assistant
from rag.generators import make_generator
from rag.settings import Settings


def run_eval(
    settings: Settings,
    files: list[Path],
    corpora: list[Path] | None,
    index: Path | None,
    limit: int | None,
    details: Path | None,
    replay: Path | None = None,
    gold_passages: bool = False,
) -> int:
    if replay and settings.temperature > 0:
        print("error: --replay needs RAG_TEMPERATURE=0: a sampled reply differs from run to run", file=sys.stderr)
        return 2
    try:
        contents = [(path, load_eval_file(path)[:limit]) for path in files]
    except EvalFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if gold_passages:
        if any(items and isinstance(items[0], Dialogue) for _, items in contents):
            print("error: --gold-passages takes gold question files, not dialogues", file=sys.stderr)
            return 2
        # An unanswerable question has no gold passage: it would be declined for want of any.
        contents = [(path, [question for question in items if question.answerable]) for path, items in contents]
    if not corpora:
        eval_corpora = {path.parent / "corpus" for path in files if (path.parent / "corpus").is_dir()}
        corpora = [settings.corpus_dir, *sorted(eval_corpora)]
    settings = settings.model_copy(update={"index_dir": index or settings.data_dir / "eval-index"})
    ingested = Ingestor(settings, report=lambda line: print(line, file=sys.stderr)).run(corpora)
    print(ingested.summary_line(), file=sys.stderr)
    generator = ReplayGenerator(make_generator(settings), replay) if replay else None
    assistant = open_assistant(settings, generator)
    if gold_passages:
        assistant.retriever = GoldPassagesRetriever(assistant.retriever, [q for _, items in contents for q in items])
    model = assistant.model
    with details.open("w", encoding="utf-8") if details else nullcontext() as detail_file:

        def progress(outcome: Outcome) -> None:
            mark = f"abstained ({outcome.abstain_reason})" if outcome.abstained else f"rank {outcome.rank}"
            print(f"{outcome.question.id}: {mark}, {outcome.seconds:.1f} s", file=sys.stderr)
            if detail_file:
                detail_file.write(json.dumps(outcome_json(outcome), ensure_ascii=False) + "\n")
                detail_file.flush()

        for path, items in contents:
            if items and isinstance(items[0], Dialogue):
                outcomes = ask_dialogues(assistant, items, progress)
                result = dialogue_report(outcomes, settings.top_k)
                counted = f"{len(items)} dialogues, {len(outcomes)} turns"
            else:
                outcomes = ask_questions(assistant, items, progress)
                result, counted = question_report(outcomes, settings.top_k), f"{len(outcomes)} questions"
            print(f"{path}: {counted} · embedder {model['embedder']} · generator {model['generator']}")
            print(format_report(result) + "\n")
    if generator:
        print(f"model calls: {generator.calls['replayed']} replayed from {replay}, {generator.calls['asked']} asked")
    return 0


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One line of --details: what was asked and searched, what was answered, and how it was judged."""
    question = outcome.question
    turn = question if isinstance(question, Turn) else None
    return {
        "id": question.id,
        "dialogue": turn.dialogue if turn else None,
        "kind": turn.kind if turn else None,
        "holdout": question.holdout,
        "question": question.question,
        "searched": outcome.searched,
        "answer": outcome.answer,
        "rank": outcome.rank,
        "abstained": outcome.abstained,
        "abstain_reason": outcome.abstain_reason,
        "answerable": question.answerable,
        "citation_hit": outcome.citation_hit,
        "keyword_recall": outcome.keyword_recall,
        "repeated": outcome.repeated,
        "polluted": outcome.polluted if turn else None,
        "seconds": round(outcome.seconds, 2),
    }
