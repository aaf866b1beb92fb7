"""Index stage: Sections -> Chunks -> a chromadb collection (store of record: text, metadata, embeddings).

Each build fills a new collection (named after a fingerprint of the corpus files, chunking settings
and embedder, plus its build time) next to the live one; a pointer collection's metadata names the
live index and is switched in one write once the new collection is complete. An unchanged corpus
reuses the live index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError
from filelock import FileLock, Timeout
from langchain_core.embeddings import Embeddings

from corpus.model import Section
from retrieval.chunk import Chunk, chunk_section
from retrieval.embeddings import ChromaEmbeddingAdapter, embedder_id

INDEX_VERSION = "5"  # bump when chunk metadata or text layout changes
COLLECTION_PREFIX = "repere_"
POINTER = "repere_live"  # an empty collection whose metadata names the live index collection
BATCH = 500
LOCK_FILE = ".index.lock"
log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """The Chroma server configured for the index cannot be reached."""


@dataclass(frozen=True, slots=True)
class IndexStats:
    collection: str
    sections: int
    chunks: int
    reused: bool


def open_client(data_dir: Path, chroma_url: str | None = None, timeout: float = 10.0) -> ClientAPI:
    """Embedded PersistentClient in data_dir/chroma, or an HttpClient when a Chroma server is configured.

    chromadb's HTTP client waits forever by default; a server that accepts connections but does not
    answer must not hang us, so the heartbeat is checked with a timeout first and the client's calls
    get the same bound."""
    if chroma_url:
        from urllib.parse import urlparse

        url = urlparse(chroma_url)
        try:
            httpx.get(chroma_url.rstrip("/") + "/api/v2/heartbeat", timeout=timeout).raise_for_status()
            client = chromadb.HttpClient(
                host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https"
            )
        except (ValueError, OSError, httpx.HTTPError) as exc:  # chromadb raises ValueError when unreachable
            raise IndexUnavailable(f"Chroma server unreachable at {chroma_url}: {exc}") from exc
        session = getattr(getattr(client, "_server", None), "_session", None)  # no public setting for it
        if isinstance(session, httpx.Client):
            session.timeout = httpx.Timeout(timeout)
        return client
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


def open_collection(client: ClientAPI, name: str, embedder: Embeddings) -> Collection:
    """An existing collection, read with our embedder (chromadb's default one would download a model)."""
    return client.get_collection(name, embedding_function=ChromaEmbeddingAdapter(embedder))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Pointer:
    """Which collection is live, as recorded in the metadata of the pointer collection."""

    live: str
    previous: str
    fingerprint: str
    chunks: int
    sections: int


def read_pointer(client: ClientAPI, embedder: Embeddings) -> Pointer | None:
    """The live index as last switched, or None before the first complete build."""
    try:
        meta = open_collection(client, POINTER, embedder).metadata
    except NotFoundError:
        return None
    if not meta or not meta.get("live"):
        return None
    return Pointer(
        str(meta["live"]),
        str(meta.get("previous", "")),
        str(meta["fingerprint"]),
        int(meta["chunks"]),
        int(meta["sections"]),
    )


def switch(client: ClientAPI, embedder: Embeddings, pointer: Pointer) -> None:
    """Make `pointer.live` the served index: one metadata write, so readers see the old or the new index."""
    collection = client.get_or_create_collection(POINTER, embedding_function=ChromaEmbeddingAdapter(embedder))  # type: ignore[arg-type]
    collection.modify(metadata=asdict(pointer))


def build_index(
    client: ClientAPI,
    sections: Sequence[Section],
    document_titles: dict[str, str],
    embedder: Embeddings,
    source_hashes: Iterable[str],
    chunk_tokens: int = 128,
    overlap_tokens: int = 32,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IndexStats:
    """Reuse the live index if it was built from this corpus and these settings; otherwise fill a new
    collection next to it, check it is complete, then switch the pointer to it. A build that stops
    halfway leaves the live index untouched; its partial collection is dropped by a later build."""
    fp = fingerprint(source_hashes, chunk_tokens, overlap_tokens, embedder)
    pointer = read_pointer(client, embedder)
    if pointer and pointer.fingerprint == fp and not force:
        live = open_collection(client, pointer.live, embedder)
        if live.count() == pointer.chunks:
            return IndexStats(pointer.live, pointer.sections, pointer.chunks, reused=True)
    name = f"{COLLECTION_PREFIX}{fp}_{time.time_ns():x}"
    collection = client.create_collection(
        name=name,
        embedding_function=ChromaEmbeddingAdapter(embedder),  # type: ignore[arg-type]
        metadata={"hnsw:space": "cosine", "created_ns": time.time_ns()},
    )
    by_id = {s.section_id: s for s in sections}
    chunks = [
        c for s in sections for c in chunk_section(s, document_titles.get(s.doc_id, ""), chunk_tokens, overlap_tokens)
    ]
    for start in range(0, len(chunks), BATCH):
        batch = chunks[start : start + BATCH]
        collection.add(
            ids=[c.id for c in batch],
            documents=[c.text for c in batch],
            metadatas=[chunk_metadata(c, by_id[c.section_id], document_titles.get(c.doc_id, "")) for c in batch],
            embeddings=embedder.embed_documents([c.indexed_text for c in batch]),  # type: ignore[arg-type]
        )
        if progress:
            progress(start + len(batch), len(chunks))
    if collection.count() != len(chunks):
        raise RuntimeError(f"index incomplete: {collection.count()} of {len(chunks)} chunks stored in {name}")
    previous = pointer.live if pointer else ""
    switch(client, embedder, Pointer(name, previous, fp, len(chunks), len(sections)))
    drop_stale(client, name, previous)
    return IndexStats(name, len(sections), len(chunks), reused=False)


def drop_stale(client: ClientAPI, live: str, previous: str) -> None:
    """Drop index collections older than the live one, except the one it replaced (instances that have
    not reloaded yet may still read it). Newer collections may be builds in progress elsewhere."""
    collections = {c.name: c for c in client.list_collections() if c.name.startswith(COLLECTION_PREFIX)}
    collections.pop(POINTER, None)
    threshold = created_ns(collections[live]) if live in collections else 0
    for name, collection in collections.items():
        if name not in (live, previous) and created_ns(collection) <= threshold:
            try:
                client.delete_collection(name)
            except NotFoundError:  # dropped meanwhile by another builder
                pass


def created_ns(collection: Collection) -> int:
    """Build time of an index collection (0 for collections made before the pointer existed)."""
    value = (collection.metadata or {}).get("created_ns", 0)
    return int(value) if isinstance(value, int | float) else 0


def live_collection(client: ClientAPI, embedder: Embeddings) -> Collection | None:
    """The collection the pointer designates, if an index was built."""
    pointer = read_pointer(client, embedder)
    if pointer is None:
        return None
    return open_collection(client, pointer.live, embedder)


@contextmanager
def index_lock(data_dir: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """One ingest or index build at a time per data folder (every process that shares the folder): a second
    run waits for the first (`waiting` is called once if it has to). Reentrant in one thread. A read-only
    folder takes no lock: nothing can be built there, and the build itself reports why."""
    lock = FileLock(data_dir / LOCK_FILE, is_singleton=True)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if waiting is not None:
                waiting()
            lock.acquire()
    except (PermissionError, OSError) as error:
        if isinstance(error, Timeout):
            raise
        yield
        return
    try:
        yield
    finally:
        lock.release()


def drop_orphans(client: ClientAPI, embedder: Embeddings) -> list[str]:
    """Under the index lock (no build running): drop every index collection but the live one and the one it
    replaced, i.e. the partial collections of builds that were killed. Returns their names."""
    pointer = read_pointer(client, embedder)
    keep = {POINTER, pointer.live, pointer.previous} if pointer else {POINTER}
    dropped = []
    for collection in client.list_collections():
        if collection.name.startswith(COLLECTION_PREFIX) and collection.name not in keep:
            try:
                client.delete_collection(collection.name)
                dropped.append(collection.name)
            except NotFoundError:
                pass
    return dropped


SEGMENT_FOLDER = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def remove_orphan_segments(chroma_dir: Path) -> list[str]:
    """Under the index lock, embedded Chroma only: remove the segment folders (vector files named after a
    segment id) that no segment of chroma.sqlite3 names any more, left by killed builds or dropped collections.
    Chroma's own file layout: if it is not the one known, nothing is removed."""
    database = chroma_dir / "chroma.sqlite3"
    if not database.is_file():
        return []
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as connection:
            known = {str(row[0]) for row in connection.execute("SELECT id FROM segments")}
    except sqlite3.Error as error:
        log.warning("chroma segments not listed (%s): no folder removed", error)
        return []
    removed = []
    for folder in chroma_dir.iterdir():
        if folder.is_dir() and SEGMENT_FOLDER.match(folder.name) and folder.name not in known:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed
