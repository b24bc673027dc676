"""The engine, migrations and error translation: the one module that knows SQLite from
PostgreSQL (URLs, pragmas, upserts, advisory locks, how to serialize a transaction).

Record modules build on :class:`Database`; nothing else touches a dialect::

    db = Database(make_engine("sqlite:///skillbot.db"))
    migrate(db.engine)
    with db.begin() as conn:
        conn.execute(db.insert_ignoring(table, ["key"]), rows)
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import StaticPool

from bot.domain.errors import ConfigError, Unavailable

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
T = TypeVar("T")


def utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime.

    SQLite keeps no offset (everything skillbot writes is UTC); PostgreSQL may answer in
    the session's zone.
    """
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record(cls: type[T], row: Any, **values: Any) -> T:
    """The dataclass ``cls`` of a row: each field not in ``values`` from its column of the
    same name, times as aware UTC."""
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in values:
            value = row._mapping[f.name]
            values[f.name] = utc(value) if isinstance(value, datetime) else value
    return cls(**values)


def bump(conn: sa.Connection, key: sa.Column[Any], value: str, version: int, **values: Any) -> bool:
    """Apply ``values`` to the row whose ``key`` is ``value`` if it still has ``version``
    (and bump it); False when another writer changed it first."""
    result = conn.execute(
        key.table.update()
        .where(key == value, key.table.c.version == version)
        .values(version=version + 1, **values)
    )
    return result.rowcount == 1


def lock_key(name: str) -> int:
    """A stable 64-bit key for a PostgreSQL advisory lock named ``name``."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that does not answer becomes :class:`Unavailable` (retrying is safe)."""
    try:
        yield
    except OperationalError as err:
        raise Unavailable(
            f"The database did not answer: {err.orig}",
            hint="Check DATABASE_URL and that the database is up; retrying is safe.",
        ) from err


class Database:
    """One engine with the few operations whose SQL differs between the two databases."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # a SQLite file deleted or replaced under a running bot would go on working on the
        # unlinked file and lose everything at the next start: its identity is watched, and
        # its write-ahead log's and shared memory's (the newest commits live in the WAL)
        self._files: dict[str, tuple[int, int]] = {}
        self._keeper: sqlite3.Connection | None = None
        if self.sqlite_path:
            # one connection held open: SQLite deletes the WAL when its last one closes, so
            # while the bot runs the WAL and SHM files stay the same files
            self._keeper = sqlite3.connect(self.sqlite_path, check_same_thread=False)
            self._keeper.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            path = self.sqlite_path
            watched = (path, f"{path}-wal", f"{path}-shm")
            self._files = {p: i for p in watched if (i := _file_identity(p)) is not None}
        self._gone_logged = False

    def intact(self) -> bool:
        """False when the SQLite file, its WAL or its SHM was deleted or replaced since
        the database was opened."""
        return self._gone() is None

    def _gone(self) -> str | None:
        """The first watched file that is no longer the one opened, or None."""
        return next((p for p, seen in self._files.items() if _file_identity(p) != seen), None)

    def _check_intact(self) -> None:
        gone = self._gone()
        if gone is None:
            return
        if not self._gone_logged:
            self._gone_logged = True
            log.error(
                "the database file %s was deleted or replaced while the bot runs; "
                "refusing every change until the bot is restarted",
                gone,
            )
        raise Unavailable(
            f"The database file {gone} was deleted or replaced while the bot runs; "
            "nothing was changed.",
            hint="Restart the bot (it opens or creates the database of DATABASE_URL), "
            "or restore the file.",
        )

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file, or None (PostgreSQL, or SQLite in memory)."""
        if self.dialect != "sqlite":
            return None
        database = self.engine.url.database
        return None if database in (None, "", ":memory:") else database

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction; a database that does not answer becomes :class:`Unavailable`."""
        self._check_intact()
        with database_errors(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        self._check_intact()
        with database_errors(), self.engine.connect() as conn:
            yield conn

    def write(self, statement: Any, params: Any = None) -> int:
        """Run ``statement`` in a transaction of its own; the number of rows it touched."""
        with self.begin() as conn:
            return conn.execute(statement, params).rowcount

    def rows(self, query: Any) -> list[Any]:
        with self.connect() as conn:
            return list(conn.execute(query))

    def first(self, query: Any) -> Any:
        """The first row of ``query``, or None."""
        with self.connect() as conn:
            return conn.execute(query).first()

    def insert_ignoring(self, table: sa.Table, key: Sequence[str]) -> Any:
        """An INSERT that leaves a row another writer inserted meanwhile as it is."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=list(key))
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key))
        return table.insert()  # pragma: no cover - only the two databases above are supported

    @contextmanager
    def serialized(self, name: str) -> Iterator[sa.Connection]:
        """A transaction that writers naming the same ``name`` take in turn, so reads made
        in it cannot go stale before its writes.

        PostgreSQL: a transaction-scoped advisory lock (gone with the transaction, also
        when the process dies). SQLite file: ``BEGIN IMMEDIATE`` takes the write lock first.
        """
        self._check_intact()
        with database_errors(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
            elif self.sqlite_path:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def close(self) -> None:
        self.engine.dispose()
        if self._keeper is not None:
            self._keeper.close()


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs for threads and processes."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as err:
        raise ConfigError(
            f"DATABASE_URL is not a database URL: {err}",
            hint="Use e.g. sqlite:///skillbot.db or postgresql://user@host/db.",
        ) from err
    if parsed.drivername in ("postgres", "postgresql"):
        # Heroku-style URLs name no driver; psycopg 3 is the one installed
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if in_memory else None,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
                # in WAL mode NORMAL survives a process crash; only power loss may drop
                # the newest commits, and it saves an fsync per commit
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creating it on an empty database).

    On PostgreSQL an advisory lock keeps two replicas starting together from racing.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("migrate")})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str) -> Database:
    """Connect to ``url`` and migrate its schema; :class:`ConfigError` when it cannot."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except OperationalError as err:
        # a server unreachable or refusing may answer later; a SQLite file that cannot
        # be opened (no such folder, no permission) is the settings' problem
        failure = ConfigError if engine.dialect.name == "sqlite" else Unavailable
        raise failure(
            f"Cannot open the database of DATABASE_URL: {err.orig}",
            hint="Check DATABASE_URL (see .env.example) and that the server is running.",
        ) from err
    except DatabaseError as err:  # e.g. a file that is not a SQLite database
        raise ConfigError(
            f"The database of DATABASE_URL cannot be used: {err.orig}",
            hint="Point DATABASE_URL at another file or database, or move this file away "
            "(skillbot creates a new database at start).",
        ) from err
    return Database(engine)
