"""Every setting of the product: environment variables prefixed RAG_, offline defaults."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index, model cache and feedback live here.")
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="What `python -m ingest` reads without PATH.")
    index_dir: Path = Field(
        default_factory=lambda data: data["data_dir"] / "index",
        description="Vector store (embedded Chroma) and document registry; default `<data_dir>/index`.",
    )
    collection: str = Field("marketing_sales", min_length=3, description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset means embedded Chroma.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    embedder: str = Field(
        "use-multilingual",
        description="`use-multilingual` or `sentence-transformers:<model name or path>`.",
    )
    embed_batch_size: int = Field(64, ge=1, description="Chunks per embedder call.")
    chunk_size: int = Field(1500, ge=100, description="Target chunk length in characters.")
    chunk_overlap: int = Field(200, ge=0, description="Characters of trailing sentences repeated in the next chunk.")
    max_file_mb: float = Field(20.0, gt=0, description="Larger files (and downloads) are refused with an error.")
    fetch_timeout: float = Field(
        20.0, gt=0, description="Seconds a web server may take to connect or send more; a whole download 3 times that."
    )
    fetch_max_redirects: int = Field(5, ge=0, description="Redirects followed for one URL.")
    fetch_retries: int = Field(2, ge=0, description="Retries of a URL answered with 429 or 503.")
    fetch_max_retry_wait: float = Field(
        30.0, ge=0, description="Longest wait before a retry; a longer Retry-After fails the URL at once."
    )
    fetch_allow_private: bool = Field(
        False, description="Also fetch from loopback, private, link-local and reserved addresses (intranet)."
    )

    top_k: int = Field(5, ge=1, le=20, description="Passages retrieved and given to the model.")
    candidates: int = Field(30, ge=1, description="Candidates each of dense and BM25 search contribute to fusion.")
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted", description="`weighted` sum of normalised scores, or reciprocal-rank fusion `rrf`."
    )
    dense_weight: float = Field(0.4, ge=0, description="Weight of dense similarity in weighted fusion.")
    lexical_weight: float = Field(0.6, ge=0, description="Weight of BM25 in weighted fusion.")
    translation_weight: float = Field(
        0.8, ge=0, description="Weight of a second search with the question translated by the model (de↔en); 0 = off."
    )
    abstain_below: float = Field(
        0.14, description="Answer 'not covered' without the model when no passage's cosine similarity reaches this."
    )
    extractive_min_similarity: float = Field(
        0.2, description="Extractive mode quotes only sentences at least this similar to the question."
    )
    support_threshold: float = Field(
        0.4,
        description="Support a claim needs from a passage sentence to be cited to it: the larger of cosine "
        "similarity and the share of the claim's words in the sentence.",
    )
    answer_check_below: float = Field(
        0.5,
        ge=0,
        le=1,
        description="When the model declines a question asked in the other language than most passages, it is asked "
        "again in theirs; that answer stands if the model, asked whether its cited sentences answer the question, "
        "says yes with at least this probability. 0 = no second try.",
    )
    context_chars: int = Field(3200, ge=500, description="Passage text sent to the model, in characters, at most.")
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    allow_upload: bool = Field(False, description="Show the document upload in the chat page's sidebar.")
    allowed_origins: str = Field(
        "", description="Comma-separated origins (https://intranet.example) whose pages may call the API."
    )
    rate_limit_per_minute: int = Field(10, ge=1, description="Questions one client may ask the API per minute.")
    max_body_kb: int = Field(64, ge=1, description="Larger API request bodies are refused with 413.")
    api_key: str | None = Field(
        None, description="When set, /v1/* (the OpenAI-compatible API) requires `Authorization: Bearer <key>`."
    )

    generator: Literal["llama", "openai", "extractive"] = Field(
        "llama", description="`llama` (in-process GGUF), `openai` (compatible server) or `extractive` (no model)."
    )
    model_path: Path | None = Field(None, description="A GGUF file; unset means the packaged Qwen2.5-Coder-1.5B.")
    llm_threads: int = Field(2, ge=1, description="CPU threads for the in-process model.")
    llm_context: int = Field(4096, ge=512, description="Context window of the in-process model, in tokens.")
    prompt_lookup_tokens: int = Field(
        0,
        ge=0,
        le=32,
        description="Draft tokens copied from the prompt per step (prompt lookup decoding) for the in-process "
        "model; 0 = off.",
    )
    max_answer_tokens: int = Field(350, ge=16, description="Longest answer, in tokens.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 answers the same way every time.")
    openai_base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server, up to `/v1`.")
    openai_model: str = Field("default", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: str | None = Field(None, description="Bearer token for the OpenAI-compatible server.")
    openai_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the OpenAI-compatible server.")
