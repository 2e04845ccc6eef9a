"""Shared benchmark helpers: timing statistics, result tables and JSON, generated German-like text,
memory readings from /proc, profiling, and the servers (the app, a Chroma server) on loopback.

Importing this module puts the project root on sys.path and removes RAG_* variables from the
environment (the benchmarks pass their settings explicitly), so the scripts run as
`.venv/bin/python bench/<name>.py` from any folder.
"""

import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
MODEL_FILE = ROOT / "data" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SEED_ARTICLE = ROOT / "corpus" / "blog" / "marketing-vertrieb-teil-1.md"
GOLD = ROOT / "tests" / "eval" / "gold.jsonl"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOAD_AT_START = [round(x, 2) for x in os.getloadavg()]
CLEARED_ENV = sorted(name for name in os.environ if name.startswith("RAG_"))
for _name in CLEARED_ENV:
    del os.environ[_name]


# ---------------------------------------------------------------- timing


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), p)) if values else float("nan")


def summarize(values: list[float]) -> dict[str, float]:
    """n, p50, p95, mean, min, max of a list of timings (same unit in as out)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": float(np.mean(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """(result, seconds)."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# ---------------------------------------------------------------- output


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.3g}"
    return str(value)


def print_table(title: str, headers: list[str], rows: list[list[Any]], digits: int = 1) -> None:
    cells = [[fmt(c, digits) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "loadavg_at_start": LOAD_AT_START,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def write_results(name: str, args: Any, results: dict[str, Any], started: float) -> Path:
    """bench/results/<name>.json (<name>.quick.json for --quick runs) with machine, date and parameters."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    params = dict(vars(args)) if not isinstance(args, dict) else dict(args)
    path = RESULTS_DIR / f"{name}{'.quick' if params.get('quick') else ''}.json"
    document = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "machine": machine(),
        "git_commit": git_commit(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items()},
        "cleared_env": CLEARED_ENV,
        "results": results,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_json_default) + "\n")
    print(f"\nresults written to {path.relative_to(ROOT)}")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


@contextlib.contextmanager
def temp_dir(keep: bool = False, prefix: str = "rag-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---------------------------------------------------------------- memory (/proc, Linux)


def proc_status_kb(pid: int, field: str) -> int:
    """A /proc/<pid>/status field such as VmRSS (resident now) or VmHWM (peak resident), in kB."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_mb(pid: int | None = None) -> float:
    return proc_status_kb(pid or os.getpid(), "VmRSS") / 1024


def peak_rss_mb(pid: int | None = None) -> float:
    return proc_status_kb(pid or os.getpid(), "VmHWM") / 1024


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in task.read_text().split())
    return pids


def tree_rss_mb(pid: int) -> float:
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            total += rss_mb(member)
    return total


# ---------------------------------------------------------------- profiling


def profile(fn: Callable[[], Any], top: int = 15, sort: str = "cumulative") -> tuple[Any, list[dict[str, Any]], str]:
    """Run fn under cProfile: (result, top rows as dicts, printable text)."""
    profiler = cProfile.Profile()
    result = profiler.runcall(fn)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats(sort)
    stats.print_stats(top)
    rows = []
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: -item[1][3 if sort == "cumulative" else 2],
    )[:top]:
        where = f"{Path(file).name}:{line}({func})" if line else func
        rows.append({"function": where, "calls": calls, "tottime_s": round(tottime, 4), "cumtime_s": round(cumtime, 4)})
    return result, rows, stream.getvalue()


def print_profile(title: str, rows: list[dict[str, Any]]) -> None:
    print_table(
        title,
        ["function", "calls", "own s", "cum s"],
        [[r["function"][-90:], r["calls"], r["tottime_s"], r["cumtime_s"]] for r in rows],
        3,
    )


# ---------------------------------------------------------------- generated German-like text

