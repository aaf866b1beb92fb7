"""Chroma in client/server mode: a real `chroma run` on loopback, reached through HttpClient, and a
server that starts while Chroma is down (503, no crash) and recovers when it comes back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from retrieval.embeddings import HashingEmbeddings
from retrieval.pipeline import prepare
from tests.conftest import READY_CAP_SECONDS, free_port, running_server, start_chroma, stop


def test_index_and_search_through_a_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    retriever, stats = prepare(tmp_path, HashingEmbeddings(), chroma_url=chroma_url)
    assert stats.sections == 196
    hits = retriever.search("accueil de jour pour enfants à Bourgoin-Jallieu", k=3)
    assert hits[0].source == "corpus/sources/oned_isere_la_clef_accueils_de_jour.txt"
    assert not (tmp_path / "chroma").exists()  # nothing embedded: the server holds the index
    again, reused = prepare(tmp_path, HashingEmbeddings(), chroma_url=chroma_url)
    assert reused.reused and reused.collection == stats.collection
    assert [h.section_id for h in again.search("accueil de jour à Bourgoin-Jallieu", k=3)][0] == hits[0].section_id


def test_unreachable_chroma_gives_503_then_recovers(tmp_path: Path) -> None:
    port = free_port()
    env = {"REPERE_CHROMA_URL": f"http://127.0.0.1:{port}", "REPERE_INDEX_CHECK_SECONDS": "0.5"}
    with running_server(tmp_path, env, args=["--workers", "1"]) as (base, process):  # one process to watch
        log = (tmp_path / "server.log").read_text()
        assert "base Chroma injoignable" in log  # a clear error on start, and the server stays up
        health = httpx.get(f"{base}/healthz", timeout=5)
        assert health.status_code == 503 and "momentanément indisponible" in health.json()["detail"]
        ask = httpx.post(f"{base}/api/ask", json={"question": "Qui contacter ?", "audience": "famille"}, timeout=5)
        assert ask.status_code == 503 and ask.headers["retry-after"] == "10"
        assert "119" in ask.json()["detail"]  # even then, the emergency number
        page = httpx.post(
            f"{base}/chat", data={"question": "Qui contacter ?", "audience": "famille"}, headers={"accept": "text/html"}
        )
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "Service momentanément indisponible" in page.text
        time.sleep(2)  # several failed checks: still the same process, no crash loop
        assert process.poll() is None

        chroma = start_chroma(tmp_path / "chroma-server", port)
        try:
            deadline = time.monotonic() + READY_CAP_SECONDS  # generous: the machine may be busy
            while (health := httpx.get(f"{base}/healthz", timeout=5)).status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover when Chroma came back"
                time.sleep(0.5)
            assert health.json()["passages"] > 1000
            ask = httpx.post(
                f"{base}/api/ask", json={"question": "groupe de parents à Firminy", "audience": "famille"}, timeout=30
            )
            assert ask.status_code == 200 and "Gier Ondaine Pilat" in ask.json()["answer"]
        finally:
            stop(chroma)
        # Chroma gone again: the loaded index keeps answering.
        time.sleep(1.5)
        again = httpx.post(f"{base}/api/ask", json={"question": "C'est quoi la CRIP ?", "audience": "famille"})
        assert again.status_code == 200 and process.poll() is None


@pytest.mark.parametrize("silent", [False, True], ids=["nothing-listening", "accepts-but-never-answers"])
def test_index_command_says_when_chroma_is_unreachable(tmp_path: Path, silent: bool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if silent:
            listener.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        else:
            listener.close()
        env = dict(
            os.environ,
            REPERE_DATA_DIR=str(tmp_path),
            REPERE_CHROMA_URL=f"http://127.0.0.1:{port}",
            REPERE_CHROMA_TIMEOUT="1",
        )
        done = subprocess.run(
            [sys.executable, "-c", "from repere.cli import main; main()", "index"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # without the client timeout, a silent server would hang the command forever
        )
    assert done.returncode == 1 and "base Chroma injoignable, index inchangé" in done.stderr
    assert "Traceback" not in done.stderr
