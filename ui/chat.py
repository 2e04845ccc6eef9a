"""The chat page: sources as soon as retrieval is done, the answer streamed after them."""

import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.documents import SUPPORTED_SUFFIXES
from ingest.pipeline import IngestBusyError, Ingestor
from ingest.web import WebIngest
from rag.assistant import Assistant, Done, QuestionError, Revising, Sources, Token, Waiting
from rag.components import BackgroundModel, open_retriever, shared_model
from rag.conversation import REVISING_NOTICE, to_markdown
from rag.feedback import FeedbackStore, feedback_path
from rag.generators import GeneratorError
from rag.registry import Registry, index_statistics, registry_path
from rag.retrieval import Retriever
from rag.settings import Settings
from ui.render import inert, source_card
from ui.texts import TEXTS

HISTORY_TURNS = 3  # earlier question/answer pairs given to the follow-up rewriting


@st.cache_resource(show_spinner=False)
def shared_retriever(settings_json: str) -> Retriever:
    return open_retriever(Settings.model_validate_json(settings_json))


@st.cache_resource(show_spinner=False)
def feedback_store(path: str) -> FeedbackStore:
    return FeedbackStore(Path(path))


def main() -> None:
    settings = Settings()
    key = settings.model_dump_json()
    st.set_page_config(page_title=TEXTS["de"]["title"], page_icon="💬")
    lang = interface_language()
    texts = TEXTS[lang]
    model = shared_model(key)  # starts loading now, in the background
    ensure_index(settings, texts)
    st.session_state.setdefault("turns", [])
    sidebar(settings, model, lang)
    st.title(texts["title"])
    st.caption(texts["intro"])
    for turn in st.session_state.turns:
        show_turn(turn, settings, lang)
    if question := st.chat_input(texts["placeholder"], max_chars=settings.max_question_chars):
        ask(question, settings, model, shared_retriever(key), lang)


def interface_language() -> str:
    if "ui_lang" not in st.session_state:
        locale = (st.context.locale or "de").lower()
        st.session_state.ui_lang = "en" if locale.startswith("en") else "de"
    return st.session_state.ui_lang


def ensure_index(settings: Settings, texts: dict[str, str]) -> None:
    """An empty index is filled from corpus/ first, with progress shown."""
    if Registry(registry_path(settings.index_dir)).documents():
        return
    with st.status(texts["building_index"], expanded=True) as status:
        bar = st.progress(0.0)
        while True:
            try:
                report = Ingestor(
                    settings,
                    report=lambda line: st.caption(inert(line)),
                    progress=False,
                    on_progress=lambda done, total: bar.progress(done / max(total, 1)),
                ).run([settings.corpus_dir])
                break
            except IngestBusyError:  # another session is building it: wait for that one
                time.sleep(1)
                if Registry(registry_path(settings.index_dir)).documents():
                    return
        status.update(
            label=texts["index_built"].format(summary=report.summary_line()), state="complete", expanded=False
        )


def sidebar(settings: Settings, model: BackgroundModel, lang: str) -> None:
    texts = TEXTS[lang]
    with st.sidebar:
        chosen = st.radio(
            texts["language"],
            ["de", "en"],
            index=["de", "en"].index(lang),
            horizontal=True,
            format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
        )
        if chosen != lang:
            st.session_state.ui_lang = chosen
            st.rerun()
        if st.button(texts["new_conversation"], use_container_width=True):
            st.session_state.turns = []
            st.rerun()
        show_index_statistics(settings, texts)
        st.subheader(texts["models"])
        st.caption(f"{texts['embedder']}: {inert(settings.embedder)}")
        st.caption(f"{texts['generator']}: {inert(model_status(settings, model, texts))}")
        st.download_button(
            texts["export"],
            to_markdown([turn["answer"] for turn in st.session_state.turns], texts["export_title"]),
            file_name="gespraech.md" if lang == "de" else "conversation.md",
            mime="text/markdown",
            disabled=not st.session_state.turns,
            use_container_width=True,
        )
        if settings.allow_upload:
            upload(settings, texts)


def show_index_statistics(settings: Settings, texts: dict[str, str]) -> None:
    stats = index_statistics(settings.index_dir)
    st.subheader(texts["index"])
    st.caption(f"{texts['documents']}: {stats['documents']} · {texts['chunks']}: {stats['chunks']}")
    finished = stats["last_ingest"]
    when = datetime.fromisoformat(finished).strftime("%Y-%m-%d %H:%M UTC") if finished else "–"
    st.caption(f"{texts['last_ingest']}: {inert(when)}")


def model_status(settings: Settings, model: BackgroundModel, texts: dict[str, str]) -> str:
    if not model.ready():
        return f"{settings.generator} – {texts['model_loading']}"
    try:
        return model.get().name
    except GeneratorError as error:
        return texts["model_failed"].format(error=error)


