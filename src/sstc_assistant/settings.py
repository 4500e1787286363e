"""One settings object for the whole assistant; every knob is an `SSTC_*` environment variable."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EmbedderName = Literal["minilm", "e5"]
GeneratorName = Literal["extractive", "llamacpp", "openai"]
RetrievalMode = Literal["bm25", "dense", "hybrid", "hybrid+rerank"]


class Settings(BaseSettings):
    """Defaults run fully offline on one machine; teams override by environment or `.env`."""

    model_config = SettingsConfigDict(env_prefix="SSTC_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=Path.cwd, description="project root; relative paths start here")
    corpus_dir: Path = Path("corpus")
    extra_corpus_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="more folders ingested by a bare `sstc ingest` (os.pathsep-separated in env)",
    )
    indexes_dir: Path = Path("indexes")
    index: str = Field("default", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

    embedder: EmbedderName = (
        "e5"  # measured: recall@5 0.876 vs 0.830 (MiniLM) on eval/questions.jsonl, and multilingual
    )
    embed_batch_size: int = Field(32, ge=1, le=1024)
    chunk_max_tokens: int = Field(200, ge=32, description="hard cap, below the model's max length")
    chunk_min_tokens: int = Field(40, ge=0, description="shorter blocks merge with their neighbour")
    chunk_overlap_tokens: int = Field(30, ge=0)
    dedup_threshold: float = Field(0.9, ge=0.5, le=1.0)

    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server")
    hnsw_ef_search: int = Field(400, ge=10)
    hnsw_ef_construction: int = Field(200, ge=10)
    hnsw_max_neighbors: int = Field(32, ge=4)

    retrieval_mode: RetrievalMode = "hybrid"
    rrf_k: int = Field(60, ge=1)
    rrf_dense_weight: float = Field(1.0, ge=0)
    rrf_bm25_weight: float = Field(
        0.7, ge=0, description="measured on eval/: 0.7 beats 0.5-1.3 by 1-2 questions"
    )
    rrf_named_weight: float = Field(1.0, ge=0, description="boost for documents the question names")
    reranker_model: Path | None = Field(
        None, description="local folder of a sentence-transformers cross-encoder; unset = no rerank stage"
    )
    top_k: int = Field(5, ge=1, le=100)

    generator: GeneratorName = "extractive"
    answer_passages: int = Field(5, ge=1, le=20, description="passages the generator reads")
    answer_max_sentences: int = Field(3, ge=1, le=10)
    answer_max_words: int = Field(90, ge=10)
    answer_list_points: int = Field(
        8,
        ge=1,
        le=20,
        description="bullets at most in the answer to a question for a list (what does X ask …)",
    )
    answer_list_passages: int = Field(8, ge=1, le=20, description="passages read for a question for a list")
    answer_list_neighbours: int = Field(
        0,
        ge=0,
        le=20,
        description="of a question for a list, the top passages whose next passage is read too (off: no gain on dev)",
    )
    answer_list_margin: float = Field(
        0.35, ge=0, le=1, description="a bullet's probability may be this far under the best one's"
    )
    answer_score_margin: float = Field(
        0.15, ge=0, le=1, description="further sentences join the answer within this probability of the best"
    )
    answer_embedder: EmbedderName | None = Field(
        "minilm", description="scores answer sentences of English questions (None: the retrieval embedder)"
    )
    sentence_cache_size: int = Field(
        50_000,
        ge=0,
        description="answer-sentence vectors kept in memory (about 1.5 kB each); popular passages are scored once",
    )
    abstain_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="probability a sentence must reach to answer an English question; unset = the threshold "
        "calibrated on the dev split (data/answerability.json)",
    )
    abstain_threshold_other: float | None = Field(
        None,
        ge=0,
        le=1,
        description="the same for questions in the other official languages; unset = calibrated",
    )

    api_key: SecretStr | None = Field(
        None, description="enables upload/delete; sent as 'Authorization: Bearer'"
    )
    feedback_path: Path = Path("feedback/feedback.jsonl")
    upload_dir: Path | None = Field(None, description="where uploads are saved; default corpus_dir")
    rate_limit_per_minute: int = Field(120, ge=0, description="per client address on ask/search; 0 = off")
    auth_failures_per_minute: int = Field(
        10,
        ge=0,
        description="wrong or missing API keys per client address in a minute; past them its "
        "corpus changes get 429 until the minute has passed (0 = off)",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    ui_concurrency: int = Field(4, ge=1, le=64, description="answers the UI computes at once")
    serve_threads: int = Field(
        1, ge=1, le=64, description="threads per model call in a server; answers run side by side instead"
    )
    ingest_nice: int = Field(
        10, ge=0, le=19, description="OS priority (nice) of a server's ingest thread: answers come first"
    )
    answer_concurrency: int = Field(
        0,
        ge=0,
        le=64,
        description="answers computed at once across all front ends (0 = one per CPU core); the rest queue",
    )

    llm_model_path: Path | None = Field(
        None,
        description="GGUF file for the llamacpp generator; default: Qwen2.5-Coder-1.5B from the llm extra",
    )
    model_cache_dir: Path = Path(".cache/models")
    llm_passages: int = Field(3, ge=1, le=10, description="passages a generative backend reads")
    llm_max_tokens: int = Field(200, ge=16, le=4096)
    llm_context: int = Field(4096, ge=512)
    openai_base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8080/v1")
    openai_model: str = "default"
    openai_api_key: SecretStr | None = None
    support_min_similarity: float = Field(0.55, ge=0, le=1, description="verifier: sentence vs passage")

    ods_url: str = Field(
        "https://documents.un.org",
        description="the UN Official Document System, or a mirror serving /api/symbol/access?s=&l=&t=pdf",
    )
    fetch_interval_seconds: float = Field(
        1.0, ge=0, description="`sstc fetch`: at most one request this often"
    )
    fetch_timeout_seconds: float = Field(60.0, gt=0, description="`sstc fetch`: give up on a silent server")
    fetch_retries: int = Field(3, ge=0, le=10, description="`sstc fetch`: more tries after a 5xx or time-out")
    fetch_backoff_seconds: float = Field(
        2.0, ge=0, description="`sstc fetch`: pause before the first retry, doubled for each next one"
    )
    mandates_manifest: Path = Field(
        Path("corpus/mandates.toml"), description="what `sstc fetch --mandates` fetches"
    )

    writer_wait_seconds: float = Field(
        60.0,
        ge=0,
        description="how long `sstc ingest` waits while another process (a server's upload) writes the index",
    )
    max_file_mb: float = Field(100.0, gt=0, description="larger files are refused before reading")
    max_pdf_pages: int = Field(3000, ge=1)

    @field_validator("extra_corpus_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            import os

            return [p for p in value.split(os.pathsep) if p.strip()]
        return value

    def resolve(self, path: Path) -> Path:
        """Relative paths are relative to `home`, so commands work from any directory."""
        return path if path.is_absolute() else (self.home / path)

    @property
    def corpus_path(self) -> Path:
        return self.resolve(self.corpus_dir)

    @property
    def index_path(self) -> Path:
        return self.resolve(self.indexes_dir) / self.index

    @cached_property
    def default_sources(self) -> list[Path]:
        sources = [self.corpus_path, *(self.resolve(p) for p in self.extra_corpus_dirs)]
        uploads = self.resolve(self.upload_dir) if self.upload_dir is not None else None
        if uploads is not None and uploads.is_dir() and uploads not in sources:
            sources.append(uploads)  # so `--rebuild` keeps the documents uploaded through the API
        return sources
