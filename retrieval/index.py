"""Index stage: Sections -> Chunks -> a chromadb collection (store of record: text, metadata, embeddings).

The collection name carries a fingerprint of the corpus files, chunking settings and embedder, so an
unchanged corpus reuses its index and a changed one gets a fresh collection, filled before the old
one is dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings

from corpus.model import Section
from retrieval.chunk import Chunk, chunk_section
from retrieval.embeddings import ChromaEmbeddingAdapter, embedder_id

INDEX_VERSION = "3"  # bump when chunk metadata or text layout changes
COLLECTION_PREFIX = "repere_"
BATCH = 500


@dataclass(frozen=True, slots=True)
class IndexStats:
    collection: str
    sections: int
    chunks: int
    reused: bool


def open_client(data_dir: Path, chroma_url: str | None = None) -> ClientAPI:
    """Embedded PersistentClient in data_dir/chroma, or an HttpClient when a Chroma server is configured."""
    if chroma_url:
        from urllib.parse import urlparse

        url = urlparse(chroma_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https")
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def fingerprint(source_hashes: Iterable[str], chunk_tokens: int, overlap_tokens: int, embedder: Embeddings) -> str:
    payload = json.dumps([INDEX_VERSION, sorted(source_hashes), chunk_tokens, overlap_tokens, embedder_id(embedder)])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def chunk_metadata(chunk: Chunk, section: Section, document: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "document": document,
        "section_id": chunk.section_id,
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "ordinal": chunk.ordinal,
        "header": chunk.header,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "field": chunk.field,
        "section_title": section.display_title,
        "section_kind": section.kind,
        "section_start": section.start_line,
        "section_end": section.end_line,
    }
    optional = {
        "number": section.number,
        "page": section.page,
        "territory": section.territory,
        "public": section.public,
    }
    meta.update({k: v for k, v in optional.items() if v is not None})  # chroma rejects None values
    return meta


def collection_for(client: ClientAPI, name: str, embedder: Embeddings) -> Collection:
    return client.get_or_create_collection(
        name=name,
        embedding_function=ChromaEmbeddingAdapter(embedder),  # type: ignore[arg-type]
        metadata={"hnsw:space": "cosine"},
    )


def build_index(
    client: ClientAPI,
    sections: Sequence[Section],
    document_titles: dict[str, str],
    embedder: Embeddings,
    source_hashes: Iterable[str],
    chunk_tokens: int = 128,
    overlap_tokens: int = 32,
    force: bool = False,
) -> IndexStats:
    """Fill (or reuse) the collection for this corpus; older repere collections are dropped afterwards."""
    name = COLLECTION_PREFIX + fingerprint(source_hashes, chunk_tokens, overlap_tokens, embedder)
    existing = {c.name for c in client.list_collections()}
    if name in existing and not force:
        count = client.get_collection(name, embedding_function=ChromaEmbeddingAdapter(embedder)).count()  # type: ignore[arg-type]
        if count:
            return IndexStats(name, len(sections), count, reused=True)
    building = name + "_building"
    if building in existing:
        client.delete_collection(building)
    collection = collection_for(client, building, embedder)
    by_id = {s.section_id: s for s in sections}
    chunks = [
        c for s in sections for c in chunk_section(s, document_titles.get(s.doc_id, ""), chunk_tokens, overlap_tokens)
    ]
    for start in range(0, len(chunks), BATCH):
        batch = chunks[start : start + BATCH]
        texts = [c.indexed_text for c in batch]
        collection.add(
            ids=[c.id for c in batch],
            documents=[c.text for c in batch],
            metadatas=[chunk_metadata(c, by_id[c.section_id], document_titles.get(c.doc_id, "")) for c in batch],
            embeddings=embedder.embed_documents(texts),  # type: ignore[arg-type]
        )
    # Switch: the complete collection takes the live name, then stale ones go.
    if name in existing:
        client.delete_collection(name)
    collection.modify(name=name)
    for old in existing:
        if old.startswith(COLLECTION_PREFIX) and old not in (name, building):
            client.delete_collection(old)
    return IndexStats(name, len(sections), len(chunks), reused=False)


def live_collection(client: ClientAPI, embedder: Embeddings) -> Collection | None:
    """The current repere collection, if an index was built."""
    names = [c.name for c in client.list_collections() if c.name.startswith(COLLECTION_PREFIX)]
    names = [n for n in names if not n.endswith("_building")]
    if not names:
        return None
    return client.get_collection(sorted(names)[-1], embedding_function=ChromaEmbeddingAdapter(embedder))  # type: ignore[arg-type]
