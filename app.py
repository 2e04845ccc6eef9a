"""The one server: the chat page, the HTTP API and the widget, on one port, from one process.

`streamlit run app.py` finds `app` and serves it with uvicorn.
"""

import streamlit as st

from api.routes import server_parts
from rag.settings import Settings

app = st.App("ui/page.py", **server_parts(Settings()))
