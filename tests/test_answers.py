"""Retrieval and answering on a real index of the shipped corpus (extractive generator: no model)."""

import re
import shutil
from pathlib import Path

import pytest
from helpers import (
    KESSLER_QUESTION_DE,
    KESSLER_QUESTION_EN,
    SDR_HISTORY,
    SDR_SURVEY,
    SpyGenerator,
    conversation,
    indexed_settings,
    run_ingest,
    spy_assistant,
    write_kessler_article,
)
from hypothesis import given
from hypothesis import strategies as st

from rag.assistant import Answer, Done, Event, QuestionError, Revising, Token
from rag.components import open_assistant, open_retriever
from rag.lexical import tokenize
from rag.prompts import is_not_covered, not_covered, without_declined
from rag.registry import content_key, lexical_path
from rag.retrieval import Query
from rag.settings import PROJECT_ROOT, Settings
from rag.store import open_store

FIVE_FACTORS = "Welche fünf Faktoren beeinflussen die Zusammenarbeit von Marketing und Vertrieb?"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return indexed_settings(tmp_path_factory.mktemp("shipped"), generator="extractive")


def test_hybrid_search_ranks_the_passage_that_answers_first(shipped: Settings) -> None:
    passages = open_retriever(shipped).search([Query(FIVE_FACTORS)], 5)
    assert "fünf große Themenbereiche" in passages[0].text
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    top = passages[0].to_json()
    assert top["title"].startswith("Marketing und Vertrieb") and top["source"].endswith("marketing-vertrieb-teil-1.md")
    assert top["chunk_id"] and top["dense_score"] > 0 and top["lexical_score"] > 0


def test_an_english_question_finds_the_german_article(shipped: Settings) -> None:
    passages = open_retriever(shipped).search(
        [Query("Which five factors shape how marketing and sales work together?")], 5
    )
    assert any("fünf große Themenbereiche" in p.text for p in passages)


def test_reciprocal_rank_fusion_is_available(shipped: Settings) -> None:
    retriever = open_retriever(shipped.model_copy(update={"fusion": "rrf"}))
    passages = retriever.search([Query(FIVE_FACTORS)], 3)
    assert "fünf große Themenbereiche" in passages[0].text
    assert passages[0].score == pytest.approx(2 / 61), "first in both lists: 1/(60+1) twice"


def test_chunks_of_a_version_the_registry_does_not_list_are_never_returned(tmp_path: Path) -> None:
    settings = indexed_settings(tmp_path / "data")
    retriever = open_retriever(settings)
    real = retriever.search([Query(FIVE_FACTORS)], 1)[0]
    # What a run killed between upsert and registry update leaves behind: a chunk of an unlisted version.
    leftover = {**real.metadata, "content_hash": "0" * 64}
    store = open_store(settings, retriever.embedder.name, retriever.embedder.dim)
    store.upsert(["leftover"], retriever.embedder.embed([real.text]), [real.text], [leftover])
    assert "leftover" not in [p.chunk_id for p in retriever.search([Query(FIVE_FACTORS)], 10)]


def corpus_from_two_checkouts(folder: Path) -> Settings:
    """The shipped corpus ingested from two copies of it. Document ids are absolute paths: a moved
    project or a second checkout adds every file again."""
    settings = Settings(data_dir=folder / "data", index_dir=folder / "data" / "index")
    for checkout in ("old-checkout", "new-checkout"):
        shutil.copytree(PROJECT_ROOT / "corpus", folder / checkout / "corpus")
        report, _ = run_ingest(settings, [folder / checkout / "corpus"])
        assert report.failed == 0
    return settings


def test_the_same_file_ingested_from_two_checkouts_is_one_passage(tmp_path: Path) -> None:
    passages = open_retriever(corpus_from_two_checkouts(tmp_path)).search([Query(FIVE_FACTORS)], 5)
    assert len(passages) == 5
    assert len({(p.metadata["content_hash"], p.text) for p in passages}) == 5, [p.chunk_id for p in passages]


def test_a_second_checkout_of_the_corpus_changes_no_ranking(shipped: Settings, tmp_path: Path) -> None:
    """Its byte-identical chunks count once in the word statistics too, so scores stay those of one copy."""
    twice, once = open_retriever(corpus_from_two_checkouts(tmp_path)), open_retriever(shipped)
    for question in (FIVE_FACTORS, "What can marketing learn from sales?", "Homburg Jensen 2007 Gedankenwelten"):
        ranked = [
            [(content_key(p.chunk_id), round(p.score, 6)) for p in r.search([Query(question)], 5)]
            for r in (twice, once)
        ]
        assert ranked[0] == ranked[1], question
    for word in tokenize("Marketing Vertrieb Homburg Gedankenwelten"):
        assert twice.document_frequency(word) == once.document_frequency(word), word


