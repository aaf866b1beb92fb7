"""`repere serve --workers 3` in a subprocess, on SQLite and on PostgreSQL: concurrent feedback from many
clients is stored exactly once per 201, and a trainers' eval job started through one request is seen the
same way by every worker."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPResponse
from pathlib import Path

import httpx
import pytest

from web.feedback import FeedbackStore
from web.storage import Database

from .conftest import READY_CAP_SECONDS, ROOT, TRAINER_TOKEN, free_port, stop
from .databases import BACKENDS, database_url

WORKERS = 3
POSTS = 300
AUTH = {"authorization": f"Bearer {TRAINER_TOKEN}"}
KEEPALIVE = 5  # requests per kept-alive connection before the server closes it


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh data folder; the first server builds the index in it, the next one reuses it."""
    return tmp_path_factory.mktemp("workers-data")


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, index_dir: Path) -> Iterator[tuple[str, str]]:
    """(base address, database URL) of a server with three worker processes on a fresh database."""
    url = database_url(request.param, index_dir / request.param)
    port = free_port()
    env = dict(
        os.environ,
        REPERE_DATA_DIR=str(index_dir),
        REPERE_DATABASE_URL=url,
        REPERE_RATE_LIMIT_PER_MINUTE="100000",
        REPERE_TRAINER_TOKEN=TRAINER_TOKEN,
        REPERE_KEEPALIVE_REQUESTS=str(KEEPALIVE),
    )
    log_path = index_dir / f"server-{request.param}.log"
    with log_path.open("wb") as log:
        command = ["serve", "--port", str(port), "--workers", str(WORKERS)]
        process = subprocess.Popen(
            [sys.executable, "-c", "from repere.cli import main; main()", *command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stop() ends the workers with it
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_CAP_SECONDS  # generous: the machine may be busy
            while not _ready(base, WORKERS):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the server did not start: " + log_path.read_text(errors="replace")[-2000:])
                time.sleep(0.5)
            yield base, url
        finally:
            stop(process)


def _ready(base: str, workers: int) -> bool:
    """Every worker answers: several answers in a row from fresh connections (a worker still loading the
    index accepts nothing, so its siblings answer instead; a few answers in a row make this likely)."""
    try:
        return all(httpx.get(f"{base}/healthz", timeout=2).status_code == 200 for _ in range(workers * 3))
    except httpx.TransportError:
        return False


def feedback(i: int) -> dict[str, object]:
    return {
        "useful": i % 3 != 0,
        "question": f"question concurrente {i}",
        "audience": "famille" if i % 2 else "professionnel",
        "answer": "réponse",
        "sources": [{"n": 1, "section_id": f"s-{i}"}],
        "comment": f"charge {i}",
    }


def test_concurrent_feedback_from_many_clients_is_stored_exactly_once(served: tuple[str, str]) -> None:
    base, url = served

    def post(i: int) -> tuple[int, int | None]:
        # a fresh connection per request, so the kernel spreads them over the three workers
        response = httpx.post(f"{base}/api/feedback", json=feedback(i), timeout=60)
        return response.status_code, response.json().get("id") if response.status_code == 201 else None

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(post, range(POSTS)))
    statuses = [status for status, _ in answers]
    created = [ident for status, ident in answers if status == 201]
    print(f"\n{url.split(':')[0]}: {len(created)} of {POSTS} POST /api/feedback answered 201, statuses {set(statuses)}")
    assert set(statuses) <= {201, 503}  # never a 500, never a dropped connection
    assert len(created) == POSTS  # nothing refused under this load either
    database = Database(url)
    try:
        store = FeedbackStore(database)
        assert store.count() == len(created)
        stored = store.list(limit=10 * POSTS)
    finally:
        database.dispose()
    assert sorted(r["id"] for r in stored) == sorted(created)  # the ids the clients got are the rows stored
    assert sorted(r["comment"] for r in stored) == sorted(f"charge {i}" for i in range(POSTS))
    exported = [json.loads(line) for line in httpx.get(f"{base}/formateurs/avis.jsonl", headers=AUTH).text.splitlines()]
    assert len(exported) == len(created) and {e["id"] for e in exported} == set(created)


def test_an_eval_job_is_seen_alike_by_every_worker(served: tuple[str, str]) -> None:
    base, _ = served
    lines = (ROOT / "evals" / "eval_set.jsonl").read_text().splitlines()[:4]
    upload = httpx.post(
        f"{base}/formateurs/evaluation", files={"fichier": ("mini.jsonl", "\n".join(lines).encode())}, headers=AUTH
    )
    assert upload.status_code == 303
    job_url = base + upload.headers["location"]
    job_id = job_url.rsplit("/", 1)[1]
    progress, final_pages = [], []
    deadline = time.monotonic() + 300
    while len(final_pages) < 12:  # poll from fresh connections until a dozen answers show the finished job
        page = httpx.get(job_url, headers=AUTH)
        assert page.status_code == 200 and "Évaluation du " in page.text and "Fichier « mini.jsonl »" in page.text
        done = re.search(r"(\d+)/4 questions", page.text)
        assert done is not None
        progress.append(int(done.group(1)))
        if "questions — terminée" in page.text:
            final_pages.append(page.text)
        assert time.monotonic() < deadline, f"the job did not finish: {progress[-10:]}"
        time.sleep(0.05)
    assert progress == sorted(progress)  # every worker sees the same progress, never going back
    assert len(set(final_pages)) == 1  # and the same final page: 4 answers, scores
    assert "4/4 questions — terminée" in final_pages[0] and "questions réussies sur 4</strong>" in final_pages[0]
    for _ in range(2 * WORKERS):
        dashboard = httpx.get(f"{base}/formateurs", headers=AUTH)
        assert dashboard.status_code == 200
        listed = re.search(f'href="/formateurs/evaluation/{job_id}">[^<]*</a>([^<]*)</li>', dashboard.text)
        assert listed is not None and listed.group(1).endswith("4/4 questions (terminée)")
    assert httpx.get(f"{base}/formateurs/evaluation/inconnue", headers=AUTH).status_code == 404


def test_a_kept_alive_connection_is_closed_after_its_quota_and_the_client_reconnects(served: tuple[str, str]) -> None:
    """The server closes a kept-alive connection after REPERE_KEEPALIVE_REQUESTS requests, so that its
    client reconnects to whichever worker accepts first instead of staying with one worker for good."""
    base, _ = served
    host, port = base.removeprefix("http://").split(":")
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()

    def one_connection() -> list[str | None]:
        """Requests on one connection until the server closes it; each response's Connection header."""
        headers: list[str | None] = []
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            while len(headers) <= KEEPALIVE:
                sock.sendall(request)
                response = HTTPResponse(sock)
                response.begin()
                assert response.status == 200 and b'"status"' in response.read()
                headers.append(response.getheader("connection"))
                if headers[-1] == "close":
                    assert sock.recv(1) == b""  # and the server did close it
                    break
        return headers

    for _ in range(2):  # the next connection starts a new count
        assert one_connection() == [None] * (KEEPALIVE - 1) + ["close"]
