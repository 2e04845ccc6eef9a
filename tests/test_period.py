"""Asked about one year, an answer that cites only sentences about another year (the trade fair of
2024 for the one of 2023) is declined; a sentence speaks of the years it names, else of those the
nearest sentence before it in its paragraph names, else of its section's heading."""

from pathlib import Path

from helpers import indexed_settings, passage, spy_assistant
from hypothesis import given
from hypothesis import strategies as st

from rag.citations import Citation
from rag.period import speaks_of_another_year

# A follow-up article in messy web prose: cookie banner, byline, both years in one text.
FAIR_ARTICLE = (
    "Diese Website nutzt Cookies. [Akzeptieren] [Ablehnen]\n\n"
    "23.04.2024 | Fabian Steger | 1 Kommentar\n\n"
    "Letztes Jahr haben wir berichtet, wie Brenner Fördertechnik die LogiMAT 2023 nachbereitet hat. "
    "Damals rief der Außendienst A-Kontakte binnen 48 Stunden an, B-Kontakte bekamen nur eine Mail.\n\n"
    "## Die Zahlen 2024\n\n"
    "Auf der Messe wurden 538 Kontakte gescannt, 74 davon waren A-Kontakte. Bei 69 klappte der Anruf "
    "innerhalb von 24 Stunden. Aus den B-Kontakten entstanden zusätzlich 23 qualifizierte Opportunities.\n\n"
    "Fazit: schneller ist besser!!"
)


def citing(text: str, sentence: str) -> Citation:
    start = text.index(sentence)
    return Citation(1, passage(1, text), start, start + len(sentence), 0.9)


def test_a_sentence_under_another_years_heading_speaks_of_that_year() -> None:
    cited = citing(FAIR_ARTICLE, "Aus den B-Kontakten entstanden zusätzlich 23 qualifizierte Opportunities.")
    assert speaks_of_another_year("Wie viele Opportunities kamen aus den B-Kontakten der LogiMAT 2023?", [cited])
    assert not speaks_of_another_year("Wie viele Opportunities kamen aus den B-Kontakten der LogiMAT 2024?", [cited])


def test_a_sentence_after_one_naming_another_year_speaks_of_that_year() -> None:
    cited = citing(FAIR_ARTICLE, "Damals rief der Außendienst A-Kontakte binnen 48 Stunden an, B-Kontakte bekamen")
    assert not speaks_of_another_year("Wie schnell wurden A-Kontakte der LogiMAT 2023 angerufen?", [cited])
    assert speaks_of_another_year("Wie schnell wurden A-Kontakte der LogiMAT 2024 angerufen?", [cited])


def test_a_sentence_naming_the_year_asked_about_speaks_of_it() -> None:
    text = "Der Anteil stieg von 14 % im Jahr 2021 auf 22 % im Jahr 2023. Seit 2024 gilt ein neues Modell."
    cited = citing(text, "Der Anteil stieg von 14 % im Jahr 2021 auf 22 % im Jahr 2023.")
    assert not speaks_of_another_year("Wie hoch war der Anteil 2021?", [cited])


def test_the_nearest_sentence_naming_years_names_them_all() -> None:
    """The sentence after "aus den Jahren 2007 und 2008" may be about either study."""
    text = (
        "Zwei Studien aus den Jahren 2007 und 2008 gibt es von Homburg. In der ersten ging es um Gedankenwelten. "
        "Empfohlen werden gemeinsame Trainings oder auch Job-Rotation."
    )
    cited = citing(text, "Empfohlen werden gemeinsame Trainings oder auch Job-Rotation.")
    assert not speaks_of_another_year("Was empfiehlt die Studie von 2007?", [cited])


def test_a_year_of_another_paragraph_or_none_at_all_says_nothing() -> None:
    text = "Die Messe 2022 war ein Erfolg.\n\nDer Außendienst ruft jeden A-Kontakt binnen 48 Stunden an."
    cited = citing(text, "Der Außendienst ruft jeden A-Kontakt binnen 48 Stunden an.")
    assert not speaks_of_another_year("Wie schnell ruft der Außendienst nach der Messe 2023 an?", [cited])


def test_a_bylines_date_is_no_year_a_sentence_speaks_of() -> None:
    """Extracted web pages put the byline right before the first sentence, often in one paragraph."""
    text = (
        "14/11/2023 · Rachel Dunmore · Sales & Marketing Ops · Updated Nov 20, 2023\n"
        "Reps at Pemberton now follow up every intent alert within one working day."
    )
    cited = citing(text, "Reps at Pemberton now follow up every intent alert within one working day.")
    assert not speaks_of_another_year("How fast did Pemberton's reps follow up on alerts in 2024?", [cited])
    assert speaks_of_another_year(
        "How fast did reps follow up in 2024?",
        [citing("Im Jahr 2022 kam das SLA. Reps follow up fast.", "Reps follow up fast.")],
    )


def test_one_cited_sentence_about_the_year_asked_about_is_enough() -> None:
    about_2024 = citing(FAIR_ARTICLE, "Bei 69 klappte der Anruf innerhalb von 24 Stunden.")
    about_2023 = citing(FAIR_ARTICLE, "Damals rief der Außendienst A-Kontakte binnen 48 Stunden an")
    question = "Wie schnell wurden A-Kontakte der LogiMAT 2023 angerufen?"
    assert speaks_of_another_year(question, [about_2024])
    assert not speaks_of_another_year(question, [about_2024, about_2023])


@given(
    before=st.text(max_size=200),
    after=st.text(max_size=200),
    year=st.integers(min_value=1900, max_value=2099),
)
def test_a_sentence_naming_the_asked_year_is_never_about_another(before: str, after: str, year: int) -> None:
    sentence = f"Im Jahr {year} waren es 23 Opportunities."
    text = f"{before} {sentence} {after}"
    start = len(before) + 1
    cited = Citation(1, passage(1, text), start, start + len(sentence), 0.9)
    assert not speaks_of_another_year(f"Wie viele Opportunities gab es {year}?", [cited])


@given(text=st.text(max_size=300), cut=st.tuples(st.integers(0, 300), st.integers(0, 300)))
def test_a_question_naming_no_year_is_never_about_another(text: str, cut: tuple[int, int]) -> None:
    start, end = sorted(min(n, len(text)) for n in cut)
    cited = Citation(1, passage(1, text), start, end, 0.9)
    assert not speaks_of_another_year("Wie viele Opportunities kamen aus den B-Kontakten?", [cited])


def test_the_assistant_declines_a_supported_sentence_about_another_year(tmp_path: Path) -> None:
    """The reply copies the article's sentence about the fair of 2024 (supported, cited); asked about
    2023, it answers another question. Asked about 2024, the same reply stands."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "brenner-logimat.md").write_text(f"# Brenner auf der LogiMAT\n\n{FAIR_ARTICLE}\n", encoding="utf-8")
    settings = indexed_settings(tmp_path / "data", articles)
    reply = "Aus den B-Kontakten entstanden zusätzlich 23 qualifizierte Opportunities [1]."

    assistant, _ = spy_assistant(settings, reply, reply)
    about_2023 = assistant.ask(
        "Wie viele Opportunities sind bei Brenner aus den B-Kontakten der LogiMAT 2023 entstanden?"
    )
    about_2024 = assistant.ask(
        "Wie viele Opportunities sind bei Brenner aus den B-Kontakten der LogiMAT 2024 entstanden?"
    )

    assert about_2023.abstained and about_2023.abstain_reason == "unanswered" and about_2023.citations == []
    assert not about_2024.abstained and "23 qualifizierte Opportunities" in about_2024.answer
    assert about_2024.citations
