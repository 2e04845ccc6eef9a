"""`repeated_run`: the loop detector that the evaluation counts and the answer check cuts with."""

import re

from hypothesis import given
from hypothesis import strategies as st

from rag.repetition import repeated_run

# Lower-case words with umlauts and digits, as answers have them; st.text would mostly give one-letter "words".
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß0123456789", min_size=1, max_size=9)
NOISE = st.sampled_from([" ", ", ", ". ", " [1] ", "! ", " – ", ": ", "\n", " [12]. ", " (", ") "])


def written(words: list[str], noise: list[str]) -> str:
    """Words joined by punctuation, citation markers and line breaks, some capitalised, like an answer."""
    parts = []
    for i, word in enumerate(words):
        parts.append(word.capitalize() if i % 3 == 0 else word)
        parts.append(noise[i % len(noise)] if noise else " ")
    return "".join(parts)


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", re.sub(r"\[\d+\]", " ", text).casefold())


def occurrences(run: list[str], tokens: list[str]) -> int:
    return sum(tokens[i : i + len(run)] == run for i in range(len(tokens) - len(run) + 1))


@given(st.lists(st.integers(0, 10_000), unique=True, max_size=60), st.lists(NOISE, max_size=5))
def test_distinct_words_never_repeat(numbers: list[int], noise: list[str]) -> None:
    assert repeated_run(written([f"wort{n}" for n in numbers], noise)) is None


@given(
    st.lists(WORDS, max_size=20),
    st.lists(WORDS, min_size=8, max_size=14),
    st.lists(WORDS, max_size=20),
    st.lists(WORDS, max_size=20),
    st.lists(NOISE, max_size=5),
)
def test_a_run_said_twice_is_found_whatever_surrounds_it(
    before: list[str], run: list[str], between: list[str], after: list[str], noise: list[str]
) -> None:
    text = written(before + run + between + run + after, noise)
    found = repeated_run(text)
    assert found is not None
    found_words = found.split()
    assert len(found_words) >= len(run), "the longest repeated run is returned"
    assert occurrences(found_words, words_of(text)) >= 2


@given(st.lists(WORDS, max_size=40), st.lists(NOISE, max_size=5), st.integers(2, 10))
def test_whatever_is_returned_occurs_twice_and_is_long_enough(words: list[str], noise: list[str], length: int) -> None:
    text = written(words, noise)
    found = repeated_run(text, words=length)
    tokens = words_of(text)
    repeats = any(occurrences(tokens[i : i + length], tokens) >= 2 for i in range(len(tokens) - length + 1))
    assert (found is not None) == repeats
    if found is not None:
        assert len(found.split()) >= length and occurrences(found.split(), tokens) >= 2


def test_the_loops_reported_in_the_issue() -> None:
    loop = (
        "Es ist wichtig, dass beide Abteilungen ihre Fähigkeiten nutzen und ihre Fähigkeiten nutzen [1]. "
        "Es ist auch wichtig, dass beide Abteilungen ihre Fähigkeiten nutzen und ihre Fähigkeiten nutzen [2]."
    )
    assert repeated_run(loop) == "wichtig dass beide abteilungen ihre fähigkeiten nutzen und ihre fähigkeiten nutzen"
    cut_off = (
        "In der klassischen Unternehmen typischerweise sitzen Marketing und Vertrieb im klassischen "
        "Unternehmen typischerweise sitzen Marketing und Vertrieb im klassischen Unternehmen typischerweise"
    )
    assert repeated_run(cut_off) is not None


def test_a_shared_phrase_shorter_than_the_run_is_not_a_loop() -> None:
    answer = (
        "Marketing und Vertrieb sollten eng zusammenarbeiten [1]. Der Vertrieb kennt die Kunden; "
        "Marketing und Vertrieb sollten eng zusammenarbeiten, sagt die Studie [2]."
    )
    assert repeated_run(answer) is None and repeated_run(answer, words=7) is None
    assert repeated_run(answer, words=6) == "marketing und vertrieb sollten eng zusammenarbeiten"
