"""Is an answer written in the other language than its question? Real answers of the default model."""

import pytest

from rag.language import in_other_language


@pytest.mark.parametrize(
    ("answer", "lang"),
    [
        ("The weekly Marketing and Sales Review takes place every Monday at 9:30, 30 minutes [1].", "de"),
        ("Pemberton has built eleven nurture tracks, each with 6–8 emails over roughly three months [1].", "de"),
        (
            "Moritz Anders ist der Verantwortliche für die Verkaufstechnologie bei Lindner Cloud Services [1]. "
            "Er ist organisatorisch zwischen Marketing und Vertrieb angesiedelt.",
            "en",
        ),
    ],
)
def test_an_answer_in_the_other_language_is_found(answer: str, lang: str) -> None:
    assert in_other_language(answer, lang)


@pytest.mark.parametrize(
    ("answer", "lang"),
    [
        # Too short to tell: figures, a unit, a name.
        ("18% [1]", "de"),
        ("25 Punkte [1]", "en"),
        ("Moritz Anders [1]", "de"),
        # German full of English terms is German.
        ("Das Marketing bekommt vom Vertrieb wertvolle Customer Insights über Leads und Accounts [1].", "de"),
        ("Das Smarketing-Weekly mit Sales und Marketing dauert 20 Minuten, jeden Montag um 9 Uhr [1].", "de"),
        ("The Vertriebsinnendienst owns the CRM fields for contact persons and call notes [1].", "en"),
    ],
)
def test_short_answers_and_loanwords_are_not_taken_for_the_other_language(answer: str, lang: str) -> None:
    assert not in_other_language(answer, lang)
