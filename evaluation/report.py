"""Outcomes → figures, in columns: by language pairing for gold questions, by kind for dialogue turns."""

from collections.abc import Callable

import numpy as np

from evaluation.conversations import searched_as_asked
from evaluation.gold import KINDS, Turn
from evaluation.judge import Outcome

Figures = dict[str, float | int | None]


def figures(outcomes: list[Outcome], k: int, turns: bool = False) -> Figures:
    """The answer figures; with `turns`, also how follow-ups and self-contained turns were searched."""
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answered = [o for o in answerable if not o.abstained]
    cited = [o for o in answered if o.citation_hit is not None]
    recalls = [o.keyword_recall for o in answered if o.keyword_recall is not None]
    seconds = [o.seconds for o in outcomes]
    result: Figures = {
        "questions": len(outcomes),
        f"hit@{k}": _mean([o.rank is not None and o.rank <= k for o in answerable]),
        "mrr": _mean([1 / o.rank if o.rank else 0.0 for o in answerable]),
        "citation_hit_rate": _mean([bool(o.citation_hit) for o in cited]),
        "answers_without_citation": len(answered) - len(cited),
        "keyword_recall": _mean(recalls),
        "abstained_unanswerable": _mean([o.abstained for o in unanswerable]),
        "false_abstention": _mean([o.abstained for o in answerable]),
        "citations_outside_retrieved": sum(o.citations_outside_retrieved for o in outcomes),
        "repetition_loops": sum(o.repeated is not None for o in outcomes),
        "latency_mean_s": _mean(seconds),
        "latency_median_s": float(np.median(seconds)) if seconds else None,
        "latency_p95_s": float(np.percentile(seconds, 95)) if seconds else None,
    }
    if turns:
        # A dialogue's opening has no history that could leak into its search.
        standalone = [
            o
            for o in outcomes
            if isinstance(o.question, Turn) and not o.question.refers_back and o.question.kind != "opening"
        ]
        referring = [o for o in outcomes if isinstance(o.question, Turn) and o.question.refers_back]
        result["searched_as_asked"] = _mean([searched_as_asked(o) for o in standalone])
        result["polluted"] = _mean([o.polluted for o in standalone])
        result["rewritten"] = _mean([not searched_as_asked(o) for o in referring])
    return result


def question_report(outcomes: list[Outcome], k: int) -> dict[str, Figures]:
    """Gold questions: all, same-language and cross-language apart, and the hold-out ones if any."""
    return _columns(
        outcomes,
        {
            "all": lambda o: True,
            "same_language": lambda o: not o.question.cross_language,
            "cross_language": lambda o: o.question.cross_language,
        },
        lambda group: figures(group, k),
    )


def dialogue_report(outcomes: list[Outcome], k: int) -> dict[str, Figures]:
    """Dialogue turns: all, each kind apart, and the hold-out dialogues if any."""
    kinds: dict[str, Callable[[Outcome], bool]] = {
        kind: lambda o, kind=kind: isinstance(o.question, Turn) and o.question.kind == kind for kind in KINDS
    }
    return _columns(outcomes, {"all": lambda o: True, **kinds}, lambda group: figures(group, k, turns=True))


def _columns(
    outcomes: list[Outcome], groups: dict[str, Callable[[Outcome], bool]], measure: Callable[[list[Outcome]], Figures]
) -> dict[str, Figures]:
    if any(o.question.holdout for o in outcomes):
        groups = {**groups, "holdout": lambda o: o.question.holdout}
    return {name: measure([o for o in outcomes if belongs(o)]) for name, belongs in groups.items()}


def format_report(result: dict[str, Figures]) -> str:
    widths = {group: max(10, len(group) + 2) for group in result}
    lines = [f"{'figure':<28}" + "".join(f"{group:>{width}}" for group, width in widths.items())]
    for name in result["all"]:
        cells = "".join(f"{_format(result[group][name]):>{width}}" for group, width in widths.items())
        lines.append(f"{name:<28}{cells}")
    return "\n".join(lines)


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def _format(value: float | int | None) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.3f}"
