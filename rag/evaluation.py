"""A gold set of questions → retrieval, citation, answer and abstention figures, split by language pairing."""

import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.assistant import Answer, Assistant
from rag.settings import Settings


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answerable: bool
    cross_language: bool
    gold: list[str]
    keywords: list[str]

    @classmethod
    def from_json(cls, line: dict) -> "GoldQuestion":
        return cls(
            line["id"],
            line["question"],
            bool(line["answerable"]),
            bool(line.get("cross_language")),
            list(line.get("gold") or []),
            list(line.get("keywords") or []),
        )


@dataclass
class Outcome:
    question: GoldQuestion
    rank: int | None  # 1-based rank of the first retrieved passage holding a gold string
    citation_hit: bool | None  # a cited passage holds a gold string; None when nothing was cited
    keyword_recall: float | None
    abstained: bool
    abstain_reason: str | None
    citations_outside_retrieved: int
    seconds: float


def load_gold(path: Path) -> list[GoldQuestion]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [GoldQuestion.from_json(json.loads(line)) for line in lines if line.strip()]


def normalise(text: str) -> str:
    """Case, white space and decimal separators don't matter when looking for gold strings."""
    text = re.sub(r"(\d)[,.](\d)", r"\1.\2", text.casefold())
    return " ".join(text.split())


def judge(question: GoldQuestion, answer: Answer, seconds: float) -> Outcome:
    def holds_gold(text: str) -> bool:
        return any(normalise(gold) in normalise(text) for gold in question.gold)

    rank = next((i for i, p in enumerate(answer.retrieved, start=1) if holds_gold(p.text)), None)
    cited = [c.passage for c in answer.citations]
    retrieved_ids = {p.chunk_id for p in answer.retrieved}
    keyword_recall = None
    if question.keywords and not answer.abstained:
        found = sum(normalise(k) in normalise(answer.answer) for k in question.keywords)
        keyword_recall = found / len(question.keywords)
    return Outcome(
        question,
        rank,
        any(holds_gold(p.text) for p in cited) if cited else None,
        keyword_recall,
        answer.abstained,
        answer.abstain_reason,
        sum(p.chunk_id not in retrieved_ids for p in cited),
        seconds,
    )


def run(assistant: Assistant, questions: Iterable[GoldQuestion], progress: Callable[[Outcome], None]) -> list[Outcome]:
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question.question)
        outcome = judge(question, answer, time.perf_counter() - started)
        progress(outcome)
        outcomes.append(outcome)
    return outcomes


def figures(outcomes: list[Outcome], k: int) -> dict[str, float | int | None]:
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answered = [o for o in answerable if not o.abstained]
    cited = [o for o in answered if o.citation_hit is not None]
    recalls = [o.keyword_recall for o in answered if o.keyword_recall is not None]
    seconds = [o.seconds for o in outcomes]
    return {
        "questions": len(outcomes),
        f"hit@{k}": _mean([o.rank is not None and o.rank <= k for o in answerable]),
        "mrr": _mean([1 / o.rank if o.rank else 0.0 for o in answerable]),
        "citation_hit_rate": _mean([bool(o.citation_hit) for o in cited]),
        "answers_without_citation": len(answered) - len(cited),
        "keyword_recall": _mean(recalls),
        "abstained_unanswerable": _mean([o.abstained for o in unanswerable]),
        "false_abstention": _mean([o.abstained for o in answerable]),
        "citations_outside_retrieved": sum(o.citations_outside_retrieved for o in outcomes),
        "latency_mean_s": float(np.mean(seconds)) if seconds else None,
        "latency_p95_s": float(np.percentile(seconds, 95)) if seconds else None,
    }


def report(outcomes: list[Outcome], k: int) -> dict[str, dict]:
    """Figures for all questions, and for same-language and cross-language questions apart."""
    return {
        "all": figures(outcomes, k),
        "same_language": figures([o for o in outcomes if not o.question.cross_language], k),
        "cross_language": figures([o for o in outcomes if o.question.cross_language], k),
    }


def format_report(result: dict[str, dict]) -> str:
    names = list(result["all"])
    lines = [f"{'figure':<28}" + "".join(f"{group:>16}" for group in result)]
    for name in names:
        cells = "".join(f"{_format(result[group][name]):>16}" for group in result)
        lines.append(f"{name:<28}{cells}")
    return "\n".join(lines)


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def _format(value: float | int | None) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def run_eval(
    settings: Settings,
    gold_path: Path,
    corpora: list[Path] | None,
    index: Path | None,
    limit: int | None,
    details: Path | None,
) -> int:
    """`python -m rag eval`: index the corpora into their own index, ask every question, print the figures."""
    from ingest.pipeline import Ingestor
    from rag.components import open_assistant

    if not corpora:
        corpora = [settings.corpus_dir] + [p for p in [gold_path.parent / "corpus"] if p.is_dir()]
    settings = settings.model_copy(update={"index_dir": index or settings.data_dir / "eval-index"})
    ingested = Ingestor(settings, report=lambda line: print(line, file=sys.stderr)).run(corpora)
    print(ingested.summary_line(), file=sys.stderr)
    assistant = open_assistant(settings)
    questions = load_gold(gold_path)[:limit]
    detail_file = details.open("w", encoding="utf-8") if details else None

    def progress(outcome: Outcome) -> None:
        mark = f"abstained ({outcome.abstain_reason})" if outcome.abstained else f"rank {outcome.rank}"
        print(f"{outcome.question.id}: {mark}, {outcome.seconds:.1f} s", file=sys.stderr)
        if detail_file:
            detail_file.write(json.dumps(_outcome_json(outcome), ensure_ascii=False) + "\n")
            detail_file.flush()

    try:
        outcomes = run(assistant, questions, progress)
    finally:
        if detail_file:
            detail_file.close()
    model = assistant.model
    print(f"{len(questions)} questions · embedder {model['embedder']} · generator {model['generator']}")
    print(format_report(report(outcomes, settings.top_k)))
    return 0


def _outcome_json(outcome: Outcome) -> dict:
    return {
        "id": outcome.question.id,
        "rank": outcome.rank,
        "abstained": outcome.abstained,
        "abstain_reason": outcome.abstain_reason,
        "answerable": outcome.question.answerable,
        "citation_hit": outcome.citation_hit,
        "keyword_recall": outcome.keyword_recall,
        "seconds": round(outcome.seconds, 2),
    }
