"""Answers that contradict the passage they cite, crafted as a small model writes them, checked
with the real embedder: repaired where the passage says what is right, withdrawn otherwise."""

import pytest

from rag.citations import verify
from rag.contradiction import Contradiction, contradiction, matching_region
from rag.embedders import make_embedder
from rag.retrieval import Passage

THOUGHT_WORLDS = (
    "Die Untersuchung kam zu dem Schluss, dass es nicht das Ziel sein sollte, identische Gedankenwelten bei "
    "Marketing und Vertrieb zu schaffen, sondern dass die beiden Bereiche zwar ähnliche Kompetenzen, aber "
    "unterschiedliche Ausrichtungen haben sollten. Empfohlen werden z.B. gemeinsame Trainings oder auch Job-Rotation."
)
FACTORS = (
    "Noch etwas praktischer wird es einem interessanten Fachbeitrag von Prof. Christian Baumgarth und Prof. Lars "
    "Binckebanck (2011): Sie haben vier konkrete Gegenstandsfelder ausfindig gemacht, in denen Verkauf und Marketing "
    "voneinander lernen können."
)
SLA = "Laut SLA meldet sich der Vertrieb bei Kessler binnen 24 Stunden bei jedem qualifizierten Lead, 350 pro Quartal."
BLOG = {"title": "Marketing und Vertrieb (Teil 1)", "author": "Andreas (#derNabicht)", "lang": "de", "source": "b.md"}
THRESHOLD = 0.4


def passage(n: int, text: str, **metadata: str) -> Passage:
    return Passage(f"doc{n}:hash:0", text, {"source": f"doc{n}.md", "lang": "de", **metadata}, 0.9, 0.5, 1.0)


@pytest.fixture(scope="module")
def embedder():
    return make_embedder()


def test_a_yes_that_the_cited_sentence_negates_is_replaced_by_that_sentence(embedder) -> None:
    answer = "Ja, Marketing und Vertrieb sollten identische Gedankenwelten haben [1]."
    question = "Sollten sie gleich denken?"
    text, citations = verify(answer, [passage(0, THOUGHT_WORLDS)], embedder, THRESHOLD, question, "de")
    assert not text.startswith("Ja"), text
    assert "nicht das Ziel sein sollte, identische Gedankenwelten" in text
    assert text.endswith("[1].") and len(citations) == 1


def test_an_answer_that_agrees_with_the_negation_keeps_its_citation(embedder) -> None:
    answer = "Nein, identische Gedankenwelten sollten nicht das Ziel sein, sondern unterschiedliche Ausrichtungen [1]."
    text, citations = verify(answer, [passage(0, THOUGHT_WORLDS)], embedder, THRESHOLD, "Gleich denken?", "de")
    assert text == answer and len(citations) == 1


def test_a_contradiction_in_another_language_than_the_passage_is_withdrawn_not_quoted(embedder) -> None:
    answer = "Marketing und Vertrieb sollten identische Gedankenwelten haben [1]."
    text, citations = verify(answer, [passage(0, THOUGHT_WORLDS, lang="en")], embedder, THRESHOLD, "Gleich?", "de")
    assert citations == [] and "Gedankenwelten" not in text


def test_a_figure_the_cited_passage_lacks_moves_the_citation_to_the_passage_that_has_it(embedder) -> None:
    other = "Brandt & Söhne meldet sich binnen 48 Stunden bei jedem qualifizierten Lead, 220 pro Quartal."
    answer = "Der Vertrieb meldet sich binnen 48 Stunden bei jedem qualifizierten Lead [1]."
    text, citations = verify(answer, [passage(0, SLA), passage(1, other)], embedder, THRESHOLD, "Wie schnell?", "de")
    assert [c.passage.chunk_id for c in citations] == ["doc1:hash:0"], text


def test_a_figure_no_passage_holds_withdraws_the_claim(embedder) -> None:
    answer = "Der Vertrieb meldet sich bei Kessler binnen 36 Stunden bei jedem qualifizierten Lead [1]."
    text, citations = verify(answer, [passage(0, SLA)], embedder, THRESHOLD, "Wie schnell?", "de")
    assert citations == [] and "36" not in text


