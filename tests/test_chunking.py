"""Sentence splitting and chunking of German prose."""

import itertools
from pathlib import Path

import pytest

from ingest.chunking import chunk_document, embedding_text
from ingest.documents import parse_document
from rag.sentences import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Empfohlen werden z.B. gemeinsame Trainings.",
        "Das betrifft u.a. den Vertrieb.",
        "Marketing bzw. Vertrieb sind gemeint.",
        "Prof. Christian Homburg hat das untersucht.",
        "Der Beitrag steht auf S. 43-60 im Sammelband.",
        "Die Quote stieg auf 2.5 Prozent.",
        "Das steht in Heft Nr. 3 der Reihe.",
        "Am 3. Mai 2024 erschien Teil 2.",
        "Im 20. Jahrhundert begann das.",
        "Homburg, C. & Jensen, O. haben es gezeigt.",
    ],
)
def test_abbreviations_and_numbers_do_not_end_a_sentence(sentence: str) -> None:
    text = f"Ein erster Satz steht hier. {sentence} Danach folgt ein neuer Satz."
    assert sentences(text) == ["Ein erster Satz steht hier.", sentence, "Danach folgt ein neuer Satz."]


def test_an_abbreviation_closing_a_list_ends_the_sentence_before_a_capital() -> None:
    text = "Sie sprechen über Preise, Rabatte usw. Danach wird verhandelt, etc. und erst dann entschieden."
    assert sentences(text) == [
        "Sie sprechen über Preise, Rabatte usw.",
        "Danach wird verhandelt, etc. und erst dann entschieden.",
    ]


def test_sentence_ends_are_found_after_punctuation_quotes_and_paragraphs() -> None:
    text = (
        "Ist das so? „Ja, so ist es.“ Gut!\n\nNeuer Absatz ohne Punkt\n- Punkt eins\n- Punkt zwei\n1. Macht\n2. Wissen"
    )
    assert sentences(text) == [
        "Ist das so?",
        "„Ja, so ist es.“",
        "Gut!",
        "Neuer Absatz ohne Punkt",
        "- Punkt eins",
        "- Punkt zwei",
        "1. Macht",
        "2. Wissen",
    ]


def seed_document():
    path = Path(__file__).resolve().parent.parent / "corpus" / "blog" / "marketing-vertrieb-teil-1.md"
    return parse_document(path, path.read_bytes())


def test_chunks_respect_size_sentences_offsets_and_headings() -> None:
    document = seed_document()
    chunks = chunk_document(document, size=600, overlap=100)  # larger than the longest sentence
    assert len(chunks) > 8
    sentence_starts = {start for start, _ in sentence_spans(document.text)}
    for number, chunk in enumerate(chunks):
        assert chunk.number == number
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert chunk.start in sentence_starts, "a chunk starts mid-sentence"
        assert len(chunk.text) <= 600
    factor_chunks = [c for c in chunks if "fünf große Themenbereiche" in c.text]
    assert factor_chunks and factor_chunks[0].heading == (
        "Durch diese Faktoren wird die Schnittstelle von Marketing und Vertrieb beeinflusst"
    )
    assert chunks[0].heading is None  # the introduction comes before the first heading
    for chunk in chunks:
        if chunk.text.startswith("## "):
            assert chunk.text.splitlines()[0] == f"## {chunk.heading}", "a chunk opening a section has its heading"


def test_overlap_repeats_trailing_sentences_within_a_section() -> None:
    text = " ".join(f"Satz Nummer {n} handelt von Marketing und Vertrieb." for n in range(1, 30))
    document = seed_document()
    document.text, document.sections = text, [type(document.sections[0])(0, len(text), "Abschnitt")]
    chunks = chunk_document(document, size=300, overlap=120)
    assert len(chunks) > 3
    for previous, following in itertools.pairwise(chunks):
        assert following.start < previous.end, "no overlap between neighbouring chunks"
        assert previous.end - following.start <= 120
    without = chunk_document(document, size=300, overlap=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(without))


def test_a_sentence_longer_than_the_chunk_size_is_cut_at_white_space() -> None:
    document = seed_document()
    text = "Wort " * 400 + "Ende."
    document.text, document.sections = text, [type(document.sections[0])(0, len(text))]
    chunks = chunk_document(document, size=300, overlap=0)
    assert all(len(c.text) <= 300 for c in chunks)
    assert "".join(c.text + " " for c in chunks).split() == text.split()


@pytest.mark.parametrize(
    ("text", "piece_start"),
    [
        ("\n".join(f"Zeile{n}" for n in range(200)), "Zeile"),  # PDF text: lines, no spaces, no sentence end
        ("e\u0301" * 400, "e"),  # "é" as e + combining acute, and no white space at all
    ],
)
def test_a_long_sentence_is_cut_at_line_breaks_and_never_between_a_letter_and_its_accent(
    text: str, piece_start: str
) -> None:
    document = seed_document()
    document.text, document.sections = text, [type(document.sections[0])(0, len(text))]
    chunks = chunk_document(document, size=301, overlap=0)
    assert len(chunks) > 1 and "\n".join(c.text for c in chunks).replace("\n", "") == text.replace("\n", "")
    assert all(c.text.startswith(piece_start) for c in chunks)


def test_embedding_text_carries_title_and_heading() -> None:
    chunk = chunk_document(seed_document(), 800, 200)[2]
    text = embedding_text("Titel", chunk)
    assert text.startswith(f"Titel — {chunk.heading}\n\n")
    assert text.endswith(chunk.text)