def test_the_lexical_index_is_saved_and_follows_new_documents(tmp_path: Path) -> None:
    settings = indexed_settings(tmp_path / "data")
    retriever = open_retriever(settings)
    retriever.search([Query(FIVE_FACTORS)], 3)
    assert (lexical_path(settings.index_dir) / "chunks.json").exists()
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "zebra.md").write_text("# Zebrastreifen\n\nDas Quokka-Protokoll regelt die Übergabe.\n", encoding="utf-8")
    run_ingest(settings, [extra])
    assert retriever.search([Query("Quokka-Protokoll")], 1)[0].metadata["source"].endswith("zebra.md")


def test_extractive_answer_quotes_and_cites_the_passages(shipped: Settings) -> None:
    answer = open_assistant(shipped).ask(FIVE_FACTORS)
    assert not answer.abstained
    assert "Informationsaustausch" in answer.answer and "[1]" in answer.answer
    retrieved = {p.chunk_id for p in answer.retrieved}
    for citation in answer.citations:
        assert citation.passage.chunk_id in retrieved
        assert f"[{citation.n}]" in answer.answer
        supporting = citation.passage.text[citation.support_start : citation.support_end]
        assert supporting and supporting.rstrip(".!") in answer.answer, "an extractive answer quotes its support"
    assert answer.model == {"embedder": "use-multilingual", "generator": "extractive"}
    assert set(answer.timings_ms) == {"retrieve", "first_token", "total"}


def test_an_off_topic_question_is_declined_without_calling_the_model(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped)
    answer = assistant.ask("Wie backe ich einen Marmorkuchen mit Schokoladenglasur?")
    assert answer.abstained and answer.answer == not_covered("de") and answer.citations == []
    assert answer.abstain_reason == "no_passage"
    assert spy.calls == []


def test_the_model_saying_not_covered_marks_the_answer_abstained(shipped: Settings) -> None:
    assistant, _ = spy_assistant(shipped, "The sources contain no information on this.")
    answer = assistant.ask("What budget did the marketing department have in 2011?")
    assert answer.abstained and answer.lang == "en" and answer.answer == not_covered("en")
    assert answer.abstain_reason == "model"


def test_the_model_sees_numbered_passages_as_data_and_the_question(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped, "Informationsaustausch und Macht zählen dazu [1].")
    answer = assistant.ask(FIVE_FACTORS)
    system, user = spy.calls[0]
    assert system["role"] == "system" and "ausschließlich die nummerierten Quellen" in system["content"]
    assert user["content"].startswith('<quellen>\n<quelle nr="1"') and user["content"].endswith(FIVE_FACTORS)
    assert user["content"].count("<quelle nr=") == len(answer.retrieved)
    assert answer.citations and answer.answer.endswith("[1].")


def test_a_documents_passages_stand_together_and_carry_its_citation_fields_once(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped, "Macht [1].")
    answer = assistant.ask(FIVE_FACTORS)
    user = spy.calls[0][1]["content"]
    shown = [int(number) for number in re.findall(r'<quelle nr="(\d+)"', user)]
    documents = [answer.retrieved[number - 1].metadata["doc_id"] for number in shown]
    assert sorted(shown) == list(range(1, len(answer.retrieved) + 1))
    assert len(set(documents)) < len(documents), "the question should find two passages of one document"
    runs = [doc for i, doc in enumerate(documents) if i == 0 or doc != documents[i - 1]]
    assert len(runs) == len(set(runs)), f"a document's passages are split up: {documents}"
    assert user.count(" titel=") == user.count(" autor=") == len(set(documents))
    assert user.count('autor="Andreas (#derNabicht)"') == 1


HISTORY = conversation("Was kann das Marketing vom Vertrieb lernen?", "Zahlenorientierung und Customer Insights [1].")


def test_a_follow_up_is_searched_with_the_models_rewrite_and_as_asked(shipped: Settings) -> None:
    rewrite = "Was kann der Vertrieb vom Marketing lernen?"
    assistant, spy = spy_assistant(shipped, rewrite, "Beziehungsmanagement und Markenwissen [1].")
    answer = assistant.ask("Und was lernt der Vertrieb daraus?", history=HISTORY)
    assert answer.standalone_question == rewrite
    assert answer.search_queries == [rewrite, "Und was lernt der Vertrieb daraus?"], "two searches, fused"
    assert "Zahlenorientierung" in spy.calls[0][1]["content"], "the rewrite prompt carries the history"
    assert any("Beziehungsmanagement" in p.text for p in answer.retrieved)


