"""Pluggable embedders (LangChain `Embeddings`) and the chromadb adapter that always passes one.

- "hashing" (default): character n-gram feature hashing of the folded text. No model, no download,
  a few KB of code; robust to missing accents and typos. See the README for why it is the default.
- "sentence-transformers:<name or path>": any local sentence-transformers model (extra: embeddings-st).
- "openai:<model>": an OpenAI-compatible /v1/embeddings endpoint (vLLM, llama.cpp, Albert…).
- "ollama:<model>": an Ollama server.
"""

from __future__ import annotations

import zlib
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.api.types import Embeddings as ChromaEmbeddings
from langchain_core.embeddings import Embeddings

from corpus.clean import fold


class HashingEmbeddings(Embeddings):
    """Signed feature hashing of character n-grams of each folded word, log-scaled and L2-normalised."""

    def __init__(self, dim: int = 1024, ngram_sizes: tuple[int, ...] = (3, 4, 5)) -> None:
        self.dim = dim
        self.ngram_sizes = ngram_sizes

    @property
    def id(self) -> str:
        return f"hashing-{self.dim}-{'-'.join(map(str, self.ngram_sizes))}"

    def _vector(self, text: str) -> list[float]:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in fold(text).split():
            word = "".join(ch for ch in word if ch.isalnum())
            if not word:
                continue
            padded = f"<{word}>"
            for n in self.ngram_sizes:
                for i in range(max(len(padded) - n + 1, 1)):
                    h = zlib.crc32(padded[i : i + n].encode())
                    vec[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        vec = np.sign(vec) * np.log1p(np.abs(vec))
        norm = float(np.linalg.norm(vec))
        return (vec / norm).tolist() if norm else vec.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def embedder_id(embedder: Embeddings) -> str:
    """Stable name of an embedder, part of the index fingerprint."""
    explicit = getattr(embedder, "id", None)
    if isinstance(explicit, str):
        return explicit
    model = getattr(embedder, "model", None) or getattr(embedder, "model_name", None)
    return f"{type(embedder).__name__}:{model}"


def make_embedder(
    spec: str, openai_base_url: str | None = None, openai_api_key: str | None = None, ollama_base_url: str | None = None
) -> Embeddings:
    """Embedder from a settings string such as "hashing", "openai:bge-m3" or "ollama:nomic-embed-text"."""
    kind, _, name = spec.partition(":")
    if kind == "hashing":
        return HashingEmbeddings()
    if kind == "sentence-transformers":
        from langchain_huggingface import HuggingFaceEmbeddings  # type: ignore[import-not-found]

        return cast(Embeddings, HuggingFaceEmbeddings(model_name=name))
    if kind == "openai":
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        key = SecretStr(openai_api_key) if openai_api_key else None
        return OpenAIEmbeddings(
            model=name, openai_api_base=openai_base_url, openai_api_key=key, check_embedding_ctx_length=False
        )
    if kind == "ollama":
        from langchain_ollama import OllamaEmbeddings

        return OllamaEmbeddings(model=name, base_url=ollama_base_url)
    raise ValueError(
        f"Modèle de plongement inconnu : {spec!r} (attendu : hashing, sentence-transformers:…, openai:…, ollama:…)"
    )


class ChromaEmbeddingAdapter(EmbeddingFunction[Documents]):
    """Hands a LangChain embedder to chromadb, so chroma never falls back to its downloading default."""

    def __init__(self, embedder: Embeddings) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        return cast(
            ChromaEmbeddings, [np.asarray(v, dtype=np.float32) for v in self.embedder.embed_documents(list(input))]
        )

    def embed_query(self, input: Documents) -> ChromaEmbeddings:
        return cast(ChromaEmbeddings, [np.asarray(self.embedder.embed_query(t), dtype=np.float32) for t in input])

    @staticmethod
    def name() -> str:
        return "repere-langchain"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": embedder_id(self.embedder)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingAdapter:
        # Repère always passes its embedder explicitly; only the default one can be rebuilt from a name.
        if str(config.get("embedder", "")).startswith("hashing"):
            return ChromaEmbeddingAdapter(HashingEmbeddings())
        raise ValueError(f"Cannot rebuild embedder {config.get('embedder')!r}: pass it explicitly.")
