"""Answers that contradict the passage they cite, crafted as a small model writes them, checked
with the real embedder: repaired where the passage says what is right, withdrawn otherwise."""

import pytest
from helpers import passage

from rag.citations import verify
from rag.contradiction import Cited, Contradiction, contradiction, matching_region
from rag.embedders import make_embedder

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
BLOG = {
    "title": "Marketing und Vertrieb (Teil 1)",
    "author": "Andreas (#derNabicht)",
    "lang": "de",
    "source": "b.md",
    "kind": "blog",
}
THRESHOLD = 0.4


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


def test_a_figure_only_in_the_cited_passages_source_path_moves_the_citation(embedder) -> None:
    """A path's digits ("pytest-48") are no figure the passage states."""
    other = "Brandt & Söhne meldet sich binnen 48 Stunden bei jedem qualifizierten Lead, 220 pro Quartal."
    in_path = passage(0, SLA, source="/tmp/pytest-of-root/pytest-48/kessler.md")
    answer = "Der Vertrieb meldet sich binnen 48 Stunden bei jedem qualifizierten Lead [1]."
    text, citations = verify(answer, [in_path, passage(1, other)], embedder, THRESHOLD, "Wie schnell?", "de")
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


FOUR_FIELDS_RECORD_TEXT = (
    "Der Beitrag untersucht die Schnittstelle zwischen Verkauf und Marketing und identifiziert vier "
    "Gegenstandsfelder, in denen beide Funktionen voneinander lernen können."
)
FOUR_FIELDS_RECORD = {
    "title": "Zusammenarbeit von Verkauf und Marketing – reloaded",
    "author": "Carsten Baumgarth; Lars Binckebanck",
    "kind": "abstract",
    "lang": "de",
}
THOUGHT_WORLDS_RECORD_TEXT = (
    'This record is our own summary of what the blog article "Marketing und Vertrieb (Teil 1)" reports about '
    "this study. It is not the authors' abstract."
)
THOUGHT_WORLDS_RECORD = {
    "title": "The Thought Worlds of Marketing and Sales",
    "author": "Christian Homburg; Ove Jensen",
    "kind": "abstract",
    "lang": "en",
}
BLOG_QUESTION = "Who wrote the blog article about marketing and sales?"


@pytest.mark.parametrize(
    ("record", "record_fields", "answer"),
    [
        # the record's own authors given for the blog article
        (
            FOUR_FIELDS_RECORD_TEXT,
            FOUR_FIELDS_RECORD,
            "The blog article was written by Carsten Baumgarth and Lars Binckebanck [1].",
        ),
        # the right name, cited to a record whose sentence mentions the blog article
        (
            THOUGHT_WORLDS_RECORD_TEXT,
            THOUGHT_WORLDS_RECORD,
            "Andreas #derNabicht wrote the blog article about marketing and sales [1].",
        ),
    ],
)
def test_who_wrote_the_blog_article_is_answered_from_the_blog_not_a_paper_record(
    embedder, record: str, record_fields: dict[str, str], answer: str
) -> None:
    passages = [passage(0, record, **record_fields), passage(1, FACTORS, **BLOG)]
    text, citations = verify(answer, passages, embedder, THRESHOLD, BLOG_QUESTION, "en")
    assert text == "Andreas (#derNabicht) [1].", "corrected to the blog article's author"
    assert [c.passage.metadata["kind"] for c in citations] == ["blog"]


def test_a_record_is_another_kind_of_work_than_the_blog_article_but_the_study_asked_about() -> None:
    answer = "The blog article was written by Carsten Baumgarth and Lars Binckebanck [1]."
    found = contradiction(
        answer,
        Cited(FOUR_FIELDS_RECORD_TEXT, FOUR_FIELDS_RECORD_TEXT, FOUR_FIELDS_RECORD, kind="abstract"),
        BLOG_QUESTION,
    )
    assert found is not None and found.kind == "work"
    study_question = "Who wrote the study on the four fields?"
    assert (
        contradiction(
            answer,
            Cited(FOUR_FIELDS_RECORD_TEXT, FOUR_FIELDS_RECORD_TEXT, FOUR_FIELDS_RECORD, kind="abstract"),
            study_question,
        )
        is None
    )


