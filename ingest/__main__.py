"""`python -m ingest [PATH|URL ...] [--feed URL] [--since DATE] [--index DIR] [--rebuild] [--prune]`."""

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from ingest.pipeline import IngestBusyError, Ingestor
from ingest.web import WebIngest, looks_like_url
from rag.embedders import EmbedderConfigError
from rag.settings import Settings
from rag.store import IndexUnusableError


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Add articles (md, txt, html, pdf, web pages and feeds) to the index.",
    )
    parser.add_argument(
        "sources", nargs="*", metavar="PATH|URL", help=f"files, folders, http(s) URLs (default: {settings.corpus_dir})"
    )
    parser.add_argument(
        "--feed", action="append", default=[], metavar="URL", help="RSS or Atom feed, or sitemap (repeatable)"
    )
    parser.add_argument(
        "--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="only feed entries dated on or after this day"
    )
    parser.add_argument("--index", type=Path, help=f"index folder (default: {settings.index_dir}; RAG_INDEX_DIR)")
    parser.add_argument("--rebuild", action="store_true", help="start the index afresh")
    parser.add_argument("--prune", action="store_true", help="remove documents whose files are gone from the folders")
    args = parser.parse_args(argv)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its recoverable-damage warnings name no file
    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    urls = [source for source in args.sources if looks_like_url(source)]
    paths = [Path(source) for source in args.sources if not looks_like_url(source)]
    web_failed = 0
    try:
        if urls or args.feed:
            web = WebIngest(settings, report=_to_stderr).run(urls, args.feed, args.since)
            print(web.summary_line())
            paths += web.files
            web_failed = web.failed
            if not paths:
                return 1 if web_failed else 0
        result = Ingestor(settings, report=_to_stderr, progress=True).run(
            paths or [settings.corpus_dir], rebuild=args.rebuild, prune=args.prune
        )
    except (IngestBusyError, IndexUnusableError, EmbedderConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(result.summary_line())
    return 1 if result.failed or web_failed else 0


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
