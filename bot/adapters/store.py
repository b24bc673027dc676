"""SQLAlchemy store: certifications, plans, the audit log, Slack deliveries, skill locks.

SQLite (a file, the embedded default) or PostgreSQL (``DATABASE_URL``, for several
replicas). This module is the one place that knows which; the schema is migrated by
Alembic at start (:func:`open_store`)::

    store = open_store("sqlite:///skillbot.db")
    with store.skill_lock("trivia", timeout=10):
        ...
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from bot.domain.errors import Busy, ConfigError, Refused, Unavailable
from bot.domain.model import (
    AuditEvent,
    Certification,
    CertificationState,
    FixKind,
    Operation,
    Outcome,
    Plan,
)

log = logging.getLogger(__name__)

metadata = sa.MetaData()

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(32), nullable=False, unique=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("alias", sa.String(128)),
    sa.Column("from_version", sa.String(40)),
    sa.Column("to_version", sa.String(40)),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("plan_id", sa.String(32)),
    # when the change's announcement was claimed for posting (the audit log is the outbox)
    sa.Column("announced_at", sa.DateTime(timezone=True)),
    sa.Index("ix_audit_skill_seq", "skill", "seq"),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

certifications = sa.Table(
    "certifications",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("skill", sa.String(100), nullable=False),
    sa.Column("alias", sa.String(128), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("code_sha256", sa.String(64), nullable=False),
    sa.Column("requested_by", sa.String(100), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ended_by", sa.String(100)),
    sa.Column("channel", sa.String(40)),
    sa.Column("message_ts", sa.String(40)),
    # set while a promotion is under way: a crash then leaves a trace for recovery
    sa.Column("promoting_at", sa.DateTime(timezone=True)),
    # at most one pending certification per skill, enforced by the database itself
    sa.Index(
        "ux_cert_one_pending",
        "skill",
        unique=True,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    ),
    sa.Index("ix_cert_message", "channel", "message_ts"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

MIGRATIONS = Path(__file__).parent / "migrations"


def _utc(value: datetime | None) -> datetime | None:
    # SQLite keeps no offset: everything skillbot writes is UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _lock_key(name: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def plan_to_json(plan: Plan) -> str:
    data = asdict(plan)
    data["created_at"] = plan.created_at.isoformat()
    return json.dumps(data)


def plan_from_json(text: str) -> Plan:
    data = json.loads(text)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["operation"] = Operation(data["operation"])
    data["fix"] = FixKind(data["fix"]) if data.get("fix") else None
    return Plan(**data)


def _cert(row: Any) -> Certification:
    return Certification(
        id=row.id,
        skill=row.skill,
        alias=row.alias,
        version=row.version,
        code_sha256=row.code_sha256,
        requested_by=row.requested_by,
        note=row.note,
        created_at=_utc(row.created_at),  # type: ignore[arg-type]
        state=CertificationState(row.state),
        ended_at=_utc(row.ended_at),
        ended_by=row.ended_by,
        channel=row.channel,
        message_ts=row.message_ts,
    )


def _audit(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=_utc(row.at),  # type: ignore[arg-type]
        skill=row.skill,
        operation=row.operation,
        outcome=Outcome(row.outcome),
        actor=row.actor,
        reason=row.reason,
        alias=row.alias,
        from_version=row.from_version,
        to_version=row.to_version,
        detail=row.detail,
        plan_id=row.plan_id,
    )


class SqlStore:
    """The :class:`bot.ports.Store` over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._thread_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- audit ---------------------------------------------------------------
    def add_audit(self, event: AuditEvent, *, plan_status: str | None = None) -> None:
        """Record ``event``; with ``plan_status``, also finish its plan in the same
        transaction, so an applied plan never lacks its record (the announcement outbox)."""
        with self._begin() as conn:
            conn.execute(audit_events.insert().values(**asdict(event)))
            if plan_status is not None and event.plan_id is not None:
                conn.execute(
                    plans.update().where(plans.c.id == event.plan_id).values(status=plan_status)
                )

    def audit(self, skill: str, limit: int = 20) -> list[AuditEvent]:
        q = (
            sa.select(audit_events)
            .where(audit_events.c.skill == skill)
            .order_by(audit_events.c.seq.desc())
            .limit(limit)
        )
        with self._connect() as conn:
            return [_audit(r) for r in conn.execute(q)]

    def alias_moves(self, skill: str, alias: str, limit: int = 100) -> list[AuditEvent]:
        """Applied changes of one alias, newest first."""
        q = (
            sa.select(audit_events)
            .where(
                audit_events.c.skill == skill,
                audit_events.c.alias == alias,
                audit_events.c.outcome == Outcome.APPLIED.value,
                audit_events.c.operation.in_(["hotfix", "certify", "rollback"]),
            )
            .order_by(audit_events.c.seq.desc())
            .limit(limit)
        )
        with self._connect() as conn:
            return [_audit(r) for r in conn.execute(q)]

    def last_event(self, skill: str, operation: str, outcome: Outcome) -> AuditEvent | None:
        q = (
            sa.select(audit_events)
            .where(
                audit_events.c.skill == skill,
                audit_events.c.operation == operation,
                audit_events.c.outcome == outcome.value,
            )
            .order_by(audit_events.c.seq.desc())
            .limit(1)
        )
        with self._connect() as conn:
            row = conn.execute(q).first()
        return _audit(row) if row else None

    def claim_announcement(self, event_id: str, at: datetime) -> bool:
        """True for the one caller (any replica) that gets to announce this change."""
        with self._begin() as conn:
            result = conn.execute(
                audit_events.update()
                .where(audit_events.c.id == event_id, audit_events.c.announced_at.is_(None))
                .values(announced_at=at)
            )
        return result.rowcount == 1

    def unannounced(self, before: datetime, operations: list[str]) -> list[AuditEvent]:
        """Applied changes recorded before ``before`` whose announcement was never claimed."""
        q = (
            sa.select(audit_events)
            .where(
                audit_events.c.outcome == Outcome.APPLIED.value,
                audit_events.c.announced_at.is_(None),
                audit_events.c.at < before,
                audit_events.c.operation.in_(operations),
            )
            .order_by(audit_events.c.seq)
        )
        with self._connect() as conn:
            return [_audit(r) for r in conn.execute(q)]

    # -- plans ---------------------------------------------------------------
    def save_plan(self, plan: Plan) -> None:
        with self._begin() as conn:
            conn.execute(
                plans.insert().values(
                    id=plan.id,
                    skill=plan.skill,
                    status="pending",
                    payload=plan_to_json(plan),
                    created_at=plan.created_at,
                )
            )

    def get_plan(self, plan_id: str) -> Plan | None:
        with self._connect() as conn:
            row = conn.execute(sa.select(plans.c.payload).where(plans.c.id == plan_id)).first()
        return plan_from_json(row.payload) if row else None

    def plan_status(self, plan_id: str) -> str | None:
        with self._connect() as conn:
            return conn.execute(
                sa.select(plans.c.status).where(plans.c.id == plan_id)
            ).scalar_one_or_none()

    def claim_plan(self, plan_id: str) -> bool:
        """Atomically move a plan from pending (or interrupted) to applying; False if
        someone else did."""
        with self._begin() as conn:
            result = conn.execute(
                plans.update()
                .where(plans.c.id == plan_id, plans.c.status.in_(["pending", "interrupted"]))
                .values(status="applying")
            )
        return result.rowcount == 1

    def plans_in_status(self, status: str) -> list[Plan]:
        with self._connect() as conn:
            rows = conn.execute(sa.select(plans.c.payload).where(plans.c.status == status))
            return [plan_from_json(r.payload) for r in rows]

    def finish_plan(self, plan_id: str, outcome: str) -> None:
        with self._begin() as conn:
            conn.execute(plans.update().where(plans.c.id == plan_id).values(status=outcome))

    # -- certifications ------------------------------------------------------
    def add_certification(self, cert: Certification) -> None:
        values = asdict(cert)
        values["state"] = cert.state.value
        try:
            with self._begin() as conn:
                conn.execute(certifications.insert().values(**values))
        except IntegrityError as err:  # the one-pending-per-skill index
            raise Refused(
                f"{cert.skill} already has a pending certification.",
                hint=f"Promote or cancel it first (`/skill status {cert.skill}`).",
            ) from err

    def get_certification(self, cert_id: str) -> Certification | None:
        return self._one_cert(certifications.c.id == cert_id)

    def pending_certification(self, skill: str) -> Certification | None:
        return self._one_cert(
            certifications.c.skill == skill,
            certifications.c.state == CertificationState.PENDING.value,
        )

    def pending_certifications(self) -> list[Certification]:
        q = sa.select(certifications).where(
            certifications.c.state == CertificationState.PENDING.value
        )
        with self._connect() as conn:
            return [_cert(r) for r in conn.execute(q)]

    def end_certification(
        self, cert_id: str, state: CertificationState, by: str, at: datetime
    ) -> bool:
        with self._begin() as conn:
            result = conn.execute(
                certifications.update()
                .where(
                    certifications.c.id == cert_id,
                    certifications.c.state == CertificationState.PENDING.value,
                )
                .values(state=state.value, ended_by=by, ended_at=at)
            )
        return result.rowcount == 1

    def mark_promoting(self, cert_id: str, at: datetime | None) -> None:
        with self._begin() as conn:
            conn.execute(
                certifications.update()
                .where(certifications.c.id == cert_id)
                .values(promoting_at=at)
            )

    def promotions_under_way(self) -> list[Certification]:
        """Pending certifications whose promotion started and never finished."""
        q = sa.select(certifications).where(
            certifications.c.state == CertificationState.PENDING.value,
            certifications.c.promoting_at.is_not(None),
        )
        with self._connect() as conn:
            return [_cert(r) for r in conn.execute(q)]

    def certifications_without_message(self, created_before: datetime) -> list[Certification]:
        q = sa.select(certifications).where(
            certifications.c.state == CertificationState.PENDING.value,
            certifications.c.message_ts.is_(None),
            certifications.c.created_at < created_before,
        )
        with self._connect() as conn:
            return [_cert(r) for r in conn.execute(q)]

    def set_certification_message(self, cert_id: str, channel: str, ts: str) -> None:
        with self._begin() as conn:
            conn.execute(
                certifications.update()
                .where(certifications.c.id == cert_id)
                .values(channel=channel, message_ts=ts)
            )

    def certification_by_message(self, channel: str, ts: str) -> Certification | None:
        return self._one_cert(
            certifications.c.channel == channel, certifications.c.message_ts == ts
        )

    def _one_cert(self, *where: Any) -> Certification | None:
        q = sa.select(certifications).where(*where).order_by(certifications.c.created_at.desc())
        with self._connect() as conn:
            row = conn.execute(q).first()
        return _cert(row) if row else None

    # -- deliveries ------------------------------------------------------------
    def first_delivery(self, key: str, at: datetime) -> bool:
        """True the first time ``key`` is seen by any replica sharing this database."""
        try:
            with self._begin() as conn:
                conn.execute(deliveries.insert().values(key=key, at=at))
        except IntegrityError:
            return False
        return True

    def prune_deliveries(self, older_than: datetime) -> int:
        with self._begin() as conn:
            return conn.execute(deliveries.delete().where(deliveries.c.at < older_than)).rowcount

    # -- locks ---------------------------------------------------------------
    @contextmanager
    def skill_lock(self, skill: str, timeout: float) -> Iterator[None]:
        """Hold the one-operation-per-skill lock; :class:`Busy` after ``timeout`` seconds.

        PostgreSQL: a session advisory lock (released by the server if we die).
        SQLite file: an ``flock`` on a file next to the database (released by the OS).
        """
        with self._thread_lock(skill, timeout):
            if self.dialect == "postgresql":
                with self._pg_advisory_lock(skill, timeout):
                    yield
            elif self._sqlite_path():
                with self._file_lock(skill, timeout):
                    yield
            else:
                yield

    @contextmanager
    def _thread_lock(self, skill: str, timeout: float) -> Iterator[None]:
        with self._guard:
            lock = self._thread_locks.setdefault(skill, threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise self._busy(skill)
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _pg_advisory_lock(self, skill: str, timeout: float) -> Iterator[None]:
        key = _lock_key("skill:" + skill)
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() > deadline:
                    raise self._busy(skill)
                time.sleep(0.05)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()

    @contextmanager
    def _file_lock(self, skill: str, timeout: float) -> Iterator[None]:
        path = f"{self._sqlite_path()}.lock"
        digest = hashlib.blake2b(skill.encode(), digest_size=8).hexdigest()
        deadline = time.monotonic() + timeout
        fd = os.open(f"{path}.{digest}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise self._busy(skill) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _sqlite_path(self) -> str | None:
        if self.dialect != "sqlite":
            return None
        database = self.engine.url.database
        return None if database in (None, "", ":memory:") else database

    @staticmethod
    def _busy(skill: str) -> Busy:
        return Busy(
            f"Another operation on {skill} is in progress.",
            hint="Wait for it to finish (its result is posted), then try again.",
        )

    # -- plumbing ------------------------------------------------------------
    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A transaction; a database that does not answer becomes :class:`Unavailable`."""
        with _database_errors(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        with _database_errors(), self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def _database_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as err:
        raise Unavailable(
            f"The database did not answer: {err.orig}",
            hint="Check DATABASE_URL and that the database is up; retrying is safe.",
        ) from err


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
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("migrate")})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(url: str) -> SqlStore:
    engine = make_engine(url)
    try:
        migrate(engine)
    except OperationalError as err:
        raise ConfigError(
            f"Cannot open the database of DATABASE_URL: {err.orig}",
            hint="Check DATABASE_URL (see .env.example) and that the server is running.",
        ) from err
    return SqlStore(engine)


def utcnow() -> datetime:
    return datetime.now(UTC)
