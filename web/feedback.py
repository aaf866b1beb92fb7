"""Feedback storage in the app's database (web/storage.py: SQLite by default, PostgreSQL when shared);
each entry keeps the question, audience, answer and sources it judges. No personal data is asked for;
free text is stored as given, and deleted after the retention period (REPERE_FEEDBACK_RETENTION_DAYS)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from web.storage import Database
from web.storage import feedback as table

REASONS = ("mauvaise_source", "information_manquante", "pas_comprehensible", "autre")


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
    """Add, list (newest first, filtered) and count feedback; safe to share between threads and, through
    the database, between worker processes."""

    PURGE_EVERY_SECONDS = 3600.0

    def __init__(self, database: Database, retention_days: int = 0) -> None:
        self.database = database
        self.retention_days = retention_days
        self._purged_at = float("-inf")

    def purge(self) -> int:
        """Delete the feedback older than the retention period (none when it is 0); how many were deleted."""
        self._purged_at = time.monotonic()
        if not self.retention_days:
            return 0
        cutoff = (datetime.now(UTC) - timedelta(days=self.retention_days)).isoformat(timespec="seconds")
        with self.database.begin() as connection:
            return int(connection.execute(delete(table).where(table.c.created_at < cutoff)).rowcount)

    def add(self, entry: Feedback) -> int:
        """Store an entry; its id is returned only once the transaction is committed (on disk)."""
        if time.monotonic() - self._purged_at > self.PURGE_EVERY_SECONDS:
            self.purge()
        row = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "useful": entry.useful,
            "reason": entry.reason,
            "comment": entry.comment,
            "question": entry.question,
            "audience": entry.audience,
            "answer": entry.answer,
            "sources": entry.sources,
        }
        with self.database.begin() as connection:
            return int(connection.execute(insert(table).values(row).returning(table.c.id)).scalar_one())

    def list(self, useful: bool | None = None, reason: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if useful is not None:
            query = query.where(table.c.useful == useful)
        if reason:
            query = query.where(table.c.reason == reason)
        with self.database.begin() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def get(self, entry_id: int) -> dict[str, Any] | None:
        with self.database.begin() as connection:
            row = connection.execute(select(table).where(table.c.id == entry_id)).first()
        return dict(row._mapping) if row is not None else None

    def count(self) -> int:
        with self.database.begin() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
