"""Shared fixtures: a real chromadb in a temp dir with the offline embedder, built once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import httpx
import pytest

from corpus.documents import all_sections
from corpus.model import Section
from retrieval.embeddings import HashingEmbeddings
from retrieval.index import IndexStats
from retrieval.pipeline import prepare
from retrieval.retrieve import Retriever

ROOT = Path(__file__).resolve().parent.parent
TRAINER_TOKEN = "jeton-de-test-formateurs"
# The browser tests (test_browser.py, test_trainers_browser.py): Debian's Chromium driven by Playwright;
# their screenshots at phone (360 px) and desktop width go to test-artifacts/.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-data")


def copy_index(data_dir: Path, folder: Path) -> Path:
    """The session's index (built once, by the `built` fixture) copied into a data folder: `repere` finds it
    there and reuses it instead of building its own."""
    shutil.copytree(data_dir / "chroma", folder / "chroma", dirs_exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def server(server_folder: Path, built: tuple[Retriever, IndexStats], data_dir: Path) -> Iterator[str]:
    """`repere serve` in a subprocess on a free loopback port, with its own data folder, index loaded."""
    copy_index(data_dir, server_folder)
    with running_server(server_folder, {"REPERE_TRAINER_TOKEN": TRAINER_TOKEN}) as (base, _):
        wait_ready(base, server_folder / "server.log")
        yield base


# Generous: on a machine saturated by other work, loading the index may take minutes. Tests wait on
# readiness (never a short fixed deadline); the cap only stops a server that will never be ready.
READY_CAP_SECONDS = 900


def wait_ready(base: str, log: Path, cap: float = READY_CAP_SECONDS) -> None:
    """Wait until /healthz answers 200 (index loaded); fail with the server's log after `cap` seconds."""
    deadline = time.monotonic() + cap
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=30).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server was not ready after {cap:g} s: " + log.read_text(errors="replace")[-3000:])
        time.sleep(0.3)


@contextmanager
def running_server(
    folder: Path, env: dict[str, str], args: Sequence[str] = (), log_name: str = "server.log"
) -> Iterator[tuple[str, Popen[bytes]]]:
    """`repere serve` in a subprocess on a free port, with the given REPERE_* settings; stopped at exit.
    Yields the base URL once the port accepts connections (not necessarily once the index is loaded)."""
    port = free_port()
    log = (folder / log_name).open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from repere.cli import main; main()", "serve", "--port", str(port), *args],
        env=dict(os.environ, REPERE_DATA_DIR=str(folder), REPERE_RATE_LIMIT_PER_MINUTE="10000") | env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() ends the workers too
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_CAP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("the server exited: " + (folder / log_name).read_text(errors="replace")[-2000:])
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not start: " + (folder / log_name).read_text(errors="replace")[-2000:])
        yield base, process
    finally:
        stop(process)
        log.close()


def start_chroma(path: Path, port: int) -> Popen[bytes]:
    """A real `chroma run` server on loopback (the chromadb package installs `chroma` beside python)."""
    beside = Path(sys.executable).parent / "chroma"
    chroma = str(beside) if beside.exists() else shutil.which("chroma")
    if chroma is None:
        pytest.skip("the `chroma` command (chromadb package) is not installed")
    process = subprocess.Popen(
        start_new_session=True,
        args=[chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    pytest.fail("chroma run did not start within 30 s")


def stop(process: Popen[bytes]) -> None:
    """Stop a process started with start_new_session=True and everything in its group (workers, children)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # a worker that outlived its supervisor
    process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Chromium for a module's browser tests (each test opens its own pages). Per module, not per
    session: Playwright's sync API holds an event loop in the main thread until it stops, and later tests
    call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
