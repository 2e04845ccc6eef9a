"""`python -m rag ask|eval|feedback`: answers with verified citations, the gold-set evaluation, votes."""

import argparse
import json
import sys
from pathlib import Path

from rag.assistant import Answer, Assistant, Done, QuestionError, Sources, Token
from rag.components import open_assistant
from rag.conversation import source_line
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
    evaluate = commands.add_parser("eval", help="run a gold set and print the figures")
    evaluate.add_argument("gold", type=Path, help="JSONL gold set (see tests/eval/README.md)")
    evaluate.add_argument("--corpus", type=Path, action="append", help="corpus folders (default: corpus/ + gold's)")
    evaluate.add_argument("--index", type=Path, help="evaluation index folder (default: <data_dir>/eval-index)")
    evaluate.add_argument("--limit", type=int, help="only the first N questions")
    evaluate.add_argument("--details", type=Path, help="write one JSON line per question here")
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
        from rag.evaluation import run_eval

        return run_eval(settings, args.gold, args.corpus, args.index, args.limit, args.details)
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
        _print_streaming(assistant, question)
        return 0
    except QuestionError as error:
        if as_json:
            echoed = question.encode("utf-8", "replace").decode("utf-8")  # undecodable input bytes become "?"
            print(json.dumps({"question": echoed, "error": str(error)}, ensure_ascii=False), flush=True)
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1


def _print_streaming(assistant: Assistant, question: str) -> None:
    streamed, shown_question = "", question
    for event in assistant.stream(question):
        if isinstance(event, Sources) and event.standalone_question != shown_question:
            shown_question = event.standalone_question
            print(f"({shown_question})", file=sys.stderr)
        elif isinstance(event, Token):
            streamed += event.text
            print(event.text, end="", flush=True)
        elif isinstance(event, Done):
            print()
            _print_sources(event.answer, streamed)


def _print_sources(answer: Answer, streamed: str) -> None:
    de = answer.lang == "de"
    if answer.answer.strip() != streamed.strip():
        print(f"\n{'Mit geprüften Quellenangaben' if de else 'With checked citations'}:\n{answer.answer}")
    if not answer.citations:
        return
    print(f"\n{'Quellen' if de else 'Sources'}:")
    for citation in answer.citations:
        print(f"[{citation.n}] {source_line(citation.passage.to_json(), answer.lang)}")
        print("    " + _excerpt(citation.passage.text, citation.support_start, citation.support_end))


def _excerpt(text: str, start: int, end: int) -> str:
    """The passage around its supporting sentence, which is set off with » «."""
    margin = max(0, (SOURCE_EXCERPT_CHARS - (end - start)) // 2)
    left, right = max(0, start - margin), min(len(text), end + margin)
    excerpt = f"{text[left:start]}»{text[start:end]}«{text[end:right]}"
    return ("…" if left else "") + " ".join(excerpt.split()) + ("…" if right < len(text) else "")


if __name__ == "__main__":
    sys.exit(main())
