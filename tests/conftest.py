"""Shared fixtures: a real chromadb in a temp dir with the offline embedder, built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.documents import all_sections
from corpus.model import Section
from retrieval.embeddings import HashingEmbeddings
from retrieval.index import IndexStats
from retrieval.pipeline import prepare
from retrieval.retrieve import Retriever

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sections() -> list[Section]:
    return all_sections()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def built(data_dir: Path) -> tuple[Retriever, IndexStats]:
    return prepare(data_dir, HashingEmbeddings())


@pytest.fixture(scope="session")
def retriever(built: tuple[Retriever, IndexStats]) -> Retriever:
    return built[0]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    import os

    env = dict(os.environ, REPERE_DATA_DIR=str(tmp_path / "data"))
    yield env