def test_the_answering_model_sees_the_recent_turns_as_chat_messages(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped, "Was kann der Vertrieb vom Marketing lernen?", "Markenwissen [1].")
    assistant.ask("Und was lernt der Vertrieb daraus?", history=HISTORY)
    _system, *earlier, question = spy.calls[1]
    assert [m["role"] for m in earlier] == ["user", "assistant"]
    assert earlier[0]["content"] == HISTORY[0]["content"]
    assert earlier[1]["content"] == "Zahlenorientierung und Customer Insights.", "markers of old answers are dropped"
    assert question["role"] == "user" and "<quellen>" in question["content"]


DECLINED = conversation("Welches Budget hatte das Marketing 2011?", not_covered("de"))


def test_a_new_question_is_answered_without_the_exchanges_answered_not_covered(shipped: Settings) -> None:
    """After a "not covered" turn the small model declined the next question far more often (4 of 22
    answerable dialogue turns against 0 of 78); that exchange tells it nothing."""
    assistant, spy = spy_assistant(shipped, "Macht und Wissen [1].")
    assistant.ask(FIVE_FACTORS, history=HISTORY + DECLINED)
    _system, *earlier, _question = spy.calls[0]
    assert [m["content"] for m in earlier] == [HISTORY[0]["content"], "Zahlenorientierung und Customer Insights."]


def test_a_follow_up_to_a_declined_question_keeps_it_in_the_answering_models_history(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped, "Macht und Wissen [1].")
    assistant.ask("Und im Jahr danach?", history=HISTORY + DECLINED)
    answer_call = next(call for call in spy.calls if "<quellen>" in call[-1]["content"])
    _system, *earlier, _question = answer_call
    assert [m["content"] for m in earlier][-2:] == [DECLINED[0]["content"], not_covered("de")]


EXCHANGES = st.lists(
    st.tuples(st.text(min_size=1, max_size=30), st.one_of(st.text(max_size=30), st.sampled_from(["de", "en"]))),
    max_size=6,
)


@given(EXCHANGES)
def test_declined_exchanges_are_dropped_whole_and_the_others_kept_in_order(exchanges: list) -> None:
    """An answer given as a language code stands for that language's "not covered" answer."""
    history = conversation(*(text for q, a in exchanges for text in (q, not_covered(a) if a in ("de", "en") else a)))
    kept = [text for q, a in exchanges if a not in ("de", "en") and not is_not_covered(a) for text in (q, a)]
    assert without_declined(history) == conversation(*kept)


def test_a_self_contained_new_question_is_searched_exactly_as_asked(shipped: Settings) -> None:
    switch = "What did Homburg and Jensen find in their 2007 study about marketing and sales?"
    assistant, spy = spy_assistant(shipped, "They found that identical thought worlds should not be the goal [1].")
    answer = assistant.ask(switch, history=HISTORY)
    assert answer.standalone_question == switch and answer.search_queries == [switch]
    assert len(spy.calls) == 1, "no rewrite was asked for"


def test_without_a_usable_rewrite_the_follow_up_and_the_question_before_are_searched_apart(shipped: Settings) -> None:
    assistant, _ = spy_assistant(shipped, "Beziehungsmanagement und Markenwissen [1].", "Markenwissen [1].")
    answer = assistant.ask("Und was lernt der Vertrieb daraus?", history=HISTORY)
    assert answer.standalone_question == "Und was lernt der Vertrieb daraus?", "nothing glued together"
    assert answer.search_queries == ["Und was lernt der Vertrieb daraus?", HISTORY[0]["content"]]


