"""A real chromadb in a temp dir: build, reuse, rebuild on change, explicit embedding function."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.model import Section
from retrieval.embeddings import ChromaEmbeddingAdapter, HashingEmbeddings
from retrieval.index import POINTER, IndexStats, build_index, live_collection, open_client, read_pointer
from retrieval.retrieve import Retriever


def test_index_is_built_then_reused(built: tuple[Retriever, IndexStats], data_dir: Path) -> None:
    retriever, stats = built
    assert stats.sections == 196 and stats.chunks == len(retriever) > 195
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
    assert changed.collection != first.collection and changed.chunks < first.chunks
    live = live_collection(client, HashingEmbeddings())
    assert live is not None and live.name == changed.collection and live.count() == changed.chunks
    third = build_index(client, few[:2], {}, HashingEmbeddings(), ["c"])
    names = sorted(c.name for c in client.list_collections())
    # the live index, the one it replaced (instances may still read it), the pointer; older ones dropped
    assert names == sorted([third.collection, changed.collection, POINTER])


def test_a_build_that_stops_halfway_leaves_the_live_index(tmp_path: Path, sections: list[Section]) -> None:
    client = open_client(tmp_path)
    live = build_index(client, sections[:5], {}, HashingEmbeddings(), ["a"])

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt  # as a kill after the first batch

    with pytest.raises(KeyboardInterrupt):
        build_index(client, sections, {}, HashingEmbeddings(), ["b"], progress=stop)
    pointer = read_pointer(client, HashingEmbeddings())
    assert pointer is not None and pointer.live == live.collection and pointer.chunks == live.chunks
    assert len(client.list_collections()) == 3  # live, pointer, and the partial build left aside
    assert build_index(client, sections[:5], {}, HashingEmbeddings(), ["a"]).reused  # still served as is
    rebuilt = build_index(client, sections[:5], {}, HashingEmbeddings(), ["a"], force=True)
    assert not rebuilt.reused and rebuilt.collection != live.collection
    names = {c.name for c in client.list_collections()}
    assert names == {rebuilt.collection, live.collection, POINTER}  # the partial build is dropped