NOUNS = (
    "Marketing Vertrieb Kunde Markt Umsatz Strategie Zusammenarbeit Abteilung Führung Kampagne Budget Zielgruppe "
    "Produkt Marke Preis Wettbewerb Analyse Daten Prozess Schnittstelle Kommunikation Messe Angebot Vertrag "
    "Beziehung Erfolg Ergebnis Studie Forschung Wissen Macht Bindung Kennzahl Planung Steuerung Konflikt Gespräch "
    "Rückmeldung Qualität Bericht Quartal Region Team Leitung Mitarbeiter Größe Änderung Prüfung Bewertung "
    "Öffentlichkeit Geschäft Anfrage Lösung Nutzen Aufgabe Ziel Verkauf Händler Partner Vorstand Unternehmen "
    "Branche Kanal Inhalt Werbung Auftrag Rabatt Schulung Übergabe Reihe Wert Anteil Ausrichtung Gedanke Welt "
    "Konfiguration Taxonomie Beitrag Zeitschrift Band Seite Jahr Thema Frage Antwort Erkenntnis Struktur System "
    "Verständnis Rotation Akquise Bestand Lieferung Service Berater Innendienst Außendienst Katalog Portfolio"
).split()
VERBS = (
    "verbessert beeinflusst steigert senkt verbindet fördert erklärt zeigt verlangt prüft plant steuert bewertet "
    "unterstützt liefert entwickelt gewinnt verliert teilt nutzt misst ändert stärkt schwächt bestimmt erreicht "
    "empfiehlt untersucht beschreibt verändert ergänzt begleitet übernimmt vereinbart"
).split()
ADJECTIVES = (
    "gemeinsame strategische operative neue starke schwache wichtige regionale digitale klassische interne externe "
    "langfristige kurzfristige strukturelle hohe niedrige größere kleinere bessere schnelle enge direkte "
    "zentrale dezentrale überraschende übliche ähnliche unterschiedliche"
).split()
FUNCTION_WORDS = (
    "der die das den dem des ein eine einen und oder aber mit von zu für auf im in bei nach über unter "
    "durch zwischen sowie nicht auch nur noch sehr mehr weniger als wie wenn weil dass sich es sie wir"
).split()


class GermanLikeText:
    """Deterministic pseudo-German: real words and many generated compounds, Zipf-distributed like real text."""

    def __init__(self, seed: int = 6, compounds: int = 20000, sample_seed: int | None = None) -> None:
        rng = random.Random(seed)  # the vocabulary; sample_seed varies only what is drawn from it
        linkers = ["", "s", "en", "-"]
        made = set()
        while len(made) < compounds:
            a, b = rng.choice(NOUNS), rng.choice(NOUNS)
            if a != b:
                link = rng.choice(linkers)
                made.add(f"{a}{link}{b}" if link == "-" else f"{a}{link}{b.lower()}")
        real, generated = NOUNS + VERBS + ADJECTIVES, sorted(made)
        rng.shuffle(real)
        rng.shuffle(generated)
        self.content = real + generated  # the real words are the frequent ones
        ranks = np.arange(1, len(self.content) + 1)
        self._content_cum = list(np.cumsum(1.0 / (ranks + 20) ** 1.1))  # Zipf-Mandelbrot, like running text
        self.rng = random.Random(seed + 1 if sample_seed is None else sample_seed)

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.content, cum_weights=self._content_cum, k=n)

    def sentence(self) -> str:
        length = self.rng.randint(8, 20)
        content = self.words(length)
        words = [w if self.rng.random() < 0.55 else f"{self.rng.choice(FUNCTION_WORDS)} {w}" for w in content]
        if self.rng.random() < 0.12:
            words.insert(self.rng.randrange(len(words)), str(self.rng.randint(1990, 2025)))
        if self.rng.random() < 0.08:
            words.insert(self.rng.randrange(len(words)), f"{self.rng.randint(2, 95)} Prozent")
        text = " ".join(words)
        return text[0].upper() + text[1:] + ("?" if self.rng.random() < 0.05 else ".")

    def paragraph(self, chars: int) -> str:
        parts, size = [], 0
        while size < chars:
            parts.append(self.sentence())
            size += len(parts[-1]) + 1
        return " ".join(parts)

    def title(self) -> str:
        a, b = self.words(2)
        return f"{a.capitalize()} und {b} – {self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"

    def document(self, min_chars: int, max_chars: int, index: int) -> str:
        """A Markdown article with front matter, headings and paragraphs, about min..max characters of body."""
        target = self.rng.randint(min_chars, max_chars)
        title = self.title()
        lines = [
            "---",
            f'title: "{title} ({index})"',
            f'author: "Autor {index % 37}"',
            f'date: "20{10 + index % 15}-0{1 + index % 9}-1{index % 10}"',
            "lang: de",
            "kind: blog",
            "---",
            "",
        ]
        body = 0
        while body < target:
            if body and self.rng.random() < 0.35:
                heading = "## " + " ".join(self.words(3)).capitalize()
                lines += [heading, ""]
                body += len(heading)
            paragraph = self.paragraph(min(self.rng.randint(300, 900), target - body + 40))
            lines += [paragraph, ""]
            body += len(paragraph)
        return "\n".join(lines)

    def question(self) -> str:
        a, b, c = self.words(3)
        pattern = self.rng.choice(
            [
                "Wie beeinflusst {a} die {b} im {c}?",
                "Was sagt die Studie über {a} und {b}?",
                "Welche Rolle spielt {a} für {b} und {c}?",
                "Warum ist {a} für den {b} wichtig?",
                "How does {a} affect {b} in {c}?",
            ]
        )
        return pattern.format(a=a, b=b, c=c)