def test_the_authors_of_a_study_the_sentence_names_stand(embedder) -> None:
    answer = "Den Fachbeitrag haben Prof. Christian Baumgarth und Prof. Lars Binckebanck geschrieben [1]."
    question = "Wer hat den Fachbeitrag über die Gegenstandsfelder geschrieben?"
    text, citations = verify(answer, [passage(0, FACTORS, **BLOG)], embedder, THRESHOLD, question, "de")
    assert text == answer and len(citations) == 1


def test_a_person_the_passage_does_not_name_is_not_cited_to_it() -> None:
    claim = "Laut Prof. Homburg lernen Verkauf und Marketing voneinander"
    assert contradiction(claim, Cited(FACTORS, FACTORS, {}), "") == (
        Contradiction("person", "not named in the passage: Homburg")
    )
    named = "Laut Prof. Binckebanck lernen Verkauf und Marketing voneinander"
    assert contradiction(named, Cited(FACTORS, FACTORS, {}), "") is None


def test_the_negation_is_read_where_the_claim_matches_not_anywhere_in_the_sentence() -> None:
    region = matching_region("Beide Bereiche sollten unterschiedliche Ausrichtungen haben", THOUGHT_WORLDS)
    assert region is not None and "nicht" not in region
    agreeing = "Sie sollten unterschiedliche Ausrichtungen haben"
    assert contradiction(agreeing, Cited(THOUGHT_WORLDS, THOUGHT_WORLDS, {}), "") is None
    english = contradiction("They should be the same", Cited(THOUGHT_WORLDS, THOUGHT_WORLDS, {}), "")
    assert english is None, "no shared words"


def test_a_yes_to_a_paraphrase_sharing_no_word_with_the_negated_sentence_is_caught(embedder) -> None:
    answer = "Ja, Marketing und Vertrieb sollten laut Homburgs Studie von 2007 möglichst gleich denken [1]."
    question = "Sollen Marketing und Vertrieb laut Homburgs Studie von 2007 möglichst gleich denken?"
    found = contradiction(answer, Cited(THOUGHT_WORLDS, THOUGHT_WORLDS, {}), question)
    assert found is not None and (found.kind, found.detail) == ("polarity", "answers yes, the sentence denies")
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
    assert (contradiction(claim, Cited(sentence, sentence, {}), question) is not None) == conflict


# Written like a real case study: the figure asked for is missing, neighbouring figures are not.
SDR_TEAMS = (
    "Nach der Umstellung auf feste SDR-Teams pro Region (das war im Q2, also mitten in der Budgetplanung) hat "
    "sich einiges getan. Die Zahl der bestätigten Termine pro SDR und Monat stieg von 11 auf 16, die "
    "No-Show-Quote sank auf 9 %. Aus der Kaltakquise kommen inzwischen kaum noch Neukunden – genaue Zahlen "
    "nennt Brenner Messtechnik dazu nicht. Der Umsatz lag 2023 bei 42 Mio. Euro."
)


@pytest.mark.parametrize(
    ("claim", "question", "conflict"),
    [
        ("Brenner hat nach der Umstellung 16 Neukunden aus der Kaltakquise gewonnen", "Wie viele Neukunden?", True),
        ("Das Budget des Pilotprojekts betrug 42 Mio. Euro", "Wie hoch war das Budget des Piloten?", True),
        ("Die Zahl der Termine pro SDR stieg von 11 auf 16", "Wie entwickelten sich die Termine?", False),
        ("Die Termine nahmen auf 16 zu", "Und die Termine?", False),
        ("Brenner setzte 2023 42 Mio. Euro um, der Umsatz ist genannt", "Welcher Umsatz?", False),
        ("Bei 11 Regionen mit eigenem Team waren es zuletzt 16 Termine", "Wie war es bei 11 Regionen?", False),
        # A bare figure is read with the question's words, unless the question leans on earlier turns.
        ("16", "Wie viele Neukunden hat Brenner aus der Kaltakquise gewonnen?", True),
        ("42 Mio. Euro", "Wie hoch war das Budget für die SDR-Teams?", True),
        ("16", "Wie viele bestätigte Termine hat ein SDR pro Monat?", False),
        ("16 [1]", "Und pro SDR?", False),
    ],
)
def test_a_figure_the_passage_says_of_something_else_contradicts(claim: str, question: str, conflict: bool) -> None:
    found = contradiction(claim, Cited(SDR_TEAMS, SDR_TEAMS, {}), question)
    assert (found is not None and found.kind == "figure") == conflict, found


