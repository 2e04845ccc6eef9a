"""Citation repair on crafted model outputs, with the real embedder."""

from dataclasses import replace

import pytest

from rag.citations import verify
from rag.embedders import make_embedder
from rag.grounding import invented_figures
from rag.retrieval import Passage

PASSAGES = [
    "Homburgs Studie aus dem Jahr 2008 identifizierte fünf Themenbereiche: Informationsaustausch, "
    "strukturelle Bindungen, Macht, Ausrichtung und Wissen. Starke Bindungen und Marktwissen versprechen Erfolg.",
    "Der Vertrieb meldet sich binnen 24 Stunden bei jedem qualifizierten Lead. So steht es im SLA von Kessler.",
    "Baumgarth und Binckebanck fordern: Der Verkauf muss strategischer arbeiten. Das Marketing soll "
    "verkaufsorientierter denken und handeln.",
]
THRESHOLD = 0.45


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return [
        Passage(f"doc{i}:hash:0", text, {"source": f"doc{i}.md", "title": f"Titel {i}"}, 1.0 - i / 10, 0.5, 1.0)
        for i, text in enumerate(PASSAGES)
    ]


@pytest.fixture(scope="module")
def embedder():
    return make_embedder()


def test_markers_outside_the_passages_are_dropped(passages, embedder) -> None:
    answer = "Der Vertrieb meldet sich binnen 24 Stunden bei jedem Lead [9]."
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert "[9]" not in text
    assert [c.passage.chunk_id for c in citations] == ["doc1:hash:0"], "the supporting passage is attached instead"
    assert text == "Der Vertrieb meldet sich binnen 24 Stunden bei jedem Lead [1]."


def test_a_sentence_without_marker_gets_its_supporting_passage(passages, embedder) -> None:
    answer = "Der Verkauf muss strategischer arbeiten. Das Wetter ist heute schön und sonnig."
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert text == "Der Verkauf muss strategischer arbeiten [1]. Das Wetter ist heute schön und sonnig."
    assert len(citations) == 1 and citations[0].passage.chunk_id == "doc2:hash:0"


def test_citations_are_renumbered_in_order_of_first_use(passages, embedder) -> None:
    answer = (
        "Das Marketing soll verkaufsorientierter denken und handeln [3]. "
        "Der Vertrieb meldet sich binnen 24 Stunden [2]. Wieder gilt: verkaufsorientierter denken [3]."
    )
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert text == (
        "Das Marketing soll verkaufsorientierter denken und handeln [1]. "
        "Der Vertrieb meldet sich binnen 24 Stunden [2]. Wieder gilt: verkaufsorientierter denken [1]."
    )
    assert [c.n for c in citations] == [1, 2]
    assert [c.passage.chunk_id for c in citations] == ["doc2:hash:0", "doc1:hash:0"]


def test_a_marker_pointing_at_the_wrong_passage_is_repaired(passages, embedder) -> None:
    answer = "Homburg fand fünf Themenbereiche, darunter Informationsaustausch und Macht [2]."
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert text.endswith("[1].") and citations[0].passage.chunk_id == "doc0:hash:0"


def test_several_markers_in_one_group_and_stray_markers(passages, embedder) -> None:
    answer = "Starke Bindungen und Marktwissen versprechen Erfolg [1, 3]. [2]"
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert text == "Starke Bindungen und Marktwissen versprechen Erfolg [1]."
    assert [c.passage.chunk_id for c in citations] == ["doc0:hash:0"]


def test_a_list_keeps_its_layout_and_is_cited_as_one_claim(passages, embedder) -> None:
    answer = (
        "Die Studie nennt fünf Themenbereiche:\n\n1. Informationsaustausch\n2. strukturelle Bindungen\n"
        "3. Macht\n4. Ausrichtung\n5. Wissen"
    )
    text, citations = verify(answer, passages, embedder, THRESHOLD)
    assert text == answer + " [1]"
    assert citations[0].passage.chunk_id == "doc0:hash:0"


