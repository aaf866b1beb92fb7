"""A real chromadb in a temp dir: build, reuse, rebuild on change, explicit embedding function."""

from __future__ import annotations

from pathlib import Path

from corpus.model import Section
from retrieval.embeddings import ChromaEmbeddingAdapter, HashingEmbeddings
from retrieval.index import IndexStats, build_index, live_collection, open_client
from retrieval.retrieve import Retriever


def test_index_is_built_then_reused(built: tuple[Retriever, IndexStats], data_dir: Path) -> None:
    retriever, stats = built
    assert stats.sections == 187 and stats.chunks == len(retriever) > 186
    client = open_client(data_dir)
    collection = live_collection(client, HashingEmbeddings())
    assert collection is not None and collection.name == stats.collection
    assert collection.count() == stats.chunks
    record = collection.get(ids=[retriever.ids[0]], include=["metadatas", "embeddings"])
    meta = record["metadatas"][0]
    assert {"source", "start_line", "end_line", "section_id", "header"} <= set(meta)
    assert len(record["embeddings"][0]) == HashingEmbeddings().dim
    assert isinstance(collection._embedding_function, ChromaEmbeddingAdapter)


def test_unchanged_corpus_reuses_and_changed_corpus_replaces(tmp_path: Path, sections: list[Section]) -> None:
    client = open_client(tmp_path)
    few = sections[:5]
    first = build_index(client, few, {}, HashingEmbeddings(), ["a"])
    again = build_index(client, few, {}, HashingEmbeddings(), ["a"])
    assert not first.reused and again.reused and again.collection == first.collection
    changed = build_index(client, few[:3], {}, HashingEmbeddings(), ["b"])
    assert changed.collection != first.collection
    names = [c.name for c in client.list_collections()]
    assert names == [changed.collection]  # the stale collection is dropped after the switch