def write_corpus(folder: Path, docs: int, min_chars: int, max_chars: int, seed: int = 6) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    text = GermanLikeText(seed)
    paths = []
    for index in range(docs):
        path = folder / f"{index // 500:03d}" / f"artikel-{index:05d}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text.document(min_chars, max_chars, index), encoding="utf-8")
        paths.append(path)
    return paths


def shipped_questions() -> list[tuple[str, str]]:
    """The gold-set questions about the shipped corpus (corpus/), as (question, lang)."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r["lang"]) for r in rows if str(r.get("source") or "").startswith("corpus/")]


# ---------------------------------------------------------------- the product, set up for a benchmark


def bench_settings(data_dir: Path, **overrides: Any):
    from rag.settings import Settings

    return Settings(data_dir=data_dir, index_dir=data_dir / "index", **overrides)


def ingest_quietly(settings, paths: list[Path]):
    from ingest.pipeline import Ingestor

    report = Ingestor(settings, report=lambda line: None, progress=False).run(paths)
    if report.failed:
        raise RuntimeError(f"ingest failed: {report.errors[:3]}")
    return report


def index_shipped_corpus(data_dir: Path, **overrides: Any):
    """Settings over a fresh index of the shipped corpus in data_dir (a few seconds)."""
    settings = bench_settings(data_dir, **overrides)
    ingest_quietly(settings, [ROOT / "corpus"])
    return settings


def http_client(timeout: float = 600.0):
    import httpx

    return httpx.Client(trust_env=False, timeout=timeout)  # loopback only: never a proxy


def wait_until(check: Callable[[], bool], seconds: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {seconds} s")


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """`chroma run` on a free loopback port over `path`; stopped (by its pid) on exit."""
    port = test_helpers().free_port()
    log = path.parent / f"chroma-{port}.log"
    command = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1"]
    with open(log, "w") as out:
        process = subprocess.Popen([*command, "--port", str(port)], stdout=out, stderr=out)
    try:
        with http_client(5) as client:
            wait_until(
                lambda: client.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200,
                120,
                "chroma server",
            )
        yield port
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    test_helpers().stop_process(process)


def test_helpers() -> Any:
    """tests/helpers.py, where the servers are started the way the tests start them."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import helpers

    return helpers


@contextlib.contextmanager
def app_server(data_dir: Path, **env: str) -> Iterator[Any]:
    """The real server (tests/helpers.AppServer: `streamlit run app.py`), ready to take API requests."""
    with test_helpers().AppServer(data_dir, **env) as app:
        yield app


def default_model_file() -> Path:
    """The packaged default model in data/models, assembled there first if this checkout has none yet."""
    from rag.models import QWEN_CODER_1_5B, assembled_model_path

    return assembled_model_path(QWEN_CODER_1_5B, MODEL_FILE.parent)


@contextlib.contextmanager
def llama_server(log_dir: Path) -> Iterator[Any]:
    """`python -m llama_cpp.server` serving the packaged default model (tests/helpers.LlamaServer) with the
    in-process model's default threads and context, ready; its `env()` points RAG_GENERATOR=openai at it."""
    from rag.settings import Settings

    defaults = Settings()
    server = test_helpers().LlamaServer(
        default_model_file(),
        log_dir,
        alias=MODEL_FILE.stem,
        context=defaults.llm_context,
        threads=defaults.llm_threads,
    )
    with server:
        yield server


def wait_model_ready(url: str, seconds: float = 300) -> dict[str, Any]:
    with http_client(10) as client:
        health: dict[str, Any] = {}

        def ready() -> bool:
            health.update(client.get(f"{url}/api/health").json())
            return bool(health.get("model", {}).get("ready"))

        wait_until(ready, seconds, "model")
        return health


def server_env(generator: str, max_answer_tokens: int | None, threads: int | None = None) -> dict[str, str]:
    """Environment for the benchmark server: the packaged default model, rate limit out of the way."""
    env = {"RAG_RATE_LIMIT_PER_MINUTE": "1000", "RAG_GENERATOR": generator}
    if generator == "llama":
        env["RAG_MODEL_PATH"] = str(default_model_file())  # the assembled default model (no 1.1 GB copy per run)
    if max_answer_tokens:
        env["RAG_MAX_ANSWER_TOKENS"] = str(max_answer_tokens)
    if threads:
        env["RAG_LLM_THREADS"] = str(threads)
    return env


def sse_events(response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, data) from a text/event-stream httpx response, as they arrive."""
    name, data = None, []
    for line in response.iter_lines():
        if not line:
            if name is not None:
                yield name, json.loads("\n".join(data) or "{}")
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if name is not None:
        yield name, json.loads("\n".join(data) or "{}")


def ask_stream(client, url: str, question: str) -> dict[str, Any]:
    """POST /api/ask/stream; times (s from sending) of sources, waiting, first token and done, and any error."""
    started = time.perf_counter()
    record: dict[str, Any] = {"question": question, "status": None, "events": {}, "error": None, "waiting": False}
    try:
        with client.stream("POST", f"{url}/api/ask/stream", json={"question": question}) as response:
            record["status"] = response.status_code
            if response.status_code != 200:
                response.read()
                record["error"] = f"HTTP {response.status_code}: {response.text[:200]}"
                return record
            for name, data in sse_events(response):
                record["events"].setdefault(name, time.perf_counter() - started)
                if name == "waiting":
                    record["waiting"] = True
                elif name == "error":
                    record["error"] = f"error event: {data}"
                elif name == "done":
                    record["abstained"] = data.get("abstained")
    except Exception as error:  # a benchmark records failures instead of stopping
        record["error"] = f"{type(error).__name__}: {error}"
    record["total_s"] = time.perf_counter() - started
    if record["error"] is None and "done" not in record["events"]:
        record["error"] = "stream ended without a done event"
    return record


def ask_json(client, url: str, question: str) -> dict[str, Any]:
    """POST /api/ask: status, seconds, answer timings."""
    started = time.perf_counter()
    try:
        response = client.post(f"{url}/api/ask", json={"question": question})
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        error = None if response.status_code == 200 else f"HTTP {response.status_code}: {str(body)[:200]}"
        return {
            "status": response.status_code,
            "seconds": time.perf_counter() - started,
            "error": error,
            "timings_ms": body.get("timings_ms"),
            "abstained": body.get("abstained"),
        }
    except Exception as error:
        return {"status": None, "seconds": time.perf_counter() - started, "error": f"{type(error).__name__}: {error}"}


def warn_if_busy() -> None:
    """Other work on the machine distorts every figure: say so in the output."""
    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0))
    if load > 0.5 * cores:
        print(f"WARNING: load average {load:.1f} on {cores} cores: other work is running; figures will be noisy")
