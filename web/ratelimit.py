"""Per-client rate limits through the `limits` library: questions and feedback per minute, trainers' login
attempts per quarter of an hour.

Where the counters live (REPERE_RATE_LIMIT_STORAGE):
- `memory://` (in-process apps, tests): one process; `limits` expires old counters, so memory holds only the
  clients seen within the window;
- `repere-sqlite://<file>` (what `repere serve` uses by default): one SQLite file shared by the workers of one
  machine, so a client is counted once whatever worker answers; one row per client and window, expired rows
  pruned as it goes;
- `redis://…`, `memcached://…` (several instances): `limits`' own storages, shared by every instance.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)
LOGIN_LIMIT = "10/15 minutes"  # trainers' login attempts per client address


class SQLiteStorage(Storage):
    """A `limits` storage in a SQLite file: fixed-window counters shared by the processes of one machine.
    Counters are not worth an fsync (synchronous=OFF): a crash at worst forgets a minute of counting."""

    STORAGE_SCHEME = ["repere-sqlite"]
    PRUNE_EVERY = 512

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self.path = Path((uri or "").removeprefix("repere-sqlite://"))
        self._local = threading.local()
        self._increments = 0
        with self._connection() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        connection = self._connection()
        row = connection.execute(
            "INSERT INTO hits (key, count, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " count = CASE WHEN expires <= ? THEN excluded.count ELSE count + excluded.count END,"
            " expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END RETURNING count",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        self._increments += 1
        if self._increments % self.PRUNE_EVERY == 0:  # memory (disk) bounded by the clients of one window
            connection.execute("DELETE FROM hits WHERE expires <= ?", (now,))
        return int(row[0])

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM hits WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute("SELECT expires FROM hits WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        return self._connection().execute("SELECT 1").fetchone() is not None

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM hits WHERE key = ?", (key,))

    def rows(self) -> int:
        """How many counters are stored (expired ones not yet pruned included)."""
        return int(self._connection().execute("SELECT COUNT(*) FROM hits").fetchone()[0])


class RateLimiter:
    """At most `per_minute` questions and feedback per client and minute, and LOGIN_LIMIT trainers' login
    attempts, counted in the given storage. A storage that fails lets requests through (logged once):
    the limit protects the service, it must not take it down."""

    def __init__(self, per_minute: int, storage_uri: str = "memory://") -> None:
        try:
            self.storage = storage_from_string(storage_uri)
        except Exception as exc:  # e.g. a read-only data folder: count per process rather than not start
            log.error("rate-limit storage %s unusable (%s): counted per process", storage_uri.split(":")[0], exc)
            self.storage = storage_from_string("memory://")
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.questions: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self.login: RateLimitItem = parse(LOGIN_LIMIT)
        self._failing = False

    def allow(self, client: str, item: RateLimitItem | None = None) -> bool:
        try:
            allowed = self.strategy.hit(item or self.questions, client)
        except Exception as exc:  # a read-only or vanished counter file: serve rather than fail
            if not self._failing:
                log.error("rate-limit storage unavailable (%s): requests are not counted", type(exc).__name__)
            self._failing = True
            return True
        self._failing = False
        return allowed
