"""`python -m rag ask|eval|feedback`: answers with verified citations, the evaluation (evaluation/), votes."""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from rag.assistant import Answer, Assistant, Done, QuestionError, Revising, Sources, Token
from rag.components import open_assistant
from rag.conversation import REVISING_NOTICE, SECTION_LABEL, readable_passage, source_line
from rag.embedders import EmbedderConfigError
from rag.feedback import FeedbackStore, feedback_path
from rag.generators import GeneratorError
from rag.settings import Settings
from rag.store import IndexUnusableError

SOURCE_EXCERPT_CHARS = 600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer a question from the index")
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--index", type=Path, help="index folder (RAG_INDEX_DIR)")
    evaluate = commands.add_parser("eval", help="run gold questions and dialogues and print the figures")
    evaluate.add_argument("files", type=Path, nargs="+", help="JSONL: gold questions or dialogues (tests/eval)")
    evaluate.add_argument("--corpus", type=Path, action="append", help="corpus folders (default: corpus/ + files')")
    evaluate.add_argument("--index", type=Path, help="evaluation index folder (default: <data_dir>/eval-index)")
    evaluate.add_argument("--limit", type=int, help="only the first N questions or dialogues of each file")
    evaluate.add_argument("--details", type=Path, help="write one JSON line per question or turn here")
    evaluate.add_argument("--replay", type=Path, help="keep model replies in this file, reuse them")
    evaluate.add_argument(
        "--gold-passages",
        action="store_true",
        help="answer from only the passages holding the gold (perfect retrieval)",
    )
    feedback = commands.add_parser("feedback", help="export the votes given in the chat")
    feedback.add_argument("--export", choices=("csv", "jsonl"), required=True)
    feedback.add_argument("--output", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "feedback":
        return _export_feedback(settings, args.export, args.output)
    try:
        if args.command == "ask":
            if args.index:
                settings = settings.model_copy(update={"index_dir": args.index})
            return _ask(open_assistant(settings), args.question, args.json)
        from evaluation.run import run_eval  # above rag/: it ingests the evaluation corpora

        return run_eval(
            settings, args.files, args.corpus, args.index, args.limit, args.details, args.replay, args.gold_passages
        )
    except (IndexUnusableError, EmbedderConfigError, GeneratorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _export_feedback(settings: Settings, form: str, output: Path | None) -> int:
    text = FeedbackStore(feedback_path(settings.data_dir)).export(form)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _ask(assistant: Assistant, question: str, as_json: bool) -> int:
    if question != "-":
        return _ask_one(assistant, question, as_json)
    failed = 0
    for line in sys.stdin:
        if line.strip():
            failed |= _ask_one(assistant, line.strip(), as_json)
    return failed


def _ask_one(assistant: Assistant, question: str, as_json: bool) -> int:
    try:
        if as_json:
            print(json.dumps(assistant.ask(question).to_json(), ensure_ascii=False), flush=True)
            return 0
        _print_answer(assistant, question)
        return 0
    except QuestionError as error:
        if as_json:
            echoed = question.encode("utf-8", "replace").decode("utf-8")  # undecodable input bytes become "?"
            print(json.dumps({"question": echoed, "error": str(error)}, ensure_ascii=False), flush=True)
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1


def _print_answer(assistant: Assistant, question: str) -> None:
    """In a terminal the answer streams, then the checked answer takes its place; into a pipe it is
    written once, checked."""
    if sys.stdout.isatty():
        answer = _stream_in_place(assistant, question)
    else:
        answer = assistant.ask(question)
        _print_searched(question, answer.standalone_question)
        print(answer.answer)
    _print_sources(answer)


def _print_searched(question: str, searched: str) -> None:
    """The rewrite a follow-up was searched with, if any, on standard error."""
    if searched != " ".join(question.split()):
        print(f"({searched})", file=sys.stderr)


def _stream_in_place(assistant: Assistant, question: str) -> Answer:
    streamed, searched = "", None
    with Live(Text(""), console=Console(highlight=False), auto_refresh=False) as live:
        for event in assistant.stream(question):
            if isinstance(event, Sources) and searched is None:
                searched = event.standalone_question
                _print_searched(question, searched)  # Live shows it above the answer
            elif isinstance(event, Token):
                streamed += event.text
                live.update(Text(streamed), refresh=True)
            elif isinstance(event, Revising):
                notice = REVISING_NOTICE[event.lang][event.step]
                live.update(Text.assemble((streamed, "dim"), "\n", (notice, "italic")), refresh=True)
            elif isinstance(event, Done):
                live.update(Text(event.answer.answer), refresh=True)
                return event.answer
    raise RuntimeError("the answer stream ended without an answer")


def _print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    print(f"\n{'Quellen' if answer.lang == 'de' else 'Sources'}:")
    for citation in answer.citations:
        passage = citation.passage
        heading = passage.metadata.get("heading")
        shown = readable_passage(passage.text, heading, citation.support_start, citation.support_end)
        print(f"[{citation.n}] {source_line(passage.to_json(), answer.lang)}")
        if shown.section:
            print(f"    {SECTION_LABEL[answer.lang]}: {shown.section}")
        print("    " + _excerpt(shown.text, shown.support_start, shown.support_end))


def _excerpt(text: str, start: int, end: int) -> str:
    """The passage around its supporting sentence, which is set off with » «."""
    margin = max(0, (SOURCE_EXCERPT_CHARS - (end - start)) // 2)
    left, right = max(0, start - margin), min(len(text), end + margin)
    excerpt = f"{text[left:start]}»{text[start:end]}«{text[end:right]}"
    return ("…" if left else "") + " ".join(excerpt.split()) + ("…" if right < len(text) else "")


if __name__ == "__main__":
    sys.exit(main())
