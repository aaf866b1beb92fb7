"""Feedback store on real SQLite (WAL) and real PostgreSQL: round trip, filters, concurrent writers and
concurrent schema creation lose nothing, an unreachable database gives a French error (503 over HTTP)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from repere.serve import create_app
from repere.settings import Settings
from web.feedback import Feedback, FeedbackStore
from web.storage import Database, StorageUnavailable
from web.trainers import EvalJobs

from .conftest import TRAINER_TOKEN, free_port
from .databases import BACKENDS, database_url, postgres_url


def entry(i: int, useful: bool = True) -> Feedback:
    return Feedback(useful, f"question {i}", "famille", "réponse", [{"n": 1, "section_id": "s"}], None, "Très clair 👍")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[FeedbackStore]:
    database = Database(url)
    database.create_schema()
    yield FeedbackStore(database)
    database.dispose()


def test_store_round_trip_and_filters(store: FeedbackStore) -> None:
    first = store.add(entry(1))
    second = store.add(Feedback(False, "q", "professionnel", "r", [], "information_manquante", None))
    third = store.add(Feedback(False, "q3", "famille", "r3", [], "mauvaise_source", "non"))
    assert first < second < third
    rows = store.list()
    assert [r["id"] for r in rows] == [third, second, first]  # newest first
    assert list(rows[0]) == [
        "id",
        "created_at",
        "useful",
        "reason",
        "comment",
        "question",
        "audience",
        "answer",
        "sources",
    ]
    oldest = rows[2]
    assert oldest["useful"] is True and oldest["comment"] == "Très clair 👍"
    assert oldest["sources"] == [{"n": 1, "section_id": "s"}] and oldest["question"] == "question 1"
    assert [r["reason"] for r in store.list(useful=False)] == ["mauvaise_source", "information_manquante"]
    assert [r["id"] for r in store.list(useful=False, reason="information_manquante")] == [second]
    assert [r["id"] for r in store.list(useful=True)] == [first]
    assert [r["id"] for r in store.list(limit=2)] == [third, second]
    assert store.get(second) == rows[1] and store.get(third + 100) is None
    assert store.count() == 3


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.create_schema()
    FeedbackStore(database).add(entry(1))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT useful, question FROM feedback").fetchall() == [(1, "question 1")]


def test_an_eval_jobs_table_from_the_previous_version_gets_its_new_column(url: str) -> None:
    """eval_jobs as first released (no heartbeat nor label column): the columns are added at start, old rows
    read; an old job left running is shown as interrupted, a new one runs with its heartbeat."""
    database = Database(url)
    try:
        with database.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE eval_jobs (id VARCHAR(32) PRIMARY KEY, created_at VARCHAR(40) NOT NULL,"
                    " total INTEGER NOT NULL, done INTEGER NOT NULL, finished BOOLEAN NOT NULL, error TEXT NOT NULL,"
                    " items JSON NOT NULL, retrieval JSON, answers JSON)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO eval_jobs VALUES ('ancien', '2025-01-01T00:00:00+00:00', 4, 1, false, '', '[]',"
                    " NULL, NULL)"
                )
            )
        database.create_schema()
        database.create_schema()  # idempotent
        jobs = EvalJobs(database)
        old = jobs.get("ancien")
        assert old is not None and old.interrupted and old.finished and old.done == 1
        assert "interrompue" in old.error and old.label == ""
        with database.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO eval_jobs (id, created_at, total, done, finished, error, items, updated_at)"
                    " VALUES ('neuf', :now, 4, 1, false, '', '[]', :now)"
                ),
                {"now": datetime.now(UTC).isoformat()},
            )
        running = jobs.get("neuf")
        assert running is not None and not running.interrupted and not running.finished and running.error == ""
        assert [(j.id, j.interrupted) for j in jobs.recent()] == [("ancien", True), ("neuf", False)]
    finally:
        database.dispose()


def test_a_feedback_file_from_the_previous_version_is_read(tmp_path: Path) -> None:
    """The SQLite file written before SQLAlchemy (same table, sources as JSON text) keeps working."""
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,"
            " useful INTEGER NOT NULL, reason TEXT, comment TEXT, question TEXT NOT NULL, audience TEXT NOT NULL,"
            " answer TEXT NOT NULL, sources TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO feedback VALUES (7, '2025-01-01T00:00:00+00:00', 0, 'autre', 'ancien', 'q', 'famille',"
            " 'r', '[{\"n\": 2}]')"
        )
    database = Database(f"sqlite:///{path}")
    database.create_schema()
    store = FeedbackStore(database)
    assert store.add(entry(8)) == 8
    old = store.list()[1]
    assert old["id"] == 7 and old["useful"] is False and old["sources"] == [{"n": 2}] and old["comment"] == "ancien"


def test_concurrent_writers_lose_nothing(url: str) -> None:
    databases = [Database(url) for _ in range(4)]  # as four worker processes would
    databases[0].create_schema()
    stores = [FeedbackStore(database) for database in databases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: stores[i % 4].add(entry(i)), range(200)))
    assert len(set(ids)) == 200 and stores[1].count() == 200
    assert {r["id"] for r in stores[2].list(limit=1000)} == set(ids)
    assert sorted(r["question"] for r in stores[3].list(limit=1000)) == sorted(f"question {i}" for i in range(200))
    for database in databases:
        database.dispose()


def test_schema_creation_is_safe_when_workers_start_together(url: str) -> None:
    databases = [Database(url) for _ in range(6)]
    barrier = threading.Barrier(len(databases))

    def create(database: Database) -> None:
        barrier.wait()
        database.create_schema()

    with ThreadPoolExecutor(max_workers=len(databases)) as pool:
        list(pool.map(create, databases))  # re-raises any failure
    assert FeedbackStore(databases[0]).add(entry(1)) >= 1 and FeedbackStore(databases[5]).count() == 1
    for database in databases:
        database.dispose()


def test_unreachable_or_invalid_database_at_start_is_a_french_error(tmp_path: Path) -> None:
    nowhere = f"postgresql+psycopg://repere:secret-pw@127.0.0.1:{free_port()}/repere"
    with pytest.raises(StorageUnavailable, match="Base de données injoignable") as caught:
        Database(nowhere).create_schema()
    assert "secret-pw" not in str(caught.value) and "REPERE_DATABASE_URL" in str(caught.value)
    with pytest.raises(StorageUnavailable, match="invalide"):
        Database("pas une adresse")
    with pytest.raises(StorageUnavailable, match="non prise en charge"):
        Database("oracle+inconnu://x@y/z")
    env = dict(os.environ, REPERE_DATA_DIR=str(tmp_path / "data"), REPERE_DATABASE_URL=nowhere)
    run = subprocess.run(
        [sys.executable, "-c", "from repere.cli import main; main()", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and "Base de données injoignable" in run.stderr and "Traceback" not in run.stderr


def test_feedback_answers_503_while_postgresql_is_down_then_recovers(data_dir: Path) -> None:
    """A real outage: the app's database is dropped (its connections killed) while the app runs."""
    admin = Database(postgres_url())
    name = "repere_panne"
    url = admin.url.set(database=name)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    payload = {"useful": True, "question": "q", "audience": "famille", "answer": "r", "sources": []}
    settings = Settings(
        data_dir=data_dir, database_url=url.render_as_string(hide_password=False), trainer_token=TRAINER_TOKEN
    )
    try:
        with TestClient(create_app(settings)) as client:
            assert client.post("/api/feedback", json=payload).status_code == 201
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            down = client.post("/api/feedback", json=payload)
            assert down.status_code == 503 and "injoignable" in down.json()["detail"]
            assert down.headers["retry-after"] == "5"
            form = {"useful": "oui", "question": "q", "audience": "famille"}
            page = client.post("/feedback", data=form, headers={"accept": "text/html"})  # a browser's form
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            assert "Service momentanément indisponible" in page.text and "injoignable" in page.text
            trainers = client.get("/formateurs", headers={"authorization": f"Bearer {TRAINER_TOKEN}"})
            assert trainers.status_code == 503 and "injoignable" in trainers.json()["detail"]
            assert client.get("/healthz").status_code == 200  # the rest of the service is up
            assert client.post("/api/ask", json={"question": "un LAEP c'est quoi ?"}).status_code == 200
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            recreated = Database(url)
            recreated.create_schema()
            recreated.dispose()
            back = client.post("/api/feedback", json=payload)
            assert back.status_code == 201 and back.json()["id"] == 1
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