def test_a_figure_said_of_the_previous_sentences_subject_stands() -> None:
    passage_text = "Besser lief es bei den Terminen. Im Schnitt waren es zuletzt 16 pro Woche."
    assert contradiction("Die Termine lagen bei 16", Cited(passage_text, passage_text, {}), "Und die Termine?") is None


def test_a_figure_across_languages_is_only_checked_for_presence() -> None:
    claim = "The number of booked meetings rose to 16 per rep"
    assert contradiction(claim, Cited(SDR_TEAMS, SDR_TEAMS, {}, same_language=False), "How many meetings?") is None
    assert contradiction(claim.replace("16", "18"), Cited(SDR_TEAMS, SDR_TEAMS, {}, same_language=False), "?")


# Two trade fairs in one article: each year's figures stand in a sentence naming that year.
TRADE_FAIRS = (
    "Insgesamt wurden an den drei Messetagen der LogiMAT 2023 412 Kontakte gescannt, davon 58 als A-Kontakt "
    "eingestuft. Auf der LogiMAT 2024 wurden insgesamt 538 Kontakte gescannt, davon 74 als A-Kontakt eingestuft. "
    "Die Nachbereitung dauerte 3 Wochen, bei 14 Aufträgen."
)


@pytest.mark.parametrize(
    ("claim", "same_language", "conflict"),
    [
        ("Grothe scanned a total of 538 contacts at LogiMAT 2023", False, True),
        ("Auf der LogiMAT 2023 wurden 538 Kontakte gescannt", True, True),
        ("Grothe scanned 412 contacts at LogiMAT 2023, 58 of them A contacts", False, False),
        ("Auf der LogiMAT 2024 wurden 538 Kontakte gescannt", True, False),
        ("Aus der LogiMAT 2024 kamen 14 Aufträge", True, False),  # its sentence names no year
    ],
)
def test_a_figure_the_passage_gives_for_another_year_contradicts(
    claim: str, same_language: bool, conflict: bool
) -> None:
    cited = Cited(TRADE_FAIRS, TRADE_FAIRS, {}, same_language=same_language)
    found = contradiction(claim, cited, "How many contacts did Grothe scan?")
    assert (found is not None and found.kind == "figure") == conflict, found


@pytest.mark.parametrize(
    ("second", "stays"),
    [
        ("Among these, 74 were A contacts [1].", False),  # leans on the withdrawn claim
        ("At LogiMAT 2024, 74 contacts were rated A contacts [1].", True),
    ],
)
def test_a_claim_leaning_on_a_withdrawn_claim_is_withdrawn_with_it(embedder, second: str, stays: bool) -> None:
    answer = f"Grothe scanned a total of 538 contacts at LogiMAT 2023 [1]. {second}"
    question = "How many contacts did Grothe scan at LogiMAT 2023?"
    text, citations = verify(answer, [passage(0, TRADE_FAIRS)], embedder, THRESHOLD, question, "en")
    assert "538" not in text, text
    assert ("74" in text and len(citations) == 1) == stays, text


HEISE = (
    "Berater Prof. Wolfgang Heise von der Akademie für Vertriebsmanagement rät kleineren Unternehmen mit weniger "
    "als 50 Mitarbeitenden im Vertrieb, zunächst keine eigene Abteilung zu gründen, sondern eine einzelne Stelle "
    "mit klarer Verantwortung für Daten und Prozesse zu schaffen."
)


@pytest.mark.parametrize(
    ("claim", "sentence", "conflict"),
    [
        # Only the names match across languages; the negation is elsewhere in the sentence.
        (
            "Prof. Wolfgang Heise recommends that smaller companies with fewer than 50 employees in sales should "
            "not start their own RevOps department but create a single position",
            HEISE,
            False,
        ),
        (
            "Prof. Wolfgang Heise recommends that smaller companies should not create a single position",
            HEISE.replace("zunächst keine eigene Abteilung zu gründen, sondern ", ""),
            True,
        ),
        # An affirmation over a sentence that denies something: across languages, which part it is cannot be told.
        ("Prof. Wolfgang Heise recommends a single position for data and processes", HEISE, False),
    ],
)
def test_a_negation_across_languages_is_read_against_the_whole_sentence(
    claim: str, sentence: str, conflict: bool
) -> None:
    found = contradiction(claim, Cited(sentence, sentence, {}, same_language=False), "What does Prof. Heise recommend?")
    assert (found is not None and found.kind == "polarity") == conflict, found


