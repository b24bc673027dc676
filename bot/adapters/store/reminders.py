"""The ``reminders`` table: one row per pending certification, its next slot and claims.

Every change is a conditional ``UPDATE … WHERE version = :seen`` (bumping the version),
so a row is claimed, started or finished by one writer only. Claims are made in the
unit of work :meth:`ReminderBook.claiming` yields (:class:`ReminderClaims`: one
transaction that replicas take in turn); every other method is a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.adapters.store.certifications import PENDING
from bot.adapters.store.engine import Database, bump, record, utc
from bot.adapters.store.schema import certifications, reminders
from bot.ports import DueReminder, NewReminder, ReminderAnchor, ReminderRow

CLAIMS = "skillbot:reminder-claims"


class ReminderBook:
    """The :class:`bot.ports.ReminderBook` on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- rows -----------------------------------------------------------------------
    def pending_without_row(self, limit: int) -> list[tuple[str, str, datetime]]:
        """(id, skill, created_at) of pending certifications that have no reminder yet,
        oldest first."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(c.id, c.skill, c.created_at)
            .select_from(certifications.outerjoin(reminders, r.certification_id == c.id))
            .where(c.state == PENDING, r.certification_id.is_(None))
            .order_by(c.created_at)
            .limit(limit)
        )
        return [(row.id, row.skill, utc(row.created_at)) for row in self.db.rows(q)]  # type: ignore[misc]

    def add(self, rows: Sequence[NewReminder]) -> None:
        """Insert rows; one that another replica inserted meanwhile is left as it is."""
        if not rows:
            return
        insert = self.db.insert_ignoring(reminders, ["certification_id"])
        fresh = insert.values(version=0, sent_count=0, failures=0)
        values = [
            {"certification_id": cert_id, "schedule": schedule, "next_due_at": due}
            for cert_id, schedule, due in rows
        ]
        self.db.write(fresh, values)

    def schedules_in_use(
        self, now: datetime, *, unlike: str, or_skills: Sequence[str] | None
    ) -> list[tuple[str, str, str]]:
        """(id, skill, schedule) of unclaimed rows whose schedule is not ``unlike`` or
        whose skill is in ``or_skills``; all unclaimed rows when ``or_skills`` is None."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(r.certification_id, c.skill, r.schedule)
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(sa.or_(r.claim_until.is_(None), r.claim_until <= now))
        )
        if or_skills is not None:
            q = q.where(sa.or_(r.schedule != unlike, c.skill.in_(list(or_skills))))
        return [(row.certification_id, row.skill, row.schedule) for row in self.db.rows(q)]

    def anchors(self, cert_ids: Sequence[str]) -> list[ReminderAnchor]:
        """Version, start and last reminder of the given rows."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(r.certification_id, r.version, r.last_sent_at, c.created_at)
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(r.certification_id.in_(list(cert_ids)))
        )
        return [record(ReminderAnchor, row) for row in self.db.rows(q)]

    def reschedule(self, cert_id: str, version: int, schedule: str, next_due_at: datetime) -> bool:
        with self.db.begin() as conn:
            return _change(conn, cert_id, version, schedule=schedule, next_due_at=next_due_at)

    def row(self, cert_id: str) -> ReminderRow | None:
        """The row as it is (for logs and tests)."""
        found = self.db.first(sa.select(reminders).where(reminders.c.certification_id == cert_id))
        return record(ReminderRow, found) if found else None

    @contextmanager
    def claiming(self) -> Iterator[ReminderClaims]:
        """The unit of work of a claiming pass: one transaction that claiming replicas
        take in turn, so the pacing read in it holds until it commits."""
        with self.db.serialized(CLAIMS) as conn:
            yield ReminderClaims(conn)

    def forget(self, cert_id: str) -> None:
        """Drop the row of a certification that is no longer pending."""
        self.db.write(_forget(cert_id))

    # -- posting --------------------------------------------------------------------
    def start(
        self,
        cert_id: str,
        version: int,
        *,
        next_due_at: datetime,
        schedule: str,
        now: datetime,
        until: datetime,
    ) -> bool:
        """The claim is still ours: move to the next slot and mark the post as started."""
        with self.db.begin() as conn:
            return _change(
                conn,
                cert_id,
                version,
                next_due_at=next_due_at,
                schedule=schedule,
                posting_since=now,
                claim_until=until,
            )

    def finish(
        self,
        cert_id: str,
        version: int,
        *,
        sent_at: datetime | None,
        next_due_at: datetime | None = None,
        failed: bool = False,
    ) -> bool:
        values: dict[str, Any] = {
            "posting_since": None,
            "claim_until": None,
            "claimed_by": None,
        }
        if sent_at is not None:
            values.update(last_sent_at=sent_at, sent_count=reminders.c.sent_count + 1, failures=0)
        if failed:
            values["failures"] = reminders.c.failures + 1
        if next_due_at is not None:
            values["next_due_at"] = next_due_at
        with self.db.begin() as conn:
            return _change(conn, cert_id, version, **values)

    def release(self, cert_id: str, version: int) -> bool:
        """Give back a claim that was never started (shutting down)."""
        with self.db.begin() as conn:
            # never posted: its send time must not hold up its channel either
            return _change(conn, cert_id, version, claim_until=None, claimed_by=None, send_at=None)


class ReminderClaims:
    """The :class:`bot.ports.ReminderClaims` unit of work: one serialized transaction,
    committed when :meth:`ReminderBook.claiming`'s block ends."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def recent_sends(self, since: datetime) -> dict[str, datetime]:
        """Per channel, the latest send time claimed after ``since`` (future ones too)."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(c.channel, sa.func.max(r.send_at))
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(r.send_at > since, c.channel.is_not(None))
            .group_by(c.channel)
        )
        return {channel: utc(at) for channel, at in self.conn.execute(q)}  # type: ignore[misc]

    def due(self, now: datetime, *, skip_channels: set[str], limit: int) -> list[DueReminder]:
        """Due, unclaimed rows, earliest first, leaving out channels that are busy."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(
                r.certification_id,
                r.version,
                r.next_due_at,
                r.failures,
                r.posting_since,
                r.claimed_by,
                c.skill,
                c.state,
                c.created_at,
                c.channel,
                c.message_ts,
            )
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(r.next_due_at <= now, sa.or_(r.claim_until.is_(None), r.claim_until <= now))
            .order_by(r.next_due_at)
            .limit(limit)
        )
        if skip_channels:
            q = q.where(sa.or_(c.channel.is_(None), c.channel.not_in(sorted(skip_channels))))
        return [
            record(DueReminder, row, pending=row.state == PENDING) for row in self.conn.execute(q)
        ]

    def claim(self, row: DueReminder, owner: str, send_at: datetime, until: datetime) -> bool:
        return _change(
            self.conn,
            row.certification_id,
            row.version,
            claimed_by=owner,
            claim_until=until,
            send_at=send_at,
            posting_since=None,
        )

    def skip_slot(self, row: DueReminder, next_due_at: datetime, schedule: str) -> bool:
        return _change(
            self.conn,
            row.certification_id,
            row.version,
            next_due_at=next_due_at,
            schedule=schedule,
            posting_since=None,
        )

    def forget(self, cert_id: str) -> None:
        self.conn.execute(_forget(cert_id))


def _forget(cert_id: str) -> Any:
    return reminders.delete().where(reminders.c.certification_id == cert_id)


def _change(conn: sa.Connection, cert_id: str, version: int, **values: Any) -> bool:
    return bump(conn, reminders.c.certification_id, cert_id, version, **values)
