"""Settings -> the objects every entry point needs: the retriever (index built or reused) and the
answer engine (with the configured chat model, if any). Entry points (CLI, web, eval scripts) call
these; the stages below them take explicit arguments."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.answer import AnswerEngine
from assistant.llm import make_chat_model
from corpus.documents import Document
from repere.settings import Settings
from retrieval.embeddings import make_embedder
from retrieval.index import IndexStats, drop_orphans, index_lock, open_client, remove_orphan_segments
from retrieval.pipeline import Corpus, live_name, load_live, prepare
from retrieval.retrieve import Retriever


def embedder_for(settings: Settings) -> Embeddings:
    """One embedder per configuration and process (a local model is loaded once)."""
    return _embedder(settings.embedder, settings.openai_base_url, settings.openai_api_key, settings.ollama_base_url)


@lru_cache(maxsize=4)
def _embedder(name: str, openai_url: str | None, openai_key: str | None, ollama_url: str | None) -> Embeddings:
    return make_embedder(name, openai_url, openai_key, ollama_url)


def build_retriever(
    settings: Settings,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    corpus: Corpus | None = None,
    waiting: Callable[[], None] | None = None,
) -> tuple[Retriever, IndexStats]:
    """Build the index if the corpus changed (or when asked), then load it (`corpus`: already loaded). Under
    the index lock: one build at a time (`waiting` is told when another one holds it); the collections and
    segment folders of killed builds are removed first."""
    with index_lock(settings.data_dir, waiting):
        if corpus is None:  # read under the lock: an ingest may have just changed it
            from retrieval.pipeline import load_corpus

            corpus = load_corpus(settings.data_dir)
        try:
            remove_orphans(settings)
        except Exception as exc:  # e.g. a read-only folder: serving the existing index matters more
            logging.getLogger(__name__).warning("orphaned index data not removed: %s", type(exc).__name__)
        return prepare(
            settings.data_dir,
            embedder_for(settings),
            settings.chroma_url,
            settings.chunk_tokens,
            settings.chunk_overlap,
            rebuild,
            progress=progress,
            chroma_timeout=settings.chroma_timeout,
            corpus=corpus,
        )


def remove_orphans(settings: Settings) -> None:
    """Collections and segment folders of killed builds (call with the index lock held)."""
    client = open_client(settings.data_dir, settings.chroma_url, settings.chroma_timeout)
    dropped = drop_orphans(client, embedder_for(settings))
    if settings.chroma_url is None:
        dropped += remove_orphan_segments(settings.data_dir / "chroma")
    if dropped:
        logging.getLogger(__name__).info("removed %d orphaned index collections or folders", len(dropped))


def load_retriever(settings: Settings, corpus: Corpus | None = None) -> tuple[Retriever, str] | None:
    """Load the live index without building (None if none was built yet)."""
    return load_live(
        settings.data_dir,
        embedder_for(settings),
        settings.chroma_url,
        chroma_timeout=settings.chroma_timeout,
        corpus=corpus,
    )


def live_index_name(settings: Settings) -> str | None:
    return live_name(settings.data_dir, embedder_for(settings), settings.chroma_url, settings.chroma_timeout)


def build_engine(settings: Settings, retriever: Retriever) -> AnswerEngine:
    chat_model = None
    if settings.llm:
        chat_model = make_chat_model(settings.llm, settings.llm_base_url, settings.llm_api_key, settings.llm_timeout)
    return AnswerEngine(retriever, chat_model=chat_model)


def engine_with_documents(settings: Settings, documents: Sequence[Mapping[str, str]], workdir: Path) -> AnswerEngine:
    """An engine over the corpus plus `documents` ({name, text}), added to a fresh data folder under
    `workdir` the way `repere ingest` adds them (the eval's attacks hidden in an ingested document)."""
    from corpus.ingest import ingest_file

    inbox, data_dir = workdir / "documents", workdir / "data"
    inbox.mkdir(parents=True, exist_ok=True)
    for document in documents:
        name = Path(document["name"]).name
        path = inbox / (name if Path(name).suffix.lower() in {".txt", ".md"} else f"{name}.txt")  # as text
        path.write_text(document["text"], encoding="utf-8")
        ingest_file(path, data_dir)
    local = settings.model_copy(update={"data_dir": data_dir, "chroma_url": None})
    retriever, _ = build_retriever(local)
    return build_engine(local, retriever)


def review_document(settings: Settings, doc_id: str, reviewed: bool = True) -> tuple[Document, IndexStats]:
    """Mark an added document reviewed (or unreviewed again) and build the index on it, under the index
    lock: the running servers then load it (the review status is in the index fingerprint)."""
    from corpus.ingest import set_reviewed

    with index_lock(settings.data_dir):
        document = set_reviewed(doc_id, settings.data_dir, reviewed=reviewed)
        _, stats = build_retriever(settings)
    return document, stats
