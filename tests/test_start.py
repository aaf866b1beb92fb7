"""`repere serve` on an existing index becomes ready, on a quiet machine and beside two processes that keep
both cores busy: its workers are not killed by uvicorn's health check while they load the index, and a
restart, if any, is in the log in French."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.index import IndexStats
from retrieval.retrieve import Retriever

from .conftest import copy_index, running_server, stop, wait_ready

BUSY = "while True: pass"


@pytest.fixture
def indexed_folder(built: tuple[Retriever, IndexStats], data_dir: Path, tmp_path: Path) -> Path:
    """A data folder holding the session's index (built once, copied): `serve` finds it and reuses it."""
    return copy_index(data_dir, tmp_path / "data")


@pytest.fixture(params=[2, 8], ids=["2-busy", "8-busy"])
def busy_cores(request: pytest.FixtureRequest) -> Iterator[None]:
    """Processes spinning on the CPU (the machine has two cores), each in its own process group."""
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY], start_new_session=True) for _ in range(request.param)]
    try:
        yield
    finally:
        for spinner in spinners:
            stop(spinner)


def start_and_time(folder: Path) -> float:
    started = time.monotonic()
    with running_server(folder, {}, ["--workers", "2"]) as (base, _):
        wait_ready(base, folder / "server.log")
        elapsed = time.monotonic() - started
    log = (folder / "server.log").read_text(errors="replace")
    assert "il est relancé" not in log and "Traceback" not in log, log[-3000:]
    assert log.count("Processus serveur prêt :") == 2, log[-3000:]
    print(f"ready after {elapsed:.1f} s")
    return elapsed


def test_serve_on_an_existing_index_is_ready(indexed_folder: Path) -> None:
    start_and_time(indexed_folder)


def test_serve_is_ready_beside_busy_processes(indexed_folder: Path, busy_cores: None) -> None:
    """Both cores saturated. Before (uvicorn's 5-second health check), beside 8 spinning processes each worker
    missed the check while loading the index and was killed and restarted every ~5 s, for minutes."""
    start_and_time(indexed_folder)
