"""Certification reminders (SPEC §3): when each one is due, and who sends it, exactly once.

The database is the source of truth, so reminders survive restarts and work across
replicas. Each pending certification has one row in ``reminders`` with the slot it is
next due at. A *pass* (every second, from the scheduler, see :mod:`bot.scheduling`):

1. adds a row for every pending certification that has none (first slot after
   ``created_at``), so certifications created by any process are picked up;
2. *claims* due rows inside one short transaction that replicas take in turn (a
   PostgreSQL advisory lock, ``BEGIN IMMEDIATE`` on SQLite); every claim is also a
   conditional ``UPDATE ... WHERE version = :seen``, so a row is claimed once;
3. gives each claim a send time that keeps one channel's reminders at least a second
   apart, and all reminders a fifth of a second apart (Slack allows about one message
   per second per channel), and claims only what can go out before the next pass:
   the rest stays due in the database, not in a process's memory.

A sender then delivers each claim (:meth:`ReminderService.deliver`): it moves the row
to the first slot *strictly after now* (missed slots collapse into one catch-up
reminder), marks it as being posted, posts the thread reply, and records it. A claim that was
never started is taken over by anyone once its lease ends; a post that failed for sure
is retried with a bounded backoff; a post whose outcome is unknown (the process died
mid-call, or Slack timed out) is not repeated, so a reminder is never doubled::

    service = ReminderService(ReminderBook(store.engine), store, notifier, schedules,
                              clock=clock, approvers=["U0CAROL"], reaction="white_check_mark")
    for dispatch in service.run_pass():
        service.deliver(dispatch)
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from bot import blocks
from bot.adapters.store import certifications, metadata
from bot.config import SkillsFile, parse_duration, validate_schedule
from bot.domain.errors import ConfigError, SkillbotError, Unavailable
from bot.domain.model import Certification, CertificationState, Skill
from bot.ports import Clock, Notifier

log = logging.getLogger(__name__)

PENDING = CertificationState.PENDING.value


@dataclass(frozen=True)
class Pacing:
    """How often passes run and how reminders are spread; seconds."""

    #: a pass every ``tick``: how late after its slot a reminder can be, at most
    tick: float = 1.0
    #: Slack: about one message per second per channel
    channel_spacing: float = 1.0
    #: and a workspace-wide limit: at most five reminders a second overall
    global_spacing: float = 0.2
    #: a pass claims only what can be sent this soon; the rest waits in the database
    horizon: float = 0.8
    #: a claim not started by then may be taken over (its process is gone)
    claim_lease: float = 30.0
    #: a post not finished by then (or by the next slot) counts as "outcome unknown"
    posting_lease: float = 600.0
    #: a failed post is retried after retry_base, doubling, up to retry_max
    retry_base: float = 30.0
    retry_max: float = 900.0
    #: due rows read per query while claiming
    batch: int = 50
    #: rows created per pass for certifications not tracked yet
    new_rows_per_pass: int = 1000


# -- schedules ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderSchedule:
    """A duration (``"24h"``: every 24 h from the start of the certification) or a cron
    expression read in the skills file's time zone.

    >>> s = ReminderSchedule.parse("2h", "UTC")
    >>> start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    >>> s.next_after(start, start + timedelta(hours=5)).hour  # slots at 11, 13, 15
    15
    """

    text: str
    every: timedelta | None = None
    cron: CronTrigger | None = field(default=None, compare=False)

    @classmethod
    def parse(cls, text: str, timezone: str) -> ReminderSchedule:
        """Raise ValueError with a readable reason for anything else."""
        every = parse_duration(text)
        if every is not None:
            return cls(text, every=every)
        validate_schedule(text, timezone)
        trigger = CronTrigger.from_crontab(text, timezone=ZoneInfo(timezone))
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise ValueError(f"{text!r} never fires")
        return cls(text, cron=trigger)

    def next_after(self, start: datetime, moment: datetime) -> datetime:
        """The first slot strictly after ``moment`` of a certification started at ``start``."""
        if self.every is not None:
            if moment < start:
                return start + self.every
            return start + ((moment - start) // self.every + 1) * self.every
        assert self.cron is not None
        fire = self.cron.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return _NEVER if fire is None else fire.astimezone(UTC)


_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Schedules:
    """The skills file's ``reminder_schedule`` and the per-skill overrides."""

    default: ReminderSchedule
    per_skill: Mapping[str, ReminderSchedule] = field(default_factory=dict)

    def for_skill(self, skill: str) -> ReminderSchedule:
        return self.per_skill.get(skill, self.default)