def upload(settings: Settings, texts: dict[str, str]) -> None:
    """Uploaded files and fetched URLs go through the same ingest as the CLI, with one line per problem."""
    st.subheader(texts["upload"])
    files = st.file_uploader(
        texts["upload_help"], type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], accept_multiple_files=True
    )
    urls = st.text_area(texts["upload_urls"], placeholder="https://…").split()
    if not (files or urls) or not st.button(texts["upload_button"], use_container_width=True):
        return
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in files or []:
        path = folder / (Path(file.name).name.lstrip(".") or "upload")
        path.write_bytes(file.getvalue())
        paths.append(path)
    bar = st.progress(0.0)
    lines: list[str] = []
    try:
        if urls:
            paths += WebIngest(settings, report=lines.append).run(urls).files
        report = Ingestor(
            settings, report=lines.append, progress=False, on_progress=lambda done, total: bar.progress(done / total)
        ).run(paths)
    except IngestBusyError as error:
        st.error(inert(str(error)))
        return
    bar.progress(1.0)
    for line in lines:
        (st.error if line.startswith("error") else st.caption)(inert(line))
    st.success(inert(texts["upload_done"].format(summary=report.summary_line())))


def history_of(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    history = []
    for turn in turns[-HISTORY_TURNS:]:
        history.append({"role": "user", "content": turn["answer"]["question"]})
        history.append({"role": "assistant", "content": turn["answer"]["answer"]})
    return history


def ask(question: str, settings: Settings, model: BackgroundModel, retriever: Retriever, lang: str) -> None:
    texts = TEXTS[lang]
    with st.chat_message("user"):
        st.markdown(inert(question))
    with st.chat_message("assistant"):
        status = st.empty()
        caption = st.empty()
        answer_box = st.empty()
        cards = st.empty()
        try:
            if not model.ready():
                with status, st.spinner(texts["model_loading"]):
                    model.get()
            assistant = Assistant(settings, retriever.embedder, retriever, model.get())
            status.caption(texts["searching"])
            text = ""
            for event in assistant.stream(question, history_of(st.session_state.turns)):
                if isinstance(event, Sources):
                    if event.standalone_question != " ".join(question.split()):
                        caption.caption(inert(texts["standalone"].format(question=event.standalone_question)))
                    with cards.container():
                        st.markdown(f"**{texts['retrieved']}**")
                        for number, passage in enumerate(event.passages, start=1):
                            source_card(number, passage.to_json(), lang)
                    status.caption(texts["writing"])
                elif isinstance(event, Waiting):
                    status.info(texts["waiting"], icon="⏳")
                elif isinstance(event, Token):
                    status.empty()
                    text += event.text
                    answer_box.markdown(inert(text) + "▌")
                elif isinstance(event, Revising):
                    answer_box.markdown(inert(text))
                    status.info(REVISING_NOTICE[lang][event.step], icon="🔎")
                elif isinstance(event, Done):
                    st.session_state.turns.append({"id": uuid.uuid4().hex, "answer": event.answer.to_json()})
        except (QuestionError, GeneratorError) as error:
            status.error(inert(texts["error"].format(error=error)))
            return
    st.rerun()


def show_turn(turn: dict[str, Any], settings: Settings, lang: str) -> None:
    texts = TEXTS[lang]
    answer = turn["answer"]
    with st.chat_message("user"):
        st.markdown(inert(answer["question"]))
    with st.chat_message("assistant"):
        if answer["standalone_question"] != answer["question"]:
            st.caption(inert(texts["standalone"].format(question=answer["standalone_question"])))
        if answer["abstained"]:
            st.info(inert(answer["answer"]), icon="ℹ️")
        else:
            st.markdown(inert(answer["answer"]))
            st.markdown(f"**{texts['sources']}**")
            for citation in answer["citations"]:
                source_card(citation["n"], citation, lang, citation["support"])
        feedback(turn, settings, texts)


def feedback(turn: dict[str, Any], settings: Settings, texts: dict[str, str]) -> None:
    """Thumbs up or down, stored at once; an optional comment updates the same vote."""
    store = feedback_store(str(feedback_path(settings.data_dir)))
    vote = st.feedback("thumbs", key=f"vote-{turn['id']}")
    if vote is None:
        return
    direction = "up" if vote == 1 else "down"
    if turn.get("vote") != direction:
        store.record(turn["id"], direction, turn["answer"])
        turn["vote"] = direction
    comment = st.text_input(texts["feedback_comment"], key=f"comment-{turn['id']}")
    if comment and st.button(texts["feedback_send"], key=f"send-{turn['id']}"):
        store.record(turn["id"], direction, turn["answer"], comment)
        st.caption(texts["feedback_thanks"])
