"""Wiring of the retrieval stages: corpus documents -> index (built or reused) -> Retriever."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings
from threadpoolctl import threadpool_limits

from corpus.clean import fold
from corpus.documents import Document, all_sections, builtin_documents, load_manifest
from corpus.model import Section
from retrieval.analyze import Analyzer, build_analyzer
from retrieval.definitions import defined_acronyms
from retrieval.index import IndexStats, build_index, collection_for, live_collection, open_client
from retrieval.retrieve import Retriever, Weights

_LOWER_WORD = re.compile(r"\b[a-zà-ÿ]{2,8}\b")


@dataclass(frozen=True, slots=True)
class Corpus:
    sections: list[Section]
    titles: dict[str, str]  # doc_id -> title
    hashes: list[str]  # the index fingerprint's inputs: each document (and its review), what the parsers read
    documents: tuple[Document, ...] = ()


def ingested_manifest(data_dir: Path) -> Path:
    return data_dir / "sources" / "manifest.json"


def load_corpus(data_dir: Path) -> Corpus:
    """Every section of the built-in corpus and of the documents ingested into data_dir."""
    extra = ingested_manifest(data_dir)
    # An added document is unreviewed until marked otherwise (a manifest written before the field existed too).
    added = [d if d.reviewed is not None else d.model_copy(update={"reviewed": False}) for d in load_manifest(extra)]
    docs = [*builtin_documents(), *added]
    # The review status is part of the fingerprint: marking a document reviewed makes running servers reload.
    hashes = [d.sha256 if d.is_reviewed() else f"{d.sha256}:non-vérifié" for d in docs]
    sections = all_sections(extra)
    # So is what the parsers read from the files: a parser that changes rebuilds the index, files unchanged.
    parsed = hashlib.sha256()
    for section in sections:
        parsed.update(f"{section.section_id}\n{section.title}\n{section.text}\n".encode())
    return Corpus(sections, {d.id: d.title for d in docs}, [*hashes, f"sections:{parsed.hexdigest()}"], tuple(docs))


def analyzer_for(sections: list[Section]) -> Analyzer:
    """The analyzer, its acronym lexicon extended with the corpus glossaries and with the acronyms the
    documents spell out in their text (« projet pour et avec la famille (PPAF) »)."""
    glossary = [line.text for s in sections if s.kind == "glossaire" for f in s.fields for line in f.lines]
    texts = [s.text for s in sections if s.kind != "glossaire"]
    defined = defined_acronyms(texts, [s.title for s in sections])
    ordinary = {w for text in texts for w in _LOWER_WORD.findall(text)}
    return build_analyzer(glossary, defined, {fold(w) for w in ordinary})


def prepare(
    data_dir: Path,
    embedder: Embeddings,
    chroma_url: str | None = None,
    chunk_tokens: int = 128,
    overlap_tokens: int = 32,
    rebuild: bool = False,
    weights: Weights | None = None,
    progress: Callable[[int, int], None] | None = None,
    chroma_timeout: float = 10.0,
    corpus: Corpus | None = None,
) -> tuple[Retriever, IndexStats]:
    """Build the index if the corpus changed (or when asked), then load a Retriever on it. `corpus`: the
    one loaded from data_dir, when the caller already has it."""
    # A query is one matrix-vector product (1,566 x 1,024): a single BLAS thread does it ~7x faster than
    # OpenBLAS's thread pool, which also fights for the cores with the server's other requests.
    threadpool_limits(limits=1, user_api="blas")
    corpus = corpus or load_corpus(data_dir)
    client = open_client(data_dir, chroma_url, chroma_timeout)
    stats = build_index(
        client,
        corpus.sections,
        corpus.titles,
        embedder,
        corpus.hashes,
        chunk_tokens,
        overlap_tokens,
        force=rebuild,
        progress=progress,
    )
    collection = collection_for(client, stats.collection, embedder)
    return Retriever(collection, embedder, analyzer_for(corpus.sections), weights, corpus.documents), stats


def live_name(
    data_dir: Path, embedder: Embeddings, chroma_url: str | None = None, chroma_timeout: float = 10.0
) -> str | None:
    """Name of the collection the index pointer designates now (a cheap read, for reload checks)."""
    collection = live_collection(open_client(data_dir, chroma_url, chroma_timeout), embedder)
    return collection.name if collection else None


def load_live(
    data_dir: Path,
    embedder: Embeddings,
    chroma_url: str | None = None,
    weights: Weights | None = None,
    chroma_timeout: float = 10.0,
    corpus: Corpus | None = None,
) -> tuple[Retriever, str] | None:
    """A Retriever on the live index as the pointer designates it (built elsewhere), without building."""
    collection = live_collection(open_client(data_dir, chroma_url, chroma_timeout), embedder)
    if collection is None:
        return None
    corpus = corpus or load_corpus(data_dir)
    retriever = Retriever(collection, embedder, analyzer_for(corpus.sections), weights, corpus.documents)
    return retriever, collection.name