def test_a_neighbouring_figure_given_as_the_answer_is_withdrawn(embedder) -> None:
    answer = "Brenner Messtechnik hat nach der Umstellung noch 16 Neukunden aus der Kaltakquise gewonnen [1]."
    question = "Wie viele Neukunden hat Brenner nach der Umstellung noch aus der Kaltakquise gewonnen?"
    text, citations = verify(answer, [passage(0, SDR_TEAMS)], embedder, THRESHOLD, question, "de")
    assert citations == [] and "16" not in text, text


STUDIES = (
    "Die Optimierung der Zusammenarbeit von Marketing und Vertrieb ist schon seit vielen Jahren Gegenstand der "
    "wissenschaftlichen Forschung. Zwei interessante Studien aus den Jahren 2007 und 2008 gibt es zum Beispiel vom "
    "BWL- und Marketingprofessor Christian Homburg: In der ersten Studie hat er sich mit den unterschiedlichen "
    "Gedankenwelten von Marketing und Vertrieb beschäftigt und inwieweit diese aneinander angeglichen werden sollten. "
    f"{THOUGHT_WORLDS}"
)


def test_a_verdict_citing_the_sentence_that_only_raises_the_question_is_read_against_the_next(embedder) -> None:
    """The sentence introducing the 2007 study shares most words with the question and decides nothing."""
    question = "Sollen Marketing und Vertrieb laut Homburgs Studie von 2007 möglichst gleich denken?"
    answer = "Ja, Marketing und Vertrieb sollten laut Homburgs Studie von 2007 möglichst gleich denken [1]."
    text, citations = verify(answer, [passage(0, STUDIES)], embedder, THRESHOLD, question, "de")
    assert not text.startswith("Ja") and text.startswith("Die Untersuchung kam zu dem Schluss"), text
    assert len(citations) == 1
    introduction = STUDIES.split(": ")[0]
    assert contradiction("Ja, sie sollten sich angleichen", Cited(introduction, STUDIES, {}), question) is None


def test_a_reference_read_out_in_other_words_stands() -> None:
    record = (
        "Homburg, C., Jensen, O. & Krohmer, H. (2008). Configurations of Marketing and Sales: A Taxonomy. "
        "Journal of Marketing, 72(2), 133–154."
    )
    claim = 'Die Taxonomie von Homburg, Jensen und Krohmer erschien im "Journal of Marketing", Band 72, Seiten 133-154'
    assert contradiction(claim, Cited(record, record, {}), "In welcher Zeitschrift und welchem Band?") is None


def test_a_first_name_the_reference_gives_as_an_initial_is_named() -> None:
    reference = "Baumgarth, C. & Binckebanck, L. (2011). In: Binckebanck, L. (Hrsg.): Verkaufen nach der Krise"
    claim = 'Der Beitrag erschien in "Verkaufen nach der Krise" von Prof. Lars Binckebanck'
    assert contradiction(claim, Cited(reference, reference, {}), "Wo erschien der Beitrag?") is None
    other = claim.replace("Lars Binckebanck", "Lars Homburg")
    assert contradiction(other, Cited(reference, reference, {}), "Wo erschien der Beitrag?") is not None


# A paper's record, as the shipped corpus has it: the first sentence asks, the second decides.
THOUGHT_WORLDS_RECORD = (
    "Christian Homburg and Ove Jensen studied the different thought worlds of marketing and sales, and asked how far "
    "the two departments should be brought into line with each other. According to the article, the study concludes "
    "that identical thought worlds should not be the goal. Marketing and sales should have similar competencies but "
    "different orientations."
)


def test_a_verdict_no_passage_backs_is_not_saved_by_a_sentence_that_only_asks(embedder) -> None:
    """The blog's deciding sentence contradicts the "Ja"; the record's sentence that only asks must not back it."""
    question = "Sollen Marketing und Vertrieb laut Homburgs Studie von 2007 möglichst gleich denken?"
    answer = "Ja, Marketing und Vertrieb sollten laut Homburgs Studie von 2007 möglichst gleich denken."
    passages = [passage(0, STUDIES), passage(1, THOUGHT_WORLDS_RECORD, lang="en", date="2007", kind="abstract")]
    text, citations = verify(answer, passages, embedder, THRESHOLD, question, "de")
    assert not text.startswith("Ja") and text.startswith("Die Untersuchung kam zu dem Schluss"), text
    assert [c.passage.metadata["source"] for c in citations] == ["doc0.md"]