def build_schedules(config: SkillsFile, skills: Mapping[str, Skill]) -> Schedules:
    """Every schedule of the skills file; :class:`ConfigError` names a wrong one."""

    def parse(text: str, key: str) -> ReminderSchedule:
        try:
            return ReminderSchedule.parse(text, config.timezone)
        except ValueError as err:
            raise ConfigError(
                f"skills file: {key}: {err}.",
                hint='Use a duration like "24h" or "5s", or a cron expression like '
                '"0 10 * * MON-FRI" (read in `timezone`).',
            ) from None

    default = parse(config.reminder_schedule, "reminder_schedule")
    per_skill = {
        name: parse(skill.reminder_schedule, f"skills.{name}.reminder_schedule")
        for name, skill in skills.items()
        if skill.reminder_schedule is not None
    }
    return Schedules(default, per_skill)


# -- the reminders table ------------------------------------------------------------------

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column(
        "certification_id", sa.String(32), sa.ForeignKey("certifications.id"), primary_key=True
    ),
    #: the schedule next_due_at was computed with (a changed skills file reschedules)
    sa.Column("schedule", sa.String(200), nullable=False),
    #: the slot this reminder is next due at (or a retry time after a failed post)
    sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
    #: bumped by every change: each conditional UPDATE checks the version it read
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    #: a claim (or a post in progress) holds the row until then
    sa.Column("claim_until", sa.DateTime(timezone=True)),
    #: when the latest claim is to be posted: the pacing of its channel
    sa.Column("send_at", sa.DateTime(timezone=True)),
    #: set just before calling Slack, cleared after: left set, the outcome is unknown
    sa.Column("posting_since", sa.DateTime(timezone=True)),
    sa.Column("last_sent_at", sa.DateTime(timezone=True)),
    sa.Column("sent_count", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Index("ix_reminders_next_due_at", "next_due_at"),
    sa.Index("ix_reminders_send_at", "send_at"),
)

_CLAIM_LOCK = int.from_bytes(
    hashlib.blake2b(b"skillbot:reminder-claims", digest_size=8).digest(), "big", signed=True
)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite keeps no offset (everything written here is UTC); PostgreSQL may answer in
    # the session's zone
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class DueRow:
    """A due reminder with what claiming it needs to know of its certification."""

    certification_id: str
    version: int
    next_due_at: datetime
    failures: int
    posting_since: datetime | None
    claimed_by: str | None
    skill: str
    state: str
    created_at: datetime
    channel: str | None
    message_ts: str | None


@dataclass(frozen=True)
class Dispatch:
    """A claimed reminder: post it at ``send_at`` if the row still has ``version``."""

    certification_id: str
    version: int
    slot: datetime
    send_at: datetime
    channel: str
    failures: int = 0


