"""The core imports without the layers above it: `rag/` reaches neither `ingest/`, `evaluation/` nor a face."""

import subprocess
import sys

from rag.settings import PROJECT_ROOT

ABOVE_RAG = ("ingest", "evaluation", "ui", "api", "widget", "streamlit", "app")


def test_every_rag_module_imports_without_ingest_evaluation_or_a_face() -> None:
    script = (
        "import importlib, pkgutil, sys, rag\n"
        "for module in pkgutil.iter_modules(rag.__path__):\n"
        "    importlib.import_module(f'rag.{module.name}')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    loaded = set(result.stdout.split())
    assert {"rag.assistant", "rag.__main__", "rag.repetition", "rag.conversation"} <= loaded, (
        "the modules were imported"
    )
    assert sorted(name for name in loaded if name.split(".")[0] in ABOVE_RAG) == []