@pytest.mark.parametrize(
    "asking",
    [
        "Sie fragten, wie weit sich die beiden Abteilungen angleichen sollten.",
        "The authors examined to what degree the two departments should think alike.",
        "The study looks at the extent to which both teams should share one view.",
        "Untersucht wurde, in welchem Maße sich Marketing und Vertrieb angleichen sollten.",
    ],
)
def test_a_verdict_is_read_against_the_sentence_after_one_that_only_asks(asking: str) -> None:
    deciding = "Das Ergebnis: Ein Angleichen ist nicht das Ziel."
    cited = Cited(asking, f"{asking} {deciding}", {})
    found = contradiction("Ja, sie sollten sich angleichen", cited, "Sollten sie sich angleichen?")
    assert found is not None and found.says_otherwise == deciding, found


# Written the way German web prose writes small numbers: as words, several in one paragraph.
DATA_TEAM = (
    "Seit März 2024 kümmert sich bei Hansen Logistik ein eigenes Team aus fünf Leuten um Daten, Tools und "
    "Prozesse (vorher: drei halbe Stellen, verteilt auf zwei Abteilungen …). Nach vier Monaten zieht "
    "Teamleiterin Jana Wulff Bilanz: Die Altdaten aus dem alten CRM hat man bewusst außer Acht gelassen."
)


@pytest.mark.parametrize(
    ("claim", "same_language", "conflict"),
    [
        ("Das Team bei Hansen Logistik besteht aus vier Leuten", True, True),  # the four are months
        ("Das Team bei Hansen Logistik besteht aus sechs Leuten", True, True),  # no six at all
        ("The team at Hansen Logistik has six people", False, True),
        ("Das Team bei Hansen Logistik besteht aus fünf Leuten", True, False),
        ("Das Team bei Hansen Logistik besteht aus 5 Leuten", True, False),
        ("The team at Hansen Logistik has five people", False, False),
        ("Vorher gab es drei halbe Stellen in zwei Abteilungen", True, False),
        ("Die Altdaten blieben außer Acht", True, False),  # no eight
    ],
)
def test_a_spelled_out_number_is_checked_as_a_figure(claim: str, same_language: bool, conflict: bool) -> None:
    cited = Cited(DATA_TEAM, DATA_TEAM, {}, same_language=same_language)
    found = contradiction(claim, cited, "Wie groß ist das Team bei Hansen Logistik?")
    assert (found is not None and found.kind == "figure") == conflict, found


CHURN = (
    "Das Ergebnis war eine Frühkündigungsquote (Kündigung innerhalb der ersten 90 Tage) von 9 %. Seit dem "
    "Steckbrief gibt es eine zweitägige Übergabe-Schulung, und die Frühkündigungsquote lag 2023 bei 4 %."
)


@pytest.mark.parametrize(
    ("claim", "conflict"),
    [
        ("The early churn rate was 7% before the change and 4% after it", True),  # no 7 at all
        ("Die Frühkündigungsquote sank von 9 % auf 4 %", False),
        ("The handover training takes 3 days", True),
        ("Die Übergabe-Schulung dauert 2 Tage", False),  # "zweitägige"
        ("The handover training is a two-day course", False),
        ("Die Quote sank in Schritt 2 der Übergabe", False),  # a step's number, no amount
        ("Teil 1 der Übergabe ist der Steckbrief", False),
        ("Die Übergabe-Schulung kostet 8 € pro Kopf", True),  # a currency sign is a unit too
        ("The handover training costs $5 per head", True),
    ],
)
def test_a_single_digit_with_a_unit_is_checked_as_a_figure(claim: str, conflict: bool) -> None:
    cited = Cited(CHURN, CHURN, {}, same_language=True)
    found = contradiction(claim, cited, "Wie hoch war die Frühkündigungsquote vorher und nachher?")
    assert (found is not None and found.kind == "figure") == conflict, found