def test_the_wrong_person_as_author_is_corrected_to_the_documents_author(embedder) -> None:
    answer = "Den Blogartikel haben Prof. Christian Baumgarth und Prof. Lars Binckebanck geschrieben [1]."
    question = "Wer hat den Blogartikel über Marketing und Vertrieb geschrieben?"
    text, citations = verify(answer, [passage(0, FACTORS, **BLOG)], embedder, THRESHOLD, question, "de")
    assert "Baumgarth" not in text and "Andreas (#derNabicht) [1]" in text, text
    assert len(citations) == 1


def test_the_authors_of_a_study_the_sentence_names_stand(embedder) -> None:
    answer = "Den Fachbeitrag haben Prof. Christian Baumgarth und Prof. Lars Binckebanck geschrieben [1]."
    question = "Wer hat den Fachbeitrag über die Gegenstandsfelder geschrieben?"
    text, citations = verify(answer, [passage(0, FACTORS, **BLOG)], embedder, THRESHOLD, question, "de")
    assert text == answer and len(citations) == 1


def test_a_person_the_passage_does_not_name_is_not_cited_to_it() -> None:
    assert contradiction("Laut Prof. Homburg lernen Verkauf und Marketing voneinander", FACTORS, FACTORS, {}, "") == (
        Contradiction("person", "not named in the passage: Homburg")
    )
    named = "Laut Prof. Binckebanck lernen Verkauf und Marketing voneinander"
    assert contradiction(named, FACTORS, FACTORS, {}, "") is None


def test_the_negation_is_read_where_the_claim_matches_not_anywhere_in_the_sentence() -> None:
    region = matching_region("Beide Bereiche sollten unterschiedliche Ausrichtungen haben", THOUGHT_WORLDS)
    assert region is not None and "nicht" not in region
    agreeing = "Sie sollten unterschiedliche Ausrichtungen haben"
    assert contradiction(agreeing, THOUGHT_WORLDS, THOUGHT_WORLDS, {}, "") is None
    assert contradiction("They should be the same", THOUGHT_WORLDS, THOUGHT_WORLDS, {}, "") is None, "no shared words"


def test_a_yes_to_a_paraphrase_sharing_no_word_with_the_negated_sentence_is_caught(embedder) -> None:
    answer = "Ja, Marketing und Vertrieb sollten laut Homburgs Studie von 2007 möglichst gleich denken [1]."
    question = "Sollen Marketing und Vertrieb laut Homburgs Studie von 2007 möglichst gleich denken?"
    assert contradiction(answer, THOUGHT_WORLDS, THOUGHT_WORLDS, {}, question) == Contradiction(
        "polarity", "answers yes, the sentence denies"
    )
    text, citations = verify(answer, [passage(0, THOUGHT_WORLDS)], embedder, THRESHOLD, question, "de")
    assert not text.startswith("Ja") and "nicht das Ziel sein sollte" in text and len(citations) == 1, text


@pytest.mark.parametrize(
    ("claim", "sentence", "conflict"),
    [
        ("Nein, sie sollten keine identischen Gedankenwelten haben", THOUGHT_WORLDS, False),
        ("Nein, Marketing und Vertrieb sollten identische Gedankenwelten haben", THOUGHT_WORLDS, True),
        ("Nein, sondern unterschiedliche Ausrichtungen", THOUGHT_WORLDS, False),
        ("Ja, es sollte nicht das Ziel sein", THOUGHT_WORLDS, False),
        ("No, they should not", "Sales teams should not own the lead scoring model.", False),
        ("Yes, they should", "Sales teams should not own the lead scoring model.", True),
        ("Nein, das lohnt sich nicht.", "Gemeinsame Trainings lohnen sich für beide Seiten.", True),
        ("Ja, beide profitieren.", "Nicht nur der Vertrieb, sondern auch das Marketing profitiert.", False),
        ("Yes, both gain.", "Not only sales but also marketing gains from shared targets.", False),
    ],
)
def test_a_yes_or_no_verdict_is_read_against_the_whole_sentence(claim: str, sentence: str, conflict: bool) -> None:
    question = "Sollten Marketing und Vertrieb identische Gedankenwelten haben?"
    assert (contradiction(claim, sentence, sentence, {}, question) is not None) == conflict
