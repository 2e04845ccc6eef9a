"""What the model is shown of each passage: consecutive sentences around the one most relevant to
the question, within the passage's share of the budget. Property-tested on messy passages with the
real embedder."""

import pytest
from helpers import passage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.embedders import make_embedder
from rag.focus import Focus

SENTENCES = [
    "Die Leistung stieg auf durchschnittlich 160 Positionen pro Stunde.",
    "Seit der Einführung von Pick-by-Light arbeiten die Kommissionierer bei Hofmeister anders.",
    "Cookies helfen uns, diese Website zu verbessern!",
    "- 27 Zielaccounts, alle > 500 MA",
    "Ab 65 Punkten geht ein Lead als MQL an den Vertrieb (vorher: 50).",
    "## Ergebnisse",
    "Sales and marketing agreed on a shared lead definition in Q3 2023.",
    "Ein sehr langer Satz ohne Punkt " + "und noch mehr Text " * 40,
]
QUESTION = "Wie viele Positionen pro Stunde schaffen die Kommissionierer bei Hofmeister seit Pick-by-Light?"


@pytest.fixture(scope="module")
def embedder():
    return make_embedder()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=8).map(" ".join), min_size=1, max_size=5),
    budget=st.integers(200, 4000),
)
def test_every_excerpt_is_part_of_its_passage_and_within_its_share(embedder, texts: list[str], budget: int) -> None:
    passages = [passage(n, text) for n, text in enumerate(texts)]
    excerpts = Focus(QUESTION, passages, embedder).excerpts(budget)
    assert len(excerpts) == len(passages)
    for excerpt, source in zip(excerpts, passages, strict=True):
        assert excerpt and excerpt in source.text
        assert len(excerpt) <= max(budget // len(passages), 0) or excerpt == source.text


def test_the_answering_sentence_is_kept_with_its_neighbour_when_the_passage_is_cut(embedder) -> None:
    text = " ".join([SENTENCES[2], SENTENCES[6], SENTENCES[1], SENTENCES[0], SENTENCES[4], SENTENCES[2]])
    [excerpt] = Focus(QUESTION, [passage(0, text)], embedder).excerpts(170)
    assert SENTENCES[1] in excerpt and SENTENCES[0] in excerpt, excerpt
    assert "Cookies" not in excerpt
