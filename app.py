"""The chat page. Until the chat lands it shows what the index holds."""

import streamlit as st

from rag.registry import Registry, registry_path
from rag.settings import Settings

settings = Settings()
st.set_page_config(page_title="Marketing × Vertrieb – Wissensassistent", page_icon="💬")
st.title("Marketing × Vertrieb – Wissensassistent")
registry = Registry(registry_path(settings.index_dir))
documents = registry.documents()
st.caption(f"{len(documents)} Dokumente im Index · {sum(d.chunk_count for d in documents.values())} Abschnitte")
st.info("Der Chat folgt. Dokumente hinzufügen: `python -m ingest PFAD`")