def test_each_citation_points_at_its_supporting_sentence(passages, embedder) -> None:
    _, citations = verify("So steht es im SLA von Kessler.", passages, embedder, THRESHOLD)
    citation = citations[0]
    assert citation.passage.text[citation.support_start : citation.support_end] == "So steht es im SLA von Kessler."
    start = PASSAGES[1].index("So steht es")
    assert citation.to_json()["support"] == {"start": start, "end": start + 31, "score": pytest.approx(1.0, abs=1e-3)}
    assert citation.to_json()["chunk_id"] == "doc1:hash:0" and citation.to_json()["n"] == 1


def test_an_answer_without_support_has_no_citations(passages, embedder) -> None:
    text, citations = verify("Die Kantine öffnet um acht Uhr morgens.", passages, embedder, THRESHOLD)
    assert citations == [] and text == "Die Kantine öffnet um acht Uhr morgens."


def test_a_bare_figure_is_read_with_the_question_and_cited_where_it_stands(passages, embedder) -> None:
    question = "Binnen wie vielen Stunden meldet sich der Vertrieb bei einem Lead?"
    text, citations = verify("24 Stunden", passages, embedder, THRESHOLD, question)
    assert text == "24 Stunden [1]" and citations[0].passage.chunk_id == "doc1:hash:0"


def test_a_bare_figure_no_passage_contains_is_withdrawn(passages, embedder) -> None:
    question = "Binnen wie vielen Stunden meldet sich der Vertrieb bei einem Lead?"
    assert verify("48 Stunden", passages, embedder, THRESHOLD, question) == ("", []), "made up: no passage has 48"
    assert verify("24 Stunden", passages, embedder, THRESHOLD) == ("24 Stunden", []), "without the question"


def test_a_figure_only_in_a_passages_source_path_is_made_up(passages, embedder) -> None:
    """A path's digits ("pytest-48", "/2023/05/") are no figure the passage states."""
    question = "Binnen wie vielen Stunden meldet sich der Vertrieb bei einem Lead?"
    in_path = [
        replace(p, metadata={**p.metadata, "source": f"/tmp/pytest-48/{p.metadata['source']}"}) for p in passages
    ]
    assert verify("48 Stunden", in_path, embedder, THRESHOLD, question) == ("", [])


def test_a_translated_bare_figure_is_cited_where_its_digits_stand(passages, embedder) -> None:
    question = "Within how many hours does sales get back to a qualified lead?"
    text, citations = verify("24 hours", passages, embedder, THRESHOLD, question)
    assert text == "24 hours [1]" and citations[0].passage.chunk_id == "doc1:hash:0"


def test_a_bare_figure_is_a_quotation_of_the_sentence_nearest_the_question(embedder) -> None:
    report = (
        "Der Umsatz des Dienstleisters stieg 2023 um 18 %. Das Ergebnis war ernüchternd: "
        "18 % der Datensätze waren Dubletten, bei 31 % fehlte die Branchenangabe und 9 % enthielten "
        "eine ungültige E-Mail-Adresse."
    )
    passages = [Passage("report:hash:0", report, {"source": "report.md"}, 1.0, 0.5, 1.0)]
    question = "Wie viele Dubletten hat die Prüfung der Kontaktdaten bei Falkenberg Industrieservice ergeben?"
    text, citations = verify("18 %", passages, embedder, THRESHOLD, question)
    assert text == "18 % [1]", "cited although the sentence, listing three figures, is not much like the question"
    assert report[citations[0].support_start : citations[0].support_end].startswith("Das Ergebnis war")


def test_a_figure_counts_as_invented_only_if_no_source_has_its_digits() -> None:
    sources = ["Geprüft wurden 58.000 Datensätze; 18 % waren Dubletten.", "Erschienen 2023-09-05"]
    assert invented_figures("58,000 records, 18% duplicates, 2023 [1].", sources) == set()
    assert invented_figures("Es waren 21 % Dubletten [2].", sources) == {"21"}
    assert invented_figures("1. Erstens 2. Zweitens", sources) == set(), "list numbers are no figures"
