"""Every setting of the product: environment variables prefixed RAG_, offline defaults."""

from pathlib import Path

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
    chunk_size: int = Field(800, ge=100, description="Target chunk length in characters.")
    chunk_overlap: int = Field(200, ge=0, description="Characters of trailing sentences repeated in the next chunk.")
    max_file_mb: float = Field(20.0, gt=0, description="Larger files are refused with an error.")