def test_a_follow_up_naming_nothing_of_its_own_is_also_searched_with_the_answer_before(tmp_path: Path) -> None:
    """ "Und umgekehrt?" after "Und was lernt der Vertrieb daraus?": neither names the fields the
    previous answer gave (in its own words), and articles on lessons for sales rank high for both."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "felder.md").write_text(
        "---\ntitle: Voneinander lernen\n---\nSo kann in Sachen Beziehungsmanagement (1) und Markenwissen (2) "
        "der Verkauf einiges vom Marketing lernen, das Marketing dagegen von der Zahlenorientierung im "
        "Vertrieb (3) und den Customer Insights (4).\n",
        encoding="utf-8",
    )
    topics = ["verlorenen Deals", "Messen", "Webinaren", "Preisverhandlungen", "Kundenbeschwerden", "Ausschreibungen"]
    for number, topic in enumerate([*topics, "Marketingkampagnen", "Markenrelaunches", "Kundenbefragungen"], 1):
        (corpus / f"lessons-{number}.md").write_text(
            f"---\ntitle: Lessons learned aus {topic}\n---\nWas der Vertrieb aus {topic} lernen kann?? "
            "Früher nachfassen, Einwände sauber im CRM dokumentieren und das Marketing rechtzeitig einbinden, "
            "sagen die befragten Vertriebsleiter.\n",
            encoding="utf-8",
        )
    settings = indexed_settings(tmp_path, corpus, generator="extractive")
    answered = "Beziehungsmanagement und Markenwissen, sagen die Autoren, kann sich der Außendienst dort abschauen"
    history = conversation("Und was lernt der Vertrieb daraus?", f"{answered} [1].")
    assistant, _ = spy_assistant(settings, "Und umgekehrt?", "Zahlenorientierung [1].")
    answer = assistant.ask("Und umgekehrt?", history=history)
    assert answer.search_queries == ["Und umgekehrt?", history[0]["content"], f"{answered}."]
    assert "Customer Insights" in answer.retrieved[0].text, [p.metadata.get("title") for p in answer.retrieved]


def test_an_elliptic_follow_up_the_model_cannot_rewrite_is_completed_from_the_question_before(
    shipped: Settings,
) -> None:
    """The small model's rewrite of "Und bei …?" often just repeats the earlier question."""
    assistant, spy = spy_assistant(shipped, HISTORY[0]["content"], "Markenwissen [1].")
    answer = assistant.ask("Und im Beziehungsmanagement?", history=HISTORY)
    whole = "Was kann das Marketing vom Vertrieb lernen im Beziehungsmanagement?"
    assert answer.standalone_question == whole
    assert answer.search_queries == ["Und im Beziehungsmanagement?", whole], "the new condition weighs most"
    assert spy.calls[1][-1]["content"].endswith(whole), "the answering model is asked the whole question"


PAGES = conversation(
    "Auf welchen Seiten steht der Beitrag von Baumgarth und Binckebanck?", "Verkaufen nach der Krise, S. 43-60 [1]."
)


def test_a_follow_up_answered_with_only_the_previous_answers_figures_is_declined(shipped: Settings) -> None:
    rewrite = "Auf welchen Seiten steht der Beitrag von Homburg und Jensen?"
    assistant, _ = spy_assistant(shipped, rewrite, "Verkaufen nach der Krise, S. 43-60 [1].")
    answer = assistant.ask("Und der Beitrag von Homburg und Jensen?", history=PAGES)
    assert answer.abstained and answer.abstain_reason == "repeated" and answer.answer == not_covered("de")


def test_a_follow_up_answered_with_the_previous_figure_gets_the_sentence_that_answers_it(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "sdr.md").write_text(f"# Wo sitzt das SDR-Team?\n\n{SDR_SURVEY}\n", encoding="utf-8")
    settings = indexed_settings(tmp_path / "data", tmp_path / "articles")
    rewrite = "An wen berichten SDR-Teams laut der Umfrage bei Unternehmen mit mehr als 200 Mitarbeitenden meistens?"
    assistant, _ = spy_assistant(settings, rewrite, "72 % der SDR-Teams berichten an den Vertrieb [1].")
    answer = assistant.ask("Und bei Unternehmen mit mehr als 200 Mitarbeitenden?", history=SDR_HISTORY)
    assert not answer.abstained, answer.abstain_reason
    assert answer.answer.startswith("Bei Unternehmen mit mehr als 200 Mitarbeitenden waren es sogar 81 %")
    assert answer.answer.endswith("(54 % zu 46 %) [1].")
    assert answer.citations[0].passage.metadata["source"].endswith("sdr.md")


def test_a_new_question_may_give_the_figures_of_the_answer_before(shipped: Settings) -> None:
    assistant, _ = spy_assistant(shipped, "Verkaufen nach der Krise, S. 43-60 [1].")
    answer = assistant.ask("Auf welchen Seiten steht der Beitrag von Baumgarth und Binckebanck 2011?", history=PAGES)
    assert not answer.abstained and "43-60" in answer.answer


