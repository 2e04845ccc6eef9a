"""Passages are shown without raw Markdown heading marks: the heading becomes the section line."""

import re

from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from rag.conversation import readable_passage

# A chunk as ingest cuts it from a Markdown article: it runs across headings and may open with one.
CHUNK = (
    "## Das können Vertrieb und Marketing voneinander lernen \n\n"
    "Laut Baumgarth/Binckebanck (2011) kann das Marketing von der Zahlenorientierung im Vertrieb lernen – "
    "zu einer besseren Messbarkeit des Markterfolgs.\n\n"
    "### Quellen ###\n\n"
    "Homburg, C., Jensen, O. (2007): The thought worlds of marketing and sales. Andreas #derNabicht schreibt."
)
SUPPORTING = "kann das Marketing von der Zahlenorientierung im Vertrieb lernen"
HEADING_MARKS = re.compile(r"^[ \t]*#{1,6}[ \t]", re.MULTILINE)


def test_a_heading_the_passage_opens_with_becomes_its_section_and_the_support_still_fits() -> None:
    start = CHUNK.index(SUPPORTING)
    shown = readable_passage(
        CHUNK, "Das können Vertrieb und Marketing voneinander lernen", start, start + len(SUPPORTING)
    )
    assert shown.section == "Das können Vertrieb und Marketing voneinander lernen"
    assert shown.text.startswith("Laut Baumgarth/Binckebanck (2011)")
    assert shown.text[shown.support_start : shown.support_end] == SUPPORTING
    assert "\nQuellen\n" in shown.text and "#" not in shown.text.replace("#derNabicht", "")


def test_the_section_is_the_heading_the_supporting_sentence_stands_under() -> None:
    start = CHUNK.index("Homburg, C.")
    shown = readable_passage(CHUNK, "Das können Vertrieb und Marketing voneinander lernen", start, start + 11)
    assert shown.section == "Quellen" and shown.text[shown.support_start : shown.support_end] == "Homburg, C."
    assert readable_passage(CHUNK, None).section == "Das können Vertrieb und Marketing voneinander lernen"


def test_without_a_heading_line_the_chunk_heading_is_the_section_and_the_text_is_unchanged() -> None:
    text = "Mitten im Abschnitt: Job-Rotation fördert das Verständnis. #1 der Maßnahmen."
    shown = readable_passage(text, "Maßnahmen", 21, 57)
    assert (shown.section, shown.text, shown.support_start, shown.support_end) == ("Maßnahmen", text, 21, 57)


SENTENCES = st.text(alphabet="abcdefgh äöüß.,#-–()", min_size=1, max_size=30).map(str.strip).filter(bool)
HEADINGS = st.tuples(
    st.integers(1, 6), SENTENCES.filter(lambda s: not s.startswith("#")), st.sampled_from(["", " ", " ##", "\t"])
)


@given(
    st.lists(st.one_of(SENTENCES.map(lambda s: ("body", s)), HEADINGS.map(lambda h: ("heading", h))), max_size=8),
    st.sampled_from(["\n", "\n\n", "\n \n"]),
    st.data(),
)
def test_no_heading_marks_remain_and_every_body_line_keeps_its_place(parts, gap, data) -> None:
    lines = [f"{'#' * h[0]} {h[1]}{h[2]}" if kind == "heading" else f"Satz {h}." for kind, h in parts]
    text = gap.join(lines)
    body = [i for i, (kind, _) in enumerate(parts) if kind == "body"]
    shown_whole = readable_passage(text, None)
    assert not HEADING_MARKS.search(shown_whole.text)
    if body:
        i = data.draw(st.sampled_from(body))
        start = len(gap.join(lines[:i])) + (len(gap) if i else 0)
        end = start + len(lines[i])
        shown = readable_passage(text, None, start, end)
        assert shown.text[shown.support_start : shown.support_end] == lines[i]


def test_the_source_card_shows_the_section_and_highlights_the_right_sentence() -> None:
    def card(chunk: str, start: int, end: int) -> None:
        from ui.render import source_card

        passage = {"text": chunk, "title": "Marketing und Vertrieb", "source": "corpus/blog/teil-1.md", "heading": None}
        source_card(1, passage, "de", {"start": start, "end": end, "score": 0.9})

    start = CHUNK.index(SUPPORTING)
    page = AppTest.from_function(card, args=(CHUNK, start, start + len(SUPPORTING)))
    page.run()
    assert not page.exception, page.exception
    captions = [element.value for element in page.caption]
    assert "Abschnitt\\: Das können Vertrieb und Marketing voneinander lernen" in captions
    text = page.markdown[0].value
    assert "\\#\\#" not in text and "\\#\\#\\#" not in text
    highlighted = re.search(r":orange-background\[(.*?)\]", text, re.DOTALL)
    assert highlighted and highlighted.group(1).replace("\\", "") == SUPPORTING
