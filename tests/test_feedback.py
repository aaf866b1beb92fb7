"""Feedback store: real SQLite in WAL mode, concurrent writers lose nothing."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from web.feedback import Feedback, FeedbackStore


def entry(i: int, useful: bool = True) -> Feedback:
    return Feedback(useful, f"question {i}", "famille", "réponse", [{"n": 1, "section_id": "s"}], None, "Très clair 👍")


def test_store_round_trip_and_wal(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    first = store.add(entry(1))
    store.add(Feedback(False, "q", "professionnel", "r", [], "information_manquante", None))
    rows = store.list()
    assert [r["id"] for r in rows] == [first + 1, first]
    assert rows[1]["comment"] == "Très clair 👍" and rows[1]["sources"] == [{"n": 1, "section_id": "s"}]
    assert [r["reason"] for r in store.list(useful=False)] == ["information_manquante"]
    with sqlite3.connect(tmp_path / "f.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    stores = [FeedbackStore(path) for _ in range(4)]  # as several workers would open the same file
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: stores[i % 4].add(entry(i)), range(200)))
    assert len(set(ids)) == 200 and FeedbackStore(path).count() == 200
