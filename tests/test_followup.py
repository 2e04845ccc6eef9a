"""Which questions refer back to the conversation: those are rewritten before searching, all
others are searched exactly as asked."""

import pytest
from helpers import conversation

from rag.followup import refers_back, searched_besides, usable_rewrite
from rag.prompts import not_covered

FOLLOW_UPS = [
    ("Und was lernt der Vertrieb daraus?", "de"),
    ("Und bei Unternehmen mit mehr als 1.500 Mitarbeitern?", "de"),
    ("Wie heißt die Zeitschrift, in der das erschienen ist?", "de"),
    ("Und umgekehrt?", "de"),
    ("Was empfiehlt die Studie dazu?", "de"),
    ("Was sagt die erste?", "de"),
    ("Was zeigt die zweite zu Konflikten?", "de"),
    ("Wann ist das erschienen?", "de"),
    ("Warum?", "de"),
    ("Welche Zahlen nennt diese Untersuchung?", "de"),
    ("Was haben sie herausgefunden?", "de"),
    ("Gilt das auch für kleine Firmen?", "de"),
    ("Wie groß war der Topf im Jahr davor?", "de"),
    ("Was änderte sich danach am Lead-Scoring?", "de"),
    ("An wen berichtet die?", "de"),
    ("Wie viele Aufträge kamen da raus?", "de"),
    ("Und was steht drin?", "de"),
    ("Wer hat drüber entschieden?", "de"),
    ("And the other way round?", "en"),
    ("What about the 2023 edition?", "en"),
    ("How large was their sample?", "en"),
    ("Which journal published it?", "en"),
    ("Why?", "en"),
    ("What did this study recommend?", "en"),
    ("Why was that changed?", "en"),
    ("Is that true for small firms as well?", "en"),
    ("Who decided that?", "en"),
]
SELF_CONTAINED = [
    ("Wer hat den Blogartikel über Marketing und Vertrieb geschrieben?", "de"),
    ("Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?", "de"),
    ("Was empfiehlt Homburg für die Zusammenarbeit von Marketing und Vertrieb?", "de"),
    ("Wie bewerten Sie die Zusammenarbeit von Marketing und Vertrieb?", "de"),
    ("Gibt es eine Studie zur Lead-Übergabe?", "de"),
    ("Wie groß ist das RevOps-Team bei Tessaro Medien?", "de"),
    ("Was sagt die erste Studie von Homburg über Konflikte?", "de"),
    ("What did Homburg and Jensen find in their 2007 study about marketing and sales?", "en"),
    ("Is there a service level agreement for lead follow-up at Kessler?", "en"),
    ("How many accounts did the Veltro ABM pilot target?", "en"),
    ("What can marketing learn from sales?", "en"),
    ("Which study found that sales and marketing need different orientations?", "en"),
    ("How many leads that marketing passed on did sales accept at Kessler?", "en"),
    ("Welche Aufgaben hat die Abteilung, die bei Tessaro die Leads bewertet?", "de"),
    ("Was passiert bei Kessler nach der Übergabe mit den Leads?", "de"),
]


@pytest.mark.parametrize(("question", "lang"), FOLLOW_UPS)
def test_a_follow_up_refers_back(question: str, lang: str) -> None:
    assert refers_back(question, lang)


@pytest.mark.parametrize(("question", "lang"), SELF_CONTAINED)
def test_a_self_contained_question_is_searched_as_asked(question: str, lang: str) -> None:
    assert not refers_back(question, lang)


FIVE_FACTORS_TURN = conversation(
    "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?",
    "Informationsaustausch, strukturelle Bindungen, Macht und Wissen [1].",
)


@pytest.mark.parametrize(
    ("rewrite", "usable"),
    [
        ("Was lernt der Vertrieb aus den fünf Faktoren der Zusammenarbeit?", True),
        ("Welchen Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?", False),  # drops "lernt"
        ("Warum lernt der Vertrieb daraus?", False),  # brings in nothing of the conversation
        ("Der Vertrieb lernt aus den Faktoren, dass Macht zählt [1].", False),  # an answer, not a question
        ("Was lernt der Vertrieb aus den Faktoren? Und was das Marketing?", False),  # two questions
        ("Was lernt der Vertrieb aus den Faktoren über Preisverhandlungen?", False),  # a word from nowhere
    ],
)
def test_a_rewrite_must_ask_the_follow_up_in_the_conversations_words(rewrite: str, usable: bool) -> None:
    assert usable_rewrite(rewrite, "Und was lernt der Vertrieb daraus?", FIVE_FACTORS_TURN, "de") is usable


ALERTS_TURN = conversation(
    "How does Pemberton Fluid Controls tell its reps when to call an account?", "Reps get intent alerts in the CRM [1]."
)


@pytest.mark.parametrize(
    ("rewrite", "usable"),
    [
        ("How quickly do reps have to follow up on the intent alerts?", True),  # "fast" said as "quickly"
        ("How quickly do reps have to follow up on the intent alerts by phone?", False),  # two words from nowhere
        ("How fast do reps have to follow up on the intent alerts about Preisverhandlungen?", False),  # an example's
    ],
)
def test_a_rewrite_may_say_one_word_in_its_own_words(rewrite: str, usable: bool) -> None:
    assert usable_rewrite(rewrite, "How fast do reps have to follow up on them?", ALERTS_TURN, "en") is usable


def test_a_not_covered_answer_gives_a_rewrite_no_words() -> None:
    history = conversation(
        "Welche Reaktionsfrist für Leads gilt bei Brandt & Söhne?", "Dazu enthalten die Quellen keine Information."
    )
    assert not usable_rewrite(
        "Warum sind die Informationen in der Quelle so lang?", "Warum dort so lang?", history, "de"
    )


LESSONS = conversation(
    "Was kann das Marketing vom Vertrieb lernen?",
    "Zahlenorientierung [1] und Customer Insights [1][2].",
    "Und was lernt der Vertrieb daraus?",
    "Beziehungsmanagement (1) und Markenwissen (2) [2].",
)


@pytest.mark.parametrize(("question", "lang"), [("Und umgekehrt?", "de"), ("And the other way round?", "en")])
def test_a_follow_up_naming_nothing_of_its_own_is_searched_with_the_answer_before(question: str, lang: str) -> None:
    assert searched_besides(question, LESSONS, lang) == [
        "Und was lernt der Vertrieb daraus?",
        "Beziehungsmanagement (1) und Markenwissen (2).",
    ]


def test_a_follow_up_with_words_of_its_own_is_searched_with_the_question_before_only() -> None:
    assert searched_besides("Und was ist mit Messen?", LESSONS, "de") == ["Und was lernt der Vertrieb daraus?"]


def test_an_answer_not_covered_is_not_searched_nor_an_older_one_in_its_place() -> None:
    """ "Und umgekehrt?" after a declined question turns on that question, not on the answer before it."""
    declined = [*LESSONS, *conversation("Was lernt der Einkauf?", not_covered("de"))]
    assert searched_besides("Und umgekehrt?", declined, "de") == ["Was lernt der Einkauf?"]
