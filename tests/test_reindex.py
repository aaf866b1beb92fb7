"""Re-indexing next to the live index, killed halfway and run to the end, while a real server answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import READY_CAP_SECONDS, running_server

QUESTION = {"question": "groupe de parents à Firminy", "audience": "famille"}


def index_command(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from repere.cli import main; main()", "index", "--rebuild"],
        env=dict(os.environ, REPERE_DATA_DIR=str(folder)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_ready(base: str) -> dict[str, object]:
    deadline = time.monotonic() + READY_CAP_SECONDS  # generous: the machine may be busy
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/healthz", timeout=5)
        if response.status_code == 200:
            health: dict[str, object] = response.json()
            return health
        time.sleep(0.3)
    raise AssertionError("the server never loaded its index")


def test_reindex_killed_halfway_then_completed_under_a_live_server(tmp_path: Path) -> None:
    with running_server(tmp_path, {"REPERE_INDEX_CHECK_SECONDS": "0.5"}) as (base, _):
        live = wait_ready(base)["index"]
        before = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=30).json()

        # A re-index killed (SIGKILL) after its first batch of passages is stored.
        killed = index_command(tmp_path)
        assert killed.stdout is not None
        line = killed.stdout.readline()
        assert line.startswith("passages indexés : "), line
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        killed.stdout.close()
        time.sleep(2)  # several index checks by the server
        assert httpx.get(f"{base}/healthz", timeout=5).json()["index"] == live
        during = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=30)
        assert during.status_code == 200 and during.json()["answer"] == before["answer"]

        # A complete re-index: the server switches to it without a restart, answers unchanged.
        done = index_command(tmp_path)
        output, _ = done.communicate(timeout=READY_CAP_SECONDS)
        assert done.returncode == 0 and "index construit" in output, output
        deadline = time.monotonic() + READY_CAP_SECONDS
        while httpx.get(f"{base}/healthz", timeout=5).json()["index"] == live:
            assert time.monotonic() < deadline, "the server did not switch to the new index"
            time.sleep(0.3)
        after = httpx.post(f"{base}/api/ask", json=QUESTION, timeout=30)
        assert after.status_code == 200 and after.json()["answer"] == before["answer"]

    # The partial collection of the killed run is gone; the new index and the one it replaced remain.
    from retrieval.index import POINTER, open_client

    names = {c.name for c in open_client(tmp_path).list_collections()}
    assert len(names) == 3 and POINTER in names and live in names
