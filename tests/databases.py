"""The databases the storage tests run on: SQLite in a temp dir always, PostgreSQL when
REPERE_TEST_DATABASE_URL points at a server (`.ci/run` starts one), otherwise skipped with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from web.storage import Database, metadata

BACKENDS = ["sqlite", "postgresql"]
MISSING = (
    "PostgreSQL absent: set REPERE_TEST_DATABASE_URL=postgresql+psycopg://user@127.0.0.1:port/db "
    "(`.ci/run` starts a throw-away server and sets it)"
)


def postgres_url() -> str:
    """The test server's URL, its tables dropped (a fresh start); skips the test when there is none."""
    url = os.environ.get("REPERE_TEST_DATABASE_URL")
    if not url:
        pytest.skip(MISSING)
    database = Database(url)
    try:
        metadata.drop_all(database.engine)
    finally:
        database.dispose()
    return url


def database_url(backend: str, folder: Path) -> str:
    return f"sqlite:///{folder / 'feedback.sqlite3'}" if backend == "sqlite" else postgres_url()
