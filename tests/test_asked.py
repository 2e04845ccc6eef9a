"""An answer that gives no amount where one was asked, or says the question back, leaves the question
open: replies as the small model writes them for questions its passages leave open, and right
answers in the forms real articles use."""

from pathlib import Path

import pytest
from helpers import kessler_index, spy_assistant
from hypothesis import given
from hypothesis import strategies as st

from rag.asked import leaves_open
from rag.lexical import tokenize
from rag.settings import Settings


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "Wie hoch ist der neue einheitliche Provisionssatz bei Heller & Roth?",
            "Der neue einheitliche Provisionssatz bei Heller & Roth ist zwischen den beiden alten Sätzen [1].",
        ),
        (
            "Wie viele Unternehmen wurden für die dritte Ausgabe des B2B-Schnittstellenreports befragt?",
            "Die Quelle sagt, dass eine dritte Ausgabe des B2B-Schnittstellenreports für das Frühjahr 2024 "
            "angekündigt ist [1].",
        ),
        (
            "Welcher Anteil der Außendienst-Provision hängt bei Lorenz am Deckungsbeitrag?",
            "Die Provision hängt nicht mehr nur am Umsatz, sondern zu einem Teil am Deckungsbeitrag [1].",
        ),
        (
            "Wie hoch ist inzwischen die Abschlussquote der gescorten Leads?",
            "Die Abschlussquote der gescorten Leads liegt bei rund 420 pro Quartal [1].",
        ),
        ("How many SDRs does Fennhoff employ in Q3?", "Fennhoff's SDR team works closely with the AEs in Q3 [1]."),
        ("What share of leads did sales never call?", "Most marketing leads were never called back by sales [1]."),
        (
            "Welche CRM-Software setzt die Falkenberg Industrieservice GmbH ein?",
            "Die Falkenberg Industrieservice GmbH setzt CRM-Software ein [1].",
        ),
        ("Which CRM vendors does Meridian use?", "Meridian uses CRM vendors [1]."),
        # Asked how long or how fast: the subject, a year or an ordinal is no length of time.
        (
            "Wie lange wechseln Mitarbeitende bei Pfeiffer im Programm Perspektivwechsel die Abteilung?",
            "Die Mitarbeiter bei Pfeiffer wechseln im Programm Perspektivwechsel für 2023 ins Produktmarketing [1].",
        ),
        ("How long are the meetings of Brightwell's content council?", "They meet every second Wednesday [1]."),
        (
            "How long is a deal protected for a Vantero partner after deal registration?",
            "The survey of 208 manufacturers found that 64% of the marketing materials were never used [1].",
        ),
        # Asked what someone earns or something costs: a figure of something else is no sum of money.
        (
            "Wie viel verdient die Sales-Enablement-Managerin bei Lindner im Jahr?",
            "Die Sales-Enablement-Managerin bei Lindner hat eine 20-minütige Schulung für 45 Außendienstler "
            "aufgebaut [1].",
        ),
        ("How much did the CRM clean-up at Falkenberg cost?", "The clean-up took 14 weeks and 3 interns [1]."),
        (
            "Wie schnell sollte der Vertrieb laut der Studie einen Lead kontaktieren?",
            "Die Studie zeigt, dass der Vertrieb Webinar-Leads kontaktieren kann, aber die Jahresplanung ist lang [1].",
        ),
    ],
)
def test_no_asked_amount_or_the_question_said_back_leaves_it_open(question: str, answer: str) -> None:
    assert leaves_open(question, answer)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Wie viele Mitarbeitende hat das RevOps-Team?", "Rund zwei Dutzend [1]."),
        ("Wie viele Termine bucht ein SDR?", "412 [1]"),
        ("Wie viel Geld enthält der gemeinsame Budgettopf?", "1,2 Mio. Euro [1]."),
        ("Wie viel Budget hatte der Pilot?", "Das Budget lag bei 120.000 Euro [1]."),
        ("Wie viel hat die CRM-Bereinigung gekostet?", "Rund 46.000 € inkl. Datenanbieter [1]."),
        ("How much money did they save on software?", "Approximately 74,000 euros a year [1]."),
        ("Wie viel verdient ein SDR bei Fennhoff?", "Das Fixum macht 70 % der Vergütung aus [1]."),
        ("Wie viel kostet das Basis-Paket?", "Das Basis-Paket ist für bis zu 3 Nutzer kostenlos [1]."),
        ("Wie viel Zeit kostet die Pflege des Glossars?", "Etwa zwei Stunden im Quartal [1]."),
        ("Wie viele Rückgabecodes will Rotbach noch verwenden?", "Nur noch sechs statt acht [1]."),
        ("Um wie viel stieg die Quote?", "Sie hat sich seit 2021 mehr als verdoppelt [1]."),
        ("Welcher Anteil der Kontakte war veraltet?", "Etwa jeder dritte Kontakt war veraltet [1]."),
        ("Welcher Anteil der Leads wurde bearbeitet?", "83 % der Marketing-Leads innerhalb von fünf Werktagen [1]."),
        ("What share of deals were lost on price?", "Roughly a third of them [2]."),
        ("What proportion of firms took part again?", "201 of 318 firms [1]."),
        ("How many nurture tracks did Pemberton build?", "Eleven tracks with 6–8 emails each [1]."),
        ("Wer hat den Blogartikel geschrieben?", "Andreas (#derNabicht) [1]."),
        ("Wann findet das Signal-Review statt?", "Jeden Montag um halb zehn [1]."),
        ("An wen berichtet das SDR-Team bei Fennhoff?", "Das SDR-Team bei Fennhoff berichtet an das Marketing [1]."),
        ("Wie lange dauert das Smarketing-Weekly?", "Genau 20 Minuten, jeden Montag [1]."),
        ("Wie lange dauert die Rotation?", "Ein halbes Jahr [1]."),
        ("How long is a registered deal protected?", "90 [1]"),
        (
            "Wie schnell muss der Außendienst reagieren?",
            "Sofort nach der Übergabe, spätestens am nächsten Werktag [1].",
        ),
        ("How quickly do reps follow up on alerts?", "Within one working day [2]."),
        ("How long is a registered deal protected?", "Until the deal closes or is lost [1]."),
        ("Innerhalb welcher Frist werden A-Kontakte angerufen?", "Binnen 48 Stunden nach Messeende [1]."),
        # A yes/no question may be answered by saying its statement.
        (
            "Hat Kessler ein schriftliches SLA mit dem Vertrieb?",
            "Kessler hat ein schriftliches SLA mit dem Vertrieb [1].",
        ),
    ],
)
def test_an_answer_stating_what_was_asked_stands(question: str, answer: str) -> None:
    assert not leaves_open(question, answer)


