"""A refusal the model adds after its answer, on crafted model outputs."""

from pathlib import Path

import pytest
from helpers import KESSLER_QUESTION_DE, kessler_index, spy_assistant
from hypothesis import assume, given
from hypothesis import strategies as st

from rag.prompts import not_covered
from rag.refusal import declines, without_appended_refusal

ORBIS = "Yes, Orbis Verpackungen AG reached its joint revenue target for 2023 [1]."


@pytest.mark.parametrize(
    ("answer", "lang", "kept"),
    [
        (f"{ORBIS} The sources contain no information on this.", "en", ORBIS),
        (f"{ORBIS} The sources contain no information on this [2].", "en", ORBIS),
        (f"{ORBIS}\n\nDazu enthalten die Quellen keine Information.", "en", ORBIS),
        (
            "Die Lead-Runde findet am ersten Dienstag statt [1]. Dazu enthalten die Quellen keine Information. "
            "Sie dauert 45 Minuten [1].",
            "de",
            "Die Lead-Runde findet am ersten Dienstag statt [1]. Sie dauert 45 Minuten [1].",
        ),
        (
            "1. Informationsaustausch [1]\n2. Macht [1]\n\nThe sources contain no information on this.",
            "de",
            "1. Informationsaustausch [1]\n2. Macht [1]",
        ),
    ],
)
def test_the_prescribed_refusal_after_an_answer_is_dropped(answer: str, lang: str, kept: str) -> None:
    assert without_appended_refusal(answer, lang) == kept


@pytest.mark.parametrize(
    ("answer", "lang"),
    [
        ("Dazu enthalten die Quellen keine Information.", "de"),
        ("The sources contain no information on this. Orbis reached its target [1].", "en"),
        # A limit in the model's own words qualifies the answer; it is not the prescribed refusal.
        ("Die Gewinnquote stieg auf 23 % [1]. Eine Zahl für 2024 nennen die Quellen nicht.", "de"),
        ("Orbis reached its target [1]. The sources contain no information on this study's design, though.", "en"),
    ],
)
def test_a_refusal_that_opens_the_answer_or_is_not_the_prescribed_one_stays(answer: str, lang: str) -> None:
    assert without_appended_refusal(answer, lang) == answer


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=3, max_size=10)
sentences = st.lists(words, min_size=2, max_size=8).map(lambda w: " ".join(w).capitalize() + ".")


@given(st.lists(sentences, min_size=1, max_size=5), st.sampled_from(["de", "en"]), st.sampled_from(["de", "en"]))
def test_any_answer_followed_by_the_refusal_is_kept_whole(said: list[str], lang: str, refusal_lang: str) -> None:
    answer = " ".join(said)
    assume(not declines(answer, lang))  # an answer that itself opens with a refusal is another case
    assert without_appended_refusal(f"{answer} {not_covered(refusal_lang)}", lang) == answer


def test_the_assistant_judges_and_shows_the_answer_without_the_refusal_after_it(tmp_path: Path) -> None:
    answer_then_refusal = "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 24 Stunden [1]. " + not_covered("de")
    assistant, _ = spy_assistant(kessler_index(tmp_path), answer_then_refusal)
    answer = assistant.ask(KESSLER_QUESTION_DE)
    assert not answer.abstained
    assert answer.answer == "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 24 Stunden [1]."
    assert [citation.n for citation in answer.citations] == [1]
