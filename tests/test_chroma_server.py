"""The same index and retrieval through a real `chroma run` server on loopback (HttpClient)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.embeddings import HashingEmbeddings
from retrieval.pipeline import prepare


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The chromadb package installs `chroma` next to the interpreter; the venv need not be on PATH.
    beside = Path(sys.executable).parent / "chroma"
    chroma = str(beside) if beside.exists() else shutil.which("chroma")
    if chroma is None:
        pytest.skip("the `chroma` command (chromadb package) is not on PATH")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("chroma run did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_index_and_search_through_a_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    retriever, stats = prepare(tmp_path, HashingEmbeddings(), chroma_url=chroma_url)
    assert not stats.reused and stats.sections == 187
    hits = retriever.search("accueil de jour pour enfants à Bourgoin-Jallieu", k=3)
    assert hits[0].source == "corpus/sources/oned_isere_la_clef_accueils_de_jour.txt"
    assert not (tmp_path / "chroma").exists()  # nothing embedded: the server holds the index
    again, reused = prepare(tmp_path, HashingEmbeddings(), chroma_url=chroma_url)
    assert reused.reused and reused.collection == stats.collection
    assert [h.section_id for h in again.search("accueil de jour à Bourgoin-Jallieu", k=3)][0] == hits[0].section_id
