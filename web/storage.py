"""The web app's database, through SQLAlchemy Core: SQLite (WAL) by default, embedded in the data folder;
PostgreSQL (psycopg 3) when several instances share it. Holds the feedback and the trainers' eval jobs.
Tables are created at start if missing, and the few columns added since are added to an older
database (ADDED_COLUMNS); there is no migration framework."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    exc,
    inspect,
    make_url,
    text,
)
from sqlalchemy.engine import URL

from web.config import WebSettings

log = logging.getLogger(__name__)
metadata = MetaData()

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(40), nullable=False),
    Column("useful", Boolean(create_constraint=False), nullable=False),
    Column("reason", String(64)),
    Column("comment", Text),
    Column("question", Text, nullable=False),
    Column("audience", String(32), nullable=False),
    Column("answer", Text, nullable=False),
    Column("sources", JSON, nullable=False),
    sqlite_autoincrement=True,  # ids never reused, as before
)

eval_jobs = Table(
    "eval_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", String(40), nullable=False, index=True),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("finished", Boolean(create_constraint=False), nullable=False),
    Column("error", Text, nullable=False),
    Column("items", JSON, nullable=False),
    Column("retrieval", JSON),
    Column("answers", JSON),
    Column("updated_at", String(40)),  # the running job's heartbeat (added after the first release)
    Column("label", String(300)),  # what was evaluated, in French (« jeu d'évaluation du projet »…); added later
)
# Columns added to a table after its first release: (table, column), added at start when missing.
ADDED_COLUMNS = ((eval_jobs, "updated_at"), (eval_jobs, "label"))

eval_results = Table(
    "eval_results",
    metadata,
    Column("job_id", String(32), ForeignKey("eval_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("result", JSON, nullable=False),
)

# What a lost connection, a server that is down or a pool that stays exhausted raise.
UNREACHABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


class StorageUnavailable(Exception):
    """The database cannot be reached; the message is French and shown to the user (HTTP 503)."""


def database_url(settings: WebSettings) -> str:
    """REPERE_DATABASE_URL, or the embedded SQLite file in the data folder."""
    return settings.database_url or f"sqlite:///{settings.data_dir / 'feedback.sqlite3'}"


def _use_wal(dbapi_connection: Any, _: Any) -> None:
    """Readers never block the writer, and writers from several processes wait for each other; every
    commit is on disk before it returns (synchronous=FULL: a feedback is acknowledged once stored)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


LOST = (
    "La base de données a disparu ou a été remplacée pendant le fonctionnement : rien n'a été enregistré. "
    "Restaurez le fichier ou redémarrez le service."
)
DAMAGED = (
    "La base de données est endommagée ({label}) : {reason}. Restaurez une sauvegarde, ou déplacez le fichier "
    "pour repartir d'une base vide."
)
READ_ONLY = (
    "La base de données est en lecture seule (dossier de données ou fichier non inscriptible) : "
    "rien n'a été enregistré. Vérifiez les droits de REPERE_DATA_DIR."
)


