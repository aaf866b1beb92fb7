"""Durability of the feedback store on real SQLite: a database file deleted or replaced under the running app
is detected (503, nothing acknowledged that is not stored), a damaged file stops the start with a French
message, and feedback is deleted after its retention period."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from repere.serve import create_app
from repere.settings import Settings
from web.storage import Database, StorageUnavailable, feedback, open_database

PAYLOAD = {"useful": True, "question": "q", "audience": "famille", "answer": "r", "sources": []}


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_deleted_database_file_is_answered_503_not_acknowledged(tmp_path: Path, data_dir: Path) -> None:
    """Before: 40 of 40 posts answered « enregistré » into the unlinked file, all lost at restart."""
    path = tmp_path / "avis.sqlite3"
    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{path}")
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/feedback", json=PAYLOAD).status_code == 201
        remove_database(path)
        answers = [client.post("/api/feedback", json=PAYLOAD) for _ in range(40)]
        assert [a.status_code for a in answers] == [503] * 40
        assert all(
            "disparu" in a.json()["detail"] and "enregistré" not in a.json()["detail"].split(":")[0] for a in answers
        )
        page = client.post("/feedback", data={"useful": "oui", "question": "q", "audience": "famille"})
        assert page.status_code == 503 and "Merci" not in page.text
        # A file put back (a restored backup: another inode) is taken up: what is acknowledged is stored.
        restored = Database(f"sqlite:///{path}")
        restored.create_schema()
        restored.dispose()
        saved = client.post("/api/feedback", json={**PAYLOAD, "question": "après restauration"})
        assert saved.status_code == 201
    check = Database(f"sqlite:///{path}")
    with check.begin() as connection:
        questions = [row.question for row in connection.execute(feedback.select())]
    check.dispose()
    assert questions == ["après restauration"]


def test_a_damaged_database_stops_the_start_with_a_french_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = open_database(Settings(data_dir=data))
    database.dispose()
    path = data / "feedback.sqlite3"
    content = bytearray(path.read_bytes())
    content[100:4096] = b"\xff" * (4096 - 100)  # the header's tail and the schema page overwritten
    path.write_bytes(bytes(content))
    with pytest.raises(StorageUnavailable, match="endommagée"):
        open_database(Settings(data_dir=data))
    run = subprocess.run(
        [sys.executable, "-c", "from repere.cli import main; main()", "serve", "--port", "9"],
        env=dict(os.environ, REPERE_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1 and "endommagée" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(("days", "kept"), [(30, ["récent"]), (0, ["ancien", "récent"])])
def test_feedback_older_than_the_retention_period_is_deleted(
    tmp_path: Path, data_dir: Path, days: int, kept: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'avis.sqlite3'}"
    database = Database(url)
    database.create_schema()
    now = datetime.now(UTC)
    with database.begin() as connection:
        for question, when in (("ancien", now - timedelta(days=31)), ("récent", now - timedelta(days=29))):
            values = {**PAYLOAD, "question": question, "created_at": when.isoformat(timespec="seconds")}
            connection.execute(insert(feedback).values(values))
    database.dispose()
    settings = Settings(data_dir=data_dir, database_url=url, feedback_retention_days=days)
    with TestClient(create_app(settings)):
        pass
    database = Database(url)
    with database.begin() as connection:
        assert sorted(row.question for row in connection.execute(feedback.select())) == kept
    database.dispose()
