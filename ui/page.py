"""The Streamlit script behind the chat page; app.py serves it."""

from ui.chat import main

main()
