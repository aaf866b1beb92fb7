"""Two app instances on one Chroma server and one data folder, as in the multi-instance deployment:
same index, same answers; a re-index run from a third process reaches both without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.conftest import READY_CAP_SECONDS, free_port, running_server, start_chroma, stop

QUESTION = {"question": "c'est quoi la CRIP et comment la joindre ?", "audience": "professionnel"}


def health(base: str) -> dict[str, object]:
    deadline = time.monotonic() + READY_CAP_SECONDS  # generous: the machine may be busy
    while (response := httpx.get(f"{base}/healthz", timeout=5)).status_code != 200:
        assert time.monotonic() < deadline, "instance never loaded its index"
        time.sleep(0.3)
    body: dict[str, object] = response.json()
    return body


def test_two_instances_share_one_chroma_server_and_follow_a_reindex(tmp_path: Path) -> None:
    port = free_port()
    chroma = start_chroma(tmp_path / "chroma", port)
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {"REPERE_CHROMA_URL": f"http://127.0.0.1:{port}", "REPERE_INDEX_CHECK_SECONDS": "0.5"}
    try:
        with ExitStack() as stack:
            bases = [stack.enter_context(running_server(shared, env, log_name=f"instance-{i}.log"))[0] for i in (1, 2)]
            first = {health(base)["index"] for base in bases}
            assert len(first) == 1  # one index, built once, reused by the second instance
            answers = {httpx.post(f"{base}/api/ask", json=QUESTION, timeout=30).json()["answer"] for base in bases}
            assert len(answers) == 1 and "CRIP" in answers.pop()
            assert not (shared / "chroma").exists()  # nothing embedded: the index lives in the Chroma server

            done = subprocess.run(
                [sys.executable, "-c", "from repere.cli import main; main()", "index", "--rebuild"],
                env=dict(os.environ, REPERE_DATA_DIR=str(shared), **env),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0 and "index construit" in done.stdout, done.stderr
            deadline = time.monotonic() + READY_CAP_SECONDS
            while (now := {health(base)["index"] for base in bases}) & first:
                assert time.monotonic() < deadline, f"instances still on the old index: {now}"
                time.sleep(0.3)
            assert len(now) == 1  # both on the new index
            after = {httpx.post(f"{base}/api/ask", json=QUESTION, timeout=30).json()["answer"] for base in bases}
            assert len(after) == 1
    finally:
        stop(chroma)
