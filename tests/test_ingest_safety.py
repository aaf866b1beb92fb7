"""Ingest and index runs that lose nothing, in subprocesses of the real `repere` command on a real embedded
Chroma: a killed ingest is completed by the next run, a name collision is refused, concurrent ingests wait for
each other, a killed build leaves no orphaned collection or segment folder, and a read-only data folder is a
French message everywhere (CLI and web), never a traceback or a 500."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from corpus.ingest import ingest_file
from repere.serve import create_app
from repere.settings import Settings
from retrieval.index import IndexStats
from retrieval.retrieve import Retriever

from .conftest import TRAINER_TOKEN, copy_index

COMMAND = [sys.executable, "-c", "from repere.cli import main; main()"]


def repere(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REPERE_DATA_DIR=str(data))
    return subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=900)


def search(data: Path, words: str) -> list[dict[str, object]]:
    result = repere(data, "search", words, "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    hits: list[dict[str, object]] = json.loads(result.stdout)
    return hits


@pytest.fixture
def data(built: tuple[Retriever, IndexStats], data_dir: Path, tmp_path: Path) -> Path:
    """A data folder of its own, with the session's index (built once, copied)."""
    return copy_index(data_dir, tmp_path / "data")


def document(folder: Path, name: str, word: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# Note {word}\n\nUne note de service sur le {word} des familles.\n", encoding="utf-8")
    return path


def test_an_interrupted_ingest_is_completed_by_the_next_run(data: Path, tmp_path: Path) -> None:
    """Killed after its manifest was written, before its index was built (what a kill during the build leaves):
    before, the retry said « déjà dans le corpus, inchangé » and the document was never served."""
    doc = document(tmp_path / "in", "interrompu.md", "zanzibarique")
    ingest_file(doc, data)  # the first half of `repere ingest`, then the process « dies »
    retry = repere(data, "ingest", str(doc))
    assert retry.returncode == 0 and "indexation interrompue est terminée" in retry.stdout, retry.stdout
    assert search(data, "zanzibarique")[0]["doc_id"] == "ajout-interrompu"
    again = repere(data, "ingest", str(doc))
    assert "rien à faire" in again.stdout


def test_a_name_collision_is_refused(data: Path, tmp_path: Path) -> None:
    first = repere(data, "ingest", str(document(tmp_path / "a", "rapport.md", "ornithorynque")))
    assert first.returncode == 0 and "ajouté" in first.stdout
    for other in (
        document(tmp_path / "b", "Rapport.md", "kangourou"),
        document(tmp_path / "c", "rapport.txt", "koala"),
    ):
        clash = repere(data, "ingest", str(other))
        assert clash.returncode == 1 and "porte déjà le nom « ajout-rapport »" in clash.stderr
        assert "Traceback" not in clash.stderr
    assert search(data, "ornithorynque")[0]["doc_id"] == "ajout-rapport"  # the first one is still served
    manifest = json.loads((data / "sources" / "manifest.json").read_text())
    assert [d["title"] for d in manifest] == ["rapport"]


def test_concurrent_ingests_wait_for_each_other(data: Path, tmp_path: Path) -> None:
    """Before: a raw Chroma NotFoundError (one build dropped the collection another was filling)."""
    words = ["pangolin", "tamanoir", "okapi"]
    env = dict(os.environ, REPERE_DATA_DIR=str(data))
    runs = [
        subprocess.Popen(
            [*COMMAND, "ingest", str(document(tmp_path / w, f"{w}.md", w))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in words
    ]
    outputs = [run.communicate(timeout=900) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0 and "ajouté" in out, err
        assert "Error" not in err and "Traceback" not in err
    for word in words:
        assert search(data, word)[0]["doc_id"] == f"ajout-{word}"


def collections_and_folders(data: Path) -> tuple[set[str], set[str], set[str]]:
    chroma = data / "chroma"
    with closing(sqlite3.connect(chroma / "chroma.sqlite3")) as connection:
        names = {str(r[0]) for r in connection.execute("SELECT name FROM collections")}
        segments = {str(r[0]) for r in connection.execute("SELECT id FROM segments")}
    folders = {p.name for p in chroma.iterdir() if p.is_dir()}
    return names, segments, folders


def test_a_killed_build_leaves_no_orphans(data: Path) -> None:
    env = dict(os.environ, REPERE_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    for _ in range(2):  # two builds killed halfway
        build = subprocess.Popen(
            [*COMMAND, "index", "--rebuild"], env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert build.stdout is not None
        for line in build.stdout:
            if line.startswith("passages indexés : 1000/"):
                break
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        build.stdout.close()
    names, _, _ = collections_and_folders(data)
    assert len(names) >= 3  # pointer, live, and the partial collection (the second run dropped the first one's)
    assert repere(data, "index").returncode == 0
    names, segments, folders = collections_and_folders(data)
    assert len(names) == 2, names  # the pointer and the live index
    assert folders <= segments, folders - segments


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder read-only for this process: a read-only bind mount as root (root ignores file modes)."""
    if os.geteuid() != 0:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield
        finally:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
        return
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"a read-only bind mount is not allowed here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        unmount(folder)


def unmount(folder: Path) -> None:
    """Undo the bind mount. The app still running in the test may hold a file it opened through the mount
    (a pooled SQLite connection): « target is busy » for a while, then a lazy unmount detaches it (the
    handle closes with the app, right after)."""
    for _ in range(25):
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_read_only_data_folder_is_a_french_message_everywhere(data: Path, tmp_path: Path) -> None:
    doc = document(tmp_path / "in", "lecture.md", "capybara")
    with TestClient(create_app(Settings(data_dir=data, trainer_token=TRAINER_TOKEN)), "https://testserver") as c:
        first = c.post(
            "/api/feedback",
            json={"useful": False, "question": "q", "audience": "famille", "answer": "r", "sources": []},
        )
        assert first.status_code == 201, first.text
        entry = c.get("/formateurs/avis.jsonl", headers={"authorization": f"Bearer {TRAINER_TOKEN}"}).text
        entry_id = json.loads(entry.splitlines()[0])["id"]
        with read_only(data):
            for command in (["ingest", str(doc)], ["index", "--rebuild"], ["review", "ajout-lecture"]):
                run = repere(data, *command)
                assert run.returncode == 1, (command, run.stdout, run.stderr)
                assert "Traceback" not in run.stderr and ("lecture seule" in run.stderr or "inconnu" in run.stderr)
            assert "lecture seule" in repere(data, "ingest", str(doc)).stderr
            statuses = set()
            for _ in range(5):
                posted = c.post(
                    "/api/feedback",
                    json={"useful": True, "question": "q", "audience": "famille", "answer": "r", "sources": []},
                )
                statuses.add(posted.status_code)
                if posted.status_code != 201:
                    assert posted.status_code == 503 and "lecture seule" in posted.json()["detail"]
            to_item = c.post(
                f"/formateurs/avis/{entry_id}/evaluation",
                data={"kind": "out_of_scope"},  # a sound item (no passage needed): only the folder refuses it
                headers={"authorization": f"Bearer {TRAINER_TOKEN}"},
            )
            assert to_item.status_code == 503 and "lecture seule" in to_item.json()["detail"], to_item.text
            assert c.post("/api/ask", json={"question": "un LAEP c'est quoi ?"}).status_code == 200
