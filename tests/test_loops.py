"""The loop cutter on streamed text: property tests over any text and any way of cutting it into
pieces, and the loops small models really write."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.loops import LOOP_WORDS, without_loops
from rag.repetition import repeated_run


def has_repeated_run(text: str) -> bool:
    return repeated_run(text, LOOP_WORDS) is not None


def streamed(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


def test_the_loops_small_models_write_are_cut_at_the_last_sentence_before_them() -> None:
    answer = (
        "Beide Abteilungen sollten eng zusammenarbeiten [1]. Es ist auch wichtig, dass beide Abteilungen ihre Macht "
        "nutzen und ihre Macht nutzen und ihre Macht nutzen und ihre Macht nutzen und ihre Macht nutzen."
    )
    assert "".join(without_loops(streamed(answer, [7, 30, 31, 90]))) == (
        "Beide Abteilungen sollten eng zusammenarbeiten [1]. "
    )
    looping = "In der klassischen Unternehmen typischerweise sitzen Marketing und Vertrieb im " * 4
    shown = "".join(without_loops([looping]))
    assert not has_repeated_run(shown) and looping.startswith(shown)


def test_a_long_answer_without_repetition_is_passed_through_whole() -> None:
    answer = (
        "Homburg nennt fünf Faktoren: Informationsaustausch, strukturelle Bindungen, Macht, Ausrichtung, Wissen [1]. "
        "Marketing und Vertrieb sollten zusammenarbeiten, und Marketing und Vertrieb sollten gemeinsam planen [2]."
    )
    assert "".join(without_loops(streamed(answer, [3, 50, 51, 52, 140]))) == answer


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["Marketing", "und", "Vertrieb", "lernt", "[1]", ".", " ", "\n", "Macht", "nutzen"])),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_what_is_shown_is_a_prefix_without_a_repeated_run(pieces: list[str], cuts: list[int]) -> None:
    text = " ".join(pieces)
    shown = "".join(without_loops(streamed(text, cuts)))
    assert text.startswith(shown)
    assert not has_repeated_run(shown)
    if not has_repeated_run(text):
        assert shown == text


@settings(max_examples=100, deadline=None)
@given(st.text(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
def test_any_text_streams_without_error(text: str, cuts: list[int]) -> None:
    shown = "".join(without_loops(streamed(text, cuts)))
    assert text.startswith(shown)