def test_an_answer_written_in_the_other_language_is_translated_into_the_questions(shipped: Settings) -> None:
    english = "The study recommends joint training and job rotation for employees of both departments [1]."
    german = "Die Studie empfiehlt gemeinsame Schulungen und Job-Rotation für Mitarbeitende beider Abteilungen [1]."
    assistant, spy = spy_assistant(shipped, english, german)
    *events, done = assistant.stream("Was empfehlen Homburg und Jensen für das gegenseitige Verständnis?")
    assert streamed(events) == english and events[-1] == Revising("translating", "de")
    answer = done.answer
    assert answer.answer.startswith("Die Studie empfiehlt gemeinsame Schulungen") and answer.citations
    assert spy.calls[1][-1]["content"] == english and "German" in spy.calls[1][0]["content"]


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "question: must not be empty"), ("Warum? " * 300, r"question: 2099 characters, over the limit of 1000")],
)
def test_bad_questions_are_refused_with_the_field_named(shipped: Settings, question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        open_assistant(shipped).ask(question)


def test_passages_sent_to_the_model_fit_the_context_budget(shipped: Settings) -> None:
    assistant, spy = spy_assistant(shipped.model_copy(update={"context_chars": 2500}), "Macht [1].")
    answer = assistant.ask(FIVE_FACTORS)
    sent = spy.calls[0][1]["content"]
    passages_text = sent.split("</quellen>")[0]
    budget_per_passage = 2500 // len(answer.retrieved)
    for block in passages_text.split("<quelle nr=")[1:]:
        body = block.split(">", 1)[1].rsplit("</quelle", 1)[0].strip()
        assert len(body) <= budget_per_passage
    assert "fünf große Themenbereiche" in passages_text, "the part that answers survives the trimming"


@pytest.fixture(scope="module")
def two_companies(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("companies")
    write_kessler_article(folder)
    (folder / "solvanta.md").write_text(
        "# Lead-Scoring bei Solvanta\n\nSolvanta bewertet jeden Kontakt mit Punkten. Ab 65 Punkten gilt ein Kontakt "
        "als MQL und geht an den Vertrieb.\n",
        encoding="utf-8",
    )
    return indexed_settings(tmp_path_factory.mktemp("companies-data"), folder)


def test_the_model_sees_only_passages_of_documents_naming_the_company_asked_about(two_companies: Settings) -> None:
    assistant, spy = spy_assistant(two_companies, "Der Vertrieb kontaktiert jeden Lead binnen 24 Stunden [1].")
    answer = assistant.ask("Welche Frist für den Erstkontakt mit Leads gilt bei Solvanta?")
    (_, user) = spy.calls[0]
    assert "Solvanta" in user["content"] and "Kessler" not in user["content"]
    assert {p.metadata["title"] for p in answer.retrieved} == {"Lead-Scoring bei Solvanta"}
    assert answer.abstained and answer.abstain_reason == "unsupported", "Kessler's 24 hours are not Solvanta's"

    assistant, spy = spy_assistant(two_companies, "Der Vertrieb kontaktiert jeden Lead binnen 24 Stunden [1].")
    answer = assistant.ask("Welche Frist für den Erstkontakt mit Leads gilt bei Kessler?")
    assert "Solvanta" not in spy.calls[0][1]["content"]
    assert not answer.abstained and "24 Stunden" in answer.answer


def test_a_follow_up_naming_no_company_keeps_to_the_company_asked_about_before(two_companies: Settings) -> None:
    """ "Und wie schnell meldet sich der Vertrieb dann?" after a question about Solvanta: Kessler's
    article, which says how fast its sales call, is no answer about Solvanta."""
    history = conversation(
        "Ab wie vielen Punkten gilt bei Solvanta ein Kontakt als MQL?",
        "Ab 65 Punkten [1].",
        "Und wer bekommt den dann?",
        "Der Vertrieb [1].",
    )
    follow_up = "Und wie schnell meldet sich der Vertrieb dann?"
    assistant, spy = spy_assistant(two_companies, follow_up, "Der Vertrieb meldet sich binnen 24 Stunden [1].")
    answer = assistant.ask(follow_up, history=history)
    assert answer.search_queries == [follow_up, "Und wer bekommt den dann?"], "no usable rewrite"
    assert {p.metadata["title"] for p in answer.retrieved} == {"Lead-Scoring bei Solvanta"}
    assert "Kessler" not in spy.calls[1][-1]["content"]
    assert answer.abstained, "Kessler's 24 hours are not Solvanta's"


def test_a_company_named_in_every_chunk_of_its_long_article_still_selects_that_article(tmp_path: Path) -> None:
    """Rarity counts documents: a long case study names its company in each of its chunks."""
    folder = tmp_path / "articles"
    folder.mkdir()
    sections = [
        "Wie Kessler Antriebstechnik den Lead-Prozess umgebaut hat",
        "Ausgangslage bei Kessler: 350 Leads, aber kaum Termine",
        "Das SLA zwischen Marketing und Vertrieb bei Kessler",
        "Was Kessler nach sechs Monaten gemessen hat",
    ]
    filler = (
        "Bei Kessler sagt man dazu ganz offen: Der Vertrieb hat die Leads aus dem Marketing lange links liegen "
        'lassen, weil sie "eh nix taugen" – so der O-Ton eines Außendienstlers im Workshop. Marketing wiederum '
        "hat Kampagnen gefahren, ohne zu wissen, was danach im CRM passiert (Stichwort Blackbox). "
    )
    body = "\n\n".join(f"## {title}\n\n{filler * 4}" for title in sections)
    sla = "\n\nLaut SLA ruft der Vertrieb bei Kessler jeden qualifizierten Lead binnen 24 Stunden an.\n"
    (folder / "kessler.md").write_text(f"# Lead-Prozess bei Kessler Antriebstechnik\n\n{body}{sla}", encoding="utf-8")
    (folder / "solvanta.md").write_text(
        "# Lead-Scoring bei Solvanta\n\nBei Solvanta ruft der Vertrieb jeden qualifizierten Lead binnen 12 Stunden "
        "an, das regelt ein SLA zwischen Marketing und Vertrieb.\n",
        encoding="utf-8",
    )
    settings = indexed_settings(tmp_path / "data", folder)
    assert open_retriever(settings).document_frequency("kessl") == 1
    assistant, spy = spy_assistant(settings, "Der Vertrieb ruft jeden Lead binnen 24 Stunden an [1].")
    answer = assistant.ask("Wie schnell ruft der Vertrieb bei Kessler einen qualifizierten Lead an?")
    assert "Solvanta" not in spy.calls[0][1]["content"]
    assert {p.metadata["title"] for p in answer.retrieved} == {"Lead-Prozess bei Kessler Antriebstechnik"}


def test_an_acronym_the_document_spells_out_still_names_its_subject(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "report.md").write_text(
        "# B2B-Schnittstellenreport 2022\n\nFür den Report wurden 412 Vertriebs- und Marketingleiter befragt. "
        "Nur 21 % der Unternehmen haben ein schriftliches Service Level Agreement für die Übergabe von Leads, "
        "ein gemeinsames CRM nutzen 68 %.\n",
        encoding="utf-8",
    )
    (folder / "kessler.md").write_text(
        "# Lead-SLA bei Kessler Antriebstechnik\n\nDas SLA regelt: Der Vertrieb ruft jeden Lead binnen 24 Stunden "
        "an.\n",
        encoding="utf-8",
    )
    settings = indexed_settings(tmp_path / "data", folder)
    assistant, spy = spy_assistant(settings, "Nur 21 % der Unternehmen haben ein schriftliches SLA [1].")
    answer = assistant.ask("Wie viele Unternehmen hatten laut Schnittstellenreport 2022 ein schriftliches SLA?")
    assert answer.abstain_reason != "off_subject" and spy.calls, "the report names the SLA as Service Level Agreement"
    assert "Schnittstellenreport 2022" in spy.calls[0][1]["content"] and not answer.abstained


# Articles on one theme that crowd the top places for a question about one survey, which says it in other words.
SLA_ARTICLES = {
    "albers.md": "# Lead-SLA bei Albers Hydraulik\n\nCookie-Hinweis: Wir verwenden Cookies. OK\n\nBei Albers gibt es "
    "seit 2023 ein schriftliches SLA für die Lead-Übergabe: Marketing übergibt nur Leads mit Budget, der Vertrieb "
    "meldet sich binnen 24 Stunden. Das schriftliche SLA für die Lead-Übergabe hat die Zahl der liegen gebliebenen "
    "Leads halbiert, sagt Vertriebsleiterin Petra Albers.\n",
    "wenzel.md": "# Wie Wenzel Medizintechnik die Lead-Übergabe regelt\n\nBlog > Vertrieb > Lead-Management\n\nWenzel "
    "hat 2021 ein schriftliches SLA für die Lead-Übergabe eingeführt, mit 48 Stunden Reaktionszeit. Unternehmen wie "
    "Wenzel, die ein schriftliches SLA für die Lead-Übergabe haben, verlieren weniger Leads.\n",
    "ostwald.md": "# Ostwald: Ein schriftliches SLA für die Lead-Übergabe in 30 Tagen\n\nNewsletter abonnieren!\n\n"
    "Viele Unternehmen fragen uns, wie man ein schriftliches SLA für die Lead-Übergabe aufsetzt. Bei Ostwald hat es "
    "2023 vier Workshops gebraucht, bis Marketing und Vertrieb das SLA für die Lead-Übergabe unterschrieben haben.\n",
    "report.md": "# Schnittstellenreport 2022\n\nFür den Report 2022 haben wir 412 B2B-Firmen befragt. Nur 21 % der "
    "befragten Firmen haben eine verbindliche, aufgeschriebene Vereinbarung darüber, wann ein Kontakt vom Marketing "
    "an den Vertrieb geht.\n",
}


def test_the_article_naming_what_is_asked_is_found_below_similar_articles_that_fill_the_top(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in SLA_ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = indexed_settings(tmp_path / "data", folder, top_k=2)
    question = "Wie viele Unternehmen hatten 2022 ein schriftliches SLA für die Lead-Übergabe?"
    top = open_retriever(settings).search([Query(question)], settings.top_k)
    assert "Schnittstellenreport 2022" not in {p.metadata["title"] for p in top}, "the report must rank below the top"

    assistant, spy = spy_assistant(
        settings, "Nur 21 % der befragten Firmen haben eine aufgeschriebene Vereinbarung [1]."
    )
    answer = assistant.ask(question)
    assert {p.metadata["title"] for p in answer.retrieved} == {"Schnittstellenreport 2022"}
    assert "Schnittstellenreport 2022" in spy.calls[0][1]["content"] and "Albers" not in spy.calls[0][1]["content"]
    assert not answer.abstained and "21 %" in answer.answer

    assistant, spy = spy_assistant(settings, "Nur 21 % der befragten Firmen [1].")
    answer = assistant.ask("Wie viele Unternehmen hatten 2019 ein schriftliches SLA für die Lead-Übergabe?")
    assert answer.abstain_reason == "off_subject" and spy.calls == [], "no article names 2019, however far down"


def test_a_figure_no_retrieved_document_names_is_declined_without_the_model(two_companies: Settings) -> None:
    assistant, spy = spy_assistant(two_companies, "Im Jahr 2019 waren es 350 Leads [1].")
    answer = assistant.ask("Wie viele Leads lieferte das Marketing bei Kessler im Jahr 2019?")
    assert answer.abstained and answer.abstain_reason == "off_subject" and answer.answer == not_covered("de")
    assert spy.calls == [] and answer.citations == []


def test_a_claim_with_a_figure_no_passage_contains_is_withdrawn(two_companies: Settings) -> None:
    question = "Welche Frist für den Erstkontakt mit Leads gilt bei Kessler?"
    assistant, _ = spy_assistant(
        two_companies, "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 36 Stunden [1]."
    )
    answer = assistant.ask(question)
    assert answer.abstained and answer.abstain_reason == "unsupported" and answer.citations == []
    right = "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 24 Stunden [1]."
    assistant, _ = spy_assistant(two_companies, f"{right} Das spart dem Vertrieb 2,5 Arbeitstage im Monat [1].")
    answer = assistant.ask(question)
    assert not answer.abstained and answer.answer == right, "only the claim with the made-up figure goes"
    for figures in ("24 Stunden", "24-Stunden-Frist, 350 Leads"):  # as the passage has them, in other words
        assistant, _ = spy_assistant(two_companies, f"Bei Kessler kontaktiert der Vertrieb jeden Lead: {figures} [1].")
        assert not assistant.ask(question).abstained


def test_an_answer_no_passage_supports_is_withdrawn(two_companies: Settings) -> None:
    assistant, _ = spy_assistant(two_companies, "Die Kantine öffnet um acht Uhr und schließt um fünfzehn Uhr.")
    answer = assistant.ask("Ab wie vielen Punkten gilt ein Kontakt bei Solvanta als MQL?")
    assert answer.abstained and answer.abstain_reason == "unsupported"


def ask_across_languages(
    settings: Settings,
    yes: float | None,
    refusal: str = "The sources contain no information on this.",
    hours: int = 24,
) -> tuple[Answer, list[Event], SpyGenerator]:
    """An English question over German articles: the model translates it, declines, is asked again in
    German, and its German answer (a first contact within `hours`) is translated back. Returns the
    answer, the events streamed before it, and the spy."""
    spy = SpyGenerator(
        KESSLER_QUESTION_DE,
        refusal,
        f"Bei Kessler kontaktiert der Vertrieb jeden Lead binnen {hours} Stunden [1].",
        f"At Kessler, sales contacts every lead within {hours} hours [1].",
    )
    spy.yes = yes
    *events, done = open_assistant(settings, spy).stream(KESSLER_QUESTION_EN)
    assert isinstance(done, Done)
    return done.answer, events, spy


def streamed(events: list[Event]) -> str:
    return "".join(event.text for event in events if isinstance(event, Token))


def test_a_question_declined_across_languages_is_asked_again_in_the_passages_language(
    two_companies: Settings,
) -> None:
    answer, events, spy = ask_across_languages(two_companies, yes=0.9)
    assert not answer.abstained and answer.answer == "At Kessler, sales contacts every lead within 24 hours [1]."
    assert answer.citations[0].passage.metadata["title"] == "Lead-SLA bei Kessler Antriebstechnik"
    assert streamed(events) == "", "the first refusal is held back, not shown"
    assert events[-1] == Revising("asking_again", "en"), "the faces say the model is asked again"
    second_try, back = spy.calls[2], spy.calls[3]
    assert "ausschließlich die nummerierten Quellen" in second_try[0]["content"]
    assert second_try[1]["content"].endswith(f"Frage: {KESSLER_QUESTION_DE}")
    assert "English" in back[0]["content"] and back[1]["content"].startswith("Bei Kessler kontaktiert")
    (check,) = spy.checks
    assert check[1]["content"].startswith("Text:\nBei Kessler Antriebstechnik kontaktiert der Vertrieb jeden Lead")
    assert KESSLER_QUESTION_EN in check[1]["content"]


def test_a_refusal_in_the_models_own_words_is_held_back_and_retried_too(two_companies: Settings) -> None:
    refusal = "Source [1] gives no information on how quickly sales must contact a lead at Kessler."
    answer, events, spy = ask_across_languages(two_companies, 0.9, refusal)
    assert not answer.abstained and answer.answer == "At Kessler, sales contacts every lead within 24 hours [1]."
    assert streamed(events) == "" and len(spy.calls) == 4


def test_across_languages_an_answer_shows_once_its_first_sentence_is_complete(two_companies: Settings) -> None:
    first = "At Kessler, sales contacts every lead within 24 hours [1]."
    rest = "Marketing delivers 350 leads per quarter for this, and both teams review the agreement each month [1]."
    spy = SpyGenerator(KESSLER_QUESTION_DE, f"{first} {rest}")
    events = list(open_assistant(two_companies, spy).stream(KESSLER_QUESTION_EN))
    tokens = [event.text for event in events if isinstance(event, Token)]
    # Held back until the first sentence ends (and by the loop guard's few words), then streamed on.
    assert tokens[0].startswith(first) and len(tokens) > 3, tokens
    assert len(spy.calls) == 2 and spy.checks == [], "no second try, no check"


def test_an_answer_withdrawn_across_languages_is_replaced_by_a_confirmed_second_try(two_companies: Settings) -> None:
    wrong = "At Kessler, sales contacts every lead within 36 hours [1]."  # no passage has 36
    answer, events, spy = ask_across_languages(two_companies, 0.9, wrong)
    assert not answer.abstained and answer.answer == "At Kessler, sales contacts every lead within 24 hours [1]."
    assert streamed(events) == wrong, "streamed before the checks; the checked answer replaces it in every face"
    assert events[-1] == Revising("asking_again", "en"), "said before the second try, after the streamed draft"
    assert spy.calls[2][1]["content"].endswith(f"Frage: {KESSLER_QUESTION_DE}") and len(spy.checks) == 1


def test_a_withdrawn_answer_whose_second_try_is_not_confirmed_stays_withdrawn(two_companies: Settings) -> None:
    wrong = "At Kessler, sales contacts every lead within 36 hours [1]."
    answer, _, spy = ask_across_languages(two_companies, 0.2, wrong)
    assert answer.abstained and answer.abstain_reason == "unsupported" and answer.answer == not_covered("en")
    assert len(spy.calls) == 4 and len(spy.checks) == 1, "asked again, then not confirmed"


def test_an_answer_withdrawn_in_the_passages_language_gets_no_second_try(two_companies: Settings) -> None:
    spy = SpyGenerator(KESSLER_QUESTION_EN, "Bei Kessler gilt eine Frist von 36 Stunden [1].")
    answer = open_assistant(two_companies, spy).ask(KESSLER_QUESTION_DE)
    assert answer.abstained and answer.abstain_reason == "unsupported"
    assert len(spy.calls) == 2 and spy.checks == [], "the translation for the search, the answer; nothing more"


def test_a_second_try_is_checked_in_the_passages_language_before_it_is_translated(two_companies: Settings) -> None:
    answer, _, spy = ask_across_languages(two_companies, 0.9, hours=36)  # no passage has 36
    assert answer.abstained and answer.abstain_reason == "model"
    assert len(spy.calls) == 3 and spy.checks == [], "neither translated back nor confirmed"


def test_a_second_try_the_model_does_not_confirm_stays_declined(two_companies: Settings) -> None:
    for yes in (0.2, None):
        answer, _, spy = ask_across_languages(two_companies, yes)
        assert answer.abstained and answer.abstain_reason == "model" and answer.answer == not_covered("en")
        assert len(spy.calls) == 4 and len(spy.checks) == 1, "asked again, then not confirmed"


def test_no_second_try_when_switched_off(two_companies: Settings) -> None:
    answer, events, spy = ask_across_languages(two_companies.model_copy(update={"answer_check_below": 0.0}), 0.9)
    assert answer.abstained and len(spy.calls) == 2 and spy.checks == []
    assert streamed(events) == not_covered("en")


def test_an_answer_in_the_question_language_streams_and_is_not_checked(two_companies: Settings) -> None:
    assistant, spy = spy_assistant(two_companies, "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 24 Stunden.")
    events = list(assistant.stream("Welche Frist für den Erstkontakt gilt bei Kessler?"))
    assert len([event for event in events if isinstance(event, Token)]) > 3 and spy.checks == []
    assert not any(isinstance(event, Revising) for event in events), "what streamed stands"