class Database:
    """One engine per process (create it after the fork); connections come from its pool."""

    def __init__(self, url: str | URL) -> None:
        try:
            parsed = make_url(url)
        except exc.ArgumentError as error:
            raise StorageUnavailable(
                "Adresse de base de données invalide (REPERE_DATABASE_URL) : "
                "attendu sqlite:///chemin ou postgresql+psycopg://utilisateur@hôte/base."
            ) from error
        self.url = parsed
        self.label = parsed.render_as_string(hide_password=True)
        # The SQLite file, watched: deleted or replaced under a running server, the pool's connections would
        # write to a file nobody will read again (an unlinked inode) and every feedback would be lost.
        self.file = Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None
        if parsed.database == ":memory:":
            self.file = None
        self._identity: tuple[int, int] | None = None
        serializer = partial(json.dumps, ensure_ascii=False)
        try:
            if parsed.get_backend_name() == "sqlite":
                if parsed.database and parsed.database != ":memory:":
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                self.engine: Engine = create_engine(
                    parsed, connect_args={"timeout": 30}, json_serializer=serializer, hide_parameters=True
                )
                event.listen(self.engine, "connect", _use_wal)
            else:
                connect_args = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
                self.engine = create_engine(
                    parsed,
                    pool_pre_ping=True,
                    connect_args=connect_args,
                    json_serializer=serializer,
                    hide_parameters=True,  # an error's text never carries a question, comment or answer
                )
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            raise StorageUnavailable(
                f"Base de données non prise en charge ({self.label}) : utilisez sqlite:/// ou postgresql+psycopg://."
            ) from error

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def _file_identity(self) -> tuple[int, int] | None:
        if self.file is None:
            return None
        try:
            info = self.file.stat()
        except FileNotFoundError:
            return None
        return (info.st_dev, info.st_ino)

    def check_integrity(self) -> None:
        """At start: an SQLite file that is not a sound database stops the start with a French message."""
        if self.file is None or not self.file.exists():
            return
        try:
            with self.engine.connect() as connection:
                result = connection.exec_driver_sql("PRAGMA quick_check").scalars().all()
        except exc.DBAPIError as error:
            raise StorageUnavailable(DAMAGED.format(label=self.label, reason=_reason(error))) from error
        if result != ["ok"]:
            raise StorageUnavailable(DAMAGED.format(label=self.label, reason="; ".join(map(str, result[:3]))))

    def _check_file(self) -> None:
        """Before every transaction: the SQLite file is still the one the schema was created in. A file that
        is gone answers 503; a file replaced (a backup restored) is taken up once it passes the check."""
        if self.file is None or self._identity is None:
            return
        identity = self._file_identity()
        if identity == self._identity:
            return
        log.error("the SQLite database file %s was deleted or replaced while running", self.file)
        self.engine.dispose()  # no pooled connection keeps writing to the old file
        if identity is None:
            raise StorageUnavailable(LOST)
        self.check_integrity()
        self.create_schema()

    def create_schema(self, attempts: int = 5) -> None:
        """Create the missing tables. Several workers may start at once: a table created by another
        process between our check and our CREATE makes the CREATE fail, and the next attempt sees it."""
        for attempt in range(1, attempts + 1):
            try:
                with self.engine.begin() as connection:
                    metadata.create_all(connection, checkfirst=True)
                    _add_missing_columns(connection)
                self._identity = self._file_identity()
                return
            except exc.DBAPIError as error:
                if attempt == attempts or (isinstance(error, UNREACHABLE) and self._unreachable()):
                    raise StorageUnavailable(
                        f"Base de données injoignable ({self.label}) : {_reason(error)}. "
                        "Vérifiez REPERE_DATABASE_URL et que le serveur de base de données est démarré."
                    ) from error
                log.info("schema creation raced with another process (%s); retrying", error.orig)
                time.sleep(0.2 * attempt)

    def _unreachable(self) -> bool:
        try:
            with self.engine.connect():
                return False
        except exc.DBAPIError:
            return True

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction (committed at the end of the block); an unreachable database raises
        StorageUnavailable (so does a SQLite file deleted under the running server)."""
        self._check_file()
        try:
            with self.engine.begin() as connection:
                yield connection
        except UNREACHABLE as error:
            reason = _reason(error) if isinstance(error, exc.DBAPIError) else type(error).__name__
            log.warning("database unreachable: %s", reason)  # never the statement's parameters
            if "readonly" in reason or "read-only" in reason:
                raise StorageUnavailable(READ_ONLY) from error
            raise StorageUnavailable(
                "La base de données est momentanément injoignable : réessayez dans quelques instants."
            ) from error

    def dispose(self) -> None:
        self.engine.dispose()


def _add_missing_columns(connection: Connection) -> None:
    """ALTER TABLE … ADD COLUMN for the columns an older database lacks (nullable ones only: the old
    rows get NULL). Two workers adding one at once: the loser's error makes create_schema retry."""
    inspector = inspect(connection)
    for table, name in ADDED_COLUMNS:
        if name not in {c["name"] for c in inspector.get_columns(table.name)}:
            column = table.c[name]
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {kind}'))


def _reason(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__


def open_database(settings: WebSettings) -> Database:
    """The database from the settings, its tables created if missing; StorageUnavailable otherwise."""
    database = Database(database_url(settings))
    database.check_integrity()
    database.create_schema()
    return database