class ReminderBook:
    """The ``reminders`` table on SQLite or PostgreSQL: rows, claims, channel pacing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

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
        with self.engine.connect() as conn:
            return [(row.id, row.skill, _utc(row.created_at)) for row in conn.execute(q)]  # type: ignore[misc]

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows; one that another replica inserted meanwhile is left as it is."""
        if not rows:
            return
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(reminders).on_conflict_do_nothing(
                index_elements=["certification_id"]
            )
        elif self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(reminders).on_conflict_do_nothing(
                index_elements=["certification_id"]
            )
        else:  # pragma: no cover - only the two databases above are supported
            stmt = reminders.insert()
        with self.engine.begin() as conn:
            conn.execute(stmt, list(rows))

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
        with self.engine.connect() as conn:
            return [(row.certification_id, row.skill, row.schedule) for row in conn.execute(q)]

    def anchors(self, cert_ids: Sequence[str]) -> list[Any]:
        """Version, start and last reminder of the given rows."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(r.certification_id, r.version, r.last_sent_at, c.created_at)
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(r.certification_id.in_(list(cert_ids)))
        )
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def reschedule(self, cert_id: str, version: int, schedule: str, next_due_at: datetime) -> bool:
        with self.engine.begin() as conn:
            return self._change(conn, cert_id, version, schedule=schedule, next_due_at=next_due_at)

    def row(self, cert_id: str) -> Any:
        """The row as it is (for logs and tests)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(reminders).where(reminders.c.certification_id == cert_id)
            ).first()

    # -- claiming ----------------------------------------------------------------------
    @contextmanager
    def claiming(self) -> Iterator[sa.Connection]:
        """One transaction that claiming replicas take in turn, so pacing reads are exact.

        PostgreSQL: a transaction-scoped advisory lock (gone with the transaction, also
        when the process dies). SQLite file: ``BEGIN IMMEDIATE`` takes the write lock
        first, so the reads below cannot go stale before the writes.
        """
        in_memory = self.engine.url.database in (None, "", ":memory:")
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
            elif self.dialect == "sqlite" and not in_memory:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def recent_sends(self, conn: sa.Connection, since: datetime) -> dict[str, datetime]:
        """Per channel, the latest send time claimed after ``since`` (future ones too)."""
        c, r = certifications.c, reminders.c
        q = (
            sa.select(c.channel, sa.func.max(r.send_at))
            .select_from(reminders.join(certifications, c.id == r.certification_id))
            .where(r.send_at > since, c.channel.is_not(None))
            .group_by(c.channel)
        )
        return {channel: _utc(at) for channel, at in conn.execute(q)}  # type: ignore[misc]

    def due(
        self, conn: sa.Connection, now: datetime, *, skip_channels: set[str], limit: int
    ) -> list[DueRow]:
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
            DueRow(
                certification_id=row.certification_id,
                version=row.version,
                next_due_at=_utc(row.next_due_at),  # type: ignore[arg-type]
                failures=row.failures,
                posting_since=_utc(row.posting_since),
                claimed_by=row.claimed_by,
                skill=row.skill,
                state=row.state,
                created_at=_utc(row.created_at),  # type: ignore[arg-type]
                channel=row.channel,
                message_ts=row.message_ts,
            )
            for row in conn.execute(q)
        ]

    def claim(
        self, conn: sa.Connection, row: DueRow, owner: str, send_at: datetime, until: datetime
    ) -> bool:
        return self._change(
            conn,
            row.certification_id,
            row.version,
            claimed_by=owner,
            claim_until=until,
            send_at=send_at,
            posting_since=None,
        )

    def skip_slot(
        self, conn: sa.Connection, row: DueRow, next_due_at: datetime, schedule: str
    ) -> bool:
        return self._change(
            conn,
            row.certification_id,
            row.version,
            next_due_at=next_due_at,
            schedule=schedule,
            posting_since=None,
        )

    def forget(self, conn: sa.Connection | None, cert_id: str) -> None:
        """Drop the row of a certification that is no longer pending."""
        stmt = reminders.delete().where(reminders.c.certification_id == cert_id)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as own:
            own.execute(stmt)

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
        with self.engine.begin() as conn:
            return self._change(
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
        with self.engine.begin() as conn:
            return self._change(conn, cert_id, version, **values)

    def release(self, cert_id: str, version: int) -> bool:
        """Give back a claim that was never started (shutting down)."""
        with self.engine.begin() as conn:
            # never posted: its send time must not hold up its channel either
            return self._change(
                conn, cert_id, version, claim_until=None, claimed_by=None, send_at=None
            )

    @staticmethod
    def _change(conn: sa.Connection, cert_id: str, version: int, **values: Any) -> bool:
        result = conn.execute(
            reminders.update()
            .where(reminders.c.certification_id == cert_id, reminders.c.version == version)
            .values(version=version + 1, **values)
        )
        return result.rowcount == 1


# -- the logic ---------------------------------------------------------------------------


class CertificationReader(Protocol):
    """What the service reads of the store (:class:`bot.ports.Store` has it)."""

    def get_certification(self, cert_id: str) -> Certification | None: ...


def default_owner() -> str:
    """``host:pid:random``: who holds a claim, as shown in the table and the logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderService:
    """Reminder passes and deliveries over the reminders table, the store and Slack."""

    def __init__(
        self,
        book: ReminderBook,
        store: CertificationReader,
        notifier: Notifier,
        schedules: Schedules,
        *,
        clock: Clock,
        approvers: Sequence[str],
        reaction: str,
        review_status: Callable[[Certification], str | None] = lambda cert: None,
        pacing: Pacing | None = None,
        owner: str | None = None,
    ) -> None:
        self.book = book
        self.store = store
        self.notifier = notifier
        self.schedules = schedules
        self.clock = clock
        self.approvers = list(approvers)
        self.reaction = reaction
        self.review_status = review_status
        self.pacing = pacing or Pacing()
        self.owner = owner or default_owner()
        self._followed_schedules = False

    # -- the pass ---------------------------------------------------------------------
    def run_pass(self, *, claim: bool = True) -> list[Dispatch]:
        """Add rows for new certifications, then claim what is due (unless ``claim`` is
        False: the sender is still busy, or paused by Slack's rate limit)."""
        if not self._followed_schedules:
            self.follow_schedule_changes()
            self._followed_schedules = True
        self.add_missing()
        return self.claim_due() if claim else []

    def add_missing(self) -> int:
        """A row for every pending certification without one: due at its first slot."""
        # bounded, so that a first start over thousands of pending certifications keeps
        # each pass short; the rest follow in the next passes
        missing = self.book.pending_without_row(self.pacing.new_rows_per_pass)
        if not missing:
            return 0
        rows = []
        # cron: certifications started between two slots share the next one
        known: dict[str, tuple[datetime, datetime]] = {}
        for cert_id, skill, created_at in missing:
            schedule = self.schedules.for_skill(skill)
            seen = known.get(schedule.text)
            if schedule.cron is not None and seen and seen[0] <= created_at < seen[1]:
                first = seen[1]
            else:
                first = schedule.next_after(created_at, created_at)
                known[schedule.text] = (created_at, first)
            rows.append(
                {
                    "certification_id": cert_id,
                    "schedule": schedule.text,
                    "next_due_at": first,
                    "version": 0,
                    "sent_count": 0,
                    "failures": 0,
                }
            )
        self.book.add(rows)
        log.info("reminders: tracking %d new pending certification(s)", len(rows))
        return len(rows)

    def follow_schedule_changes(self) -> int:
        """Rows computed with another schedule than the skills file's now are moved to the
        new schedule's first slot after their last reminder (or their start).

        Run once per process start; reads only the rows that can differ when few skills
        override the schedule (the usual case), so a start over thousands stays quick.
        """
        overrides = self.schedules.per_skill
        candidates = self.book.schedules_in_use(
            self.clock(),
            unlike=self.schedules.default.text,
            or_skills=sorted(overrides) if len(overrides) <= 500 else None,
        )
        changed = {
            cert_id: self.schedules.for_skill(skill)
            for cert_id, skill, text in candidates
            if text != self.schedules.for_skill(skill).text
        }
        moved = 0
        ids = sorted(changed)
        for start in range(0, len(ids), 500):
            for row in self.book.anchors(ids[start : start + 500]):
                schedule = changed[row.certification_id]
                created_at = _utc(row.created_at)
                assert created_at is not None
                since = _utc(row.last_sent_at) or created_at
                due = schedule.next_after(created_at, since)
                if self.book.reschedule(row.certification_id, row.version, schedule.text, due):
                    moved += 1
        if moved:
            log.info("reminders: %d certification(s) follow a changed schedule", moved)
        return moved

    def claim_due(self) -> list[Dispatch]:
        """Claim due reminders that can be sent within the horizon, spread per channel."""
        p = self.pacing
        now = self.clock()
        horizon = now + timedelta(seconds=p.horizon)
        channel_gap = timedelta(seconds=p.channel_spacing)
        global_gap = timedelta(seconds=p.global_spacing)
        claimed: list[Dispatch] = []
        with self.book.claiming() as conn:
            last = self.book.recent_sends(conn, now - max(channel_gap, global_gap))
            channel_free = {channel: at + channel_gap for channel, at in last.items()}
            global_free = max([now, *(at + global_gap for at in last.values())])
            busy = {channel for channel, free in channel_free.items() if free > horizon}
            handled: set[str] = set()
            while global_free <= horizon:
                rows = self.book.due(conn, now, skip_channels=busy, limit=p.batch)
                progressed = False
                for row in rows:
                    if global_free > horizon:
                        break
                    if row.channel in busy or row.certification_id in handled:
                        continue
                    handled.add(row.certification_id)
                    progressed = True
                    if row.state != PENDING:
                        self.book.forget(conn, row.certification_id)
                        continue
                    schedule = self.schedules.for_skill(row.skill)
                    if not (row.channel and row.message_ts):
                        log.warning(
                            "reminders: certification %s of %s has no Slack message; "
                            "no reminder for the slot due %s",
                            row.certification_id,
                            row.skill,
                            row.next_due_at.isoformat(),
                        )
                        self.book.skip_slot(
                            conn, row, schedule.next_after(row.created_at, now), schedule.text
                        )
                        continue
                    busy.add(row.channel)  # one per channel per pass: spacing >= horizon
                    send_at = max(now, channel_free.get(row.channel, now), global_free)
                    if send_at > horizon:
                        continue
                    if row.posting_since is not None:
                        log.warning(
                            "reminders: %s stopped while posting the reminder of certification "
                            "%s (started %s); it may or may not have reached Slack and is not "
                            "repeated",
                            row.claimed_by,
                            row.certification_id,
                            row.posting_since.isoformat(),
                        )
                    until = send_at + timedelta(seconds=p.claim_lease)
                    if self.book.claim(conn, row, self.owner, send_at, until):
                        claimed.append(
                            Dispatch(
                                certification_id=row.certification_id,
                                version=row.version + 1,
                                slot=row.next_due_at,
                                send_at=send_at,
                                channel=row.channel,
                                failures=row.failures,
                            )
                        )
                        channel_free[row.channel] = send_at + channel_gap
                        global_free = send_at + global_gap
                if not progressed:
                    break
        return claimed

    # -- delivering -------------------------------------------------------------------
    def deliver(self, dispatch: Dispatch) -> float | None:
        """Post one claimed reminder (now; the sender waits for ``send_at``).

        Returns the seconds Slack asked to wait when it rate-limited the post, else None.
        """
        cert = self.store.get_certification(dispatch.certification_id)
        if cert is None or not cert.pending:
            self.book.forget(None, dispatch.certification_id)
            return None
        if not (cert.channel and cert.message_ts):  # claimed only with a message: defensive
            self.book.release(cert.id, dispatch.version)
            return None
        now = self.clock()
        schedule = self.schedules.for_skill(cert.skill)
        regular = schedule.next_after(cert.created_at, now)
        version = dispatch.version
        # held while posting, but never past the next slot: if this process dies
        # mid-post, the next slot is not held up by it
        posting_until = min(regular, now + timedelta(seconds=self.pacing.posting_lease))
        if not self.book.start(
            cert.id,
            version,
            next_due_at=regular,
            schedule=schedule.text,
            now=now,
            until=posting_until,
        ):
            log.info("reminders: the claim on %s was taken over; not posting", cert.id)
            return None
        version += 1
        text = blocks.reminder_message(
            cert,
            now=now,
            approvers=self.approvers,
            reaction=self.reaction,
            review_status=self._review_status(cert),
        )
        try:
            self.notifier.post(cert.channel, text, None, thread_ts=cert.message_ts)
        except SkillbotError as err:
            return self._post_failed(cert, version, err, now, regular, dispatch.failures)
        except Exception:
            log.exception(
                "reminders: posting the reminder of %s failed unexpectedly; not repeated", cert.id
            )
            self.book.finish(cert.id, version, sent_at=None, failed=True)
            return None
        self.book.finish(cert.id, version, sent_at=self.clock())
        log.info(
            "reminders: reminded %s (v%s on %s, due since %s)",
            cert.skill,
            cert.version,
            cert.alias,
            dispatch.slot.isoformat(),
        )
        return None

    def release(self, dispatches: Sequence[Dispatch]) -> None:
        """Give back claims that will not be posted here (shutting down)."""
        for dispatch in dispatches:
            self.book.release(dispatch.certification_id, dispatch.version)

    def _post_failed(
        self,
        cert: Certification,
        version: int,
        err: SkillbotError,
        now: datetime,
        regular: datetime,
        failures: int,
    ) -> float | None:
        retry_after = _retry_after(err)
        if _outcome_unknown(err):
            # Slack may have posted it: repeating could double it, so count it as sent
            log.warning(
                "reminders: no answer from Slack for the reminder of %s (%s); it may or may "
                "not have been posted and is not repeated",
                cert.id,
                err.message,
            )
            self.book.finish(cert.id, version, sent_at=now)
            return None
        if isinstance(err, Unavailable):
            delay = min(self.pacing.retry_max, self.pacing.retry_base * 2**failures)
            retry_at = min(regular, now + timedelta(seconds=max(delay, retry_after or 0)))
            log.warning(
                "reminders: could not post the reminder of %s (%s); trying again at %s",
                cert.id,
                err.message,
                retry_at.isoformat(),
            )
            self.book.finish(cert.id, version, sent_at=None, next_due_at=retry_at, failed=True)
        else:
            log.error(
                "reminders: could not post the reminder of %s: %s %s Next try at the next "
                "slot, %s.",
                cert.id,
                err.message,
                err.hint,
                regular.isoformat(),
            )
            self.book.finish(cert.id, version, sent_at=None, failed=True)
        return retry_after

    def _review_status(self, cert: Certification) -> str | None:
        try:
            return self.review_status(cert)
        except Exception:  # a status line is not worth losing the reminder for
            log.exception("reminders: could not read the review status of %s", cert.id)
            return None


def _retry_after(err: BaseException) -> float | None:
    """Seconds from a 429's Retry-After header that the Slack client gave up on."""
    response = getattr(err.__cause__, "response", None)
    if response is None or getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(1.0, float(text))
            except ValueError:
                return 1.0
    return 1.0


def _outcome_unknown(err: BaseException) -> bool:
    """The request went out and no answer came back (a read timeout)."""
    return isinstance(err.__cause__, TimeoutError)
