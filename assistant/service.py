"""Settings -> the objects every entry point needs: the retriever (index built or reused) and the
answer engine (with the configured chat model, if any). Entry points (CLI, web, eval scripts) call
these; the stages below them take explicit arguments."""

from __future__ import annotations

from assistant.answer import AnswerEngine
from assistant.llm import make_chat_model
from assistant.settings import Settings
from retrieval.embeddings import make_embedder
from retrieval.index import IndexStats
from retrieval.pipeline import prepare
from retrieval.retrieve import Retriever


def build_retriever(settings: Settings, rebuild: bool = False) -> tuple[Retriever, IndexStats]:
    embedder = make_embedder(
        settings.embedder, settings.openai_base_url, settings.openai_api_key, settings.ollama_base_url
    )
    return prepare(
        settings.data_dir, embedder, settings.chroma_url, settings.chunk_tokens, settings.chunk_overlap, rebuild
    )


def build_engine(settings: Settings, retriever: Retriever) -> AnswerEngine:
    chat_model = None
    if settings.llm:
        chat_model = make_chat_model(settings.llm, settings.llm_base_url, settings.llm_api_key, settings.llm_timeout)
    return AnswerEngine(retriever, chat_model=chat_model)