@pytest.mark.parametrize(
    ("question", "answer", "names"),
    [
        (
            "Wie viele Händler nutzen das Partnerportal von Kessler?",
            "Die Kessler GmbH aus Ulm beschäftigt rund 450 Mitarbeitende und ist seit 1987 am Markt [1].",
            "Kessler",
        ),
        (
            "How much commission do account managers at Veltra earn on renewals?",
            "Veltra was founded in 2009 and now serves about 1,200 customers across Europe [1].",
            "Veltra",
        ),
        (
            "Wie viele Messekontakte hat Brenner auf der Hannover Messe gescannt?",
            "Brenner stellte 2023 zum ersten Mal aus. Der Stand war 48 Quadratmeter groß und kostete rund "
            "60.000 Euro [1].",
            "Brenner Hannover Messe",
        ),
    ],
)
def test_a_figure_of_something_else_leaves_how_many_open(question: str, answer: str, names: str) -> None:
    """The sentences with a figure share no word with the question but the names of whom it asks about."""
    assert leaves_open(question, answer, set(tokenize(names)))


@pytest.mark.parametrize(
    ("question", "answer", "names"),
    [
        (
            "Wie viele Leads brachte das Webinar von Kessler?",
            "Kessler zählte nach dem Webinar im März 312 neue Leads, davon 40 SQLs [1].",
            "Kessler",
        ),
        # A share asked or given: surveys answer how many firms with one, in words of their own.
        (
            "Wie viele Betriebe nutzen bei Kessler ein CRM?",
            "Rund 63 % der befragten Firmen arbeiten damit [1].",
            "Kessler",
        ),
        ("Wie hoch ist die Abschlussquote bei Kessler?", "Sie liegt bei Kessler inzwischen bei 23 % [1].", "Kessler"),
        ("How many people work at Veltra?", "About 1,200 [1].", "Veltra"),
        (
            "Wie viele Filialen betreibt Hagedorn?",
            "Hagedorn wurde 1952 gegründet. Heute betreibt das Unternehmen 38 Filialen in Bayern [1].",
            "Hagedorn",
        ),
        (
            "How many SDRs did Fennhoff hire in 2023?",
            "Fennhoff hired four new SDRs in the spring of 2023, two of them from its own customer service [1].",
            "Fennhoff 2023",
        ),
    ],
)
def test_a_figure_of_what_was_asked_answers_how_many(question: str, answer: str, names: str) -> None:
    assert not leaves_open(question, answer, set(tokenize(names)))


@given(
    prefix=st.text(alphabet=st.characters(categories=["L", "Zs", "P"]), max_size=80),
    number=st.integers(min_value=0, max_value=10**7).filter(lambda n: not 1900 <= n <= 2099),
    style=st.sampled_from(["{:,}", "{:_}", "{}", "{} %", "{},5"]),
)
def test_any_number_other_than_a_year_of_what_was_asked_answers_how_many(prefix: str, number: int, style: str) -> None:
    figure = style.format(number).replace("_", ".")
    assert not leaves_open("Wie viele Leads kamen aus dem Webinar?", f"{prefix} {figure} Leads [1].")


def test_the_assistant_declines_a_supported_sentence_that_gives_no_asked_amount(shipped: Settings) -> None:
    """The reply copies a passage sentence (supported, cited), but the question asked how many."""
    reply = (
        "Ganz konkret empfiehlt die Studie, Teamwork zwischen Marketing und Sales durch gemeinsame Arbeits- "
        "und Planungsprozesse zu fördern [1]."
    )
    assistant, _ = spy_assistant(shipped, reply)
    answer = assistant.ask("Wie viele gemeinsame Planungsprozesse empfiehlt die Konfigurationsstudie von 2008?")
    assert answer.abstained and answer.abstain_reason == "unanswered" and answer.citations == []


def test_the_assistant_declines_a_supported_figure_that_counts_something_else(tmp_path: Path) -> None:
    """The reply copies the article's sentence (supported, cited): its figure counts hours, not field
    sales reps. The company's name, which it shares with the question, says whom it is about, not what."""
    reply = "Bei Kessler Antriebstechnik kontaktiert der Vertrieb jeden Lead binnen 24 Stunden [1]."
    assistant, _ = spy_assistant(kessler_index(tmp_path), reply)
    answer = assistant.ask("Wie viele Außendienstler beschäftigt Kessler Antriebstechnik?")
    assert answer.abstained and answer.abstain_reason == "unanswered" and answer.citations == []
