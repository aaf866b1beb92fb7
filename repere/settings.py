"""All settings in one place, read from REPERE_* environment variables (or a .env file)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_workers() -> int:
    """One server process per CPU core this process may use (each holds the index: ~250 MiB), at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPERE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the Chroma index and ingested documents.")
    chroma_url: str | None = Field(None, description="Chroma server URL (client/server mode); embedded when unset.")
    chroma_timeout: float = Field(10.0, gt=0, le=300, description="Seconds before a Chroma server call is given up.")
    embedder: str = Field(
        "hashing",
        description="hashing | sentence-transformers:<model> | openai:<model> | ollama:<model>.",
    )
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint for embeddings.")
    openai_api_key: str | None = Field(None, description="API key for the OpenAI-compatible endpoint.")
    ollama_base_url: str | None = Field(None, description="Ollama server URL.")
    llm: str | None = Field(
        None, description="Optional chat model: openai:<model> (OpenAI-compatible endpoint) or ollama:<model>."
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of the chat model endpoint (e.g. http://host:8000/v1)."
    )
    llm_api_key: str | None = Field(None, description="API key for the chat model endpoint.")
    llm_timeout: float = Field(
        20.0, gt=0, le=300, description="Seconds before the chat model is given up (then extractive)."
    )
    trainer_token: str | None = Field(
        None, description="Token that opens the trainers' pages (/formateurs); unset = those pages are closed."
    )
    index_check_seconds: float = Field(
        10.0, gt=0, le=3600, description="How often the server checks for a new index (or for Chroma's return)."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the feedback and eval-job database (postgresql+psycopg://... when several"
        " instances share it); unset = SQLite file <data_dir>/feedback.sqlite3.",
    )
    workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        description="Server processes for `repere serve`; default one per available CPU core, at most 4.",
    )
    worker_healthcheck_seconds: int = Field(
        300,
        ge=5,
        le=3600,
        description="How long uvicorn waits for a worker's health-check answer before killing and restarting it;"
        " generous, so that a worker still loading the index on a busy machine is not killed.",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Reverse proxies trusted for X-Forwarded-For and X-Forwarded-Proto (comma-separated IPs or"
        " networks); empty = none (the peer address is the client).",
    )
    keepalive_requests: int = Field(
        50,
        ge=0,
        description="Requests served on one kept-alive connection before it is closed (the client reconnects to the"
        " least busy worker); 0 = never.",
    )
    rate_limit_per_minute: int = Field(60, ge=1, description="Questions and feedback per client address and minute.")
    rate_limit_storage: str | None = Field(
        None,
        description="Where the rate-limit counters live: memory://, repere-sqlite://<file>, redis://…, memcached://…;"
        " unset = memory:// in-process, and a SQLite file in the data folder shared by the workers of `repere serve`.",
    )
    feedback_retention_days: int = Field(
        365,
        ge=0,
        le=36500,
        description="Feedback older than this many days is deleted (at start, then hourly); 0 = kept.",
    )
    trainer_session_minutes: int = Field(
        480, ge=1, le=7 * 24 * 60, description="Lifetime of a trainer's session cookie, in minutes."
    )
    chunk_tokens: int = Field(128, ge=32, le=2048, description="Chunk size in cl100k_base tokens.")
    chunk_overlap: int = Field(32, ge=0, le=512, description="Overlap between consecutive chunks, in tokens.")

    @field_validator("trainer_token")
    @classmethod
    def _no_placeholder(cls, value: str | None) -> str | None:
        if value is not None and (len(value) < 12 or value.lower() in {"changeme", "change-me", "secret", "password"}):
            raise ValueError("REPERE_TRAINER_TOKEN doit compter au moins 12 caractères et ne pas être un exemple.")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _no_wildcard_proxy(cls, value: str) -> str:
        if "*" in value:  # every client could then choose its address (rate limit) and scheme
            raise ValueError(
                "REPERE_FORWARDED_ALLOW_IPS ne peut pas valoir « * » : indiquez l'adresse du proxy inverse."
            )
        return value.strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
