"""`python -m ingest [PATH ...] [--index DIR] [--rebuild] [--prune]`: add articles to the index."""

import argparse
import logging
import sys
from pathlib import Path

from ingest.pipeline import IngestBusyError, Ingestor
from rag.embedders import EmbedderConfigError
from rag.settings import Settings
from rag.store import IndexUnusableError


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Add articles (md, txt, html, pdf) to the index."
    )
    parser.add_argument("paths", nargs="*", type=Path, help=f"files or folders (default: {settings.corpus_dir})")
    parser.add_argument("--index", type=Path, help=f"index folder (default: {settings.index_dir}; RAG_INDEX_DIR)")
    parser.add_argument("--rebuild", action="store_true", help="start the index afresh")
    parser.add_argument("--prune", action="store_true", help="remove documents whose files are gone from the folders")
    args = parser.parse_args(argv)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its recoverable-damage warnings name no file
    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    ingestor = Ingestor(settings, report=lambda line: print(line, file=sys.stderr), progress=True)
    try:
        result = ingestor.run(args.paths or [settings.corpus_dir], rebuild=args.rebuild, prune=args.prune)
    except (IngestBusyError, IndexUnusableError, EmbedderConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(result.summary_line())
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
