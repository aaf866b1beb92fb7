"""Feedback storage: one SQLite file in WAL mode (readers never block the writer); each entry keeps
the question, audience, answer and sources it judges. No personal data is asked for; free text is
stored as given."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REASONS = ("mauvaise_source", "information_manquante", "pas_comprehensible", "autre")
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    useful INTEGER NOT NULL,
    reason TEXT,
    comment TEXT,
    question TEXT NOT NULL,
    audience TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Feedback:
    useful: bool
    question: str
    audience: str
    answer: str
    sources: list[dict[str, Any]]
    reason: str | None = None
    comment: str | None = None


class FeedbackStore:
    """SQLite store; one connection per operation, so several workers can share the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # commit on success, roll back on error
                yield db
        finally:
            db.close()

    def add(self, entry: Feedback) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, useful, reason, comment, question, audience, answer, sources)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    int(entry.useful),
                    entry.reason,
                    entry.comment,
                    entry.question,
                    entry.audience,
                    entry.answer,
                    json.dumps(entry.sources, ensure_ascii=False),
                ),
            )
            return int(cursor.lastrowid or 0)

    def list(self, useful: bool | None = None, limit: int = 500) -> list[dict[str, Any]]:
        query, params = "SELECT * FROM feedback", []
        if useful is not None:
            query += " WHERE useful = ?"
            params.append(int(useful))
        query += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute(query, params)]
        for row in rows:
            row["useful"] = bool(row["useful"])
            row["sources"] = json.loads(row["sources"])
        return rows

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
